"""Apply Alembic migrations (the only way tables are created outside tests).

Alembic itself is imported only to migrate: every command checks the schema's revision
first, and that check reads the version table and the revision ids of migrations/versions/
without it (about a quarter of a second less at each start).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import Engine

from .paths import MIGRATIONS_DIR

_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*['"]?([^'"\s]+)['"]?\s*$""", re.MULTILINE)


def _config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    _migrate(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    _migrate(engine, lambda config: command.downgrade(config, revision))


def _migrate(engine: Engine, run) -> None:
    """Run migrations in one transaction. On SQLite, batch mode rebuilds a table by copying it
    and dropping the old one, and with foreign keys on, dropping it deletes every row that
    refers to it (ON DELETE CASCADE: a rebuild of documents would empty sentences and spans).
    So foreign keys are off while migrating (SQLite's own recipe for altering a table; the
    pragma does nothing inside a transaction), every reference is checked before the commit,
    and they are on again after."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                run(_config(connection))
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"migrating left rows referring to rows that do not exist: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (Alembic's version table), None before any."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str | None:
    """The newest migration: the one revision no other names as its down_revision."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        fields = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revisions.add(fields["revision"])
        if fields.get("down_revision") not in (None, "None"):
            parents.add(fields["down_revision"])
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"migrations/versions has several heads: {', '.join(sorted(heads))}")
    return next(iter(heads), None)
