"""How far the annotators of a project are, and the active time the annotation page reports.

Definitions (docs/supervision.md): everything counts over an annotator's live assignments
(assigned, in progress, done) in the project. A sentence is labelled when it has a value for
every required choice layer of the codebook (every choice layer when none is required), as
on the annotator's home page. Active time is the sum the page reported for those sentences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, Select, case, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, load_only

from .assignments import ACTIVE_STATUSES, _done_layers, active_assignment, holders, is_live
from ..db import reads, writes
from ..errors import ServiceError
from ..models import (
    ID_MAX, ActivityClock, Assignment, Attribution, Document, Event, Project, Sentence, SentenceLabel, SentenceTime, Span,
    User, utcnow,
)
from .paging import Page, cut, page_of
from .permissions import ANYONE, SUPERVISORS, Actor
from .projects import get_project, sentence_counts
from .users import not_gold

MAX_ACTIVITY_MS = 10 * 60 * 1000  # the most one report may add
# The most a report may count beyond the wall-clock time since the last one counted: after a
# pause, the user's clock lags by this much at most (_counted_ms). The page reports at least
# every 30 s while it is used (static/annotate.js), so each of its reports fits, with room for
# the network's delays.
ACTIVITY_ALLOWANCE = dt.timedelta(seconds=60)


# -- active time --------------------------------------------------------------------------------


def _positive_int(data: dict, name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ServiceError(f"{name} must be an integer", field=name)
    return value


@writes(ANYONE)
def record_activity(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    """Add ``data["ms"]`` of active time on ``data["sentence_id"]`` to the actor's running total,
    as much of it as the wall clock allows (_counted_ms); the answer says how much counted
    (``accepted_ms``).

    The actor needs a live assignment to the document (done ones too: reading counts). Not
    audited: it is telemetry, not an annotation.
    """
    user = actor
    active_assignment(session, user, document_id, for_write=False)
    sentence_id, ms = _positive_int(data, "sentence_id"), _positive_int(data, "ms")
    if not 0 < ms <= MAX_ACTIVITY_MS:
        raise ServiceError(f"ms must be between 1 and {MAX_ACTIVITY_MS} (10 minutes) per report", field="ms")
    in_document = None
    if 0 < sentence_id <= ID_MAX:  # past it no row has the id (and the database cannot compare it)
        in_document = session.scalar(select(Sentence.id).where(Sentence.id == sentence_id, Sentence.document_id == document_id))
    if in_document is None:
        raise ServiceError("sentence_id is not a sentence of this document", field="sentence_id")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    accepted = _counted_ms(session, dialect, user.id, ms, now)
    if not accepted:
        total = session.scalar(select(SentenceTime.active_ms).where(
            SentenceTime.user_id == user.id, SentenceTime.sentence_id == sentence_id))
        return {"sentence_id": sentence_id, "active_ms": total or 0, "accepted_ms": 0}
    # One atomic statement: concurrent reports add up instead of racing on the unique key.
    statement = dialect.insert(SentenceTime).values(user_id=user.id, sentence_id=sentence_id, active_ms=accepted,
                                                    updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[SentenceTime.user_id, SentenceTime.sentence_id],
        set_={"active_ms": SentenceTime.active_ms + statement.excluded.active_ms, "updated_at": now},
    ).returning(SentenceTime.active_ms)
    total = session.execute(statement).scalar_one()
    return {"sentence_id": sentence_id, "active_ms": total, "accepted_ms": accepted}


def _counted_ms(session: Session, dialect, user_id: int, ms: int, now: dt.datetime) -> int:
    """How much of a report of ``ms`` counts: no more than the wall-clock time since the user's
    clock (up to when their time is counted, on any document: no one is active in two places
    at once), which lags ``now`` by ACTIVITY_ALLOWANCE at most; the clock moves on by what
    counts. A burst of reports so adds ACTIVITY_ALLOWANCE at most, and the page's reports,
    each of the time since its last, all count. The clock's row is locked (SQLite: the write
    transaction is), so concurrent reports share the time instead of each taking it."""
    session.execute(dialect.insert(ActivityClock).values(user_id=user_id, counted_until=now - ACTIVITY_ALLOWANCE)
                    .on_conflict_do_nothing())
    clock = session.scalar(select(ActivityClock.counted_until).where(ActivityClock.user_id == user_id).with_for_update())
    start = max(clock, now - ACTIVITY_ALLOWANCE)
    counted = max(0, min(ms, (now - start) // dt.timedelta(milliseconds=1)))
    session.execute(update(ActivityClock).where(ActivityClock.user_id == user_id)
                    .values(counted_until=start + dt.timedelta(milliseconds=counted)))
    return counted


def format_duration(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def format_time(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


# -- the dashboard ------------------------------------------------------------------------------


DOCUMENTS_PAGE_SIZE = 200  # rows a page of the progress page's document table shows
# In a query grouping assignments: how many of them are done.
ASSIGNMENTS_DONE = func.count(case((Assignment.status == "done", 1)))


@dataclass
class AnnotatorProgress:
    user: User
    documents_done: int = 0
    documents_assigned: int = 0
    sentences_labelled: int = 0
    sentences_total: int = 0
    spans: int = 0
    active_ms: int = 0
    last_activity: dt.datetime | None = None

    @property
    def fraction(self) -> float:
        return self.sentences_labelled / self.sentences_total if self.sentences_total else 0.0


@dataclass
class DocumentProgress:
    document: Document
    sentences: int
    annotators: int = 0  # live assignments
    done: int = 0


@dataclass
class ProjectProgress:
    """Every annotator and the overall figures of a project, and a page of its documents."""

    project: Project
    annotators: list[AnnotatorProgress]
    documents: Page[DocumentProgress]
    documents_assigned: int  # documents with at least one live assignment
    documents_complete: int  # of those, the ones whose live assignments are all done

    @property
    def assignments(self) -> int:
        return sum(a.documents_assigned for a in self.annotators)

    @property
    def assignments_done(self) -> int:
        return sum(a.documents_done for a in self.annotators)

    @property
    def sentences_total(self) -> int:
        return sum(a.sentences_total for a in self.annotators)

    @property
    def sentences_labelled(self) -> int:
        return sum(a.sentences_labelled for a in self.annotators)


@reads(SUPERVISORS)
def project_progress(session: Session, actor: Actor, project_id: int, page: int = 1) -> ProjectProgress:
    """Per annotator and overall numbers of a project, and a page of its documents (in import
    order): a fixed number of grouped queries, however many documents and assignments.

    Each query starts from the annotators' own rows (or the page's documents) and checks each
    row's live assignment with a probe (assignments.is_live), so that no planner (SQLite's, without
    statistics, included) can turn it into a pass over an annotator's rows per assignment."""
    project = get_project(session, actor, project_id)
    people = {user.id: AnnotatorProgress(user) for user in session.scalars(holders(project.id, ACTIVE_STATUSES))}
    for fields, statement in _totals(project, list(people)):
        for user_id, *values in session.execute(statement):
            person = people[user_id]
            for field, value in zip(fields, values):
                if field != "last_activity":
                    setattr(person, field, int(value or 0))
                elif value is not None:
                    person.last_activity = max(filter(None, (person.last_activity, value)))
    assigned, complete = session.execute(_completion(project, list(people))).one()
    return ProjectProgress(project, list(people.values()), _documents(session, project, page), assigned, complete)


def _totals(project: Project, user_ids: list[int]) -> list[tuple[tuple[str, ...], Select]]:
    """The annotators' numbers: statements giving (user id, values) per user, each with the
    AnnotatorProgress fields its values are; ``last_activity`` is the latest of those found."""
    in_project = Document.project_id == project.id
    live = Assignment.status.in_(ACTIVE_STATUSES)
    layers = _done_layers(project.codebook)
    per_sentence = (  # each sentence the annotators labelled: how many done-layers have a value, the last change
        select(SentenceLabel.user_id, SentenceLabel.sentence_id,
               func.count(case((SentenceLabel.layer.in_(layers) & SentenceLabel.value.is_not(None), 1))).label("values"),
               func.max(SentenceLabel.updated_at).label("at"))
        .where(SentenceLabel.user_id.in_(user_ids))
        .group_by(SentenceLabel.user_id, SentenceLabel.sentence_id)
        .subquery()
    )
    located = select(per_sentence, _document_of(per_sentence.c.sentence_id).label("document_id")).subquery()
    labelled = func.count(case((located.c["values"] == len(layers), 1))) if layers else literal(0)
    per_document = (  # then per document, so that each (annotator, document) is checked once
        select(located.c.user_id, located.c.document_id, labelled.label("labelled"), func.max(located.c.at).label("at"))
        .group_by(located.c.user_id, located.c.document_id)
        .subquery()
    )
    return [
        (("documents_assigned", "documents_done"),
         select(Assignment.user_id, func.count(), ASSIGNMENTS_DONE).join(Document, Document.id == Assignment.document_id)
         .where(Assignment.user_id.in_(user_ids), in_project, live).group_by(Assignment.user_id)),
        (("sentences_total",),
         select(Assignment.user_id, func.count()).join(Document, Document.id == Assignment.document_id)
         .join(Sentence, Sentence.document_id == Assignment.document_id)
         .where(Assignment.user_id.in_(user_ids), in_project, live).group_by(Assignment.user_id)),
        (("sentences_labelled", "last_activity"),
         select(per_document.c.user_id, func.sum(per_document.c.labelled), func.max(per_document.c.at))
         .join(Document, Document.id == per_document.c.document_id)
         .where(in_project, is_live(per_document.c.user_id, per_document.c.document_id)).group_by(per_document.c.user_id)),
        (("spans", "last_activity"),
         select(Span.user_id, func.count(), func.max(Span.updated_at)).join(Document, Document.id == Span.document_id)
         .where(Span.user_id.in_(user_ids), in_project, is_live(Span.user_id, Span.document_id)).group_by(Span.user_id)),
        (("last_activity",),
         select(Attribution.user_id, func.max(Attribution.updated_at)).join(Document, Document.id == Attribution.document_id)
         .where(Attribution.user_id.in_(user_ids), in_project, is_live(Attribution.user_id, Attribution.document_id))
         .group_by(Attribution.user_id)),
        (("active_ms", "last_activity"),
         select(SentenceTime.user_id, func.sum(SentenceTime.active_ms), func.max(SentenceTime.updated_at))
         .join(Sentence, Sentence.id == SentenceTime.sentence_id).join(Document, Document.id == Sentence.document_id)
         .where(SentenceTime.user_id.in_(user_ids), in_project, is_live(SentenceTime.user_id, Sentence.document_id))
         .group_by(SentenceTime.user_id)),
        # The user's own events on their live assignments (marking a document done).
        (("last_activity",),
         select(Event.user_id, func.max(Event.created_at))
         .join(Assignment, (Event.entity_type == "assignments") & (Event.entity_id == Assignment.id) & (Event.user_id == Assignment.user_id))
         .join(Document, Document.id == Assignment.document_id)
         .where(Event.user_id.in_(user_ids), in_project, live).group_by(Event.user_id)),
    ]


def _document_of(sentence_id) -> ScalarSelect:
    """The document of a sentence, looked up row by row: the few sentences an annotator labelled,
    where a join could have PostgreSQL hash every sentence of the database first."""
    return select(Sentence.document_id).where(Sentence.id == sentence_id).scalar_subquery()


def _completion(project: Project, user_ids: list[int]) -> Select:
    """(documents with a live assignment of the annotators, those whose live assignments are all done)."""
    per_document = (
        select(func.count().label("holders"), ASSIGNMENTS_DONE.label("done"))
        .join(Document, Document.id == Assignment.document_id)
        .where(Assignment.user_id.in_(user_ids), Document.project_id == project.id, Assignment.status.in_(ACTIVE_STATUSES))
        .group_by(Assignment.document_id)
        .subquery()
    )
    return select(func.count(), func.count(case((per_document.c.done == per_document.c.holders, 1)))).select_from(per_document)


def _documents(session: Session, project: Project, page: int) -> Page[DocumentProgress]:
    """A page of the project's documents: their sentences, live assignments and how many are done."""
    in_project = Document.project_id == project.id
    documents = session.scalars(cut(
        select(Document).where(in_project).order_by(Document.id).options(load_only(Document.id, Document.title)),
        page, DOCUMENTS_PAGE_SIZE,
    )).all()
    ids = [document.id for document in documents]
    sentences = sentence_counts(session, ids)
    held = {
        document_id: (holding, done) for document_id, holding, done in session.execute(
            select(Assignment.document_id, func.count(), ASSIGNMENTS_DONE)
            .where(Assignment.document_id.in_(ids), Assignment.status.in_(ACTIVE_STATUSES), not_gold(Assignment.user_id))
            .group_by(Assignment.document_id)
        )
    }
    return page_of(
        [DocumentProgress(document, sentences.get(document.id, 0), *held.get(document.id, (0, 0))) for document in documents],
        page, DOCUMENTS_PAGE_SIZE, session.scalar(select(func.count(Document.id)).where(in_project)),
    )
