"""Sentence-level CSV: one row per sentence × annotator, with each choice layer's value and
its unsure flag and comment (docs/export-format.md). Cells as in :mod:`.csv_spans`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..codebook import Codebook
from ..errors import ServiceError
from .csv_spans import DOCUMENT_COLUMNS, EXTENSION, MEDIA_TYPE, SENTENCE_COLUMNS, cell, csv_chunks, document_cells

__all__ = ["EXTENSION", "MEDIA_TYPE", "export"]


def columns(layers: list[str]) -> list[str]:
    per_layer = [name for layer in layers for name in (layer, f"{layer}_unsure", f"{layer}_comment")]
    return [*DOCUMENT_COLUMNS, *SENTENCE_COLUMNS, "status", *per_layer, "codebook_version"]


def export(records: Iterable[dict], codebook: Codebook, *, layer: str | None = None, bom: bool = False) -> Iterator[str]:
    """``layer``: only this choice layer's columns."""
    layers = [choice_layer.name for choice_layer in codebook.choice_layers]
    if layer is not None:
        if layer not in layers:
            raise ServiceError(f"{layer!r} is not a sentence (choice) layer of this codebook", field="layer")
        layers = [layer]
    return csv_chunks(columns(layers), _rows(records, layers), bom=bom)


def _rows(records: Iterable[dict], layers: list[str]) -> Iterator[list[list]]:
    """The rows of each document, one list per document."""
    for record in records:
        document = record["document"]
        text = document["text"]
        head = document_cells(record)
        sentences = [(s["id"], s["position"], cell(text[s["start"] : s["end"]])) for s in document["sentences"]]
        rows = []
        for entry in record["annotations"]:
            labels = {(label["sentence_id"], label["layer"]): label for label in entry["sentence_labels"]}
            annotator = cell(entry["annotator"])
            for sentence_id, position, sentence_text in sentences:
                row = [*head, sentence_id, position, sentence_text, annotator, entry["status"]]
                for layer in layers:
                    label = labels.get((sentence_id, layer))
                    row += [cell(label["value"]), cell(label["unsure"]), cell(label["comment"])] if label else [None] * 3
                row.append(record["codebook_version"])
                rows.append(row)
        yield rows
