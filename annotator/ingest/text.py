"""Text normalisation, sentence segmentation and the Article record.

Normalisation (applied to every paragraph and to the title):

* C0/C1 control characters that are not whitespace are dropped, as are the
  invisible U+00AD soft hyphen, U+200B zero-width space and U+FEFF BOM.
* The bidirectional embeddings, overrides and isolates (direction.BIDI_CONTROLS: LRE, RLE,
  PDF, LRO, RLO, U+202A-U+202E; LRI, RLI, FSI, PDI, U+2066-U+2069) are dropped:
  they are formatting, not content (the pages set each text's direction
  themselves), and one left in can show a reader other text than is stored
  (an RLO shows "txt.exe" as "exe.txt"). docs/security.md, "Bidirectional
  controls".
  ZWJ/ZWNJ (U+200D/U+200C), the marks LRM/RLM/ALM (U+200E/U+200F/U+061C) and
  other format characters are kept: they change meaning or rendering in Urdu,
  Persian, emoji sequences and bidirectional text, and reorder nothing
  beyond their own neighbours.
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

from ..direction import BIDI_CONTROL_RANGE
from .language import DEFAULT_LANGUAGE, article_language

# Non-whitespace control characters (Cc minus those str.isspace accepts), invisible characters
# that only get in the way of annotation, and the bidirectional controls (module doc).
_DROPPED = re.compile(f"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u200b\ufeff{BIDI_CONTROL_RANGE}]")
_WHITESPACE = re.compile(r"\s+")
# A blank line: two newlines with only whitespace between them.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A lone Arabic- or Hebrew-script letter and a full stop end an abbreviation or an initial
# ("د." doctor, "أ.د." professor, "ه.ش." solar hijri, "م. رضایی", "א. כהן"), not a sentence,
# though sentencex ends one there in every language.
_LETTER_ABBREVIATION = re.compile(r"(?<!\w)[\u05d0-\u05ea\u0620-\u064a\u066e-\u06d3\u06fa-\u06fc\u0750-\u077f]\.$")
# A title before a name ends no sentence, though sentencex ends one after "Ms." or "Ft." opening
# a sentence and after "Amb." or "Atty." anywhere ("The talks ended. Ms. Lee said ..."). "St."
# is left out: "Main St." ends sentences.
_TITLE_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:Mr|Mrs|Ms|Mx|Dr|Prof|Amb|Atty|Gen|Lt|Col|Sen|Rep|Gov|Sgt|Capt|Cpt|Maj|Adm|Cmdr|Brig|Rev|Hon|Ft)\.$")
# An ASCII double quote between Hebrew letters is a gershayim (ד"ר, צה"ל), not a quotation mark,
# but sentencex pairs it with the next real one and splits a sentence after an opening quote.
_GERSHAYIM = re.compile('(?<=[\u05d0-\u05ea])"(?=[\u05d0-\u05ea])')
# Unpaired surrogates (only JSON "\\udxxx" escapes can produce them) cannot be encoded.
_SURROGATE = re.compile("[\ud800-\udfff]")


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


def parse_date(value: str | None) -> datetime.date | None:
    """Date part of an ISO 8601 date or timestamp, as written; None if invalid."""
    try:
        return datetime.datetime.fromisoformat((value or "").strip()).date()
    except ValueError:
        return None


def build_article(title, paragraphs, *, given_language: str | None = None, **fields) -> Article:
    """Normalise title and paragraphs, segment the text and build an Article.

    A first paragraph identical to the title (after normalisation) is dropped,
    since many sources repeat the headline at the top of the body.
    ``fields`` are the remaining Article fields; ``language`` is the one the source
    declares, and the article's is ``given_language`` (the user's), else that one, else
    detected (annotator.ingest.language). Empty ``outlet``/``url`` become None.
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
    language = article_language(f"{title}\n{text}", fields.pop("language", None), given_language)
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
    whitespace) becomes a sentence of its own, so nothing is ever lost. Two repairs:
    sentencex reads a gershayim as U+05F4, its own character, one for one so that offsets
    hold (_GERSHAYIM); a sentence ending in a one-letter abbreviation or a title before a name
    goes on into the next (_LETTER_ABBREVIATION, _TITLE_ABBREVIATION).
    """
    segmented = _GERSHAYIM.sub("\u05f4", paragraph)
    try:
        boundaries = sentencex.get_sentence_boundaries(language, segmented)
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
        located = _locate(segmented, boundary, cursor)
        if located:
            pieces += [(cursor, located[0]), located]
            cursor = located[1]
    pieces.append((cursor, len(paragraph)))
    spans: list[tuple[int, int]] = []
    for span in filter(None, (_trim(paragraph, *piece) for piece in pieces)):
        if spans and (_LETTER_ABBREVIATION.search(paragraph, spans[-1][0], spans[-1][1])
                      or _TITLE_ABBREVIATION.search(paragraph, spans[-1][0], spans[-1][1])):
            spans[-1] = (spans[-1][0], span[1])
        else:
            spans.append(span)
    return spans


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
