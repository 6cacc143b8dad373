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

from sqlalchemy import Select, case, exists, false, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, load_only

from . import audit
from ..db import reads, writes
from ..errors import Conflict, Forbidden, NotFound, ServiceError
from ..models import ASSIGNMENT_STATUSES, Assignment, Document, Project, Sentence, SentenceLabel, User, utcnow
from .paging import Page, cut, page_of
from .permissions import ANYONE, SUPERVISORS, Actor
from .projects import get_project, sees_project, sentence_counts
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
    query = select(Document.id).where(Document.project_id == project.id).order_by(Document.id)
    if document_ids is not None:
        if not document_ids:
            raise ServiceError("choose at least one document", field="documents")
        query = query.where(Document.id.in_(document_ids))
    documents = session.scalars(query).all()
    missing = set(document_ids or ()) - set(documents)
    if missing:
        raise ServiceError(f"no document {', '.join(map(str, sorted(missing)))} in project {project.name!r}", field="documents")
    return _give(session, actor, project.id, people, documents)


def _give(session: Session, actor: Actor, project_id: int, people: Sequence[User], document_ids: Sequence[int]) -> list[Assignment]:
    """Give each of the project's documents ``document_ids`` to each of ``people``: new
    assignments inserted in one statement, withdrawn ones restored in one more, live ones left
    as they are. Returns those given, by user then document, each with its audit event (all
    recorded in one statement)."""
    scope = (Assignment.user_id.in_([user.id for user in people]),
             Assignment.document_id.in_(select(Document.id).where(Document.project_id == project_id)))
    live = {(user_id, document_id) for user_id, document_id in session.execute(
        select(Assignment.user_id, Assignment.document_id).where(*scope, Assignment.status != "withdrawn")
    )}
    withdrawn = {(assignment.user_id, assignment.document_id): assignment for assignment in session.scalars(
        select(Assignment).where(*scope, Assignment.status == "withdrawn").execution_options(populate_existing=True)
    )}
    wanted = [(user, document_id) for user in people for document_id in document_ids if (user.id, document_id) not in live]
    new = iter(_insert(session, [(user, document_id) for user, document_id in wanted
                                 if (user.id, document_id) not in withdrawn]))
    given = [withdrawn.get((user.id, document_id)) or next(new) for user, document_id in wanted]
    for assignment in given:
        if assignment.status == "withdrawn":
            assignment.status = "assigned"
    session.flush()  # the restored ones: one executemany UPDATE
    _draw_conditions(session, project_id)
    audit.record_many(session, actor=actor, action="assign", entity_type=Assignment.__tablename__,
                      changes=[(assignment.id, None, _json(assignment, user)) for assignment, (user, _) in zip(given, wanted)])
    return given


def _insert(session: Session, pairs: Sequence[tuple[User, int]]) -> list[Assignment]:
    """New assignments of (user, document id), in one statement (sent in pages of rows); in
    the order given."""
    # RETURNING rows in no promised order (asking for it costs a statement per row on SQLite),
    # matched to the pairs by (user, document), unique.
    inserted = {(assignment.user_id, assignment.document_id): assignment for assignment in session.scalars(
        insert(Assignment).returning(Assignment),
        [{"user_id": user.id, "document_id": document_id} for user, document_id in pairs],
    )} if pairs else {}
    return [inserted[user.id, document_id] for user, document_id in pairs]


def _draw_conditions(session: Session, project_id: int) -> None:
    """New assignments of a project whose half-blind design is on get their condition by its rule."""
    # Imported here: annotator.services.suggestions imports this module.
    from .suggestions import apply_design

    project = session.get(Project, project_id)
    if project.suggestions_enabled:
        apply_design(session, project, redraw=False)


@reads(SUPERVISORS)
def get_assignment(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    return _assignment(session, actor, assignment_id)


def _assignment(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    """The assignment, if its project is one the actor sees (else, to them, there is none)."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or not sees_project(session, actor, assignment.document.project_id):
        raise NotFound("no such assignment", field="assignment_id")
    return assignment


@writes(SUPERVISORS)
def withdraw(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    """Take the document away from the annotator. Nothing is deleted: the annotations stay,
    read-only, marked by the assignment's status 'withdrawn'."""
    assignment = _assignment(session, actor, assignment_id)
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
    assignment = _assignment(session, actor, assignment_id)
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
    return _give(session, actor, assignment.document.project_id, [to_user], [assignment.document_id])[0]


@writes(SUPERVISORS)
def reopen(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    """Make a done assignment editable again (status back to in_progress)."""
    assignment = _assignment(session, actor, assignment_id)
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
    documents = session.scalars(
        select(Document).where(Document.project_id == project.id).options(load_only(Document.id, Document.content_hash))
    ).all()
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

    given: list[tuple[User, int, bool]] = []  # (user, document id, calibration), inserted at the end

    def give(user: User, document: Document, is_calibration: bool) -> None:
        held.add((user.id, document.id))
        load = loads[user.id]
        load.documents, load.new_documents = load.documents + 1, load.new_documents + 1
        load.sentences += sentences.get(document.id, 0)
        given.append((user, document.id, is_calibration))

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
        created = _insert(session, [(user, document_id) for user, document_id, _ in given])
    except IntegrityError as error:
        raise Conflict("assignments changed at the same moment; run it again") from error
    _draw_conditions(session, project.id)
    audit.record_many(session, actor=actor, action="assign", entity_type=Assignment.__tablename__, changes=[
        (assignment.id, None,
         _json(assignment, user) | {"auto": {"seed": seed, "per_document": per_document, "calibration": is_calibration}})
        for assignment, (user, _, is_calibration) in zip(created, given)
    ])
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


MATRIX_PAGE_SIZE = 100  # documents (rows) a page of the assignment matrix shows


@dataclass
class Matrix:
    project: Project
    documents: Page[tuple[Document, int]]  # a page of the project's documents, each with its number of sentences
    users: list[User]  # columns: everyone holding an assignment in the project and every eligible annotator, by name
    cells: dict[tuple[int, int], Assignment]  # (document id, user id), for the documents of the page
    candidates: list[User]  # whom the page offers for assigning by hand and reassigning


def holders(project_id: int, statuses: Sequence[str] = ASSIGNMENT_STATUSES) -> Select:
    """The users (never gold) holding an assignment in one of ``statuses`` in the project, by
    name (SQLite probes each account's assignments; PostgreSQL hashes the project's)."""
    return select(User).where(not_gold(User.id), exists().where(
        Assignment.user_id == User.id, Assignment.status.in_(statuses),
        Assignment.document_id == Document.id, Document.project_id == project_id,
    )).order_by(User.username)


def is_live(user_id, document_id):
    """Whether the user's assignment to the document is live: a probe of its (user, document)
    key, for queries that start from a user's own rows (labels, spans) and keep those made under
    a live assignment."""
    return exists().where(Assignment.user_id == user_id, Assignment.document_id == document_id,
                          Assignment.status.in_(ACTIVE_STATUSES))


@reads(SUPERVISORS)
def assignment_matrix(session: Session, actor: Actor, project_id: int, page: int = 1) -> Matrix:
    """Who holds which document, a page of documents (in import order) at a time; the columns
    are the same on every page."""
    project = get_project(session, actor, project_id)
    in_project = Document.project_id == project.id
    documents = session.scalars(cut(
        select(Document).where(in_project).order_by(Document.id).options(load_only(Document.id, Document.project_id, Document.title)),
        page, MATRIX_PAGE_SIZE,
    )).all()
    ids = [document.id for document in documents]
    sentences = sentence_counts(session, ids)
    rows = session.scalars(select(Assignment).where(Assignment.document_id.in_(ids), not_gold(Assignment.user_id))).all()
    cells = {(row.document_id, row.user_id): row for row in rows}
    candidates = _eligible_annotators(session)
    total = session.scalar(select(func.count(Document.id)).where(in_project))
    users = {user.id: user for user in session.scalars(holders(project.id))} | {user.id: user for user in candidates}
    return Matrix(
        project,
        page_of([(document, sentences.get(document.id, 0)) for document in documents], page, MATRIX_PAGE_SIZE, total),
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
    require_live(assignment.status if assignment is not None else None, for_write=for_write)
    return assignment


def require_live(status: str | None, *, for_write: bool = True) -> None:
    """:func:`active_assignment`'s refusals, from the assignment's status (None: no assignment),
    for a caller that read it itself."""
    if status is None:
        raise NotFound("no such document among your assignments", field="document_id")
    if status not in ACTIVE_STATUSES:
        raise Forbidden("this assignment was withdrawn; its annotations are kept read-only", field="document_id")
    if for_write and status == "done":
        raise Forbidden("you marked this document done; it is read-only until a supervisor reopens it", field="document_id")




def _done_layers(codebook_data: dict) -> list[str]:
    """The sentence layers whose value makes a sentence count as done: the required ones,
    else every choice layer."""
    layers = codebook_data.get("choice_layers", [])
    required = [layer["name"] for layer in layers if layer.get("required")]
    return required or [layer["name"] for layer in layers]


HOME_PAGE_SIZE = 100  # assignments a page of the annotator's home lists


@dataclass(frozen=True)
class Progress:
    assignment: Assignment
    done: int
    total: int
    next_position: int  # the first sentence not done yet (0 when all are done)


@reads(ANYONE)
def my_progress(session: Session, actor: Actor, page: int = 1) -> Page[Progress]:
    """A page of the actor's live assignments, by project then document: sentences done / total
    per document, and where to continue; ``total`` counts them all. A few grouped queries a
    page, however many assignments there are."""
    live = (Assignment.user_id == actor.id, Assignment.status.in_(ACTIVE_STATUSES))
    assignments = session.scalars(cut(
        select(Assignment).join(Assignment.document).where(*live).order_by(Document.project_id, Document.id)
        .options(contains_eager(Assignment.document).load_only(Document.id, Document.project_id, Document.title, Document.outlet)
                 .selectinload(Document.project).undefer(Project.codebook)),
        page, HOME_PAGE_SIZE,
    )).all()
    by_project: dict[int, list[Assignment]] = {}
    for assignment in assignments:
        by_project.setdefault(assignment.document.project_id, []).append(assignment)
    counts: dict[int, tuple[int, int, int]] = {}
    for mine in by_project.values():
        layers = _done_layers(mine[0].document.project.codebook)
        counts |= _sentences_done(session, actor.id, [assignment.document_id for assignment in mine], layers)
    return page_of(
        [Progress(assignment, *counts.get(assignment.document_id, (0, 0, 0))) for assignment in assignments],
        page, HOME_PAGE_SIZE, session.scalar(select(func.count(Assignment.id)).where(*live)),
    )


def _sentences_done(session: Session, user_id: int, document_ids: list[int], layers: list[str]) -> dict[int, tuple[int, int, int]]:
    """Per document: the user's sentences done (a value on each of ``layers``; none without
    layers), its sentences, and the position of the first not done (0 when all are). Driven by
    the documents' sentences, each looked up in the user's labels."""
    values = (
        select(func.count()).where(SentenceLabel.sentence_id == Sentence.id, SentenceLabel.user_id == user_id,
                                   SentenceLabel.layer.in_(layers), SentenceLabel.value.is_not(None))
        .correlate(Sentence).scalar_subquery()
    )
    sentences = select(Sentence.document_id, Sentence.position, values.label("values")) \
        .where(Sentence.document_id.in_(document_ids)).subquery()
    done = (sentences.c["values"] == len(layers)) if layers else false()
    rows = session.execute(
        select(sentences.c.document_id, func.count(case((done, 1))), func.count(),
               func.min(case((~done, sentences.c.position))))
        .group_by(sentences.c.document_id)
    )
    return {document: (n_done, total, first_open or 0) for document, n_done, total, first_open in rows}
