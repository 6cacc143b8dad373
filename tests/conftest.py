"""Fixtures: every database test runs on SQLite and on PostgreSQL, both real.

PostgreSQL comes from ANNOTATOR_TEST_POSTGRES_URL (default: the machine's server on
127.0.0.1:5432, trust auth). Each run creates throwaway databases and drops them at the end.
Tests needing a service that is missing are skipped here; .ci/run fails on any skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from annotator import create_app, migrate
from annotator.app import db
from annotator.db import configure_engine
from annotator.models import Base

POSTGRES_URL = os.environ.get(
    "ANNOTATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SEED_TXT = SEEDS / "000_a8e75834ae8b6b50.txt"


class PostgresServer:
    """Creates and drops throwaway databases on the test server."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def available(self) -> str | None:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
            return f"PostgreSQL not reachable at {self.url.render_as_string()}: {error}"
        return None

    def create_database(self) -> str:
        name = f"annotator_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.engine.connect() as connection:
            for name in self.created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    yield server
    server.drop_all()


@pytest.fixture
def require_postgres(postgres_server: PostgresServer) -> PostgresServer:
    if reason := postgres_server.available():
        pytest.skip(reason)
    return postgres_server


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = configure_engine(sa.create_engine(f"sqlite:///{path}"))
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: PostgresServer) -> str | None:
    if postgres_server.available():
        return None
    url = postgres_server.create_database()
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _truncate_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, migrated_sqlite, migrated_postgres, postgres_server) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "annotator.sqlite3"
        shutil.copy(migrated_sqlite, path)
        return f"sqlite:///{path}"
    if migrated_postgres is None:
        pytest.skip(postgres_server.available())
    _truncate_postgres(migrated_postgres)
    return migrated_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path, postgres_server) -> str:
    """A database with no tables at all, of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    if reason := postgres_server.available():
        pytest.skip(reason)
    return postgres_server.create_database()


@pytest.fixture(autouse=True)
def cheap_password_hashes(request, monkeypatch):
    """Hashing a password the app's way (scrypt) takes about 100 ms: the tests' accounts are
    hashed cheaply (checking a password takes the method from its hash), except in tests
    marked ``real_password_hashing``, which are about hashing."""
    from annotator.services import users

    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(users, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1")


@pytest.fixture
def app(database_url, tmp_path):
    """The app, with no context pushed: each request and command pushes its own, as in production."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def engine(app) -> sa.Engine:
    with app.app_context():
        return db.engine


@pytest.fixture
def session(engine) -> Iterator[Session]:
    """A session of the test's own on the app's database, for arranging and checking rows."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def cli(app):
    """The `annotator` command, in process, with the test app's settings (as its environment
    would give them)."""
    from click.testing import CliRunner

    from annotator.cli import main

    runner = CliRunner()
    return lambda *args, **kwargs: runner.invoke(main, list(args), obj=app.config, **kwargs)
