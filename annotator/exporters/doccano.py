"""doccano JSONL for a sequence-labelling project with relations: one line per document ×
annotator, ``{"id", "text", "entities", "relations", ...}`` as doccano itself exports it.

Spans become entities (span id, offsets, label) and attributions become relations from
their anchor to each other part, typed by role (see standoff.py). Everything doccano has no
place for rides along as top-level keys, which doccano keeps as the example's metadata:
annotator, status, document fields, span attributes, the attributions themselves and the
sentence labels (doccano's categories are per document, not per sentence).

Offsets are in UTF-16 code units, because that is what doccano's editor counts (doccano
issue #2290); they equal Python's code point offsets unless the text has characters outside
the Basic Multilingual Plane, such as emoji. docs/interop.md has the import settings.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator

from ..codebook import Codebook
from .records import annotator_lines
from .standoff import attribution_links, span_layers

MEDIA_TYPE = "application/jsonl"
EXTENSION = "jsonl"


def export(records: Iterable[dict], codebook: Codebook, *, layer: str | None = None) -> Iterator[str]:
    """All span layers, or only ``layer`` (and the attributions on it)."""
    return _lines(records, codebook, span_layers(codebook, layer))


def utf16_offsets(text: str) -> Callable[[int], int]:
    """Maps a code point offset into ``text`` to the UTF-16 code unit offset."""
    if not text or max(text) < "\U00010000":
        return int
    units = itertools.accumulate((2 if ord(char) > 0xFFFF else 1 for char in text), initial=0)
    return list(units).__getitem__


def _lines(records: Iterable[dict], codebook: Codebook, layers: tuple[str, ...]) -> Iterator[str]:
    # doccano matches relations to entities by id across the whole upload.
    relation_ids = itertools.count(1)
    for line in annotator_lines(records):
        document = line["document"]
        offset = utf16_offsets(document["text"])
        spans = [span for span in line["spans"] if span["layer"] in layers]
        relations, attributions = [], []
        for linked in attribution_links(line, codebook, layers):
            relations.extend(
                {"id": next(relation_ids), "from_id": linked.anchor["id"], "to_id": span["id"],
                 "type": role}
                for role, span in linked.links
            )
            attribution = linked.attribution
            attributions.append({key: attribution[key] for key in ("id", "relation", "attributes", "parts")})
        sentences = {sentence["id"]: sentence for sentence in document["sentences"]}
        example = {
            "id": document["id"],
            "text": document["text"],
            "entities": [
                {"id": span["id"], "start_offset": offset(span["start"]),
                 "end_offset": offset(span["end"]), "label": span["label"]}
                for span in spans
            ],
            "relations": relations,
            "annotator": line["annotator"],
            "status": line["status"],
            "project": line["project"],
            "codebook_version": line["codebook_version"],
            **{key: document[key] for key in ("title", "url", "outlet", "published", "language", "metadata")},
            "span_attributes": {
                str(span["id"]): span["attributes"] for span in spans if span["attributes"]
            },
            "attributions": attributions,
            "sentence_labels": [
                {"start": offset(sentences[label["sentence_id"]]["start"]),
                 "end": offset(sentences[label["sentence_id"]]["end"]),
                 **{key: label[key] for key in ("sentence_id", "layer", "value", "unsure", "comment")}}
                for label in line["sentence_labels"]
            ],
        }
        yield json.dumps(example, ensure_ascii=False) + "\n"
