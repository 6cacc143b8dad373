"""How far the annotators of a project are, and the active time the annotation page reports.

Definitions (docs/supervision.md): everything counts over an annotator's live assignments
(assigned, in progress, done) in the project. A sentence is labelled when it has a value for
every required choice layer of the codebook (every choice layer when none is required), as
on the annotator's home page. Active time is the sum the page reported for those sentences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .assignments import ACTIVE_STATUSES, _done_layers, active_assignment
from ..db import reads, writes
from ..errors import ServiceError
from ..models import ID_MAX, Assignment, Attribution, Document, Event, Sentence, SentenceLabel, SentenceTime, Span, User, utcnow
from .permissions import ANYONE, SUPERVISORS, Actor
from .projects import get_project
from .users import not_gold

MAX_ACTIVITY_MS = 10 * 60 * 1000  # the most one report may add


# -- active time --------------------------------------------------------------------------------


def _positive_int(data: dict, name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ServiceError(f"{name} must be an integer", field=name)
    return value


@writes(ANYONE)
def record_activity(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    """Add ``data["ms"]`` of active time on ``data["sentence_id"]`` to the actor's running total.

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
    # One atomic statement: concurrent reports add up instead of racing on the unique key.
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(SentenceTime)
    now = utcnow()
    statement = insert.values(user_id=user.id, sentence_id=sentence_id, active_ms=ms, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[SentenceTime.user_id, SentenceTime.sentence_id],
        set_={"active_ms": SentenceTime.active_ms + statement.excluded.active_ms, "updated_at": now},
    ).returning(SentenceTime.active_ms)
    total = session.execute(statement).scalar_one()
    return {"sentence_id": sentence_id, "active_ms": total}


def format_duration(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def format_time(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


# -- the dashboard ------------------------------------------------------------------------------


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
    project: object
    annotators: list[AnnotatorProgress]
    documents: list[DocumentProgress]

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

    @property
    def documents_complete(self) -> int:
        """Documents with at least one live assignment, all of them done."""
        return sum(1 for d in self.documents if d.annotators and d.done == d.annotators)

    @property
    def documents_assigned(self) -> int:
        return sum(1 for d in self.documents if d.annotators)


def _per_user_document(session: Session, statement) -> dict[tuple[int, int], int]:
    return {(row[0], row[1]): row[2] for row in session.execute(statement)}


@reads(SUPERVISORS)
def project_progress(session: Session, actor: Actor, project_id: int) -> ProjectProgress:
    """Per annotator, per document and overall numbers of a project."""
    project = get_project(session, actor, project_id)
    in_project = select(Document.id).where(Document.project_id == project.id)
    sentences = dict(
        session.execute(
            select(Sentence.document_id, func.count(Sentence.id)).where(Sentence.document_id.in_(in_project)).group_by(Sentence.document_id)
        ).all()
    )
    documents = {
        document.id: DocumentProgress(document, sentences.get(document.id, 0))
        for document in session.scalars(select(Document).where(Document.project_id == project.id).order_by(Document.id))
    }
    live = session.execute(
        select(Assignment, User)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.document_id.in_(in_project), Assignment.status.in_(ACTIVE_STATUSES), not_gold(User.id))
        .order_by(User.username)
    ).all()
    people: dict[int, AnnotatorProgress] = {}
    pairs = set()
    for assignment, user in live:
        person = people.setdefault(user.id, AnnotatorProgress(user))
        document = documents[assignment.document_id]
        person.documents_assigned += 1
        person.sentences_total += document.sentences
        document.annotators += 1
        if assignment.status == "done":
            person.documents_done += 1
            document.done += 1
        pairs.add((user.id, assignment.document_id))

    layers = _done_layers(project.codebook)
    complete = (
        select(SentenceLabel.user_id, SentenceLabel.sentence_id)
        .where(SentenceLabel.layer.in_(layers), SentenceLabel.value.is_not(None))
        .group_by(SentenceLabel.user_id, SentenceLabel.sentence_id)
        .having(func.count(func.distinct(SentenceLabel.layer)) == len(layers))
        .subquery()
    )
    labelled = _per_user_document(
        session,
        select(complete.c.user_id, Sentence.document_id, func.count())
        .join(Sentence, Sentence.id == complete.c.sentence_id)
        .where(Sentence.document_id.in_(in_project))
        .group_by(complete.c.user_id, Sentence.document_id),
    )
    spans = _per_user_document(
        session,
        select(Span.user_id, Span.document_id, func.count(Span.id))
        .where(Span.document_id.in_(in_project))
        .group_by(Span.user_id, Span.document_id),
    )
    times = _per_user_document(
        session,
        select(SentenceTime.user_id, Sentence.document_id, func.sum(SentenceTime.active_ms))
        .join(Sentence, Sentence.id == SentenceTime.sentence_id)
        .where(Sentence.document_id.in_(in_project))
        .group_by(SentenceTime.user_id, Sentence.document_id),
    )
    latest = [
        select(SentenceLabel.user_id, Sentence.document_id, func.max(SentenceLabel.updated_at))
        .join(Sentence, Sentence.id == SentenceLabel.sentence_id)
        .where(Sentence.document_id.in_(in_project))
        .group_by(SentenceLabel.user_id, Sentence.document_id),
        select(Span.user_id, Span.document_id, func.max(Span.updated_at))
        .where(Span.document_id.in_(in_project))
        .group_by(Span.user_id, Span.document_id),
        select(Attribution.user_id, Attribution.document_id, func.max(Attribution.updated_at))
        .where(Attribution.document_id.in_(in_project))
        .group_by(Attribution.user_id, Attribution.document_id),
        select(SentenceTime.user_id, Sentence.document_id, func.max(SentenceTime.updated_at))
        .join(Sentence, Sentence.id == SentenceTime.sentence_id)
        .where(Sentence.document_id.in_(in_project))
        .group_by(SentenceTime.user_id, Sentence.document_id),
        # The user's own events on their assignments (marking a document done).
        select(Event.user_id, Assignment.document_id, func.max(Event.created_at))
        .join(Assignment, (Event.entity_type == "assignments") & (Event.entity_id == Assignment.id) & (Event.user_id == Assignment.user_id))
        .where(Assignment.document_id.in_(in_project))
        .group_by(Event.user_id, Assignment.document_id),
    ]
    for (user_id, document_id) in pairs:
        person = people[user_id]
        person.sentences_labelled += labelled.get((user_id, document_id), 0)
        person.spans += spans.get((user_id, document_id), 0)
        person.active_ms += int(times.get((user_id, document_id)) or 0)
    for statement in latest:
        for (user_id, document_id), moment in _per_user_document(session, statement).items():
            if (user_id, document_id) in pairs and moment is not None:
                person = people[user_id]
                person.last_activity = max(filter(None, (person.last_activity, moment)))
    return ProjectProgress(project, list(people.values()), list(documents.values()))
