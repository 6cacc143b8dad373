"""The database: the engine settings that make SQLite safe for several writers, and the one
way the service layer reads and writes.

Every service function takes ``(session, actor, ...)`` and is wrapped in :func:`writes`,
:func:`reads` or :func:`batch`. ``writes(roles)`` checks the actor's role, begins a write
transaction (BEGIN IMMEDIATE on SQLite), commits when the function returns and rolls back on
any error, turning the races the database caught into Conflict. A service function called
inside another acts for it: it joins its transaction (both land together or not at all) and
is not checked again. Nothing else commits: the web pages and the command line only call
services.

No Flask here: the command line works with a :class:`Database` of its own; the app binds one
to each request (annotator.app.db).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, Insert, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict
from .services.permissions import Actor, require_role

SQLITE_BUSY_TIMEOUT_MS = 30_000


def configure_engine(engine: Engine, *, synchronous: str = "NORMAL") -> Engine:
    """WAL, foreign keys, a busy timeout and write transactions that wait; SQLite only.

    Reads begin DEFERRED and never block anyone. A write transaction (see :func:`writes`)
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
# session.info: whether a write service's transaction is open, how deep in services we are, and
# the write transaction begin_write opened for the next write service
_WRITING = "annotator.writing"
_DEPTH = "annotator.service_depth"
_BEGUN = "annotator.write_begun"


class Database:
    """One database: its engine, configured as above, and the sessions of the service layer.

    Objects stay readable after a commit (``expire_on_commit=False``): a request or a command
    is short, and reloading what it just wrote would cost a query each.
    """

    def __init__(self, url: str, *, synchronous: str = "NORMAL", engine_options: Mapping[str, Any] | None = None):
        self.engine = configure_engine(create_engine(url, **dict(engine_options or {})), synchronous=synchronous)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def reachable(self) -> bool:
        """Whether the database answers a ``SELECT 1`` (on a connection of its own)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def _begin_write(session: Session) -> None:
    """Make the session's transaction a write transaction, before any read in it.

    A read-only transaction already open (loading the current user, say) is ended first, so
    the write starts from a fresh snapshot with the lock held.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a write service must begin its transaction before any change")
        session.commit()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def begin_write(session: Session) -> None:
    """Begin the session's write transaction now, for a write service to come, which joins it
    instead of beginning its own: what is read before it (the user of a request that will write)
    is read under the write lock, in the same transaction. Ended by that service, or rolled back
    when the session closes without one."""
    _begin_write(session)
    session.info[_BEGUN] = session.get_transaction()


P = ParamSpec("P")
R = TypeVar("R")
Service = Callable[Concatenate[Session, Actor, P], R]


def writes(roles: tuple[str, ...] | None) -> Callable[[Service], Service]:
    """Make a service function ``(session, actor, ...)`` one write transaction that only
    ``roles`` may run (see the module doc); None: anyone, signed in or not (logging in)."""

    def decorate(function: Service) -> Service:
        @functools.wraps(function)
        def run(session: Session, actor: Actor, *args: P.args, **kwargs: P.kwargs) -> R:
            with _entered(session, actor, roles):
                if session.info.get(_WRITING):  # called by another write service: its transaction
                    return function(session, actor, *args, **kwargs)
                begun = session.info.pop(_BEGUN, None)
                if begun is None or begun is not session.get_transaction():  # none begun for it, or ended
                    _begin_write(session)
                session.info[_WRITING] = True
                try:
                    result = function(session, actor, *args, **kwargs)
                    session.commit()
                    return result
                except (StaleDataError, IntegrityError) as error:
                    session.rollback()
                    raise race_conflict(error) from error
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    session.info[_WRITING] = False

        return run

    return decorate


def insert_or_skip(dialect: str, model: type, unique: Sequence[str]) -> Insert:
    """An INSERT of ``model`` rows that skips the rows whose ``unique`` key is taken (ON
    CONFLICT DO NOTHING) in ``dialect`` ("sqlite" or "postgresql", a session's
    ``get_bind().dialect.name``). On PostgreSQL a row another transaction is inserting with the
    same key waits for it, then is skipped if it committed: the key is never taken twice."""
    module = {"postgresql": postgresql, "sqlite": sqlite}[dialect]
    return module.insert(model).on_conflict_do_nothing(index_elements=list(unique))


def race_conflict(error: StaleDataError | IntegrityError) -> Conflict:
    """What the client is told when the database caught a race: a row changed since it was
    read (its version moved on), or saved twice at once (a unique key)."""
    if isinstance(error, StaleDataError):
        return Conflict("this item was changed elsewhere at the same moment; reload to see it", field="version")
    return Conflict("this item was saved elsewhere at the same moment; reload to see it")


def reads(roles: tuple[str, ...]) -> Callable[[Service], Service]:
    """A service function ``(session, actor, ...)`` that only reads, and that only ``roles``
    may run."""
    return _checked(roles)


def batch(roles: tuple[str, ...]) -> Callable[[Service], Service]:
    """A service function ``(session, actor, ...)`` that only ``roles`` may run and that writes
    in many transactions (an import, pre-filling a project's gold): each write service it
    calls commits on its own, so a long run keeps what it did and never holds the lock long."""
    return _checked(roles)


def _checked(roles: tuple[str, ...]) -> Callable[[Service], Service]:
    def decorate(function: Service) -> Service:
        @functools.wraps(function)
        def run(session: Session, actor: Actor, *args: P.args, **kwargs: P.kwargs) -> R:
            with _entered(session, actor, roles):
                return function(session, actor, *args, **kwargs)

        return run

    return decorate


@contextlib.contextmanager
def _entered(session: Session, actor: Actor, roles: tuple[str, ...] | None) -> Iterator[None]:
    """The role is checked where a call enters the service layer. A service that another one
    calls acts for it (the gold standard's writes go through the annotators' services with
    the gold account, an account nobody can sign in to), so it is not checked again."""
    depth = session.info.get(_DEPTH, 0)
    if depth == 0 and roles is not None:
        require_role(actor, roles)
    session.info[_DEPTH] = depth + 1
    try:
        yield
    finally:
        session.info[_DEPTH] = depth
