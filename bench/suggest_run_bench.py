"""`annotator suggest run` throughput on SQLite and PostgreSQL: a project of synthetic
40-sentence articles (10,000 by default, the issue's target; bench/import_bench.py's), every
registered suggester computed and stored.

Prints, for each database in one run: the whole run (read the documents, compute, replace the
rows, audit, a transaction per 500 documents), then an annotator's spans (--spans per article)
on every article (a third accepted from a stored suggestion, so they name it), and a
second run replacing the first's rows with those spans present. Before them, the suggesters
alone on the same texts in this process (no database, one core); after them, PostgreSQL's time
over SQLite's. Each database is a new one: an SQLite file in a temporary folder, a database
made on the PostgreSQL server (--postgres, the tests' server by default) and dropped at the end.

    python bench/suggest_run_bench.py [--articles 10000] [--database sqlite] [--database postgresql]
                                      [--postgres URL] [--spans 30]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, insert, select

from annotator import migrate, suggest
from annotator.db import Database
from annotator.ingest import Article
from annotator.ingest.text import segment
from annotator.models import Document, Sentence, Span, StoredSuggestion, User
from annotator.services import imports, projects, suggestions
from annotator.services.permissions import SYSTEM
from import_bench import synthetic_article

TARGET_ARTICLES = 10_000
POSTGRES = os.environ.get("ANNOTATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=TARGET_ARTICLES)
    parser.add_argument("--database", action="append", choices=("sqlite", "postgresql"),
                        help="default: both")
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL server's URL (a database is made there)")
    parser.add_argument("--spans", type=int, default=30, help="an annotator's spans per article before the second "
                                                               "run (0: none)")
    args = parser.parse_args()
    rng = random.Random(19)
    articles = []
    for number in range(args.articles):
        record = synthetic_article(rng, number)
        articles.append(Article(title=record["title"], text=record["text"], outlet=record["outlet"],
                                sentences=segment(record["text"])))
    sentences = sum(len(a.sentences) for a in articles)
    chosen = [suggest.get(name) for name in suggest.names()]
    started = time.perf_counter()
    computed = sum(len(s.suggest(a.text, a.sentences, "en")) for s in chosen for a in articles)
    alone = time.perf_counter() - started
    print(f"machine: {platform.node()} · {platform.machine()} · {len(os.sched_getaffinity(0))} cores · "
          f"Python {platform.python_version()} · load average {os.getloadavg()[0]:.1f}")
    print(f"articles: {len(articles):,}, {sentences / len(articles):.1f} sentences each; suggesters: "
          + ", ".join(f"{s.name} {s.version}" for s in chosen))
    print(f"suggesters alone (one core): {computed:,} suggestions, {alone:.2f} s "
          f"({1000 * alone / len(articles):.2f} ms per article)")
    timings = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.database or ("sqlite", "postgresql"):
            with _new_database(name, Path(folder), args.postgres) as database:
                timings[name] = _bench(database, articles, args.spans)
    if len(timings) == 2:
        print("PostgreSQL / SQLite: " + ", ".join(
            f"{label} {timings['postgresql'][label] / timings['sqlite'][label]:.2f}" for label in timings["sqlite"]))


def _bench(database: Database, articles: list[Article], spans: int) -> dict[str, float]:
    """The first run and the second (replacing) of one database, timed and printed."""
    migrate.upgrade(database.engine)
    session = database.session()
    project = projects.create_project(session, SYSTEM, f"bench-{time.time_ns()}")
    imports.import_articles(session, SYSTEM, project.id, articles)
    dialect = database.engine.dialect.name
    timings = {}
    for label in ("first run", "second run (replacing)"):
        if label != "first run" and spans:
            marked = _annotate(database, project.id, spans)
            print(f"{dialect}: {marked:,} spans of an annotator, a third accepted from a suggestion")
        started = time.perf_counter()
        result = suggestions.run(session, SYSTEM, project.id)
        timings[label] = seconds = time.perf_counter() - started
        stored = session.scalar(select(func.count()).select_from(StoredSuggestion))
        session.rollback()
        replaced = sum(row["replaced"] for row in result["suggesters"])
        print(f"{dialect}: {label}: {seconds:.2f} s, {len(articles) / seconds:,.0f} articles/s, "
              f"{1000 * seconds / len(articles):.2f} ms per article; {stored:,} suggestions stored, "
              f"{replaced:,} replaced; {TARGET_ARTICLES:,} articles: {seconds * TARGET_ARTICLES / len(articles):.1f} s")
    session.close()
    return timings


def _annotate(database: Database, project_id: int, per_article: int) -> int:
    """An annotator's ``per_article`` spans on each document of the project, one per sentence
    from the first, every third accepted from a stored suggestion (naming it): inserted with
    Core, as an import of annotations would leave them."""
    now = dt.datetime.now(dt.timezone.utc)
    with database.engine.begin() as connection:
        user_id = connection.execute(insert(User).values(
            username=f"annotator-{uuid.uuid4().hex[:8]}", password_hash="x", role="annotator", active=True,
            created_at=now).returning(User.id)).scalar_one()
        suggested = dict(connection.execute(
            select(StoredSuggestion.document_id, func.min(StoredSuggestion.id))
            .join(Document, Document.id == StoredSuggestion.document_id)
            .where(Document.project_id == project_id).group_by(StoredSuggestion.document_id)).all())
        rows = []
        for document_id, sentence_id, position, start, end in connection.execute(
                select(Sentence.document_id, Sentence.id, Sentence.position, Sentence.start, Sentence.end)
                .join(Document, Document.id == Sentence.document_id)
                .where(Document.project_id == project_id, Sentence.position < per_article)):
            accepted = position % 3 == 0
            rows.append({"user_id": user_id, "document_id": document_id, "sentence_id": sentence_id,
                         "layer": "attribution", "label": "CUE", "start": start, "end": end, "text": "",
                         "attributes": {}, "version": 1, "created_at": now, "updated_at": now,
                         "origin": "accepted" if accepted else "typed",
                         "suggestion_id": suggested.get(document_id) if accepted else None})
        connection.execute(insert(Span), rows)
    return len(rows)


@contextlib.contextmanager
def _new_database(kind: str, folder: Path, server_url: str) -> Iterator[Database]:
    """A new database of that kind, disposed of (and dropped, on PostgreSQL) at the end."""
    name = f"annotator_bench_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        url, server = f"sqlite:///{folder / name}.sqlite3", None
    else:
        server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = server.url.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        if server is not None:
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()


if __name__ == "__main__":
    main()
