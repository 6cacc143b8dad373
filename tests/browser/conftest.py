"""Browser tests: a live annotator on a temporary SQLite instance, driven by Debian's Chromium.

The instance is set up as an operator would: the real `annotator` command migrates it,
imports seeds/ (and the XSS probe article), creates annotators and assigns them. The app is
served by waitress in a background thread on a free port. Chromium is Debian's
(/usr/lib/chromium/chromium, or ANNOTATOR_CHROMIUM); nothing is ever downloaded. Without it
the tests skip, and CI fails on any skip.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
CHROMIUM = os.environ.get("ANNOTATOR_CHROMIUM", "/usr/lib/chromium/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-test-password"
SEED_TITLE = "Hamas top leader telephones key Pakistani leader and seek help against Israel"
XSS_TITLE = "Markup probe <b>bold</b> <script>window.__xss=1</script>"
XSS_STRINGS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '<a href="javascript:window.__xss=1">javascript:window.__xss=1</a>',
)
XSS_ARTICLE = f"""{XSS_TITLE}

Residents 🎉 said {XSS_STRINGS[0]} was pinned to the notice board.

Another post read {XSS_STRINGS[1]} and nothing else happened.

A link {XSS_STRINGS[2]} was shared, as reported by the 𝒳 Gazette.
"""
TIMEOUT = 20_000  # ms: saves go through a real server and SQLite with synchronous=FULL


@dataclass
class LiveServer:
    url: str
    instance: Path
    database_url: str
    env: dict

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run the real `annotator` command on this instance."""
        result = subprocess.run(
            [sys.executable, "-c", "from annotator.cli import main; main()", *args],
            env=self.env, input=stdin, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, f"annotator {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.database_url)

    def rows(self, query: str, **params) -> list[dict]:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(sa.text(query), params)]
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    from waitress.server import create_server

    from annotator import create_app

    instance = tmp_path_factory.mktemp("browser-instance")
    database_url = f"sqlite:///{instance / 'annotator.sqlite3'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANNOTATOR_")}
    env |= {
        "ANNOTATOR_INSTANCE": str(instance),
        "ANNOTATOR_DATABASE_URL": database_url,
        "ANNOTATOR_SECRET_KEY": "browser-test-secret",
    }
    probe = tmp_path_factory.mktemp("probe") / "xss_probe.txt"
    probe.write_text(XSS_ARTICLE, encoding="utf-8")

    server = LiveServer(url="", instance=instance, database_url=database_url, env=env)
    server.cli("init")
    server.cli("import", str(SEEDS), str(probe), "--project", "default")

    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "browser-test-secret"})
    wsgi = create_server(app, host="127.0.0.1", port=0, threads=8, ident="annotator-test")
    server.url = f"http://127.0.0.1:{wsgi.effective_port}"
    thread = threading.Thread(target=wsgi.run, name="waitress", daemon=True)
    thread.start()
    yield server
    wsgi.close()
    thread.join(timeout=10)


_names = itertools.count(1)


@pytest.fixture
def make_annotator(live_server: LiveServer):
    """Create a fresh annotator (real CLI), assigned every document of the default project."""

    def make(prefix: str = "annotator") -> str:
        name = f"{prefix}{next(_names)}"
        live_server.cli("users", "add", name, "--role", "annotator", "--password-stdin", stdin=PASSWORD + "\n")
        live_server.cli("assign", "--project", "default", "--user", name)
        return name

    return make


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium); "
                    "the browser tests never download one")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_context(chromium, live_server):
    """Browser contexts (each its own cookies: its own login), closed after the test."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1360, "height": 900})
        context = chromium.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


# -- helpers the tests share ------------------------------------------------------------------


def log_in(context, username: str):
    """A new page of ``context``, logged in as ``username``, on the home page."""
    from playwright.sync_api import expect

    page = context.new_page()
    # Uncaught exceptions, and console errors (a Content-Security-Policy violation is one).
    page.page_errors, page.console_errors = [], []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Your documents")).to_be_visible()
    return page


def open_document(page, title: str):
    """Follow the home page's link to the document and wait until the page script is ready."""
    from playwright.sync_api import expect

    page.get_by_role("link", name=title, exact=True).click()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    page.console_errors.clear()  # the other pages' favicon.ico 404s are not this page's


def cut_api(page) -> None:
    """Every request to /api/ fails from now on as if the network were down (until
    ``page.unroute("**/api/**")``). Returns once a request from the page is seen to fail: under
    load, a route could take effect after the next request had gone out (a saved change where
    the test expected it queued)."""
    page.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    for _ in range(100):
        if page.evaluate("() => fetch('/api/network-probe').then(() => false, () => true)"):
            return
        page.wait_for_timeout(50)
    raise AssertionError("requests to /api/ still reach the server")


def wait_saved(page) -> None:
    from playwright.sync_api import expect

    save = page.locator("#save-state")
    expect(save).to_have_attribute("data-pending", "0", timeout=TIMEOUT)
    expect(save).to_have_text("Saved", timeout=TIMEOUT)


_FIND_TEXT = """([text, nth]) => {
  const doc = document.querySelector('#doc');
  let at = -1;
  for (let i = 0; i <= nth; i++) { at = doc.textContent.indexOf(text, at + 1); if (at < 0) return null; }
  const point = offset => {  // the text node holding the character at offset
    const walker = document.createTreeWalker(doc, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (offset < seen + node.data.length) return [node, offset - seen];
      seen += node.data.length;
    }
    return null;
  };
  const rect = offset => {
    const [node, index] = point(offset);
    const range = document.createRange();
    range.setStart(node, index);
    range.setEnd(node, index + 1);
    return range.getBoundingClientRect();
  };
  point(at)[0].parentElement.scrollIntoView({block: 'center'});
  const first = rect(at), last = rect(at + text.length - 1);
  return {x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2};
}"""


def select_text(page, text: str, nth: int = 0) -> None:
    """Drag the mouse over ``text`` (its nth occurrence) in the article, as a user would."""
    box = page.evaluate(_FIND_TEXT, [text, nth])
    assert box is not None, f"{text!r} is not in the article"
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, (box["y1"] + box["y2"]) / 2, steps=3)
    page.mouse.move(box["x2"], box["y2"], steps=3)
    page.mouse.up()


def document_row(live_server: LiveServer, title: str) -> dict:
    return live_server.rows("SELECT id, text FROM documents WHERE title = :title", title=title)[0]


def user_rows(live_server: LiveServer, table: str, username: str) -> list[dict]:
    return live_server.rows(
        f"SELECT t.* FROM {table} t JOIN users u ON u.id = t.user_id WHERE u.username = :name ORDER BY t.id",
        name=username,
    )
