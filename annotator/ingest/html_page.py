"""Article extraction from a news web page (beautifulsoup4 + lxml).

Metadata, read from the untouched page:

* title: ``og:title`` meta, else the first ``<h1>`` (one inside ``<article>`` or
  ``<main>`` preferred over, say, a logo heading), else ``<title>`` with a
  trailing " | <outlet>" (or " - ", " – ", " — ") removed when the outlet is known;
* outlet: ``og:site_name``; url: ``og:url``, else ``<link rel=canonical>``;
* published: ``article:published_time`` meta, else the first ``<time datetime>``,
  keeping the date as written (no time-zone conversion); unparsable -> None;
* language: primary subtag of ``<html lang>``, default "en";
* metadata: ``<meta name=author>`` as "author".

Body heuristics, deliberately conservative:

1. Everything that is never article prose is removed by tag: script, style,
   noscript, template, nav, header, footer, aside, figure (and so captions),
   form, iframe, svg, button; and all HTML comments.
2. The container is the ``<article>`` with the most text, ignoring articles
   inside a boilerplate block (rule 3; e.g. comments marked up as
   ``<article>``), else the first ``<main>``, else ``<body>``.
3. Inside the container, boilerplate blocks are removed: elements whose
   id/class contains "comment" (but not as part of "commentary", a common
   opinion-section class), or has a word (split at non-alphanumerics)
   that is one of ad, ads, adsbygoogle, advert, adverts, advertisement,
   or starts with related, share, sharing, newsletter or cookie.
   Only the container's descendants are removed, so a page-level wrapper
   such as ``<body class="has-comments">`` cannot wipe out the article.
4. Paragraphs are the innermost ``<p>``, ``<h2>``, ``<h3>``, ``<blockquote>``
   and ``<li>`` elements (a blockquote of ``<p>``s yields those ``<p>``s).
   Subheadings are kept as paragraphs of their own: they are part of the
   story as published. A list item consisting only of link text is treated
   as a link list and skipped. ``<h1>`` (the title) is never body text.
   ``<br>`` counts as whitespace; inline markup adds no spaces.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, ParserRejectedMarkup

from .text import Article, IngestError, build_article, normalise, parse_date

_REMOVED_TAGS = [
    "script", "style", "noscript", "template", "nav", "header", "footer",
    "aside", "figure", "form", "iframe", "svg", "button",
]
_AD_WORDS = {"ad", "ads", "adsbygoogle", "advert", "adverts", "advertisement"}
_BOILERPLATE_PREFIXES = ("related", "share", "sharing", "newsletter", "cookie")
_PARAGRAPH_TAGS = ["p", "h2", "h3", "blockquote", "li"]
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ")


def parse_html(source: str, markup: str, metadata: dict) -> Article:
    """Build an Article from an HTML page; raises IngestError if there is none."""
    if "<" not in markup:  # not HTML at all (and bs4 would warn it looks like a URL)
        raise IngestError(source, "no article paragraphs found")
    try:
        soup = BeautifulSoup(markup, "lxml")
    except ParserRejectedMarkup as error:
        raise IngestError(source, f"could not parse HTML: {error}") from None
    outlet = _meta(soup, "og:site_name")
    title = (
        _meta(soup, "og:title")
        or _text(soup.select_one("article h1, main h1") or soup.find("h1"))
        or _strip_outlet(_text(soup.title), outlet)
    )
    canonical = soup.find("link", rel="canonical", href=True)
    time = soup.find("time", datetime=True)
    html = soup.find("html")
    author = _meta(soup, "author")
    if author:
        metadata = {**metadata, "author": author}

    paragraphs = _body_paragraphs(soup)
    if not paragraphs:
        raise IngestError(source, "no article paragraphs found")
    if not title:
        raise IngestError(source, "no title found (og:title, <h1> or <title>)")
    return build_article(
        title,
        paragraphs,
        outlet=outlet,
        url=_meta(soup, "og:url") or (canonical["href"] if canonical else None),
        published=parse_date(_meta(soup, "article:published_time") or (time["datetime"] if time else None)),
        language=html.get("lang") if html else None,
        metadata=metadata,
        source=source,
    )


def _meta(soup, key: str) -> str | None:
    """Content of <meta property=key> or <meta name=key>, normalised."""
    for attribute in ("property", "name"):
        tag = soup.find("meta", attrs={attribute: key, "content": True})
        if tag and normalise(tag["content"]):
            return normalise(tag["content"])
    return None


def _text(tag) -> str:
    return normalise(tag.get_text()) if tag else ""


def _strip_outlet(title: str, outlet: str | None) -> str:
    for separator in _TITLE_SEPARATORS:
        if outlet and title.endswith(separator + outlet):
            return title[: -len(separator + outlet)]
    return title


def _body_paragraphs(soup) -> list[str]:
    for tag in soup.find_all(_REMOVED_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    container = _container(soup)
    for block in [tag for tag in container.find_all(True) if _is_boilerplate(tag)]:
        block.extract()
    for line_break in container.find_all("br"):
        line_break.replace_with("\n")
    paragraphs = []
    for tag in container.find_all(_PARAGRAPH_TAGS):
        if tag.find(_PARAGRAPH_TAGS) or (tag.name == "li" and _is_only_links(tag)):
            continue
        text = normalise(tag.get_text())
        if text:
            paragraphs.append(text)
    return paragraphs


def _container(soup):
    articles = [
        article for article in soup.find_all("article")
        if not any(_is_boilerplate(parent) for parent in article.parents)
    ]
    if articles:
        return max(articles, key=lambda article: len(article.get_text()))
    return soup.find("main") or soup.find("body") or soup


def _is_boilerplate(tag) -> bool:
    if tag.name in ("html", "body", "[document]"):
        return False
    classes = tag.get("class") or []
    names = " ".join([tag.get("id") or "", *classes]).lower()
    words = re.split(r"[^a-z0-9]+", names)
    return (
        "comment" in names.replace("commentary", "")
        or any(word in _AD_WORDS for word in words)
        or any(word.startswith(_BOILERPLATE_PREFIXES) for word in words)
    )


def _is_only_links(tag) -> bool:
    link_text = "".join(link.get_text() for link in tag.find_all("a"))
    return normalise(link_text) == normalise(tag.get_text())
