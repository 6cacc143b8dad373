"""`annotator backup` and `annotator restore` on SQLite (online backup API) and PostgreSQL
(pg_dump / pg_restore): a restore into a fresh instance holds every row; a backup taken while
annotators save is one consistent state; refusals and bad files."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from annotator import create_app
from annotator.app import db
from annotator.cli import main
from annotator.models import Base, Event, Span

from .helpers import Client, annotation_world, span_payload


@pytest.fixture
def world(app, session):
    return annotation_world(app, session)


def _fresh_database(engine: sa.Engine, tmp_path, postgres_server) -> str:
    """An empty database of the same kind as ``engine``'s."""
    if engine.dialect.name == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    return postgres_server.create_database()


def _run(url: str, tmp_path, *args: str):
    """The command against another instance (its own app, database and secret)."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "other-instance"),
                        "SECRET_KEY": "other"})
    try:
        return CliRunner().invoke(main, list(args), obj=other.config)
    finally:
        with other.app_context():
            db.engine.dispose()


def _rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def _annotate(world, phrases) -> None:
    ann = Client(world["app"], "ann")
    for phrase in phrases:
        response = ann.call("POST", f"/api/documents/{world['seed'].id}/spans",
                            span_payload(world["seed"], phrase, "attribution", "SOURCE"))
        assert response.status_code == 201, response.json


def test_restore_into_a_fresh_instance_holds_every_row(world, cli, engine, tmp_path, postgres_server):
    _annotate(world, ["ARY News", "Hamas"])
    out = tmp_path / "annotator.backup"
    result = cli("backup", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0 and "backed up" in result.output

    fresh = _fresh_database(engine, tmp_path, postgres_server)
    restored = _run(fresh, tmp_path, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    fresh_engine = sa.create_engine(fresh)
    try:
        original, copy = _rows(engine), _rows(fresh_engine)
        assert copy == original
        assert len(copy["spans"]) == 2 and len(copy["events"]) >= 2 and copy["documents"]
    finally:
        fresh_engine.dispose()


def test_a_backup_taken_while_annotators_save_is_consistent(world, cli, engine, tmp_path, postgres_server):
    words = sorted({w for w in world["seed"].text.split() if w.isalpha() and len(w) > 3})[:60]
    writer = threading.Thread(target=_annotate, args=(world, words))
    writer.start()
    out = tmp_path / "during.backup"
    result = cli("backup", "--out", str(out))
    writer.join()
    assert result.exit_code == 0, result.output

    fresh = _fresh_database(engine, tmp_path, postgres_server)
    assert _run(fresh, tmp_path, "restore", str(out)).exit_code == 0
    fresh_engine = sa.create_engine(fresh)
    try:
        with fresh_engine.connect() as connection:
            spans = connection.execute(sa.select(Span.id)).scalars().all()
            created = set(connection.execute(
                sa.select(Event.entity_id).where(Event.entity_type == "spans", Event.action == "create")).scalars())
        # One state of the database: every span saved is there with its audit event, and
        # nothing half-saved (spans and their events are written in one transaction).
        assert set(spans) == created
        assert len(spans) <= len(words)
        if engine.dialect.name == "sqlite":
            with fresh_engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        fresh_engine.dispose()
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Span)) == len(words)


def test_refusals_and_bad_files(world, cli, engine, tmp_path):
    out = tmp_path / "exists.backup"
    out.write_bytes(b"keep me")
    result = cli("backup", "--out", str(out))
    assert result.exit_code != 0 and "exists" in result.output and out.read_bytes() == b"keep me"
    assert cli("backup", "--out", str(tmp_path / "no-such-folder" / "x.backup")).exit_code != 0
    assert not list(tmp_path.glob(".exists.backup.*"))  # no temporary file left behind

    assert cli("backup", "--out", str(out), "--force").exit_code == 0
    refused = cli("restore", str(out))  # the app's own database holds data
    assert refused.exit_code != 0 and "--force" in refused.output

    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(b"this is not a backup" * 100)
    before = _rows(engine)
    result = cli("restore", str(garbage), "--force")
    assert result.exit_code != 0
    assert _rows(engine) == before
    assert cli("restore", str(tmp_path / "missing.backup")).exit_code != 0


@pytest.fixture(autouse=True)
def _need_pg_tools(engine):
    import shutil

    if engine.dialect.name == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
