"""Several workers writing at once never see "database is locked" (BEGIN IMMEDIATE on SQLite)."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

from annotator.db import begin_write, configure_engine
from annotator.models import Event

WORKERS = 8
WRITES = 25


def test_concurrent_read_then_write_transactions(database_url):
    engine = configure_engine(sa.create_engine(database_url, pool_size=WORKERS, max_overflow=0))
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for index in range(WRITES):
                with Session(engine) as session:
                    # A read before the write starts, as in a request that loaded its user ...
                    session.scalar(sa.select(sa.func.count(Event.id)))
                    begin_write(session)
                    # ... then read-then-write: the pattern that fails in DEFERRED transactions.
                    session.scalar(sa.select(sa.func.count(Event.id)))
                    session.add(Event(action="test", entity_type="worker", entity_id=number * 1000 + index))
                    session.commit()
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
