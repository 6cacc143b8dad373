"""Idempotency keys: a change sent again (its answer lost on the way, two tabs replaying one
queue) is answered as the first time instead of running twice.

The annotation page gives each change it queues a key of its own, kept with the change until it
is answered (``idempotency_key`` in a batch of changes, annotations._run_changes); the single
write endpoints take an ``Idempotency-Key`` header (:func:`idempotent`). A change sent with a key
first claims it for its user, in its write transaction and before it runs: a row of
``idempotency_keys``, unique per user and key, which then stores the change's answer, in the
same transaction. Sent again with that key, the change does not run: the stored answer is the
answer (201 and the same span, not a 409 nor a second span).

- A refused change (4xx) writes nothing, its key neither: sent again, it runs again, as
  harmlessly as the first time. Only answers of changes that were made are stored, so the
  status is the success status of the request (201 for a create, else 200).
- Two requests with one key at once: the second waits for the first's transaction (on the
  key's unique index on PostgreSQL, the write lock on SQLite), then answers with the stored
  answer, or runs if the first was refused. Never a 409 for that.
- A key stands for what it was first sent for: the kind of change and where (the document of a
  batch, the ids in the path of a single request). The same key for anything else is refused
  (422). The body is not compared: a change sent again after a reload carries the versions the
  page knows by then.
- Keys are kept KEEP (7 days), then deleted when their user next sends a key.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, bindparam, delete, select, update
from sqlalchemy.orm import Session

from ..db import insert_or_skip
from ..errors import KeyReused, ServiceError
from ..models import IdempotencyKey, User, utcnow
from .permissions import Actor

KEEP = dt.timedelta(days=7)
MAX_KEY = 255
_KEY = re.compile(rf"[!-~]{{1,{MAX_KEY}}}")  # visible ASCII: what a header carries as it was sent

_FORGET = delete(IdempotencyKey).where(IdempotencyKey.user_id == bindparam("user_id"),
                                       IdempotencyKey.created_at < bindparam("before"))
_CLAIM = {dialect: insert_or_skip(dialect, IdempotencyKey, ("user_id", "key")).returning(IdempotencyKey.id)
          for dialect in ("sqlite", "postgresql")}
_STORED = select(IdempotencyKey.request, IdempotencyKey.body).where(
    IdempotencyKey.user_id == bindparam("user_id"), IdempotencyKey.key == bindparam("key"))
_ANSWER = update(IdempotencyKey).where(IdempotencyKey.id == bindparam("claimed")).values(
    body=bindparam("answer", type_=JSON(none_as_null=True)))


def checked_key(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise ServiceError(f"{field} must be 1 to {MAX_KEY} visible ASCII characters (no spaces)", field=field)
    return value


def request_of(kind: str, where: Any) -> str:
    """What a key stands for (see the module doc), as stored: a hash of the kind of change and
    where it applies."""
    return hashlib.sha256(json.dumps([kind, where]).encode()).hexdigest()


def once(session: Session, user: User, key: str | None, request: str, run: Callable[[], dict], *,
         field: str = "idempotency_key") -> dict:
    """``run()``'s answer, stored under the user's ``key``; or, the key being stored already,
    the answer stored, without running. Called by a write service, in its transaction: the
    change ``run`` makes and its key are kept, or rolled back, together. No key: ``run()``.
    ``field``: where the key was sent, for the error of a key sent before for another change."""
    if key is None:
        return run()
    connection = session.connection()
    names = {"user_id": user.id, "key": key}
    connection.execute(_FORGET, {"user_id": user.id, "before": utcnow() - KEEP})
    claimed = connection.execute(_CLAIM[connection.dialect.name], names | {"request": request, "created_at": utcnow()}).scalar()
    if claimed is None:
        stored = connection.execute(_STORED, names).one()
        if stored.request != request:
            raise KeyReused("this idempotency key was sent before for another change; send a new key for a new change",
                            field=field)
        return stored.body
    answer = run()
    connection.execute(_ANSWER, {"claimed": claimed, "answer": answer})
    return answer


def idempotent(service: Callable[..., dict]) -> Callable[..., dict]:
    """A write service ``(session, actor, *ids, data)`` that also takes ``idempotency_key`` (the
    header's value, None when not sent): run :func:`once` per key. Goes below db.writes, so the
    role is checked and the transaction begun before the key is claimed."""

    @functools.wraps(service)
    def run(session: Session, actor: Actor, *args: Any, idempotency_key: str | None = None) -> dict:
        key = None if idempotency_key is None else checked_key(idempotency_key, "Idempotency-Key")
        where = [arg for arg in args if not isinstance(arg, dict)]  # the ids of the path, not the body
        return once(session, actor, key, request_of(service.__name__, where), lambda: service(session, actor, *args),
                    field="Idempotency-Key")

    return run
