"""The database handle, and the engine settings that make SQLite safe for several writers."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, scoped_session

from .models import Base

# Our own declarative Base (typed, with a naming convention) owns the tables; Flask-SQLAlchemy
# only manages the engine and the request-scoped session. A request is short, so objects it
# committed need not be reloaded to be read again (expire_on_commit=False saves a query each).
db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})

SQLITE_BUSY_TIMEOUT_MS = 30_000


def configure_engine(engine: Engine, *, synchronous: str = "NORMAL") -> Engine:
    """WAL, foreign keys, a busy timeout and write transactions that wait; SQLite only.

    Reads begin DEFERRED and never block anyone. A write transaction (see begin_write)
    begins IMMEDIATE: it takes the write lock before its first read, so a transaction that
    reads and then writes cannot fail with "database is locked" because another worker
    committed in between. Writers of one process queue on a lock of their own first: a
    fair queue, where SQLite's busy handler would poll with growing sleeps (hundreds of
    milliseconds under contention). Other processes still wait in the busy handler.

    ``synchronous``: NORMAL (in WAL mode, a commit survives the process being killed; the
    last commits may be lost if the machine loses power) or FULL (an fsync per commit).
    """
    if engine.dialect.name != "sqlite":
        return engine
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise TimeoutError("timed out waiting for the database write lock")
            connection.info[_HOLDS_WRITER] = True
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(connection)
            raise

    def _release(connection):
        if connection.info.pop(_HOLDS_WRITER, False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    return engine


_HOLDS_WRITER = "annotator.holds_writer"
_WRITE_TRANSACTION = "annotator.write_transaction"


def begin_write(session: Session | scoped_session) -> None:
    """Make the session's transaction a write transaction, before any read in it.

    A read-only transaction already open (loading the current user, say) is ended first, so
    the write starts from a fresh snapshot with the lock held. Idempotent within one write
    transaction, so service functions can call each other.
    """
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_transaction()
    if transaction is not None:
        if session.info.get(_WRITE_TRANSACTION) is transaction:
            return
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() must come before the first change in a transaction")
        session.commit()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    session.info[_WRITE_TRANSACTION] = session.get_transaction()


P = ParamSpec("P")
R = TypeVar("R")


def writes(function: Callable[P, R]) -> Callable[P, R]:
    """Run a service function (whose first argument is the session) in a write transaction."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        begin_write(args[0])
        return function(*args, **kwargs)

    return wrapper
