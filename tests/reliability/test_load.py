"""Nothing acknowledged is lost: 32 simulated annotators save through the production server
(waitress, `annotator serve`, a process of its own) on SQLite and on PostgreSQL.

Each annotator logs in over HTTP and, in a loop, sets claim types on the seed article's
sentences and creates spans, remembering every save the server acknowledged (a 2xx) and every
one whose answer never came. Checked afterwards against the database: no 5xx was ever
answered; every acknowledged span is stored as acknowledged; every sentence label holds the
last acknowledged value, or a later one whose answer was lost. The second test kills the
server with SIGKILL in the middle of the load and starts it again: the database passes its
integrity check and the same holds. Kept short here (CI); bench/load_bench.py runs longer.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from annotator import assignments, create_app, db, migrate, projects, users
from annotator.documents import import_articles
from annotator.ingest import read_paths
from annotator.models import Document, Sentence, SentenceLabel, Span

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds"
ANNOTATORS = 32
PASSWORD = "reliability-test-password"
CLAIMS = ("event", "quantity", "causal", "prediction", "opinion", "not_claim")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    database_url: str
    instance: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.instance / "server.log"

    def start(self) -> None:
        # The server's log goes to a file: a pipe nobody reads would fill up (64 KiB) and
        # block every thread that logs (each 503 of an outage logs a warning).
        self.instance.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("ab")
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANNOTATOR_")}
        env |= {"ANNOTATOR_DATABASE_URL": self.database_url, "ANNOTATOR_INSTANCE": str(self.instance),
                "ANNOTATOR_SECRET_KEY": "reliability-secret"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from annotator.cli import main; main()", "serve", "--port", str(self.port),
             "--threads", "16"], env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.log.close()


def _serve(kind: str, tmp_path, postgres_server):
    """A migrated instance with the seed article assigned to 32 annotators, served."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'annotator.sqlite3'}"
    else:
        if reason := postgres_server.available():
            pytest.skip(reason)
        url = postgres_server.create_database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "reliability-secret"})
    with app.app_context():
        migrate.upgrade(db.engine)
        session = db.session
        project = projects.get_or_create_project(session, "default")
        session.commit()
        import_articles(session, project, read_paths([SEED]))
        document = session.scalar(sa.select(Document))
        people = [users.create_user(session, f"load{n:02d}", "annotator", PASSWORD)[0] for n in range(ANNOTATORS)]
        for person in people:
            assignments.assign(session, person, [document])
        session.commit()
        sentences = [(s.id, s.start, s.end) for s in session.scalars(
            sa.select(Sentence).where(Sentence.document_id == document.id).order_by(Sentence.position))]
        text = document.text
        db.engine.dispose()
    running = Server(url, tmp_path / "instance")
    running.document, running.sentences, running.text = document.id, sentences, text
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path, postgres_server):
    yield from _serve(request.param, tmp_path, postgres_server)


@pytest.fixture
def postgres_serving(tmp_path, postgres_server):
    yield from _serve("postgresql", tmp_path, postgres_server)


@dataclass
class Ledger:
    """What one annotator sent and what the server acknowledged."""

    username: str
    labels: dict = field(default_factory=lambda: defaultdict(list))  # sentence -> [(value, acknowledged)]
    spans: dict = field(default_factory=dict)  # acknowledged span id -> (start, end, label)
    server_errors: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # what stopped the simulated annotator
    acknowledged: int = 0
    lost: int = 0
    unavailable: int = 0  # 503 answers


def _session(server: Server, username: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(f"{server.url}/login", timeout=60).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = http.post(f"{server.url}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                         timeout=60, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    home = http.get(f"{server.url}/", timeout=60).text
    return http, re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)


def _annotate(server: Server, ledger: Ledger, ready: threading.Barrier, until: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    # Logging in first, all at once (password hashing is deliberately slow): the load that
    # counts starts when everyone is in.
    try:
        http, token = _session(server, ledger.username)
    except Exception as error:  # noqa: BLE001 - reported by _check
        ledger.failures.append(f"login: {error!r}")
        return
    finally:
        ready.wait()
    versions: dict[int, int] = {}  # sentence -> the label's version, as the page keeps it
    while not until.is_set():
        try:
            if http is None:
                http, token = _session(server, ledger.username)
            sentence, start, end = rng.choice(server.sentences)
            if rng.random() < 0.5:
                value = rng.choice(CLAIMS)
                ledger.labels[sentence].append([value, False])
                body = {"value": value} | ({"version": versions[sentence]} if sentence in versions else {})
                response = http.put(f"{server.url}/api/sentences/{sentence}/labels/claim_type", json=body,
                                    headers={"X-CSRFToken": token}, timeout=30)
                if response.ok:
                    ledger.labels[sentence][-1][1] = True
                    versions[sentence] = response.json()["version"]
                elif response.status_code == 409:  # as the page does: take the stored version
                    versions[sentence] = response.json()["current"]["version"]
            else:
                words = [m.span() for m in re.finditer(r"\w+", server.text[start:end])]
                a, b = rng.choice(words)
                label = rng.choice(("SOURCE", "CUE"))
                payload = {"layer": "attribution", "label": label, "start": start + a, "end": start + b,
                           "text": server.text[start + a:start + b]}
                response = http.post(f"{server.url}/api/documents/{server.document}/spans", json=payload,
                                     headers={"X-CSRFToken": token}, timeout=30)
                if response.ok:
                    span = response.json()
                    ledger.spans[span["id"]] = (span["start"], span["end"], span["label"])
            if response.status_code == 503:
                ledger.unavailable += 1  # the database away: nothing saved, sent again later like the page does
                time.sleep(0.2)
            elif response.status_code >= 500:
                ledger.server_errors.append((response.status_code, response.text[:300]))
            ledger.acknowledged += response.ok
        except requests.RequestException:  # refused, reset, timed out or cut off mid-answer
            ledger.lost += 1  # the answer never came whole: the save may or may not be stored
            http = None
            time.sleep(0.05)
        except Exception as error:  # noqa: BLE001 - reported by _check, not lost in a thread
            ledger.failures.append(repr(error))
            return


def _load(server: Server, seconds: float, *, during=None) -> list[Ledger]:
    ledgers = [Ledger(f"load{n:02d}") for n in range(ANNOTATORS)]
    until, ready = threading.Event(), threading.Barrier(ANNOTATORS + 1, timeout=120)
    threads = [threading.Thread(target=_annotate, args=(server, ledger, ready, until, n), daemon=True)
               for n, ledger in enumerate(ledgers)]
    for thread in threads:
        thread.start()
    ready.wait()
    try:
        if during is not None:
            during()
        time.sleep(seconds)
    finally:
        until.set()
        for thread in threads:
            thread.join(timeout=60)
    return ledgers


def _check(server: Server, ledgers: list[Ledger], *, unavailable_allowed: bool = False) -> None:
    assert not [error for ledger in ledgers for error in ledger.server_errors], "5xx answered"
    if not unavailable_allowed:
        assert sum(ledger.unavailable for ledger in ledgers) == 0, "503 answered"
    assert not [failure for ledger in ledgers for failure in ledger.failures]
    assert sum(ledger.acknowledged for ledger in ledgers) > ANNOTATORS  # the load did run
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            names = dict(connection.execute(sa.text("SELECT username, id FROM users")).all())
            for ledger in ledgers:
                user = names[ledger.username]
                stored = {row.id: (row.start, row.end, row.label) for row in connection.execute(
                    sa.select(Span.id, Span.start, Span.end, Span.label).where(Span.user_id == user))}
                for span_id, acknowledged in ledger.spans.items():
                    assert stored.get(span_id) == acknowledged, (ledger.username, span_id)
                labels = dict(connection.execute(sa.select(SentenceLabel.sentence_id, SentenceLabel.value).where(
                    SentenceLabel.user_id == user, SentenceLabel.layer == "claim_type")).all())
                for sentence, sends in ledger.labels.items():
                    acked = [i for i, (_, ok) in enumerate(sends) if ok]
                    if not acked:
                        continue
                    allowed = {value for value, _ in sends[acked[-1]:]}  # the last ack, or a later unanswered save
                    assert labels.get(sentence) in allowed, (ledger.username, sentence, labels.get(sentence), sends)
            if engine.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        engine.dispose()


def test_32_annotators_lose_nothing(server):
    ledgers = _load(server, seconds=4)
    assert sum(ledger.lost for ledger in ledgers) == 0
    _check(server, ledgers)


def test_a_killed_server_loses_nothing_it_acknowledged(server):
    def kill_and_restart():
        time.sleep(1.5)
        server.kill()
        time.sleep(0.5)
        server.start()

    ledgers = _load(server, seconds=2, during=kill_and_restart)
    assert sum(ledger.lost for ledger in ledgers) > 0  # the kill did interrupt saves
    _check(server, ledgers)


def test_postgresql_restarted_under_load(postgres_serving, postgres_server):
    """The database goes away and comes back while annotators save: requests meanwhile get 503
    JSON (nothing saved, sent again), never a 500; the app recovers without a restart."""
    server = postgres_serving
    cluster = sorted(os.listdir("/etc/postgresql"))[-1]

    def restart_database():
        time.sleep(1)
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True,
                       capture_output=True, timeout=120)

    ledgers = _load(server, seconds=3, during=restart_database)
    postgres_server.engine.dispose()  # the test suite's own pooled connections died with it
    assert sum(ledger.unavailable for ledger in ledgers) > 0  # the outage was seen
    _check(server, ledgers, unavailable_allowed=True)
    # The app itself recovers (no restart): /healthz answers 200 again, polled while the last
    # requests of the outage are worked off.
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{server.url}/healthz", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the app did not recover within 30 s of the database restart"
        time.sleep(0.5)
