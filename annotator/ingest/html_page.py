"""Article extraction from a news web page (lxml).

Metadata, read from the untouched page:

* title: ``og:title`` meta, else the first ``<h1>`` (one inside ``<article>`` or
  ``<main>`` preferred over, say, a logo heading), else ``<title>`` with a
  trailing " | <outlet>" (or " - ", " – ", " — ") removed when the outlet is known;
* outlet: ``og:site_name``; url: ``og:url``, else ``<link rel=canonical>``;
* published: ``article:published_time`` meta, else the first ``<time datetime>``,
  keeping the date as written (no time-zone conversion); unparsable -> None;
* language: primary subtag of ``<html lang>`` when it fits the text's script, else detected
  (annotator.ingest.language; a language the user gave wins);
* metadata: ``<meta name=author>`` as "author".

Body heuristics, deliberately conservative:

1. Everything that is never article prose is left out by tag: script, style,
   noscript, template, nav, header, footer, aside, figure (and so captions),
   form, iframe, svg, button; and all HTML comments.
2. The container is the ``<article>`` with the most text, ignoring articles
   inside a boilerplate block (rule 3; e.g. comments marked up as
   ``<article>``), else the first ``<main>``, else ``<body>``.
3. Inside the container, boilerplate blocks are left out: elements whose
   id/class contains "comment" (but not as part of "commentary", a common
   opinion-section class), or has a word (split at non-alphanumerics)
   that is one of ad, ads, adsbygoogle, advert, adverts, advertisement,
   or starts with related, share, sharing, newsletter or cookie.
   Only the container's descendants are left out, so a page-level wrapper
   such as ``<body class="has-comments">`` cannot wipe out the article.
4. Paragraphs are the innermost ``<p>``, ``<h2>``, ``<h3>``, ``<blockquote>``
   and ``<li>`` elements (a blockquote of ``<p>``s yields those ``<p>``s).
   Subheadings are kept as paragraphs of their own: they are part of the
   story as published. A list item consisting only of link text is treated
   as a link list and skipped. ``<h1>`` (the title) is never body text.
   ``<br>`` counts as whitespace; inline markup adds no spaces.

Time is linear in the page: the tree is walked twice (the page, then the container) without
recursion, each element visited once per walk. A page nested more than MAX_DEPTH elements deep
is refused: libxml2 stops reading there, and the rest of the article would be lost unsaid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml import etree

from .text import Article, IngestError, build_article, normalise, parse_date

# How deep libxml2 reads a page, counting <html> (its default; real pages nest a few dozen).
MAX_DEPTH = 256

_REMOVED_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "header", "footer",
    "aside", "figure", "form", "iframe", "svg", "button",
})
# Text that is not shown as text, even inside a title.
_NOT_TEXT_TAGS = frozenset({"script", "style", "template"})
_AD_WORDS = {"ad", "ads", "adsbygoogle", "advert", "adverts", "advertisement"}
_BOILERPLATE_PREFIXES = ("related", "share", "sharing", "newsletter", "cookie")
_PARAGRAPH_TAGS = frozenset({"p", "h2", "h3", "blockquote", "li"})
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ")
_START, _TEXT, _END = range(3)
# What _Page counts elements as by their tag alone (_kinds).
_TAG_KINDS = {tag: ("removed",) for tag in _REMOVED_TAGS} | {
    "template": ("removed", "template"), "article": ("story",), "main": ("story",)}
# The elements whose attributes are metadata (_Page._note).
_NOTED_TAGS = frozenset({"meta", "title", "link", "time"})


def parse_html(source: str, markup: str, metadata: dict, *, given_language: str | None = None) -> Article:
    """Build an Article from an HTML page; raises IngestError if there is none."""
    if "<" not in markup:  # not HTML at all
        raise IngestError(source, "no article paragraphs found")
    page = _Page(_parse(source, markup))
    outlet = page.meta("og:site_name")
    title = page.meta("og:title") or _text(page.h1) or _strip_outlet(_text(page.title), outlet)
    author = page.meta("author")
    if author:
        metadata = {**metadata, "author": author}

    paragraphs = _paragraphs(page.container)
    if not paragraphs:
        raise IngestError(source, "no article paragraphs found")
    if not title:
        raise IngestError(source, "no title found (og:title, <h1> or <title>)")
    canonical, time = page.canonical, page.time
    return build_article(
        title,
        paragraphs,
        outlet=outlet,
        url=page.meta("og:url") or (canonical.get("href") if canonical is not None else None),
        published=parse_date(page.meta("article:published_time") or (time.get("datetime") if time is not None else None)),
        language=page.root.get("lang"),
        given_language=given_language,
        metadata=metadata,
        source=source,
    )


def _parse(source: str, markup: str):
    """The page's <html> element (libxml2 adds one to any page); IngestError for a page it
    stopped reading at one of its limits (nesting, MAX_DEPTH, above all)."""
    # The markup is decoded already. Comments and processing instructions are dropped, the text
    # around them joined: they are never text (rule 1).
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(markup.encode("utf-8"), parser)
    except etree.LxmlError as error:
        raise IngestError(source, f"could not parse HTML: {error}") from None
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            reason = (f"nested more than {MAX_DEPTH} elements deep" if "depth" in error.message
                      else f"beyond the HTML parser's limits ({error.message})")
            raise IngestError(source, f"the page is {reason}; save the article as text (.txt) or JSONL instead")
    if root is None or root.tag != "html":  # nothing but comments
        raise IngestError(source, "no article paragraphs found")
    return root


class _Page:
    """What one walk over the untouched page finds: the metadata's elements and the container
    (rules 1-2 of the module doc)."""

    def __init__(self, root):
        self.root = root
        self.title = self.canonical = self.time = None
        self._metas: dict[tuple[str, str], str] = {}  # the first <meta property|name=... content>'s
        first_h1 = story_h1 = main = None
        articles: list[list] = []  # [article, its text's length], in document order
        # The open elements around this point, counted by kind (_kinds). The text read so far
        # (outside removed tags) is a running total: an element's text is as long as the total at
        # its end less the total at its start, however deeply elements nest.
        inside = dict.fromkeys(("removed", "boilerplate", "story", "template"), 0)
        text_length = 0
        open_elements = []  # each open element's (text_length at its start, its article entry, its kinds)
        for event, item in _walk(root):
            if event == _TEXT:
                text_length += 0 if inside["removed"] else len(item)
                continue
            if event == _END:
                start, article, kinds = open_elements.pop()
                for kind in kinds:
                    inside[kind] -= 1
                if article:
                    article[1] = text_length - start
                continue
            tag = item.tag
            article = None
            if tag == "article" and not inside["removed"] and not inside["boilerplate"]:
                article = [item, 0]
                articles.append(article)
            elif tag == "h1" and not inside["template"]:  # a template's content is never shown
                first_h1 = item if first_h1 is None else first_h1
                story_h1 = item if story_h1 is None and inside["story"] else story_h1
            elif tag == "main" and main is None and not inside["removed"]:
                main = item
            if tag in _NOTED_TAGS:
                self._note(item)
            kinds = _kinds(item)
            for kind in kinds:
                inside[kind] += 1
            open_elements.append((text_length, article, kinds))
        self.h1 = story_h1 if story_h1 is not None else first_h1
        if articles:
            self.container = max(articles, key=lambda article: article[1])[0]
        else:
            self.container = next(item for item in (main, root.find("body"), root) if item is not None)

    def _note(self, element) -> None:
        tag = element.tag
        if tag == "meta" and element.get("content") is not None:
            for attribute in ("property", "name"):
                self._metas.setdefault((attribute, element.get(attribute)), element.get("content"))
        elif tag == "title" and self.title is None:
            self.title = element
        elif tag == "link" and self.canonical is None and element.get("href") is not None \
                and "canonical" in (element.get("rel") or "").split():
            self.canonical = element
        elif tag == "time" and self.time is None and element.get("datetime") is not None:
            self.time = element

    def meta(self, key: str) -> str | None:
        """Content of the first <meta property=key>, else of the first <meta name=key>, normalised."""
        for attribute in ("property", "name"):
            if content := normalise(self._metas.get((attribute, key)) or ""):
                return content
        return None


def _kinds(element) -> tuple[str, ...]:
    """What _Page counts an element as: a removed tag, a story (<article> or <main>), a
    <template> (_TAG_KINDS), a boilerplate block."""
    kinds = _TAG_KINDS.get(element.tag, ())
    return (*kinds, "boilerplate") if _is_boilerplate(element) else kinds


def _walk(root, skip: Callable = lambda element: False) -> Iterator[tuple[int, object]]:
    """The subtree of ``root`` in document order (lxml's iterwalk, without recursion):
    (_START, element), its text as (_TEXT, str) pieces and its children's, (_END, element),
    then its tail's text. The elements ``skip`` accepts give only their tails."""
    walker = etree.iterwalk(root, events=("start", "end"))
    skipped = None
    for event, element in walker:
        if event == "start":
            if element is not root and skip(element):
                walker.skip_subtree()
                skipped = element
                continue
            yield _START, element
            if element.text:
                yield _TEXT, element.text
            continue
        if element is skipped:
            skipped = None
        else:
            yield _END, element
        if element is not root and element.tail:
            yield _TEXT, element.tail


def _text(element) -> str:
    """An element's text as shown (without scripts, styles and comments), normalised."""
    if element is None:
        return ""
    pieces = _walk(element, skip=lambda child: child.tag in _NOT_TEXT_TAGS)
    return normalise("".join(item for event, item in pieces if event == _TEXT))


def _strip_outlet(title: str, outlet: str | None) -> str:
    for separator in _TITLE_SEPARATORS:
        if outlet and title.endswith(separator + outlet):
            return title[: -len(separator + outlet)]
    return title


class _Paragraph:
    """A paragraph tag being read: its text, the part of it inside links (for rule 4's link
    lists), whether a paragraph tag lies inside it (then it is not innermost)."""

    def __init__(self, tag: str):
        self.tag = tag
        self.text: list[str] = []
        self.link_text: list[str] = []
        self.open_links = 0
        self.holds_paragraphs = False

    def result(self) -> str | None:
        """The paragraph's text if it is one of the article's (rule 4), else None."""
        if self.holds_paragraphs:
            return None
        text = normalise("".join(self.text))
        if self.tag == "li" and normalise("".join(self.link_text)) == text:
            return None
        return text or None


def _paragraphs(container) -> list[str]:
    """The article's paragraphs (rules 1, 3 and 4), in one walk of the container. Text goes to the
    nearest paragraph tag around it only: a tag with another inside is not innermost, and its
    own text is dropped."""

    def skip(element) -> bool:
        return element.tag in _REMOVED_TAGS or _is_boilerplate(element)

    paragraphs = []
    reading: list[_Paragraph] = []  # the paragraph tags open around this point, innermost last
    for event, item in _walk(container, skip):
        current = reading[-1] if reading else None
        if event == _START and item.tag == "br":
            event, item = _TEXT, "\n"
        if event == _TEXT:
            if current:
                current.text.append(item)
                if current.open_links:
                    current.link_text.append(item)
        elif item.tag in _PARAGRAPH_TAGS and item is not container:
            if event == _START:
                reading.append(_Paragraph(item.tag))
                continue
            reading.pop()
            if reading:
                reading[-1].holds_paragraphs = True
            if text := current.result():
                paragraphs.append(text)
        elif current and item.tag == "a":
            current.open_links += 1 if event == _START else -1
    return paragraphs


def _is_boilerplate(element) -> bool:
    identity, classes = element.get("id"), element.get("class")
    if not (identity or classes) or element.tag in ("html", "body"):  # most elements have neither
        return False
    names = " ".join([identity or "", *(classes or "").split()]).lower()
    words = re.split(r"[^a-z0-9]+", names)
    return (
        "comment" in names.replace("commentary", "")
        or any(word in _AD_WORDS for word in words)
        or any(word.startswith(_BOILERPLATE_PREFIXES) for word in words)
    )
