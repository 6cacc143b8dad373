"""CoNLL-style BIO tags for one span layer (``layer``, required): one block per document ×
annotator, one token per line ``token<TAB>tag``, a blank line after each sentence.

    # document = 12
    # annotator = a-3f9c2e1b7d
    # dropped spans = 0
    # sent_id = 101
    Prices	O
    ...

Tokens come from TOKEN below: a number with its inner separators (``1,200``, ``3.5``), a
run of word characters, or any other single non-space character; tokens never cross a
sentence boundary. A token takes a span's tag when they share a character, so a span that
starts or ends inside a word tags the whole word. A span that continues into the next
sentence starts again with B- there, so that every sentence is well-formed BIO on its own.

BIO cannot show overlapping spans. Spans are taken in order of start, longer first, and one
that would share a token with a span already taken is dropped, as is a span that covers no
token; ``# dropped spans`` counts them. Offsets are Python str offsets (code points).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

from ..codebook import Codebook
from .records import annotator_lines
from .standoff import span_layers

MEDIA_TYPE = "text/plain"
EXTENSION = "conll"

TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+|[^\w\s]")


def export(records: Iterable[dict], codebook: Codebook, *, layer: str | None = None) -> Iterator[str]:
    (chosen,) = span_layers(codebook, layer, required=True)
    return _blocks(records, chosen)


def tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each token of text[start:end]."""
    return [match.span() for match in TOKEN.finditer(text, start, end)]


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
