"""Helpers over document records (docs/export-format.md), shared by the exporters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

ANNOTATION_KEYS = ("annotator", "status", "spans", "attributions", "sentence_labels")


def annotator_lines(records: Iterable[dict]) -> Iterator[dict]:
    """One dict per document × annotator: the annotation entry's keys lifted beside
    ``project``, ``codebook_version`` and ``document`` (the per-annotator JSONL line)."""
    for record in records:
        for entry in record["annotations"]:
            yield {
                "project": record["project"],
                "codebook_version": record["codebook_version"],
                "document": record["document"],
                **{key: entry[key] for key in ANNOTATION_KEYS},
            }
