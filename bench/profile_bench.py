"""Profiles (issue 20) on a large synthetic SQLite project.

2,000 articles of 20 sentences from 8 outlets over 24 months, each read by 3 annotators (90% of
the readings marked done), 10% of the articles adjudicated with a gold standard, and 100,000
attributions in all (a SOURCE, a CUE and a CONTENT span each, with the four attributes; 80% of
the SOURCE spans linked to one of 600 source entities, a few quoted often, each outlet its own
favourites; a person's gender recorded on 70% of the persons), plus loaded-language spans and a
claim type (and often a check-worthy value) on every sentence; the outlets differ on purpose
(more anonymous sources here, more loaded language there). Inserted with SQLAlchemy Core in big
batches, in a child process, so that the profile's peak memory is measured on its own. Then, in
this process: each grouping's profile with 1,000 bootstrap replicates (time, peak memory, size
of its JSON), a comparison of two outlets, the profile read back from the cache, and the page
of every grouping from the cache through the real app.

    python bench/profile_bench.py [--documents 2000] [--attributions 100000] [--replicates 1000]
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import statistics
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
from annotator.services import projects  # noqa: E402
from annotator.services.permissions import SYSTEM  # noqa: E402

OUTLETS = ("Dawn", "ARY News", "Geo", "The News", "Express Tribune", "Al Jazeera", "Reuters", "BBC Urdu")
WORDS = ("the", "minister", "said", "that", "prices", "rose", "sharply", "in", "january", "officials", "warned",
         "of", "further", "unrest", "according", "to", "reports", "police", "army", "claimed")
CUES = (("said", "reporting_verb"), ("claimed", "reporting_verb"), ("told", "reporting_verb"),
        ("admitted", "reporting_verb"), ("warned", "reporting_verb"), ("according to", "according_to"),
        ("as reported by", "as_reported_by"), ("in his view", "statement_frame"), ("reportedly", "other"))
KINDS = ("person", "organisation", "media_outlet", "document", "unspecified_group")
IDENTIFICATION = ("named", "role_only", "anonymous")
QUOTES = ("direct", "indirect", "mixed")
CLAIMS = ("event", "quantity", "causal", "prediction", "rule", "personal_experience", "opinion", "not_claim")
LOADED = ("LOADED_LANGUAGE", "NAME_CALLING_LABELING", "EXAGGERATION_MINIMISATION", "DOUBT", "APPEAL_TO_FEAR")
GENDERS = ("female", "male", "non_binary")
ENTITIES = 600  # source entities; SOURCE spans link to them (LINKED of the time)
LINKED = 0.8
ANNOTATORS = (1, 2, 3)
GOLD = 4
SENTENCES = 20
BATCH = 50_000


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(url: str, n_documents: int, n_attributions: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    engine = configure_engine(sa.create_engine(url))
    migrate.upgrade(engine)
    with Session(engine) as session:
        project_id = projects.get_or_create_project(session, SYSTEM, "bench").id
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = dt.datetime.now(dt.timezone.utc)
    started = time.perf_counter()
    readings = []  # (user, document, sentence bounds) of every reading with work
    with engine.begin() as connection:
        connection.execute(t["users"].insert(), [
            {"id": i, "username": f"annotator{i}" if i != GOLD else "gold", "password_hash": "x",
             "role": "annotator", "active": i != GOLD, "created_at": now} for i in (*ANNOTATORS, GOLD)])
        documents, sentences, assignments, adjudications = [], [], [], []
        sentence_id = 0
        for d in range(1, n_documents + 1):
            parts, offset, bounds = [], 0, []
            for position in range(SENTENCES):
                text = " ".join(rng.choice(WORDS) for _ in range(15)).capitalize() + "."
                sentence_id += 1
                sentences.append({"id": sentence_id, "document_id": d, "position": position, "start": offset,
                                  "end": offset + len(text)})
                bounds.append((sentence_id, offset, offset + len(text)))
                parts.append(text)
                offset += len(text) + 1
            body = " ".join(parts)
            month = dt.date(2023 + (d % 24) // 12, (d % 24) % 12 + 1, 1 + d % 28)
            content_hash = hashlib.sha256(body.encode()).hexdigest()
            documents.append({"id": d, "project_id": project_id, "title": f"Synthetic article {d}", "text": body,
                              "outlet": OUTLETS[d % len(OUTLETS)], "published": month, "content_hash": content_hash,
                              "identity_hash": hashlib.sha256(f"{d}".encode()).hexdigest(), "language": "en",
                              "metadata": {}, "imported_at": now})
            for user in ANNOTATORS:
                status = "done" if rng.random() < 0.9 else "in_progress"
                assignments.append({"user_id": user, "document_id": d, "status": status, "created_at": now,
                                    "updated_at": now})
                readings.append((user, d, bounds))
            if d % 10 == 0:
                assignments.append({"user_id": GOLD, "document_id": d, "status": "done", "created_at": now,
                                    "updated_at": now})
                adjudications.append({"document_id": d, "status": "adjudicated", "created_at": now, "updated_at": now})
                readings.append((GOLD, d, bounds))
        connection.execute(t["documents"].insert(), documents)
        entities = []
        for e in range(1, ENTITIES + 1):
            kind = KINDS[e % len(KINDS)]
            gender = None
            if kind == "person" and rng.random() < 0.7:  # recorded on 70% of the persons
                gender = GENDERS[0] if rng.random() < 0.35 else GENDERS[1] if rng.random() < 0.97 else GENDERS[2]
            entities.append({"id": e, "project_id": project_id, "name": f"Source {e}", "name_key": f"source {e}",
                             "kind": kind, "anonymity": rng.choice(IDENTIFICATION), "gender": gender, "version": 1,
                             "created_at": now, "updated_at": now})
        connection.execute(t["source_entities"].insert(), entities)
        for i in range(0, len(sentences), BATCH):
            connection.execute(t["sentences"].insert(), sentences[i:i + BATCH])
        connection.execute(t["assignments"].insert(), assignments)
        connection.execute(t["adjudications"].insert(), adjudications)

        per_reading = n_attributions / len(readings)
        span_id = attribution_id = 0
        spans, attributions, parts, labels = [], [], [], []
        totals: dict[str, int] = {}

        def flush(force: bool = False) -> None:
            """All four tables at once, in this order: a part needs its attribution and span."""
            tables = (("spans", spans), ("attributions", attributions), ("attribution_parts", parts),
                      ("sentence_labels", labels))
            if force or any(len(rows) >= BATCH for _, rows in tables):
                for table, rows in tables:
                    if rows:
                        connection.execute(t[table].insert(), rows)
                        totals[table] = totals.get(table, 0) + len(rows)
                        rows.clear()

        made = 0
        for index, (user, d, bounds) in enumerate(readings):
            outlet = d % len(OUTLETS)
            starts = [start for _, start, _ in bounds]
            length = bounds[-1][2]

            def sentence_at(offset: int) -> int:
                return bounds[bisect.bisect_right(starts, offset) - 1][0]

            # Spread the attributions evenly: reading i gets the ones between i and i + 1 of the target.
            count = int((index + 1) * per_reading) - int(index * per_reading)
            for j in range(count):
                attribution_id += 1
                cue, cue_type = rng.choice(CUES)
                anonymous = 0.15 + 0.05 * outlet  # outlets differ in how often sources go unnamed
                identification = "anonymous" if rng.random() < anonymous else rng.choice(("named", "role_only"))
                attributions.append({"id": attribution_id, "user_id": user, "document_id": d, "relation": "attribution",
                                     "attributes": {"source_kind": rng.choice(KINDS), "identification": identification,
                                                    "cue_type": cue_type, "quote_type": rng.choice(QUOTES)},
                                     "version": 1, "created_at": now, "updated_at": now})
                # A few sources quoted often (a Pareto rank), each outlet favouring its own.
                entity = (min(int(rng.paretovariate(1.2)), ENTITIES) + 37 * outlet) % ENTITIES + 1
                for role, label, text in (("source", "SOURCE", "the minister"), ("cue", "CUE", cue),
                                          ("content", "CONTENT", "prices rose")):
                    span_id += 1
                    a = (3 * j) % (length - 2)  # one start per label and reading: spans are unique
                    linked = role == "source" and rng.random() < LINKED
                    spans.append({"id": span_id, "user_id": user, "document_id": d, "sentence_id": sentence_at(a),
                                  "layer": "attribution", "label": label, "start": a, "end": a + 1,
                                  "text": text, "attributes": {}, "entity_id": entity if linked else None,
                                  "version": 1, "created_at": now, "updated_at": now})
                    parts.append({"attribution_id": attribution_id, "span_id": span_id, "role": role})
                made += 1
            for k in range(rng.randrange(0, 4 + outlet)):  # loaded language: more in some outlets
                span_id += 1
                a = (5 * k) % (length - 2)
                spans.append({"id": span_id, "user_id": user, "document_id": d, "sentence_id": sentence_at(a),
                              "layer": "loaded_language", "label": rng.choice(LOADED), "start": a, "end": a + 2,
                              "text": "xx", "attributes": {"polarity": rng.choice(("negative", "positive")),
                                                           "voice": rng.choice(("author", "attributed"))},
                              "entity_id": None, "version": 1, "created_at": now, "updated_at": now})
            for sid, _, _ in bounds:
                labels.append({"user_id": user, "sentence_id": sid, "layer": "claim_type", "value": rng.choice(CLAIMS),
                               "unsure": False, "version": 1, "created_at": now, "updated_at": now})
                if rng.random() < 0.5:
                    labels.append({"user_id": user, "sentence_id": sid, "layer": "check_worthy",
                                   "value": rng.choice(("no", "unsure", "yes")), "unsure": False, "version": 1,
                                   "created_at": now, "updated_at": now})
            flush()
        flush(force=True)
        # One audit event, so that the cache's fingerprint has something to name.
        connection.execute(t["events"].insert(), [{"action": "import", "entity_type": "project", "entity_id": project_id,
                                                   "created_at": now}])
    print(f"generated {n_documents} articles, {len(readings)} readings, {made} attributions, "
          f"{totals.get('spans', 0)} spans, {totals.get('sentence_labels', 0)} sentence labels, {ENTITIES} source "
          f"entities in {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()


def time_page(url: str, project_id: int, query: str, rounds: int = 7) -> list[float]:
    """GET the profile page as a logged-in supervisor through the real app (Flask's test client:
    routing, login, the cache lookup, the template), once the profile is cached."""
    from annotator import create_app
    from annotator.app import db
    from annotator.services import users

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": tempfile.mkdtemp(prefix="profile-bench-app-"),
                      "SECRET_KEY": "profile-bench", "WTF_CSRF_ENABLED": False})
    password = "bench-admin-password"
    with app.app_context():
        if db.session.scalar(sa.text("SELECT 1 FROM users WHERE username = 'bench-admin'")) is None:
            users.add_user(db.session, SYSTEM, "bench-admin", "admin", password)
    client = app.test_client()
    client.post("/login", data={"username": "bench-admin", "password": password})
    page = f"/projects/{project_id}/profile{query}"
    first = client.get(page)  # computes and caches (adding the account renewed the fingerprint)
    assert first.status_code == 200, first.status_code
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
    parser.add_argument("--attributions", type=int, default=100_000)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--database", help="reuse (or create) this SQLite file")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    path = args.database or os.path.join(tempfile.mkdtemp(prefix="profile-bench-"), "bench.sqlite3")
    url = f"sqlite:///{path}"
    if args.generate_only:
        generate(url, args.documents, args.attributions)
        return
    if not os.path.exists(path):
        subprocess.run([sys.executable, __file__, "--generate-only", "--database", path, "--documents",
                        str(args.documents), "--attributions", str(args.attributions)], check=True)

    from annotator.models import Project
    from annotator.services import profiles

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; database {path}")
    engine = configure_engine(sa.create_engine(url))
    baseline = _rss_mib()
    with Session(engine) as session:
        project_id = session.scalar(sa.select(Project.id).where(Project.name == "bench"))
        for by in ("outlet", "month", "annotator", "document"):
            started = time.perf_counter()
            body = profiles.build_profile(session, SYSTEM, project_id, by=by, replicates=args.replicates)
            elapsed = time.perf_counter() - started
            size = len(json.dumps(body))
            top = body["overall"]["top_sources"]["attribution"]
            print(f"profile by {by:9}: {elapsed:.2f} s, {len(body['groups'])} groups, {len(body['figures'])} figures, "
                  f"JSON {size / 1e6:.2f} MB, peak RSS {_rss_mib():.0f} MiB (before: {baseline:.0f} MiB); "
                  f"{top['cited']} sources cited, the top one in {top['share'][0]:.1%} of the attributions", flush=True)
        started = time.perf_counter()
        profiles.build_profile(session, SYSTEM, project_id, by="outlet", replicates=args.replicates,
                               compare=["Dawn", "Reuters"])
        print(f"profile by outlet with Dawn − Reuters: {time.perf_counter() - started:.2f} s", flush=True)
        profiles.cached_profile(session, SYSTEM, project_id, replicates=args.replicates)
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            profiles.cached_profile(session, SYSTEM, project_id, replicates=args.replicates)
            timings.append(time.perf_counter() - started)
        print(f"profile by outlet from the cache: median {statistics.median(timings) * 1000:.0f} ms", flush=True)
    engine.dispose()
    for query in ("", "?by=month", "?by=annotator", "?by=document", "?by=document&page=40&a=7&b=1999"):
        timings = time_page(url, project_id, query)
        print(f"page /profile{query or ''} from the cache: median {statistics.median(timings) * 1000:.0f} ms, "
              f"max {max(timings) * 1000:.0f} ms", flush=True)
    print(f"peak RSS of this process: {_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
