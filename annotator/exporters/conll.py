"""CoNLL-style BIO tags for one span layer (``layer``, required): one block per document ×
annotator, one token per line ``token<TAB>tag``, a blank line after each sentence.

    # document = 12
    # annotator = a-3f9c2e1b7d
    # dropped spans = 0
    # sent_id = 101
    Prices	O
    ...

Tokens come from TOKEN below: a number with its inner separators (``1,200``, ``3.5``, Arabic
``٣٫٥``), a run of word characters, or any other single non-space character; then what is one
written word in any script is made one token again (tokens()): combining marks (Arabic harakat,
Hebrew points, Indic vowel signs), the zero-width non-joiner inside a Persian or Urdu word
(``می‌گوید``), a gershayim typed as ``"`` (``ד"ר``), emoji skin tones, variation selectors,
zero-width-joiner sequences and flags never stand alone. Tokens never cross a sentence boundary. A token takes a span's tag when they share a character, so a span that
starts or ends inside a word tags the whole word. A span that continues into the next
sentence starts again with B- there, so that every sentence is well-formed BIO on its own.

BIO cannot show overlapping spans. Spans are taken in order of start, longer first, and one
that would share a token with a span already taken is dropped, as is a span that covers no
token; ``# dropped spans`` counts them. Offsets are Python str offsets (code points).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator

from ..codebook import Codebook
from .records import annotator_lines
from .standoff import span_layers

MEDIA_TYPE = "text/plain"
EXTENSION = "conll"

TOKEN = re.compile(r"\d+(?:[.,\u066b\u066c]\d+)*|\w+|[^\w\s]")
_JOINERS = "\u200c\u200d"  # zero-width non-joiner and joiner: the next character goes on the token
_HEBREW_LETTER = re.compile("[\u05d0-\u05ea]")
_HEBREW_QUOTES = "\"'\u05f3\u05f4"  # a (ge)resh or gershayim, typed or as itself


def export(records: Iterable[dict], codebook: Codebook, *, layer: str | None = None) -> Iterator[str]:
    (chosen,) = span_layers(codebook, layer, required=True)
    return _blocks(records, chosen)


def tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each token of text[start:end] (module doc)."""
    found: list[tuple[int, int]] = []
    for match in TOKEN.finditer(text, start, end):
        if found and found[-1][1] == match.start() and _goes_on(text, found[-1][0], match.start(), end):
            found[-1] = (found[-1][0], match.end())
        else:
            found.append(match.span())
    return found


def _goes_on(text: str, token_start: int, at: int, end: int) -> bool:
    """Whether the piece at ``at`` belongs to the token text[token_start:at] before it."""
    char, before = text[at], text[at - 1]
    if unicodedata.category(char) in ("Mn", "Mc", "Me") or char in _JOINERS or char in "\ufe0e\ufe0f":
        return True
    if "\U0001f3fb" <= char <= "\U0001f3ff":  # an emoji skin tone
        return True
    if before in _JOINERS or unicodedata.category(before) in ("Mn", "Mc"):
        return char.isalnum() or before == "\u200d"  # ZWJ also joins emoji
    if char in _HEBREW_QUOTES and at + 1 < end and _HEBREW_LETTER.match(before) and _HEBREW_LETTER.match(text[at + 1]):
        return True
    if before in _HEBREW_QUOTES and at - 1 > token_start and _HEBREW_LETTER.match(text[at - 2]):
        return _HEBREW_LETTER.match(char) is not None
    # A flag: two regional indicators.
    return _regional(char) and at - token_start == 1 and _regional(before)


def _regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _blocks(records: Iterable[dict], layer: str) -> Iterator[str]:
    for line in annotator_lines(records):
        document = line["document"]
        text = document["text"]
        sentences = sorted(document["sentences"], key=lambda sentence: sentence["position"])
        sentence_tokens = [tokens(text, sentence["start"], sentence["end"]) for sentence in sentences]
        flat = [token for in_sentence in sentence_tokens for token in in_sentence]
        starts = [start for start, _ in flat]
        ends = [end for _, end in flat]
        owner: dict[int, dict] = {}  # token index in flat -> the span that tags it
        dropped = 0
        spans = sorted((span for span in line["spans"] if span["layer"] == layer),
                       key=lambda span: (span["start"], -span["end"]))
        for span in spans:
            # Tokens sharing a character with the span: those ending after its start and
            # starting before its end (tokens do not overlap, so both lists are sorted).
            covered = range(bisect.bisect_right(ends, span["start"]), bisect.bisect_left(starts, span["end"]))
            if not covered or any(index in owner for index in covered):
                dropped += 1
                continue
            owner.update(dict.fromkeys(covered, span))
        header = (f"# document = {document['id']}\n# annotator = {line['annotator']}\n"
                  f"# dropped spans = {dropped}\n")
        index = 0
        for sentence, in_sentence in zip(sentences, sentence_tokens):
            rows = [header, f"# sent_id = {sentence['id']}\n"]
            header = ""
            previous = None
            for start, end in in_sentence:
                span = owner.get(index)
                if span is None:
                    tag = "O"
                else:
                    tag = ("I-" if span is previous else "B-") + span["label"]
                rows.append(f"{text[start:end]}\t{tag}\n")
                previous = span
                index += 1
            rows.append("\n")
            yield "".join(rows)
        if header:  # a document without sentences still gets its block
            yield header + "\n"
