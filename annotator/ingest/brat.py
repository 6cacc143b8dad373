"""Reading brat standoff corpora (https://brat.nlplab.org/standoff.html) into document records.

A corpus is a folder or a zip (a path, or a zip's bytes for an upload) holding ``NAME.txt``
texts and ``NAME.ann`` annotations, side by side or in separate folders (files are paired
by name, wherever they lie in the tree), and at most one metadata table (``.tsv``/``.csv``).
Who made an ``.ann``, and which text it annotates:

* the metadata table's ``annotator`` column, on the row whose file-name column names the .ann;
* ``NAME_<annotator>.ann`` beside ``NAME.txt``: several annotators' work on one text;
* ``NAME_<annotator>.ann`` beside its own copy ``NAME_<annotator>.txt`` when another
  ``NAME_<other>.txt`` holds the same text (our brat export writes one copy per annotator);
* else whoever the caller names (``--annotator``).

Lines: ``T`` spans, with discontinuous fragments (``START END;START END``); ``E`` events (the
trigger, then ``Role:ID`` arguments) and ``R`` relations (``Type Arg1:ID Arg2:ID``, linking an
anchor to one part, as our export writes an attribution) become attributions; ``A``/``M``
attributes go to the attribution when they are one of its relation's attributes and sit on an
event or an anchor, else to the span; ``#`` notes become the span's ``comment``. ``N``
(normalisation) and ``*`` (equivalence) lines have no place in the store: skipped with a warning.

Spans become the store's spans (annotator.ingest.annotations, "fragments" for discontinuous
ones): a T whose pieces lie in several sentences (segmented as the import service segments
the document) becomes one span per sentence, each a part of the same attribution in the same
role (docs/interop.md, "brat standoff", says why). Fragments separated only by line breaks are
one piece: brat, and our export, cut a span at each line break because brat cannot draw one
across it; so are fragments that touch (``10 20;20 21``). Whitespace at a span's edges is
trimmed, with a warning.

Offsets are code points. A text with CRLF line ends is stored with LF; its offsets are read as
counting the CR (brat under Python 2) or not (Python 3), whichever the .ann's covered texts
fit. Problems never raise: they come back as IngestError (file, reason, line), every one.
"""

from __future__ import annotations

import bisect
import csv
import io
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..codebook import Codebook, Relation
from .annotations import DOCUMENT_FIELDS, Mapping, Result
from .corpus import corpus_files
from .label_names import closest
from .language import article_language
from .text import IngestError, _trim, segment

TABLE_SUFFIXES = (".tsv", ".csv")
# Files of a corpus the reader looks at: the rest (annotation.conf, READMEs) is not read at all.
CORPUS_SUFFIXES = (".txt", ".ann", *TABLE_SUFFIXES)
# Headers (lower case) of the metadata table's column naming a .txt or .ann file.
FILE_COLUMNS = ("file", "filename", "file_name", "file name", "document", "name")
ANNOTATOR_COLUMN = "annotator"
# Metadata columns that are document fields (header, lower case -> field); the rest go to metadata.
FIELD_COLUMNS = {"title": "title", "outlet": "outlet", "publisher": "outlet", "date": "published",
                 "published": "published", "publication_date": "published", "url": "url", "language": "language"}
# brat numbers an argument role used more than once: Content, Content2, Content3.
_ROLE_NUMBER = re.compile(r"\d+$")
# Between two fragments that are one piece: nothing (they touch) or line breaks only.
_JOINED_GAP = re.compile(r"[\r\n]*")


def read_brat(path_or_bytes: str | os.PathLike[str] | bytes, mapping: Mapping, *, codebook: Codebook | None,
              annotator: str | None, name: str = "<input>") -> Result:
    """IngestErrors (every problem found) and then one record per text of the corpus."""
    source = name if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    if codebook is None:
        return [IngestError(source, "reading brat needs the project's codebook")]
    files = corpus_files(path_or_bytes, source, expected="a brat corpus is a folder or a .zip of .txt and .ann files",
                         keep=lambda relative: PurePosixPath(relative).suffix.lower() in CORPUS_SUFFIXES)
    if isinstance(files, IngestError):
        return [files]
    corpus = _Corpus(source, files, mapping, codebook, annotator)
    corpus.read()
    return [*corpus.problems, *corpus.unmapped_problems(), *corpus.records.values()]


@dataclass
class _Text:
    raw: str  # as in the file
    text: str  # CRLF made LF: the document's text
    record: dict
    sentences: tuple[tuple[int, int], ...] = ()
    # Positions in ``raw`` of the CR of each CRLF.
    carriage_returns: list[int] = field(default_factory=list)


@dataclass
class _Line:
    """One parsed .ann line: its kind's fields and where it was read."""

    number: int
    kind: str
    id: str
    type: str = ""
    fragments: list[tuple[int, int]] = field(default_factory=list)  # in the order written
    covered: str = ""
    arguments: list[tuple[str, str]] = field(default_factory=list)  # (role, id) of E and R
    target: str = ""  # of A, M and #
    value: str | None = None


class _Corpus:
    def __init__(self, source: str, files: dict[str, bytes], mapping: Mapping, codebook: Codebook,
                 annotator: str | None):
        self.source, self.files, self.mapping, self.codebook = source, files, mapping, codebook
        self.annotator = annotator
        self.problems: list[IngestError] = []
        self.records: dict[str, dict] = {}  # text path -> record
        self.texts: dict[str, _Text | None] = {}
        # kind ("labels", "roles", "attributes") -> name -> [(file, line), ...]
        self.unmapped: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
        self.labels = {label.name: layer.name for layer in codebook.span_layers for label in layer.labels}
        self.layer_labels = {layer.name: {label.name for label in layer.labels} for layer in codebook.span_layers}

    def problem(self, path: str, message: str, line: int | None = None) -> None:
        self.problems.append(IngestError(self.path_of(path), message, line))

    def path_of(self, relative: str) -> str:
        return f"{self.source}/{relative}" if relative else self.source

    # -- which text and annotator each .ann has ---------------------------------------------

    def read(self) -> None:
        by_suffix: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for path in self.files:
            pure = PurePosixPath(path)
            by_suffix[pure.suffix.lower()][pure.stem].append(path)
        tables = [path for suffix in TABLE_SUFFIXES for paths in by_suffix[suffix].values() for path in paths]
        if len(tables) > 1:
            self.problem("", f"more than one metadata table: {', '.join(sorted(tables))}; keep one")
            return
        rows = self.metadata_table(tables[0]) if tables else {}
        if rows is None:
            return
        anns = sorted(path for paths in by_suffix[".ann"].values() for path in paths)
        if not anns:
            self.problem("", "no .ann files found")
            return
        texts = by_suffix[".txt"]
        pairs = []  # (ann path, text path, annotator or None, row of the table or None)
        for ann in anns:
            stem = PurePosixPath(ann).stem
            found = self.text_of(ann, stem, texts)
            if found is None:
                continue
            text_path, suffix_annotator = found
            row = rows.get(stem)
            named = row.get(ANNOTATOR_COLUMN) if row else None
            pairs.append((ann, text_path, named or suffix_annotator, row))
        self.copies_per_annotator(pairs)
        seen: dict[tuple[str, str], str] = {}  # (text, annotator) -> the .ann read for them
        for ann, text_path, annotator, row in pairs:
            annotator = annotator or self.annotator
            if not annotator:
                self.problem(ann, "the corpus does not say who annotated this file; name the annotator "
                                  "(--annotator NAME), call it NAME_<annotator>.ann or add an annotator column "
                                  "to the metadata table")
                continue
            document = self.document(text_path, rows, row)
            if document is None:
                continue
            if (text_path, annotator) in seen:
                self.problem(ann, f"annotator {annotator!r} already annotated {text_path} in "
                                  f"{seen[text_path, annotator]}")
                continue
            seen[text_path, annotator] = ann
            _AnnFile(self, ann, document, annotator).read()

    def text_of(self, ann: str, stem: str, texts: dict[str, list[str]]) -> tuple[str, str | None] | None:
        """(text path, annotator the file name gives) of an .ann."""
        if stem in texts:
            return self.nearest(ann, texts[stem]), None
        head = stem
        while "_" in head:
            head, _, _ = head.rpartition("_")
            if head in texts:
                return self.nearest(ann, texts[head]), stem[len(head) + 1:]
        self.problem(ann, f"no text for this file: looked for {stem}.txt (and NAME.txt for NAME_<annotator>.ann)")
        return None

    @staticmethod
    def nearest(ann: str, candidates: list[str]) -> str:
        """Of texts with the .ann's name, the one in its folder, else the one nearest to it."""
        folder = PurePosixPath(ann).parent.parts
        return max(candidates, key=lambda path: (
            len(os.path.commonprefix([PurePosixPath(path).parent.parts, folder])), -len(path)))

    def copies_per_annotator(self, pairs: list) -> None:
        """Our export's shape: NAME_<annotator>.txt copies of one text, each with its .ann.
        Where two or more such stems share NAME and the same text, NAME_ names the annotator."""
        groups: dict[tuple, list[int]] = defaultdict(list)
        for index, (ann, text_path, annotator, row) in enumerate(pairs):
            stem = PurePosixPath(ann).stem
            if annotator is None and "_" in stem and PurePosixPath(text_path).stem == stem:
                groups[stem.rpartition("_")[0], self.files[text_path]].append(index)
        for (head, _), members in groups.items():
            if len(members) > 1:
                for index in members:
                    ann, text_path, _, row = pairs[index]
                    pairs[index] = (ann, pairs[members[0]][1], PurePosixPath(ann).stem[len(head) + 1:], row)

    def metadata_table(self, path: str) -> dict[str, dict[str, str]] | None:
        """Rows by the file name they name (without its suffix), keys lower-cased."""
        try:
            content = self.files[path].decode("utf-8-sig")
        except UnicodeDecodeError:
            self.problem(path, "the metadata table is not UTF-8")
            return None
        delimiter = "\t" if path.lower().endswith(".tsv") else (csv.Sniffer().sniff(content[:4096], ",;\t").delimiter
                                                               if content.strip() else ",")
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
        headers = {header.strip().lower(): header for header in reader.fieldnames or ()}
        file_column = next((headers[name] for name in FILE_COLUMNS if name in headers), None)
        if file_column is None:
            self.problem(path, f"the metadata table needs a file-name column ({', '.join(FILE_COLUMNS)})", 1)
            return None
        rows: dict[str, dict[str, str]] = {}
        for number, row in enumerate(reader, start=2):
            named = (row.get(file_column) or "").strip()
            if not named:
                self.problem(path, "the file-name column is empty", number)
                continue
            named_path = PurePosixPath(named)
            stem = named_path.stem if named_path.suffix.lower() in (".txt", ".ann") else named_path.name
            if stem in rows:
                self.problem(path, f"{named!r} has two rows", number)
                continue
            rows[stem] = {key.strip().lower(): (value or "").strip() for key, value in row.items()
                          if key is not None and key != file_column and isinstance(value, str)}
        return rows

    def document(self, text_path: str, rows: dict, ann_row: dict | None) -> _Text | None:
        if text_path in self.texts:
            return self.texts[text_path]
        self.texts[text_path] = None
        try:
            raw = self.files[text_path].decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = self.files[text_path][: error.start].count(b"\n") + 1
            self.problem(text_path, "not UTF-8 (brat texts are UTF-8)", line)
            return None
        text = raw.replace("\r\n", "\n")
        if not text.strip():
            self.problem(text_path, "the text is empty")
            return None
        row = rows.get(PurePosixPath(text_path).stem) or ann_row or {}
        document: dict = {key: None for key in DOCUMENT_FIELDS} | {"text": text, "metadata": {}}
        for column, value in row.items():
            if column == ANNOTATOR_COLUMN or not value:
                continue
            if column in FIELD_COLUMNS and document[FIELD_COLUMNS[column]] is None:
                document[FIELD_COLUMNS[column]] = value
            else:
                document["metadata"][column] = value
        language = article_language(text, document["language"])
        found = _Text(raw=raw, text=text, record={"document": document, "annotations": [],
                                                                   "warnings": []},
                      sentences=segment(text, language),
                      carriage_returns=[match.start() for match in re.finditer("\r\n", raw)])
        self.texts[text_path] = found
        self.records[text_path] = found.record
        return found

    # -- names the codebook does not have ----------------------------------------------------

    def unmapped_problems(self) -> list[IngestError]:
        """One problem per kind of name, listing every such name, with a suggestion."""
        attributes = [*(a for layer in self.codebook.span_layers
                        for a in (*layer.attributes, *(a for label in layer.labels for a in label.attributes))),
                      *(a for relation in self.codebook.relations for a in relation.attributes)]
        known = {"labels": list(self.labels), "roles": [r.name for r in self.codebook.relations for r in r.roles],
                 # a binary attribute (no value) maps to one of the codebook's values: name=value
                 "attributes": [*(a.name for a in attributes),
                                *(f"{a.name}={value}" for a in attributes for value in a.value_names)]}
        problems = []
        for kind, names in self.unmapped.items():
            listed = "; ".join(f"{name!r} ({_times(len(where))}, first at {where[0][0]}:{where[0][1]})"
                               for name, where in names.items())
            suggestions = ", ".join(f'{_toml_key(name)} = "{closest(name, known[kind], cutoff=0) or "?"}"'
                                    for name in names)
            file, line = next(iter(names.values()))[0]
            problems.append(IngestError(self.path_of(file), f"{len(names)} {kind[:-1]} name(s) the codebook does "
                                        f"not have: {listed}. Map them in [{kind}] of the mapping file (--mapping), "
                                        f"e.g. {suggestions}", line))
        return problems


class _AnnFile:
    """One annotator's .ann of one text -> one annotation entry of the text's record."""

    def __init__(self, corpus: _Corpus, path: str, document: _Text, annotator: str):
        self.corpus, self.path, self.document, self.annotator = corpus, path, document, annotator
        self.codebook = corpus.codebook
        self.failed = False
        self.lines: dict[str, _Line] = {}
        self.spans: list[dict] = []
        self.span_ids: dict[str, list[int]] = {}  # T id -> ids of its spans
        self.by_extent: dict[tuple, dict] = {}  # (layer, label, pieces) -> span: copies of a T are one span
        self.attributions: list[dict] = []
        self.anchored: dict[str, dict] = {}  # T or E id -> its attribution
        self.left_out: dict[str, str] = {}  # T id -> its label, which the mapping leaves out ("")

    def problem(self, line: int | None, message: str) -> None:
        self.corpus.problem(self.path, message, line)
        self.failed = True

    def warn(self, line: int, message: str) -> None:
        self.document.record["warnings"].append(f"{self.corpus.path_of(self.path)}:{line}: {message}")

    def unmapped(self, kind: str, name: str, line: int) -> None:
        self.corpus.unmapped[kind][name].append((self.path, line))
        self.failed = True

    def read(self) -> None:
        try:
            content = self.corpus.files[self.path].decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = self.corpus.files[self.path][: error.start].count(b"\n") + 1
            self.problem(line, "not UTF-8 (.ann files are UTF-8)")
            return
        for number, text in enumerate(content.split("\n"), start=1):
            text = text.rstrip("\r")
            if text.strip():
                self.parse(number, text)
        if self.failed:
            return
        offsets = self.offset_reading()
        if offsets is None:
            return
        relation = self.relation()
        triggers_only = self.triggers_only(relation)
        single = self.single_part_ids(relation)
        for line in self.lines.values():
            if line.kind == "T" and line.id not in triggers_only:
                self.span(line, offsets, single.get(line.id))
        if relation is not None:
            for line in self.lines.values():
                if line.kind == "E":
                    self.event(line, relation)
            self.relations([line for line in self.lines.values() if line.kind == "R"], relation)
        for line in self.lines.values():
            if line.kind in "AM#":
                self.attach(line, relation)
        for span in self.spans:
            if problems := self.codebook.validate_span(span["layer"], span["label"], span["attributes"]):
                self.problem(span.pop("line"), "; ".join(problems))
            span.pop("line", None)
        if not self.failed:
            self.document.record["annotations"].append({
                "annotator": self.annotator, "status": "done", "spans": self.spans,
                "attributions": self.attributions, "sentence_labels": [], "line": 1,
                "file": self.corpus.path_of(self.path)})

    # -- parsing -------------------------------------------------------------------------------

    def parse(self, number: int, text: str) -> None:
        kind = text[0]
        columns = text.split("\t")
        if kind in "N*":
            self.warn(number, f"{kind} lines (normalisations, equivalences) are not imported")
            return
        if kind not in "TERAM#":
            self.problem(number, f"a line starting {kind!r} is not brat standoff (T, E, R, A, M, #, N, *)")
            return
        if len(columns) < 2 or not columns[0][1:]:
            self.problem(number, "expected ID<TAB>annotation")
            return
        line = _Line(number, kind, columns[0])
        fields = columns[1].split()
        if not fields:
            self.problem(number, "the annotation is empty")
            return
        if line.id in self.lines:
            self.problem(number, f"{line.id} is already used on line {self.lines[line.id].number}")
            return
        if kind == "T":
            if not self.text_bound(line, columns, number):
                return
        elif kind == "E":
            line.type, _, trigger = fields[0].partition(":")
            line.arguments = [("", trigger)] + [tuple(item.rpartition(":")[::2]) for item in fields[1:]]
            if not trigger or any(not role or not ref for role, ref in line.arguments[1:]):
                self.problem(number, "an event is Type:TRIGGER then Role:ID arguments")
                return
        elif kind == "R":
            arguments = [tuple(item.partition(":")[::2]) for item in fields[1:]]
            if len(arguments) != 2 or any(not ref for _, ref in arguments):
                self.problem(number, "a relation is Type Arg1:ID Arg2:ID")
                return
            line.type, line.arguments = fields[0], arguments
        elif kind in "AM":
            if len(fields) not in (2, 3):
                self.problem(number, "an attribute is Name ID or Name ID Value")
                return
            line.type, line.target = fields[0], fields[1]
            line.value = fields[2] if len(fields) == 3 else None
        else:  # a note: #1<TAB>AnnotatorNotes T1<TAB>the note
            if len(fields) < 2:
                self.problem(number, "a note is #ID<TAB>Type ID<TAB>text")
                return
            line.type, line.target, line.value = fields[0], fields[1], "\t".join(columns[2:])
        self.lines[line.id] = line

    def text_bound(self, line: _Line, columns: list[str], number: int) -> bool:
        label, _, offsets = columns[1].partition(" ")
        try:
            pieces = [tuple(int(n) for n in piece.split()) for piece in offsets.split(";")]
        except ValueError:
            pieces = []
        if not pieces or any(len(piece) != 2 or not 0 <= piece[0] < piece[1] for piece in pieces):
            self.problem(number, f"{line.id}: offsets must be START END pairs (START < END), ';' between fragments")
            return False
        ordered = sorted(pieces)
        if any(first[1] > second[0] for first, second in zip(ordered, ordered[1:])):
            self.problem(number, f"{line.id}: fragments overlap")
            return False
        # Kept as written: brat joins the covered text in that order, which need not be the text's.
        line.type, line.fragments, line.covered = label, pieces, "\t".join(columns[2:])
        return True

    def offset_reading(self):
        """A function from the .ann's offsets to the document's: CRs counted or not, whichever
        every T's covered text fits; None (and a problem per T that fits neither) otherwise."""
        raw, text, returns = self.document.raw, self.document.text, self.document.carriage_returns
        readings = [(raw, lambda offset: offset - bisect.bisect_left(returns, offset))]
        if returns:
            readings.append((text, lambda offset: offset))
        spans = [line for line in self.lines.values() if line.kind == "T"]
        for content, reading in readings:
            if all(self.fits(content, line) for line in spans):
                return reading
        for line in spans:
            if _end(line) > len(raw):
                self.problem(line.number, f"{line.id}: offsets beyond the end of the text ({len(raw)} characters)")
            elif not self.fits(raw, line):
                found = " ".join(raw[start:end] for start, end in line.fragments)
                offsets = ";".join(f"{start} {end}" for start, end in line.fragments)
                self.problem(line.number, f"{line.id}: the text says {found!r} at {offsets}, the .ann {line.covered!r}")
        return None

    @staticmethod
    def fits(content: str, line: _Line) -> bool:
        # brat joins the fragments' texts with a space.
        return _end(line) <= len(content) and \
            " ".join(content[start:end] for start, end in line.fragments) == line.covered

    # -- the codebook's relation and roles -----------------------------------------------------

    def relation(self) -> Relation | None:
        uses = [line for line in self.lines.values() if line.kind in "ER"]
        if not uses:
            return None
        if not self.codebook.relations:
            self.problem(uses[0].number, "the corpus has events or relations but the codebook declares none")
            return None
        try:
            return self.codebook.relation(self.corpus.mapping.relation or self.codebook.relations[0].name)
        except KeyError as error:
            self.problem(None, f"mapping: {error.args[0]}")
            return None

    def role(self, relation: Relation, name: str, line: int) -> str | None:
        """role_quietly(), a name it does not know being a problem."""
        found = self.role_quietly(relation, name)
        if found is None:
            self.unmapped("roles", name, line)
        return found

    def triggers_only(self, relation: Relation | None) -> set[str]:
        """T ids that only trigger events which name their anchor part in an argument: such a
        trigger (brat's word for the event, often typed "Attribution") is not a span here."""
        if relation is None:
            return set()
        triggers, used = set(), set()
        for line in self.lines.values():
            if line.kind == "E":
                roles = [self.role_quietly(relation, role) for role, _ in line.arguments[1:]]
                if relation.anchor in roles:
                    triggers.add(line.arguments[0][1])
                used.update(ref for _, ref in line.arguments[1:])
            elif line.kind == "R":
                used.update(ref for _, ref in line.arguments)
        return triggers - used

    def role_quietly(self, relation: Relation, name: str) -> str | None:
        """The relation's role a brat argument role or relation type names (through [roles];
        letter case aside, and brat's number on a repeated role too: Content2 is content)."""
        mapped = self.corpus.mapping.roles.get(name) or self.corpus.mapping.roles.get(_ROLE_NUMBER.sub("", name))
        wanted = (mapped or _ROLE_NUMBER.sub("", name)).lower()
        return next((role.name for role in relation.roles if role.name.lower() == wanted), None)

    def single_part_ids(self, relation: Relation | None) -> dict[str, str]:
        """T id -> the role taking one span only that it plays, if any."""
        if relation is None:
            return {}
        single = {role.name for role in relation.roles if not role.multiple}
        found = {}
        for line in self.lines.values():
            if line.kind == "E":
                arguments = [(self.role_quietly(relation, role), ref) for role, ref in line.arguments[1:]]
                if relation.anchor not in (role for role, _ in arguments):
                    arguments.append((relation.anchor, line.arguments[0][1]))
            elif line.kind == "R":
                (_, head), (_, other) = line.arguments
                arguments = [(relation.anchor, head), (self.role_quietly(relation, line.type), other)]
            else:
                continue
            found.update((ref, role) for role, ref in arguments if role in single)
        return found

    # -- spans ---------------------------------------------------------------------------------

    def span(self, line: _Line, offsets, single_role: str | None) -> None:
        target = self.corpus.mapping.labels.get(line.type, line.type)
        if target == "":
            self.left_out[line.id] = line.type
            return
        layer = self.corpus.mapping.layers.get(target) or self.corpus.labels.get(target)
        if target not in self.corpus.layer_labels.get(layer, ()):
            self.unmapped("labels", line.type, line.number)
            return
        text = self.document.text
        pieces = sorted((offsets(start), offsets(end)) for start, end in line.fragments)
        trimmed = [_trim(text, start, end) for start, end in pieces]
        if trimmed != pieces:
            self.warn(line.number, f"{line.id}: whitespace at the edges of the span trimmed")
        pieces = _joined_across_line_breaks(text, [piece for piece in trimmed if piece])
        if not pieces:
            self.problem(line.number, f"{line.id}: the span holds only whitespace")
            return
        groups = self.by_sentence(pieces)
        if len(groups) > 1 and single_role is not None:
            if len(pieces) == 1 and self.codebook.layer(layer).cross_sentence:
                groups = [pieces]  # one span across sentences, as the layer allows
            else:
                self.problem(line.number, f"{line.id} runs over {len(groups)} sentences, but role {single_role!r} "
                                          "takes one span and the layer does not allow spans across sentences")
                return
        ids = []
        for group in groups:
            key = (layer, target, tuple(group))
            span = self.by_extent.get(key)
            if span is None:
                start, end = group[0][0], group[-1][1]
                span = {"id": len(self.spans) + 1, "layer": layer, "label": target, "start": start, "end": end,
                        "text": text[start:end], "attributes": {}, "line": line.number}
                if len(group) > 1:
                    span["fragments"] = [list(piece) for piece in group]
                self.by_extent[key] = span
                self.spans.append(span)
            ids.append(span["id"])
        self.span_ids[line.id] = ids

    def by_sentence(self, pieces: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        """The pieces cut at sentence boundaries, grouped by sentence, in order."""
        sentences = self.document.sentences
        starts = [start for start, _ in sentences]
        groups: dict[int, list[tuple[int, int]]] = {}
        for start, end in pieces:
            index = max(bisect.bisect_right(starts, start) - 1, 0)
            while index < len(sentences) and sentences[index][0] < end:
                first, last = max(start, sentences[index][0]), min(end, sentences[index][1])
                if first < last and (cut := _trim(self.document.text, first, last)):
                    groups.setdefault(index, []).append(cut)
                index += 1
        return [group for _, group in sorted(groups.items())]

    # -- attributions ----------------------------------------------------------------------------

    def event(self, line: _Line, relation: Relation) -> None:
        parts, failed = [], False
        arguments = [(self.role(relation, role, line.number), ref) for role, ref in line.arguments[1:]]
        if relation.anchor not in (role for role, _ in arguments):
            arguments.insert(0, (relation.anchor, line.arguments[0][1]))
        for role, ref in arguments:
            if role is None:
                failed = True
                continue
            if ref not in self.span_ids:
                failed = True
                if ref not in self.lines or self.lines[ref].kind != "T":
                    self.problem(line.number, f"{line.id}: argument {ref} is not a T line of this file")
                elif ref in self.left_out:
                    self.problem(line.number, f"{line.id}: argument {ref} is a {self.left_out[ref]} span, a label "
                                              "the mapping leaves out")
                continue
            parts.extend({"role": role, "span_id": span_id} for span_id in self.span_ids[ref])
        if not failed:
            self.anchored[line.id] = {"relation": relation.name, "attributes": {}, "parts": parts}
            self.anchored.setdefault(line.arguments[0][1], self.anchored[line.id])  # values on the trigger
            self.attributions.append(self.anchored[line.id])

    def relations(self, lines: list[_Line], relation: Relation) -> None:
        """R lines from one anchor T make one attribution (as our export writes them): the
        anchor is the end whose label is the anchor role's, else Arg1."""
        anchor_label = relation.role(relation.anchor).label
        roles_by_label = {role.label: role.name for role in reversed(relation.roles)}
        for line in lines:
            (_, first), (_, second) = line.arguments
            role = self.role(relation, line.type, line.number)
            missing = [ref for ref in (first, second) if ref not in self.lines or self.lines[ref].kind != "T"]
            if missing:
                self.problem(line.number, f"{line.id}: argument {missing[0]} is not a T line of this file")
                continue
            if left_out := [ref for ref in (first, second) if ref in self.left_out]:
                self.problem(line.number, f"{line.id}: argument {left_out[0]} is a {self.left_out[left_out[0]]} span, "
                                          "a label the mapping leaves out")
                continue
            if role is None or first not in self.span_ids or second not in self.span_ids:
                continue
            head, other = (first, second)
            if self.label_of(second) == anchor_label != self.label_of(first):
                head, other = second, first
            head_label = self.label_of(head)
            head_role = relation.anchor if head_label == anchor_label else roles_by_label.get(head_label)
            if head_role is None:
                self.problem(line.number, f"{line.id}: {self.label_of(head)} spans play no role of relation "
                                          f"{relation.name!r}; its Arg1 should be the anchor ({anchor_label})")
                continue
            attribution = self.anchored.get(head)
            if attribution is None:
                attribution = {"relation": relation.name, "attributes": {},
                               "parts": [{"role": head_role, "span_id": span_id} for span_id in self.span_ids[head]]}
                self.anchored[head] = attribution
                self.attributions.append(attribution)
            attribution["parts"].extend({"role": role, "span_id": span_id} for span_id in self.span_ids[other])

    def label_of(self, ref: str) -> str:
        return self.spans[self.span_ids[ref][0] - 1]["label"]

    # -- attributes and notes --------------------------------------------------------------------

    def attach(self, line: _Line, relation: Relation | None) -> None:
        target = self.lines.get(line.target)
        if target is None or target.kind not in "TE":
            self.problem(line.number, f"{line.id}: {line.target} is not a T or E line of this file")
            return
        if line.target in self.left_out:  # left out with its span
            return
        if line.kind == "#":
            if line.target not in self.span_ids:
                self.warn(line.number, f"{line.id}: a note on {line.target}, which is not a span here, is not imported")
            for span_id in self.span_ids.get(line.target, ()):
                span = self.spans[span_id - 1]
                span["comment"] = "\n".join(filter(None, [span.get("comment"), line.value.strip()]))
            return
        mapped = self.corpus.mapping.attributes.get(line.type, line.type)
        name, _, implied = mapped.partition("=")
        value = line.value if line.value is not None else implied or "true"
        attribution = self.anchored.get(line.target)
        relation_names = {attribute.name for attribute in relation.attributes} if relation else set()
        if attribution is not None and name in relation_names:
            attribution["attributes"][name] = value
            return
        if target.kind == "E":
            self.unmapped("attributes", line.type, line.number)
            return
        if line.target not in self.span_ids:
            self.warn(line.number, f"{line.id}: {line.type} on {line.target}, an event's trigger only, is not imported")
            return
        for span_id in self.span_ids.get(line.target, ()):
            span = self.spans[span_id - 1]
            names = {a.name for a in self.codebook.layer(span["layer"]).attributes_for(span["label"])}
            if name not in names:
                self.unmapped("attributes", line.type, line.number)
                return
            span["attributes"][name] = value


def _joined_across_line_breaks(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    joined: list[tuple[int, int]] = []
    for start, end in pieces:
        if joined and _JOINED_GAP.fullmatch(text, joined[-1][1], start):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _end(line: _Line) -> int:
    return max(end for _, end in line.fragments)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'
