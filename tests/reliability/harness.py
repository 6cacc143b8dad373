"""Simulated annotators saving through a served instance, and the check that every save the
server acknowledged is in the database. Shared by the tests beside this file (short runs) and
bench/load_bench.py (long runs, more annotators, gunicorn, a reverse proxy, faults).

Each annotator logs in over HTTP and, in a loop, sets claim types on the seed article's
sentences and creates spans, remembering every save the server acknowledged (a 2xx) and every
one whose answer never came. Afterwards: every acknowledged span is stored as acknowledged, and
every sentence label holds the last acknowledged value or a later one whose answer was lost.
"""

from __future__ import annotations

import multiprocessing
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

from annotator import create_app, migrate
from annotator.app import db
from annotator.ingest import read_paths
from annotator.models import Document, Sentence, SentenceLabel, Span
from annotator.services import assignments, imports, projects, users
from annotator.services.permissions import SYSTEM

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds"
PASSWORD = "reliability-test-password"
SECRET = "reliability-secret"
CLAIMS = ("event", "quantity", "causal", "prediction", "opinion", "not_claim")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def usernames(count: int) -> list[str]:
    return [f"load{n:03d}" for n in range(count)]


@dataclass(frozen=True)
class Article:
    """The seed article every simulated annotator works on."""

    document: int
    sentences: list[tuple[int, int, int]]  # (id, start, end)
    text: str


def prepare(database_url: str, instance: Path, names: list[str]) -> Article:
    """Migrate the database, import the seeds and assign the first article to ``names``."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": SECRET})
    with app.app_context():
        migrate.upgrade(db.engine)
        session = db.session
        project = projects.get_or_create_project(session, SYSTEM, "default")
        imports.import_articles(session, SYSTEM, project.id, read_paths([SEED]))
        document = session.scalars(sa.select(Document).order_by(Document.id)).first()
        people = [users.add_user(session, SYSTEM, name, "annotator", PASSWORD)[0] for name in names]
        assignments.assign(session, SYSTEM, project.id, [person.id for person in people], [document.id])
        sentences = [(s.id, s.start, s.end) for s in session.scalars(
            sa.select(Sentence).where(Sentence.document_id == document.id).order_by(Sentence.position))]
        article = Article(document.id, sentences, document.text)
        db.engine.dispose()
    return article


def _wait_until_healthy(url: str, log: Path, seconds: float = 30, verify: bool | str = True) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=5, verify=verify).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up: {log.read_text(errors='replace')[-2000:]}")


@dataclass
class Server:
    """The production server in a process group of its own: `annotator serve` (waitress, one
    process, threads) or gunicorn (worker processes with threads), as docs/deploy.md runs it."""

    database_url: str
    instance: Path
    kind: str = "waitress"
    workers: int = 2
    threads: int = 16
    environment: dict = field(default_factory=dict)  # ANNOTATOR_* settings beyond the database
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.instance / f"{self.kind}.log"

    def command(self) -> list[str]:
        if self.kind == "waitress":
            return [sys.executable, "-c", "from annotator.cli import main; main()", "serve",
                    "--port", str(self.port), "--threads", str(self.threads)]
        if self.kind == "gunicorn":
            return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                    "--workers", str(self.workers), "--threads", str(self.threads),
                    "--worker-class", "gthread", "--keep-alive", "75", "annotator:create_app()"]
        raise ValueError(f"unknown server {self.kind!r}")

    def start(self) -> None:
        # The log goes to a file: a pipe nobody reads would fill up (64 KiB) and block every
        # thread that logs (each 503 of an outage logs a warning).
        self.instance.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("ab")
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANNOTATOR_")}
        env |= {"ANNOTATOR_DATABASE_URL": self.database_url, "ANNOTATOR_INSTANCE": str(self.instance),
                "ANNOTATOR_SECRET_KEY": SECRET} | self.environment
        self.process = subprocess.Popen(self.command(), env=env, stdout=subprocess.DEVNULL, stderr=self.log,
                                        start_new_session=True)
        _wait_until_healthy(self.url, self.log_path)

    def kill(self) -> None:
        """SIGKILL to every process of the server (gunicorn's workers too), at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
            self.log.close()


DEPLOY_GUIDE = REPO / "docs" / "deploy.md"
NGINX_MAIN = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
{site}
}}
"""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    chain, key = folder / "chain.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(chain)],
                   check=True, capture_output=True)
    return chain, key


def nginx_site(upstream: int, https_port: int, http_port: int, certificate: tuple[Path, Path]) -> str:
    """The nginx site of docs/deploy.md itself, on 127.0.0.1's ports, in front of ``upstream``."""
    site = re.search(r"```nginx\n(.*?)```", DEPLOY_GUIDE.read_text(), re.S).group(1)
    chain, key = certificate
    for pattern, replacement in ((r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream};"),
                                 (r"listen 443 ", f"listen 127.0.0.1:{https_port} "),
                                 (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
                                 (r"ssl_certificate\s+\S+;", f"ssl_certificate {chain};"),
                                 (r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};")):
        site, found = re.subn(pattern, replacement, site)
        assert found == 1, f"docs/deploy.md's nginx site has no {pattern!r}"
    return site


def nginx_config(prefix: Path, site: str) -> Path:
    for folder in ("body", "proxy"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_MAIN.format(prefix=prefix, site=site))
    return conf


NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


@dataclass
class Proxy:
    """nginx in front of a server, configured as docs/deploy.md says, with a certificate of
    its own for 127.0.0.1 (``verify`` is what a client trusts)."""

    upstream: Server
    prefix: Path
    port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def verify(self) -> str:
        return str(self.prefix / "tls" / "chain.pem")

    def start(self) -> None:
        certificate = self_signed_certificate(self.prefix / "tls")
        conf = nginx_config(self.prefix, nginx_site(self.upstream.port, self.port, self.http_port, certificate))
        self.process = subprocess.Popen([NGINX, "-p", str(self.prefix), "-c", str(conf), "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_until_healthy(self.url, self.prefix / "error.log", verify=self.verify)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Ledger:
    """What one annotator sent and what the server acknowledged."""

    username: str
    labels: dict = field(default_factory=lambda: defaultdict(list))  # sentence -> [[value, acknowledged]]
    spans: dict = field(default_factory=dict)  # acknowledged span id -> (start, end, label)
    latencies: list = field(default_factory=list)  # seconds, of every save answered
    server_errors: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # what stopped the simulated annotator
    acknowledged: int = 0
    lost: int = 0  # saves whose answer never came whole
    unavailable: int = 0  # 503 answers


def _session(url: str, username: str, verify: bool | str) -> tuple[requests.Session, str]:
    http = requests.Session()
    http.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, wins over http.verify
    http.verify = verify
    # As a browser sends it (Referrer-Policy: same-origin): over HTTPS, Flask-WTF's CSRF check
    # also wants the referrer to be this site.
    http.headers["Referer"] = f"{url}/"
    page = http.get(f"{url}/login", timeout=60).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = http.post(f"{url}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                         timeout=60, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    home = http.get(f"{url}/", timeout=60).text
    return http, re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)


def _annotate(url: str, article: Article, ledger: Ledger, ready, seconds: float, seed: int, think: float,
              verify: bool | str) -> None:
    rng = random.Random(seed)
    # Logging in first, all at once (password hashing is deliberately slow): the load that
    # counts starts when everyone is in.
    try:
        http, token = _session(url, ledger.username, verify)
    except Exception as error:  # noqa: BLE001 - reported by the caller, not lost in a thread
        ledger.failures.append(f"login: {error!r}")
        return
    finally:
        ready.wait()
    # CLOCK_MONOTONIC is one clock for every process of the machine, and the barrier lets all
    # annotators go at once. (Pausing on a shared Event's wait(timeout) instead inflated the
    # latencies measured by other threads of the process tenfold.)
    deadline = time.monotonic() + seconds
    versions: dict[int, int] = {}  # sentence -> the label's version, as the page keeps it
    while time.monotonic() < deadline:
        try:
            if think:  # a person reads before the next save
                time.sleep(min(rng.expovariate(1 / think), max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    break
            if http is None:
                http, token = _session(url, ledger.username, verify)
            sentence, start, end = rng.choice(article.sentences)
            started = time.perf_counter()
            if rng.random() < 0.5:
                value = rng.choice(CLAIMS)
                ledger.labels[sentence].append([value, False])
                body = {"value": value} | ({"version": versions[sentence]} if sentence in versions else {})
                response = http.put(f"{url}/api/sentences/{sentence}/labels/claim_type", json=body,
                                    headers={"X-CSRFToken": token}, timeout=30)
                if response.ok:
                    ledger.labels[sentence][-1][1] = True
                    versions[sentence] = response.json()["version"]
                elif response.status_code == 409:  # as the page does: take the stored version
                    versions[sentence] = response.json()["current"]["version"]
            else:
                words = [m.span() for m in re.finditer(r"\w+", article.text[start:end])]
                a, b = rng.choice(words)
                payload = {"layer": "attribution", "label": rng.choice(("SOURCE", "CUE")), "start": start + a,
                           "end": start + b, "text": article.text[start + a:start + b]}
                response = http.post(f"{url}/api/documents/{article.document}/spans", json=payload,
                                     headers={"X-CSRFToken": token}, timeout=30)
                if response.ok:
                    span = response.json()
                    ledger.spans[span["id"]] = (span["start"], span["end"], span["label"])
            ledger.latencies.append(time.perf_counter() - started)
            if response.status_code == 503:
                ledger.unavailable += 1  # the database away: nothing saved, sent again later like the page does
                time.sleep(0.2)
            elif response.status_code >= 500:
                ledger.server_errors.append((response.status_code, response.text[:300]))
            ledger.acknowledged += response.ok
        except requests.RequestException:  # refused, reset, timed out or cut off mid-answer
            ledger.lost += 1  # the save may or may not be stored
            http = None
            time.sleep(0.05)
        except Exception as error:  # noqa: BLE001 - reported by the caller
            ledger.failures.append(repr(error))
            return


# Simulated annotators per client process: one process's threads share one GIL, and 100 of
# them in one process added a quarter of a second to the answers they measured.
ANNOTATORS_PER_PROCESS = 20
_fork = multiprocessing.get_context("fork")


def _client_process(url, article, ledgers, ready, seconds, seeds, think, verify, results) -> None:
    threads = [threading.Thread(target=_annotate, args=(url, article, ledger, ready, seconds, seed, think, verify))
               for ledger, seed in zip(ledgers, seeds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(ledgers)


def run_load(url: str, article: Article, names: list[str], seconds: float, *, during=None,
             think: float = 0.0, verify: bool | str = True) -> tuple[list[Ledger], float]:
    """Every name annotates through ``url`` for ``seconds`` once all are logged in, pausing
    ``think`` seconds on average between saves (0: as fast as the server answers); the
    annotators run as threads of client processes forked for the purpose. ``during`` runs in
    this process as the load starts (a fault); ``verify`` is the TLS certificate the clients
    trust. Returns the ledgers and the load's length."""
    ready, results = _fork.Barrier(len(names) + 1, timeout=300), _fork.Queue()
    groups = [range(first, min(first + ANNOTATORS_PER_PROCESS, len(names)))
              for first in range(0, len(names), ANNOTATORS_PER_PROCESS)]
    clients = [_fork.Process(target=_client_process, daemon=True, args=(
        url, article, [Ledger(names[n]) for n in group], ready, seconds, list(group), think, verify, results))
        for group in groups]
    for client in clients:
        client.start()
    ready.wait()
    started = time.perf_counter()
    try:
        if during is not None:
            during()
        time.sleep(max(0.0, seconds - (time.perf_counter() - started)))
    finally:
        ledgers = [ledger for _ in clients for ledger in results.get(timeout=120)]
        for client in clients:
            client.join(timeout=60)
    return ledgers, time.perf_counter() - started


@dataclass
class Verification:
    checked: int  # acknowledged spans, and sentences with an acknowledged label
    missing: list[str]  # what was acknowledged and is not in the database as acknowledged
    integrity: str | None  # SQLite's PRAGMA integrity_check; None on PostgreSQL


def verify(database_url: str, ledgers: list[Ledger]) -> Verification:
    checked, missing = 0, []
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            ids = dict(connection.execute(sa.text("SELECT username, id FROM users")).all())
            for ledger in ledgers:
                user = ids[ledger.username]
                stored = {row.id: (row.start, row.end, row.label) for row in connection.execute(
                    sa.select(Span.id, Span.start, Span.end, Span.label).where(Span.user_id == user))}
                for span_id, acknowledged in ledger.spans.items():
                    checked += 1
                    if stored.get(span_id) != acknowledged:
                        missing.append(f"{ledger.username}: span {span_id} {acknowledged}, stored {stored.get(span_id)}")
                labels = dict(connection.execute(sa.select(SentenceLabel.sentence_id, SentenceLabel.value).where(
                    SentenceLabel.user_id == user, SentenceLabel.layer == "claim_type")).all())
                for sentence, sends in ledger.labels.items():
                    acked = [i for i, (_, ok) in enumerate(sends) if ok]
                    if not acked:
                        continue
                    checked += 1
                    allowed = {value for value, _ in sends[acked[-1]:]}  # the last ack, or a later unanswered save
                    if labels.get(sentence) not in allowed:
                        missing.append(f"{ledger.username}: sentence {sentence} stored {labels.get(sentence)!r}, "
                                       f"acknowledged {sends[acked[-1]][0]!r}")
            integrity = (connection.exec_driver_sql("PRAGMA integrity_check").scalar()
                         if engine.dialect.name == "sqlite" else None)
    finally:
        engine.dispose()
    return Verification(checked, missing, integrity)


def postgresql_binaries() -> Path | None:
    """The newest PostgreSQL server programs installed (initdb, pg_ctl), as Debian lays them out."""
    found = [path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    return max(found, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0, default=None)


# initdb refuses to run as root: then the cluster runs as the account Debian's package made.
CLUSTER_ACCOUNT = "postgres"


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster of the test's own, so that restarting it disturbs nobody else: made
    with initdb in a temporary folder, trust auth, on a free port of 127.0.0.1 (its socket in
    that folder), started and restarted with pg_ctl, stopped and deleted by :meth:`stop`. The
    machine's own PostgreSQL is never touched. Run by root, its programs run as
    ``CLUSTER_ACCOUNT``."""

    binaries: Path
    port: int = field(default_factory=free_port)
    folder: Path | None = None

    @property
    def url(self) -> str:
        """The URL of its maintenance database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        account = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam(CLUSTER_ACCOUNT)
            account = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        subprocess.run([str(self.binaries / program), *args], check=True, capture_output=True, timeout=120,
                       cwd=self.folder, **account)

    def _pg_ctl(self, action: str, *options: str) -> None:
        # Always with a log file: without one the server would keep pg_ctl's output pipe open.
        self._run("pg_ctl", action, "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"), "-w",
                  *options)

    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="annotator-postgresql-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, CLUSTER_ACCOUNT)
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self._pg_ctl("start", "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}")

    def create_database(self, name: str = "annotator") -> str:
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return sa.make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def restart(self) -> None:
        """Stop (fast: open connections are cut) and start again, with the options it started with."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if self.folder is None:
            return
        try:
            if (self.folder / "data" / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PostgresCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def wait_for_recovery(url: str, seconds: float = 30) -> None:
    """/healthz answers 200 again, polled while the last requests of an outage are worked off."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"the app did not recover within {seconds:g} s of the database restart"
        time.sleep(0.5)
