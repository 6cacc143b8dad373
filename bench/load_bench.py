"""Simulated annotators against the production server for a long run, with faults: the
longer companion of tests/reliability (same harness, tests/reliability/harness.py).

Each scenario serves a fresh instance (SQLite, or a throwaway PostgreSQL database), logs in
N annotators and lets them save claim types and spans, either as fast as the server answers
(think 0) or pausing like a person (think T: exponential pauses of mean T seconds); faults
kill the server with SIGKILL a third of the way in and start it again, or restart
PostgreSQL (a cluster of the scenario's own, never the machine's: harness.PostgresCluster);
the deploy scenarios go through docs/deploy.md's nginx site with TLS. Afterwards every acknowledged save is looked up in the database. Prints, per
scenario: saves/s, latency percentiles, 5xx, 503 and unanswered requests, acknowledged
saves checked and missing, SQLite's integrity check, the server's CPU time per save (all its
processes) and the share of a core the load generator's processes used; then the ratios of scenarios run
side by side.

    python bench/load_bench.py [--seconds 60] [--scenario NAME ...] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import POSTGRES_URL, PostgresServer  # noqa: E402
from tests.reliability.harness import (  # noqa: E402
    NGINX, PostgresCluster, Proxy, Server, postgresql_binaries, prepare, run_load, usernames, verify, wait_for_recovery,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    database: str  # sqlite | postgresql
    server: str = "waitress"  # waitress | gunicorn
    workers: int = 1
    threads: int = 16
    proxy: bool = False
    annotators: int = 32
    think: float = 0.0
    fault: str | None = None  # kill | restart-database


SCENARIOS = [
    Scenario("sqlite-waitress-32", "sqlite"),
    Scenario("postgresql-waitress-32", "postgresql"),
    Scenario("postgresql-gunicorn-32", "postgresql", "gunicorn", workers=2, threads=8),
    Scenario("sqlite-gunicorn-32", "sqlite", "gunicorn", workers=2, threads=8),
    Scenario("deploy-32", "postgresql", "gunicorn", workers=2, threads=8, proxy=True),
    Scenario("deploy-100", "postgresql", "gunicorn", workers=2, threads=8, proxy=True, annotators=100),
    Scenario("deploy-100-paced", "postgresql", "gunicorn", workers=2, threads=8, proxy=True, annotators=100,
             think=2.0),
    Scenario("sqlite-waitress-32-kill", "sqlite", fault="kill"),
    Scenario("postgresql-gunicorn-32-kill", "postgresql", "gunicorn", workers=2, threads=8, fault="kill"),
    Scenario("postgresql-waitress-32-restart", "postgresql", fault="restart-database"),
]
# Ratios of scenarios measured side by side: (what, numerator, denominator).
RATIOS = [
    ("PostgreSQL / SQLite, waitress", "postgresql-waitress-32", "sqlite-waitress-32"),
    ("gunicorn 2×8 / waitress, PostgreSQL", "postgresql-gunicorn-32", "postgresql-waitress-32"),
    ("gunicorn 2×8 / waitress, SQLite", "sqlite-gunicorn-32", "sqlite-waitress-32"),
    ("through nginx and TLS / direct, gunicorn on PostgreSQL", "deploy-32", "postgresql-gunicorn-32"),
    ("100 / 32 annotators, nginx + gunicorn + PostgreSQL", "deploy-100", "deploy-32"),
]


def _server_cpu_seconds(group: int) -> float:
    """User + system CPU time of every live process in the process group (the server and its
    workers), from /proc."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; fields[11], [12] are utime, stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _client_cpu_seconds() -> float:
    """CPU time of this process and its finished children (the load generator's processes)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class CpuMeter:
    """Samples a server's CPU time while it runs, so that a killed server's share is kept;
    counted from start() (after the logins, whose password hashing is not a save's cost)."""

    def __init__(self, server: Server):
        self.server, self.total, self.last, self.group = server, 0.0, 0.0, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.group = self.server.process.pid
        self.total = -_server_cpu_seconds(self.group)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            pid = self.server.process.pid
            if pid != self.group:  # restarted: a new process group
                self.total += self.last
                self.group, self.last = pid, 0.0
            self.last = max(self.last, _server_cpu_seconds(self.group))

    def finish(self) -> float:
        self.stop.set()
        self.thread.join()
        return self.total + self.last


def run(scenario: Scenario, seconds: float, postgres: PostgresServer, folder: Path) -> dict:
    # The database restarted is a cluster of the scenario's own: the machine's may serve others.
    own = PostgresCluster(postgresql_binaries()) if scenario.fault == "restart-database" else None
    if scenario.database == "sqlite":
        url = f"sqlite:///{folder / 'annotator.sqlite3'}"
    elif own is not None:
        own.start()
        url = own.create_database()
    else:
        url = postgres.create_database()
    names = usernames(scenario.annotators)
    server = Server(url, folder / "instance", kind=scenario.server, workers=scenario.workers,
                    threads=scenario.threads,
                    environment={"ANNOTATOR_BEHIND_HTTPS_PROXY": "1"} if scenario.proxy else {})
    article = prepare(url, server.instance, names)
    server.start()
    proxy = Proxy(server, folder / "nginx") if scenario.proxy else None
    if proxy:
        proxy.start()

    meter = CpuMeter(server)

    def as_the_load_starts():
        meter.start()
        if scenario.fault is None:
            return
        time.sleep(seconds / 3)
        if scenario.fault == "kill":
            server.kill()
            time.sleep(0.5)
            server.start()
        elif scenario.fault == "restart-database":
            own.restart()

    try:
        client_cpu = _client_cpu_seconds()
        ledgers, elapsed = run_load((proxy or server).url, article, names, seconds, during=as_the_load_starts,
                                    think=scenario.think, verify=proxy.verify if proxy else True)
        server_cpu = meter.finish()
        client_cpu = _client_cpu_seconds() - client_cpu
        if own is not None:
            wait_for_recovery(server.url)
        result = verify(url, ledgers)
    finally:
        if proxy:
            proxy.stop()
        server.stop()
        if own is not None:
            own.stop()
    latencies = sorted(x for ledger in ledgers for x in ledger.latencies)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    acknowledged = sum(ledger.acknowledged for ledger in ledgers)
    failures = [failure for ledger in ledgers for failure in ledger.failures]
    return {
        "scenario": scenario, "elapsed": elapsed, "acknowledged": acknowledged, "rate": acknowledged / elapsed,
        "p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000,
        "server_errors": sum(len(ledger.server_errors) for ledger in ledgers),
        "unavailable": sum(ledger.unavailable for ledger in ledgers),
        "unanswered": sum(ledger.lost for ledger in ledgers), "failures": failures,
        "checked": result.checked, "missing": result.missing, "integrity": result.integrity or "-",
        "cpu_per_save": server_cpu / max(acknowledged, 1) * 1000, "client_cpu": client_cpu / elapsed,
    }


def _describe(scenario: Scenario) -> str:
    server = "waitress 16 threads" if scenario.server == "waitress" else \
        f"gunicorn {scenario.workers}×{scenario.threads} gthread"
    parts = [scenario.database, server] + (["nginx with TLS (docs/deploy.md's site)"] if scenario.proxy else []) + \
        [f"{scenario.annotators} annotators", f"think {scenario.think:g} s" if scenario.think else "no think time"]
    return ", ".join(parts + ([f"fault: {scenario.fault}"] if scenario.fault else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of each scenario's load")
    parser.add_argument("--scenario", nargs="+", choices=[s.name for s in SCENARIOS],
                        help="scenarios to run (default: all)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL,
                        help="a server where throwaway databases may be created and dropped")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    if NGINX is None and any(s.proxy for s in chosen):
        sys.exit("nginx is not installed: apt-get install nginx-light (or leave out the deploy scenarios)")

    postgres = PostgresServer(args.postgres_url)
    print(f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
          f"{args.seconds:g} s per scenario · load generator: forked client processes on the same cores")
    header = (f"{'scenario':<31} {'saves/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'5xx':>4} {'503':>4} "
              f"{'unans':>5} {'acked':>6} {'checked':>7} {'missing':>7} {'integrity':>9} {'srv ms/save':>11} "
              f"{'client':>6}")
    print(header)
    results = {}
    try:
        for scenario in chosen:
            with tempfile.TemporaryDirectory(prefix="load-bench-") as folder:
                r = results[scenario.name] = run(scenario, args.seconds, postgres, Path(folder))
            print(f"{scenario.name:<31} {r['rate']:>7.0f} {r['p50']:>7.1f} {r['p95']:>7.1f} {r['p99']:>7.1f} "
                  f"{r['server_errors']:>4} {r['unavailable']:>4} {r['unanswered']:>5} {r['acknowledged']:>6} "
                  f"{r['checked']:>7} {len(r['missing']):>7} {r['integrity']:>9} {r['cpu_per_save']:>11.2f} "
                  f"{r['client_cpu']:>6.0%}", flush=True)
            for line in r["missing"][:5] + r["failures"][:5]:
                print(f"    {line}")
    finally:
        postgres.drop_all()
    print()
    for scenario in chosen:
        print(f"{scenario.name}: {_describe(scenario)}")
    print()
    for what, numerator, denominator in RATIOS:
        if numerator in results and denominator in results:
            n, d = results[numerator], results[denominator]
            print(f"{what}: saves/s {n['rate'] / d['rate']:.2f}, p99 {n['p99'] / d['p99']:.2f}, "
                  f"server CPU per save {n['cpu_per_save'] / d['cpu_per_save']:.2f}")
    lost = sum(len(r["missing"]) for r in results.values())
    errors = sum(r["server_errors"] for r in results.values())
    print(f"\nacknowledged saves missing: {lost}; 5xx other than 503: {errors}")
    sys.exit(1 if lost or errors or any(r["integrity"] not in ("ok", "-") for r in results.values()) else 0)


if __name__ == "__main__":
    main()
