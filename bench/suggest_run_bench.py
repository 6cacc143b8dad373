"""`annotator suggest run` throughput: a project of synthetic 40-sentence articles (2,000 by
default; bench/import_bench.py's), every registered suggester computed and stored.

Prints, side by side in one run: the suggesters alone on the same texts (no database), the
whole run (read the documents, compute, replace the rows, audit, a transaction per 500
documents), a second run replacing the first's rows, and the whole run extrapolated to the
issue's 10,000 articles (linear: each batch of documents costs the same).

    python bench/suggest_run_bench.py [--articles 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time

from sqlalchemy import func, select

from annotator import migrate, suggest
from annotator.db import Database
from annotator.ingest import Article
from annotator.ingest.text import segment
from annotator.models import StoredSuggestion
from annotator.services import imports, projects, suggestions
from annotator.services.permissions import SYSTEM
from import_bench import synthetic_article

TARGET_ARTICLES = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder (an empty "
                                               "PostgreSQL database: migrated here)")
    args = parser.parse_args()
    rng = random.Random(19)
    articles = []
    for number in range(args.articles):
        record = synthetic_article(rng, number)
        articles.append(Article(title=record["title"], text=record["text"], outlet=record["outlet"],
                                sentences=segment(record["text"])))
    with tempfile.TemporaryDirectory() as folder:
        database = Database(args.database_url or f"sqlite:///{folder}/bench.sqlite3")
        migrate.upgrade(database.engine)
        session = database.session()
        project = projects.create_project(session, SYSTEM, f"bench-{time.time_ns()}")
        imports.import_articles(session, SYSTEM, project.id, articles)

        chosen = [suggest.get(name) for name in suggest.names()]
        started = time.perf_counter()
        computed = sum(len(s.suggest(a.text, a.sentences, "en")) for s in chosen for a in articles)
        alone = time.perf_counter() - started

        timings = []
        for _ in range(2):  # the second run replaces the first's rows
            started = time.perf_counter()
            result = suggestions.run(session, SYSTEM, project.id)
            timings.append(time.perf_counter() - started)
        stored = session.scalar(select(func.count()).select_from(StoredSuggestion))
        sentences = sum(len(a.sentences) for a in articles)
        print(f"machine: {platform.node()} · {platform.machine()} · Python {platform.python_version()} · "
              f"{database.engine.dialect.name}")
        print(f"articles: {len(articles):,}, {sentences / len(articles):.1f} sentences each; suggesters: "
              + ", ".join(f"{row['suggester']} {row['version']}" for row in result["suggesters"]))
        print(f"suggesters alone: {computed:,} suggestions, {alone:.2f} s ({1000 * alone / len(articles):.2f} ms "
              f"per article)")
        for label, seconds in zip(("first run", "second run (replacing)"), timings):
            print(f"{label}: {seconds:.2f} s, {len(articles) / seconds:,.0f} articles/s "
                  f"(storing and reading: {seconds - alone:.2f} s)")
        print(f"stored: {stored:,} suggestions")
        print(f"extrapolated to {TARGET_ARTICLES:,} articles: {max(timings) * TARGET_ARTICLES / len(articles):.1f} s")
        session.close()
        database.dispose()


if __name__ == "__main__":
    main()
