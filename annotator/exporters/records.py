"""Helpers over document records (docs/export-format.md), shared by the exporters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

ANNOTATION_KEYS = ("annotator", "status", "spans", "attributions", "sentence_labels")


def annotator_lines(records: Iterable[dict]) -> Iterator[dict]:
    """One dict per document × annotator: the annotation entry's keys lifted beside
    ``project``, ``codebook_version`` and ``document`` (the per-annotator JSONL line), and the
    source entities of the record its spans link to, if any (``entities``)."""
    for record in records:
        for entry in record["annotations"]:
            line = {
                "project": record["project"],
                "codebook_version": record["codebook_version"],
                "document": record["document"],
                **{key: entry[key] for key in ANNOTATION_KEYS},
            }
            linked = {span["entity_id"] for span in entry["spans"] if "entity_id" in span}
            if linked:
                line["entities"] = [entity for entity in record["entities"] if entity["id"] in linked]
            yield line
