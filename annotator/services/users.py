"""Accounts: creation, passwords, roles, deactivation, logging in. Every change is audited.

Admins (and the command line's SYSTEM) manage accounts; supervisors look them up and create
placeholder accounts for the authors of imported annotations; everyone changes their own
password.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, make_transient_to_detached

from . import audit
from ..db import begin_write, reads, writes
from ..errors import Conflict, NotFound, ServiceError, TooManyAttempts
from ..models import ID_MAX, ROLES, LoginAttempt, User, utcnow
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
    return user, generated


@writes(ANYONE)
def change_password(session: Session, actor: Actor, current: str, new: str) -> None:
    """A user changing their own password, proving they know the current one."""
    user = _own_account(session, actor)
    if not _password_matches(user, current):
        raise ServiceError("the current password is wrong", field="current_password")
    _store_password(user, new, "new_password")
    audit.record(session, actor=user, action="change_password", entity=user)


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


_SIGNED_IN = select(User.username, User.role, User.active).where(User.id == bindparam("user_id"))


def signed_in(session: Session, user_id: int, *, writing: bool = False) -> User | None:
    """The account a session cookie names, while it may still sign in (the web's user loader:
    who the actor of a request is), read on every request.

    One Core SELECT of what authorising needs (a save's biggest cost after the save itself,
    through the ORM); the User enters the session as if loaded, its other columns loaded when
    read, so the services work on this same object. ``writing``: the request will write, so
    the user is read in the write transaction its write service then joins (db.begin_write):
    one transaction for the request, not two."""
    if not 0 < user_id <= ID_MAX:
        return None
    if writing:
        begin_write(session)
    row = session.connection().execute(_SIGNED_IN, {"user_id": user_id}).first()
    if row is None or not row.active:
        return None
    user = User(id=user_id, username=row.username, role=row.role, active=row.active)
    make_transient_to_detached(user)
    return session.merge(user, load=False)  # the session's own copy, if it holds one already


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (without saying which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not _password_matches(user, password):
        return None
    return user


# Failed logins allowed in LOGIN_WINDOW per account (since its last success) and per address.
LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
LOGIN_RECORDS_KEPT = dt.timedelta(days=1)


@writes(None)
def log_in(session: Session, actor: Actor | None, username: str, password: str, address: str) -> User | None:
    """:func:`authenticate`, throttled, for someone not signed in (``actor`` None): after
    MAX_FAILURES_PER_ACCOUNT failed attempts on an account within LOGIN_WINDOW (and since its
    last success), or MAX_FAILURES_PER_ADDRESS from one address, further attempts are refused
    (TooManyAttempts, 429) without checking the password, until the oldest of those failures
    leaves the window. A refused attempt is not counted, so the lock ends on time. Every
    checked attempt is recorded."""
    now = utcnow()
    since = now - LOGIN_WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.succeeded)
    )
    failed = (~LoginAttempt.succeeded) & (LoginAttempt.at >= since)
    limits = (
        (LoginAttempt.username == username) & (LoginAttempt.at > (last_success or since)), MAX_FAILURES_PER_ACCOUNT,
        "this account",
    ), (LoginAttempt.address == address, MAX_FAILURES_PER_ADDRESS, "this address")
    for scope, limit, what in limits:
        failures = session.scalars(select(LoginAttempt.at).where(failed, scope).order_by(LoginAttempt.at)).all()
        if len(failures) >= limit:
            wait = failures[-limit] + LOGIN_WINDOW - now
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            raise TooManyAttempts(f"Too many failed logins for {what}; try again in {minutes} minute"
                                  f"{'' if minutes == 1 else 's'}.")
    user = authenticate(session, username, password)
    session.execute(delete(LoginAttempt).where(
        (LoginAttempt.username == username) | (LoginAttempt.address == address), LoginAttempt.at < now - LOGIN_RECORDS_KEPT))
    session.add(LoginAttempt(username=username[:USERNAME_MAX], address=address[:64], succeeded=user is not None, at=now))
    return user
