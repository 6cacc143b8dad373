"""Accounts: creation, passwords, roles, deactivation. Every change is audited."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .db import writes
from .errors import Conflict, NotFound, ServiceError
from .models import ROLES, User

MIN_PASSWORD_LENGTH = 10
USERNAME_MAX = 80


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"password is too short: at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def public_fields(user: User) -> dict:
    """What the audit log keeps of a user (never the password hash)."""
    return {"username": user.username, "role": user.role, "active": user.active}


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return user


@writes
def create_user(
    session: Session,
    username: str,
    role: str,
    password: str | None = None,
    *,
    actor: User | None = None,
) -> tuple[User, str | None]:
    """Create an account; returns it and the generated password when none was given."""
    username = username.strip()
    if not username or len(username) > USERNAME_MAX or not username.isprintable():
        raise ServiceError(f"username must be 1-{USERNAME_MAX} printable characters", field="username")
    if role not in ROLES:
        raise ServiceError(f"role must be one of {', '.join(ROLES)}", field="role")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    generated = None if password is not None else generate_password()
    password = password if password is not None else generated
    _check_password(password)
    user = User(username=username, role=role, active=True, password_hash=generate_password_hash(password))
    session.add(user)
    audit.record(session, actor=actor, action="create", entity=user, after=public_fields(user))
    return user, generated


@writes
def set_password(session: Session, user: User, password: str, *, actor: User | None = None) -> None:
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    audit.record(session, actor=actor, action="set_password", entity=user)


@writes
def deactivate(session: Session, user: User, *, actor: User | None = None) -> None:
    before = public_fields(user)
    user.active = False
    audit.record(
        session, actor=actor, action="deactivate", entity=user, before=before, after=public_fields(user)
    )


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (without saying which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user
