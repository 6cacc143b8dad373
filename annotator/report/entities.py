"""The report's section on source entities: how alike annotators link their SOURCE spans (the
label of the codebook relations' source role) to the project's source entities. MUC, B³, CEAF-e
and the CoNLL-2012 average per pair of annotators and over the pairs, with intervals
(annotator.agreement.coreference; docs/agreement.md, "Agreement on source entities").

Who and what is compared: the annotators who linked at least one SOURCE span in the report's
selection, on the documents where one of them linked one. A project that links only some of its
documents (or only some annotators link) is measured where linking was done; a SOURCE span left
unlinked there is a source of its own (a singleton), as the annotator left it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .. import agreement
from ..agreement.coreference import METRICS, MetricScores
from ..agreement.results import undefined
from ..services.entities import source_labels
from .figures import figure_json
from .load import ReportData

# The section's intervals take at most this many replicates: CEAF-e aligns the entities anew in
# every resample, and with 1,000 the section alone would take most of the report's time on a
# large project (docs/benchmarks.md, "2026-12-06: agreement on source entities").
ENTITY_REPLICATES = 200
NO_LINKED_SOURCE = "no source linked to an entity"  # nothing in the selection to compare


def source_entities(data: ReportData, replicates: int, seed: int) -> dict | None:
    """The section (docs/report-format.md, "Source entities"); None when the codebook has no
    relation with a source role."""
    labels = sorted(source_labels(data.codebook))
    if not labels:
        return None
    links = _links(data, labels)  # user index -> {mention: entity or None}
    linking = [user for user in sorted(links) if any(entity is not None for entity in links[user].values())]
    linked_in = {mention[0] for user in linking for mention, entity in links[user].items() if entity is not None}
    documents = sorted(linked_in)
    compared = {user: {mention: entity for mention, entity in links[user].items() if mention[0] in linked_in}
                for user in linking}
    mentions = [entity for user in linking for entity in compared[user].values()]
    section = {
        "title": "Source entities",
        "labels": [{"layer": layer, "label": label} for layer, label in labels],
        "annotators": [data.user_ids[user] for user in linking],
        "not_linking": [user_id for user, user_id in enumerate(data.user_ids) if user not in linking],
        "documents": len(documents),
        "mentions": len(mentions),
        "linked": sum(entity is not None for entity in mentions),
        "entities": len({entity for entity in mentions if entity is not None}),
        "replicates": min(replicates, ENTITY_REPLICATES),
    }
    if not linking:
        nothing = figure_json(undefined(NO_LINKED_SOURCE))
        return {**section, "metrics": dict.fromkeys((*METRICS, "conll"), nothing), "pairs": []}
    result = agreement.coreference_agreement(
        {data.user_ids[user]: compared[user] for user in linking},
        annotated={data.user_ids[user]: [d for d in documents if data.live_matrix[user, d]] for user in linking},
        replicates=section["replicates"], seed=seed,
    )
    return {
        **section,
        "metrics": {metric: figure_json(getattr(result, metric)) for metric in (*METRICS, "conll")},
        "pairs": [
            {"a": a, "b": b, **{metric: _scores_json(getattr(scores, metric)) for metric in METRICS},
             "conll": figure_json(scores.conll)}
            for (a, b), scores in result.pairs.items()
        ],
    }


def _scores_json(scores: MetricScores) -> dict[str, dict]:
    return {"recall": figure_json(scores.recall), "precision": figure_json(scores.precision),
            "f1": figure_json(scores.f1)}


def _links(data: ReportData, labels: list[tuple[str, str]]) -> dict[int, dict[tuple, int | None]]:
    """Per annotator (index), each SOURCE span as a mention (document index, start, end,
    fragments, which source label) and the entity it is linked to (None: not linked). Mentions of
    two annotators are the same mention when their extents are (exact extent, as for span F1)."""
    links: dict[int, dict[tuple, int | None]] = defaultdict(dict)
    for number, (layer, label) in enumerate(labels):
        loaded = data.spans.get(layer)
        if loaded is None or label not in loaded.labels:
            continue
        rows = np.flatnonzero(loaded.label == loaded.labels.index(label))
        columns = (loaded.user, loaded.document, loaded.start, loaded.end, loaded.fragments, loaded.entity)
        for user, document, start, end, fragments, entity in zip(*(column[rows].tolist() for column in columns)):
            links[user][(document, start, end, fragments, number)] = entity or None
    return links
