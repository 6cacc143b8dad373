"""Migrations upgrade from empty and downgrade to base on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from annotator import migrate
from annotator.db import configure_engine
from annotator.models import Base


def _engine(url: str) -> sa.Engine:
    return configure_engine(sa.create_engine(url))


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url):
    engine = _engine(empty_database_url)
    assert migrate.current_revision(engine) is None

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    # The migration creates exactly what the models describe: autogenerate finds no difference.
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []

    migrate.downgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)  # and up again after a full downgrade
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_events_are_append_only(empty_database_url):
    engine = _engine(empty_database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO events (action, entity_type, created_at) VALUES ('x', 'y', CURRENT_TIMESTAMP)")
        )
    for statement in ("UPDATE events SET action = 'changed'", "DELETE FROM events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(sa.text(statement))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT action FROM events")).scalars().all() == ["x"]
    engine.dispose()


def test_sqlite_settings(tmp_path):
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()
