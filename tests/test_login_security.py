"""Logging in: failed logins throttled per account and per address; no session fixation;
the session cookie HttpOnly and SameSite=Lax (over HTTP, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from annotator.models import LoginAttempt
from annotator.services import users

from .helpers import PASSWORD, add_users


@pytest.fixture
def accounts(app, session):
    add_users(session, {"ann": "annotator", "bob": "annotator"})
    return app


def _log_in(app, username: str, password: str, address: str = "203.0.113.7"):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _age(session, by: dt.timedelta) -> None:
    """Move every recorded attempt ``by`` into the past (in Python: SQLite does no date
    arithmetic on its text timestamps)."""
    session.rollback()
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.at = attempt.at - by
    session.commit()


def test_an_account_is_locked_after_five_failures_and_unlocks_after_the_window(accounts, session):
    app = accounts
    for _ in range(users.MAX_FAILURES_PER_ACCOUNT):
        assert _log_in(app, "ann", "wrong password").status_code == 401
    locked = _log_in(app, "ann", PASSWORD)  # the right password, refused unchecked
    assert locked.status_code == 429
    assert "Too many failed logins for this account; try again in 15 minutes." in locked.get_data(as_text=True)
    assert _log_in(app, "bob", PASSWORD).status_code == 302  # other accounts are not affected
    # The window passes (the failures age), and the account opens again.
    _age(session, users.LOGIN_WINDOW)
    assert _log_in(app, "ann", PASSWORD).status_code == 302


def test_a_success_resets_the_account_count_and_refused_attempts_are_not_counted(accounts, session):
    app = accounts
    for _ in range(users.MAX_FAILURES_PER_ACCOUNT - 1):
        assert _log_in(app, "ann", "wrong password").status_code == 401
    assert _log_in(app, "ann", PASSWORD).status_code == 302
    for _ in range(users.MAX_FAILURES_PER_ACCOUNT - 1):
        assert _log_in(app, "ann", "wrong password").status_code == 401
    assert _log_in(app, "ann", PASSWORD).status_code == 302
    for _ in range(users.MAX_FAILURES_PER_ACCOUNT + 3):
        _log_in(app, "ann", "wrong password")
    session.rollback()
    failed = session.scalar(select(func.count()).select_from(LoginAttempt).where(~LoginAttempt.succeeded))
    assert failed == 2 * (users.MAX_FAILURES_PER_ACCOUNT - 1) + users.MAX_FAILURES_PER_ACCOUNT


def test_an_address_is_throttled_across_accounts(accounts, session):
    app = accounts
    for n in range(users.MAX_FAILURES_PER_ADDRESS):
        assert _log_in(app, f"guess{n}", "wrong password").status_code == 401
    refused = _log_in(app, "bob", PASSWORD)
    assert refused.status_code == 429 and "this address" in refused.get_data(as_text=True)
    assert _log_in(app, "bob", PASSWORD, address="198.51.100.2").status_code == 302


def test_old_records_are_dropped_and_no_password_is_kept(accounts, session):
    app = accounts
    _log_in(app, "ann", "hunter2 wrong")
    _age(session, users.LOGIN_RECORDS_KEPT + dt.timedelta(hours=1))
    _log_in(app, "ann", PASSWORD)
    session.rollback()
    rows = session.execute(select(LoginAttempt.username, LoginAttempt.address, LoginAttempt.succeeded)).all()
    assert rows == [("ann", "203.0.113.7", True)]  # the day-old failure is gone
    assert not any("hunter2" in str(value) for row in rows for value in row)


def test_a_session_planted_before_login_does_not_survive_it(accounts):
    """Session fixation: whatever the session held before logging in is dropped."""
    client = accounts.test_client()
    with client.session_transaction() as planted:
        planted["_user_id"] = "999"
        planted["planted"] = "by an attacker"
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    with client.session_transaction() as after:
        assert "planted" not in after and after["_user_id"] != "999"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("target, lands", [
    ("/documents/1", "/documents/1"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_next_only_leads_to_this_site(accounts, target, lands):
    client = accounts.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", query_string={"next": target},
                           data={"username": "ann", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == lands


@pytest.mark.parametrize("username, password, says", [
    ("", PASSWORD, "Username: This field is required."),
    ("ann", "", "Password: This field is required."),
    ("x" * (users.USERNAME_MAX + 1), PASSWORD, "Username: Field cannot be longer than 80 characters."),
    ("ann\x1b", PASSWORD, "Username: may only have printable characters."),  # no account has one
    ("ann\x00", PASSWORD, "NUL characters are not allowed"),  # PostgreSQL cannot compare it: refused app-wide
])
def test_an_invalid_login_form_answers_400_and_says_why_without_an_attempt(accounts, session, username, password, says):
    response = _log_in(accounts, username, password)
    assert response.status_code == 400 and says in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0  # nothing was checked
