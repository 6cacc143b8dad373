"""Adjudicating attributions, before and after issue 17, in Debian's Chromium: the keys, clicks
and seconds a supervisor needs to reach a complete gold.

Three annotators mark one article of 14 attributions through the annotation services, as the
page saves them, disagreeing as annotators do: a content boundary, a missing source or
content, a longer cue, a second piece of content, an attribute two choose and one does not,
three-way ties on a content boundary and on an attribute, an attribution only one of them
saw. Each case names the attribution the supervisor wants in gold (the majority where there
is one, else one annotator's). A supervisor then reaches that gold twice, on two copies of
the document:

- **before**: the old way. "Start adjudicating", then per attribution the span **Accept**
  buttons (accepting a cue starts an attribution and the parts accepted after it join it),
  the attribution's **+** buttons for a part that did not join, and a click on each of its
  attribute radios;
- **after**: **Pre-fill from proposal** (whole attributions, parts linked and attributes
  set), then `Shift`+`A` and the annotator's number where the proposal left something open
  or proposed nothing.

Both go through every sentence with `j`, counted apart. Gold is then read from the
database: every case's attribution there exactly (parts and attributes), every gold
attribution complete (its required roles and attributes), nothing else. Seconds are the
scripted browser's, from the first action until everything is saved: a person adds reading
time per action, so the counts are the figure that carries over.

    python bench/adjudication_bench.py

tests/browser/test_adjudicate_attributions.py runs four of the cases in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("ANNOTATOR_CHROMIUM", "/usr/lib/chromium/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
PASSWORD = "benchmark password"
BASE = {"source_kind": "person", "identification": "named", "cue_type": "reporting_verb", "quote_type": "indirect"}
ANNOTATORS = 3


def unit(source=None, cue=None, content=(), supplement=(), **attributes) -> dict:
    """An annotator's attribution: each part by its words in the sentence; the base attributes
    with `attributes` over them (None: not set)."""
    values = {name: value for name, value in (BASE | attributes).items() if value is not None}
    return {"parts": [("source", "SOURCE", source), ("cue", "CUE", cue)]
            + [("content", "CONTENT", text) for text in content] + [("supplement", "SUPPLEMENT", text) for text in supplement],
            "attributes": values}


def majority_case(name, sentence, *units, wanted=None) -> dict:
    """A case whose gold is `wanted` (by default the unit two annotators share)."""
    return {"name": name, "sentence": sentence, "units": list(units), "open": False,
            "wanted": wanted or next(u for u in units if units.count(u) >= 2)}


def open_case(name, sentence, units, pick) -> dict:
    """A case the proposal leaves open (or has nothing for): gold is annotator `pick`'s (0-based)."""
    return {"name": name, "sentence": sentence, "units": units, "wanted": units[pick], "pick": pick, "open": True}


S1 = unit("Aslam Ghauri, the party spokesperson", "said", ["that more than 1,200 people had been evacuated from the coast"])
S2 = unit("The interior minister", "told reporters", ["that the talks would resume after the holiday"], identification="role_only")
S3 = unit("Police in Łódź", "confirmed", ["that two men had been arrested near the station"], source_kind="organisation")
S5 = [unit("The city council", "announced", ["that the market would close “for good” next month"], source_kind="organisation",
           quote_type=quote) for quote in ("direct", "indirect", "mixed")]
S6 = [unit("Witnesses at the scene", "described", [content], source_kind="unspecified_group", identification="role_only")
      for content in ("a loud bang", "a loud bang followed by a column of smoke",
                      "a loud bang followed by a column of smoke over the harbour")]
S10 = [unit("A source close to the negotiators", "claimed", ["that a deal was within reach"], identification="anonymous",
            source_kind=kind) for kind in ("person", "unspecified_group", None)]
S14 = [unit("Officials", "said in a letter", ["that the schools would stay closed"], source_kind="unspecified_group",
            identification="anonymous", cue_type=cue_type) for cue_type in ("reporting_verb", "statement_frame", "other")]
CASES = [
    majority_case("all three agree",
                  "Aslam Ghauri, the party spokesperson, said that more than 1,200 people had been evacuated from the coast.", S1, S1, S1),
    majority_case("one content ends early",
                  "The interior minister told reporters that the talks would resume after the holiday.",
                  S2, S2, unit("The interior minister", "told reporters", ["that the talks would resume"], identification="role_only")),
    majority_case("one source missing",
                  "Police in Łódź confirmed that two men had been arrested near the station.",
                  S3, unit(None, "confirmed", ["that two men had been arrested near the station"], source_kind="organisation"), S3),
    majority_case("every pair differs, every part has a majority",
                  "José Núñez, a lawyer in Bogotá, warned that the ruling would be appealed within a week.",
                  unit("José Núñez", "warned", ["that the ruling would be appealed within a week"]),
                  unit("José Núñez", "warned", ["that the ruling would be appealed"], quote_type="direct"),
                  unit("José Núñez, a lawyer in Bogotá", "warned", ["that the ruling would be appealed"]),
                  wanted=unit("José Núñez", "warned", ["that the ruling would be appealed"])),
    open_case("quote type: three ways", "The city council announced that the market would close “for good” next month.", S5, 2),
    open_case("content: three boundaries",
              "Witnesses at the scene described a loud bang followed by a column of smoke over the harbour.", S6, 2),
    open_case("only one annotator saw it", "According to the central bank, inflation eased to 4 percent in March.",
              [None, unit("the central bank", "According to", ["inflation eased to 4 percent in March"], source_kind="organisation",
                          cue_type="according_to"), None], 1),
    majority_case("source kind two against one",
                  "Analysts at the central bank estimated that prices had risen for the third month in a row.",
                  *[unit("Analysts at the central bank", "estimated", ["that prices had risen for the third month in a row"],
                         source_kind=kind, identification="role_only") for kind in ("organisation", "organisation", "person")]),
    majority_case("one cue longer",
                  "The opposition leader told a rally that the vote had been postponed until further notice.",
                  *[unit("The opposition leader", cue, ["that the vote had been postponed until further notice"],
                         identification="role_only") for cue in ("told", "told a rally", "told")]),
    open_case("source kind: one each, one not set",
              "A source close to the negotiators claimed that a deal was within reach.", S10, 0),
    majority_case("two pieces of content, one annotator has one",
                  "The minister said the plan would cost four billion and that it would create jobs.",
                  *[unit("The minister", "said", contents, identification="role_only")
                    for contents in (["the plan would cost four billion", "that it would create jobs"],
                                     ["the plan would cost four billion", "that it would create jobs"],
                                     ["the plan would cost four billion"])]),
    majority_case("one content missing",
                  "Residents of the northern districts said that the water supply had been cut for days.",
                  *[unit("Residents of the northern districts", "said", contents, source_kind="unspecified_group",
                         identification="role_only") for contents in ([], ["that the water supply had been cut for days"],
                                                                      ["that the water supply had been cut for days"])]),
    majority_case("all agree, with a supplement",
                  "In a statement on Monday, the ministry denied that any files had been lost.",
                  *[unit("the ministry", "denied", ["that any files had been lost"], ["In a statement on Monday"],
                         source_kind="organisation", identification="role_only")] * 3),
    open_case("cue type: three ways", "Officials said in a letter that the schools would stay closed.", S14, 0),
]


def article(copy: int, cases: list[dict]) -> str:
    """The cases' sentences, a paragraph each; the copy's number closes it (an import skips a text it has)."""
    return (f"Attributions to adjudicate, copy {copy}\n\n" + "\n\n".join(case["sentence"] for case in cases)
            + f"\n\nThis is copy {copy} of the article.\n")


@dataclass
class Scenario:
    """One copy of the article, its three annotators' work and the supervisor's target."""

    document_id: int
    text: str
    cases: list[dict]
    sentence_of: list[int] = field(default_factory=list)  # the page's sentence index of each case
    annotators: list[str] = field(default_factory=list)

    def wanted(self, case: dict) -> tuple:
        """The case's target as gold_of gives gold: its parts (role, start, end) and attributes."""
        parts = sorted((role, *extent(self.text, case["sentence"], words)) for role, _, words in case["wanted"]["parts"] if words)
        return tuple(parts), tuple(sorted(case["wanted"]["attributes"].items()))


def extent(text: str, sentence: str, words: str) -> tuple[int, int]:
    """Where `words` are in `sentence` of `text` (code points, as the database counts)."""
    at = text.index(sentence)
    start = text.index(words, at, at + len(sentence))
    return start, start + len(words)


def set_up(cli, database_url: str, folder: Path, project: str, cases: list[dict], prefix: str, copies: int = 1,
           password: str = PASSWORD) -> list[Scenario]:
    """`copies` documents of the article in a new project, three annotators (assigned in
    order: annotator 1, 2, 3) and a supervisor named `prefix`sup; each annotator's attributions
    written through the annotation services, as the page's saves write them."""
    from annotator.db import Database
    from annotator.models import Document, Project, User
    from annotator.services import annotations
    from sqlalchemy import select

    for copy in range(copies):
        path = folder / f"{prefix}_{copy}.txt"
        path.write_text(article(copy + 1, cases), encoding="utf-8")
        cli("import", str(path), "--project", project)
    names = [f"{prefix}{n}" for n in range(1, ANNOTATORS + 1)]
    for name, role in [(name, "annotator") for name in names] + [(f"{prefix}sup", "supervisor")]:
        cli("users", "add", name, "--role", role, "--password-stdin", stdin=password + "\n")
    cli("project", "members", "add", project, f"{prefix}sup")
    for name in names:
        cli("assign", "--project", project, "--user", name)
    database = Database(database_url)
    scenarios = []
    try:
        with database.session() as session:
            documents = session.scalars(select(Document).join(Project).where(Project.name == project).order_by(Document.id)).all()
            people = [session.scalar(select(User).where(User.username == name)) for name in names]
            for document in documents:
                text = document.text
                for case in cases:
                    for person, work in zip(people, case["units"]):
                        if work is None:
                            continue
                        parts = []
                        for role, label, words in work["parts"]:
                            if not words:
                                continue
                            start, end = extent(text, case["sentence"], words)
                            span = annotations.create_span(session, person, document.id, {
                                "layer": "attribution", "label": label, "start": start, "end": end, "text": text[start:end]})
                            parts.append({"span_id": span["id"], "role": role})
                        annotations.create_attribution(session, person, document.id, {
                            "relation": "attribution", "attributes": work["attributes"], "parts": parts})
                positions = [s.start for s in document.sentences]
                scenarios.append(Scenario(document.id, text, cases, annotators=names,
                                          sentence_of=[positions.index(text.index(case["sentence"])) for case in cases]))
    finally:
        database.dispose()
    return scenarios


def gold_units(rows) -> dict:
    """The gold attributions of a document from `rows(query, **params)`: {id: (parts, attributes)}."""
    units = {}
    for row in rows("""SELECT a.id, a.attributes, p.role, s.start, s."end" FROM attributions a JOIN users u ON u.id = a.user_id
                       LEFT JOIN attribution_parts p ON p.attribution_id = a.id LEFT JOIN spans s ON s.id = p.span_id
                       WHERE u.username = 'gold'"""):
        parts, attributes = units.setdefault(row["id"], ([], row["attributes"]))
        if row["role"]:
            parts.append((row["role"], row["start"], row["end"]))
    return {i: (tuple(sorted(parts)), tuple(sorted((k, v) for k, v in (json.loads(a) if isinstance(a, str) else a or {}).items()
                                                    if v is not None)))
            for i, (parts, a) in units.items()}


def gold_of(rows, scenario: Scenario) -> list[tuple]:
    """The scenario document's gold attributions, as unit_key gives them."""
    ids = {r["id"] for r in rows("SELECT a.id FROM attributions a WHERE a.document_id = :d", d=scenario.document_id)}
    return sorted(v for k, v in gold_units(rows).items() if k in ids)


def complete(key: tuple) -> bool:
    """Every required role (cue, content) and required attribute (cue_type, quote_type) there."""
    parts, attributes = key
    roles, names = {p[0] for p in parts}, {name for name, _ in attributes}
    return {"cue", "content"} <= roles and {"cue_type", "quote_type"} <= names


class Supervisor:
    """The supervisor's browser page, counting what they press and click."""

    def __init__(self, page):
        self.page, self.keys, self.moves, self.clicks = page, 0, 0, 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        if key in ("j", "k"):
            self.moves += 1
        else:
            self.keys += 1

    def click(self, locator) -> None:
        locator.click()
        self.clicks += 1

    def to_sentence(self, index: int) -> None:
        while (at := int(self.page.evaluate("() => document.querySelector('#doc .sent.cur').dataset.i"))) != index:
            self.press("j" if at < index else "k")


def open_gold(page, document_id: int) -> None:
    from playwright.sync_api import expect

    page.goto(f"/documents/{document_id}/adjudicate")
    expect(page.locator("#annotate")).to_have_attribute("data-adjudicating", "ready")


def wait_saved(page, timeout: int = 60_000) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#save-state")).to_have_attribute("data-pending", "0", timeout=timeout)
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=timeout)


def before(page, scenario: Scenario) -> Supervisor:
    """The old way: Start, then per attribution Accept each part's span, + what did not join,
    and a click on each attribute's radio."""
    from playwright.sync_api import expect

    who = Supervisor(page)
    open_gold(page, scenario.document_id)
    who.click(page.get_by_role("button", name="Start adjudicating"))
    expect(page.get_by_role("button", name="Start adjudicating")).to_have_count(0)
    expect(page.locator("#annotate")).to_have_attribute("data-adjudicating", "ready")
    page.locator("#doc").focus()
    for case, index in zip(scenario.cases, scenario.sentence_of):
        who.to_sentence(index)
        ordered = sorted((p for p in case["wanted"]["parts"] if p[2]), key=lambda p: p[0] != "cue")  # the cue starts the attribution
        for part in ordered:  # each from an annotator who marked it so
            name = next(scenario.annotators[n] for n, u in enumerate(case["units"]) if u and part in u["parts"])
            who.click(page.locator("#adj-body").get_by_role("button", name=f"Accept {name}'s {part[1]} {part[2]}", exact=True))
        who.click(page.locator("#sent-attrs button.item").first)
        panel = page.locator("#panel")
        for role, label, words in ordered:  # a part that did not join: its + button
            add = panel.get_by_role("button", name=f"Add {words} as {role}", exact=True)
            if add.count():
                who.click(add)
        for attribute, value in case["wanted"]["attributes"].items():
            who.click(panel.locator(f"#ra-{attribute}-{value}"))  # j then closes the panel
    wait_saved(page)
    return who


def after(page, scenario: Scenario, rows) -> tuple[Supervisor, int]:
    """Pre-fill, then Shift+A and the annotator's number where gold lacks the wanted attribution.
    Returns the supervisor and how many attributions pre-fill made complete."""
    from playwright.sync_api import expect

    who = Supervisor(page)
    open_gold(page, scenario.document_id)
    with page.expect_navigation():
        who.click(page.get_by_role("button", name="Pre-fill from proposal"))
    expect(page.locator("#annotate")).to_have_attribute("data-adjudicating", "ready")
    prefilled = set(gold_of(rows, scenario))
    formed = sum(scenario.wanted(case) in prefilled for case in scenario.cases)
    page.locator("#doc").focus()
    for case, index in zip(scenario.cases, scenario.sentence_of):
        who.to_sentence(index)
        if scenario.wanted(case) in prefilled or case["wanted"] not in case["units"]:
            continue  # formed by the pre-fill; or no one's unit, so no unit accept reaches it (gold stays short)
        who.press("Shift+A")
        who.press(str(case["units"].index(case["wanted"]) + 1))
    wait_saved(page)
    return who, formed


def serve(database_url: str, instance: Path):
    """The app on waitress in a thread, as tests/browser/conftest.py serves it."""
    from waitress.server import create_server

    from annotator import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    wsgi = create_server(app, host="127.0.0.1", port=0, threads=8, ident="annotator-bench")
    threading.Thread(target=wsgi.run, daemon=True).start()
    return wsgi, f"http://127.0.0.1:{wsgi.effective_port}"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    import subprocess

    import sqlalchemy as sa
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        database_url = f"sqlite:///{instance / 'annotator.sqlite3'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")} | {
            "ANNOTATOR_INSTANCE": str(instance), "ANNOTATOR_DATABASE_URL": database_url, "ANNOTATOR_SECRET_KEY": "bench"}

        def cli(*args, stdin=None):
            subprocess.run([sys.executable, "-c", "from annotator.cli import main; main()", *args], env=env, input=stdin,
                           check=True, capture_output=True, text=True)

        engine = sa.create_engine(database_url)

        def rows(query, **params):
            with engine.connect() as connection:
                return [dict(r._mapping) for r in connection.execute(sa.text(query), params)]

        cli("init")
        old, new = set_up(cli, database_url, instance, "bench", CASES, "adj", copies=2)
        wsgi, url = serve(database_url, instance)
        results = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            for side, scenario in (("before", old), ("after", new)):
                context = browser.new_context(base_url=url, viewport={"width": 1360, "height": 900})
                context.set_default_timeout(30_000)
                page = context.new_page()
                page.goto("/login")
                page.fill("#username", "adjsup")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(url + "/**")
                started = time.perf_counter()
                who, formed = (before(page, scenario), None) if side == "before" else after(page, scenario, rows)
                seconds = time.perf_counter() - started
                gold = gold_of(rows, scenario)
                wanted = sorted(scenario.wanted(case) for case in scenario.cases)
                results[side] = {"who": who, "seconds": seconds, "formed": formed, "exact": gold == wanted,
                                 "complete": sum(map(complete, gold)), "gold": len(gold)}
                context.close()
            browser.close()
        wsgi.close()
        engine.dispose()
    n, opened = len(CASES), sum(case["open"] for case in CASES)
    print(f"{n} attributions, 3 annotators: two or three share {n - opened}, {opened} are tied or seen by one; "
          f"Python {platform.python_version()}, {platform.machine()}")
    print(f"{'':34}{'before':>10}{'after':>10}")
    for label, get in (("keys (besides j)", lambda r: r["who"].keys), ("clicks", lambda r: r["who"].clicks),
                       ("keys + clicks", lambda r: r["who"].keys + r["who"].clicks), ("j presses", lambda r: r["who"].moves),
                       ("seconds (scripted)", lambda r: f"{r['seconds']:.1f}"),
                       ("gold attributions, complete", lambda r: f"{r['complete']}/{r['gold']}"),
                       ("gold is exactly the target", lambda r: "yes" if r["exact"] else "NO")):
        print(f"{label:34}{get(results['before']):>10}{get(results['after']):>10}")
    print(f"pre-fill formed {results['after']['formed']} of the {n - opened} attributions two of three share; "
          f"the other {n - results['after']['formed']} took {(results['after']['who'].keys) / max(1, n - results['after']['formed']):.1f} "
          f"keys each (and a click on Pre-fill in all)")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
