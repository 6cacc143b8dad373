"""Several workers writing at once never see "database is locked" (a write service's BEGIN
IMMEDIATE on SQLite)."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

from annotator.db import configure_engine, writes
from annotator.models import Event
from annotator.services.permissions import ADMINS, SYSTEM

WORKERS = 8
WRITES = 25


@writes(ADMINS)
def _count_then_append(session, actor, entity_id: int) -> None:
    """Read-then-write: the pattern that fails in DEFERRED transactions."""
    session.scalar(sa.select(sa.func.count(Event.id)))
    session.add(Event(action="test", entity_type="worker", entity_id=entity_id))


def test_concurrent_read_then_write_transactions(database_url):
    engine = configure_engine(sa.create_engine(database_url, pool_size=WORKERS, max_overflow=0))
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for index in range(WRITES):
                with Session(engine) as session:
                    # A read before the write starts, as in a request that loaded its user ...
                    session.scalar(sa.select(sa.func.count(Event.id)))
                    # ... then a write service (it commits).
                    _count_then_append(session, SYSTEM, number * 1000 + index)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count(Event.id))) == WORKERS * WRITES
    engine.dispose()
