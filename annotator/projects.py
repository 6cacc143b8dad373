"""Projects: a name and a versioned codebook."""

from __future__ import annotations

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from . import audit
from .codebook import Codebook, default_codebook
from .db import writes
from .errors import Conflict, NotFound, ServiceError
from .models import Document, Project, Sentence, User

DEFAULT_PROJECT = "default"


def get_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise NotFound(f"no project named {name!r}", field="project")
    return project


@writes
def create_project(
    session: Session, name: str, codebook: Codebook | None = None, *, actor: User | None = None
) -> Project:
    name = name.strip()
    if not name:
        raise ServiceError("project name must not be empty", field="name")
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"project {name!r} already exists", field="name")
    codebook = codebook or default_codebook()
    project = Project(name=name, codebook=codebook.to_dict(), codebook_version=codebook.version)
    session.add(project)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity=project,
        after={"name": name, "codebook_version": codebook.version},
    )
    return project


@writes
def get_or_create_project(session: Session, name: str, *, actor: User | None = None) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    return project or create_project(session, name, actor=actor)


def project_counts(session: Session) -> list[Row]:
    """Each project with its codebook name and its numbers of documents and sentences."""
    documents = (
        select(Document.project_id, func.count(Document.id).label("documents"))
        .group_by(Document.project_id)
        .subquery()
    )
    sentences = (
        select(Document.project_id, func.count(Sentence.id).label("sentences"))
        .join(Sentence, Sentence.document_id == Document.id)
        .group_by(Document.project_id)
        .subquery()
    )
    return session.execute(
        select(
            Project.id,
            Project.name,
            Project.codebook["name"].as_string().label("codebook"),
            Project.codebook_version,
            func.coalesce(documents.c.documents, 0).label("documents"),
            func.coalesce(sentences.c.sentences, 0).label("sentences"),
        )
        .outerjoin(documents, documents.c.project_id == Project.id)
        .outerjoin(sentences, sentences.c.project_id == Project.id)
        .order_by(Project.name)
    ).all()
