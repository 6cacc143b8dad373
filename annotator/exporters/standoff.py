"""What the interop exporters (doccano, Label Studio, brat, CoNLL) share: the ``layer``
option and the reading of an attribution as links from one anchor span to its other parts.

Those tools link two spans at a time; an attribution links any number. Each becomes links
from its anchor (the relation's anchor role, the cue) to every other part, typed by that
part's role; an attribution without its anchor is anchored on the part whose role the
codebook lists first (the source). docs/interop.md describes the mapping per format.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..codebook import Codebook
from ..errors import ServiceError


def span_layers(codebook: Codebook, layer: str | None, *, required: bool = False) -> tuple[str, ...]:
    """The span layers an export covers: all of them, or only ``layer``."""
    names = tuple(span_layer.name for span_layer in codebook.span_layers)
    if layer is None:
        if required:
            raise ServiceError(f"choose a span layer: one of {', '.join(names)}", field="layer")
        return names
    if layer not in names:
        raise ServiceError(f"{layer!r} is not a span layer; choose one of {', '.join(names)}",
                           field="layer")
    return (layer,)


@dataclass(frozen=True)
class AttributionLinks:
    attribution: dict
    anchor: dict
    # (role, span) of every part but the anchor, in the attribution's order.
    links: tuple[tuple[str, dict], ...]
    # The anchor already anchors an earlier attribution of the same annotator. Formats that
    # hang attribution attributes on the anchor span give this one a copy of the span.
    shared_anchor: bool


def attribution_links(entry: dict, codebook: Codebook, layers: tuple[str, ...]) -> Iterator[AttributionLinks]:
    """The attributions of one annotation entry whose relation lies on one of ``layers``,
    with parts resolved to the entry's span dicts."""
    spans = {span["id"]: span for span in entry["spans"]}
    anchored: set = set()
    for attribution in entry["attributions"]:
        relation = codebook.relation(attribution["relation"])
        if relation.layer not in layers:
            continue
        parts = [(part["role"], spans[part["span_id"]]) for part in attribution["parts"]]
        if not parts:
            continue
        role_order = [role.name for role in relation.roles]
        _, anchor = min(
            parts, key=lambda part: (part[0] != relation.anchor, role_order.index(part[0]))
        )
        yield AttributionLinks(
            attribution=attribution,
            anchor=anchor,
            links=tuple(part for part in parts if part[1] is not anchor),
            shared_anchor=anchor["id"] in anchored,
        )
        anchored.add(anchor["id"])
