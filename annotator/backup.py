"""Backup and restore of the whole database, online.

SQLite: SQLite's online backup API copies the database page by page while the app keeps
serving (a writer that commits meanwhile makes the copy restart its pass, so the result is
always one consistent state); the copy is checked with ``PRAGMA integrity_check`` before it
is moved into place. PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot, taken
without blocking writers) and ``pg_restore``; both programs must be on PATH, in the server's
major version.

A backup is written to a temporary file beside the target and renamed into place only when
complete, so a failed or interrupted backup never leaves a half-written file under the
asked-for name. Restore refuses a database that already holds data unless forced, and
upgrades the restored schema to the current version.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from . import migrate
from .errors import ServiceError
from .models import Base

PAGES_PER_STEP = 1024  # SQLite pages copied per step: writers wait at most one step


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    method: str  # "sqlite backup API" or "pg_dump"


def backup(engine: sa.Engine, out: str | os.PathLike[str], *, overwrite: bool = False) -> BackupResult:
    target = Path(out)
    if target.exists() and not overwrite:
        raise ServiceError(f"{target} exists; choose another name or pass --force", field="out")
    if not target.parent.is_dir():
        raise ServiceError(f"{target.parent} is not a folder", field="out")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, Path(temporary))
            method = "sqlite backup API"
        elif engine.dialect.name == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", temporary, "--dbname", _libpq_url(engine)])
            method = "pg_dump"
        else:
            raise ServiceError(f"no backup method for {engine.dialect.name}")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return BackupResult(target, target.stat().st_size, method)


def restore(engine: sa.Engine, source: str | os.PathLike[str], *, force: bool = False) -> None:
    path = Path(source)
    if not path.is_file():
        raise ServiceError(f"{path}: no such backup file", field="file")
    if not force and _holds_data(engine):
        raise ServiceError("the database already holds data; restore replaces all of it: pass --force to do so")
    engine.dispose()  # no pooled connection may hold the old database open
    if engine.dialect.name == "sqlite":
        _sqlite_restore(engine, path)
    elif engine.dialect.name == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--dbname", _libpq_url(engine), str(path)])
    else:
        raise ServiceError(f"no restore method for {engine.dialect.name}")
    engine.dispose()
    migrate.upgrade(engine)


def _holds_data(engine: sa.Engine) -> bool:
    existing = set(sa.inspect(engine).get_table_names())
    with engine.connect() as connection:
        return any(
            connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None
            for table in Base.metadata.sorted_tables
            if table.name in existing
        )


def _sqlite_backup(engine: sa.Engine, destination: Path) -> None:
    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(destination)
        try:
            raw.driver_connection.backup(copy, pages=PAGES_PER_STEP)
            _check_integrity(copy, "the backup")
        finally:
            copy.close()
    finally:
        raw.close()


def _sqlite_restore(engine: sa.Engine, source: Path) -> None:
    backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            _check_integrity(backup_file, str(source))
        except sqlite3.DatabaseError as error:
            raise ServiceError(f"{source} is not an SQLite database: {error}", field="file") from error
        raw = engine.raw_connection()
        try:
            backup_file.backup(raw.driver_connection, pages=PAGES_PER_STEP)
        finally:
            raw.close()
    finally:
        backup_file.close()


def _check_integrity(connection: sqlite3.Connection, what: str) -> None:
    result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise ServiceError(f"{what} failed SQLite's integrity check: {'; '.join(result[:5])}")


def _libpq_url(engine: sa.Engine) -> str:
    """The database URL as libpq (pg_dump, pg_restore) reads it."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise ServiceError(f"{command[0]} is not installed (Debian: apt install postgresql-client)")
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        raise ServiceError(f"{command[0]} failed: {finished.stderr.strip()[-2000:]}")
