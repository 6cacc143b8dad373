"""The audit log: every change the service layer makes appends one event (who, when, which
entity, before and after). The database refuses to update or delete an event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..models import Event, utcnow
from .permissions import Actor


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: Any,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Append an event for ``entity`` (a mapped instance, flushed here so it has an id)."""
    session.flush()
    record_many(session, actor=actor, action=action, entity_type=entity.__tablename__,
                changes=[(entity.id, before, after)])


def record_many(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    changes: Iterable[tuple[int | None, dict | None, dict | None]],
) -> int:
    """Append one event per ``(entity_id, before, after)``, in one statement (bulk work: an
    import, an assignment of thousands of documents; a save's own event). Returns how many.

    A Core insert on the session's connection: events are never loaded into a session, and the
    ORM's bulk path costs a save more than the insert itself."""
    now, user_id = utcnow(), actor.id if actor is not None else None
    rows = [{"created_at": now, "user_id": user_id, "action": action, "entity_type": entity_type,
             "entity_id": entity_id, "before": before, "after": after} for entity_id, before, after in changes]
    if rows:
        session.connection().execute(_INSERT_EVENT, rows)
    return len(rows)


_INSERT_EVENT = insert(Event)
