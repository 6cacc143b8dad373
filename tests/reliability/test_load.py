"""Nothing acknowledged is lost: 32 simulated annotators save through the production server
(a process of its own) on SQLite and on PostgreSQL; see harness.py for what they do and what
is checked. No 5xx is ever answered, and every acknowledged save is stored as acknowledged:
under plain load, across a SIGKILL and restart of the server, across a restart of PostgreSQL
(a cluster of the test's own, harness.PostgresCluster: the machine's server, which other test
runs may be using, is never stopped), and through the deployment docs/deploy.md describes
(nginx → gunicorn → PostgreSQL). Kept short here (CI); bench/load_bench.py runs the same for
longer and with more annotators.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
import sqlalchemy as sa

from annotator.services.users import MAX_FAILURES_PER_ADDRESS

from .harness import (
    NGINX, PostgresCluster, Proxy, Server, postgresql_binaries, prepare, run_load, usernames, verify, wait_for_recovery,
)

ANNOTATORS = 32
NAMES = usernames(ANNOTATORS)


def _database(database: str, tmp_path, postgres_server) -> str:
    if database == "sqlite":
        return f"sqlite:///{tmp_path / 'annotator.sqlite3'}"
    if reason := postgres_server.available():
        pytest.skip(reason)
    return postgres_server.create_database()


def _serve(url: str, tmp_path, **server_options):
    """A migrated instance of the database at ``url`` with the seed article assigned to 32
    annotators, served."""
    running = Server(url, tmp_path / "instance", **server_options)
    running.article = prepare(url, running.instance, NAMES)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path, postgres_server):
    yield from _serve(_database(request.param, tmp_path, postgres_server), tmp_path)


@pytest.fixture
def own_postgresql():
    """A PostgreSQL cluster of the test's own, to restart (harness.PostgresCluster)."""
    binaries = postgresql_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's server programs are not installed (Debian's postgresql package)")
    with PostgresCluster(binaries) as cluster:
        yield cluster


@pytest.fixture
def postgres_serving(tmp_path, own_postgresql):
    yield from _serve(own_postgresql.create_database(), tmp_path)


def _check(server: Server, ledgers, *, unavailable_allowed: bool = False) -> None:
    assert not [error for ledger in ledgers for error in ledger.server_errors], "5xx answered"
    if not unavailable_allowed:
        assert sum(ledger.unavailable for ledger in ledgers) == 0, "503 answered"
    assert not [failure for ledger in ledgers for failure in ledger.failures]
    assert sum(ledger.acknowledged for ledger in ledgers) > ANNOTATORS  # the load did run
    result = verify(server.database_url, ledgers)
    assert result.checked > ANNOTATORS
    assert result.missing == []
    assert result.integrity in (None, "ok")


def test_32_annotators_lose_nothing(server):
    ledgers, _ = run_load(server.url, server.article, NAMES, seconds=4)
    assert sum(ledger.lost for ledger in ledgers) == 0
    _check(server, ledgers)


def test_a_killed_server_loses_nothing_it_acknowledged(server):
    def kill_and_restart():
        time.sleep(1.5)
        server.kill()
        time.sleep(0.5)
        server.start()

    ledgers, _ = run_load(server.url, server.article, NAMES, seconds=2, during=kill_and_restart)
    assert sum(ledger.lost for ledger in ledgers) > 0  # the kill did interrupt saves
    _check(server, ledgers)


def _started_at(url: str):
    """When the PostgreSQL server at ``url`` last started."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar()
    finally:
        engine.dispose()


def test_postgresql_restarted_under_load(postgres_serving, own_postgresql, postgres_server):
    """The database goes away and comes back while annotators save: requests meanwhile get 503
    JSON (nothing saved, sent again), never a 500; the app recovers without a restart. The
    cluster restarted is the test's own: the machine's, which other test runs may be using,
    keeps running."""
    server = postgres_serving
    machine = None if postgres_server.available() else postgres_server.url.render_as_string(hide_password=False)
    machine_started = _started_at(machine) if machine else None
    own_started = _started_at(own_postgresql.url)

    def restart_database():
        time.sleep(1)
        own_postgresql.restart()

    ledgers, _ = run_load(server.url, server.article, NAMES, seconds=3, during=restart_database)
    assert _started_at(own_postgresql.url) > own_started
    assert (_started_at(machine) if machine else None) == machine_started, "the machine's PostgreSQL was restarted"
    assert sum(ledger.unavailable for ledger in ledgers) > 0  # the outage was seen
    _check(server, ledgers, unavailable_allowed=True)
    wait_for_recovery(server.url)


@pytest.fixture
def deployment(tmp_path, postgres_server):
    """docs/deploy.md's stack: its nginx site (TLS, with a certificate made for the test) in
    front of gunicorn (2 workers × 8 threads, ANNOTATOR_BEHIND_HTTPS_PROXY=1) on PostgreSQL."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian's nginx-light; .ci/run installs it)")
    for server in _serve(_database("postgresql", tmp_path, postgres_server), tmp_path, kind="gunicorn", workers=2,
                         threads=8, environment={"ANNOTATOR_BEHIND_HTTPS_PROXY": "1"}):
        proxy = Proxy(server, tmp_path / "nginx")
        proxy.start()
        try:
            yield server, proxy
        finally:
            proxy.stop()


def _failed_login(proxy: Proxy, username: str, forwarded_for: str) -> int:
    http = requests.Session()
    http.trust_env, http.verify = False, proxy.verify
    http.headers["Referer"] = f"{proxy.url}/login"
    page = http.get(f"{proxy.url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return http.post(f"{proxy.url}/login", data={"username": username, "password": "wrong", "csrf_token": token},
                     headers={"X-Forwarded-For": forwarded_for}, timeout=30, allow_redirects=False).status_code


def test_the_documented_deployment_loses_nothing(deployment):
    server, proxy = deployment
    ledgers, _ = run_load(proxy.url, server.article, NAMES, seconds=4, verify=proxy.verify)
    assert sum(ledger.lost for ledger in ledgers) == 0
    _check(server, ledgers)

    # Plain HTTP is sent to HTTPS; the session cookie is HTTPS-only and not readable by scripts.
    redirect = requests.get(f"http://127.0.0.1:{proxy.http_port}/login", allow_redirects=False, timeout=30)
    assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://")
    login = requests.get(f"{proxy.url}/login", verify=proxy.verify, timeout=30)
    cookie = login.headers["Set-Cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie

    # nginx replaces the client's own X-Forwarded-For, so a password guesser cannot pose as a
    # new address each time to dodge the per-address limit (users.MAX_FAILURES_PER_ADDRESS).
    statuses = [_failed_login(proxy, f"nobody{n}", f"198.51.100.{n}") for n in range(MAX_FAILURES_PER_ADDRESS + 1)]
    assert statuses[:-1] == [401] * MAX_FAILURES_PER_ADDRESS and statuses[-1] == 429
