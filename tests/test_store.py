"""The service layer over a real database: accounts, projects, imports and their audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from annotator.errors import Conflict, NotFound, ServiceError
from annotator.ingest import read_paths
from annotator.models import Document, Event, Sentence, User
from annotator.services import imports, projects, users
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT, SEEDS


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.real_password_hashing
def test_create_user_hashes_password_and_audits(session):
    user, generated = users.add_user(session, SYSTEM, "ann", "annotator")
    assert generated and len(generated) >= users.MIN_PASSWORD_LENGTH
    assert generated not in user.password_hash and user.password_hash.startswith("scrypt:")
    assert users.authenticate(session, "ann", generated) == user
    assert users.authenticate(session, "ann", generated + "x") is None
    event = session.scalar(select(Event).where(Event.entity_type == "users"))
    assert event.action == "create" and event.after == {"username": "ann", "role": "annotator", "active": True}
    assert "password" not in str(event.after)


@pytest.mark.parametrize(
    ("username", "role", "password", "error", "field"),
    [
        ("", "annotator", None, ServiceError, "username"),
        ("x", "king", None, ServiceError, "role"),
        ("x", "annotator", "short", ServiceError, "password"),
    ],
)
def test_create_user_rejects_bad_input(session, username, role, password, error, field):
    with pytest.raises(error) as raised:
        users.add_user(session, SYSTEM, username, role, password)
    assert raised.value.field == field
    assert _count(session, User) == 0


def test_duplicate_user_and_deactivation(session):
    user, _ = users.add_user(session, SYSTEM, "sup", "supervisor", "correct horse battery")
    with pytest.raises(Conflict):
        users.add_user(session, SYSTEM, "sup", "annotator")
    users.deactivate(session, SYSTEM, user.id)
    assert users.authenticate(session, "sup", "correct horse battery") is None
    users.set_password(session, SYSTEM, user.id, "another long password")
    actions = session.scalars(select(Event.action).order_by(Event.id)).all()
    assert actions == ["create", "deactivate", "set_password"]
    with pytest.raises(NotFound):
        users.user_named(session, SYSTEM, "nobody")


def test_import_stores_exact_offsets_and_is_idempotent(session):
    project = projects.get_or_create_project(session, SYSTEM, "news")
    articles = read_paths([SEEDS])
    assert articles and all(not isinstance(a, Exception) for a in articles)

    first = imports.import_articles(session, SYSTEM, project.id, articles)
    assert len(first.imported) == len(articles) and first.skipped == []
    second = imports.import_articles(session, SYSTEM, project.id, read_paths([SEEDS]))
    assert second.imported == [] and len(second.skipped) == len(articles)
    assert _count(session, Document) == len(articles)

    for document in session.scalars(select(Document)):
        sentences = document.sentences
        assert [s.position for s in sentences] == list(range(len(sentences)))
        for sentence in sentences:
            piece = document.text[sentence.start : sentence.end]
            assert piece and piece == piece.strip() and "\n\n" not in piece
    titles = set(session.scalars(select(Document.title)))
    assert "Hamas top leader telephones key Pakistani leader and seek help against Israel" in titles
    events = session.scalars(select(Event).where(Event.action == "import")).all()
    assert len(events) == len(articles)
    assert {event.after["content_hash"] for event in events} == {
        d.content_hash for d in session.scalars(select(Document))
    }


def test_same_content_in_another_project_is_imported(session):
    for name in ("one", "two"):
        project = projects.get_or_create_project(session, SYSTEM, name)
        summary = imports.import_articles(session, SYSTEM, project.id, read_paths([SEED_TXT]))
        assert len(summary.imported) == 1
    assert _count(session, Document) == 2
    assert _count(session, Sentence) == 2 * len(read_paths([SEED_TXT])[0].sentences)
