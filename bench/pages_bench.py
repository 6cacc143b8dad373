"""The pages that list assignments, documents or users, at 20,000 and 40,000 assignments (issue 14).

For each size N, a database is built with Core inserts (the set-up is not what is measured):
one project of N short documents (5 sentences each, the default codebook), all N assigned to
one annotator (ann: a tenth done, a tenth in progress), the first 1,000 also to a second
(bob), one 'assign' audit event per assignment and a 'done' event per done one; ann labelled
every sentence of her first 2,000 documents on the claim-type layer (the one that makes a
sentence done) and marked a span in each, with active time; bob labelled his 1,000 and
disagrees with ann on one sentence of every other one; 20 documents are being adjudicated;
besides ann, bob, a supervisor and an admin, 1,000 deactivated annotator accounts.

Then each page is loaded through the app (Flask's test client, signed in as the page's
reader; the pages render in full), ``--loads`` times: the median and the worst, for the
first page and the last one (the deepest offset): the annotator's home (as ann), the project
page, the assignment matrix, the progress page, the adjudication queue and the users page
(as the admin). Target: the median load of every page under 300 ms at 40,000 assignments.

``--before DIR``: the home page on the code in DIR (a checkout with its own .venv, e.g. the
one before issue 14) against the same data at schema revision 0006 (before this issue's
indexes), one load per size of ``--before-sizes``, each cut off after ``--before-limit``
seconds (reported as "> N s"); the ratio to this code's home page at the same size is
printed beside it.

    python bench/pages_bench.py [--sizes 20000 40000] [--loads 5] [--postgresql URL]
                                [--before /tmp/pre14 --before-sizes 2000 20000 --before-limit 60]

``--postgresql URL`` runs on throwaway databases of that server (created and dropped, each
vacuumed and analysed once built, as autovacuum would) instead of SQLite files (left without
statistics, as SQLite keeps them unless someone runs ANALYZE).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from annotator import create_app, migrate  # noqa: E402
from annotator.codebook import default_codebook  # noqa: E402
from annotator.db import configure_engine  # noqa: E402
from annotator.models import (  # noqa: E402
    Adjudication, Assignment, Document, Event, Project, Sentence, SentenceLabel, SentenceTime, Span, User,
)

SENTENCES = 5
LABELLED = 2_000  # ann's documents with every sentence labelled
SECOND = 1_000  # documents bob holds too
ADJUDICATING = 20
FORMER = 1_000  # deactivated accounts
CHUNK = 5_000
PARTS = [f"Sentence {i} of a short report, said the spokesperson." for i in range(SENTENCES)]
TEXT = " ".join(PARTS)
BOUNDS = [(start := sum(len(part) + 1 for part in PARTS[:i]), start + len(PARTS[i])) for i in range(SENTENCES)]
CLAIMS = ("event", "quantity", "opinion", "prediction")
BEFORE_REVISION = "0006"

# What each page is, who reads it, and where its last page is (items, page size).
PAGES = (
    ("home", "ann", "/", "assignments", 100),
    ("project", "root", "/projects/{project}", "documents", 200),
    ("assignments", "root", "/projects/{project}/assignments", "documents", 100),
    ("progress", "root", "/projects/{project}/progress", "documents", 200),
    ("adjudication queue", "root", "/projects/{project}/adjudication", "documents", 100),
    ("users", "root", "/users", "users", 200),
)


# -- the data ------------------------------------------------------------------------------------


def _insert(connection, table, rows) -> None:
    rows = list(rows)
    for start in range(0, len(rows), CHUNK):
        connection.execute(sa.insert(table), rows[start:start + CHUNK])


def build(url: str, n: int, revision: str = "head") -> dict[str, int]:
    """Migrate an empty database to ``revision`` and fill it for N assignments of ann; the ids
    the pages need."""
    engine = configure_engine(sa.create_engine(url))
    migrate.upgrade(engine, revision)
    now = dt.datetime.now(dt.timezone.utc)
    codebook = default_codebook()
    with engine.begin() as connection:
        project = connection.execute(sa.insert(Project.__table__).returning(Project.id), {
            "name": "bench", "codebook": codebook.to_dict(), "codebook_version": codebook.version,
            "adjudication": {"min_agree": 2, "matching": "exact"}, "created_at": now}).scalar_one()
        people = {}
        for name, role, active in (("root", "admin", True), ("sup", "supervisor", True), ("ann", "annotator", True),
                                   ("bob", "annotator", True)):
            people[name] = connection.execute(sa.insert(User.__table__).returning(User.id), {
                "username": name, "password_hash": BENCH_HASH, "role": role, "active": active,
                "created_at": now}).scalar_one()
        _insert(connection, User.__table__, ({"username": f"former{i:04d}", "password_hash": "!", "role": "annotator",
                                              "active": False, "created_at": now} for i in range(FORMER)))
        _insert(connection, Document.__table__, ({
            "project_id": project, "title": f"Report {i}", "outlet": "Bench News", "language": "en", "text": TEXT,
            "content_hash": hashlib.sha256(f"{i}".encode()).hexdigest(), "metadata": {}, "imported_at": now,
        } for i in range(n)))
        documents = connection.execute(sa.select(Document.id).where(Document.project_id == project).order_by(Document.id)).scalars().all()
        _insert(connection, Sentence.__table__, ({"document_id": d, "position": p, "start": start, "end": end}
                                                 for d in documents for p, (start, end) in enumerate(BOUNDS)))
        sentences = {}
        for sentence_id, document_id, position in connection.execute(
                sa.select(Sentence.id, Sentence.document_id, Sentence.position).order_by(Sentence.id)):
            sentences.setdefault(document_id, []).append(sentence_id)

        def status(i: int) -> str:
            return "done" if i % 10 == 0 else "in_progress" if i % 10 == 1 else "assigned"

        held = [(people["ann"], d, status(i)) for i, d in enumerate(documents)] + [
            (people["bob"], d, "assigned") for d in documents[:SECOND]]
        _insert(connection, Assignment.__table__, ({
            "user_id": user, "document_id": d, "status": state, "created_at": now, "updated_at": now,
            "completed_at": now if state == "done" else None} for user, d, state in held))
        for start in range(0, len(held), CHUNK):  # the audit events, as assigning writes them
            rows = connection.execute(sa.select(Assignment.id, Assignment.user_id, Assignment.status)
                                      .order_by(Assignment.id).offset(start).limit(CHUNK)).all()
            _insert(connection, Event.__table__, ({
                "created_at": now, "user_id": people["sup"], "action": "assign", "entity_type": "assignments",
                "entity_id": row.id, "before": None, "after": {"status": "assigned"}} for row in rows))
            _insert(connection, Event.__table__, ({
                "created_at": now, "user_id": row.user_id, "action": "done", "entity_type": "assignments",
                "entity_id": row.id, "before": {"status": "in_progress"}, "after": {"status": "done"}}
                for row in rows if row.status == "done"))

        def labels(user: int, chosen: list[int], differ: bool):
            for i, d in enumerate(chosen):
                for p, sentence_id in enumerate(sentences[d]):
                    value = CLAIMS[(p + (1 if differ and i % 2 == 0 and p == 0 else 0)) % len(CLAIMS)]
                    yield {"user_id": user, "sentence_id": sentence_id, "layer": "claim_type", "value": value,
                           "unsure": False, "comment": None, "version": 1, "created_at": now, "updated_at": now}

        _insert(connection, SentenceLabel.__table__, labels(people["ann"], documents[:LABELLED], False))
        _insert(connection, SentenceLabel.__table__, labels(people["bob"], documents[:SECOND], True))
        _insert(connection, Span.__table__, ({
            "user_id": user, "document_id": d, "sentence_id": sentences[d][0], "layer": "attribution", "label": "SOURCE",
            "start": 0, "end": 8, "text": TEXT[:8], "attributes": {}, "version": 1, "created_at": now, "updated_at": now}
            for user, chosen in ((people["ann"], documents[:LABELLED]), (people["bob"], documents[:SECOND]))
            for d in chosen))
        _insert(connection, SentenceTime.__table__, ({
            "user_id": people["ann"], "sentence_id": sentence_id, "active_ms": 4_000, "updated_at": now}
            for d in documents[:LABELLED] for sentence_id in sentences[d]))
        _insert(connection, Adjudication.__table__, ({
            "document_id": d, "status": "in_progress", "adjudicator_id": people["sup"], "created_at": now, "updated_at": now}
            for d in documents[:ADJUDICATING]))
    if engine.dialect.name == "postgresql":  # statistics and visibility as autovacuum leaves them on a settled database
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return people | {"project": project}


# -- the databases -------------------------------------------------------------------------------


class Databases:
    """Throwaway databases: SQLite files in a temporary folder, or databases of a PostgreSQL
    server (dropped at the end)."""

    def __init__(self, postgresql: str | None, folder: Path):
        self.server = sa.create_engine(postgresql, isolation_level="AUTOCOMMIT") if postgresql else None
        self.folder, self.created = folder, []

    def new(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.folder / name}.sqlite3"
        database = f"annotator_bench_{uuid.uuid4().hex[:10]}"
        with self.server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        return self.server.url.set(database=database).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if self.server is not None:
            with self.server.connect() as connection:
                for database in self.created:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            self.server.dispose()


# -- loading pages -------------------------------------------------------------------------------


# The active accounts' password, hashed cheaply: the bench signs in through the login form.
BENCH_PASSWORD = "bench password"
BENCH_HASH = generate_password_hash(BENCH_PASSWORD, method="pbkdf2:sha256:1")


def signed_in(app, username: str):
    """A test client signed in as the user, through the login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def time_pages(url: str, ids: dict[str, int], n: int, loads: int, folder: Path) -> list[tuple[str, str, float, float]]:
    """(page, which, median ms, worst ms) for the first and last page of each listing."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder / "instance")})
    clients = {name: signed_in(app, name) for name in ("ann", "root")}
    items = {"assignments": n, "documents": n, "users": 4 + FORMER}
    results = []
    for name, reader, path, counted, size in PAGES:
        path = path.format(**ids)
        last = -(-items[counted] // size)
        for which, query in (("first", ""), (f"last ({last})", f"?page={last}")):
            times = []
            for _ in range(loads):
                start = time.perf_counter()
                response = clients[reader].get(path + query)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path + query, response.status_code, response.get_data(as_text=True)[:300])
            results.append((name, which, statistics.median(times), max(times)))
    with app.app_context():
        from annotator.app import db

        db.engine.dispose()
    return results


BEFORE_SCRIPT = """
import json, sys, time
from annotator import create_app
url, user, instance = sys.argv[1], int(sys.argv[2]), sys.argv[3]
app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance})
client = app.test_client()
with client.session_transaction() as session:  # that code signs in from a cookie naming the user id
    session["_user_id"], session["_fresh"] = str(user), True
start = time.perf_counter()
response = client.get("/")
print(json.dumps({"status": response.status_code, "ms": (time.perf_counter() - start) * 1000}))
"""


def time_before(checkout: Path, url: str, user: int, limit: float, folder: Path) -> float | None:
    """One load of the home page on the code in ``checkout``, in ms; None: cut off after ``limit`` s."""
    try:
        done = subprocess.run([str(checkout / ".venv/bin/python"), "-c", BEFORE_SCRIPT, url, str(user), str(folder / "before")],
                              cwd=checkout, capture_output=True, text=True, timeout=limit + 10, check=True)
    except subprocess.TimeoutExpired:
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, result
    return result["ms"] if result["ms"] <= limit * 1000 else None


# -- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 40_000])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--postgresql", metavar="URL", help="a PostgreSQL server to make throwaway databases on")
    parser.add_argument("--before", type=Path, metavar="DIR", help="a checkout (with .venv) to time the home page of")
    parser.add_argument("--before-sizes", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--before-limit", type=float, default=60.0, help="seconds a load of the old home page may take")
    args = parser.parse_args()
    database = f"PostgreSQL at {make_url(args.postgresql).host}" if args.postgresql else f"SQLite {sqlite3.sqlite_version}"
    print(f"{dt.date.today()} · {platform.node()} · Python {platform.python_version()} · {database}")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        databases = Databases(args.postgresql, folder)
        try:
            home_now: dict[int, float] = {}
            for n in sorted(set(args.sizes) | (set(args.before_sizes) if args.before else set())):
                url = databases.new(f"n{n}")
                started = time.perf_counter()
                ids = build(url, n)
                print(f"\n{n:,} assignments of ann (+{min(n, SECOND):,} of bob), built in {time.perf_counter() - started:.0f} s")
                results = time_pages(url, ids, n, args.loads, folder)
                home_now[n] = next(median for name, which, median, _ in results if name == "home" and which == "first")
                if n in args.sizes:
                    print("| page | which | median ms | worst ms |\n|---|---|---|---|")
                    for name, which, median, worst in results:
                        print(f"| {name} | {which} | {median:.0f} | {worst:.0f} |")
                    name, which, median, _ = max(results, key=lambda row: row[2])
                    print(f"slowest median: {median:.0f} ms ({name}, {which} page: {'under' if median < 300 else 'OVER'} "
                          f"the 300 ms target); worst single load: {max(row[3] for row in results):.0f} ms")
            if args.before:
                print(f"\nThe home page before ({args.before}, schema {BEFORE_REVISION}) and now, one load each:")
                print("| assignments | before | now (median) | ratio before / now |\n|---|---|---|---|")
                for n in args.before_sizes:
                    url = databases.new(f"before{n}")
                    ids = build(url, n, BEFORE_REVISION)
                    before = time_before(args.before, url, ids["ann"], args.before_limit, folder)
                    shown = f"> {args.before_limit:.0f} s" if before is None else f"{before / 1000:.1f} s"
                    ratio = f"> {args.before_limit * 1000 / home_now[n]:,.0f}" if before is None else f"{before / home_now[n]:,.0f}"
                    print(f"| {n:,} | {shown} | {home_now[n]:.0f} ms | {ratio} |")
        finally:
            databases.drop_all()


if __name__ == "__main__":
    main()
