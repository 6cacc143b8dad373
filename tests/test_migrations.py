"""Migrations upgrade from empty and downgrade to base on SQLite and PostgreSQL; a migration
that rebuilds a table or changes a constraint keeps the rows and everything else."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from annotator import migrate
from annotator.db import configure_engine
from annotator.models import Base, User


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


def _schema(engine: sa.Engine, table: str) -> dict:
    """What rebuilding a table must keep: columns, keys, constraints, indexes (each kind by
    name: a rebuild need not keep their order)."""
    inspector = sa.inspect(engine)
    by_name = lambda items: sorted(items, key=lambda item: item["name"])  # noqa: E731
    return {
        "columns": {column["name"]: (str(column["type"]), column["nullable"]) for column in inspector.get_columns(table)},
        "primary key": inspector.get_pk_constraint(table),
        "foreign keys": by_name(inspector.get_foreign_keys(table)),
        "unique": by_name(inspector.get_unique_constraints(table)),
        "indexes": by_name(inspector.get_indexes(table)),
        "checks": by_name(inspector.get_check_constraints(table)),
    }


def _spans_and_attribution(engine: sa.Engine) -> tuple[list[int], int]:
    """Three spans and an attribution of one annotator: (span ids, attribution id)."""
    with Session(engine) as session:
        user = User(username="ann", password_hash="x", role="annotator")
        # The project in SQL: the model has columns that later revisions add (0012's codebook_language).
        project_id = session.scalar(sa.text("INSERT INTO projects (name, codebook, codebook_version) VALUES ('p', '{}', 1) RETURNING id"))
        # The document in SQL too: the model has 0015's identity_hash.
        document_id = session.scalar(sa.text(
            "INSERT INTO documents (project_id, title, text, content_hash, language, metadata, imported_at) "
            "VALUES (:project, 't', 'ARY News said so.', 'h', 'en', '{}', CURRENT_TIMESTAMP) RETURNING id"),
            {"project": project_id})
        sentence_id = session.scalar(sa.text(
            "INSERT INTO sentences (document_id, position, start, \"end\") VALUES (:document, 0, 0, 17) RETURNING id"),
            {"document": document_id})
        session.add(user)
        session.flush()
        # The spans in SQL too: the model has 0014's fragments and comment.
        span_ids = [session.scalar(sa.text(
            "INSERT INTO spans (user_id, document_id, sentence_id, layer, label, start, \"end\", text, "
            "attributes, version, created_at, updated_at) VALUES (:user, :document, :sentence, 'evidence', "
            "'CLAIM', :start, :end, :text, '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"),
            {"user": user.id, "document": document_id, "sentence": sentence_id,
             "start": start, "end": end, "text": "ARY News said so."[start:end]})
            for start, end in ((0, 8), (9, 13), (14, 16))]
        # The attribution in SQL too: the model has 0018's provenance columns.
        attribution_id = session.scalar(sa.text(
            "INSERT INTO attributions (user_id, document_id, relation, attributes, version, created_at, updated_at) "
            "VALUES (:user, :document, 'support', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"),
            {"user": user.id, "document": document_id})
        session.commit()
        return span_ids, attribution_id


def _add_part(engine: sa.Engine, attribution_id: int, span_id: int, role: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO attribution_parts (attribution_id, span_id, role) VALUES (:a, :s, :r)"),
                           {"a": attribution_id, "s": span_id, "r": role})


def _parts(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT id, attribution_id, span_id, role FROM attribution_parts "
                                          "ORDER BY id")).all()


def test_0006_lets_the_codebook_name_attribution_roles(empty_database_url):
    """0006 drops the CHECK that allowed only the default codebook's roles and keeps a
    non-empty one; the rows and everything else about attribution_parts survive (a rebuild
    of the table on SQLite), as do the events' append-only triggers. Downgrading puts the
    old CHECK back, and refuses while a stored role breaks it."""
    engine = _engine(empty_database_url)
    migrate.upgrade(engine, "0005")
    (first, second, third), attribution = _spans_and_attribution(engine)
    _add_part(engine, attribution, first, "cue")
    with pytest.raises(sa.exc.IntegrityError):
        _add_part(engine, attribution, second, "evidence")  # the bug: a custom codebook's role
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO events (action, entity_type) VALUES ('x', 'y')"))
    before, parts = _schema(engine, "attribution_parts"), _parts(engine)

    migrate.upgrade(engine, "0006")
    after = _schema(engine, "attribution_parts")
    assert [check["name"] for check in after["checks"]] == ["ck_attribution_parts_role"]
    assert after["columns"].pop("role") == ("VARCHAR(64)", False)
    assert before["columns"].pop("role") == ("VARCHAR(20)", False)
    unchanged = ("columns", "primary key", "foreign keys", "unique", "indexes")
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert _parts(engine) == parts
    _add_part(engine, attribution, second, "evidence")
    with pytest.raises(sa.exc.IntegrityError):
        _add_part(engine, attribution, third, "")
    with pytest.raises(sa.exc.IntegrityError):  # the parts' foreign keys still hold
        _add_part(engine, attribution, third + 100, "claim")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE events SET action = 'changed'"))

    with pytest.raises(sa.exc.IntegrityError):
        migrate.downgrade(engine, "0005")
    assert migrate.current_revision(engine) == "0006" and len(_parts(engine)) == 2
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM attribution_parts WHERE role = 'evidence'"))
    migrate.downgrade(engine, "0005")
    before["columns"]["role"] = ("VARCHAR(20)", False)
    assert _schema(engine, "attribution_parts") == before
    assert _parts(engine) == parts
    engine.dispose()


def test_rebuilding_documents_keeps_the_rows_that_refer_to_them(empty_database_url):
    """0015 rebuilds documents on SQLite (batch mode: copy, drop the old table, rename); with
    foreign keys on, dropping the old table deleted every sentence, span and part of the
    database (ON DELETE CASCADE). Migrations run with them off and check every reference."""
    engine = _engine(empty_database_url)
    migrate.upgrade(engine, "0014")
    span_ids, attribution_id = _spans_and_attribution(engine)
    _add_part(engine, attribution_id, span_ids[0], "source")
    counted = "SELECT (SELECT count(*) FROM sentences), (SELECT count(*) FROM spans), (SELECT count(*) FROM attribution_parts)"
    with engine.connect() as connection:
        before = connection.execute(sa.text(counted)).one()
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text(counted)).one() == before == (1, 3, 1)
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # on again
    with pytest.raises(sa.exc.IntegrityError):
        _add_part(engine, attribution_id, 1000, "cue")
    engine.dispose()


def test_0020_adds_source_entities_and_keeps_the_spans(empty_database_url):
    """0020 adds the registry's tables and spans.entity_id (spans rebuilt on SQLite): the spans,
    the rows referring to them and everything else about the table stay; a link is set to NULL
    when its entity goes; the database keeps names and aliases unique per project. Downgrading
    gives back the table as it was, rows and all."""
    engine = _engine(empty_database_url)
    migrate.upgrade(engine, "0018")
    with engine.begin() as connection:  # a span and its part in an attribution, in SQL: as 0018 has them
        row = lambda statement, **values: connection.execute(sa.text(statement), values).scalar()  # noqa: E731
        project = row("INSERT INTO projects (name, codebook, codebook_version) VALUES ('p', '{}', 1) RETURNING id")
        document = row("INSERT INTO documents (project_id, title, text, content_hash, identity_hash, language, metadata) "
                       "VALUES (:p, 't', 'ARY News said so.', 'h', 'i', 'en', '{}') RETURNING id", p=project)
        sentence = row("INSERT INTO sentences (document_id, position, start, \"end\") VALUES (:d, 0, 0, 17) RETURNING id",
                       d=document)
        user = row("INSERT INTO users (username, password_hash, role, active) VALUES ('ann', 'x', 'annotator', true) "
                   "RETURNING id")
        span = row("INSERT INTO spans (user_id, document_id, sentence_id, layer, label, start, \"end\", text, attributes, "
                   "version) VALUES (:u, :d, :s, 'attribution', 'SOURCE', 0, 8, 'ARY News', '{}', 1) RETURNING id",
                   u=user, d=document, s=sentence)
        attribution = row("INSERT INTO attributions (user_id, document_id, relation, attributes, version) "
                          "VALUES (:u, :d, 'attribution', '{}', 1) RETURNING id", u=user, d=document)
    _add_part(engine, attribution, span, "source")
    before, parts = _schema(engine, "spans"), _parts(engine)

    migrate.upgrade(engine, "0020")
    after = _schema(engine, "spans")
    assert after["columns"].pop("entity_id") == ("INTEGER", True)
    (link,) = [key for key in after["foreign keys"] if key["name"] == "fk_spans_entity_id_source_entities"]
    assert (link["referred_table"], link["options"].get("ondelete")) == ("source_entities", "SET NULL")
    after["foreign keys"].remove(link)
    after["indexes"] = [index for index in after["indexes"] if index["name"] != "ix_spans_entity_id"]
    assert after == before
    assert _parts(engine) == parts
    with engine.begin() as connection:
        add = sa.text("INSERT INTO source_entities (project_id, name, name_key, version) VALUES (:p, :n, :k, 1) RETURNING id")
        entity = connection.execute(add, {"p": project, "n": "ARY News", "k": "ary news"}).scalar()
        connection.execute(sa.text("UPDATE spans SET entity_id = :e WHERE id = :s"), {"e": entity, "s": span})
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as connection:
            connection.execute(add, {"p": project, "n": "ary news", "k": "ary news"})
    alias = sa.text("INSERT INTO source_entity_aliases (entity_id, project_id, alias, alias_key) VALUES (:e, :p, :a, :a)")
    with engine.begin() as connection:
        connection.execute(alias, {"e": entity, "p": project, "a": "ary"})
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as connection:
            connection.execute(alias, {"e": entity, "p": project, "a": "ary"})
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM source_entities WHERE id = :e"), {"e": entity})
        assert connection.execute(sa.text("SELECT count(*) FROM spans WHERE entity_id IS NOT NULL")).scalar() == 0
        assert connection.execute(sa.text("SELECT count(*) FROM source_entity_aliases")).scalar() == 0

    migrate.downgrade(engine, "0018")
    assert _schema(engine, "spans") == before
    assert _parts(engine) == parts
    assert not {"source_entities", "source_entity_aliases"} & set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_settings(tmp_path):
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_head_revision_is_alembics():
    """migrate.head_revision reads the revision ids without Alembic (a faster start): it must
    name the head Alembic would."""
    from alembic.script import ScriptDirectory

    from annotator.paths import MIGRATIONS_DIR

    assert migrate.head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
