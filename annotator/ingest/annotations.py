"""Reading annotation files into document records, the shape every import goes through.

Formats (docs/interop.md, "Importing annotations"):

* ``jsonl``: this project's export, one line per document (with ``annotations``) or one
  line per document and annotator (with ``annotator``), told apart line by line;
* ``doccano``: doccano's sequence-labelling JSONL, entities as objects
  (``{"id", "start_offset", "end_offset", "label"}``, with ``relations``) or as the older
  ``"label": [[start, end, "LABEL"], ...]``;
* ``labelstudio``: a Label Studio JSON export, an array of tasks whose annotations hold
  ``labels``, ``relation`` and ``choices`` results.

A mapping file renames the labels of doccano and Label Studio files and places them in the
codebook (load_mapping). Lines of one document (the same text) are merged into one record.
Each annotation entry of a record gets a ``line`` key: where in the file it was read, so
problems found later (by annotator.services.imports, against the database) name the line too.

Problems never raise: they come back as IngestError (file, reason, line) in the result,
every one of them. Offsets and labels are checked against the text and the codebook by the
import service, in one place; here only what the conversion itself needs is checked.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..codebook import Codebook
from . import conll, sentence_csv, techniques
from .text import IngestError

FORMATS = ("jsonl", "doccano", "labelstudio", "brat", "conll", "techniques", "sentence-csv")
# The keys of an annotation entry, lifted to the top level in the per-annotator JSONL.
ENTRY_KEYS = ("annotator", "status", "spans", "attributions", "sentence_labels")
MAPPING_TABLES = ("labels", "layers", "roles", "choices", "attributes", "values")
DOCUMENT_FIELDS = ("title", "url", "outlet", "published", "language", "metadata")

Result = list[dict | IngestError]


@dataclass(frozen=True)
class Mapping:
    """How the labels of another tool's file become this codebook's.

    ``labels``: label in the file -> span label of the codebook; ``layers``: codebook label ->
    span layer (needed only where the label alone does not say); ``roles``: relation type in
    the file -> role of ``relation``; ``choices``: Label Studio ``from_name`` of a choices
    result -> sentence layer; ``attributes``: attribute name in the file -> the codebook's, or
    ``name=value`` for a brat binary attribute; ``values``: a value in a sentence-label CSV
    column -> the choice layer's value name; ``relation``: the codebook relation that
    relations become (the codebook's first if unset).
    """

    labels: dict[str, str] = field(default_factory=dict)
    layers: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    relation: str | None = None


def load_mapping(path: str | os.PathLike[str], data: bytes | None = None) -> Mapping | list[IngestError]:
    """Read a mapping file (.toml or .json); the Mapping, or every problem found in it.
    ``data``: the file's content, as uploaded (``path`` then only names it)."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in (".toml", ".json"):
        return [IngestError(source, f"unsupported mapping file type {suffix or '(none)'!r}; use .toml or .json")]
    try:
        text = (Path(path).read_bytes() if data is None else data).decode("utf-8-sig")
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except OSError as error:
        return [IngestError(source, f"cannot read file: {error.strerror or error}")]
    except UnicodeDecodeError:
        return [IngestError(source, "cannot read file: not UTF-8")]
    except tomllib.TOMLDecodeError as error:  # its message ends "(at line L, column C)"
        return [IngestError(source, f"invalid TOML: {error}")]
    except json.JSONDecodeError as error:
        return [IngestError(source, f"invalid JSON: {error.msg} (column {error.colno})", error.lineno)]
    if not isinstance(data, dict):
        return [IngestError(source, "a mapping file holds a table (object) at the top")]
    problems = []
    tables: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if key == "relation":
            if not isinstance(value, str):
                problems.append(IngestError(source, "relation must be a string"))
        elif key not in MAPPING_TABLES:
            problems.append(IngestError(source, f"unknown key {key!r}; use {', '.join(MAPPING_TABLES)} or relation"))
        elif not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            problems.append(IngestError(source, f"[{key}] must map names to names (strings)"))
        else:
            tables[key] = value
    if problems:
        return problems
    return Mapping(**tables, relation=data.get("relation"))


def read_annotation_file(
    path_or_bytes: str | os.PathLike[str] | bytes,
    format: str,
    mapping: Mapping | None = None,
    *,
    codebook: Codebook | None = None,
    annotator: str | None = None,
    name: str = "<input>",
) -> Result:
    """IngestErrors (every problem found) and then document records (plain dicts) read
    from a file or its bytes; lines with problems give no record.

    ``codebook`` places doccano and Label Studio labels in span layers (with ``mapping``);
    ``annotator`` names whoever made annotations the file does not attribute to anyone;
    ``name`` is the file name problems mention when bytes are given.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if format == "brat":  # a folder or zip of files, not one file
        from .brat import read_brat

        return read_brat(path_or_bytes, mapping or Mapping(), codebook=codebook, annotator=annotator, name=name)
    if format == "techniques":  # a folder or zip of articles and label files, or a label file
        found = techniques.articles_and_labels(path_or_bytes, name)
        if isinstance(found, IngestError):
            return [found]
        reader = _Reader(name if isinstance(path_or_bytes, bytes) else str(path_or_bytes), mapping or Mapping(),
                         codebook, annotator)
        techniques.read(reader, *found)
        return [*reader.problems, *reader.records.values()]
    if isinstance(path_or_bytes, bytes):
        source, data = name, path_or_bytes
    else:
        source = str(path_or_bytes)
        try:
            data = Path(path_or_bytes).read_bytes()
        except OSError as error:
            return [IngestError(source, f"cannot read file: {error.strerror or error}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return [IngestError(source, "not UTF-8 (JSON files are UTF-8)", line)]
    reader = _Reader(source, mapping or Mapping(), codebook, annotator)
    if format == "jsonl":
        reader.jsonl(text)
    elif format == "doccano":
        reader.doccano(text)
    elif format == "conll":
        conll.read(reader, text)
    elif format == "sentence-csv":
        sentence_csv.read(reader, text)
    else:
        reader.labelstudio(text)
    return [*reader.problems, *reader.records.values()]


class _Reader:
    """Collects records (merged by document text) and problems while reading one file."""

    def __init__(self, source: str, mapping: Mapping, codebook: Codebook | None, annotator: str | None):
        self.source = source
        self.mapping = mapping
        self.codebook = codebook
        self.annotator = annotator
        self.records: dict[str, dict] = {}
        # (text, annotator) -> line where that annotator's work on the document was read.
        self.seen: dict[tuple[str, str], int] = {}
        self.problems: list[IngestError] = []

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(IngestError(self.source, message, line))

    def record(self, document: dict) -> dict:
        """The record of the document (by text), made on first sight."""
        return self.records.setdefault(document["text"], {"document": document, "annotations": []})

    def add(self, document: dict, entry: dict, line: int) -> None:
        """Merge one annotator's entry into the record of its document."""
        name = entry.get("annotator")
        if isinstance(name, str):
            first = self.seen.setdefault((document["text"], name), line)
            if first != line:
                self.problem(line, f"annotator {name!r} already annotated this document on line {first}")
                return
        self.record(document)["annotations"].append({**entry, "line": line})

    # -- this project's JSONL ----------------------------------------------------------------

    def jsonl(self, text: str) -> None:
        for line, item in self.json_lines(text):
            document = item.get("document")
            if not isinstance(document, dict) or not isinstance(document.get("text"), str):
                self.problem(line, "document must be an object with the document's text")
                continue
            if "annotations" in item:
                entries = item["annotations"]
                if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                    self.problem(line, "annotations must be an array of objects")
                    continue
                self.record(document)  # kept with no annotations too: the export has it
            elif "annotator" in item:
                entries = [{key: item[key] for key in ENTRY_KEYS if key in item}]
            else:
                self.problem(line, "a line has annotations (one line per document) or annotator "
                                   "(one line per document and annotator); this one has neither")
                continue
            # The source entities the line's spans link to go with each of its entries: a span's
            # entity_id names one of them (checked, and matched or made, by the import service).
            entities = item.get("entities", [])
            if not isinstance(entities, list) or not all(isinstance(e, dict) and is_id(e.get("id")) for e in entities):
                self.problem(line, "entities must be an array of objects, each with its id")
                continue
            for entry in entries:
                self.add(document, {**entry, "entities": entities} if entities else entry, line)

    def json_lines(self, text: str) -> Iterator[tuple[int, dict]]:
        # Only "\n" ends a line: JSON strings may hold U+2028 and other characters that
        # str.splitlines() would also split at.
        for line, content in enumerate(text.split("\n"), start=1):
            if not content.strip():
                continue
            try:
                item = json.loads(content)
            except json.JSONDecodeError as error:
                self.problem(line, f"invalid JSON: {error.msg} (column {error.colno})")
                continue
            if not isinstance(item, dict):
                self.problem(line, "each line must be a JSON object")
                continue
            yield line, item

    # -- doccano -----------------------------------------------------------------------------

    def doccano(self, text: str) -> None:
        """Entities and relations as doccano has them; the keys this project's doccano export
        adds (annotator, status, document fields, span_attributes, attributions,
        sentence_labels) are used where present, so that export loses nothing on re-import."""
        for line, item in self.json_lines(text):
            document_text = item.get("text")
            if not isinstance(document_text, str) or not document_text.strip():
                self.problem(line, "text is required (a string)")
                continue
            offset = _from_utf16(document_text)
            spans = self.spans(self.doccano_entities(item, line, offset), line)
            annotator = self.annotator_of(item.get("annotator", item.get("user")), "doccano", line)
            if "attributions" in item:
                attributions = self.own_attributions(spans, item["attributions"], line)
            else:
                attributions = self.attributions(spans, self.doccano_links(item, line), line)
            labels = self.doccano_sentence_labels(item.get("sentence_labels", []), offset, line)
            if spans is None or attributions is None or annotator is None or labels is None:
                continue
            extra = item.get("span_attributes") or {}
            for key, span in spans.items():
                attributes = extra.get(str(key)) if isinstance(extra, dict) else None
                if isinstance(attributes, dict):
                    span["attributes"] = attributes
            document = {key: item.get(key) for key in DOCUMENT_FIELDS} | {"text": document_text}
            self.add(document, {"annotator": annotator, "status": item.get("status", "done"),
                                "spans": list(spans.values()), "attributions": attributions,
                                "sentence_labels": labels}, line)

    def doccano_entities(self, item: dict, line: int, offset) -> list[tuple] | None:
        """(where, id, start, end, label) of each entity, in either shape, offsets in code points."""
        if "entities" in item:
            entities = item["entities"]
            if not isinstance(entities, list):
                self.problem(line, "entities must be an array")
                return None
            found = []
            for index, entity in enumerate(entities):
                where = f"entities[{index}]"
                if not isinstance(entity, dict) or not {"start_offset", "end_offset", "label"} <= entity.keys():
                    self.problem(line, f"{where} must have start_offset, end_offset and label")
                    continue
                if "id" in entity and not is_id(entity["id"]):
                    self.problem(line, f"{where}: id must be a string or an integer")
                    return None
                found.append((where, entity.get("id", where), entity["start_offset"], entity["end_offset"],
                              entity["label"]))
        else:
            labels = item.get("label", [])
            if not isinstance(labels, list) or not all(isinstance(t, list) and len(t) == 3 for t in labels):
                self.problem(line, "label must be an array of [start, end, label]")
                return None
            found = [(f"label[{index}]", f"label[{index}]", *triple) for index, triple in enumerate(labels)]
        placed = []
        for where, key, start, end, label in found:
            start, end = offset(start), offset(end)
            if start is None or end is None:
                self.problem(line, f"{where}: offsets must be integers within the text (UTF-16 code units, "
                                   "as doccano counts them)")
                return None
            placed.append((where, key, start, end, label, item["text"][start:end]))
        return placed

    def doccano_links(self, item: dict, line: int) -> list[tuple]:
        relations = item.get("relations") or []
        if not isinstance(relations, list):
            self.problem(line, "relations must be an array")
            return []
        links = []
        for index, relation in enumerate(relations):
            if not isinstance(relation, dict) or not {"from_id", "to_id", "type"} <= relation.keys():
                self.problem(line, f"relations[{index}] must have from_id, to_id and type")
            elif not (is_id(relation["from_id"]) and is_id(relation["to_id"])):
                self.problem(line, f"relations[{index}]: from_id and to_id must be strings or integers")
            else:
                links.append((f"relations[{index}]", relation["from_id"], relation["to_id"], relation["type"]))
        return links

    def doccano_sentence_labels(self, labels: object, offset, line: int) -> list[dict] | None:
        if not isinstance(labels, list) or not all(isinstance(label, dict) for label in labels):
            self.problem(line, "sentence_labels must be an array of objects")
            return None
        found = []
        for index, label in enumerate(labels):
            start = offset(label.get("start"))
            if start is None:
                self.problem(line, f"sentence_labels[{index}]: start must be an offset inside its sentence")
                return None
            found.append({key: label.get(key) for key in ("layer", "value", "unsure", "comment")} | {"start": start})
        return found

    # -- Label Studio ------------------------------------------------------------------------

    def labelstudio(self, text: str) -> None:
        try:
            tasks = list(_array_items(text))
        except json.JSONDecodeError as error:
            self.problem(error.lineno, f"invalid JSON: {error.msg} (column {error.colno})")
            return
        except ValueError as error:
            self.problem(1, str(error))
            return
        for number, (line, task) in enumerate(tasks, start=1):
            where = f"task {number}"
            data = task.get("data") if isinstance(task, dict) else None
            if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not data["text"].strip():
                self.problem(line, f"{where}: data.text is required (a string)")
                continue
            annotations = task.get("annotations", [])
            if not isinstance(annotations, list):
                self.problem(line, f"{where}: annotations must be an array")
                continue
            document = {key: data.get(key) for key in DOCUMENT_FIELDS} | {"text": data["text"]}
            for index, annotation in enumerate(annotations):
                if not isinstance(annotation, dict):
                    self.problem(line, f"{where}: annotations[{index}] must be an object")
                elif not annotation.get("was_cancelled"):
                    entry = _LabelStudioAnnotation(self, data["text"], f"{where}: annotations[{index}]", line)
                    if (made := entry.read(annotation)) is not None:
                        self.add(document, made, line)

    # -- shared by doccano and Label Studio --------------------------------------------------

    def annotator_of(self, value: Any, tool: str, line: int) -> str | None:
        """Who made the annotations: the file's name for them, else the caller's. Numeric user
        ids become "<tool>-user-<id>"; Label Studio user objects give their email."""
        if isinstance(value, dict):
            value = value.get("email") or value.get("username") or value.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{tool}-user-{value}"
        if isinstance(value, str) and value.strip():
            return value.strip()
        if self.annotator:
            return self.annotator
        self.problem(line, "the file does not say who annotated this; name the annotator (--annotator NAME)")
        return None

    def spans(self, entities: list[tuple] | None, line: int) -> dict[Any, dict] | None:
        """Span dicts by the file's entity id, from (where, id, start, end, label, covered text).
        Offsets and covered text are checked against the document by the import service."""
        if entities is None:
            return None
        spans: dict[Any, dict] = {}
        failed = False
        for where, key, start, end, label, covered in entities:
            placed = self.place(label, where, line)
            if placed is None or key in spans:
                if placed is not None:
                    self.problem(line, f"{where}: id {key!r} is used by another entity")
                failed = True
                continue
            spans[key] = {"id": len(spans) + 1, "layer": placed[0], "label": placed[1], "start": start,
                          "end": end, "text": covered, "attributes": {}}
        return None if failed else spans

    def place(self, label: Any, where: str, line: int, layer: str | None = None) -> tuple[str, str] | None:
        """(span layer, label) of the codebook for a label of the file (``layer``: the file's
        own layer name for it, used if the codebook has that layer with that label)."""
        if not isinstance(label, str):
            self.problem(line, f"{where}: label must be a string")
            return None
        target = self.mapping.labels.get(label, label)
        layers = {s.name: {x.name for x in s.labels} for s in self.codebook.span_layers} if self.codebook else {}
        if layer not in layers or target not in layers[layer]:
            layer = self.mapping.layers.get(target) or next((n for n, names in layers.items() if target in names), None)
        if layer is None:
            self.problem(line, f"{where}: label {label!r} is not a label of the codebook; map it in "
                               "[labels] (and [layers]) of the mapping file")
            return None
        return layer, target

    def relation(self, line: int):
        if self.codebook is None or not self.codebook.relations:
            self.problem(line, "the file has relations but the codebook declares none")
            return None
        try:
            return self.codebook.relation(self.mapping.relation or self.codebook.relations[0].name)
        except KeyError as error:
            self.problem(line, f"mapping: {error.args[0]}")
            return None

    def attributions(self, spans: dict[Any, dict] | None, links: list[tuple], line: int,
                     anchors: dict | None = None) -> list[dict] | None:
        """Binary relations (where, from id, to id, type) grouped into attributions.

        Each relation links an attribution's anchor (a CUE span: the end with the anchor
        role's label, else the ``from`` end) to one other part; relations from the same anchor
        (region) make one attribution. A part's role is the relation type (through [roles])
        where that names a role, else the role its span's label plays.
        """
        if not links:
            return []
        if spans is None or (relation := self.relation(line)) is None:
            return None
        anchor_role = relation.role(relation.anchor)
        by_label = {}
        for role in relation.roles:
            by_label.setdefault(role.label, role)
        units: dict[Any, dict] = {}
        failed = False
        for where, from_id, to_id, kind in links:
            keys = [from_id, to_id]
            if from_id in spans and to_id in spans and spans[from_id]["label"] != anchor_role.label \
                    and spans[to_id]["label"] == anchor_role.label:
                keys.reverse()
            missing = [key for key in keys if key not in spans]
            if missing:
                self.problem(line, f"{where}: links to {missing[0]!r}, which is not an entity of this document")
                failed = True
                continue
            head, other = spans[keys[0]], spans[keys[1]]
            head_role = anchor_role if head["label"] == anchor_role.label else by_label.get(head["label"])
            named = self.mapping.roles.get(kind, kind) if isinstance(kind, str) else None
            role = next((r for r in relation.roles if r.name == named), None) or by_label.get(other["label"])
            if head_role is None or role is None:
                self.problem(line, f"{where}: {head['label']} and {other['label']} spans play no roles of "
                                   f"relation {relation.name!r}; map the relation type in [roles]")
                failed = True
                continue
            unit = units.setdefault(keys[0], {"relation": relation.name, "attributes": {},
                                              "parts": [{"role": head_role.name, "span_id": head["id"]}]})
            unit["parts"].append({"role": role.name, "span_id": other["id"]})
            if anchors and keys[0] in anchors:
                unit["attributes"] = anchors[keys[0]]
        return None if failed else list(units.values())

    def own_attributions(self, spans: dict[Any, dict] | None, items: object, line: int) -> list[dict] | None:
        """The attributions this project's doccano export carries along, parts by entity id."""
        if spans is None:
            return None
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("parts"), list)
                                                  for i in items):
            self.problem(line, "attributions must be an array of objects with parts")
            return None
        found = []
        for index, item in enumerate(items):
            parts = []
            for part in item["parts"]:
                span = spans.get(part.get("span_id")) if isinstance(part, dict) and is_id(part.get("span_id")) else None
                if span is None:
                    self.problem(line, f"attributions[{index}]: a part refers to no entity of this document")
                    return None
                parts.append({"role": part.get("role"), "span_id": span["id"]})
            found.append({"relation": item.get("relation"), "attributes": item.get("attributes") or {},
                          "parts": parts})
        return found


class _LabelStudioAnnotation:
    """One Label Studio annotation -> one annotation entry, read as this project's Label
    Studio export writes it (annotator.exporters.labelstudio): labels regions named after
    span layers, per-region choices for span attributes (``<layer>.<attribute>``),
    attribution attributes on the anchor (``relation.<relation>.<attribute>``) and sentence
    values on sentence regions (the choice layer's name, ``<layer>.unsure``, and a
    ``<layer>.comment`` textarea). Plain Label Studio projects need only labels, relation
    items and, for sentence values, per-region choices whose from_name [choices] maps."""

    SENTENCE_CONTROL = "sentence-region"

    def __init__(self, reader: _Reader, text: str, where: str, line: int):
        self.reader, self.text, self.where, self.line = reader, text, where, line
        self.regions: list[tuple] = []  # (where, region id, start, end, label, covered)
        self.layers: dict[Any, str] = {}  # region id -> from_name of its labels result
        self.sentences: dict[Any, int] = {}  # sentence region id -> its start
        self.span_attributes: dict[Any, dict] = {}
        self.anchor_attributes: dict[Any, dict] = {}
        self.labels: dict[tuple, dict] = {}  # (region id, layer) -> sentence label
        self.links: list[tuple] = []
        self.failed = False

    def problem(self, at: str, message: str) -> None:
        self.reader.problem(self.line, f"{at}: {message}")
        self.failed = True

    def read(self, annotation: dict) -> dict | None:
        results = annotation.get("result", [])
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            self.problem(self.where, "result must be an array of objects")
            return None
        for index, result in enumerate(results):
            self.result(f"{self.where}.result[{index}]", result)
        spans = self.merged_spans()
        attributions = self.reader.attributions(spans, self.links, self.line, self.anchor_attributes)
        annotator = self.reader.annotator_of(annotation.get("completed_by"), "labelstudio", self.line)
        if self.failed or spans is None or attributions is None or annotator is None:
            return None
        return {"annotator": annotator, "status": "done", "spans": _unique(spans.values()),
                "attributions": attributions, "sentence_labels": list(self.labels.values())}

    def result(self, at: str, result: dict) -> None:
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        kind, name, region = result.get("type"), result.get("from_name"), result.get("id")
        if kind == "relation":
            if not (is_id(result.get("from_id")) and is_id(result.get("to_id"))):
                self.problem(at, "a relation needs from_id and to_id (region ids: strings or integers)")
                return
            labels = result.get("labels") or [None]
            self.links.append((at, result.get("from_id"), result.get("to_id"), labels[0]))
            return
        if region is not None and not is_id(region):
            self.problem(at, "id must be a string or an integer")
            return
        if not isinstance(value.get("start"), int) or not isinstance(value.get("end"), int):
            self.problem(at, "value.start and value.end (code point offsets) are required")
            return
        if kind == "labels":
            labels = value.get("labels")
            if not isinstance(labels, list) or len(labels) != 1:
                self.problem(at, "a region needs exactly one label in value.labels")
            elif name == self.SENTENCE_CONTROL:
                self.sentences[region] = value["start"]
            else:
                covered = value.get("text", self.text[value["start"]:value["end"]])
                self.regions.append((at, region, value["start"], value["end"], labels[0], covered))
                self.layers[region] = name
        elif kind in ("choices", "textarea"):
            self.choice(at, kind, name, region, value)
        else:
            self.problem(at, f"result type {kind!r} is not supported (labels, relation, choices)")

    def choice(self, at: str, kind: str, name: Any, region: Any, value: dict) -> None:
        chosen = value.get("choices") if kind == "choices" else value.get("text")
        if not isinstance(name, str) or not isinstance(chosen, list) or not chosen:
            self.problem(at, "a choice needs from_name and a non-empty value.choices (or textarea value.text)")
            return
        codebook = self.reader.codebook
        choice_layers = {layer.name: layer for layer in codebook.choice_layers} if codebook else {}
        span_layers = {layer.name for layer in codebook.span_layers} if codebook else set()
        head, _, tail = name.rpartition(".")
        mapped = self.reader.mapping.choices.get(name, name)
        if kind == "choices" and mapped in choice_layers:
            label = self.sentence_label(region, mapped, value["start"])
            label["value"] = chosen if choice_layers[mapped].multiple else chosen[0]
        elif kind == "choices" and tail == "unsure" and head in choice_layers:
            self.sentence_label(region, head, value["start"])["unsure"] = True
        elif kind == "textarea" and tail == "comment" and head in choice_layers:
            self.sentence_label(region, head, value["start"])["comment"] = "\n".join(map(str, chosen))
        elif kind == "choices" and head.startswith("relation.") and len(chosen) == 1:
            self.anchor_attributes.setdefault(region, {})[tail] = chosen[0]
        elif kind == "choices" and head in span_layers and len(chosen) == 1:
            self.span_attributes.setdefault(region, {})[tail] = chosen[0]
        else:
            self.problem(at, f"from_name {name!r} is neither a sentence layer of the codebook nor mapped to "
                             "one in [choices] of the mapping file")

    def sentence_label(self, region: Any, layer: str, start: int) -> dict:
        return self.labels.setdefault((region, layer), {"start": self.sentences.get(region, start),
                                                        "layer": layer, "value": None, "unsure": False,
                                                        "comment": None})

    def merged_spans(self) -> dict[Any, dict] | None:
        """Spans by region id; regions with the same layer, label and offsets (an anchor copied
        for a second attribution) share one span."""
        regions = []
        for at, region, start, end, label, covered in self.regions:
            placed = self.reader.place(label, at, self.line, self.layers.get(region))
            if placed is None:
                self.failed = True
            else:
                regions.append((at, region, start, end, placed, covered))
        spans: dict[Any, dict] = {}
        first: dict[tuple, dict] = {}
        for at, region, start, end, (layer, label), covered in regions:
            if region in spans:
                self.problem(at, f"region id {region!r} is used by another region")
                continue
            span = first.setdefault((layer, label, start, end), {
                "id": len(first) + 1, "layer": layer, "label": label, "start": start, "end": end,
                "text": covered, "attributes": {}})
            span["attributes"].update(self.span_attributes.get(region, {}))
            spans[region] = span
        return None if self.failed else spans


def is_id(value: object) -> bool:
    """Whether ``value`` can be an id in an annotation file (of an entity, a region, a span):
    a string or an integer. Ids are looked up, so a list or an object is a problem, not a crash."""
    return isinstance(value, int | str) and not isinstance(value, bool)


def _unique(spans) -> list[dict]:
    return list({span["id"]: span for span in spans}.values())


def _from_utf16(text: str):
    """Maps an offset in UTF-16 code units (doccano's, JavaScript's) to one in code points
    (Python's); None for an offset that is not an integer at a character boundary."""
    if not text or max(text) < "\U00010000":
        return lambda offset: offset if isinstance(offset, int) and not isinstance(offset, bool) \
            and 0 <= offset <= len(text) else None
    points, units = {}, 0
    for index, char in enumerate(text):
        points[units] = index
        units += 2 if ord(char) > 0xFFFF else 1
    points[units] = len(text)
    return lambda offset: points.get(offset) if isinstance(offset, int) and not isinstance(offset, bool) else None


def _array_items(text: str) -> Iterator[tuple[int, Any]]:
    """The items of a top-level JSON array with the line each starts on."""
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if not text.startswith("[", index):
        raise ValueError("a Label Studio export is a JSON array of tasks")
    index = _skip_space(text, index + 1)
    if text.startswith("]", index):
        return
    while True:
        item, end = decoder.raw_decode(text, index)
        yield text.count("\n", 0, index) + 1, item
        index = _skip_space(text, end)
        if text.startswith("]", index):
            if text[_skip_space(text, index + 1):]:
                raise json.JSONDecodeError("extra data after the array", text, index + 1)
            return
        if not text.startswith(",", index):
            raise json.JSONDecodeError("expected ',' or ']'", text, index)
        index = _skip_space(text, index + 1)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
