"""Import throughput: 2,000 synthetic articles of ~40 sentences into a fresh SQLite database;
with --annotations, importing annotations: 1,000 articles x 30 attributions.

Articles: prints articles/s and sentences/s for the whole import (read the JSONL file,
normalise, segment, validate, store a transaction per batch of documents) next to sentencex's
own speed on the same texts in the same run; the ratio shows what reading, validation and the
database cost.

Annotations (--annotations): attributions/s of import-annotations on this project's JSONL
(each attribution a SOURCE, a CUE and a CONTENT span), read + check + write, and how long a
file with one wrong span per document takes to be refused. --baseline TREE runs the same
measurement, in the same run, with the annotator package of TREE (e.g. `git archive HEAD`
unpacked), so that before and after sit side by side.

    python bench/import_bench.py [--articles 2000] [--database-url URL]
    python bench/import_bench.py --annotations [--articles 1000] [--baseline TREE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
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


ATTRIBUTIONS_PER_ARTICLE = 30
ATTRIBUTES = {"source_kind": "person", "cue_type": "reporting_verb", "quote_type": "indirect"}


def annotated_article(rng: random.Random, number: int) -> tuple[dict, list[dict], list[dict]]:
    """An article of 40 sentences "SOURCE CUE CONTENT."; its first ATTRIBUTIONS_PER_ARTICLE
    sentences annotated: (document, spans, attributions) as this project's JSONL has them."""
    sentences, spans, attributions = [], [], []
    offset = 0
    for index in range(40):
        parts = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS).rstrip(".")]
        sentence = " ".join(parts) + "."
        if index < ATTRIBUTIONS_PER_ARTICLE:
            start = offset
            for label, part in zip(("SOURCE", "CUE", "CONTENT"), parts):
                spans.append({"id": len(spans) + 1, "layer": "attribution", "label": label, "start": start,
                              "end": start + len(part), "text": part, "attributes": {}})
                start += len(part) + 1
            attributions.append({"relation": "attribution", "attributes": ATTRIBUTES, "parts": [
                {"role": role, "span_id": spans[-3 + n]["id"]} for n, role in enumerate(("source", "cue", "content"))]})
        sentences.append(sentence)
        offset += len(sentence) + 1
    document = {"title": f"Annotated article {number}", "text": " ".join(sentences), "outlet": "Bench News"}
    return document, spans, attributions


def annotations_bench(count: int) -> dict:
    """Import annotations of ``count`` articles into a fresh SQLite database with the
    annotator package on sys.path; the figures as a dict."""
    from annotator.ingest.annotations import read_annotation_file
    from annotator.services.imports import ImportRejected, import_annotations

    rng = random.Random(20261206)
    generated = [annotated_article(rng, n) for n in range(count)]
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/bench.sqlite3")
        migrate.upgrade(database.engine)
        texts = Path(folder) / "articles.jsonl"
        texts.write_text("".join(json.dumps(document) + "\n" for document, _, _ in generated), encoding="utf-8")
        with database.session() as session:
            project = projects.get_or_create_project(session, SYSTEM, "bench")
            imports.import_articles(session, SYSTEM, project.id, read_paths([texts], max_bytes=1 << 30))
            project_id = project.id
        for name, broken in (("good", False), ("bad", True)):
            path = Path(folder) / f"{name}.jsonl"
            with path.open("w", encoding="utf-8") as out:
                for document, spans, attributions in generated:
                    if broken:
                        spans = [dict(spans[0], text="not the text"), *spans[1:]]
                    out.write(json.dumps({"document": document, "annotator": f"{name}-annotator", "status": "done",
                                          "spans": spans, "attributions": attributions}) + "\n")
            started = time.perf_counter()
            with database.session() as session:
                read = read_annotation_file(path, "jsonl")
                try:
                    summary = import_annotations(session, SYSTEM, project_id, read, source=path.name)
                except ImportRejected as rejected:
                    figures["bad_problems"] = len(rejected.problems)
                else:
                    figures["attributions"] = summary.attributions
            figures[f"{name}_seconds"] = time.perf_counter() - started
            figures[f"{name}_megabytes"] = path.stat().st_size / 1e6
        database.dispose()
    return figures


def print_annotation_figures(label: str, figures: dict) -> None:
    print(f"{label}: {figures['attributions']:,} attributions in {figures['good_seconds']:.2f} s "
          f"({figures['attributions'] / figures['good_seconds']:,.0f} attributions/s, "
          f"{figures['good_megabytes']:.1f} MB); {figures['bad_problems']:,} problems of a "
          f"{figures['bad_megabytes']:.1f} MB file reported in {figures['bad_seconds']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, help="default: 2,000 (articles), 1,000 (--annotations)")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--annotations", action="store_true", help="measure importing annotations")
    parser.add_argument("--baseline", metavar="TREE", help="with --annotations: also with TREE's annotator package")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # a baseline run's answer
    args = parser.parse_args()
    if args.annotations:
        figures = annotations_bench(args.articles or 1000)
        if args.json:
            print(json.dumps(figures))
            return
        print(f"machine: {platform.node()} · {platform.machine()} · Python {platform.python_version()} · sqlite")
        if args.baseline:
            answer = subprocess.run(
                [sys.executable, __file__, "--annotations", "--json", "--articles", str(args.articles or 1000)],
                env=os.environ | {"PYTHONPATH": str(Path(args.baseline).resolve())}, check=True,
                capture_output=True, text=True).stdout
            print_annotation_figures(f"before ({args.baseline})", json.loads(answer.splitlines()[-1]))
        print_annotation_figures("after", figures)
        return
    args.articles = args.articles or 2000

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
