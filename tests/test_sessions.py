"""Login sessions, server-side (issue 15): a session cookie works only while the server keeps
its session. Logging out ends it; a password change ends the account's other sessions; an
admin's reset, deactivation and role change (on the web or the command line) end them all; a
session ends after its idle and absolute lifetimes; a CSRF token dies with its session. Each
replays a saved cookie and CSRF token, for a read and a write, over real HTTP through the app
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import event, func, select, update

from annotator import config, create_app
from annotator.app import db
from annotator.models import Event, LoginSession, SentenceLabel
from annotator.services import users
from annotator.services.permissions import SYSTEM

from .helpers import PASSWORD, TOKEN, Client, add_users, annotation_world, sentence_of

# Sentences of the seed article.
PHRASE, OTHER_PHRASE = "In an official statement", "Khaled Meshaal, the leader of Hamas"


@pytest.fixture
def world(app, session):
    """annotation_world (ann and bob annotate the seed article; sup supervises) and an admin."""
    return annotation_world(app, session) | add_users(session, {"root": "admin"})


class Replay:
    """What an attacker saved of a signed-in browser: its session cookie and CSRF token, sent
    again from a client of its own."""

    def __init__(self, client: Client):
        self.cookie = client.http.get_cookie("session").value
        self.token = client.token
        self.app = client.http.application

    def call(self, method: str, url: str, json=None):
        http = self.app.test_client()
        http.set_cookie("session", self.cookie)
        return http.open(url, method=method, json=json, headers={"X-CSRFToken": self.token})


def _read(world, who) -> int:
    return who.call("GET", f"/api/documents/{world['seed'].id}/annotations").status_code


def _write(world, who, phrase: str = PHRASE) -> int:
    """Label a sentence for the first time (a second time would need its version)."""
    sentence = sentence_of(world["session"], world["seed"], phrase)
    return who.call("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", {"value": "event"}).status_code


def _labels(session) -> int:
    session.rollback()
    return session.scalar(select(func.count(SentenceLabel.id)))


def _refused(world, saved: Replay) -> None:
    """The saved cookie and token neither read nor write (as if logged out), and write nothing."""
    labels = _labels(world["session"])
    read = saved.call("GET", f"/api/documents/{world['seed'].id}/annotations")
    assert read.status_code == 401 and read.json == {"error": "authentication required"}
    assert _write(world, saved) == 401
    assert _labels(world["session"]) == labels


def _cli(app, *args, input=None):
    from click.testing import CliRunner

    from annotator.cli import main

    result = CliRunner().invoke(main, list(args), obj=app.config, input=input)
    assert result.exit_code == 0, result.output


def _logout(world, ann):
    ann.post("/logout")


def _change_own_password(world, ann):
    new = "a brand new password"
    assert ann.post("/account", {"current_password": PASSWORD, "new_password": new, "confirm": new}).status_code == 302


def _admin(world, path: str, data: dict | None = None) -> None:
    assert Client(world["app"], "root").post(f"/users/{world['ann'].id}/{path}", data).status_code in (200, 302)


ENDINGS = {
    "logout": _logout,
    "admin resets the password": lambda world, ann: _admin(world, "password"),
    "admin deactivates": lambda world, ann: _admin(world, "deactivate"),
    "admin deactivates, reactivates": lambda world, ann: (_admin(world, "deactivate"), _admin(world, "reactivate")),
    "admin changes the role": lambda world, ann: _admin(world, "role", {"role": "supervisor"}),
    "command line sets the password": lambda world, ann: _cli(world["app"], "users", "set-password", "ann"),
    "command line deactivates": lambda world, ann: _cli(world["app"], "users", "deactivate", "ann"),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_saved_cookie_and_token_are_refused_after_the_session_ends(world, ending):
    ann = Client(world["app"], "ann")
    assert _read(world, ann) == 200 and _write(world, ann, OTHER_PHRASE) == 200  # they worked
    saved = Replay(ann)
    assert saved.call("GET", f"/api/documents/{world['seed'].id}/annotations").status_code == 200
    ENDINGS[ending](world, ann)
    _refused(world, saved)
    assert _read(world, ann) == 401  # the browser itself is signed out too
    assert ann.get("/").status_code == 302 and "/login" in ann.get("/").headers["Location"]


def test_changing_ones_password_ends_ones_other_sessions_only(world):
    here, elsewhere = Client(world["app"], "ann"), Client(world["app"], "ann")
    bob = Client(world["app"], "bob")
    saved = Replay(elsewhere)
    _change_own_password(world, here)
    _refused(world, saved)
    assert _read(world, here) == 200 and _write(world, here) == 200  # the session that changed it goes on
    assert _read(world, bob) == 200  # nobody else's
    session = world["session"]
    session.rollback()
    events = session.execute(select(Event.action, Event.user_id, Event.entity_id, Event.after)
                             .where(Event.entity_type == "users").order_by(Event.id)).all()
    ann_id = world["ann"].id
    assert events[-2:] == [("change_password", ann_id, ann_id, None), ("end_sessions", ann_id, ann_id, {"sessions": 1})]


def test_an_admin_ending_sessions_is_audited_and_logging_out_is_not(world):
    session = world["session"]
    for _ in range(2):
        Client(world["app"], "ann")
    Client(world["app"], "bob").post("/logout")
    users.set_password(session, SYSTEM, world["ann"].id)
    users.set_password(session, SYSTEM, world["ann"].id)  # no session left to end: no event
    users.set_role(session, SYSTEM, world["sup"].id, "annotator")  # sup has none: no event
    session.rollback()
    ended = session.execute(select(Event.user_id, Event.entity_id, Event.after).where(Event.action == "end_sessions")).all()
    assert ended == [(None, world["ann"].id, {"sessions": 2})]
    assert session.scalar(select(func.count(LoginSession.id))) == 0


def test_an_admin_resetting_their_own_password_stays_signed_in(world):
    root, other = Client(world["app"], "root"), Client(world["app"], "root")
    saved = Replay(other)
    assert root.post(f"/users/{world['root'].id}/password").status_code == 200
    assert root.get("/users").status_code == 200
    assert saved.call("GET", "/users").status_code == 302  # to the login page


def test_a_csrf_token_dies_with_its_session(world):
    ann = Client(world["app"], "ann")
    old_token = ann.token
    ann.post("/logout")
    assert ann.login("ann").status_code == 400  # the login form too refuses it
    ann.token = TOKEN.search(ann.get("/login").get_data(as_text=True)).group(1)
    assert ann.login("ann").status_code == 302
    assert ann.token != old_token
    sentence = sentence_of(world["session"], world["seed"], PHRASE)
    stale = ann.http.put(f"/api/sentences/{sentence.id}/labels/claim_type", json={"value": "event"},
                         headers={"X-CSRFToken": old_token})
    assert stale.status_code == 400 and "CSRF" in stale.json["error"]
    assert _labels(world["session"]) == 0
    assert _write(world, ann) == 200


def _move_back(session, **columns: dt.timedelta) -> None:
    """Move every login session's timestamps into the past (in Python: SQLite does no date
    arithmetic on its text timestamps)."""
    session.rollback()
    for row in session.scalars(select(LoginSession)):
        for column, by in columns.items():
            setattr(row, column, getattr(row, column) - by)
    session.commit()


IDLE, ABSOLUTE = dt.timedelta(hours=config.DEFAULT_SESSION_IDLE_HOURS), dt.timedelta(days=config.DEFAULT_SESSION_MAX_DAYS)


def test_a_session_ends_after_its_idle_lifetime(world):
    session, ann = world["session"], Client(world["app"], "ann")
    saved = Replay(ann)
    _move_back(session, created_at=IDLE, last_seen_at=IDLE - dt.timedelta(minutes=1))
    assert _read(world, ann) == 200  # used just in time: it goes on, and its use is recorded
    session.rollback()
    assert dt.datetime.now(dt.timezone.utc) - session.scalar(select(LoginSession.last_seen_at)) < dt.timedelta(minutes=1)
    _move_back(session, created_at=IDLE, last_seen_at=IDLE + dt.timedelta(seconds=1))
    _refused(world, saved)
    assert ann.get("/").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_much_it_is_used(world):
    session, ann = world["session"], Client(world["app"], "ann")
    saved = Replay(ann)
    _move_back(session, created_at=ABSOLUTE - dt.timedelta(minutes=1))
    assert _read(world, ann) == 200
    _move_back(session, created_at=dt.timedelta(minutes=2))
    _refused(world, saved)
    # Expired sessions, anyone's, are deleted at the next login; the new one is fresh.
    assert Client(world["app"], "bob").token
    session.rollback()
    assert session.scalars(select(LoginSession.user_id)).all() == [world["bob"].id]


def test_the_lifetimes_are_settings_and_the_csrf_token_follows_the_absolute_one(world, monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATOR_SESSION_IDLE_HOURS", "0.5")
    monkeypatch.setenv("ANNOTATOR_SESSION_MAX_DAYS", "2")
    values = config.load({"INSTANCE_PATH": str(tmp_path / "settings"), "SECRET_KEY": "x"})
    assert (values["SESSION_IDLE_HOURS"], values["SESSION_MAX_DAYS"], values["WTF_CSRF_TIME_LIMIT"]) == (0.5, 2, 2 * 86400)
    monkeypatch.setenv("ANNOTATOR_SESSION_IDLE_HOURS", "0")
    with pytest.raises(ValueError, match="ANNOTATOR_SESSION_IDLE_HOURS must be a number above 0"):
        config.load({"INSTANCE_PATH": str(tmp_path / "settings")})
    monkeypatch.delenv("ANNOTATOR_SESSION_IDLE_HOURS")
    monkeypatch.delenv("ANNOTATOR_SESSION_MAX_DAYS")
    assert world["app"].config["WTF_CSRF_TIME_LIMIT"] == 7 * 86400  # not None: tokens used to live for ever

    # An app with a half-hour idle lifetime: 31 minutes unused end a session.
    app = create_app(dict(world["app"].config) | {"SESSION_IDLE_HOURS": 0.5})
    ann = Client(app, "ann")
    _move_back(world["session"], last_seen_at=dt.timedelta(minutes=29))
    assert _read(world, ann) == 200
    _move_back(world["session"], last_seen_at=dt.timedelta(minutes=31))
    assert _read(world, ann) == 401
    with app.app_context():
        db.engine.dispose()


def test_the_cookie_holds_a_token_the_database_only_its_hash(world):
    ann = Client(world["app"], "ann")
    with ann.http.session_transaction() as cookie:
        token = cookie["login_token"]
    session = world["session"]
    session.rollback()
    assert session.scalars(select(LoginSession.token_hash)).all() == [hashlib.sha256(token.encode()).hexdigest()]
    # A cookie naming a user id alone (as before sessions were kept: signed, so the secret key
    # was enough to forge one) signs nobody in.
    forged = world["app"].test_client()
    with forged.session_transaction() as cookie:
        cookie["_user_id"] = str(world["ann"].id)
    assert forged.get(f"/api/documents/{world['seed'].id}/annotations").status_code == 401
    with forged.session_transaction() as cookie:
        cookie["login_token"] = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert forged.get(f"/api/documents/{world['seed'].id}/annotations").status_code == 401


def test_a_request_reads_its_session_in_one_statement_and_records_its_use_every_few_minutes(world, engine):
    ann = Client(world["app"], "ann")
    statements = []

    def record(_connection, _cursor, statement, *_):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _write(world, ann) == 200
        assert _read(world, ann) == 200
        sessions_read = [s for s in statements if "login_sessions" in s]
        assert len(sessions_read) == 2 and all("FROM users JOIN login_sessions" in s for s in sessions_read)
        _move_back(world["session"], last_seen_at=users.SEEN_EVERY)
        statements.clear()
        assert _read(world, ann) == 200 and _write(world, ann, OTHER_PHRASE) == 200
        assert len([s for s in statements if s.startswith("UPDATE login_sessions")]) == 1  # the read's; then it is fresh
    finally:
        event.remove(engine, "before_cursor_execute", record)
