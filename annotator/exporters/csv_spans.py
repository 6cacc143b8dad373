"""Tidy CSV, one row per span (per span and attribution when a span is part of several).

Columns and the rules below: docs/export-format.md. Every cell a spreadsheet could take for
a formula is neutralised (OWASP "CSV injection"): a text cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading single quote, unless the whole cell
is a plain number such as ``-3`` or ``+1.5`` (harmless, and kept as a number).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence

from ..codebook import Codebook
from ..errors import ServiceError

MEDIA_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csv"
BOM = "\ufeff"

FORMULA_START = "=+-@\t\r"  # first characters that make a spreadsheet read a formula
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
LIST_SEPARATOR = "|"  # between the values of a multiple-choice value in one cell

DOCUMENT_COLUMNS = ("project", "document_id", "title", "url", "outlet")
SENTENCE_COLUMNS = ("sentence_id", "sentence_position", "sentence_text", "annotator")


def cell(value) -> object:
    """A value as a CSV cell: None empty, booleans true/false, lists joined, text made safe."""
    kind = type(value)
    if kind is int:  # the commonest cells first: this runs for every cell of every row
        return value
    if kind is str:
        if value and value[0] in FORMULA_START and not NUMBER.fullmatch(value):
            return "'" + value
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is list or kind is tuple:
        return cell(LIST_SEPARATOR.join(map(str, value)))
    return value


def csv_chunks(header: Sequence[str], documents: Iterable[list[Sequence]], *, bom: bool) -> Iterator[str]:
    """The header, then one chunk per document: its rows, written by the csv module (RFC 4180
    quoting, CRLF line ends) with one ``writerows`` call into a buffer emptied after each.

    Rows come with their cells already passed through :func:`cell` where they hold text from
    outside the codebook (a document's or sentence's once, not once per span: it is the
    costliest step per row); numbers, codebook names and timestamps need no neutralising."""
    lines: list[str] = []
    writer = csv.writer(_Appender(lines.append))  # the C writer makes one write() call per row
    writer.writerow(header)
    yield (BOM if bom else "") + lines.pop()
    for rows in documents:
        writer.writerows(rows)
        if lines:
            yield "".join(lines)
            lines.clear()


class _Appender:
    def __init__(self, write):
        self.write = write


def document_cells(record: dict) -> list:
    """The cells of DOCUMENT_COLUMNS."""
    document = record["document"]
    return [cell(record["project"]), document["id"], cell(document["title"]), cell(document["url"]),
            cell(document["outlet"])]


def fragment_cell(fragments: list[list[int]] | None) -> str:
    """A discontinuous span's fragments as brat writes offsets, ``START END;START END``;
    empty for a contiguous span."""
    return ";".join(f"{start} {end}" for start, end in fragments or ())


def span_attribute_names(codebook: Codebook) -> list[str]:
    """Every span attribute of the codebook (layer's, then labels'), each name once."""
    names: dict[str, None] = {}
    for layer in codebook.span_layers:
        for attribute in layer.attributes + tuple(a for label in layer.labels for a in label.attributes):
            names[attribute.name] = None
    return list(names)


def relation_attribute_names(codebook: Codebook) -> list[str]:
    names: dict[str, None] = {}
    for relation in codebook.relations:
        for attribute in relation.attributes:
            names[attribute.name] = None
    return list(names)


def columns(codebook: Codebook) -> list[str]:
    return [
        *DOCUMENT_COLUMNS, *SENTENCE_COLUMNS, "layer", "label", "start", "end", "sentence_start", "sentence_end",
        "text", "fragments", "comment", "entity_id", "entity_name", *(f"attr_{name}" for name in span_attribute_names(codebook)),
        "attribution_id", "role", *(f"attribution_{name}" for name in relation_attribute_names(codebook)),
        "codebook_version", "created_at", "updated_at",
    ]


def export(records: Iterable[dict], codebook: Codebook, *, layer: str | None = None, bom: bool = False) -> Iterator[str]:
    """``layer``: only the spans of this span layer."""
    if layer is not None and layer not in {span_layer.name for span_layer in codebook.span_layers}:
        raise ServiceError(f"{layer!r} is not a span layer of this codebook", field="layer")
    return csv_chunks(columns(codebook), _rows(records, codebook, layer), bom=bom)


def _rows(records: Iterable[dict], codebook: Codebook, only_layer: str | None) -> Iterator[list[list]]:
    """The rows of each document, one list per document."""
    span_attributes = span_attribute_names(codebook)
    relation_attributes = relation_attribute_names(codebook)
    no_roles = [[None, None] + [None] * len(relation_attributes)]  # a span in no attribution
    no_values = [""] * len(span_attributes)  # a span without attributes (most spans)
    for record in records:
        document = record["document"]
        text = document["text"]
        head = document_cells(record)
        codebook_version = record["codebook_version"]
        entity_names = {entity["id"]: cell(entity["name"]) for entity in record.get("entities", ())}
        # sentence id -> (start, the row's cells up to the sentence text): once per document
        sentences = {s["id"]: (s["start"], [*head, s["id"], s["position"], cell(text[s["start"] : s["end"]])])
                     for s in document["sentences"]}
        rows = []
        add = rows.append
        for entry in record["annotations"]:
            roles: dict[int, list[list]] = {}  # span id -> [attribution id, role, attribute values...]
            for attribution in entry["attributions"]:
                values = [cell(attribution["attributes"].get(name)) for name in relation_attributes]
                for part in attribution["parts"]:
                    roles.setdefault(part["span_id"], []).append([attribution["id"], part["role"], *values])
            annotator = cell(entry["annotator"])
            prefixes = {sid: (offset, [*cells, annotator]) for sid, (offset, cells) in sentences.items()}
            for span in entry["spans"]:
                if only_layer is not None and span["layer"] != only_layer:
                    continue
                offset, prefix = prefixes[span["sentence_id"]]
                start, end, attributes = span["start"], span["end"], span["attributes"]
                layer, label, covered = span["layer"], span["label"], cell(span["text"])
                marked = fragment_cell(span.get("fragments"))
                comment = cell(span.get("comment"))
                entity_id = span.get("entity_id")
                values = [cell(attributes.get(name)) for name in span_attributes] if attributes else no_values
                created, updated = span["created_at"], span["updated_at"]
                for attribution in roles.get(span["id"], no_roles):
                    add([*prefix, layer, label, start, end, start - offset, end - offset, covered, marked, comment,
                         entity_id, entity_names.get(entity_id), *values,
                         *attribution, codebook_version, created, updated])
        yield rows
