"""Import throughput: 2,000 synthetic articles of ~40 sentences into a fresh SQLite database.

Prints articles/s and sentences/s for the whole import (read the JSONL file, normalise,
segment, validate, store a transaction per batch of documents) next to sentencex's own speed on the
same texts in the same run; the ratio shows what reading, validation and the database cost.

    python bench/import_bench.py [--articles 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from pathlib import Path

import sentencex

from annotator import migrate
from annotator.db import Database
from annotator.ingest import read_paths
from annotator.services import imports, projects
from annotator.services.permissions import SYSTEM

SUBJECTS = ["The minister", "Dr. Khan", "A spokesperson for the U.S. embassy", "Local officials",
            "The opposition leader", "Witnesses", "The committee", "Mr. Ahmed", "Police in the city"]
VERBS = ["said", "told reporters", "confirmed", "denied", "announced", "estimated", "warned"]
OBJECTS = ["that 1,200 people had been evacuated", "that prices rose 3.5% in Jan. alone",
           "the plan would cost $4.2 bn over five years", "that talks would resume on 9/11 anniversary",
           "the decision was \"unacceptable.\"", "that the situation remained calm...",
           "a new inquiry into the Sept. 14 incident", "that the vote was postponed"]


def synthetic_article(rng: random.Random, number: int) -> dict:
    paragraphs = []
    for _ in range(8):
        sentences = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}" for _ in range(5)]
        paragraphs.append(" ".join(s if s.endswith((".", "...", '."')) else s + "." for s in sentences))
    return {"title": f"Synthetic article {number}", "text": "\n\n".join(paragraphs), "outlet": "Bench News"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()

    rng = random.Random(20261125)
    articles = [synthetic_article(rng, n) for n in range(args.articles)]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "articles.jsonl"
        source.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")

        started = time.perf_counter()
        segmented = sum(
            len(sentencex.get_sentence_boundaries("en", paragraph))
            for article in articles
            for paragraph in article["text"].split("\n\n")
        )
        segmenter_seconds = time.perf_counter() - started

        database = Database(args.database_url or f"sqlite:///{folder}/bench.sqlite3")
        engine = database.engine
        migrate.upgrade(engine)
        started = time.perf_counter()
        parsed = read_paths([source], max_bytes=1 << 30)
        parse_seconds = time.perf_counter() - started
        with database.session() as session:
            project = projects.get_or_create_project(session, SYSTEM, "bench")
            summary = imports.import_articles(session, SYSTEM, project.id, parsed)
        import_seconds = time.perf_counter() - started
        database.dispose()

    sentences = summary.sentences
    print(f"machine: {platform.node()} · {platform.machine()} · Python {platform.python_version()} · {engine.dialect.name}")
    print(f"articles: {len(summary.imported)} imported, {sentences} sentences ({sentences / len(articles):.1f} per article)")
    print(f"segmenter alone (sentencex): {segmented / segmenter_seconds:,.0f} sentences/s  ({segmenter_seconds:.2f} s)")
    print(f"read + normalise + segment:  {sentences / parse_seconds:,.0f} sentences/s  ({parse_seconds:.2f} s)")
    print(
        f"full import:                 {sentences / import_seconds:,.0f} sentences/s, "
        f"{len(summary.imported) / import_seconds:,.0f} articles/s  ({import_seconds:.2f} s)"
    )
    print(f"ratio full import / segmenter alone: {segmenter_seconds / import_seconds:.2f}")


if __name__ == "__main__":
    main()
