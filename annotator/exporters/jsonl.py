"""JSON Lines: one line per document × annotator, or (``per_document``) one per document
holding every annotator's work (docs/export-format.md, with a JSON Schema for each)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ..codebook import Codebook
from .records import annotator_lines

MEDIA_TYPE = "application/jsonl"
EXTENSION = "jsonl"


def export(records: Iterable[dict], codebook: Codebook, *, per_document: bool = False) -> Iterator[str]:
    return _lines(records if per_document else annotator_lines(records))


def _lines(items: Iterable[dict]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item, ensure_ascii=False) + "\n"
