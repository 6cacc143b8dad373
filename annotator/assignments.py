"""Who annotates which document. Every read and write of annotations checks it here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from . import audit
from .db import writes
from .errors import Forbidden, NotFound, ServiceError
from .models import Assignment, Document, Sentence, SentenceLabel, User

ACTIVE_STATUSES = ("assigned", "in_progress", "done")


@writes
def assign(
    session: Session, user: User, documents: Iterable[Document], *, actor: User | None = None
) -> list[Assignment]:
    """Give ``documents`` to ``user``; already assigned ones are left as they are.

    A withdrawn assignment is restored, with the annotations made under it.
    """
    if not user.active:
        raise ServiceError(f"{user.username!r} is deactivated", field="user")
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
        audit.record(
            session,
            actor=actor,
            action="assign",
            entity=assignment,
            after={"user": user.username, "document_id": document.id, "status": assignment.status},
        )
        created.append(assignment)
    return created


def active_assignment(session: Session, user: User, document_id: int) -> Assignment:
    """The user's live assignment to the document, or 404 (whether or not the document exists)."""
    assignment = session.scalar(
        select(Assignment)
        .where(Assignment.user_id == user.id, Assignment.document_id == document_id)
        .options(joinedload(Assignment.document).joinedload(Document.project))
    )
    if assignment is None:
        raise NotFound("no such document among your assignments", field="document_id")
    if assignment.status not in ACTIVE_STATUSES:
        raise Forbidden("this assignment was withdrawn; its annotations are kept read-only", field="document_id")
    return assignment


def assignments_of(session: Session, user: User) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment)
            .join(Document)
            .where(Assignment.user_id == user.id, Assignment.status.in_(ACTIVE_STATUSES))
            .order_by(Document.project_id, Document.id)
        )
    )


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


def progress_of(session: Session, user: User, assignments: list[Assignment]) -> list[Progress]:
    """Sentences done / total per assigned document, and where to continue."""
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
