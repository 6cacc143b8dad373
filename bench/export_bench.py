"""Export throughput and memory on large synthetic SQLite projects.

Two databases are generated with bench/report_bench.py's ``generate`` (3 annotators, 40
sentences per document, 5 spans per sentence per annotator, claim-type labels): one with
about 1,000,000 spans and one with about 10,000. Then, each in a child process of its own
(so that each peak memory, ru_maxrss, is that measurement's alone):

* raw: a plain Core select of the span rows (the columns the export reads), iterated;
* csv: ``annotator.services.exports.document_records`` -> ``exporters.stream("csv")`` -> /dev/null;
* jsonl: the same with the per-annotator JSONL format;

each the best of ``--repeat`` runs (wall-clock time; the CPU time of that run beside it).

Throughput is spans per second (the CSV has one row per span here: the synthetic data has
no attributions); the exports' ratio to the raw read is the target (>= 0.3), and so is the
ratio of the CSV export's peak memory at 1,000,000 spans to that at 10,000 (<= 1.5).

    python bench/export_bench.py [--spans 1000000] [--small 10000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

SENTENCES, SPANS_PER_SENTENCE, ANNOTATORS = 40, 5, 3
SPANS_PER_DOCUMENT = SENTENCES * SPANS_PER_SENTENCE * ANNOTATORS


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, path: str, repeat: int) -> dict:
    """One measurement, in this (child) process: the best of ``repeat`` runs (the machine
    is shared; the best run is the one least disturbed), and the process's peak memory."""
    from sqlalchemy.orm import Session

    from annotator import exporters
    from annotator.db import configure_engine
    from annotator.models import Project, Span
    from annotator.services import exports
    from annotator.services.permissions import SYSTEM

    engine = configure_engine(sa.create_engine(f"sqlite:///{path}"))
    best = None
    for _ in range(repeat):
        with Session(engine) as session:
            project_id = session.scalar(sa.select(Project.id))
            spans = session.scalar(sa.select(sa.func.count(Span.id)))
            started, cpu_started = time.perf_counter(), time.process_time()
            rows = 0
            if kind == "raw":
                query = sa.select(Span.document_id, Span.user_id, Span.id, Span.layer, Span.label, Span.start,
                                  Span.end, Span.sentence_id, Span.attributes, Span.created_at, Span.updated_at)
                for _ in session.connection().execute(query):
                    rows += 1
            else:
                records = exports.document_records(session, SYSTEM, project_id, secret_key="bench")
                with open(os.devnull, "wb") as sink:
                    for chunk in exporters.stream(kind, records, records.codebook):
                        sink.write(chunk)
                rows = spans  # that went through: one CSV row or one JSON span each
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if best is None or seconds < best["seconds"]:
            best = {"kind": kind, "rows": rows, "seconds": seconds, "cpu_seconds": cpu, "rows_per_s": rows / seconds}
    return best | {"peak_mib": _peak_mib()}


def _child(kind: str, path: str, repeat: int) -> dict:
    output = subprocess.run([sys.executable, __file__, "--measure", kind, "--database", path, "--repeat", str(repeat)],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _database(directory: str, spans: int) -> str:
    path = os.path.join(directory, f"export-{spans}.sqlite3")
    if not os.path.exists(path):
        documents = max(1, round(spans / SPANS_PER_DOCUMENT))
        # In a child process, so that generating leaves no memory in this one.
        subprocess.run([sys.executable, "-c",
                        "import sys; sys.path[:0] = sys.argv[1:3]; from report_bench import generate; "
                        "generate(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))",
                        str(REPO), str(REPO / "bench"), f"sqlite:///{path}", str(documents), str(SENTENCES),
                        str(SPANS_PER_SENTENCE)], check=True)
    else:  # a kept database may predate the newest migrations
        from annotator import migrate
        from annotator.db import configure_engine

        engine = configure_engine(sa.create_engine(f"sqlite:///{path}"))
        migrate.upgrade(engine)
        engine.dispose()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--keep", help="keep (and reuse) the databases in this folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    parser.add_argument("--measure", choices=("raw", "csv", "jsonl"), help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.database, args.repeat)))
        return

    directory = args.keep or tempfile.mkdtemp(prefix="export-bench-")
    os.makedirs(directory, exist_ok=True)
    large, small = _database(directory, args.spans), _database(directory, args.small)
    results = {(kind, size): _child(kind, path, args.repeat)
               for size, path in (("large", large), ("small", small)) for kind in ("raw", "csv", "jsonl")}
    raw = results[("raw", "large")]
    print(f"\n{raw['rows']:,} spans (large) and {results[('raw', 'small')]['rows']:,} spans (small), SQLite")
    print(f"{'measurement':<18} {'rows':>10} {'seconds':>8} {'CPU s':>7} {'rows/s':>10} {'of raw':>7} {'peak MiB':>9}")
    for size in ("large", "small"):
        for kind in ("raw", "csv", "jsonl"):
            r = results[(kind, size)]
            share = r["rows_per_s"] / results[("raw", size)]["rows_per_s"]
            print(f"{kind + ' (' + size + ')':<18} {r['rows']:>10,} {r['seconds']:>8.2f} {r['cpu_seconds']:>7.2f} "
                  f"{r['rows_per_s']:>10,.0f} "
                  f"{share:>7.2f} {r['peak_mib']:>9.1f}")
    for kind in ("csv", "jsonl"):
        ratio = results[(kind, "large")]["peak_mib"] / results[(kind, "small")]["peak_mib"]
        throughput = results[(kind, "large")]["rows_per_s"] / raw["rows_per_s"]
        print(f"{kind}: {throughput:.2f} of raw (target >= 0.3); peak memory large/small {ratio:.2f} (target <= 1.5)")
    if not args.keep:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
