"""The service layer over a real database: accounts, projects, imports and their audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from annotator import projects, users
from annotator.documents import import_articles
from annotator.errors import Conflict, NotFound, ServiceError
from annotator.ingest import read_paths
from annotator.models import Document, Event, Sentence, User

from .conftest import SEED_TXT, SEEDS


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_create_user_hashes_password_and_audits(session):
    user, generated = users.create_user(session, "ann", "annotator")
    session.commit()
    assert generated and len(generated) >= users.MIN_PASSWORD_LENGTH
    assert generated not in user.password_hash
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
        users.create_user(session, username, role, password)
    assert raised.value.field == field
    session.rollback()
    assert _count(session, User) == 0


def test_duplicate_user_and_deactivation(session):
    user, _ = users.create_user(session, "sup", "supervisor", "correct horse battery")
    session.commit()
    with pytest.raises(Conflict):
        users.create_user(session, "sup", "annotator")
    session.rollback()
    users.deactivate(session, user)
    session.commit()
    assert users.authenticate(session, "sup", "correct horse battery") is None
    users.set_password(session, user, "another long password")
    session.commit()
    actions = session.scalars(select(Event.action).order_by(Event.id)).all()
    assert actions == ["create", "deactivate", "set_password"]
    with pytest.raises(NotFound):
        users.get_user(session, "nobody")


def test_import_stores_exact_offsets_and_is_idempotent(session):
    project = projects.get_or_create_project(session, "news")
    session.commit()
    articles = read_paths([SEEDS])
    assert articles and all(not isinstance(a, Exception) for a in articles)

    first = import_articles(session, project, articles)
    assert len(first.imported) == len(articles) and first.skipped == []
    second = import_articles(session, project, read_paths([SEEDS]))
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
    imports = session.scalars(select(Event).where(Event.action == "import")).all()
    assert len(imports) == len(articles)
    assert {event.after["content_hash"] for event in imports} == {
        d.content_hash for d in session.scalars(select(Document))
    }


def test_same_content_in_another_project_is_imported(session):
    for name in ("one", "two"):
        project = projects.get_or_create_project(session, name)
        session.commit()
        summary = import_articles(session, project, read_paths([SEED_TXT]))
        assert len(summary.imported) == 1
    assert _count(session, Document) == 2
    assert _count(session, Sentence) == 2 * len(read_paths([SEED_TXT])[0].sentences)
