"""Who annotates which document, and how far along each assignment is.

Every read and write of annotations checks the annotator's assignment here
(:func:`active_assignment`). Supervisors (and admins) assign documents by hand or
automatically, withdraw, reassign and reopen; annotators mark their own assignments done.
Every change appends an audit event.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from . import audit
from ..db import reads, writes
from ..errors import Conflict, Forbidden, NotFound, ServiceError
from ..models import Assignment, Document, Project, Sentence, SentenceLabel, User, utcnow
from .permissions import ANYONE, SUPERVISORS, Actor
from .projects import get_project
from .users import not_gold, user_by_id

ACTIVE_STATUSES = ("assigned", "in_progress", "done")


def _json(assignment: Assignment, user: User | None = None) -> dict:
    body = {"document_id": assignment.document_id, "status": assignment.status}
    if user is not None:
        body = {"user": user.username, **body}
    return body


@writes(SUPERVISORS)
def assign(
    session: Session, actor: Actor, project_id: int, user_ids: Sequence[int], document_ids: Sequence[int] | None = None,
) -> list[Assignment]:
    """Give the project's documents (``document_ids``, else all of them) to each of the users;
    already assigned ones are left as they are. A withdrawn assignment is restored, with the
    annotations made under it."""
    project = get_project(session, actor, project_id)
    if not user_ids:
        raise ServiceError("choose at least one annotator", field="user")
    people = [user_by_id(session, actor, user_id) for user_id in user_ids]
    inactive = [user.username for user in people if not user.active]
    if inactive:
        raise ServiceError(f"deactivated: {', '.join(inactive)}", field="user")
    query = select(Document).where(Document.project_id == project.id).order_by(Document.id)
    if document_ids is not None:
        if not document_ids:
            raise ServiceError("choose at least one document", field="documents")
        query = query.where(Document.id.in_(document_ids))
    documents = session.scalars(query).all()
    missing = set(document_ids or ()) - {document.id for document in documents}
    if missing:
        raise ServiceError(f"no document {', '.join(map(str, sorted(missing)))} in project {project.name!r}", field="documents")
    return [assignment for user in people for assignment in _give(session, actor, user, documents)]


def _give(session: Session, actor: Actor, user: User, documents: Sequence[Document]) -> list[Assignment]:
    created = []
    for document in documents:
        assignment = session.scalar(
            select(Assignment).where(Assignment.user_id == user.id, Assignment.document_id == document.id)
        )
        if assignment is None:
            assignment = Assignment(user_id=user.id, document_id=document.id)
            session.add(assignment)
        elif assignment.status == "withdrawn":
            assignment.status = "assigned"
        else:
            continue
        audit.record(session, actor=actor, action="assign", entity=assignment, after=_json(assignment, user))
        created.append(assignment)
    return created


@reads(SUPERVISORS)
def get_assignment(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    return _assignment(session, assignment_id)


def _assignment(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("no such assignment", field="assignment_id")
    return assignment


@writes(SUPERVISORS)
def withdraw(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    """Take the document away from the annotator. Nothing is deleted: the annotations stay,
    read-only, marked by the assignment's status 'withdrawn'."""
    assignment = _assignment(session, assignment_id)
    if assignment.status == "withdrawn":
        raise Conflict("this assignment is already withdrawn", field="assignment_id")
    before = _json(assignment, assignment.user)
    assignment.status = "withdrawn"
    audit.record(session, actor=actor, action="withdraw", entity=assignment, before=before, after=_json(assignment, assignment.user))
    return assignment


@writes(SUPERVISORS)
def reassign(session: Session, actor: Actor, assignment_id: int, to_user_id: int) -> Assignment:
    """Withdraw the assignment from its annotator and give the document to another one, who
    starts from their own (usually empty) annotations; the first annotator's stay."""
    assignment = _assignment(session, assignment_id)
    to_user = user_by_id(session, actor, to_user_id)
    if to_user.id == assignment.user_id:
        raise ServiceError("reassign to a different annotator", field="user")
    taken = session.scalar(
        select(Assignment.id).where(
            Assignment.user_id == to_user.id,
            Assignment.document_id == assignment.document_id,
            Assignment.status.in_(ACTIVE_STATUSES),
        )
    )
    if taken is not None:
        raise Conflict(f"{to_user.username!r} already has this document", field="user")
    if not to_user.active:
        raise ServiceError(f"{to_user.username!r} is deactivated", field="user")
    withdraw(session, actor, assignment_id)
    return _give(session, actor, to_user, [assignment.document])[0]


@writes(SUPERVISORS)
def reopen(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    """Make a done assignment editable again (status back to in_progress)."""
    assignment = _assignment(session, assignment_id)
    if assignment.status != "done":
        raise Conflict("only a done assignment can be reopened", field="assignment_id")
    before = _json(assignment, assignment.user)
    assignment.status, assignment.completed_at = "in_progress", None
    audit.record(session, actor=actor, action="reopen", entity=assignment, before=before, after=_json(assignment, assignment.user))
    return assignment


@writes(ANYONE)
def mark_done(session: Session, actor: Actor, document_id: int) -> dict:
    """The annotator declares their own assignment finished: it becomes read-only for them
    until a supervisor reopens it. Marking a done assignment again changes nothing."""
    assignment = active_assignment(session, actor, document_id, for_write=False)
    if assignment.status != "done":
        before = _json(assignment)
        assignment.status, assignment.completed_at = "done", utcnow()
        audit.record(session, actor=actor, action="done", entity=assignment, before=before, after=_json(assignment))
    return status_json(assignment)


def status_json(assignment: Assignment) -> dict:
    """What the API answers about an assignment's state; times in UTC."""
    completed = assignment.completed_at
    return {
        "document_id": assignment.document_id,
        "status": assignment.status,
        "completed_at": completed.isoformat() if completed else None,
    }


# -- automatic ---------------------------------------------------------------------------------


@dataclass
class Load:
    user: User
    documents: int = 0
    sentences: int = 0
    new_documents: int = 0


@dataclass
class AutoAssignment:
    created: list[Assignment]
    loads: list[Load]
    calibration: list[Document]
    short: list[Document] = field(default_factory=list)  # still under k: too few candidates


def _key(seed: int, document: Document) -> str:
    """A document's place in the seeded order: depends only on the seed and its content."""
    return hashlib.sha256(f"{seed}:{document.content_hash}".encode()).hexdigest()


def _sentence_counts(session: Session, project: Project) -> dict[int, int]:
    return dict(
        session.execute(
            select(Sentence.document_id, func.count(Sentence.id))
            .join(Document)
            .where(Document.project_id == project.id)
            .group_by(Sentence.document_id)
        ).all()
    )


def _eligible_annotators(session: Session) -> list[User]:
    """Active annotators (never the gold account, even if someone reactivated it)."""
    return list(session.scalars(
        select(User).where(User.active, User.role == "annotator", not_gold(User.id)).order_by(User.username)
    ))


@writes(SUPERVISORS)
def auto_assign(
    session: Session,
    actor: Actor,
    project_id: int,
    per_document: int,
    *,
    seed: int = 0,
    calibration: int = 0,
    annotator_ids: Sequence[int] | None = None,
) -> AutoAssignment:
    """Give every document of the project to ``per_document`` annotators, balancing sentences.

    Eligible: the users ``annotator_ids`` if given, else every active user with the role annotator.
    ``calibration`` documents (the first in the seeded order) go to every eligible annotator.
    The other documents, longest first (ties in the seeded order), each go to the least
    loaded eligible annotators (load = sentences already assigned in the project, live
    assignments; ties broken by a generator seeded with ``seed``) until they have
    ``per_document`` live assignments held by active users. Existing assignments are never
    moved, and an annotator withdrawn from a document never gets it back from here. Same
    documents, annotators, existing assignments and seed: same result. Everything is checked
    before anything is written.
    """
    project = get_project(session, actor, project_id)
    if annotator_ids is not None and not annotator_ids:
        raise ServiceError("choose at least one annotator", field="annotators")
    annotators = None if annotator_ids is None else [user_by_id(session, actor, user_id) for user_id in annotator_ids]
    if annotators is not None:
        eligible = {user.id for user in _eligible_annotators(session)}
        others = [user.username for user in annotators if user.active and user.id not in eligible]
        if others:
            raise ServiceError(f"not annotators: {', '.join(others)}", field="annotators")
    pool = sorted({user.id: user for user in (annotators if annotators is not None else _eligible_annotators(session))}.values(), key=lambda u: u.username)
    inactive = [user.username for user in pool if not user.active]
    if inactive:
        raise ServiceError(f"deactivated: {', '.join(inactive)}", field="annotators")
    if per_document < 1:
        raise ServiceError("annotators per document must be at least 1", field="per_document")
    if per_document > len(pool):
        raise ServiceError(
            f"cannot give each document to {per_document} annotators: only {len(pool)} eligible "
            f"annotator(s){'' if annotators is not None else ' (active users with the role annotator)'}",
            field="per_document",
        )
    documents = session.scalars(select(Document).where(Document.project_id == project.id)).all()
    if not documents:
        raise ServiceError(f"project {project.name!r} has no documents", field="project")
    if not 0 <= calibration <= len(documents):
        raise ServiceError(f"the calibration set must have between 0 and {len(documents)} documents", field="calibration")

    sentences = _sentence_counts(session, project)
    existing = session.execute(
        select(Assignment.user_id, Assignment.document_id, Assignment.status, User.active)
        .join(User)
        .join(Document)
        .where(Document.project_id == project.id)
    ).all()
    held = {(row.user_id, row.document_id) for row in existing}  # any status, withdrawn too
    live = {}
    for row in existing:
        if row.status in ACTIVE_STATUSES and row.active:
            live[row.document_id] = live.get(row.document_id, 0) + 1
    loads = {user.id: Load(user) for user in pool}
    for row in existing:
        if row.user_id in loads and row.status in ACTIVE_STATUSES:
            loads[row.user_id].documents += 1
            loads[row.user_id].sentences += sentences.get(row.document_id, 0)

    created: list[Assignment] = []

    def give(user: User, document: Document, is_calibration: bool) -> None:
        assignment = Assignment(user_id=user.id, document_id=document.id)
        session.add(assignment)
        held.add((user.id, document.id))
        load = loads[user.id]
        load.documents, load.new_documents = load.documents + 1, load.new_documents + 1
        load.sentences += sentences.get(document.id, 0)
        after = _json(assignment, user) | {"auto": {"seed": seed, "per_document": per_document, "calibration": is_calibration}}
        audit.record(session, actor=actor, action="assign", entity=assignment, after=after)
        created.append(assignment)

    rng = random.Random(seed)
    ordered = sorted(documents, key=lambda document: _key(seed, document))
    calibration_set = ordered[:calibration]
    for document in calibration_set:
        for user in pool:
            if (user.id, document.id) not in held:
                give(user, document, True)
    short = []
    rest = sorted(ordered[calibration:], key=lambda document: -sentences.get(document.id, 0))  # stable
    for document in rest:
        need = per_document - live.get(document.id, 0)
        if need <= 0:
            continue
        candidates = [user for user in pool if (user.id, document.id) not in held]
        draws = {user.id: rng.random() for user in candidates}
        candidates.sort(key=lambda user: (loads[user.id].sentences, draws[user.id]))
        if len(candidates) < need:
            short.append(document)
        for user in candidates[:need]:
            give(user, document, False)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict("assignments changed at the same moment; run it again") from error
    return AutoAssignment(created, list(loads.values()), calibration_set, short)


@reads(SUPERVISORS)
def loads_of(session: Session, actor: Actor, project_id: int, user_ids: Sequence[int]) -> list[Load]:
    """Documents and sentences each user holds (live assignments) in the project."""
    project = get_project(session, actor, project_id)
    sentences = _sentence_counts(session, project)
    loads = {user_id: Load(user_by_id(session, actor, user_id)) for user_id in user_ids}
    rows = session.execute(
        select(Assignment.user_id, Assignment.document_id)
        .join(Document)
        .where(Document.project_id == project.id, Assignment.status.in_(ACTIVE_STATUSES), Assignment.user_id.in_(loads))
    ).all()
    for row in rows:
        loads[row.user_id].documents += 1
        loads[row.user_id].sentences += sentences.get(row.document_id, 0)
    return list(loads.values())


# -- the matrix of the assignment page ----------------------------------------------------------


@dataclass
class Matrix:
    project: Project
    documents: list[tuple[Document, int]]  # with its number of sentences
    users: list[User]  # columns: everyone holding an assignment, then the other eligible annotators
    cells: dict[tuple[int, int], Assignment]  # (document id, user id)
    candidates: list[User]  # whom the page offers for assigning by hand and reassigning


@reads(SUPERVISORS)
def assignment_matrix(session: Session, actor: Actor, project_id: int) -> Matrix:
    project = get_project(session, actor, project_id)
    sentences = _sentence_counts(session, project)
    documents = session.scalars(select(Document).where(Document.project_id == project.id).order_by(Document.id)).all()
    rows = session.scalars(
        select(Assignment).join(Document)
        .where(Document.project_id == project.id, not_gold(Assignment.user_id))
        .options(joinedload(Assignment.user))
    ).all()
    cells = {(row.document_id, row.user_id): row for row in rows}
    candidates = _eligible_annotators(session)
    users = {row.user.id: row.user for row in rows} | {user.id: user for user in candidates}
    return Matrix(
        project,
        [(document, sentences.get(document.id, 0)) for document in documents],
        sorted(users.values(), key=lambda user: user.username),
        cells,
        candidates,
    )


# -- the annotator's side -----------------------------------------------------------------------


def active_assignment(session: Session, user: User, document_id: int, *, for_write: bool = True) -> Assignment:
    """The user's live assignment to the document, or 404 (whether or not the document exists).

    Withdrawn assignments are refused (403); done ones too when ``for_write`` (read-only until
    a supervisor reopens them), but can still be read.
    """
    assignment = session.scalar(
        select(Assignment)
        .where(Assignment.user_id == user.id, Assignment.document_id == document_id)
        .options(joinedload(Assignment.document).joinedload(Document.project))
    )
    if assignment is None:
        raise NotFound("no such document among your assignments", field="document_id")
    if assignment.status not in ACTIVE_STATUSES:
        raise Forbidden("this assignment was withdrawn; its annotations are kept read-only", field="document_id")
    if for_write and assignment.status == "done":
        raise Forbidden("you marked this document done; it is read-only until a supervisor reopens it", field="document_id")
    return assignment




def _done_layers(codebook_data: dict) -> list[str]:
    """The sentence layers whose value makes a sentence count as done: the required ones,
    else every choice layer."""
    layers = codebook_data.get("choice_layers", [])
    required = [layer["name"] for layer in layers if layer.get("required")]
    return required or [layer["name"] for layer in layers]


@dataclass(frozen=True)
class Progress:
    assignment: Assignment
    done: int
    total: int
    next_position: int  # the first sentence not done yet (0 when all are done)


@reads(ANYONE)
def my_progress(session: Session, actor: Actor) -> list[Progress]:
    """The actor's live assignments: sentences done / total per document, and where to continue."""
    user = actor
    assignments = session.scalars(
        select(Assignment)
        .join(Document)
        .where(Assignment.user_id == user.id, Assignment.status.in_(ACTIVE_STATUSES))
        .order_by(Document.project_id, Document.id)
    ).all()
    result = []
    for assignment in assignments:
        document = assignment.document
        layers = _done_layers(document.project.codebook)
        positions = session.scalars(select(Sentence.position).where(Sentence.document_id == document.id).order_by(Sentence.position)).all()
        labelled = select(SentenceLabel.sentence_id).where(
            SentenceLabel.user_id == user.id,
            SentenceLabel.layer.in_(layers),
            SentenceLabel.value.is_not(None),
        ).group_by(SentenceLabel.sentence_id).having(func.count(func.distinct(SentenceLabel.layer)) == len(layers))
        done_positions = set(
            session.scalars(
                select(Sentence.position).where(Sentence.document_id == document.id, Sentence.id.in_(labelled))
            )
        )
        next_position = next((p for p in positions if p not in done_positions), 0)
        result.append(Progress(assignment, len(done_positions), len(positions), next_position))
    return result
