"""Projects: a name and a versioned codebook."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .codebook import Codebook, default_codebook
from .db import writes
from .errors import Conflict, NotFound, ServiceError
from .models import Project, User

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
