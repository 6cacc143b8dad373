"""The audit log: every change the service layer makes appends one event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import Event, User


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity: Any,
    before: dict | None = None,
    after: dict | None = None,
) -> Event:
    """Append an event for ``entity`` (a mapped instance, flushed here so it has an id)."""
    session.flush()
    event = Event(
        user_id=actor.id if actor else None,
        action=action,
        entity_type=entity.__tablename__,
        entity_id=entity.id,
        before=before,
        after=after,
    )
    session.add(event)
    return event
