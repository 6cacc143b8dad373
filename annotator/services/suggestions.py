"""Suggestions: computed by the suggesters of annotator.suggest for a project's documents, stored
(the ``suggestions`` table), and measured against the gold standard or an annotator's spans.

``run`` computes a batch of documents outside any write transaction (the suggesters are pure and
take the time; in worker processes on a machine of several cores, the next batch while this one
is stored), then replaces the same suggester version's rows of those documents in one write of
its own: a Core DELETE, the rows in one COPY (PostgreSQL) or executemany (SQLite), and one audit
event per document and suggester. A long run keeps the batches it stored, and the write lock is
free between them. Supervisors of the project and admins only (docs/suggestions.md, "Running
and evaluating").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import signal
import sys
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import numpy as np
from sqlalchemy import Connection, Select, delete, false, func, select, tuple_
from sqlalchemy.orm import Session

from .. import suggest
from ..agreement import anchoring
from ..agreement.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED
from ..agreement.results import Figure
from ..db import batch, reads, writes
from ..errors import NotFound, ServiceError
from ..codebook import Codebook
from ..models import CONDITIONS, ID_MAX, Adjudication, Assignment, Document, Project, Sentence, SentenceTime, Span, StoredSuggestion, SuggesterModel, SuggestionDecision, utcnow
from ..report.load import WORD
from ..suggest.evaluate import Evaluation, LabelEvaluation, Scores, evaluate as evaluate_spans
from ..suggest.learned import LearnedSuggester
from . import audit
from .permissions import ANYONE, SUPERVISORS, Actor
from .projects import get_project, project_codebook
from .adjudication import gold_id
from .assignments import ACTIVE_STATUSES, active_assignment
from .users import not_gold, user_named

# Documents computed and stored per write transaction.
BATCH = 500
# From this many documents a run computes in worker processes, when the machine has several
# cores: below it, forking them and passing the texts would cost about what they save.
PARALLEL_FROM = 100
# Documents per task of a worker: a batch shared evenly among the workers, in order.
PIECE = 50
# What `against` names for the gold standard of the adjudicated documents; anything else is a username.
GOLD = "gold"
# A stored suggestion's values, in the order of the rows a run computes: the attributes as JSON
# text; created_at, the batch's time, is added when they are stored.
_COLUMNS = ("document_id", "suggester", "version", "layer", "label", "start", "end", "attributes", "score", "group",
            "role", "created_at")

_Row = tuple[int, str, str, str, str, int, int, str, float, str | None, str | None]
# A document as the suggesters read it: id, text, sentences (offsets), language.
_Text = tuple[int, str, list[tuple[int, int]], str | None]


def _enabled_models(session: Session, project_id: int) -> dict[str, SuggesterModel]:
    """The project's enabled model of each learned suggester (annotator.services.training), by
    suggester name; a model's bytes are read only when it is built into a suggester."""
    return {row.suggester: row for row in session.scalars(
        select(SuggesterModel).where(SuggesterModel.project_id == project_id, SuggesterModel.enabled))}


def _suggesters(session: Session, project_id: int, names: Sequence[str] | None) -> list[suggest.Suggester]:
    """The suggesters named (by default every registered one and every learned one the project
    has a model of enabled; one named twice counts once), built once for the run."""
    enabled = _enabled_models(session, project_id)
    names = list(dict.fromkeys(names or [*suggest.names(), *sorted(enabled)]))
    if LearnedSuggester.name in names and LearnedSuggester.name not in enabled:
        raise NotFound(f"the project has no model of {LearnedSuggester.name!r} enabled: train one (`annotator suggest "
                       "train`), then enable it (`annotator suggest enable`)", field="suggester")
    try:
        return [LearnedSuggester(enabled[name].model, enabled[name].version) if name in enabled else suggest.get(name)
                for name in names]
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
    chosen = _suggesters(session, project.id, suggesters)
    labels = {(layer.name, label.name) for layer in project_codebook(project).span_layers for label in layer.labels}
    document_ids = _project_documents(session, project, documents)
    counts = {s.name: {"suggester": s.name, "version": s.version, "documents": 0, "suggestions": 0, "replaced": 0,
                       "outside_codebook": 0} for s in chosen}
    batches = [document_ids[first:first + BATCH] for first in range(0, len(document_ids), BATCH)]
    with _workers(chosen, labels, len(document_ids)) as pool:
        for chunk, rows, outside in _computed(session, pool, chosen, labels, batches):
            for name, left_out in outside.items():
                counts[name]["outside_codebook"] += left_out
            _store(session, actor, chunk, [(s.name, s.version) for s in chosen], rows, counts)
            if progress is not None:
                progress(len(chunk))
    return {"project": project.name, "documents": len(document_ids), "suggesters": list(counts.values())}


@contextlib.contextmanager
def _workers(chosen: list[suggest.Suggester], labels: set[tuple[str, str]], documents: int
             ) -> Iterator[ProcessPoolExecutor | None]:
    """A process per core this process may use that computes suggestions, or None: one core,
    fewer than PARALLEL_FROM documents, or not Linux. The workers are forked: they start in
    milliseconds with the run's suggesters as built here, whatever they are (nothing is pickled
    but documents and rows); they run only the pure suggesters and never touch the database
    connection they inherit. Ctrl-C is this process's to handle: the workers ignore it, and the
    pool stops with the run, dropping what it had not computed yet."""
    cores = len(os.sched_getaffinity(0)) if sys.platform.startswith("linux") else 1
    if cores < 2 or documents < PARALLEL_FROM:
        yield None
        return
    pool = ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                               initargs=(chosen, labels))
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


# In a worker process: the run's suggesters and the codebook's (layer, label)s.
_worker_run: tuple[list[suggest.Suggester], set[tuple[str, str]]] | None = None


def _start_worker(chosen: list[suggest.Suggester], labels: set[tuple[str, str]]) -> None:
    global _worker_run
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_run = chosen, labels


def _suggested_in_worker(texts: list[_Text]) -> tuple[list[list[_Row]], Counter]:
    return _suggested(*_worker_run, texts)


def _computed(session: Session, pool: ProcessPoolExecutor | None, chosen: list[suggest.Suggester],
              labels: set[tuple[str, str]], batches: list[list[int]]
              ) -> Iterator[tuple[list[int], list[_Row], Counter]]:
    """Each batch with its rows to store (per suggester, in document order) and, per suggester,
    how many suggestions it left out (outside the codebook), in order. With workers, a batch is
    sent to them in pieces one batch ahead: they compute it while the one before is stored."""
    if pool is None:
        for chunk in batches:
            yield chunk, *_gathered(len(chosen), [_suggested(chosen, labels, _texts(session, chunk))])
        return
    sent: deque[tuple[list[int], list[Future]]] = deque()
    for chunk in batches:
        texts = _texts(session, chunk)
        sent.append((chunk, [pool.submit(_suggested_in_worker, texts[first:first + PIECE])
                             for first in range(0, len(texts), PIECE)]))
        if len(sent) == 2:
            chunk_sent, futures = sent.popleft()
            yield chunk_sent, *_gathered(len(chosen), [future.result() for future in futures])
    for chunk_sent, futures in sent:
        yield chunk_sent, *_gathered(len(chosen), [future.result() for future in futures])


def _gathered(suggesters: int, parts: list[tuple[list[list[_Row]], Counter]]) -> tuple[list[_Row], Counter]:
    """The rows of the pieces of a batch, each suggester's together, and the counts left out."""
    rows = [row for index in range(suggesters) for per_suggester, _ in parts for row in per_suggester[index]]
    return rows, sum((outside for _, outside in parts), Counter())


def _texts(session: Session, chunk: list[int]) -> list[_Text]:
    """The documents of ``chunk``, in its order, as the suggesters read them."""
    documents = {row.id: row for row in session.execute(
        select(Document.id, Document.text, Document.language).where(Document.id.in_(chunk)))}
    sentences: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for document_id, start, end in session.execute(
            select(Sentence.document_id, Sentence.start, Sentence.end).where(Sentence.document_id.in_(chunk))
            .order_by(Sentence.document_id, Sentence.position)):
        sentences[document_id].append((start, end))
    return [(d, documents[d].text, sentences[d], documents[d].language) for d in chunk]


def _suggested(chosen: list[suggest.Suggester], labels: set[tuple[str, str]], texts: list[_Text]
               ) -> tuple[list[list[_Row]], Counter]:
    """Per suggester, the rows to store for ``texts``: one per distinct suggestion (of equal
    ones, the highest scored) of the codebook's layers and labels, in document order; and per
    suggester how many it made outside the codebook. The attributes are serialised here, as
    SQLAlchemy's JSON type would (json.dumps), so that storing them costs nothing more."""
    per_suggester, outside = [], Counter()
    for suggester in chosen:
        best: dict[tuple, tuple[int, suggest.Suggestion]] = {}
        for document_id, text, sentences, language in texts:
            for s in suggester.suggest(text, sentences, language):
                if s.end > len(text):
                    raise ServiceError(f"suggester {suggester.name!r} proposed {s.start}..{s.end} past the end "
                                       f"of document {document_id} ({len(text)} characters)", field="suggester")
                if (s.layer, s.label) not in labels:
                    outside[suggester.name] += 1
                    continue
                key = (document_id, s.layer, s.label, s.start, s.end)
                if key not in best or best[key][1].score < s.score:
                    best[key] = document_id, s
        per_suggester.append([(document_id, suggester.name, suggester.version, s.layer, s.label, s.start, s.end,
                               json.dumps(dict(s.attributes)), float(s.score), s.group, s.role)
                              for document_id, s in best.values()])
    return per_suggester, outside


@writes(SUPERVISORS)
def _store(session: Session, actor: Actor, chunk: list[int], versions: list[tuple[str, str]], rows: list[_Row],
           counts: dict[str, dict]) -> None:
    """Replace each (suggester, version)'s rows on the documents of ``chunk`` with ``rows``;
    one audit event per document and suggester (action ``suggest``: how many it had, how many
    it has)."""
    connection = session.connection()
    of_run = (StoredSuggestion.document_id.in_(chunk),
              tuple_(StoredSuggestion.suggester, StoredSuggestion.version).in_(versions))
    old = {(name, document_id): number for name, document_id, number in connection.execute(
        select(StoredSuggestion.suggester, StoredSuggestion.document_id, func.count()).where(*of_run)
        .group_by(StoredSuggestion.suggester, StoredSuggestion.document_id))}
    connection.execute(delete(StoredSuggestion).where(*of_run))
    _insert(connection, rows, utcnow())
    new = Counter((name, document_id) for document_id, name, *_ in rows)
    audit.record_many(session, actor=actor, action="suggest", entity_type="documents", changes=[
        (document_id, {"suggester": name, "version": version, "suggestions": old.get((name, document_id), 0)},
         {"suggester": name, "version": version, "suggestions": new[name, document_id]})
        for name, version in versions for document_id in chunk])
    for name, _ in versions:
        counts[name]["replaced"] += sum(old.get((name, document_id), 0) for document_id in chunk)
        counts[name]["documents"] += len(chunk)
        counts[name]["suggestions"] += sum(new[name, document_id] for document_id in chunk)


def _insert(connection: Connection, rows: list[_Row], now: dt.datetime) -> None:
    """Insert the rows, stamped ``now``: in one COPY on PostgreSQL, through the driver's
    executemany on SQLite. SQLAlchemy's building of each row's parameters took longer than the
    database storing them (docs/benchmarks.md, "Precomputing suggestions")."""
    if not rows:
        return
    dialect = connection.dialect
    table = dialect.identifier_preparer.format_table(StoredSuggestion.__table__)
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in _COLUMNS)
    if dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, now))
        return
    stamp = StoredSuggestion.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)(now)
    connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                               [(*row, stamp) for row in rows])


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
    chosen = _suggesters(session, project.id, [suggester] if suggester else None)
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


# -- the half-blind design -------------------------------------------------------------------------


def _round_half_up(x: float) -> int:
    # Python's round() goes to the even neighbour: 0.5 control documents would be 0 and 1.5 two.
    return int(math.floor(x + 0.5))


def _draw_key(seed: int, user_id: int, document_id: int) -> str:
    """A (annotator, document)'s place in the seeded order of the draw: depends only on the
    seed and the two ids, so the same seed draws the same conditions on every machine."""
    return hashlib.sha256(f"{seed}:{user_id}:{document_id}".encode()).hexdigest()


def draw_conditions(cells: Sequence[tuple[int, int, str | None]], control_share: float, seed: int
                    ) -> dict[tuple[int, int], str]:
    """The condition of each (user id, document id, condition or None) cell whose condition is
    None. Per annotator, round(control_share · n) of their n documents are "control" (those
    already drawn count); the rest "suggestions". Annotators are drawn one after another (in
    the seeded order), each choosing as control the documents with the fewest control cells
    so far, never (where another choice exists) the last one a document has left in
    "suggestions", so that each document gets both conditions across annotators where possible;
    ties go by the seeded order."""
    holders: dict[int, int] = defaultdict(int)
    control: dict[int, int] = defaultdict(int)
    by_user: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for user_id, document_id, condition in cells:
        holders[document_id] += 1
        control[document_id] += condition == "control"
        by_user[user_id].append((document_id, condition))
    drawn: dict[tuple[int, int], str] = {}
    for user_id in sorted(by_user, key=lambda u: hashlib.sha256(f"{seed}:{u}".encode()).hexdigest()):
        mine = by_user[user_id]
        open_documents = [document_id for document_id, condition in mine if condition is None]
        wanted = _round_half_up(control_share * len(mine)) - sum(condition == "control" for _, condition in mine)
        ranked = sorted(open_documents, key=lambda d: (control[d] + 1 >= holders[d] > 1, control[d],
                                                       _draw_key(seed, user_id, d)))
        chosen = set(ranked[:max(wanted, 0)])
        for document_id in open_documents:
            drawn[user_id, document_id] = "control" if document_id in chosen else "suggestions"
            control[document_id] += document_id in chosen
    return drawn


def _live_assignments(project_id: int) -> Select:
    return (select(Assignment).join(Document, Document.id == Assignment.document_id)
            .where(Document.project_id == project_id, Assignment.status.in_(ACTIVE_STATUSES), not_gold(Assignment.user_id)))


def apply_design(session: Session, project: Project, *, redraw: bool) -> dict[str, int]:
    """Give the project's live assignments their conditions by :func:`draw_conditions` with the
    project's share and seed: all of them anew (``redraw``), else only those without one (new
    assignments while the design is on: annotator.services.assignments calls this). Returns the
    live assignments per condition."""
    assignments = session.scalars(_live_assignments(project.id)).all()
    drawn = draw_conditions([(a.user_id, a.document_id, None if redraw else a.condition) for a in assignments],
                            project.control_share, project.design_seed or 0)
    for assignment in assignments:
        assignment.condition = drawn.get((assignment.user_id, assignment.document_id), assignment.condition)
    session.flush()
    counts = dict.fromkeys(CONDITIONS, 0)
    for assignment in assignments:
        counts[assignment.condition] += 1
    return counts


def _design_json(project: Project) -> dict:
    return {"suggestions_enabled": project.suggestions_enabled, "control_share": project.control_share,
            "seed": project.design_seed}


@writes(SUPERVISORS)
def design(session: Session, actor: Actor, project_id: int, *, enabled: bool, control_share: float,
           seed: int) -> dict:
    """Turn suggestions on or off for the project and draw its half-blind design: every live
    assignment gets the condition "suggestions" or "control" by :func:`draw_conditions` (the
    same seed, share and assignments: the same draw). Later assignments get theirs by the same
    rule when they are made. Returns the settings and the live assignments per condition; one
    audit event on the project (docs/suggestions.md, "The design")."""
    project = get_project(session, actor, project_id)
    if not 0 <= control_share <= 1:
        raise ServiceError("the control share must be between 0 and 1", field="control_share")
    before = _design_json(project)
    project.suggestions_enabled, project.control_share, project.design_seed = enabled, control_share, seed
    counts = apply_design(session, project, redraw=True)
    after = _design_json(project) | {"conditions": counts}
    audit.record(session, actor=actor, action="design", entity=project, before=before, after=after)
    return {"project": project.name, **after}


def condition_of(session: Session, user_id: int, document_id: int) -> str | None:
    """The condition the user's assignment to the document was drawn in; None without a design
    (or without an assignment). Called inside the caller's transaction, which checked access."""
    return session.scalar(select(Assignment.condition).where(Assignment.user_id == user_id,
                                                             Assignment.document_id == document_id))


# -- in the annotation page ------------------------------------------------------------------------


def shown_to(session: Session, user_id: int, document_id: int) -> bool:
    """Whether the user's annotation page of the document shows suggestions: the project has
    them on and the user's assignment is not in the control condition (no condition drawn yet
    counts as "suggestions"; docs/suggestions.md, "In the page"). Called inside the caller's
    transaction, which checked the assignment."""
    enabled = session.scalar(select(Project.suggestions_enabled).join(Document, Document.project_id == Project.id)
                             .where(Document.id == document_id))
    return bool(enabled) and condition_of(session, user_id, document_id) != "control"


def _current_versions(session: Session, document_id: int) -> list[tuple[str, str]]:
    """Each registered suggester's name and current version, and those of the models the
    document's project has enabled: what the page offers (a stored older version's rows, or a
    disabled model's, are kept for evaluation, never shown)."""
    project_id = session.scalar(select(Document.project_id).where(Document.id == document_id))
    return [(name, suggest.get(name).version) for name in suggest.names()] + \
        [(name, row.version) for name, row in sorted(_enabled_models(session, project_id).items())]


def shown_suggestion(session: Session, user_id: int, document_id: int, suggestion_id: int) -> StoredSuggestion:
    """One suggestion of the document the user's page shows (decided ones too: a rejected
    suggestion may be accepted after all); NotFound for any other, the same as no such
    suggestion, so that a control annotator learns nothing of them."""
    suggestion = session.get(StoredSuggestion, suggestion_id) if 0 < suggestion_id <= ID_MAX else None
    if (suggestion is None or suggestion.document_id != document_id
            or (suggestion.suggester, suggestion.version) not in _current_versions(session, document_id)
            or not shown_to(session, user_id, document_id)):
        raise NotFound("no such suggestion on this document", field="suggestion_id")
    return suggestion


# What identifies a suggestion across runs of one version (its document aside).
_DECIDED = ("suggester", "version", "layer", "label", "start", "end")


@reads(ANYONE)
def for_page(session: Session, actor: Actor, document_id: int) -> list[dict]:
    """The suggestions the actor's annotation page of the document shows (none unless
    :func:`shown_to`): those of the registered suggesters' current versions the actor has not
    decided on, nor marked exactly by hand, in document order. Each carries the attributes its
    span takes; a group's anchor (the cue) also those its relation takes, and every member of a
    group the relation and a group key unique in the document (docs/suggestions.md, "In the page")."""
    document = active_assignment(session, actor, document_id, for_write=False).document
    if not shown_to(session, actor.id, document_id):
        return []
    codebook = project_codebook(document.project)
    # A decision is on what was suggested, not on the row: a run of the same version replaces the
    # rows with new ids, and a suggestion rejected before must not come back.
    decided = set(session.execute(
        select(*(getattr(SuggestionDecision, column) for column in _DECIDED))
        .where(SuggestionDecision.user_id == actor.id, SuggestionDecision.document_id == document_id)).all())
    current = _current_versions(session, document_id)
    rows = session.scalars(
        select(StoredSuggestion)
        .where(StoredSuggestion.document_id == document_id,
               tuple_(StoredSuggestion.suggester, StoredSuggestion.version).in_(current) if current else false())
        .order_by(StoredSuggestion.start, StoredSuggestion.end, StoredSuggestion.id)).all()
    marked = set(session.execute(select(Span.layer, Span.label, Span.start, Span.end)
                                 .where(Span.document_id == document_id, Span.user_id == actor.id)).all())
    return [_page_json(codebook, row) for row in rows
            if (row.layer, row.label, row.start, row.end) not in marked
            and tuple(getattr(row, column) for column in _DECIDED) not in decided]



def _page_json(codebook: Codebook, row: StoredSuggestion) -> dict:
    span_attributes = {a.name for a in codebook.layer(row.layer).attributes_for(row.label)}
    body = {"id": row.id, "layer": row.layer, "label": row.label, "start": row.start, "end": row.end,
            "attributes": {k: v for k, v in row.attributes.items() if k in span_attributes},
            "score": row.score, "suggester": row.suggester, "version": row.version,
            "group": None, "role": None, "relation": None}
    relation = next((r for r in codebook.relations if r.layer == row.layer and any(role.name == row.role for role in r.roles)),
                    None) if row.group is not None else None
    if relation is not None:
        body |= {"group": f"{row.suggester} {row.version} {row.group}", "role": row.role, "relation": relation.name}
        if row.role == relation.anchor:
            relation_attributes = {a.name for a in relation.attributes}
            body["relation_attributes"] = {k: v for k, v in row.attributes.items() if k in relation_attributes}
    return body


# -- the anchoring report --------------------------------------------------------------------------


def _figure_json(figure: Figure) -> dict[str, Any]:
    """A figure of the anchoring report as JSON: its value or why it has none (never 0 for
    undefined), what it counts, and for a difference its interval or why it has none."""
    return {"value": figure.value, "undefined": figure.undefined, "documents": figure.units, "counted": figure.pairs,
            "low": figure.low, "high": figure.high, "interval_undefined": figure.interval_undefined}


def _comparison_json(comparison: anchoring.Comparison) -> dict:
    return {"suggestions": _figure_json(comparison.suggestions), "control": _figure_json(comparison.control),
            "difference": _figure_json(comparison.difference), "detected": comparison.detected}


@reads(SUPERVISORS)
def anchoring_report(session: Session, actor: Actor, project_id: int, *, replicates: int = DEFAULT_REPLICATES,
                     seed: int = DEFAULT_SEED) -> dict:
    """The anchoring report of the project's half-blind design (docs/suggestions.md, "Reading
    the anchoring report"): the annotators' decisions on suggestions (acceptance per suggester
    and label; how often one gold rejects was accepted), the suggesters against gold, and per
    condition, with the difference's bootstrap interval over documents, the adoption of
    suggestions gold rejects, span F1 against gold and between annotators, token alpha and
    seconds per sentence (annotator.agreement.anchoring). Live assignments with a condition
    only."""
    project = get_project(session, actor, project_id)
    in_project = Document.project_id == project.id
    cells = session.execute(
        select(Assignment.user_id, Assignment.document_id, Assignment.condition, Assignment.status)
        .join(Document, Document.id == Assignment.document_id)
        .where(in_project, Assignment.status.in_(ACTIVE_STATUSES), Assignment.condition.is_not(None),
               not_gold(Assignment.user_id))
        # The bootstrap resamples documents by their place in this order: the same on every database.
        .order_by(Assignment.document_id, Assignment.user_id)).all()
    documents = sorted({cell.document_id for cell in cells})
    gold_user = gold_id(session)
    adjudicated = set(session.scalars(select(Adjudication.document_id).join(Document, Document.id == Adjudication.document_id)
                                      .where(in_project, Adjudication.status == "adjudicated")))
    spans: dict[tuple[int, int], set] = defaultdict(set)
    for row in session.execute(select(Span.user_id, Span.document_id, Span.layer, Span.label, Span.start, Span.end)
                               .where(Span.document_id.in_(documents))):
        spans[row.user_id, row.document_id].add((row.start, row.end, (row.layer, row.label)))
    gold = {d: frozenset(spans.get((gold_user, d), ())) for d in documents if d in adjudicated}
    wrong: dict[int, set] = defaultdict(set)
    for row in session.execute(select(StoredSuggestion.document_id, StoredSuggestion.layer, StoredSuggestion.label,
                                      StoredSuggestion.start, StoredSuggestion.end)
                               .where(StoredSuggestion.document_id.in_(list(gold)))):
        suggested = (row.start, row.end, (row.layer, row.label))
        if suggested not in gold[row.document_id]:
            wrong[row.document_id].add(suggested)
    sentences = dict(session.execute(select(Sentence.document_id, func.count()).where(Sentence.document_id.in_(documents))
                                     .group_by(Sentence.document_id)).all())
    active_ms = {(row.user_id, row.document_id): row.ms for row in session.execute(
        select(SentenceTime.user_id, Sentence.document_id, func.sum(SentenceTime.active_ms).label("ms"))
        .join(Sentence, Sentence.id == SentenceTime.sentence_id).where(Sentence.document_id.in_(documents))
        .group_by(SentenceTime.user_id, Sentence.document_id))}
    works = [anchoring.Work(cell.document_id, cell.user_id, cell.condition, frozenset(spans.get((cell.user_id, cell.document_id), ())),
                            (active_ms.get((cell.user_id, cell.document_id)) or 0) / 1000,
                            sentences.get(cell.document_id, 0) if cell.status == "done" else 0)
             for cell in cells]
    texts = dict(session.execute(select(Document.id, Document.text).where(Document.id.in_(documents))).all())
    tokens = {d: np.array([match.span() for match in WORD.finditer(texts[d])], dtype=np.int64).reshape(-1, 2)
              for d in documents}
    labels = [(layer.name, label.name) for layer in project_codebook(project).span_layers for label in layer.labels]
    decisions = session.execute(
        select(SuggestionDecision.suggester, SuggestionDecision.version, SuggestionDecision.layer, SuggestionDecision.label,
               SuggestionDecision.document_id, SuggestionDecision.start, SuggestionDecision.end, SuggestionDecision.decision)
        .join(Document, Document.id == SuggestionDecision.document_id).where(in_project)).all()
    keyed = [((row.suggester, row.version, row.layer, row.label), row.decision == "accepted") for row in decisions]
    rates = anchoring.acceptance_rates(keyed)
    accepted = Counter(key for key, was_accepted in keyed if was_accepted)
    on_gold = [(row.decision == "accepted", (row.start, row.end, (row.layer, row.label)) in gold[row.document_id])
               for row in decisions if row.document_id in gold]
    bootstrap = {"replicates": replicates, "seed": seed}
    return {
        "project": project.name,
        "design": _design_json(project),
        "assignments": {condition: sum(cell.condition == condition for cell in cells) for condition in CONDITIONS},
        "adjudicated_documents": len(gold),
        "acceptance": [{"suggester": key[0], "version": key[1], "layer": key[2], "label": key[3], "accepted": accepted[key],
                        "rate": _figure_json(rate)} for key, rate in sorted(rates.items())],
        "wrong_accepted": {**_figure_json(anchoring.wrong_accepted(on_gold)),
                           "accepted": sum(was_accepted for was_accepted, in_gold in on_gold if not in_gold)},
        "against_gold": evaluate(session, actor, project.id)["suggesters"],
        "wrong_adopted": _comparison_json(anchoring.wrong_adopted(works, {d: frozenset(s) for d, s in wrong.items()}, **bootstrap)),
        "f1_against_gold": _comparison_json(anchoring.f1_against_gold(works, gold, **bootstrap)),
        "f1_between_annotators": _comparison_json(anchoring.f1_between_annotators(works, **bootstrap)),
        "token_alpha": _comparison_json(anchoring.token_alpha_by_condition(works, tokens, labels, **bootstrap)),
        "seconds_per_sentence": _comparison_json(anchoring.seconds_per_sentence(works, **bootstrap)),
    }
