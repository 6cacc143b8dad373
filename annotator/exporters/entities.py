"""A project's registry of source entities as a file: JSON Lines (one entity per line) or CSV
(one row per entity), as annotator.services.entities.registry_records gives them
(docs/export-format.md, "The registry of sources"). No database here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ..errors import ServiceError
from .csv_spans import cell, csv_chunks

COLUMNS = ("id", "name", "kind", "affiliation", "anonymity", "wikidata_id", "gender", "aliases", "merged_into_id",
           "mentions", "documents")
# format name -> (media type, file extension)
FORMATS = {"jsonl": ("application/jsonl", "jsonl"), "csv": ("text/csv; charset=utf-8", "csv")}


def export(entities: Iterable[dict], format_name: str, *, bom: bool = False) -> Iterator[str]:
    if format_name not in FORMATS:
        raise ServiceError(f"the registry is exported as {' or '.join(FORMATS)}, not {format_name!r}", field="format")
    if format_name == "jsonl":
        return (json.dumps(entity, ensure_ascii=False) + "\n" for entity in entities)
    rows = ([[cell(entity[column]) for column in COLUMNS]] for entity in entities)
    return csv_chunks(COLUMNS, rows, bom=bom)
