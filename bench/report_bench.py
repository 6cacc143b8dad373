"""Agreement report on a large synthetic SQLite project.

2,000 documents x 40 sentences x 3 annotators (240,000 claim-type labels) and, by default,
5 spans per sentence per annotator (1.2 million spans, half on the attribution layer, half on
loaded_language), inserted with SQLAlchemy Core executemany in big batches (in a child
process, so that the report's peak memory is measured on its own). The SOURCE spans (about 30
per article and annotator) are linked to source entities: each stands for one of 300 sources
met across the project (40%, the most common far more often) or of five of its article's own;
an annotator links it to that source, to a source of the article drawn at random (10%) or to
none (5%).
Then, in this process: the full JSON report (bootstrap of 1,000 replicates included) with its
time and peak memory (ru_maxrss), beside it the time `krippendorff.alpha` needs for the
claim-type alpha alone on the same prepared matrix, and the time to read the cached report.

    python bench/report_bench.py [--documents 2000] [--spans-per-sentence 5] [--replicates 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from annotator import migrate  # noqa: E402
from annotator.db import configure_engine  # noqa: E402
from annotator.models import document_identity  # noqa: E402
from annotator.services import projects  # noqa: E402
from annotator.services.permissions import SYSTEM  # noqa: E402

CLAIMS = ("event", "quantity", "causal", "prediction", "rule", "personal_experience", "opinion", "not_claim")
WORDS = ("the", "minister", "said", "that", "prices", "rose", "sharply", "in", "january", "officials",
         "warned", "of", "further", "unrest", "according", "to", "reports")
SPAN_LABELS = {"attribution": ("SOURCE", "CUE", "CONTENT", "SUPPLEMENT"),
               "loaded_language": ("LOADED_LANGUAGE", "NAME_CALLING_LABELING", "DOUBT")}
BATCH = 50_000
RECURRING_SOURCES, SOURCES_PER_ARTICLE = 300, 5  # sources met across the project; each article's own


class SourceLinks:
    """Which source entity each SOURCE span stands for, and what each annotator links it to (a
    random stream of its own, so that the spans are those the benchmark always had)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.common = list(range(1, RECURRING_SOURCES + 1))
        self.weights = [1 / rank for rank in self.common]  # the most common sources far more often
        self.article: dict[int, tuple[list[int], list[int]]] = {}

    def entity_ids(self, n_documents: int) -> range:
        return range(1, RECURRING_SOURCES + SOURCES_PER_ARTICLE * n_documents + 1)

    def sources(self, document: int) -> tuple[list[int], list[int]]:
        """The article's recurring sources and its own."""
        if document not in self.article:
            own = RECURRING_SOURCES + SOURCES_PER_ARTICLE * (document - 1)
            self.article[document] = (self.rng.choices(self.common, self.weights, k=4),
                                      list(range(own + 1, own + SOURCES_PER_ARTICLE + 1)))
        return self.article[document]

    def truth(self, document: int) -> int:
        recurring, own = self.sources(document)
        return self.rng.choice(recurring if self.rng.random() < 0.4 else own)

    def linked(self, document: int, truth: int) -> int | None:
        chance = self.rng.random()
        if chance < 0.05:
            return None
        if chance < 0.15:
            return self.rng.choice(self.rng.choice(self.sources(document)))
        return truth


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(url: str, n_documents: int, n_sentences: int, spans_per_sentence: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    links = SourceLinks(seed + 1)
    engine = configure_engine(sa.create_engine(url))
    migrate.upgrade(engine)
    with Session(engine) as session:
        project_id = projects.get_or_create_project(session, SYSTEM, "bench").id
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = dt.datetime.now(dt.timezone.utc)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(t["users"].insert(), [
            {"id": i, "username": f"annotator{i}", "password_hash": "x", "role": "annotator", "active": True,
             "created_at": now} for i in (1, 2, 3)])
        documents, sentences, assignments = [], [], []
        sentence_bounds = []  # (sentence id, document id, start, end)
        sentence_id = 0
        for d in range(1, n_documents + 1):
            parts, offset = [], 0
            for position in range(n_sentences):
                words = [rng.choice(WORDS) for _ in range(10)]
                text = " ".join(words).capitalize() + "."
                sentence_id += 1
                sentences.append({"id": sentence_id, "document_id": d, "position": position,
                                  "start": offset, "end": offset + len(text)})
                sentence_bounds.append((sentence_id, d, offset, offset + len(text)))
                parts.append(text)
                offset += len(text) + 1
            body = " ".join(parts)
            content_hash = hashlib.sha256(body.encode()).hexdigest()
            documents.append({"id": d, "project_id": project_id, "title": f"Synthetic article {d}", "text": body,
                              "content_hash": content_hash, "identity_hash": document_identity(content_hash, None, None, None),
                              "language": "en",
                              "metadata": {}, "imported_at": now})
            for user in (1, 2, 3):
                assignments.append({"user_id": user, "document_id": d, "status": "in_progress",
                                    "created_at": now, "updated_at": now})
        connection.execute(t["documents"].insert(), documents)
        connection.execute(t["source_entities"].insert(), [
            {"id": e, "project_id": project_id, "name": f"Source {e}", "name_key": f"source {e}", "version": 1,
             "created_at": now, "updated_at": now} for e in links.entity_ids(n_documents)])
        for i in range(0, len(sentences), BATCH):
            connection.execute(t["sentences"].insert(), sentences[i:i + BATCH])
        connection.execute(t["assignments"].insert(), assignments)

        labels = []
        for sid, _, _, _ in sentence_bounds:
            truth = rng.choice(CLAIMS)
            for user in (1, 2, 3):
                value = truth if rng.random() < 0.8 else rng.choice(CLAIMS)
                labels.append({"user_id": user, "sentence_id": sid, "layer": "claim_type", "value": value,
                               "unsure": False, "version": 1, "created_at": now, "updated_at": now})
            if len(labels) >= BATCH:
                connection.execute(t["sentence_labels"].insert(), labels)
                labels = []
        if labels:
            connection.execute(t["sentence_labels"].insert(), labels)

        spans, n_spans = [], 0
        layers = list(SPAN_LABELS)
        for sid, d, start, end in sentence_bounds:
            truth = []
            for k in range(spans_per_sentence):
                a = rng.randrange(start, end - 2)
                b = min(end, a + rng.randrange(2, 20))
                layer = layers[k % 2]
                label = rng.choice(SPAN_LABELS[layer])
                truth.append((layer, label, a, b, links.truth(d) if label == "SOURCE" else None))
            for user in (1, 2, 3):
                marked = set()  # the database keeps one span per (user, layer, label, start, end)
                for layer, label, a, b, entity in truth:
                    if rng.random() < 0.15:  # disagree on the boundary
                        b = max(a + 1, b - rng.randrange(1, 3))
                    if (layer, label, a, b) in marked:
                        continue
                    marked.add((layer, label, a, b))
                    spans.append({"user_id": user, "document_id": d, "sentence_id": sid, "layer": layer,
                                  "label": label, "start": a, "end": b, "text": "", "attributes": {},
                                  "entity_id": entity and links.linked(d, entity),
                                  "version": 1, "created_at": now, "updated_at": now})
            if len(spans) >= BATCH:
                connection.execute(t["spans"].insert(), spans)
                n_spans += len(spans)
                spans = []
        if spans:
            connection.execute(t["spans"].insert(), spans)
            n_spans += len(spans)
    print(f"generated {n_documents} documents, {len(sentence_bounds)} sentences, {len(sentence_bounds) * 3} labels, "
          f"{n_spans} spans in {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()


def time_overview_page(url: str, project_id: int, rounds: int = 5) -> list[float]:
    """GET /projects/<id>/agreement as a logged-in supervisor through the real app (Flask's test
    client: routing, login, the cache lookup, the template), once the report is cached."""
    from annotator import create_app
    from annotator.app import db
    from annotator.services import users

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": tempfile.mkdtemp(prefix="report-bench-app-"),
                      "SECRET_KEY": "report-bench", "WTF_CSRF_ENABLED": False})
    password = "bench-supervisor-password"
    with app.app_context():
        if db.session.scalar(sa.text("SELECT 1 FROM users WHERE username = 'bench-supervisor'")) is None:
            supervisor, _ = users.add_user(db.session, SYSTEM, "bench-supervisor", "supervisor", password)
            projects.add_members(db.session, SYSTEM, project_id, [supervisor.id])  # supervisors see their projects
    client = app.test_client()
    client.post("/login", data={"username": "bench-supervisor", "password": password})
    page = f"/projects/{project_id}/agreement"
    # Creating the supervisor wrote an audit event, so the report is recomputed once: in the
    # page's background thread, polled as the page's refresh would.
    while (first := client.get(page)).status_code == 202:
        time.sleep(1)
    assert first.status_code == 200 and b"claim_type" in first.data, first.status_code
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(page)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--sentences", type=int, default=40)
    parser.add_argument("--spans-per-sentence", type=int, default=5)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--database", help="reuse (or create) this SQLite file")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    path = args.database or os.path.join(tempfile.mkdtemp(prefix="report-bench-"), "bench.sqlite3")
    url = f"sqlite:///{path}"
    if args.generate_only:
        generate(url, args.documents, args.sentences, args.spans_per_sentence)
        return
    if not os.path.exists(path):
        subprocess.run([sys.executable, __file__, "--generate-only", "--database", path,
                        "--documents", str(args.documents), "--sentences", str(args.sentences),
                        "--spans-per-sentence", str(args.spans_per_sentence)], check=True)

    import krippendorff
    import numpy as np

    from annotator import report
    from annotator.models import Project, Report
    from annotator.report.choice_layers import choice_layer
    from annotator.report.entities import source_entities
    from annotator.report.load import load
    from annotator.report.relations import relation_layer
    from annotator.report.span_layers import span_layer

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; database {path}")
    engine = configure_engine(sa.create_engine(url))
    migrate.upgrade(engine)  # a reused database may predate the newest migrations
    baseline = _rss_mib()
    with Session(engine) as session:
        project = session.scalar(sa.select(Project).where(Project.name == "bench"))
        started = time.perf_counter()
        body = report.build_report(session, SYSTEM, project.id, replicates=args.replicates)
        elapsed = time.perf_counter() - started
        text = json.dumps(body, allow_nan=False)
        peak = _rss_mib()
        print(f"full report: {elapsed:.2f} s, peak RSS {peak:.0f} MiB (before: {baseline:.0f} MiB), "
              f"JSON {len(text) / 1e6:.1f} MB; counts {body['counts']}")
        for layer in body["layers"]:
            first = next(iter(layer["metrics"].values()))
            value = first.get("value") if "value" in first else None
            print(f"  {layer['layer']:<16} {layer['kind']:<8} first metric {next(iter(layer['metrics']))} = {value}")
        entities = body["source_entities"]
        conll = entities["metrics"]["conll"]
        print(f"  source entities: {entities['mentions']} mentions, {entities['linked']} linked to "
              f"{entities['entities']} entities in {entities['documents']} documents; CoNLL {conll['value']} "
              f"({(conll['interval'] or {}).get('low')} to {(conll['interval'] or {}).get('high')}, "
              f"{entities['replicates']} replicates)")

        # Stage timings: loading, and each layer kind.
        started = time.perf_counter()
        data = load(session, project, None, None, None)
        load_time = time.perf_counter() - started
        layer = next(x for x in data.codebook.choice_layers if x.name == "claim_type")
        codes, categories = report.choice_codes(data, layer)
        matrix = np.where(codes == -1, np.nan, codes).astype(float)
        started = time.perf_counter()
        reference = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        reference_time = time.perf_counter() - started
        ours = next(x for x in body["layers"] if x["layer"] == "claim_type")["metrics"]["alpha"]["value"]
        print(f"loading from the database: {load_time:.2f} s")
        print(f"krippendorff.alpha, claim type alone (no interval): {reference_time:.3f} s; "
              f"alpha {reference:.6f} (report: {ours:.6f})")
        for kind, function, items in (
            ("choice layers", choice_layer, data.codebook.choice_layers),
            ("span layers", span_layer, data.codebook.span_layers),
            ("relations", relation_layer, data.codebook.relations),
        ):
            started = time.perf_counter()
            for item in items:
                function(data, item, args.replicates, 20261125)
            print(f"  {kind}: {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        source_entities(data, args.replicates, 20261125)
        print(f"  source entities: {time.perf_counter() - started:.2f} s")

        # A reused database may hold a report cached by an earlier version of the code.
        session.execute(sa.delete(Report))
        session.commit()
        started = time.perf_counter()
        report.cached_report(session, SYSTEM, project.id, replicates=args.replicates)
        print(f"cached_report, first call (computes and stores): {time.perf_counter() - started:.2f} s")
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            cached = report.cached_report(session, SYSTEM, project.id, replicates=args.replicates)
            session.commit()
            timings.append(time.perf_counter() - started)
        assert cached["layers"] == body["layers"]
        print(f"cached_report, hit: best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms")
        page_timings = time_overview_page(url, project.id)
        print(f"overview page from the cached report (HTTP through the app): best {min(page_timings) * 1000:.0f} ms, "
              f"worst {max(page_timings) * 1000:.0f} ms")
        print(f"targets: full report < 10 s: {'met' if elapsed < 10 else 'NOT met'}; "
              f"< 1 GB: {'met' if peak < 1024 else 'NOT met'}; "
              f"page < 200 ms: {'met' if max(page_timings) < 0.2 else 'NOT met'}")
    engine.dispose()


if __name__ == "__main__":
    main()
