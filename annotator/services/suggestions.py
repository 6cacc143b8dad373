"""Suggestions: computed by the suggesters of annotator.suggest for a project's documents, stored
(the ``suggestions`` table), and measured against the gold standard or an annotator's spans.

``run`` computes a batch of documents outside any write transaction (the suggesters are pure and
take the time), then replaces the same suggester version's rows of those documents in one write
of its own: a Core DELETE and INSERT, and one audit event per document. A long run keeps the
batches it stored, and the write lock is free between them. Supervisors of the project and
admins only (docs/suggestions.md, "Running and evaluating").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from .. import suggest
from ..db import batch, reads, writes
from ..errors import NotFound, ServiceError
from ..models import SUGGESTION_IDENTITY, Adjudication, Assignment, Document, Project, Sentence, Span, StoredSuggestion, utcnow
from ..suggest.evaluate import Evaluation, LabelEvaluation, Scores, evaluate as evaluate_spans
from . import audit
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook
from .adjudication import gold_id
from .users import user_named

# Documents computed and stored per write transaction.
BATCH = 500
# What `against` names for the gold standard of the adjudicated documents; anything else is a username.
GOLD = "gold"


def _suggesters(names: Sequence[str] | None) -> list[suggest.Suggester]:
    """The suggesters named (every registered one by default), built once for the run."""
    try:
        return [suggest.get(name) for name in (names or suggest.names())]
    except KeyError as error:
        raise NotFound(error.args[0], field="suggester") from None


def _project_documents(session: Session, project: Project, document_ids: Sequence[int] | None) -> list[int]:
    """The project's document ids in import order, or those given, each checked to be the
    project's (one that is not is named)."""
    query = select(Document.id).where(Document.project_id == project.id).order_by(Document.id)
    if document_ids is None:
        return list(session.scalars(query))
    wanted = list(dict.fromkeys(document_ids))
    found = set(session.scalars(query.where(Document.id.in_(wanted))))
    strangers = [str(d) for d in wanted if d not in found]
    if strangers:
        raise NotFound(f"no document {', '.join(strangers)} in project {project.name!r}", field="documents")
    return wanted


@batch(SUPERVISORS)
def run(session: Session, actor: Actor, project_id: int, *, suggesters: Sequence[str] | None = None,
        documents: Sequence[int] | None = None, progress: Callable[[int], None] | None = None) -> dict:
    """Compute and store the suggestions of ``suggesters`` (default: every registered one) on
    the project's ``documents`` (default: all), replacing the rows each suggester's version
    stored on them before. Suggestions of a layer or label the project's codebook lacks are not
    stored (counted as ``outside_codebook``). ``progress`` is called with the number of
    documents of each stored batch. Returns per suggester its version and counts."""
    project = get_project(session, actor, project_id)
    chosen = _suggesters(suggesters)
    labels = {(layer.name, label.name) for layer in project_codebook(project).span_layers for label in layer.labels}
    document_ids = _project_documents(session, project, documents)
    counts = {s.name: {"suggester": s.name, "version": s.version, "documents": 0, "suggestions": 0, "replaced": 0,
                       "outside_codebook": 0} for s in chosen}
    for first in range(0, len(document_ids), BATCH):
        chunk = document_ids[first:first + BATCH]
        rows = _computed(session, chosen, chunk, labels, counts)
        _store(session, actor, chunk, [(s.name, s.version) for s in chosen], rows, counts)
        if progress is not None:
            progress(len(chunk))
    return {"project": project.name, "documents": len(document_ids), "suggesters": list(counts.values())}


def _computed(session: Session, chosen: list[suggest.Suggester], chunk: list[int], labels: set[tuple[str, str]],
              counts: dict[str, dict]) -> list[dict]:
    """The rows to store for the documents of ``chunk``: one per distinct suggestion (of equal
    ones, the highest scored), of the codebook's layers and labels."""
    texts = session.execute(select(Document.id, Document.text, Document.language).where(Document.id.in_(chunk))).all()
    sentences: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for document_id, start, end in session.execute(
            select(Sentence.document_id, Sentence.start, Sentence.end).where(Sentence.document_id.in_(chunk))
            .order_by(Sentence.document_id, Sentence.position)):
        sentences[document_id].append((start, end))
    now = utcnow()
    rows: dict[tuple, dict] = {}
    for suggester in chosen:
        for document_id, text, language in texts:
            for s in suggester.suggest(text, sentences[document_id], language):
                if s.end > len(text):
                    raise ServiceError(f"suggester {suggester.name!r} proposed {s.start}..{s.end} past the end "
                                       f"of document {document_id} ({len(text)} characters)", field="suggester")
                if (s.layer, s.label) not in labels:
                    counts[suggester.name]["outside_codebook"] += 1
                    continue
                row = {"document_id": document_id, "suggester": suggester.name, "version": suggester.version,
                       "layer": s.layer, "label": s.label, "start": s.start, "end": s.end,
                       "attributes": dict(s.attributes), "score": float(s.score), "group": s.group, "role": s.role,
                       "created_at": now}
                key = tuple(row[column] for column in SUGGESTION_IDENTITY)
                if key not in rows or rows[key]["score"] < row["score"]:
                    rows[key] = row
    return list(rows.values())


@writes(SUPERVISORS)
def _store(session: Session, actor: Actor, chunk: list[int], versions: list[tuple[str, str]], rows: list[dict],
           counts: dict[str, dict]) -> None:
    """Replace each (suggester, version)'s rows on the documents of ``chunk`` with ``rows``;
    one audit event per document and suggester (action ``suggest``: how many it had, how many
    it has)."""
    connection = session.connection()
    new: dict[tuple[str, int], int] = defaultdict(int)
    for row in rows:
        new[row["suggester"], row["document_id"]] += 1
    for name, version in versions:
        of_version = (StoredSuggestion.document_id.in_(chunk), StoredSuggestion.suggester == name,
                      StoredSuggestion.version == version)
        old = dict(connection.execute(select(StoredSuggestion.document_id, func.count())
                                      .where(*of_version).group_by(StoredSuggestion.document_id)).all())
        connection.execute(delete(StoredSuggestion).where(*of_version))
        audit.record_many(session, actor=actor, action="suggest", entity_type="documents", changes=[
            (document_id, {"suggester": name, "version": version, "suggestions": old.get(document_id, 0)},
             {"suggester": name, "version": version, "suggestions": new[name, document_id]})
            for document_id in chunk])
        counts[name]["replaced"] += sum(old.values())
        counts[name]["documents"] += len(chunk)
        counts[name]["suggestions"] += sum(new[name, document_id] for document_id in chunk)
    if rows:
        connection.execute(insert(StoredSuggestion), rows)


# -- evaluating ------------------------------------------------------------------------------------


@reads(SUPERVISORS)
def evaluate(session: Session, actor: Actor, project_id: int, *, suggester: str | None = None,
             against: str = GOLD) -> dict:
    """Each suggester's stored suggestions (``suggester``, default every registered one, at its
    current version) against the reference: ``against`` "gold", the gold standard of the
    project's adjudicated documents, or an annotator's username, their spans on the documents
    they marked done (an unfinished document would count what they have not marked yet against
    the suggester). Scored are the layers the suggester suggested on those documents; per label
    and pooled over the labels it suggested, exact and overlap precision, recall and F1
    (annotator.suggest.evaluate)."""
    project = get_project(session, actor, project_id)
    chosen = _suggesters([suggester] if suggester else None)
    reference_user, documents = _reference(session, actor, project, against)
    document_count = session.scalar(select(func.count()).select_from(documents.subquery()))
    return {
        "project": project.name,
        "against": against,
        "documents": document_count,
        "suggesters": [_evaluation_json(s, *_evaluated(session, s, reference_user, documents, document_count))
                       for s in chosen],
    }


def _reference(session: Session, actor: Actor, project: Project, against: str) -> tuple[int | None, Select]:
    """The reference's user id (None: no gold account yet) and its documents, as a query of ids."""
    in_project = Document.project_id == project.id
    if against == GOLD:
        return gold_id(session), (select(Adjudication.document_id).join(Document, Document.id == Adjudication.document_id)
                      .where(in_project, Adjudication.status == "adjudicated"))
    user = user_named(session, actor, against)
    return user.id, (select(Assignment.document_id).join(Document, Document.id == Assignment.document_id)
                     .where(in_project, Assignment.user_id == user.id, Assignment.status == "done"))


def _evaluated(session: Session, suggester: suggest.Suggester, reference_user: int | None, documents: Select,
               document_count: int) -> tuple[Evaluation, int]:
    """The evaluation of one suggester's stored suggestions, and on how many of the documents
    it has any."""
    stored = session.execute(
        select(StoredSuggestion.document_id, StoredSuggestion.layer, StoredSuggestion.label, StoredSuggestion.start,
               StoredSuggestion.end)
        .where(StoredSuggestion.suggester == suggester.name, StoredSuggestion.version == suggester.version,
               StoredSuggestion.document_id.in_(documents))).all()
    layers = sorted({row.layer for row in stored})
    reference = [] if reference_user is None or not layers else session.execute(
        select(Span.document_id, Span.layer, Span.label, Span.start, Span.end, Span.fragments)
        .where(Span.user_id == reference_user, Span.layer.in_(layers), Span.document_id.in_(documents))).all()
    suggested = sorted({(row.layer, row.label) for row in stored})
    return (evaluate_spans([tuple(row) for row in stored], [tuple(row) for row in reference], document_count,
                           scored=suggested),
            len({row.document_id for row in stored}))


def _figure(figure) -> dict[str, Any]:
    """A figure as JSON: its value, or why it has none (never 0 for undefined)."""
    return {"value": figure.value, "undefined": figure.undefined}


def _scores_json(scores: Scores) -> dict:
    return {"precision": _figure(scores.precision), "recall": _figure(scores.recall), "f1": _figure(scores.f1)}


def _label_json(row: LabelEvaluation) -> dict:
    return {"layer": row.layer, "label": row.label, "suggested": row.suggested, "reference": row.reference,
            "exact_matches": row.exact_matches, "overlap_correct": row.overlap_correct,
            "overlap_found": row.overlap_found, "exact": _scores_json(row.exact), "overlap": _scores_json(row.overlap)}


def _evaluation_json(suggester: suggest.Suggester, evaluation: Evaluation, with_suggestions: int) -> dict:
    return {
        "suggester": suggester.name,
        "version": suggester.version,
        "documents_with_suggestions": with_suggestions,
        "labels": [_label_json(row) for row in evaluation.per_label],
        "overall": {**_label_json(evaluation.overall), "labels": [list(label) for label in evaluation.scored]},
    }
