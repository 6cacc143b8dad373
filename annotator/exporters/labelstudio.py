"""Label Studio JSON: one array of tasks, one task per document with one annotation per
annotator, and the labeling config (``labeling_config``) that the tasks are made for.

Result items, all on the ``<Text name="text">`` object (docs/interop.md has the details):

* a span is a ``labels`` region whose ``from_name`` is its span layer;
* a span attribute is a per-region ``choices`` item on the same region id, from the
  control ``<layer>.<attribute>``;
* an attribution is a ``relation`` from its anchor region to each other part, labelled
  with the part's role; its attributes are per-region ``choices`` on the anchor region,
  from ``relation.<relation>.<attribute>`` (an anchor shared by two attributions is copied, so that
  each copy carries one attribution's values);
* a labelled sentence is a ``labels`` region of the control ``sentence-region`` (label
  ``SENTENCE``), and its values are per-region ``choices`` from the control named after the
  choice layer, with ``<layer>.unsure`` (choices) and ``<layer>.comment`` (textarea).
  Label Studio has no per-sentence choice on one text, so the sentence is made a region.

Offsets are code points, as Label Studio counts them in Text (its editor test
web/libs/editor/tests/integration/e2e/ner/emoji.cy.ts: "Should calculate offsets by code
points in text"), which is what Python's str offsets are.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import quoteattr

from ..codebook import Attribute, Codebook
from .standoff import attribution_links, span_layers

MEDIA_TYPE = "application/json"
EXTENSION = "json"

TEXT = "text"
# Not a valid codebook name (those are [A-Za-z0-9_]+), so it cannot clash with a layer.
SENTENCE_CONTROL = "sentence-region"
SENTENCE_LABEL = "SENTENCE"
DOCUMENT_FIELDS = ("title", "url", "outlet", "published", "language", "metadata")


def export(records: Iterable[dict], codebook: Codebook, *, layer: str | None = None) -> Iterator[str]:
    """All span layers, or only ``layer`` (and the attributions on it); sentence labels always."""
    return _tasks(records, codebook, span_layers(codebook, layer))


def _tasks(records: Iterable[dict], codebook: Codebook, layers: tuple[str, ...]) -> Iterator[str]:
    annotation_ids = itertools.count(1)
    yield "["
    for index, record in enumerate(records):
        document = record["document"]
        task = {
            "id": document["id"],
            "data": {
                TEXT: document["text"],
                "document_id": document["id"],
                "project": record["project"],
                "codebook_version": record["codebook_version"],
                **{key: document[key] for key in DOCUMENT_FIELDS},
            },
            "annotations": [
                _annotation(next(annotation_ids), document, entry, codebook, layers)
                for entry in record["annotations"]
            ],
        }
        yield ("\n" if index == 0 else ",\n") + json.dumps(task, ensure_ascii=False)
    yield "\n]\n"


def _annotation(annotation_id: int, document: dict, entry: dict, codebook: Codebook,
                layers: tuple[str, ...]) -> dict:
    text = document["text"]
    result: list[dict] = []

    def region(region_id: str, from_name: str, kind: str, start: int, end: int, value: dict) -> None:
        result.append({
            "id": region_id, "from_name": from_name, "to_name": TEXT, "type": kind,
            "value": {"start": start, "end": end, "text": text[start:end], **value},
        })

    def span_region(region_id: str, span: dict) -> None:
        region(region_id, span["layer"], "labels", span["start"], span["end"], {"labels": [span["label"]]})
        for name, value in span["attributes"].items():
            if value is not None:
                region(region_id, f"{span['layer']}.{name}", "choices", span["start"], span["end"],
                       {"choices": [value]})

    for span in entry["spans"]:
        if span["layer"] in layers:
            span_region(f"span-{span['id']}", span)
    for linked in attribution_links(entry, codebook, layers):
        attribution, anchor = linked.attribution, linked.anchor
        anchor_id = f"span-{anchor['id']}"
        if linked.shared_anchor:
            anchor_id = f"{anchor_id}-attribution-{attribution['id']}"
            span_region(anchor_id, anchor)
        for name, value in attribution["attributes"].items():
            if value is not None:
                region(anchor_id, _relation_control(attribution["relation"], name), "choices", anchor["start"],
                       anchor["end"], {"choices": [value]})
        result.extend(
            {"from_id": anchor_id, "to_id": f"span-{span['id']}", "type": "relation",
             "direction": "right", "labels": [role]}
            for role, span in linked.links
        )
    sentences = {sentence["id"]: sentence for sentence in document["sentences"]}
    labelled: set = set()
    for label in entry["sentence_labels"]:
        sentence = sentences[label["sentence_id"]]
        start, end, layer = sentence["start"], sentence["end"], label["layer"]
        region_id = f"sentence-{sentence['id']}"
        if sentence["id"] not in labelled:
            labelled.add(sentence["id"])
            region(region_id, SENTENCE_CONTROL, "labels", start, end, {"labels": [SENTENCE_LABEL]})
        value = label["value"]
        if value is not None:  # None: only the unsure flag or the comment is set
            region(region_id, layer, "choices", start, end, {"choices": value if isinstance(value, list) else [value]})
        if label["unsure"]:
            region(region_id, f"{layer}.unsure", "choices", start, end, {"choices": ["unsure"]})
        if label["comment"]:
            # A per-region textarea's "text" is its content, not the region's text.
            region(region_id, f"{layer}.comment", "textarea", start, end, {"text": [label["comment"]]})

    times = [
        item[key]
        for item in itertools.chain(entry["spans"], entry["attributions"], entry["sentence_labels"])
        for key in ("created_at", "updated_at") if item.get(key)
    ]
    annotation = {
        "id": annotation_id,
        "completed_by": entry["annotator"],
        "result": result,
        "was_cancelled": False,
        "ground_truth": entry["annotator"] == "gold",
    }
    if times:
        annotation.update(created_at=min(times), updated_at=max(times))
    return annotation


def labeling_config(codebook: Codebook) -> str:
    """The Label Studio labeling config (XML) that the exported tasks fit: paste it into the
    project's Settings → Labeling Interface → Code before importing the JSON."""
    lines = ["<View>", '  <Header value="$title"/>', f'  <Text name="{TEXT}" value="${TEXT}"/>']
    for span_layer in codebook.span_layers:
        lines.append(f"  <Labels name={quoteattr(span_layer.name)} toName=\"{TEXT}\">")
        lines.extend(
            f"    <Label value={quoteattr(label.name)} background={quoteattr(label.color)}"
            f" hint={quoteattr(label.description)}/>"
            for label in span_layer.labels
        )
        lines.append("  </Labels>")
        for attribute in span_layer.attributes:
            lines += _choices(f"{span_layer.name}.{attribute.name}", attribute,
                              [label.name for label in span_layer.labels])
        for label in span_layer.labels:
            for attribute in label.attributes:
                lines += _choices(f"{span_layer.name}.{attribute.name}", attribute, [label.name])
    roles = list(dict.fromkeys(role.name for relation in codebook.relations for role in relation.roles))
    if roles:
        lines.append("  <Relations>")
        lines.extend(f"    <Relation value={quoteattr(role)}/>" for role in roles)
        lines.append("  </Relations>")
    for relation in codebook.relations:
        anchor_label = relation.role(relation.anchor).label
        for attribute in relation.attributes:
            lines += _choices(_relation_control(relation.name, attribute.name), attribute, [anchor_label])
    if codebook.choice_layers:
        lines.append(f"  <Labels name=\"{SENTENCE_CONTROL}\" toName=\"{TEXT}\">")
        lines.append(f"    <Label value=\"{SENTENCE_LABEL}\" background=\"#bab0ac\"/>")
        lines.append("  </Labels>")
    for choice_layer in codebook.choice_layers:
        when = f'perRegion="true" visibleWhen="region-selected" whenLabelValue="{SENTENCE_LABEL}"'
        choice = "multiple" if choice_layer.multiple else "single"
        lines.append(f"  <Choices name={quoteattr(choice_layer.name)} toName=\"{TEXT}\" {when}"
                     f" choice=\"{choice}\">")
        lines.extend(f"    <Choice value={quoteattr(value.name)} hint={quoteattr(value.description)}/>"
                     for value in choice_layer.values)
        lines.append("  </Choices>")
        lines.append(f"  <Choices name={quoteattr(choice_layer.name + '.unsure')} toName=\"{TEXT}\""
                     f" {when} choice=\"multiple\">")
        lines.append('    <Choice value="unsure"/>')
        lines.append("  </Choices>")
        lines.append(f"  <TextArea name={quoteattr(choice_layer.name + '.comment')} toName=\"{TEXT}\""
                     ' perRegion="true"/>')
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _relation_control(relation: str, attribute: str) -> str:
    # Two dots, where a span layer's attribute control has one: a relation may share its
    # name with a span layer (the default codebook's "attribution" does).
    return f"relation.{relation}.{attribute}"


def _choices(name: str, attribute: Attribute, labels: list[str]) -> list[str]:
    """A per-region choice shown when a region of one of ``labels`` is selected."""
    return [
        f"  <Choices name={quoteattr(name)} toName=\"{TEXT}\" perRegion=\"true\""
        f" visibleWhen=\"region-selected\" whenLabelValue={quoteattr(','.join(labels))}"
        f" choice=\"single\">",
        *(f"    <Choice value={quoteattr(value.name)} hint={quoteattr(value.description)}/>"
          for value in attribute.values),
        "  </Choices>",
    ]
