"""Text normalisation, sentence segmentation and the Article record.

Normalisation (applied to every paragraph and to the title):

* C0/C1 control characters that are not whitespace are dropped, as are the
  invisible U+00AD soft hyphen, U+200B zero-width space and U+FEFF BOM.
  ZWJ/ZWNJ (U+200D/U+200C), LRM/RLM and other format characters are kept:
  they change meaning or rendering in Urdu, Persian, emoji sequences and
  bidirectional text.
* Unicode NFC.
* Every run of whitespace (anything ``str.isspace`` accepts: tabs, newlines,
  NBSP U+00A0, narrow NBSP U+202F, U+2028, ...) becomes one ASCII space, and
  the paragraph is stripped.

Empty paragraphs are dropped and the rest joined with exactly ``"\\n\\n"``.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import sentencex

# Non-whitespace control characters (Cc minus those str.isspace accepts)
# plus invisible characters that only get in the way of annotation.
_DROPPED = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u200b\ufeff]")
_WHITESPACE = re.compile(r"\s+")
# A blank line: two newlines with only whitespace between them.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Unpaired surrogates (only JSON "\\udxxx" escapes can produce them) cannot be encoded.
_SURROGATE = re.compile("[\ud800-\udfff]")
_LANGUAGE_SUBTAG = re.compile(r"([A-Za-z]{2,3})(?![A-Za-z])")
DEFAULT_LANGUAGE = "en"


class IngestError(Exception):
    """A file (or one JSONL line) that cannot be imported, and why."""

    def __init__(self, source: str, reason: str, line: int | None = None):
        self.source = str(source)
        self.reason = " ".join(str(reason).split())  # always one line
        self.line = line
        location = self.source if line is None else f"{self.source}:{line}"
        super().__init__(f"{location}: {self.reason}")


@dataclass(frozen=True)
class Article:
    title: str
    text: str
    sentences: tuple[tuple[int, int], ...]
    outlet: str | None = None
    url: str | None = None
    published: datetime.date | None = None
    language: str = DEFAULT_LANGUAGE
    metadata: dict = field(default_factory=dict)
    source: str = ""
    line: int | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def normalise(text: str) -> str:
    """Normalise one paragraph (or a title) as described in the module doc."""
    text = unicodedata.normalize("NFC", _DROPPED.sub("", text))
    return _WHITESPACE.sub(" ", text).strip()


def split_paragraphs(text: str) -> list[str]:
    """Split plain text at blank lines; single newlines stay inside a paragraph."""
    return _PARAGRAPH_BREAK.split(text)


def language_code(value: str | None) -> str:
    """Primary subtag of a language tag ("en-GB" -> "en"); "en" if unusable."""
    match = _LANGUAGE_SUBTAG.match((value or "").strip())
    return match.group(1).lower() if match else DEFAULT_LANGUAGE


def parse_date(value: str | None) -> datetime.date | None:
    """Date part of an ISO 8601 date or timestamp, as written; None if invalid."""
    try:
        return datetime.datetime.fromisoformat((value or "").strip()).date()
    except ValueError:
        return None


def build_article(title, paragraphs, **fields) -> Article:
    """Normalise title and paragraphs, segment the text and build an Article.

    A first paragraph identical to the title (after normalisation) is dropped,
    since many sources repeat the headline at the top of the body.
    ``fields`` are the remaining Article fields; ``language`` is reduced to its
    primary subtag and empty ``outlet``/``url`` become None.
    Raises IngestError(source, reason, line) for an empty title or body.
    """
    source, line = fields.get("source", ""), fields.get("line")
    paragraphs = list(paragraphs)
    if _has_surrogate(title) or any(map(_has_surrogate, paragraphs)):
        raise IngestError(source, "invalid Unicode (unpaired surrogate)", line)
    title = normalise(title)
    if not title:
        raise IngestError(source, "title is empty", line)
    body = [p for p in map(normalise, paragraphs) if p]
    if body and body[0] == title:
        body = body[1:]
    if not body:
        raise IngestError(source, "no body text", line)
    text = "\n\n".join(body)
    language = language_code(fields.pop("language", None))
    for name in ("outlet", "url"):
        fields[name] = normalise(fields.get(name) or "") or None
    return Article(
        title=title,
        text=text,
        sentences=segment(text, language),
        language=language,
        **fields,
    )


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def segment(text: str, language: str = DEFAULT_LANGUAGE) -> tuple[tuple[int, int], ...]:
    """Sentence spans (start, end) of ``text``, as code-point offsets.

    Each paragraph (text between blank lines) is segmented on its own with
    sentencex, so no sentence crosses a paragraph break. Guaranteed for any
    input: every span is non-empty with no surrounding whitespace and no
    "\\n\\n"; spans are ordered and disjoint; every non-whitespace character
    lies in exactly one span.
    """
    spans = []
    start = 0
    for paragraph_break in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = paragraph_break.start() if paragraph_break else len(text)
        spans += [(start + s, start + e) for s, e in _segment_paragraph(text[start:end], language)]
        start = paragraph_break.end() if paragraph_break else end
    assert spans_are_valid(text, spans), "sentence spans violate invariants"
    return tuple(spans)


def _segment_paragraph(paragraph: str, language: str) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph, repairing any inconsistent sentencex output.

    Each boundary sentencex returns is placed at its own offsets when they
    match its text, else found by searching for its text after the previous
    sentence, else ignored. Whatever lies between placed sentences (normally
    whitespace) becomes a sentence of its own, so nothing is ever lost.
    """
    try:
        boundaries = sentencex.get_sentence_boundaries(language, paragraph)
    except BaseException as error:
        # An Exception (UnicodeEncodeError on unpaired surrogates), or pyo3's PanicException,
        # a BaseException, when sentencex's Rust code panics on odd text ("...Z\x85\x85.\x85..."
        # in Persian cuts inside a character). Anything else (KeyboardInterrupt) goes on.
        if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
            raise
        boundaries = []
    pieces = []
    cursor = 0
    for boundary in boundaries:
        located = _locate(paragraph, boundary, cursor)
        if located:
            pieces += [(cursor, located[0]), located]
            cursor = located[1]
    pieces.append((cursor, len(paragraph)))
    return [span for span in (_trim(paragraph, *piece) for piece in pieces) if span]


def _locate(paragraph: str, boundary, cursor: int) -> tuple[int, int] | None:
    try:
        start, end, sentence = boundary["start_index"], boundary["end_index"], boundary["text"]
    except (KeyError, TypeError):
        return None
    if not isinstance(sentence, str):
        return None
    if (
        isinstance(start, int)
        and isinstance(end, int)
        and cursor <= start < end <= len(paragraph)
        and paragraph[start:end] == sentence
    ):
        return start, end
    core = sentence.strip()
    found = paragraph.find(core, cursor) if core else -1
    return (found, found + len(core)) if found >= 0 else None


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    piece = text[start:end]
    core = piece.strip()
    if not core:
        return None
    start += len(piece) - len(piece.lstrip())
    return start, start + len(core)


def spans_are_valid(text: str, spans) -> bool:
    """Whether ``spans`` meet the guarantees of segment() for ``text``."""
    cursor = 0
    for start, end in spans:
        sentence = text[start:end]
        if (
            start < cursor
            or end > len(text)
            or not sentence
            or sentence != sentence.strip()
            or "\n\n" in sentence
            or text[cursor:start].strip()
        ):
            return False
        cursor = end
    return not text[cursor:].strip()
