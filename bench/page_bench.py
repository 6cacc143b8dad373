"""The annotation page on large documents, in Debian's Chromium: weight, time to text, j/k.

For documents of 500, 2,000, 5,000 and 20,000 sentences (synthetic news prose, paragraphs of
one to four sentences), opened by an annotator with nothing saved and by one with about two
spans per sentence (a third of the sentences with an attribution, half with a claim type):

- **bytes**: what the browser transferred for the page (the HTML with its data block, the
  module and the stylesheets; a new browser context, so nothing cached; waitress does not
  compress, so this is the uncompressed size), and the same gzipped (as a compressing proxy
  would send it);
- **server**: the time to the first byte of the HTML (the server reading the annotations and
  rendering the page), part of the next figure;
- **text visible**: from the start of navigation to the first frame painted after the page
  script has shown the article (`#annotate[data-ready]` set, then the next animation frame
  and the task after it, i.e. once that frame is painted): server, transfer, parsing and the
  first render; server and text visible are the medians of `--loads` loads;
- **j / k**: the time from a real key press (the keydown event's timestamp) to the task after
  the next animation frame, i.e. until the page has re-rendered and the frame with the new
  focus is painted; median and 95th percentile over `--presses` presses of `j`, then as many
  of `k`, from the middle of the document.

The server is `annotator serve` (waitress) on a temporary SQLite instance; the documents are
imported with the sentence limit lifted (ANNOTATOR_MAX_SENTENCES). Targets: a 2,000-sentence
document fully usable, text visible < 0.5 s and j/k < 50 ms.

    python bench/page_bench.py [--sizes 500 2000 5000 20000] [--presses 100] [--loads 3]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("ANNOTATOR_CHROMIUM", "/usr/lib/chromium/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
PASSWORD = "benchmark password"
USERS = {"plain": 0, "marked": 2}  # annotator: spans per sentence

PEOPLE = ["Aslam Ghauri, the spokesperson for the party", "The interior minister", "José Núñez, a lawyer in Bogotá",
          "A source close to the negotiators", "The city council", "Police in Łódź", "Witnesses at the scene",
          "The opposition leader", "Analysts at the central bank", "Residents of the northern districts"]
CUES = ["said", "told reporters", "confirmed", "denied", "announced", "estimated", "warned", "claimed"]
CONTENTS = ["that more than 1,200 people had been evacuated from the coast", "that prices had risen for the third month in a row",
            "the plan would cost four billion over five years", "that the talks would resume after the holiday",
            "that the situation in the capital remained calm but tense", "a new inquiry into the collapse of the bridge",
            "that the vote had been postponed until further notice", "the decision was “unacceptable and reckless”"]
SCENES = ["The streets were empty by nightfall", "Hundreds gathered outside the parliament building",
          "The storm cut power to thousands of homes — some for days", "Trading resumed on Monday after a brief pause",
          "Officials have not published the full report", "The brutal crackdown drew condemnation from abroad",
          "Schools in the region will stay closed", "The deal is the largest of its kind in a decade"]


def sentence(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"{rng.choice(PEOPLE)} {rng.choice(CUES)} {rng.choice(CONTENTS)}."
    return f"{rng.choice(SCENES)}."


def article(rng: random.Random, sentences: int, title: str) -> str:
    paragraphs, left = [], sentences
    while left:
        n = min(left, rng.randint(1, 4))
        paragraphs.append(" ".join(sentence(rng) for _ in range(n)))
        left -= n
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\w+", text[start:end])]


def add_annotations(session, user, document) -> None:
    """About two spans per sentence: a cue and its content linked into an attribution (every
    third sentence), a source and loaded language, or overlapping supplement and loaded
    language; a claim type on every other sentence."""
    from annotator.models import Attribution, AttributionPart, SentenceLabel, Span

    text = document.text
    for i, st in enumerate(document.sentences):
        ws = words(text, st.start, st.end)
        if len(ws) < 6:
            continue

        def span(layer, label, first, last, st=st, ws=ws):  # from word `first` to word `last`
            start, end = ws[first][0], ws[last][1]
            return Span(user_id=user.id, document_id=document.id, sentence_id=st.id, layer=layer, label=label,
                        start=start, end=end, text=text[start:end], attributes={})
        if i % 3 == 0:
            cue, content = span("attribution", "CUE", 2, 2), span("attribution", "CONTENT", 4, len(ws) - 1)
            session.add_all([cue, content])
            session.flush()
            attribution = Attribution(user_id=user.id, document_id=document.id, relation="attribution", attributes={})
            attribution.parts = [AttributionPart(span_id=cue.id, role="cue"), AttributionPart(span_id=content.id, role="content")]
            session.add(attribution)
        elif i % 3 == 1:
            session.add_all([span("attribution", "SOURCE", 0, 1), span("loaded_language", "LOADED_LANGUAGE", 4, 4)])
        else:
            session.add_all([span("attribution", "SUPPLEMENT", 1, 3), span("loaded_language", "LOADED_LANGUAGE", 2, 2)])
        if i % 2 == 0:
            session.add(SentenceLabel(user_id=user.id, sentence_id=st.id, layer="claim_type", value="event"))


def set_up(instance: Path, sizes: list[int]) -> tuple[dict, dict[int, int]]:
    """A fresh instance with one document per size; returns the server's environment and {size: document id}."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
    env |= {"ANNOTATOR_INSTANCE": str(instance), "ANNOTATOR_MAX_SENTENCES": "1000000",
            "ANNOTATOR_MAX_IMPORT_BYTES": str(1 << 30)}
    annotator_bin = str(Path(sys.executable).with_name("annotator"))
    def run(*args, **kw):
        return subprocess.run([annotator_bin, *args], env=env, check=True, capture_output=True, text=True, **kw)
    run("init")

    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from annotator.db import configure_engine
    from annotator.ingest import read_paths
    from annotator.models import Document, User
    from annotator.services import imports, projects
    from annotator.services.permissions import SYSTEM

    rng = random.Random(20261201)
    folder = instance / "articles"
    folder.mkdir()
    for size in sizes:
        (folder / f"bench_{size:05d}.txt").write_text(article(rng, size, f"Bench article of {size} sentences"), encoding="utf-8")
    engine = configure_engine(sa.create_engine(f"sqlite:///{instance / 'annotator.sqlite3'}"))
    with Session(engine) as session:
        project = projects.get_or_create_project(session, SYSTEM, "default")
        imports.import_articles(session, SYSTEM, project.id, read_paths([folder], max_bytes=1 << 30, max_sentences=1_000_000))
    for name in USERS:
        run("users", "add", name, "--role", "annotator", "--password-stdin", input=PASSWORD + "\n")
    run("assign", "--project", "default", *[f"--user={name}" for name in USERS])
    ids = {}
    with Session(engine) as session:
        marked = session.scalar(sa.select(User).where(User.username == "marked"))
        for document in session.scalars(sa.select(Document)):
            ids[len(document.sentences)] = document.id
            add_annotations(session, marked, document)
        session.commit()
    engine.dispose()
    return env, ids


# Installed before the page's own scripts: times the first painted frame after the page is
# ready, and each key press until the frame after its render is painted.
TIMING = """
window.__bench = { keys: [] };
const afterPaint = f => requestAnimationFrame(() => setTimeout(f, 0));
new MutationObserver((_, observer) => {
  if (document.getElementById('annotate')?.dataset.ready !== 'true') return;
  observer.disconnect();
  afterPaint(() => { window.__bench.visible = performance.now(); });
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
addEventListener('keydown', e => { const t0 = e.timeStamp; afterPaint(() => window.__bench.keys.push(performance.now() - t0)); }, true);
"""


def measure(browser, url: str, user: str, document_id: int, sentences: int, presses: int, loads: int) -> dict:
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.add_init_script(TIMING)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    visible, server = [], []
    for load in range(loads):
        if load:
            page.goto("/")  # each load a new navigation, not a reload (which would keep the focus)
        page.goto(f"/documents/{document_id}#s{sentences // 2}", wait_until="load", timeout=120_000)
        page.wait_for_function("() => window.__bench.visible", timeout=120_000)
        visible.append(page.evaluate("() => window.__bench.visible"))
        entries = page.evaluate("""() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
          .filter(e => e.name.includes('/documents/') || e.name.includes('/static/'))
          .map(e => ({ name: e.name, size: e.transferSize, server: e.responseStart - e.requestStart }))""")
        server.append(entries[0]["server"])
        if not load:  # the first load: nothing cached
            transferred = sum(e["size"] for e in entries)
            gzipped = sum(len(gzip.compress(page.request.get(e["name"]).body())) for e in entries)
    focus = page.evaluate("() => document.querySelector('#doc .sent.cur').dataset.i")
    assert int(focus) == sentences // 2, focus
    times = {}
    for key in "jk":
        page.evaluate("() => { window.__bench.keys = []; }")
        for n in range(1, presses + 1):
            page.keyboard.press(key)
            page.wait_for_function(f"() => window.__bench.keys.length >= {n}", timeout=60_000)
        times[key] = page.evaluate("() => window.__bench.keys")
    assert int(page.evaluate("() => document.querySelector('#doc .sent.cur').dataset.i")) == sentences // 2
    context.close()
    return {"bytes": transferred, "gzip": gzipped, "server": statistics.median(server), "visible": statistics.median(visible), **times}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000, 20000])
    parser.add_argument("--presses", type=int, default=100, help="presses of j, then of k, per document")
    parser.add_argument("--loads", type=int, default=3, help="loads of each page (the median is printed)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        started = time.perf_counter()
        env, ids = set_up(instance, args.sizes)
        print(f"set-up (import, annotations): {time.perf_counter() - started:.0f} s; documents by sentences: {sorted(ids)}")
        port = free_port()
        server = subprocess.Popen([str(Path(sys.executable).with_name("annotator")), "serve", "--port", str(port), "--threads", "4"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
                print(f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
                      f"Chromium {browser.version} (headless) · viewport 1280×900 · median of {args.loads} loads · "
                      f"{args.presses} presses of j, then of k")
                print(f"{'sentences':>9} {'spans':>6} | {'bytes':>11} {'gzip':>9} | {'server ms':>9} {'text visible ms':>15} | "
                      f"{'j p50 ms':>8} {'j p95 ms':>8} | {'k p50 ms':>8} {'k p95 ms':>8}")
                for size in sorted(ids):
                    for user, per_sentence in USERS.items():
                        r = measure(browser, f"http://127.0.0.1:{port}", user, ids[size], size, args.presses, args.loads)
                        spans = f"~{per_sentence}/s" if per_sentence else "0"
                        print(f"{size:>9,} {spans:>6} | {r['bytes']:>11,} {r['gzip']:>9,} | {r['server']:>9.0f} {r['visible']:>15.0f} | "
                              f"{statistics.median(r['j']):>8.1f} {p95(r['j']):>8.1f} | "
                              f"{statistics.median(r['k']):>8.1f} {p95(r['k']):>8.1f}", flush=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
