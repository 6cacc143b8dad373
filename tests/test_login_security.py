"""Logging in: failed logins slowed per account and address and limited per address, without
letting anyone lock the real user out; a login takes as long for a missing account as for a
wrong password; no session fixation; the session cookie HttpOnly and SameSite=Lax (over HTTP,
SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time

import pytest
from sqlalchemy import func, select

from annotator.models import LoginAttempt
from annotator.services import users
from annotator.services.permissions import SYSTEM

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


def test_wrong_passwords_from_many_addresses_do_not_lock_the_real_user_out(accounts, session):
    """Five addresses each send wrong passwords for ann until they are made to wait (the
    account was locked for everyone after five); ann with her password from a sixth gets in."""
    app = accounts
    attackers = [f"198.51.100.{n}" for n in range(1, 6)]
    for address in attackers:
        for _ in range(users.FREE_FAILURES):
            assert _log_in(app, "ann", "wrong password", address).status_code == 401
        assert _log_in(app, "ann", "wrong password", address).status_code == 429
    assert _log_in(app, "ann", PASSWORD, "203.0.113.50").status_code == 302
    assert _log_in(app, "ann", PASSWORD, attackers[0]).status_code == 429  # the guessers' addresses still wait


def test_each_failure_from_an_address_makes_it_wait_longer_and_others_are_unaffected(accounts, session):
    app = accounts
    attacker, ann_at_home = "198.51.100.7", "203.0.113.8"
    for _ in range(users.FREE_FAILURES):
        assert _log_in(app, "ann", "wrong password", attacker).status_code == 401
    for wait in (2, 4, 8, 16):
        refused = _log_in(app, "ann", PASSWORD, attacker)  # the right password too: refused unchecked
        assert refused.status_code == 429 and refused.headers["Retry-After"] == str(wait)
        assert (f"Too many failed logins for this account from this address; try again in {wait} seconds."
                in refused.get_data(as_text=True))
        assert _log_in(app, "ann", PASSWORD, ann_at_home).status_code == 302  # ann, elsewhere, meanwhile
        _age(session, dt.timedelta(seconds=wait))  # the wait passes
        assert _log_in(app, "ann", "wrong password", attacker).status_code == 401  # one more guess
    assert _log_in(app, "bob", PASSWORD, attacker).status_code == 302  # another account from there
    # The wait doubles up to MAX_WAIT; a success from the address itself ends it.
    assert [users.failure_wait(n).total_seconds() for n in range(7)] == [0, 0, 0, 2, 4, 8, 16]
    assert users.failure_wait(12) == users.failure_wait(10**6) == users.MAX_WAIT == dt.timedelta(minutes=15)
    _age(session, users.MAX_WAIT)
    assert _log_in(app, "ann", PASSWORD, attacker).status_code == 302
    assert _log_in(app, "ann", "wrong password", attacker).status_code == 401


def test_a_success_resets_the_count_and_refused_attempts_are_not_counted(accounts, session):
    app = accounts
    for _ in range(2):
        for _ in range(users.FREE_FAILURES - 1):
            assert _log_in(app, "ann", "wrong password").status_code == 401
        assert _log_in(app, "ann", PASSWORD).status_code == 302
    statuses = [_log_in(app, "ann", "wrong password").status_code for _ in range(users.FREE_FAILURES + 3)]
    assert statuses == [401] * users.FREE_FAILURES + [429] * 3
    session.rollback()
    failed = session.scalar(select(func.count()).select_from(LoginAttempt).where(~LoginAttempt.succeeded))
    assert failed == 2 * (users.FREE_FAILURES - 1) + users.FREE_FAILURES


def test_an_address_is_throttled_across_accounts(accounts, session):
    app = accounts
    for n in range(users.MAX_FAILURES_PER_ADDRESS):
        assert _log_in(app, f"guess{n}", "wrong password").status_code == 401
    refused = _log_in(app, "bob", PASSWORD)
    assert refused.status_code == 429 and "this address" in refused.get_data(as_text=True)
    assert _log_in(app, "bob", PASSWORD, address="198.51.100.2").status_code == 302


@pytest.mark.real_password_hashing
def test_a_login_takes_as_long_for_any_username_as_for_a_wrong_password(app, session):
    """Timing a login does not tell whether an account exists, is deactivated or is a
    placeholder without a password: each is checked against a hash (a missing account took
    30 ms, a wrong password 500 ms). Medians of interleaved rounds, each attempt from an
    address of its own (no throttling); compared as ratios, not absolute times."""
    people = add_users(session, {"ann": "annotator", "gone": "annotator"})
    users.deactivate(session, SYSTEM, people["gone"].id)
    users.add_placeholder(session, SYSTEM, "imported")
    addresses = (f"192.0.2.{n}" for n in range(1, 255))
    cases = {"wrong password": "ann", "missing": "nobody", "deactivated": "gone", "placeholder": "imported"}
    times = {case: [] for case in cases}

    def attempt(username: str) -> float:
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
        started = time.perf_counter()
        response = client.post("/login", data={"username": username, "password": "not the password", "csrf_token": token},
                               environ_base={"REMOTE_ADDR": next(addresses)})
        took = time.perf_counter() - started
        assert response.status_code == 401
        return took

    for round_ in range(6):
        for case, username in cases.items():
            took = attempt(username)
            if round_:  # the first round warms up (the dummy hash is made once)
                times[case].append(took)
    medians = {case: statistics.median(values) for case, values in times.items()}
    for case in ("missing", "deactivated", "placeholder"):
        assert 0.5 < medians[case] / medians["wrong password"] < 2, medians


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
