"""Tests for annotator.ingest: pure functions, no database, no Flask."""

import ast
import codecs
import datetime
import hashlib
import json
import unicodedata
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.ingest import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_SENTENCES,
    SUFFIXES,
    Article,
    EncodingNeeded,
    IngestError,
    build_article,
    check_encoding,
    read_bytes,
    read_file,
    read_paths,
    segment,
)

from .helpers import ENCODED, ENCODED_IDS, encoded_txt, html_page, over_limit

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SEED_TXT = SEEDS / "000_a8e75834ae8b6b50.txt"
SEED_HTML = SEEDS / "gulfledger_desalination.html"


def assert_valid_sentences(text, spans):
    """The segmentation invariants, checked independently of the implementation."""
    cursor = 0
    covered = set()
    for start, end in spans:
        sentence = text[start:end]
        assert 0 <= cursor <= start < end <= len(text), (spans, text)
        assert sentence == sentence.strip() and sentence
        assert "\n\n" not in sentence
        assert not text[cursor:start].strip(), f"uncovered text {text[cursor:start]!r}"
        covered.update(range(start, end))
        cursor = end
    assert not text[cursor:].strip()
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def assert_valid_article(article):
    assert isinstance(article, Article), article
    assert article.text and article.title
    assert_valid_sentences(article.text, article.sentences)
    for paragraph in article.text.split("\n\n"):
        assert paragraph and paragraph == paragraph.strip()
        assert "\n" not in paragraph and "  " not in paragraph
    assert unicodedata.is_normalized("NFC", article.text)


def sentences(article):
    return [article.text[start:end] for start, end in article.sentences]


def only(results):
    assert len(results) == 1, results
    return results[0]


def single_error(results):
    error = only(results)
    assert isinstance(error, IngestError), error
    return error


# --- the seed article (.txt) ---------------------------------------------


@pytest.fixture(scope="module")
def seed_article():
    return only(read_file(SEED_TXT))


def test_seed_txt_title_and_body(seed_article):
    assert seed_article.title == "Hamas top leader telephones key Pakistani leader and seek help against Israel"
    assert seed_article.text.startswith("Khaled Meshaal, the leader of Hamas")
    assert seed_article.title not in seed_article.text
    assert seed_article.text.endswith("something of great importance was unfolding.")
    assert len(seed_article.text.split("\n\n")) == 10
    assert seed_article.source == str(SEED_TXT)
    assert seed_article.metadata == {"source_file": SEED_TXT.name}
    assert (seed_article.language, seed_article.outlet, seed_article.url, seed_article.line) == ("en", None, None, None)
    assert_valid_article(seed_article)


def test_seed_txt_sentences(seed_article):
    split = sentences(seed_article)
    assert split[0] == (
        "Khaled Meshaal, the leader of Hamas, engaged in a telephone conversation with Maulana "
        "Fazlur Rehman, the head of Jamiat-e-Ulema Islam-Fazl (JUI-F), addressing the ongoing "
        "Israel-Palestine conflict, as reported by ARY News."
    )
    assert "Israel characterized the recent devastating Hamas attack as its equivalent of the 9/11 event." in split
    assert (
        "A source close to Hamas in Gaza estimates that this operation has claimed the lives of "
        "over 1,200 people in Israel." in split
    )
    assert len(split) == 14


def test_content_hash_is_sha256_of_text(seed_article):
    assert seed_article.content_hash == hashlib.sha256(seed_article.text.encode("utf-8")).hexdigest()


def test_seed_txt_with_crlf_and_bom_reads_the_same(seed_article):
    data = b"\xef\xbb\xbf" + SEED_TXT.read_bytes().replace(b"\n", b"\r\n")
    article = only(read_bytes("seed.txt", data))
    assert (article.title, article.text, article.sentences) == (
        seed_article.title, seed_article.text, seed_article.sentences
    )


def test_txt_title_without_blank_line_and_extra_blank_lines():
    data = "\n\n  My title \nFirst line\nof one paragraph.\n\n\n \t\nSecond paragraph.\n".encode()
    article = only(read_bytes("a.txt", data))
    assert article.title == "My title"
    assert article.text == "First line of one paragraph.\n\nSecond paragraph."


def test_plain_text_keeps_markup_literally():
    txt = only(read_bytes("a.txt", b"Title\n\nHe typed <script>alert(1)</script> into the form."))
    assert "<script>alert(1)</script>" in txt.text
    line = json.dumps({"title": "T", "text": "Payload: <script>alert(1)</script> &amp; more."})
    jsonl = only(read_bytes("a.jsonl", line.encode()))
    assert jsonl.text == "Payload: <script>alert(1)</script> &amp; more."


# --- the seed web page (.html) -------------------------------------------

SEED_HTML_PARAGRAPHS = [
    "A solar-powered desalination plant on the Red Sea coast began supplying drinking water to about "
    "250,000 residents on Sunday, according to officials at the regional water authority.",
    "The facility, operated by the state-backed Sahil Water Company, can produce up to 120,000 cubic meters "
    "of fresh water a day. Officials said it uses roughly 40% less energy than the thermal plants it replaces.",
    "\u201cThis is the first plant of its size in the region that runs mostly on sunlight during the day,\u201d "
    "said Dr. Amal Al-Harbi, the company\u2019s chief engineer. \u201cAt night it draws on the grid, but we "
    "expect that share to fall as battery storage is added.\u201d",
    "The project cost 1.8 billion riyals (about $480 million) and took three years to build, a spokesperson "
    "for the Ministry of Environment, Water and Agriculture said. Construction was delayed by six months in "
    "2022 because of supply-chain problems.",
    "Concerns over brine",
    "Environmental groups welcomed the lower emissions but raised concerns about brine, the salty by-product "
    "of desalination. The plant returns about 1.3 liters of brine to the sea for every liter of fresh water, "
    "according to figures published by the company.",
    "Sahil Water said the brine is diluted and discharged through a 2 km pipeline fitted with diffusers, and "
    "that marine life near the outlet will be monitored every quarter by an independent laboratory.",
    "Water demand in the province has grown by an average of 4.5% a year since 2015, driven by population "
    "growth and new industrial zones, officials said. Two more plants of a similar design are planned for "
    "2026 and 2028.",
    "Residents of the Al-Mansoura district, who relied partly on water trucks in the summer months, said "
    "supply had already become more reliable. \u201cWe used to fill tanks on the roof and hope it lasted... "
    "Now the tap just works,\u201d said Khalid Saeed, a shopkeeper.",
]


@pytest.fixture(scope="module")
def html_article():
    return only(read_paths([SEED_HTML]))


def test_seed_html_metadata(html_article):
    assert html_article.title == "Solar-powered desalination plant begins supplying water to 250,000 residents"
    assert html_article.outlet == "The Gulf Ledger"
    assert html_article.url == "https://www.gulfledger.example/business/2024/03/10/solar-desalination-plant"
    assert html_article.published == datetime.date(2024, 3, 10)
    assert html_article.language == "en"
    assert html_article.metadata == {"source_file": SEED_HTML.name, "author": "Sara Al-Mutairi"}


def test_seed_html_paragraphs_in_order(html_article):
    assert html_article.text.split("\n\n") == SEED_HTML_PARAGRAPHS
    assert_valid_article(html_article)


@pytest.mark.parametrize("boilerplate", [
    "cookies", "Accept all",                                 # cookie banner
    "Lifestyle", "Opinion",                                  # nav menu
    "Advertisement", "Coral Bay", "Falcon X5",               # ad slots
    "Share this article", "Share on X", "Email this story",  # share bar
    "Read more", "Water tariffs",                            # inline related box
    "Related articles", "grid-scale battery",                # related aside
    "Solar panels cover 90 hectares",                        # figure caption
    "morning briefing", "Sign up",                           # newsletter form
    "Comments", "waterwatcher88", "brine monitoring", "water trucks in our street", "August",  # comments
    "All rights reserved", "Privacy policy",                 # footer
    "dataLayer", "schema.org", "font-family",                # script, JSON-LD, style
    "enable JavaScript",                                     # noscript
    "invented article",                                      # HTML comment
    "By Sara Al-Mutairi", "10 March 2024", "Business",       # story header
])
def test_seed_html_boilerplate_removed(html_article, boilerplate):
    assert boilerplate not in html_article.text


def test_seed_html_sentences(html_article):
    split = sentences(html_article)
    assert (
        "\u201cThis is the first plant of its size in the region that runs mostly on sunlight during the day,"
        "\u201d said Dr. Amal Al-Harbi, the company\u2019s chief engineer." in split
    )
    assert "Concerns over brine" in split
    assert split[-1] == (
        "\u201cWe used to fill tanks on the roof and hope it lasted... Now the tap just works,\u201d said "
        "Khalid Saeed, a shopkeeper."
    )
    assert len(split) == 15


# --- HTML extraction rules on small pages ---------------------------------


def parse(page, name="page.html"):
    return only(read_bytes(name, page.encode("utf-8")))


OG_TITLE = '<meta property="og:title" content="OG title">'
TITLE_TAG = "<title>Tag title | Daily Post</title>"
SITE_NAME = '<meta property="og:site_name" content="Daily Post">'


@pytest.mark.parametrize("head, body, expected", [
    (OG_TITLE + TITLE_TAG, "<h1>Heading title</h1><p>Body.</p>", "OG title"),
    (TITLE_TAG, "<h1>Heading <em>title</em></h1><p>Body.</p>", "Heading title"),
    (TITLE_TAG + SITE_NAME, "<p>Body.</p>", "Tag title"),
    (TITLE_TAG, "<p>Body.</p>", "Tag title | Daily Post"),  # outlet unknown: suffix kept
    (TITLE_TAG, "<header><h1>Daily Post</h1></header><article><h1>Story title</h1><p>Body.</p></article>",
     "Story title"),
])
def test_html_title_fallback_order(head, body, expected):
    article = parse(html_page(head, body))
    assert article.title == expected
    assert article.text == "Body."


@pytest.mark.parametrize("body, expected", [
    ("<p>Outside.</p><main><p>Main.</p><article><p>Article.</p></article></main>", "Article."),
    ("<p>Outside.</p><main><p>Main one.</p><p>Main two.</p></main>", "Main one.\n\nMain two."),
    ("<div><p>Body one.</p></div><p>Body two.</p>", "Body one.\n\nBody two."),
    ("<article><p>Teaser.</p></article><article><p>The long story text.</p><p>More.</p></article>",
     "The long story text.\n\nMore."),
    ('<article><p>Story.</p></article><div id="comments"><article><p>A much longer comment text here.</p>'
     "</article></div>", "Story."),
])
def test_html_body_container_fallback_order(body, expected):
    assert parse(html_page(OG_TITLE, body)).text == expected


def test_html_paragraph_rules():
    body = """<article><h1>OG title</h1>
      <p>Inline <b>bold</b>, <a href="#">link</a> and line<br>break.</p>
      <h2>A subheading</h2>
      <blockquote><p>Quoted one.</p><p>Quoted two.</p></blockquote>
      <blockquote>Bare quote.</blockquote>
      <ul><li>Point with <a href="#">a link</a>.</li><li><a href="/x">Only a link</a></li></ul>
      <p>   </p>
      <p>Escaped &lt;script&gt;alert(1)&lt;/script&gt; stays.</p>
      <script>alert("gone")</script>
      <table><tr><td>Table cell</td></tr></table>
    </article>"""
    article = parse(html_page(OG_TITLE, body))
    assert article.text.split("\n\n") == [
        "Inline bold, link and line break.",
        "A subheading",
        "Quoted one.",
        "Quoted two.",
        "Bare quote.",
        "Point with a link.",
        "Escaped <script>alert(1)</script> stays.",
    ]
    assert 'alert("gone")' not in article.text


def test_html_boilerplate_heuristics_are_conservative():
    body = """<article class="post has-comments"><div class="commentary body"><p>Opinion text.</p></div>
      <div class="header-image"><p>Kept: not an ad class.</p></div>
      <div class="ad-slot"><p>Buy now.</p></div><div class="adsbygoogle"><p>Sponsored.</p></div>
      <div id="relatedStories"><p>Other story.</p></div><div class="social-share-buttons"><p>Tweet.</p></div>
      <div class="newsletterBox"><p>Subscribe.</p></div><ol class="commentlist"><li>First!</li></ol>
    </article>"""
    article = parse(html_page(OG_TITLE, body))
    assert article.text == "Opinion text.\n\nKept: not an ad class."


def test_html_metadata_fallbacks():
    head = (OG_TITLE + '<link rel="canonical" href="https://news.example/a">'
            '<meta name="author" content="  A.  Writer ">')
    body = '<article><time datetime="2023-10-14T23:30:00-05:00">Oct 14</time><p>Body.</p></article>'
    article = parse(html_page(head, body, lang="de-CH"))
    assert article.url == "https://news.example/a"
    assert article.published == datetime.date(2023, 10, 14)  # the date as written, not UTC
    assert article.language == "de"
    assert article.metadata["author"] == "A. Writer"
    assert article.outlet is None


def test_html_og_metadata_wins_and_bad_values_are_ignored():
    head = (OG_TITLE + '<meta property="og:url" content="https://news.example/og">'
            '<link rel="canonical" href="https://news.example/canonical">'
            '<meta property="article:published_time" content="yesterday">')
    article = parse(html_page(head, "<p>Body.</p>", lang="??"))
    assert article.url == "https://news.example/og"
    assert article.published is None
    assert article.language == "en"


@pytest.mark.parametrize("page, reason", [
    (html_page(OG_TITLE, "<nav><p>Menu</p></nav><div>Just a div</div>"), "no article paragraphs found"),
    ("Plain text, no markup at all.", "no article paragraphs found"),
    ("https://example.com/article", "no article paragraphs found"),
    (html_page("", "<p>A paragraph.</p>"), "no title found"),
    (html_page("<title> </title>", "<h1></h1><p>A paragraph.</p>"), "no title found"),
])
def test_html_errors(page, reason):
    error = single_error(read_bytes("page.htm", page.encode()))
    assert error.reason.startswith(reason)
    assert error.source == "page.htm" and error.line is None


def test_html_declared_latin1_charset_decodes_as_windows_1252():
    page = html_page('<meta charset="iso-8859-1">' + OG_TITLE, "<p>Caf\xe9 \x93au lait\x94.</p>")  # raw bytes 0x93/0x94
    article = only(read_bytes("latin.html", page.encode("latin-1")))
    assert article.text == "Caf\xe9 \u201cau lait\u201d."


# --- JSONL ----------------------------------------------------------------


def jsonl(*records):
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records).encode()


def test_jsonl_good_lines():
    data = jsonl(
        {"title": "First", "text": "Para one\nstill one.\n\nPara two.", "outlet": "Dawn",
         "url": "https://dawn.example/1", "published": "2023-10-14T08:00:00Z", "language": "de-AT",
         "author": "Staff", "tags": ["a", "b"]},
        "   ",
        {"title": "Second", "text": "Only text.", "outlet": None, "published": "2023-10-15"},
    )
    first, second = read_bytes("batch.jsonl", data)
    assert first.text == "Para one still one.\n\nPara two."
    assert (first.outlet, first.url, first.language) == ("Dawn", "https://dawn.example/1", "de")
    assert first.published == datetime.date(2023, 10, 14)
    assert first.metadata == {"author": "Staff", "tags": ["a", "b"], "source_file": "batch.jsonl"}
    assert (first.line, second.line) == (1, 3)
    assert second.outlet is None and second.published == datetime.date(2023, 10, 15)
    assert second.metadata == {"source_file": "batch.jsonl"}
    for article in (first, second):
        assert_valid_article(article)
        assert article.source == "batch.jsonl"


@pytest.mark.parametrize("line, reason", [
    ('{"title": "T", "text": "x"', "invalid JSON"),
    ("not json at all", "invalid JSON"),
    ('{"title": "T", "text": NaN}', "invalid JSON"),
    ("[" * 100_000, "invalid JSON"),
    ('["title", "text"]', "expected a JSON object, got array"),
    ('"just a string"', "expected a JSON object, got string"),
    ('{"text": "Body."}', "missing 'title'"),
    ('{"title": null, "text": "Body."}', "missing 'title'"),
    ('{"title": "T"}', "missing 'text'"),
    ('{"title": " \\u00a0 ", "text": "Body."}', "title is empty"),
    ('{"title": "T", "text": "\\n\\n  "}', "no body text"),
    ('{"title": 42, "text": "Body."}', "'title' must be a string, not number"),
    ('{"title": "T", "text": ["Body."]}', "'text' must be a string, not array"),
    ('{"title": "T", "text": "Body.", "outlet": true}', "'outlet' must be a string, not boolean"),
    ('{"title": "T", "text": "Body.", "published": "14/10/2023"}', "'published' is not an ISO 8601 date"),
    ('{"title": "T", "text": "Body.", "published": 20231014}', "'published' must be a string"),
    ('{"title": "T\\ud800", "text": "Body."}', "invalid Unicode"),
])
def test_jsonl_malformed_line_reports_line_number(line, reason):
    data = jsonl({"title": "Good", "text": "Fine."}, "", line, {"title": "Also good", "text": "Fine too."})
    before, error, after = read_bytes("feed.jsonl", data)
    assert isinstance(error, IngestError)
    assert error.line == 3 and error.source == "feed.jsonl"
    assert error.reason.startswith(reason), error.reason
    assert str(error).startswith("feed.jsonl:3: ")
    assert "\n" not in str(error)
    assert (before.title, before.line, after.title, after.line) == ("Good", 1, "Also good", 4)


def test_jsonl_crlf_and_unicode_line_separators():
    record = {"title": "T", "text": "Uses \u2028 and \x85 inside.\r\n\r\nNext."}
    data = json.dumps(record, ensure_ascii=False) + "\r\n\r\n" + json.dumps({"title": "U", "text": "Two."})
    first, second = read_bytes("x.jsonl", data.encode())
    assert first.text == "Uses and inside.\n\nNext."
    assert (second.text, second.line) == ("Two.", 3)


# --- encodings ------------------------------------------------------------

@pytest.mark.parametrize("name, encoding, title, body, reason", ENCODED, ids=ENCODED_IDS)
def test_text_that_is_not_utf8_needs_its_encoding(name, encoding, title, body, reason):
    error = single_error(read_bytes(name, encoded_txt(encoding, title, body)))
    assert isinstance(error, EncodingNeeded)
    assert (error.source, error.reason, error.line) == (name, reason, None)
    article = only(read_bytes(name, encoded_txt(encoding, title, body), encoding=encoding))
    assert (article.title, article.text) == (title, body)
    assert_valid_article(article)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_a_byte_order_mark_is_enough(encoding):
    title, body = ENCODED[0][2:4]
    data = encoded_txt(encoding, title, body)
    if encoding.endswith("-be"):  # Python writes no mark for an explicit byte order
        data = "\ufeff".encode(encoding) + data
    article = only(read_bytes("marked.txt", data))
    assert (article.title, article.text) == (title, body)


def test_error_position_counts_lines_and_characters():
    data = "Naïve title\r\n\r\nThe “quote”: ".encode() + b"\x93yes\x94."
    error = single_error(read_bytes("quote.txt", data))
    assert error.reason == (
        "not UTF-8 (first bad byte 0x93 at line 3, column 14); give the file's encoding "
        "(e.g. windows-1256 for Arabic, windows-1252 for Western European)"
    )
    assert error.message("with --encoding NAME") == (
        "quote.txt: not UTF-8 (first bad byte 0x93 at line 3, column 14); give the file's encoding with "
        "--encoding NAME (e.g. windows-1256 for Arabic, windows-1252 for Western European)"
    )
    assert str(error) == f"quote.txt: {error.reason}"


@pytest.mark.parametrize("declaration", [
    '<meta charset="windows-1256">',
    '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">',
])
def test_html_declared_charset_is_used(declaration):
    title, body = ENCODED[0][2:4]
    page = html_page(declaration + f"<title>{title}</title>", f"<p>{body}</p>")
    article = only(read_bytes("arabic.html", page.encode("windows-1256")))
    assert (article.title, article.text) == (title, body)
    # The same bytes as plain text name no encoding.
    assert isinstance(single_error(read_bytes("arabic.txt", page.encode("windows-1256"))), EncodingNeeded)


@pytest.mark.parametrize("declaration", ['<meta charset="utf-16">', '<meta charset="klingon">', ""])
def test_html_declaring_no_usable_charset_needs_its_encoding(declaration):
    title, body = ENCODED[0][2:4]
    page = html_page(declaration + f"<title>{title}</title>", f"<p>{body}</p>").encode("windows-1256")
    error = single_error(read_bytes("arabic.html", page))
    assert error.reason.startswith("not UTF-8 (first bad byte 0xDA at line 1, column ")
    assert only(read_bytes("arabic.html", page, encoding="windows-1256")).text == body


def test_given_encoding_wins_over_the_declared_charset():
    title, body = ENCODED[0][2:4]
    page = html_page(f'<meta charset="iso-8859-8"><title>{title}</title>', f"<p>{body}</p>")
    article = only(read_bytes("arabic.html", page.encode("windows-1256"), encoding="windows-1256"))
    assert (article.title, article.text) == (title, body)


@pytest.mark.parametrize("data, encoding, text", [
    (codecs.BOM_UTF8 + "Title\n\nNaïve.".encode(), "windows-1256", "Naïve."),
    ("Title\n\nNaïve.".encode("utf-16"), "utf-16-be", "Naïve."),  # Python writes little-endian with a mark
    ("عاجل\n\nقال.".encode(), "windows-1256", "قال."),
    (b"Title\n\nText.", "utf-16-le", "Text."),
    (codecs.BOM_UTF8 + b"Title\n\nText.", "utf-8", "Text."),
    ("Title\n\nText.".encode("utf-16"), "utf-16-le", "Text."),
    ("Title\n\nText.".encode("utf-16"), "UTF-16", "Text."),
    (b"Title\n\nText.", "windows-1256", "Text."),  # ASCII: the same text in both
])
def test_a_file_that_is_utf8_or_says_what_it_is_is_read_so_whatever_encoding_is_given(data, encoding, text):
    """A folder given as windows-1256 may hold files saved as UTF-8, with or without a mark."""
    article = only(read_bytes("said.txt", data, encoding=encoding))
    assert (article.title, article.text) == ("عاجل" if text == "قال." else "Title", text)


@pytest.mark.parametrize("data, encoding, reason", [
    (encoded_txt("windows-1256", *ENCODED[0][2:4]), "utf-8",
     "not utf-8 (first bad byte 0xDA at line 1, column 1); give the file's encoding (likely windows-1256 for Arabic)"),
    (b"Title\n\nBad\x81bytes.", "windows-1252",
     "not windows-1252 (first bad byte 0x81 at line 3, column 4); give the file's encoding "
     "(e.g. windows-1256 for Arabic, windows-1252 for Western European)"),
    (encoded_txt("utf-16-le", "Title", "Text."), "windows-1252",
     "not windows-1252: NUL bytes at every other position, as in UTF-16 without a byte-order mark; give the "
     "file's encoding (likely utf-16-le for little-endian UTF-16)"),
])
def test_a_given_encoding_that_does_not_fit_is_refused(data, encoding, reason):
    error = single_error(read_bytes("wrong.txt", data, encoding=encoding))
    assert isinstance(error, EncodingNeeded) and error.reason == reason


def test_declared_and_given_latin1_mean_windows_1252():
    data = "Caf\u00e9\n\nHe said \u201cyes\u201d.".encode("cp1252")
    assert only(read_bytes("latin.txt", data, encoding="latin-1")).text == "He said \u201cyes\u201d."


@pytest.mark.parametrize("name, codec", [
    ("windows-1256", "cp1256"), (" Windows-1256 ", "cp1256"), ("cp1256", "cp1256"), ("iso-8859-8", "iso8859-8"),
    ("shift_jis", "shift_jis"), ("UTF-16LE", "utf-16-le"), ("latin-1", "cp1252"), ("ISO-8859-1", "cp1252"),
    ("us-ascii", "cp1252"),
])
def test_check_encoding_accepts_names_python_knows(name, codec):
    assert check_encoding(name) == codec


@pytest.mark.parametrize("name", ["klingon", "", " ", "base64", "rot13", "undefined", "unicode_escape", "a\x00b"])
def test_check_encoding_refuses_what_is_not_a_text_encoding(name):
    with pytest.raises(ValueError, match="unknown encoding .*; give a name such as windows-1256"):
        check_encoding(name)
    with pytest.raises(ValueError, match="unknown encoding"):
        read_bytes("a.txt", b"Title\n\nText.", encoding=name)


# --- sentences per document -------------------------------------------------


def test_a_document_over_the_sentence_limit_is_refused():
    data = b"Title\n\nOne. Two. Three.\n\nFour."
    error = single_error(read_bytes("long.txt", data, max_sentences=3))
    assert (error.source, error.reason, error.line) == ("long.txt", over_limit(4, 3), None)
    assert len(only(read_bytes("long.txt", data, max_sentences=4)).sentences) == 4


def test_the_default_sentence_limit():
    assert DEFAULT_MAX_SENTENCES == 2000
    body = " ".join(f"Sentence {n}." for n in range(2000))
    assert len(only(read_bytes("limit.txt", f"Title\n\n{body}".encode())).sentences) == 2000
    error = single_error(read_bytes("over.txt", f"Title\n\n{body} One more.".encode()))
    assert error.reason == over_limit(2001, 2000)
    assert str(error).startswith("over.txt: 2,001 sentences, over the limit of 2,000 per document; ")


def test_the_sentence_limit_applies_to_each_jsonl_line_and_through_paths(tmp_path):
    data = jsonl({"title": "A", "text": "One. Two."}, {"title": "B", "text": "One. Two. Three."})
    first, second = read_bytes("feed.jsonl", data, max_sentences=2)
    assert isinstance(first, Article)
    assert (second.source, second.line, second.reason) == ("feed.jsonl", 2, over_limit(3, 2))
    (tmp_path / "feed.jsonl").write_bytes(data)
    assert [type(result) for result in read_paths([tmp_path], max_sentences=2)] == [Article, IngestError]
    assert [type(result) for result in read_file(tmp_path / "feed.jsonl", max_sentences=3)] == [Article, Article]


# --- normalisation --------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("Cafe\u0301 au lait.", "Caf\u00e9 au lait."),                       # NFC
    ("a\u00a0b\u202fc\td\u2003e \u3000 f.", "a b c d e f."),             # whitespace variety
    ("zero\u200bwidth\ufeff gone\u00ad.", "zerowidth gone."),             # invisible characters dropped
    ("bell\x07 and\x00 nul\x1b.", "bell and nul."),                      # control characters dropped
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645 \U0001F468\u200d\U0001F469\u200d\U0001F467.",
     "\u0645\u06cc\u200c\u062e\u0648\u0627\u0645 \U0001F468\u200d\U0001F469\u200d\U0001F467."),  # ZWNJ/ZWJ kept
    ("  lines\r\nand\rbreaks\n  ", "lines and breaks"),
])
def test_normalisation(raw, expected):
    article = build_article("Title", [raw])
    assert article.text == expected


def test_build_article_joins_and_drops_paragraphs():
    article = build_article(
        " The\ttitle ", ["The  title", "", "  ", "One.", "Two\n\nstill two.", "\u200b"],
        outlet=" ", url="", language="EN-us", source="s.txt",
    )
    assert article.title == "The title"
    assert article.text == "One.\n\nTwo still two."
    assert (article.outlet, article.url, article.language, article.source) == (None, None, "en", "s.txt")


@pytest.mark.parametrize("title, paragraphs, reason", [
    ("  \u200b ", ["Body."], "title is empty"),
    ("Title", [], "no body text"),
    ("Title", [" ", "\n\n"], "no body text"),
    ("Title", ["Title"], "no body text"),
])
def test_build_article_errors(title, paragraphs, reason):
    with pytest.raises(IngestError) as raised:
        build_article(title, paragraphs, source="x.jsonl", line=7)
    assert (raised.value.source, raised.value.reason, raised.value.line) == ("x.jsonl", reason, 7)
    assert str(raised.value) == f"x.jsonl:7: {reason}"


def test_ingest_error_message_without_line():
    error = IngestError("dir/a.txt", "file is\nempty")
    assert str(error) == "dir/a.txt: file is empty"
    assert error.line is None


# --- segmentation ---------------------------------------------------------


@pytest.mark.parametrize("language, text, expected", [
    ("en", "Dr. Smith arrived. He sat down.", ["Dr. Smith arrived.", "He sat down."]),
    ("en", "The U.S. economy grew 3.5% in Jan. 2020. Growth slowed later.",
     ["The U.S. economy grew 3.5% in Jan. 2020.", "Growth slowed later."]),
    ("en", "About 1,200 people died on 9/11. It was a Tuesday.",
     ["About 1,200 people died on 9/11.", "It was a Tuesday."]),
    ("en", 'He said "It is over." Then he left.', ['He said "It is over."', "Then he left."]),
    ("en", "He said \u201cIt is over.\u201d Then he left.", ["He said \u201cIt is over.\u201d", "Then he left."]),
    ("en", "Wait... what? Yes! He paused\u2026 then spoke.", ["Wait... what?", "Yes!", "He paused\u2026 then spoke."]),
    ("en", "He arrived at 10 a.m. Then he left.", ["He arrived at 10 a.m.", "Then he left."]),
    ("en", "We won \U0001F389. The family \U0001F468\u200d\U0001F469\u200d\U0001F467 cheered \U0001F1F5\U0001F1F0! Done \U0001F44D\U0001F3FD.",
     ["We won \U0001F389.", "The family \U0001F468\u200d\U0001F469\u200d\U0001F467 cheered \U0001F1F5\U0001F1F0!",
      "Done \U0001F44D\U0001F3FD."]),
    ("ur", "\u06cc\u06c1 \u067e\u06c1\u0644\u0627 \u062c\u0645\u0644\u06c1 \u06c1\u06d2\u06d4 \u06cc\u06c1 \u062f\u0648\u0633\u0631\u0627 \u062c\u0645\u0644\u06c1 \u06c1\u06d2\u061f \u062c\u06cc \u06c1\u0627\u06ba!",
     ["\u06cc\u06c1 \u067e\u06c1\u0644\u0627 \u062c\u0645\u0644\u06c1 \u06c1\u06d2\u06d4", "\u06cc\u06c1 \u062f\u0648\u0633\u0631\u0627 \u062c\u0645\u0644\u06c1 \u06c1\u06d2\u061f", "\u062c\u06cc \u06c1\u0627\u06ba!"]),
    ("en", "Then Urdu: \u06cc\u06c1 \u062c\u0645\u0644\u06c1 \u06c1\u06d2\u06d4 \u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440. \u4f60\u597d\u3002End.",
     ["Then Urdu: \u06cc\u06c1 \u062c\u0645\u0644\u06c1 \u06c1\u06d2\u06d4", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440.", "\u4f60\u597d\u3002", "End."]),
    ("en", "One.\n\nTwo.\n \t\nThree", ["One.", "Two.", "Three"]),
    ("en", "No break\nhere. Next", ["No break\nhere.", "Next"]),
    ("en", "  \n\n ", []),
    ("en", "", []),
])
def test_segment_adversarial_texts(language, text, expected):
    spans = segment(text, language)
    assert_valid_sentences(text, spans)
    assert [text[start:end] for start, end in spans] == expected


def test_build_article_with_crlf_and_nbsp():
    article = build_article("T", ["Dr.\u00a0Smith\r\narrived\u202fearly.  He left.\r\n"])
    assert sentences(article) == ["Dr. Smith arrived early.", "He left."]


@pytest.mark.parametrize("language", ["xx", "", "zz-Latn", "123", "klingon", "ur"])
def test_segment_unknown_language_does_not_crash(language):
    text = "First sentence. Second sentence."
    assert segment(text, language) == ((0, 15), (16, 32))
    assert build_article("T", [text], language=language).language in ("en", "ur", "xx", "zz")


def test_segment_lone_surrogate_falls_back_to_whole_paragraph():
    text = "Broken \ud800 text. More."
    assert segment(text) == ((0, len(text)),)


def fake_boundaries(*boundaries):
    return mock.patch("sentencex.get_sentence_boundaries", return_value=list(boundaries))


def boundary(start, end, text):
    return {"start_index": start, "end_index": end, "text": text}


@pytest.mark.parametrize("boundaries, expected", [
    # Offsets shifted: sentences are found by their text instead.
    ([boundary(2, 7, "Alpha."), boundary(3, 9, "Beta.")], ["Alpha.", "Beta.", "Gamma."]),
    # A sentence missing from the output: the gap becomes its own sentence.
    ([boundary(0, 7, "Alpha. ")], ["Alpha.", "Beta. Gamma."]),
    # Text that is not in the paragraph at all is ignored.
    ([boundary(0, 5, "Delta"), boundary(7, 13, "Beta. ")], ["Alpha.", "Beta.", "Gamma."]),
    # Overlapping and out-of-order output.
    ([boundary(0, 12, "Alpha. Beta."), boundary(7, 12, "Beta."), boundary(0, 6, "Alpha.")],
     ["Alpha. Beta.", "Gamma."]),
    # Garbage entries.
    ([None, {}, {"start_index": "0", "end_index": 6, "text": "Alpha."}, boundary(0, 6, 42)],
     ["Alpha.", "Beta. Gamma."]),
    ([], ["Alpha. Beta. Gamma."]),
])
def test_segment_repairs_inconsistent_sentencex_output(boundaries, expected):
    text = "Alpha. Beta. Gamma."
    with fake_boundaries(*boundaries):
        spans = segment(text)
    assert_valid_sentences(text, spans)
    assert [text[start:end] for start, end in spans] == expected


def test_segment_survives_a_panic_inside_sentencex():
    # Found by the property test below: sentencex's Rust code panics (pyo3's PanicException,
    # not an Exception) cutting inside U+0085 in Persian.
    text = "...Z\x85\x85.\x85..."
    assert_valid_sentences(text, segment(text, "fa"))


def test_segment_survives_sentencex_exceptions():
    with mock.patch("sentencex.get_sentence_boundaries", side_effect=RuntimeError("boom")):
        assert segment("One. Two.\n\nThree.") == ((0, 9), (11, 17))


# --- property-based -------------------------------------------------------

WHITESPACE = " \t\n\r\u00a0\u202f\u2003\u2028\u3000\x0b\x0c\x1c\x85"
PUNCTUATION = ".!?\u2026\u06d4\u3002\"'\u201c\u201d()\u00ab\u00bb,;:-"
SPECIAL = "\u200b\u200c\u200d\ufeff\u00ad\u0301\u0308\x00\x07\x1b\U0001F468\U0001F1F5\U0001F3FD"
characters = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list(WHITESPACE + PUNCTUATION + SPECIAL)),
    st.sampled_from(["Dr.", "U.S.", "e.g.", "3.5%", "1,200", "9/11", "...", "\n\n", "\r\n", " \n \n"]),
    st.sampled_from(list("abcXYZ \u06cc\u06c1\u0627\u0628\u00e9\u4f60")),
)
texts = st.lists(characters, max_size=60).map("".join)
languages = st.sampled_from(["en", "ur", "fa", "de", "ja", "xx", ""])


@settings(max_examples=300, deadline=None, database=None)
@given(title=texts, paragraphs=st.lists(texts, max_size=5), language=languages)
def test_build_article_invariants_hold_for_any_text(title, paragraphs, language):
    try:
        article = build_article(title, paragraphs, language=language)
    except IngestError as error:
        assert error.reason in ("title is empty", "no body text")
        return
    assert_valid_article(article)
    assert article.title and "\n" not in article.title and "  " not in article.title
    assert unicodedata.is_normalized("NFC", article.title)
    for forbidden in "\u200b\ufeff\u00ad\x00\x07\x1b\t\r\u00a0\u2028":
        assert forbidden not in article.text and forbidden not in article.title


@settings(max_examples=300, deadline=None, database=None)
@given(text=texts, language=languages)
def test_segment_invariants_hold_for_raw_text(text, language):
    spans = segment(text, language)
    assert_valid_sentences(text, spans)
    assert isinstance(spans, tuple)


boundaries_strategy = st.lists(st.fixed_dictionaries({
    "start_index": st.integers(-3, 40),
    "end_index": st.integers(-3, 40),
    "text": st.one_of(texts, st.sampled_from(["Alpha.", "Beta. ", " Gamma.", "a", " "])),
}), max_size=6)


@settings(max_examples=300, deadline=None, database=None)
@given(text=texts, boundaries=boundaries_strategy)
def test_segment_invariants_hold_whatever_sentencex_returns(text, boundaries):
    with fake_boundaries(*boundaries):
        spans = segment(text)
    assert_valid_sentences(text, spans)


# --- bad input and file handling -----------------------------------------

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


@pytest.mark.parametrize("name, data, reason", [
    ("empty.txt", b"", "file is empty"),
    ("blank.jsonl", b" \n\t\r\n \n", "file is empty (only whitespace)"),
    ("blank.html", "\u00a0\n".encode(), "file is empty (only whitespace)"),
    ("image.txt", PNG_HEADER, "binary file (contains NUL bytes)"),
    ("image.html", PNG_HEADER, "binary file (contains NUL bytes)"),
    ("noise.txt", bytes(range(1, 32)) * 4 + b"Title\n\nSome text.", "binary file (mostly control characters)"),
    ("bad.txt", b"Title\n\nCaf\x81\x8d\x90 \xff\xfe text.", "not UTF-8 (first bad byte 0x81 at line 3, column 4)"),
    ("bad.jsonl", b'{"title": "T", "text": "\x81\x8d"}', "not UTF-8 (first bad byte 0x81 at line 1, column 25)"),
    ("doc.pdf", b"%PDF-1.7", "unsupported file type '.pdf'"),
    ("README", b"Title\n\nText.", "unsupported file type (no suffix)"),
    ("title-only.txt", b"Just a title\n\n", "no body text"),
])
def test_bad_input_becomes_ingest_error(name, data, reason):
    error = single_error(read_bytes(name, data))
    assert error.source == name
    assert error.reason.startswith(reason), error.reason
    assert str(error) == f"{name}: {error.reason}"


def test_cp1252_text_file_needs_its_encoding():
    data = "Caf\u00e9 news\n\nThe caf\u00e9 said \u201cwelcome\u201d.".encode("cp1252")
    assert isinstance(single_error(read_bytes("cp1252.txt", data)), EncodingNeeded)
    article = only(read_bytes("cp1252.txt", data, encoding="cp1252"))
    assert article.title == "Caf\u00e9 news"
    assert article.text == "The caf\u00e9 said \u201cwelcome\u201d."


def test_uppercase_suffix_is_accepted():
    assert only(read_bytes("UPPER.TXT", b"Title\n\nBody.")).text == "Body."


def test_size_limit_messages(tmp_path):
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024
    big = b"a" * int(6.2 * 1024 * 1024)
    assert single_error(read_bytes("big.txt", big)).reason == "file is 6.2 MB, over the 5.0 MB limit"
    path = tmp_path / "small.txt"
    path.write_bytes(b"Title\n\n" + b"x" * 2041)
    error = single_error(read_file(path, max_bytes=1024))
    assert (error.source, error.reason) == (str(path), "file is 2.0 KB, over the 1.0 KB limit")
    assert single_error(read_bytes("a.txt", b"Title\n\nBody.", max_bytes=5)).reason == (
        "file is 12 bytes, over the 5 bytes limit"
    )
    assert isinstance(only(read_file(path, max_bytes=2048)), Article)


def test_missing_path_and_unsupported_explicit_file(tmp_path):
    missing = tmp_path / "nope.txt"
    other = tmp_path / "notes.md"
    other.write_text("# Notes\n\nText.")
    first, second = read_paths([missing, str(other)])
    assert (first.source, first.reason) == (str(missing), "no such file or directory")
    assert second.source == str(other) and second.reason.startswith("unsupported file type '.md'")
    assert single_error(read_file(tmp_path)).reason == "is a directory"


def test_directory_walk_is_recursive_sorted_and_skips_hidden(tmp_path):
    files = {
        "b.txt": "B title\n\nB body.",
        "a.jsonl": json.dumps({"title": "A1", "text": "x."}) + "\n\n" + json.dumps({"title": "A2", "text": "y."}),
        "sub/c.HTML": html_page(OG_TITLE.replace("OG title", "C title"), "<p>C body.</p>"),
        "sub/deeper/d.htm": html_page("<title>D title</title>", "<p>D body.</p>"),
        "sub/.hidden.txt": "Hidden\n\nNo.",
        ".git/e.txt": "Hidden dir\n\nNo.",
        "notes.md": "Unsupported\n\nNo.",
        "z.txt": "",
    }
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content, encoding="utf-8")
    (tmp_path / "empty-dir").mkdir()
    results = read_paths([tmp_path])
    assert [getattr(r, "title", None) for r in results] == ["A1", "A2", "B title", "C title", "D title", None]
    assert [r.source for r in results] == [
        str(tmp_path / name) for name in ("a.jsonl", "a.jsonl", "b.txt", "sub/c.HTML", "sub/deeper/d.htm", "z.txt")
    ]
    assert results[-1].reason == "file is empty"
    assert read_paths(str(tmp_path / "sub"))[0].title == "C title"  # a single path is accepted too


def test_directory_without_importable_files(tmp_path):
    (tmp_path / "only.md").write_text("x")
    (tmp_path / ".hidden.txt").write_text("Title\n\nBody.")
    error = single_error(read_paths([tmp_path]))
    assert error.source == str(tmp_path)
    assert error.reason.startswith("no importable files")


def test_suffixes_constant():
    assert SUFFIXES == (".txt", ".html", ".htm", ".jsonl")


def test_ingest_does_not_import_web_frameworks():
    package = Path(__file__).resolve().parents[1] / "annotator" / "ingest"
    imported = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert "sentencex" in imported and "bs4" in imported
    assert not imported & {"flask", "flask_sqlalchemy", "sqlalchemy"}
