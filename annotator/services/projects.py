"""Projects: a name and a versioned codebook. Admins create them and see them all; a supervisor
sees the projects they are a member of, which an admin adds them to.

Membership is checked here, in one place: every service a supervisor reaches with a project
id looks the project up through :func:`get_project` (or :func:`project_named`), and those
reaching one by a document or an assignment ask :func:`sees_project`. To a supervisor, a
project they are not a member of is one that does not exist: the same 404 as an id no project
has, so its id, name and documents reveal nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Sequence
from pathlib import PurePath
from typing import NamedTuple

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session, object_session

from . import audit
from ..codebook import Codebook, CodebookError, codebook_from_dict, default_codebook
from ..db import reads, writes
from ..errors import Conflict, NotFound, ServiceError
from ..models import Assignment, Document, Project, ProjectMember, Sentence, User
from .paging import Page, cut, page_of
from .permissions import ADMINS, SUPERVISORS, Actor, sees_every_project
from .users import not_gold, user_by_id

CODEBOOK_MAX_BYTES = 1024 * 1024
NAME_MAX = 200  # the column's length

# Parsed codebooks by (database, project id, codebook version): one process may use several
# databases whose projects share ids (the command line's, the tests' throwaway ones).
_codebooks: dict[tuple[str, int, int], Codebook] = {}


def _database(session: Session | None) -> str:
    return "" if session is None else str(session.get_bind().url)


def project_codebook(project: Project) -> Codebook:
    """The project's codebook, parsed once per version."""
    key = (_database(object_session(project)), project.id, project.codebook_version)
    if key not in _codebooks:
        _codebooks[key] = codebook_from_dict(project.codebook, source=f"project {project.name!r}")
    return _codebooks[key]


def codebook_of(session: Session, project_id: int, codebook_version: int) -> Codebook:
    """:func:`project_codebook` for a caller that read only the project's id and codebook
    version (a save): the project is loaded only when that version is not parsed yet."""
    return (_codebooks.get((_database(session), project_id, codebook_version))
            or project_codebook(session.get(Project, project_id)))


def _memberships(actor: Actor) -> Select:
    """The ids of the projects the actor is a member of."""
    return select(ProjectMember.project_id).where(ProjectMember.user_id == actor.id)


@reads(SUPERVISORS)
def sees_project(session: Session, actor: Actor, project_id: int) -> bool:
    """Whether the actor may see the project: an admin (or SYSTEM) any, a supervisor those they
    are a member of. For the services that reach a project through a document or an
    assignment; they answer a project out of reach as one that does not exist."""
    return sees_every_project(actor) or session.scalar(
        _memberships(actor).where(ProjectMember.project_id == project_id)
    ) is not None


@reads(SUPERVISORS)
def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or not sees_project(session, actor, project.id):
        raise NotFound(f"no project with id {project_id}", field="project")
    return project


@reads(SUPERVISORS)
def project_named(session: Session, actor: Actor, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None or not sees_project(session, actor, project.id):
        raise NotFound(f"no project named {name!r}", field="project")
    return project


@writes(ADMINS)
def create_project(session: Session, actor: Actor, name: str, codebook: Codebook | None = None) -> Project:
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise ServiceError(f"project name must be 1-{NAME_MAX} printable characters", field="name")
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"project {name!r} already exists", field="name")
    codebook = codebook or default_codebook()
    project = Project(name=name, codebook=codebook.to_dict(), codebook_version=codebook.version)
    session.add(project)
    audit.record(session, actor=actor, action="create", entity=project,
                 after={"name": name, "codebook_version": codebook.version})
    return project


@writes(ADMINS)
def get_or_create_project(session: Session, actor: Actor, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    return project or create_project(session, actor, name)


@writes(SUPERVISORS)
def set_codebook_language(session: Session, actor: Actor, project_id: int, language: str | None) -> Project:
    """Show the project's codebook to its annotators in ``language``, one the codebook is
    translated into (Codebook.languages); None or "": as written. Audited on the project."""
    project = get_project(session, actor, project_id)
    language = (language or "").strip() or None
    offered = project_codebook(project).languages
    if language is not None and language not in offered:
        raise ServiceError(f"the codebook is not translated into {language[:20]!r}; it is translated into "
                           f"{', '.join(offered) or 'no language'}", field="language")
    if language != project.codebook_language:
        audit.record(session, actor=actor, action="codebook_language", entity=project,
                     before={"codebook_language": project.codebook_language}, after={"codebook_language": language})
        project.codebook_language = language
    return project


@reads(SUPERVISORS)
def list_projects(session: Session, actor: Actor) -> list[Row]:
    """Each project the actor sees (:func:`sees_project`) with its codebook name and its numbers
    of documents, sentences and annotators (users with a live assignment to one of its
    documents)."""
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
    annotators = (
        select(Document.project_id, func.count(func.distinct(Assignment.user_id)).label("annotators"))
        .join(Assignment, Assignment.document_id == Document.id)
        .where(Assignment.status != "withdrawn", not_gold(Assignment.user_id))
        .group_by(Document.project_id)
        .subquery()
    )
    query = (
        select(
            Project.id,
            Project.name,
            Project.codebook["name"].as_string().label("codebook"),
            Project.codebook_version,
            func.coalesce(documents.c.documents, 0).label("documents"),
            func.coalesce(sentences.c.sentences, 0).label("sentences"),
            func.coalesce(annotators.c.annotators, 0).label("annotators"),
        )
        .outerjoin(documents, documents.c.project_id == Project.id)
        .outerjoin(sentences, sentences.c.project_id == Project.id)
        .outerjoin(annotators, annotators.c.project_id == Project.id)
        .order_by(Project.name)
    )
    if not sees_every_project(actor):
        query = query.where(Project.id.in_(_memberships(actor)))
    return session.execute(query).all()


# -- members ---------------------------------------------------------------------------------------


class Members(NamedTuple):
    members: list[User]  # by username
    addable: list[User]  # active supervisors not yet members, for an admin's form (else empty)


@reads(SUPERVISORS)
def project_members(session: Session, actor: Actor, project_id: int) -> Members:
    """The project's members; for an admin also the supervisors who could be added."""
    get_project(session, actor, project_id)
    in_project = _members_of(project_id)
    members = session.scalars(select(User).where(User.id.in_(in_project)).order_by(User.username)).all()
    addable = session.scalars(
        select(User).where(User.role == "supervisor", User.active.is_(True), User.id.not_in(in_project))
        .order_by(User.username)
    ).all() if sees_every_project(actor) else []
    return Members(list(members), list(addable))


def _members_of(project_id: int) -> Select:
    return select(ProjectMember.user_id).where(ProjectMember.project_id == project_id)


def _member_fields(project: Project, user: User) -> dict:
    """What the audit log keeps of a membership."""
    return {"project": project.name, "user_id": user.id, "username": user.username}


@writes(ADMINS)
def add_members(session: Session, actor: Actor, project_id: int, user_ids: Sequence[int]) -> list[User]:
    """Make the supervisors members of the project; those already members are left as they
    are. Returns the ones added, each with its audit event (action ``add_member`` on the
    project). Only supervisors are members: admins see every project, annotators what they
    are assigned."""
    project = get_project(session, actor, project_id)
    if not user_ids:
        raise ServiceError("choose at least one supervisor", field="user")
    people = [user_by_id(session, actor, user_id) for user_id in user_ids]
    others = [f"{user.username} ({user.role})" for user in people if user.role != "supervisor"]
    if others:
        raise ServiceError(f"only supervisors are members of projects (admins see every project, annotators "
                           f"what they are assigned): {', '.join(others)}", field="user")
    present = set(session.scalars(_members_of(project.id)))
    added = list({user.id: user for user in people if user.id not in present}.values())
    session.add_all(ProjectMember(project_id=project.id, user_id=user.id) for user in added)
    audit.record_many(session, actor=actor, action="add_member", entity_type=Project.__tablename__,
                      changes=[(project.id, None, _member_fields(project, user)) for user in added])
    return added


@writes(ADMINS)
def remove_member(session: Session, actor: Actor, project_id: int, user_id: int) -> User:
    """Take the supervisor off the project: they no longer see it (what they did in it stays)."""
    project = get_project(session, actor, project_id)
    user = user_by_id(session, actor, user_id)
    membership = session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    )
    if membership is None:
        raise ServiceError(f"{user.username!r} is not a member of project {project.name!r}", field="user")
    session.delete(membership)
    audit.record(session, actor=actor, action="remove_member", entity=project, before=_member_fields(project, user))
    return user


DOCUMENTS_PAGE_SIZE = 200  # documents a page of the project page lists


class DocumentRow(NamedTuple):
    id: int
    title: str
    outlet: str | None
    language: str
    imported_at: dt.datetime
    sentences: int
    annotators: int  # assignments not withdrawn


def sentence_counts(session: Session, document_ids: Sequence[int]) -> dict[int, int]:
    """The number of sentences of each of the documents (those with none are left out)."""
    return dict(session.execute(
        select(Sentence.document_id, func.count(Sentence.id))
        .where(Sentence.document_id.in_(document_ids))
        .group_by(Sentence.document_id)
    ).all())


@reads(SUPERVISORS)
def project_documents(session: Session, actor: Actor, project_id: int, page: int = 1) -> Page[DocumentRow]:
    """A page of the project's documents, in import order, each with its numbers of sentences and
    of annotators assigned (assignments not withdrawn); ``total`` counts them all."""
    get_project(session, actor, project_id)
    in_project = Document.project_id == project_id
    documents = session.execute(cut(
        select(Document.id, Document.title, Document.outlet, Document.language, Document.imported_at)
        .where(in_project).order_by(Document.id),
        page, DOCUMENTS_PAGE_SIZE,
    )).all()
    ids = [document.id for document in documents]
    sentences = sentence_counts(session, ids)
    annotators = dict(session.execute(
        select(Assignment.document_id, func.count(Assignment.id))
        .where(Assignment.document_id.in_(ids), Assignment.status != "withdrawn", not_gold(Assignment.user_id))
        .group_by(Assignment.document_id)
    ).all())
    return page_of(
        (DocumentRow(*document, sentences.get(document.id, 0), annotators.get(document.id, 0)) for document in documents),
        page, DOCUMENTS_PAGE_SIZE, session.scalar(select(func.count(Document.id)).where(in_project)),
    )


def codebook_from_upload(filename: str, data: bytes) -> Codebook:
    """Parse and validate an uploaded .toml or .json codebook, as load_codebook does a file.

    CodebookError lists every problem, each prefixed with the file's base name.
    """
    source = PurePath(filename.replace("\\", "/")).name or "codebook"
    suffix = PurePath(source).suffix.lower()
    if suffix not in (".toml", ".json"):
        raise CodebookError([f"{source}: unsupported file type {suffix or '(none)'!r}; use .toml or .json"])
    if len(data) > CODEBOOK_MAX_BYTES:
        raise CodebookError([f"{source}: file is over the {CODEBOOK_MAX_BYTES // 1024} KB limit"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CodebookError([f"{source}: cannot read file: not UTF-8 ({error})"]) from error
    try:
        parsed = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CodebookError([f"{source}: invalid TOML: {error}"]) from error
    except json.JSONDecodeError as error:
        raise CodebookError(
            [f"{source}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from error
    except RecursionError as error:
        raise CodebookError([f"{source}: nested too deeply"]) from error
    return codebook_from_dict(parsed, source=source)
