"""Accounts: creation, passwords, roles, deactivation, logging in and out (login sessions).
Every change is audited.

Admins (and the command line's SYSTEM) manage accounts; supervisors look them up and create
placeholder accounts for the authors of imported annotations; everyone changes their own
password.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from . import audit
from ..db import begin_write, reads, writes
from ..errors import Conflict, NotFound, ServiceError, TooManyAttempts
from ..models import ROLES, LoginAttempt, LoginSession, User, utcnow
from .paging import Page, cut, page_of
from .permissions import ADMINS, ANYONE, SUPERVISORS, Actor

MIN_PASSWORD_LENGTH = 10
USERNAME_MAX = 80
# Not a werkzeug hash, so check_password_hash never accepts any password for it.
UNUSABLE_PASSWORD = "!"
# The system account that owns the gold standard (annotator.services.adjudication); nobody else may
# take the name, and it never counts as an annotator.
GOLD_USERNAME = "gold"


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"password is too short: at least {MIN_PASSWORD_LENGTH} characters", field=field
        )


# werkzeug's default (scrypt). The tests set a cheap one, except where hashing is tested.
PASSWORD_HASH_METHOD = "scrypt"


def _store_password(user: User, password: str, field: str = "password") -> None:
    from werkzeug.security import generate_password_hash  # imported here: `users list` needs none of it

    _check_password(password, field)
    user.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def _password_matches(user: User, password: str) -> bool:
    from werkzeug.security import check_password_hash

    return check_password_hash(user.password_hash, password)


def public_fields(user: User) -> dict:
    """What the audit log keeps of a user (never the password hash)."""
    return {"username": user.username, "role": user.role, "active": user.active}


# -- looking up ---------------------------------------------------------------------------------


@reads(SUPERVISORS)
def require_supervisor(session: Session, actor: Actor) -> None:
    """Nothing but the check, for a page that must refuse before it does anything else (show
    a form, start computing a report in the background)."""


@reads(ADMINS)
def require_admin(session: Session, actor: Actor) -> None:
    """Nothing but the check, for the pages only admins may open (a form first)."""


@reads(SUPERVISORS)
def user_named(session: Session, actor: Actor, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return user


@reads(SUPERVISORS)
def user_by_id(session: Session, actor: Actor, user_id: int) -> User:
    """The account as now committed (not as loaded earlier in the request)."""
    user = session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound(f"no user with id {user_id}", field="user")
    return user


USERS_PAGE_SIZE = 200  # accounts a page of the users page lists


@reads(ADMINS)
def list_users(session: Session, actor: Actor, page: int = 1) -> Page[User]:
    """A page of the accounts, by username; ``total`` counts them all."""
    accounts = session.scalars(cut(select(User).order_by(User.username), page, USERS_PAGE_SIZE)).all()
    return page_of(accounts, page, USERS_PAGE_SIZE, session.scalar(select(func.count(User.id))))


# -- accounts -----------------------------------------------------------------------------------


@writes(ADMINS)
def add_user(session: Session, actor: Actor, username: str, role: str, password: str | None = None) -> tuple[User, str | None]:
    """Create an account; returns it and the generated password (shown once) when none was given."""
    username = _new_username(session, username)
    if role not in ROLES:
        raise ServiceError(f"role must be one of {', '.join(ROLES)}", field="role")
    generated = None if password is not None else generate_password()
    user = User(username=username, role=role, active=True)
    _store_password(user, password if password is not None else generated)
    session.add(user)
    audit.record(session, actor=actor, action="create", entity=user, after=public_fields(user))
    return user, generated


def _not_gold_account(user: User) -> None:
    """The gold account is a system account: it never gets a password, a role or a login."""
    if user.username == GOLD_USERNAME:
        raise ServiceError("gold is the system account of the gold standard: it cannot sign in", field="user")


def not_gold(user_id_column):
    """A condition on a user id column: not the gold account (annotator.services.adjudication)."""
    return user_id_column.not_in(select(User.id).where(User.username == GOLD_USERNAME).scalar_subquery())


def _new_username(session: Session, username: str, *, system: bool = False) -> str:
    username = username.strip()
    if not username or len(username) > USERNAME_MAX or not username.isprintable():
        raise ServiceError(f"username must be 1-{USERNAME_MAX} printable characters", field="username")
    if not system and username.casefold() == GOLD_USERNAME:
        raise ServiceError(f"the username {username!r} is reserved for the gold standard", field="username")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    return username


@writes(SUPERVISORS)
def add_placeholder(session: Session, actor: Actor, username: str, *, system: bool = False) -> User:
    """An inactive annotator account that cannot log in, standing for the author of imported
    annotations. An admin can reactivate it and reset its password to hand it to a person.
    ``system``: may take a reserved name (only the gold standard's account is made so)."""
    user = User(
        username=_new_username(session, username, system=system), role="annotator", active=False,
        password_hash=UNUSABLE_PASSWORD,
    )
    session.add(user)
    audit.record(session, actor=actor, action="create", entity=user, after=public_fields(user))
    return user


@writes(ADMINS)
def set_password(session: Session, actor: Actor, user_id: int, password: str | None = None) -> tuple[User, str | None]:
    """Give an account a new password; returns it and the generated one (shown once) when none
    was given."""
    user = user_by_id(session, actor, user_id)
    _not_gold_account(user)
    generated = None if password is not None else generate_password()
    _store_password(user, password if password is not None else generated)
    audit.record(session, actor=actor, action="set_password", entity=user)
    _end_sessions(session, actor, user)
    return user, generated


@writes(ANYONE)
def change_password(session: Session, actor: Actor, current: str, new: str) -> None:
    """A user changing their own password, proving they know the current one."""
    user = _own_account(session, actor)
    if not _password_matches(user, current):
        raise ServiceError("the current password is wrong", field="current_password")
    _store_password(user, new, "new_password")
    audit.record(session, actor=user, action="change_password", entity=user)
    _end_sessions(session, actor, user)


def _own_account(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.id, populate_existing=True)
    if user is None:
        raise NotFound("your account is gone", field="user")
    return user


@writes(ADMINS)
def set_role(session: Session, actor: Actor, user_id: int, role: str) -> User:
    if role not in ROLES:
        raise ServiceError(f"role must be one of {', '.join(ROLES)}", field="role")
    user = user_by_id(session, actor, user_id)
    _not_gold_account(user)
    if role == user.role:
        return user
    if role != "admin":
        _keep_an_admin(session, user, "demote")
    before = public_fields(user)
    user.role = role
    audit.record(session, actor=actor, action="set_role", entity=user, before=before, after=public_fields(user))
    _end_sessions(session, actor, user)
    return user


@writes(ADMINS)
def deactivate(session: Session, actor: Actor, user_id: int) -> User:
    """Stop an account from logging in; its annotations and assignments stay."""
    user = user_by_id(session, actor, user_id)
    if user.active:
        _keep_an_admin(session, user, "deactivate")
        before = public_fields(user)
        user.active = False
        audit.record(session, actor=actor, action="deactivate", entity=user, before=before, after=public_fields(user))
        _end_sessions(session, actor, user, keep_own=False)
    return user


@writes(ADMINS)
def reactivate(session: Session, actor: Actor, user_id: int) -> User:
    user = user_by_id(session, actor, user_id)
    _not_gold_account(user)
    if not user.active:
        before = public_fields(user)
        user.active = True
        audit.record(session, actor=actor, action="reactivate", entity=user, before=before, after=public_fields(user))
    return user


def _end_sessions(session: Session, actor: Actor, user: User, *, keep_own: bool = True) -> None:
    """End the account's login sessions, server-side, so that no cookie (and no CSRF token)
    of theirs works any more: every one, or with ``keep_own`` all but the one the account's own
    change is made through (changing one's password, an admin resetting their own). An event
    says how many ended, after the event of the change that ended them (same transaction)."""
    ending = delete(LoginSession).where(LoginSession.user_id == user.id)
    own = getattr(actor, "login_session_id", None) if actor.id == user.id else None
    if keep_own and own is not None:
        ending = ending.where(LoginSession.id != own)
    ended = session.execute(ending).rowcount
    if ended:
        audit.record(session, actor=actor, action="end_sessions", entity=user, after={"sessions": ended})


def _keep_an_admin(session: Session, user: User, doing: str) -> None:
    """Refuse to take the last active admin away (call in a write transaction).

    The active admins' rows are locked in id order (FOR UPDATE on PostgreSQL; SQLite's write
    lock is already held), so two admins demoting each other at once cannot both succeed.
    """
    if user.role != "admin" or not user.active:
        return
    admins = session.scalars(
        select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).with_for_update()
    ).all()
    if not set(admins) - {user.id}:
        raise Conflict(
            f"cannot {doing} {user.username!r}: it is the last active admin; "
            "make another account admin first",
            field="user",
        )


# -- logging in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lifetimes:
    """How long a login session lives: ``idle`` since it was last used, ``absolute`` since it
    began (the settings ANNOTATOR_SESSION_IDLE_HOURS and ANNOTATOR_SESSION_MAX_DAYS)."""

    idle: dt.timedelta
    absolute: dt.timedelta

    def ended(self, created_at: dt.datetime, last_seen_at: dt.datetime, now: dt.datetime) -> bool:
        return now - last_seen_at > self.idle or now - created_at > self.absolute

    def ended_rows(self, now: dt.datetime):
        """The condition on login_sessions of :meth:`ended`."""
        return (LoginSession.last_seen_at < now - self.idle) | (LoginSession.created_at < now - self.absolute)


# A session's last use is written at most this often, so a read request (nearly always) writes
# nothing; the idle lifetime is measured to within it.
SEEN_EVERY = dt.timedelta(minutes=5)

_SIGNED_IN = (
    select(User.id, User.username, User.role, User.active, LoginSession.id.label("login_session_id"),
           LoginSession.created_at, LoginSession.last_seen_at)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.token_hash == bindparam("token_hash"))
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signed_in(session: Session, token: str, lifetimes: Lifetimes, *, writing: bool = False) -> User | None:
    """The account of the login session whose token this is (the session cookie's), while the
    session lives and the account may sign in: the web's user loader (who the actor of a
    request is), read on every request. The User carries the session (``login_session_id``).

    One Core SELECT of the session and what authorising needs (a save's biggest cost after the
    save itself, through the ORM); the User enters the session as if loaded, its other columns
    loaded when read, so the services work on this same object. ``writing``: the request will
    write, so the user is read in the write transaction its write service then joins
    (db.begin_write): one transaction for the request, not two."""
    if writing:
        begin_write(session)
    row = session.connection().execute(_SIGNED_IN, {"token_hash": _token_hash(token)}).first()
    now = utcnow()
    if row is None or not row.active or lifetimes.ended(row.created_at, row.last_seen_at, now):
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        if writing:  # with the request's write, in its transaction
            _mark_seen(session, row.login_session_id, now)
        else:
            _record_seen(session, None, row.login_session_id, now)
    user = User(id=row.id, username=row.username, role=row.role, active=row.active)
    make_transient_to_detached(user)
    user = session.merge(user, load=False)  # the session's own copy, if it holds one already
    user.login_session_id = row.login_session_id
    return user


def _mark_seen(session: Session, login_session_id: int, now: dt.datetime) -> None:
    session.connection().execute(update(LoginSession).where(LoginSession.id == login_session_id)
                                 .values(last_seen_at=now))


@writes(None)
def _record_seen(session: Session, actor: None, login_session_id: int, now: dt.datetime) -> None:
    """:func:`_mark_seen` in a (short) write transaction of its own, for a request that reads."""
    _mark_seen(session, login_session_id, now)


@writes(ANYONE)
def log_out(session: Session, actor: Actor) -> None:
    """End the login session the actor signed in with; their other sessions go on."""
    if (own := getattr(actor, "login_session_id", None)) is not None:
        session.execute(delete(LoginSession).where(LoginSession.id == own))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (without saying which part was wrong)."""
    return _verified(session.scalar(select(User).where(User.username == username)), password)


def _verified(user: User | None, password: str) -> User | None:
    """The user if the password is theirs and they may sign in, else None, in the same time
    either way: an account that is missing or has no usable password is checked against a
    dummy hash of the same method, so that timing a login does not tell which usernames exist
    (a deactivated account's own hash is checked, as an active one's)."""
    from werkzeug.security import check_password_hash

    usable = user is not None and user.password_hash != UNUSABLE_PASSWORD
    matches = check_password_hash(user.password_hash if usable else _dummy_hash(PASSWORD_HASH_METHOD), password)
    return user if usable and matches and user.active else None


@functools.cache
def _dummy_hash(method: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(secrets.token_urlsafe(16), method=method)


# Throttling failed logins, so that guessing is slow and no one can lock another person out:
# - per account and address: after FREE_FAILURES failures for an account from one address
#   (since its last success from there, within LOGIN_RECORDS_KEPT), each further attempt from
#   there waits FIRST_WAIT after the last failure, doubled by each failure, at most MAX_WAIT;
# - per address: MAX_FAILURES_PER_ADDRESS failures on any accounts within LOGIN_WINDOW, and
#   the address waits until the oldest of them leaves the window (one address trying many
#   accounts).
# Nothing counts an account's failures from every address together: that let anyone lock the
# real user out with five wrong passwords (issue 15). A refused attempt is not checked, nor
# counted, so waits end on time. Every checked attempt is recorded, never with its password.
FREE_FAILURES = 3
FIRST_WAIT = dt.timedelta(seconds=2)
MAX_WAIT = dt.timedelta(minutes=15)
LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 20
LOGIN_RECORDS_KEPT = dt.timedelta(days=1)
ADDRESS_MAX = 64


def failure_wait(failures: int) -> dt.timedelta:
    """How long after its last failure an account waits at an address where it failed this often."""
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    return min(FIRST_WAIT * 2 ** min(failures - FREE_FAILURES, 16), MAX_WAIT)


@writes(None)
def log_in(session: Session, actor: None, username: str, password: str, address: str,
           lifetimes: Lifetimes) -> tuple[User, str] | None:
    """Sign in someone not signed in (``actor`` None): a new login session for the active user
    with these credentials, and its token (for the session cookie; only its hash is stored),
    or None. Throttled as above (TooManyAttempts, 429, saying how long to wait). A session
    starting deletes those past their lifetimes, anyone's.

    The account's row is locked first (PostgreSQL; SQLite's write lock is already held), so
    one account's attempts are judged one after another, and an admin's reset or deactivation
    cannot slip between checking the password and starting the session."""
    now = utcnow()
    username, address = username[:USERNAME_MAX], address[:ADDRESS_MAX]
    account = session.scalar(select(User).where(User.username == username).with_for_update()
                             .execution_options(populate_existing=True))
    _throttle(session, username, address, now)
    user = _verified(account, password)
    session.execute(delete(LoginAttempt).where(
        (LoginAttempt.username == username) | (LoginAttempt.address == address), LoginAttempt.at < now - LOGIN_RECORDS_KEPT))
    session.add(LoginAttempt(username=username, address=address, succeeded=user is not None, at=now))
    if user is None:
        return None
    session.execute(delete(LoginSession).where(lifetimes.ended_rows(now)))
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    return user, token


def _throttle(session: Session, username: str, address: str, now: dt.datetime) -> None:
    """Refuse an attempt that comes before its wait is over (see above)."""
    pair = (LoginAttempt.username == username) & (LoginAttempt.address == address)
    last_success = session.scalar(select(func.max(LoginAttempt.at)).where(pair, LoginAttempt.succeeded))
    since = max(last_success or now - LOGIN_RECORDS_KEPT, now - LOGIN_RECORDS_KEPT)
    failures, last_failure = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(pair, ~LoginAttempt.succeeded, LoginAttempt.at > since)
    ).one()
    if failures >= FREE_FAILURES and now < last_failure + failure_wait(failures):
        _refuse("for this account from this address", last_failure + failure_wait(failures) - now)
    recent = session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.address == address, ~LoginAttempt.succeeded,
                                      LoginAttempt.at >= now - LOGIN_WINDOW)
        .order_by(LoginAttempt.at.desc()).limit(MAX_FAILURES_PER_ADDRESS)
    ).all()
    if len(recent) == MAX_FAILURES_PER_ADDRESS:
        _refuse("from this address", recent[-1] + LOGIN_WINDOW - now)


def _refuse(scope: str, wait: dt.timedelta) -> None:
    seconds = max(1, math.ceil(wait.total_seconds()))
    amount, unit = (seconds, "second") if seconds < 60 else (math.ceil(seconds / 60), "minute")
    raise TooManyAttempts(f"Too many failed logins {scope}; try again in {amount} {unit}{'' if amount == 1 else 's'}.",
                          retry_after=seconds)
