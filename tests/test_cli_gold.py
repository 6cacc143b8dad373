"""`annotator gold finish` and `annotator gold reopen` (issue 17): scripted adjudication without
Python, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from annotator.models import Adjudication, Document, Event
from annotator.services import adjudication, projects
from annotator.services.permissions import SYSTEM

from .helpers import seeded_project


def _statuses(session) -> dict[int, str | None]:
    session.rollback()  # a fresh snapshot: the command wrote through its own session
    rows = dict(session.execute(select(Adjudication.document_id, Adjudication.status)).all())
    return {d: rows.get(d) for d in session.scalars(select(Document.id).order_by(Document.id))}


def test_finish_and_reopen_documents(cli, session):
    project = seeded_project(session)
    first, second = session.scalars(select(Document.id).where(Document.project_id == project.id).order_by(Document.id)).all()
    for document_id in (first, second):
        adjudication.start(session, SYSTEM, document_id)

    result = cli("gold", "finish", "--project", "default", "--note", "checked twice", str(first), str(second))
    assert result.exit_code == 0, result.output
    assert f"Document {first}: adjudicated." in result.output and f"Document {second}: adjudicated." in result.output
    assert _statuses(session) == {first: "adjudicated", second: "adjudicated"}
    assert session.scalar(select(Adjudication.note).where(Adjudication.document_id == first)) == "checked twice"
    finished = session.scalars(select(Event).where(Event.action == "adjudicated").order_by(Event.id)).all()
    assert len(finished) == 2 and all(event.user_id is None for event in finished)  # SYSTEM: no user

    result = cli("gold", "reopen", str(second))  # the default project
    assert result.exit_code == 0, result.output
    assert f"Document {second}: in progress." in result.output
    assert _statuses(session) == {first: "adjudicated", second: "in_progress"}
    assert session.scalar(select(Adjudication.note).where(Adjudication.document_id == second)) == "checked twice"


def test_what_cannot_be_done_is_named_and_fails(cli, session):
    project = seeded_project(session)
    other = projects.create_project(session, SYSTEM, "other")
    started, not_started = session.scalars(
        select(Document.id).where(Document.project_id == project.id).order_by(Document.id)).all()
    adjudication.start(session, SYSTEM, started)

    # Not started, and already in progress: each named with the reason; the other still changes.
    result = cli("gold", "finish", str(not_started), str(started))
    assert result.exit_code == 1
    assert f"Document {not_started}: adjudication of this document has not started" in result.output
    assert f"Document {started}: adjudicated." in result.output
    assert f"could not finish document(s) {not_started}" in result.output
    assert _statuses(session) == {started: "adjudicated", not_started: None}
    result = cli("gold", "finish", str(started))
    assert result.exit_code == 1 and f"Document {started}: this document is adjudicated" in result.output
    result = cli("gold", "reopen", str(not_started))
    assert result.exit_code == 1 and "has not started" in result.output

    # A document of another project, or none at all: nothing changes.
    result = cli("gold", "reopen", "--project", other.name, str(started))
    assert result.exit_code == 1 and f"no document {started} in project 'other'; nothing was changed" in result.output
    result = cli("gold", "reopen", str(started), "999999")
    assert result.exit_code == 1 and "no document 999999 in project 'default'" in result.output
    assert _statuses(session) == {started: "adjudicated", not_started: None}
    assert "no project" in cli("gold", "finish", "--project", "nope", str(started)).output.lower()
    assert cli("gold", "finish").exit_code == 2  # a document id is required
    assert cli("gold", "finish", "first").exit_code == 2  # and a number
