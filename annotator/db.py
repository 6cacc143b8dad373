"""The database handle, and the engine settings that make SQLite safe for several writers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, scoped_session

from .models import Base

# Our own declarative Base (typed, with a naming convention) owns the tables; Flask-SQLAlchemy
# only manages the engine and the request-scoped session.
db = SQLAlchemy(metadata=Base.metadata)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def configure_engine(engine: Engine) -> Engine:
    """WAL, foreign keys, a busy timeout and write transactions that wait; SQLite only.

    Reads begin DEFERRED and never block anyone. A write transaction (see begin_write)
    begins IMMEDIATE: it takes the write lock before its first read, so a transaction that
    reads and then writes cannot fail with "database is locked" because another worker
    committed in between; it waits in the busy handler instead.
    """
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # An acknowledged save must survive power loss, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


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
