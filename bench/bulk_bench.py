"""Bulk work side by side: the `annotator` commands of two installs on the same files.

For each `annotator` executable given (an older install's with --before, this checkout's with
--after), in a fresh database of its own, every step timed from the outside as an operator
runs it (process start included), the same way for both:

1. `annotator import` of N short synthetic articles (2-3 sentences each, one JSONL file):
   articles/s;
2. `annotator project create` on the idle database, then again and again while a second
   import (--load-articles other articles, N by default, into another project) is storing:
   latency under load;
3. `annotator assign --user ann1`: every document to one annotator, seconds;
4. `annotator assign --per-document 2 --annotator ann2,ann3`: auto-assign tops every
   document up to two annotators (N new assignments), seconds;
5. `annotator import-annotations` of this project's JSONL for the first --annotated
   documents (two spans, one attribution and a claim type per sentence): spans/s.

Then the table, before | after | ratio. The peers' figures (Label Studio, doccano) cannot be
run here: docs/benchmarks.md quotes them as measured in an earlier session on this machine.

    python bench/bulk_bench.py [--articles 20000] [--annotated 2000] [--load-articles N]
                               [--before /tmp/pre14/.venv/bin/annotator] [--after PATH] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from annotator.ingest import segment

HERE = Path(sys.executable).parent / "annotator"
SUBJECTS = ["The minister", "Dr. Khan", "A spokesperson for the U.S. embassy", "Local officials",
            "The opposition leader", "Witnesses", "The committee", "Mr. Ahmed", "Police in the city"]
VERBS = ["said", "told reporters", "confirmed", "denied", "announced", "estimated", "warned"]
OBJECTS = ["that 1,200 people had been evacuated", "that prices rose 3.5% in Jan. alone",
           "the plan would cost $4.2 bn over five years", "that talks would resume next week",
           "a new inquiry into the Sept. 14 incident", "that the vote was postponed"]
CLAIM_TYPES = ["event", "quantity", "prediction", "opinion"]
# Importing the 20,000 short articles (55,666 sentences) into the peers, measured in an
# earlier session on this machine; they cannot be run here.
PEER_IMPORT_SECONDS = {"Label Studio": 4.5, "doccano": 7.5}


def short_article(rng: random.Random, corpus: str, number: int) -> tuple[dict, list[tuple[int, int, int]]]:
    """A one-paragraph article of 2-3 sentences "SUBJECT VERB OBJECT.", unique by its number;
    and where each sentence's subject and verb are (start, subject end, verb end)."""
    parts, text = [], ""
    for index in range(rng.choice((2, 3))):
        subject, verb = rng.choice(SUBJECTS), rng.choice(VERBS)
        tail = f" in {corpus} report {number}" if index == 0 else ""
        start = len(text) + (1 if text else 0)
        text += (" " if text else "") + f"{subject} {verb} {rng.choice(OBJECTS)}{tail}."
        parts.append((start, start + len(subject), start + len(subject) + 1 + len(verb)))
    return {"title": f"{corpus} article {number}", "text": text, "outlet": "Bench News"}, parts


def write_corpus(path: Path, corpus: str, count: int) -> list[tuple[dict, list]]:
    rng = random.Random(f"{corpus}-20261207")
    articles = [short_article(rng, corpus, number) for number in range(count)]
    path.write_text("".join(json.dumps(article) + "\n" for article, _ in articles), encoding="utf-8")
    return articles


def write_annotations(path: Path, articles: list[tuple[dict, list]], annotator: str) -> int:
    """This project's per-annotator JSONL for ``articles``; returns the number of spans."""
    lines, spans = [], 0
    for article, parts in articles:
        text = article["text"]
        sentences = [{"id": position, "position": position, "start": start, "end": end}
                     for position, (start, end) in enumerate(segment(text, "en"))]
        entry = {"annotator": annotator, "status": "done", "spans": [], "attributions": [], "sentence_labels": []}
        for number, (start, subject_end, verb_end) in enumerate(parts):
            source, cue = 2 * number, 2 * number + 1
            entry["spans"] += [
                {"id": source, "layer": "attribution", "label": "SOURCE", "start": start, "end": subject_end,
                 "text": text[start:subject_end]},
                {"id": cue, "layer": "attribution", "label": "CUE", "start": subject_end + 1, "end": verb_end,
                 "text": text[subject_end + 1:verb_end]},
            ]
            entry["attributions"].append({"relation": "attribution", "parts": [{"role": "source", "span_id": source},
                                                                               {"role": "cue", "span_id": cue}]})
        for sentence in sentences:
            entry["sentence_labels"].append({"sentence_id": sentence["id"], "layer": "claim_type",
                                             "value": CLAIM_TYPES[sentence["position"] % len(CLAIM_TYPES)]})
        spans += len(entry["spans"])
        lines.append(json.dumps({"document": {"title": article["title"], "text": text, "sentences": sentences},
                                 **entry}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return spans


class Instance:
    """One `annotator` executable on a fresh database of its own."""

    def __init__(self, annotator: str, folder: Path, postgres: str | None):
        self.annotator, self.folder = annotator, folder
        folder.mkdir()
        if postgres:
            server = make_url(postgres)
            self.database = f"bench_{uuid.uuid4().hex[:12]}"
            self.admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{self.database}"'))
            self.url = server.set(database=self.database).render_as_string(hide_password=False)
        else:
            self.admin, self.url = None, f"sqlite:///{folder / 'bench.sqlite3'}"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("ANNOTATOR_")} | {
            "ANNOTATOR_INSTANCE": str(folder), "ANNOTATOR_SECRET_KEY": "bench", "ANNOTATOR_DATABASE_URL": self.url}
        self.reader = sa.create_engine(self.url)

    def run(self, *args: str) -> float:
        started = time.perf_counter()
        subprocess.run([self.annotator, *args], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.perf_counter() - started

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([self.annotator, *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def documents(self, project: str) -> int:
        with self.reader.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM documents JOIN projects ON projects.id = documents.project_id "
                "WHERE projects.name = :name"), {"name": project}).scalar_one()

    def close(self) -> None:
        self.reader.dispose()
        if self.admin is not None:
            with self.admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            self.admin.dispose()


def create_under_load(instance: Instance, load_corpus: Path, max_bytes: str) -> list[float]:
    """`project create` latencies, one after another, while an import into another project
    is storing (from its first stored document to its end)."""
    importer = instance.start("import", str(load_corpus), "--project", "load", "--max-bytes", max_bytes)
    latencies = []
    try:
        while importer.poll() is None and instance.documents("load") == 0:
            time.sleep(0.05)
        while importer.poll() is None:
            latency = instance.run("project", "create", f"probe-{len(latencies)}")
            if importer.poll() is None:  # only those that ran entirely under the import
                latencies.append(latency)
    finally:
        if importer.wait() != 0:
            raise RuntimeError("the load import failed")
    return latencies


def measure(annotator: str, folder: Path, files: dict[str, Path], postgres: str | None) -> dict[str, float | str]:
    instance = Instance(annotator, folder, postgres)
    max_bytes = str(1 << 30)
    try:
        instance.run("init")
        for name in ("ann1", "ann2", "ann3"):
            instance.run("users", "add", name, "--role", "annotator")
        figures: dict[str, float | str] = {
            "import s": instance.run("import", str(files["corpus"]), "--project", "bench", "--max-bytes", max_bytes)}
        figures["project create, idle s"] = instance.run("project", "create", "idle")
        under_load = create_under_load(instance, files["load"], max_bytes)
        figures["project create under import: runs"] = str(len(under_load))
        if under_load:
            figures["project create under import, median s"] = statistics.median(under_load)
            figures["project create under import, max s"] = max(under_load)
        figures["assign all to one s"] = instance.run("assign", "--project", "bench", "--user", "ann1")
        figures["auto-assign s"] = instance.run("assign", "--project", "bench", "--per-document", "2",
                                                "--annotator", "ann2,ann3")
        figures["import-annotations s"] = instance.run("import-annotations", str(files["annotations"]),
                                                       "--project", "bench", "--format", "jsonl")
        return figures
    finally:
        instance.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--annotated", type=int, default=2_000, help="documents in the annotations file")
    parser.add_argument("--load-articles", type=int, help="articles of the import that project create runs under "
                                                          "(default: --articles)")
    parser.add_argument("--before", help="an older install's `annotator`, e.g. /tmp/pre14/.venv/bin/annotator")
    parser.add_argument("--after", default=str(HERE), help="default: this venv's `annotator`")
    parser.add_argument("--postgres", help="a PostgreSQL server URL to make throwaway databases on (default: SQLite)")
    args = parser.parse_args()

    runs = [("before", args.before)] if args.before else []
    runs.append(("after", args.after))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        files = {name: folder / f"{name}.jsonl" for name in ("corpus", "load", "annotations")}
        articles = write_corpus(files["corpus"], "bench", args.articles)
        write_corpus(files["load"], "load", args.load_articles or args.articles)
        spans = write_annotations(files["annotations"], articles[:args.annotated], "imp1")
        sentences = sum(len(segment(article["text"], "en")) for article, _ in articles)
        results = {label: measure(annotator, folder / label, files, args.postgres) for label, annotator in runs}

    print(f"machine: {platform.node()} · {platform.machine()} · {os.cpu_count()} cores · "
          f"Python {platform.python_version()} · {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(f"corpus: {args.articles:,} articles, {sentences:,} sentences; annotations: {args.annotated:,} documents, "
          f"{spans:,} spans")
    labels = [label for label, _ in runs]
    rates = {label: {"import articles/s": args.articles / figures["import s"],
                     "import-annotations spans/s": spans / figures["import-annotations s"]}
             for label, figures in results.items()}
    print(f"{'':44}" + "".join(f"{label:>12}" for label in labels) + (" after/before" if len(labels) == 2 else ""))
    keys = dict.fromkeys(key for label in labels for key in [*results[label], *rates[label]])
    for key in keys:
        values = [results[label].get(key, rates[label].get(key, "-")) for label in labels]
        cells = "".join(f"{value:>12}" if isinstance(value, str) else f"{value:>12,.2f}" for value in values)
        ratio = ""
        if len(values) == 2 and all(isinstance(value, float) for value in values):
            ratio = f"{values[1] / values[0]:>12.3f}"
        print(f"{key:44}{cells}{ratio}")
    print("peers importing 20,000 short articles, measured in an earlier session on this machine (not run here): "
          + ", ".join(f"{peer} {seconds} s ({20_000 / seconds:,.0f} articles/s)" for peer, seconds in PEER_IMPORT_SECONDS.items()))


if __name__ == "__main__":
    main()
