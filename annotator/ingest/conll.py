"""CoNLL / BIO files -> document records of one span layer (docs/interop.md, "CoNLL / BIO").

One token per line, the token in the first column and its tag in the last (columns split at
tabs, else at runs of spaces), a blank line after each sentence, ``-DOCSTART-`` (or our
export's ``# document = ...`` comment) before each document; other lines starting with ``#``
are comments, but for ``# annotator = NAME``, which names whoever tagged the block (and after
tokens starts the next block). Blocks of the same text are one document, each annotator's
work on it an entry. Tags are
``O`` or a prefix and a label: BIO (``B-``, ``I-``), IOB1 (an ``I-`` after ``O`` or after
another label starts a span too) and BIOES/BILOU (``E-``/``L-`` end a span, ``S-``/``U-``
are one-token spans).

The file has tokens, not text, so the text is rebuilt: the tokens of a sentence joined by one
space, the sentences of a document by a newline; each span runs from its first token's first
character to its last token's last, and the record gives the sentences too, so the stored
document is segmented exactly as the file is. The original spacing is lost ("rose ," for
"rose,"): two files of the same article tokenised differently are two documents.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .label_names import LabelPlacer

if TYPE_CHECKING:
    from .annotations import _Reader

DOCUMENT_START = "-DOCSTART-"
TAG = re.compile(r"(?P<prefix>[BIESLU])-(?P<label>.+)")
ANNOTATOR_COMMENT = re.compile(r"#\s*annotator\s*=\s*(?P<name>.*\S)")
DOCUMENT_COMMENT = re.compile(r"#\s*document\s*=")


def read(reader: _Reader, text: str) -> None:
    """Add the records of a CoNLL file (its text) to ``reader``."""
    _Conll(reader).read(text)


class _Conll:
    def __init__(self, reader: _Reader):
        self.reader = reader
        self.place = LabelPlacer(reader)
        self.start_document(None)

    def start_document(self, line: int | None) -> None:
        self.line = line  # where the document's block starts
        self.annotator: str | None = None
        self.pieces: list[str] = []  # the text so far
        self.length = 0
        self.sentences: list[dict] = []
        self.spans: list[dict] = []
        self.sentence_start: int | None = None
        self.open: dict | None = None  # the span the last token is in, while it may go on
        self.failed = False

    def read(self, text: str) -> None:
        for number, raw in enumerate(text.split("\n"), start=1):  # as editors number lines
            content = raw.strip()
            columns = content.split("\t") if "\t" in content else content.split()
            if not content:
                self.end_sentence()
            elif columns[0] == DOCUMENT_START:
                self.end_document()
                self.start_document(number)
            elif content.startswith("#") and not (len(columns) >= 2 and columns[0] == "#" and _is_tag(columns[-1])):
                if DOCUMENT_COMMENT.match(content):
                    self.end_document()
                    self.start_document(number)
                elif match := ANNOTATOR_COMMENT.match(content):
                    if self.sentences or self.sentence_start is not None:  # another annotator's block
                        self.end_document()
                        self.start_document(number)
                    self.annotator = match["name"]
            elif len(columns) < 2:
                self.fail(number, f"a token line has the token and then its tag; this one has one column ({content!r})")
            else:
                self.token(number, columns[0].strip(), columns[-1].strip())
        self.end_document()

    def fail(self, line: int, message: str) -> None:
        self.reader.problem(line, message)
        self.failed = True

    def token(self, line: int, token: str, tag: str) -> None:
        if self.line is None:
            self.line = line
        if self.sentence_start is None:  # the sentence's first token: after a newline
            if self.pieces:
                self.pieces.append("\n")
                self.length += 1
            self.sentence_start = self.length
        else:
            self.pieces.append(" ")
            self.length += 1
        start = self.length
        self.pieces.append(token)
        self.length += len(token)
        end = self.length
        if tag == "O":
            self.open = None
            return
        match = TAG.fullmatch(tag)
        if match is None:
            self.fail(line, f"tag {tag!r} is neither O nor a prefix (B-, I-, E-, S-, L-, U-) and a label")
            self.open = None
            return
        placed = self.place(match["label"], line)
        if placed is None:
            self.failed = True
            self.open = None
            return
        prefix = match["prefix"]
        continues = self.open is not None and self.open["label"] == placed[1] and self.open["layer"] == placed[0] \
            and prefix in "IEL"
        if continues:
            self.open["end"] = end
        else:
            self.open = {"layer": placed[0], "label": placed[1], "start": start, "end": end, "attributes": {}}
            self.spans.append(self.open)
        if prefix in "ESLU":
            self.open = None

    def end_sentence(self) -> None:
        if self.sentence_start is not None:
            self.sentences.append({"start": self.sentence_start, "end": self.length})
        self.sentence_start = None
        self.open = None

    def end_document(self) -> None:
        self.end_sentence()
        if not self.sentences or self.failed:
            return
        text = "".join(self.pieces)
        annotator = self.reader.annotator_of(self.annotator, "conll", self.line)
        if annotator is None:
            return
        sentences = [{"id": number, "position": number, **sentence} for number, sentence in enumerate(self.sentences)]
        spans = [{**span, "id": number, "text": text[span["start"]:span["end"]]}
                 for number, span in enumerate(self.spans, start=1)]
        document = {"text": text, "sentences": sentences}
        self.reader.add(document, {"annotator": annotator, "status": "done", "spans": spans, "attributions": [],
                                   "sentence_labels": []}, self.line)


def _is_tag(value: str) -> bool:
    return value == "O" or TAG.fullmatch(value) is not None
