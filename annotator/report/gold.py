"""Each annotator against the gold standard (docs/adjudication.md), per layer, over the
adjudicated documents: the report's "gold" rows, and the supervision page's gold scores.

The figures come from the same pure functions as the rest of the report, with gold in the
place of the second annotator: Cohen's kappa for choice layers, exact and overlap
(partial-credit) F1 with the annotator's precision and recall for span layers, per-role exact
and overlap F1 for relations.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import agreement
from ..agreement.results import NOT_PAIRABLE, undefined
from ..db import reads
from ..models import Adjudication, Document, Project, User
from ..services.permissions import SUPERVISORS, Actor
from ..services.projects import get_project
from ..services.users import GOLD_USERNAME
from .figures import figure_json
from .load import ReportData, choice_codes, layer_spans, load, shared_documents, spans_of
from .relations import relation_roles


@reads(SUPERVISORS)
def gold_scores(session: Session, actor: Actor, project_id: int) -> dict:
    """Each annotator against gold per layer, over the project's adjudicated documents (kappa
    for choice layers, exact and overlap F1 for span layers, per-role F1 for relations)."""
    return scores_against_gold(session, get_project(session, actor, project_id))


def scores_against_gold(session: Session, project: Project, *, documents: list[int] | None = None,
                        annotators: list[int] | None = None) -> dict:
    """Each annotator against gold per layer, over the project's adjudicated documents (of
    ``documents``, if given; only ``annotators``, if given). ``layers``: per layer (as in the
    report: layer, kind) one row per annotator; ``documents`` counts the adjudicated documents
    (0: no gold, and no layers)."""
    gold = session.scalar(select(User.id).where(User.username == GOLD_USERNAME))
    query = select(Adjudication.document_id).join(Document, Document.id == Adjudication.document_id).where(
        Document.project_id == project.id, Adjudication.status == "adjudicated")
    if documents is not None:
        query = query.where(Document.id.in_(list(documents)))
    adjudicated = sorted(session.scalars(query))
    if gold is None or not adjudicated:
        return {"documents": 0, "annotators": [], "layers": []}
    data = load(session, project, adjudicated, None if annotators is None else [*annotators, gold], None,
                with_gold=True)
    return {
        "documents": len(adjudicated),
        "annotators": [u for u in data.users if u["id"] != gold],
        "layers": _layers_against_gold(data, gold),
    }


def _layers_against_gold(data: ReportData, gold: int) -> list[dict]:
    """Per layer, each annotator against gold (user id) over the documents both hold."""
    codebook = data.codebook
    g = data.user_index[gold]
    people = [(u, data.user_index[u]) for u in data.user_ids if u != gold]
    nothing = figure_json(undefined(NOT_PAIRABLE, annotators=2))
    result: list[dict] = []
    for layer in codebook.choice_layers:
        codes, categories = choice_codes(data, layer)
        result.append({"layer": layer.name, "kind": "choice", "annotators": [
            {"annotator": u, "kappa": figure_json(agreement.cohen_kappa(codes[[i, g]], max(len(categories), 1))[(0, 1)])}
            for u, i in people
        ]})
    for layer in codebook.span_layers:
        loaded, labels, label_code = layer_spans(data, layer)
        rows = []
        for u, i in people:
            shared = data.live_matrix[i] & data.live_matrix[g]
            if not shared.any():
                rows.append({"annotator": u, "exact_f1": nothing, "overlap_f1": nothing, "precision": nothing,
                             "recall": nothing})
                continue
            micro = agreement.spans.span_agreement_arrays(
                spans_of(loaded, label_code, i, shared), spans_of(loaded, label_code, g, shared), labels,
                int(shared.sum())).micro
            rows.append({"annotator": u, "exact_f1": figure_json(micro.exact_f1),
                         "overlap_f1": figure_json(micro.partial_f1), "precision": figure_json(micro.precision),
                         "recall": figure_json(micro.recall)})
        result.append({"layer": layer.name, "kind": "span", "annotators": rows})
    for relation in codebook.relations:
        owned = data.relations.get(relation.name, {})
        roles = [role.name for role in relation.roles]
        rows = []
        for u, _ in people:
            shared = shared_documents(data, [u, gold])
            if not shared:
                rows.append({"annotator": u, "roles": {r: {"exact": nothing, "overlap": nothing} for r in roles}})
                continue
            scores = agreement.attribution_agreement(
                [owned.get((u, d), []) for d in shared], [owned.get((gold, d), []) for d in shared], attributes=(),
                **relation_roles(relation))
            rows.append({"annotator": u, "roles": {
                r: {"exact": figure_json(scores.roles[r].exact), "overlap": figure_json(scores.roles[r].overlap)}
                for r in roles}})
        result.append({"layer": relation.name, "kind": "relation", "annotators": rows})
    return result
