"""Autosave under concurrent annotators, through the production server (waitress) on 127.0.0.1.

For K simulated annotators (default 1, 8 and 32), each logged in with its own session (before
the clock starts: logging in hashes a password), every annotator saves spans and claim-type labels as fast as the server answers for a fixed time;
then the same clients call a trivial endpoint (/healthz) for the same time. Prints p50/p95/p99
latency, requests/s and the server process's CPU time per request (from /proc) for both, their
ratio, and checks that every acknowledged save is in the database with the value acknowledged.

Then whole annotations (two spans and the sentence's claim type) at --annotation-clients (8):
as three single requests, then as one batch request (POST /api/documents/ID/changes; skipped
against a server without it). Prints annotations/s, latency per annotation and the server
process's CPU time per annotation (from /proc), checked like the saves.
Also prints the annotation page's weight.

Before/after: run it with another checkout's Python (its venv's annotator is the server), e.g.
/tmp/pre14/.venv/bin/python bench/save_bench.py, then with this one's.

    python bench/save_bench.py [--seconds 10] [--clients 1 8 32] [--annotation-clients 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password"
ATTRIBUTION_LABELS = ("SOURCE", "CUE", "CONTENT", "SUPPLEMENT")
CLAIM_TYPES = ("event", "quantity", "causal", "prediction", "rule", "personal_experience", "opinion", "not_claim")


class Browser:
    """One annotator's HTTP client: a keep-alive connection, the session cookie, the CSRF token."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = SimpleCookie()
        self.token = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v.value}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(header)
        return response.status, data

    def login(self, username: str) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1).decode()
        form = urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
        status, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, f"login of {username} failed: {status}"
        _, home = self.request("GET", "/")
        self.token = re.search(rb'<meta name="csrf-token" content="([^"]+)"', home).group(1).decode()

    def json(self, method: str, path: str, payload: dict):
        return self.request(
            method, path, json.dumps(payload).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": self.token},
        )


@dataclass
class Annotator:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    spans: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # acknowledged id -> extent, label
    labels: dict[int, tuple[str, int]] = field(default_factory=dict)  # sentence id -> value, version


def _words(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]


def logged_in(port: int, annotators: list[Annotator]) -> dict[str, Browser]:
    """A logged-in client for each annotator, made before a phase's clock starts (logging in
    hashes the password: no part of a save's cost)."""
    browsers = {}
    for annotator in annotators:
        browsers[annotator.name] = Browser(port)
        browsers[annotator.name].login(annotator.name)
    return browsers


def annotate(annotator: Annotator, browser: Browser, document: dict, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    text, sentences = document["text"], document["sentences"]
    candidates = [(s, e, label) for s, e in _words(text) for label in ATTRIBUTION_LABELS]
    rng.shuffle(candidates)
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        if rng.random() < 0.5 and candidates:
            start, end, label = candidates.pop()
            payload = {"layer": "attribution", "label": label, "start": start, "end": end, "text": text[start:end]}
            status, body = browser.json("POST", f"/api/documents/{document['id']}/spans", payload)
            if status == 201:
                annotator.spans[json.loads(body)["id"]] = (start, end, label)
        else:
            sentence = rng.choice(sentences)
            value = rng.choice(CLAIM_TYPES)
            known = annotator.labels.get(sentence["id"])
            payload = {"value": value, "version": known[1] if known else None}
            status, body = browser.json("PUT", f"/api/sentences/{sentence['id']}/labels/claim_type", payload)
            if status == 200:
                saved = json.loads(body)
                annotator.labels[sentence["id"]] = (saved["value"], saved["version"])
        annotator.latencies.append(time.perf_counter() - started)
        if status >= 300:
            annotator.errors.append(f"{status} {body[:200]!r}")


def annotate_whole(annotator: Annotator, browser: Browser, document: dict, deadline: float, seed: int, batched: bool) -> None:
    """Annotations of two spans and a sentence's claim type, as three requests or one batch."""
    rng = random.Random(seed)
    text, sentences = document["text"], document["sentences"]
    candidates = [(s, e, label) for s, e in _words(text) for label in ATTRIBUTION_LABELS]
    rng.shuffle(candidates)
    url = f"/api/documents/{document['id']}"
    while time.perf_counter() < deadline and len(candidates) >= 2:
        spans = [candidates.pop(), candidates.pop()]
        sentence = rng.choice(sentences)["id"]
        known = annotator.labels.get(sentence)
        label = {"value": rng.choice(CLAIM_TYPES), "version": known[1] if known else None}
        bodies = [{"layer": "attribution", "label": lab, "start": s, "end": e, "text": text[s:e]} for s, e, lab in spans]
        started = time.perf_counter()
        if batched:
            changes = [{"op": "create_span", "key": f"n{i}", "body": body} for i, body in enumerate(bodies)]
            changes.append({"op": "set_label", "sentence_id": sentence, "layer": "claim_type", "body": label})
            status, body = browser.json("POST", f"{url}/changes", {"changes": changes})
            answers = [(r["status"], r["body"]) for r in json.loads(body)["results"]] if status == 200 else [(status, body)]
        else:
            answers = [browser.json("POST", f"{url}/spans", body) for body in bodies]
            answers.append(browser.json("PUT", f"/api/sentences/{sentence}/labels/claim_type", label))
            answers = [(status, json.loads(body) if status < 300 else body) for status, body in answers]
        annotator.latencies.append(time.perf_counter() - started)
        for (status, saved), extent in zip(answers, [*spans, None]):
            if status >= 300:
                annotator.errors.append(f"{status} {str(saved)[:200]}")
            elif extent is not None:
                annotator.spans[saved["id"]] = extent
            else:
                annotator.labels[sentence] = (saved["value"], saved["version"])


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def call_trivial(annotator: Annotator, port: int, deadline: float) -> None:
    browser = Browser(port)
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        status, body = browser.request("GET", "/healthz")
        annotator.latencies.append(time.perf_counter() - started)
        if status != 200:
            annotator.errors.append(f"{status} {body[:200]!r}")


def run_threads(target, annotators: list[Annotator], *args) -> float:
    threads = [threading.Thread(target=target, args=(a, *args)) for a in annotators]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def verify(engine: sa.Engine, annotators: list[Annotator]) -> tuple[int, int]:
    """Acknowledged saves versus what the database holds: (acknowledged, lost)."""
    from annotator.models import SentenceLabel, Span, User

    acknowledged = lost = 0
    with engine.connect() as connection:
        for annotator in annotators:
            user_id = connection.scalar(sa.select(User.id).where(User.username == annotator.name))
            spans = {
                row.id: (row.start, row.end, row.label)
                for row in connection.execute(sa.select(Span.id, Span.start, Span.end, Span.label).where(Span.user_id == user_id))
            }
            labels = {
                row.sentence_id: (row.value, row.version)
                for row in connection.execute(
                    sa.select(SentenceLabel.sentence_id, SentenceLabel.value, SentenceLabel.version).where(
                        SentenceLabel.user_id == user_id, SentenceLabel.layer == "claim_type"
                    )
                )
            }
            for span_id, extent in annotator.spans.items():
                acknowledged += 1
                lost += spans.get(span_id) != extent
            for sentence_id, saved in annotator.labels.items():
                acknowledged += 1
                lost += labels.get(sentence_id) != saved
    return acknowledged, lost


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--annotation-clients", type=int, default=8, help="annotators for the whole-annotation phases")
    parser.add_argument("--database-url", help="default: SQLite in a temporary instance folder (a PostgreSQL URL works too)")
    parser.add_argument("--threads", type=int, default=16, help="waitress worker threads")
    args = parser.parse_args()

    annotator_bin = str(Path(sys.executable).with_name("annotator"))
    with tempfile.TemporaryDirectory() as instance:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")} | {"ANNOTATOR_INSTANCE": instance}
        if args.database_url:
            env["ANNOTATOR_DATABASE_URL"] = args.database_url
        run = lambda *a, **kw: subprocess.run([annotator_bin, *a], env=env, check=True, capture_output=True, text=True, **kw)  # noqa: E731
        run("init")
        run("import", str(REPO / "seeds" / "000_a8e75834ae8b6b50.txt"))
        # Each phase gets annotators of its own, who start with nothing saved.
        names = [f"bench{n:03d}" for n in range(sum(args.clients) + 2 * args.annotation_clients)] + ["reader"]
        for name in names:
            run("users", "add", name, "--role", "annotator", "--password-stdin", input=PASSWORD + "\n")
        run("assign", *[f"--user={name}" for name in names])

        from annotator import create_app
        from annotator.app import db

        app = create_app({"INSTANCE_PATH": instance} | ({"SQLALCHEMY_DATABASE_URI": args.database_url} if args.database_url else {}))
        with app.app_context():
            engine = db.engine
            with engine.connect() as connection:
                row = connection.execute(sa.text("SELECT id, text FROM documents ORDER BY id LIMIT 1")).one()
                sentences = [{"id": r.id} for r in connection.execute(sa.text("SELECT id FROM sentences WHERE document_id = :d"), {"d": row.id})]
            document = {"id": row.id, "text": row.text, "sentences": sentences}

            port = free_port()
            server = subprocess.Popen([annotator_bin, "serve", "--port", str(port), "--threads", str(args.threads)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                for _ in range(100):
                    try:
                        http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                        break
                    except OSError:
                        time.sleep(0.1)
                print(f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · {engine.dialect.name} · waitress threads {args.threads} · {args.seconds:g} s per phase")
                print(f"{'K':>3} | {'saves/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'srv CPU ms':>10} | {'trivial/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'srv CPU ms':>10} | {'ratio':>5} | {'acked':>6} {'lost':>4} {'errors':>6}")
                for phase, k in enumerate(args.clients):
                    first = sum(args.clients[:phase])
                    savers = [Annotator(name) for name in names[first : first + k]]
                    browsers = logged_in(port, savers)
                    save_cpu = server_cpu_seconds(server.pid)
                    saving = run_threads(lambda a, d: annotate(a, browsers[a.name], document, d, hash(a.name) + k), savers, time.perf_counter() + args.seconds)
                    save_cpu = server_cpu_seconds(server.pid) - save_cpu
                    trivial = [Annotator(name) for name in names[first : first + k]]
                    trivial_cpu = server_cpu_seconds(server.pid)
                    calling = run_threads(lambda a, d: call_trivial(a, port, d), trivial, time.perf_counter() + args.seconds)
                    trivial_cpu = server_cpu_seconds(server.pid) - trivial_cpu
                    save_latencies = [x for a in savers for x in a.latencies]
                    trivial_latencies = [x for a in trivial for x in a.latencies]
                    save_rate, trivial_rate = len(save_latencies) / saving, len(trivial_latencies) / calling
                    acknowledged, lost = verify(engine, savers)
                    errors = sum(len(a.errors) for a in savers + trivial)
                    s50, s95, s99 = percentiles(save_latencies)
                    t50, _, t99 = percentiles(trivial_latencies)
                    save_ms, trivial_ms = save_cpu / len(save_latencies) * 1000, trivial_cpu / len(trivial_latencies) * 1000
                    print(f"{k:>3} | {save_rate:>8.0f} {s50:>7.1f} {s95:>7.1f} {s99:>7.1f} {save_ms:>10.2f} | {trivial_rate:>9.0f} {t50:>7.1f} {t99:>7.1f} {trivial_ms:>10.2f} | {save_rate / trivial_rate:>5.2f} | {acknowledged:>6} {lost:>4} {errors:>6}")
                    for annotator in savers + trivial:
                        for error in annotator.errors[:3]:
                            print(f"    {annotator.name}: {error}")

                k = args.annotation_clients
                print(f"whole annotations (two spans and a claim type) at K = {k}:")
                print(f"{'as':>14} | {'ann/s':>6} {'p50 ms':>7} {'p99 ms':>7} | {'requests/ann':>12} {'srv CPU ms/ann':>14} | {'acked':>6} {'lost':>4} {'errors':>6}")
                rates = {}
                for phase, batched in enumerate((False, True)):
                    first = sum(args.clients) + phase * k
                    annotators = [Annotator(name) for name in names[first : first + k]]
                    browsers = logged_in(port, annotators)
                    if batched and browsers[annotators[0].name].json("POST", f"/api/documents/{document['id']}/changes", {})[0] == 404:
                        print(f"{'one batch':>14} | not served by this server")
                        break
                    cpu = server_cpu_seconds(server.pid)
                    elapsed = run_threads(
                        lambda a, d: annotate_whole(a, browsers[a.name], document, d, hash(a.name), batched),
                        annotators, time.perf_counter() + args.seconds)
                    cpu = server_cpu_seconds(server.pid) - cpu
                    latencies = [x for a in annotators for x in a.latencies]
                    acknowledged, lost = verify(engine, annotators)
                    rates[batched] = len(latencies) / elapsed
                    a50, _, a99 = percentiles(latencies)
                    print(f"{'one batch' if batched else 'three requests':>14} | {rates[batched]:>6.0f} {a50:>7.1f} {a99:>7.1f} | "
                          f"{1 if batched else 3:>12} {cpu / len(latencies) * 1000:>14.2f} | {acknowledged:>6} {lost:>4} "
                          f"{sum(len(a.errors) for a in annotators):>6}")
                    for annotator in annotators:
                        for error in annotator.errors[:3]:
                            print(f"    {annotator.name}: {error}")
                if len(rates) == 2:
                    print(f"ratio one batch / three requests: {rates[True] / rates[False]:.2f} annotations/s")

                browser = Browser(port)
                browser.login("reader")  # a fresh annotator: the page as it first loads
                _, page = browser.request("GET", f"/documents/{document['id']}")
                assets = re.findall(rb'(?:src|href)="(/static/[^"]+)"', page)
                weights = {"html": len(page)} | {a.decode(): len(browser.request("GET", a.decode())[1]) for a in assets}
                print("annotate page weight (uncompressed): " + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in weights.items()) + f"; total {sum(weights.values()) / 1024:.1f} KB")
            finally:
                server.terminate()
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
