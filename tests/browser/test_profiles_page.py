"""The profile page in Chromium: a supervisor opens it from the project page, sees the charts
(bars with intervals and the annotators' range, the source-kind breakdown, the series by month,
a comparison of two outlets), axe-core finds nothing wrong with the page nor with its HTML
download opened in the browser, and the page is the screenshot of docs/profiles.md."""

from __future__ import annotations

import itertools
import json
import random
import shutil

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, REPO, log_in
from .test_rtl import axe_violations

pytestmark = pytest.mark.browser

_projects = itertools.count(1)
OUTLETS = ("Dawn", "ARY News", "The Gulf Ledger")
SOURCES = (  # (phrase, source kind, identification)
    ("Officials", "unspecified_group", "anonymous"),
    ("A source close to the army", "person", "anonymous"),
    ("The minister", "person", "role_only"),
    ("Ayesha Khan", "person", "named"),
    ("The ministry", "organisation", "named"),
)
CUES = (("said", "reporting_verb"), ("claimed", "reporting_verb"), ("told reporters", "reporting_verb"))


def _article(rng: random.Random, number: int) -> tuple[str, list]:
    """An article of four sentences, each an attribution: (source, cue, content)."""
    sentences, parts = [], []
    for _ in range(4):
        source, kind, identification = rng.choice(SOURCES)
        cue, cue_type = rng.choice(CUES)
        content = rng.choice(("the bridge would open in May", "prices rose sharply", "the talks had failed",
                              "the shocking attack was planned"))
        sentences.append(f"{source} {cue} {content}.")
        parts.append((source, cue, content, {"source_kind": kind, "identification": identification,
                                             "cue_type": cue_type, "quote_type": rng.choice(("direct", "indirect"))}))
    return " ".join(sentences) + f" Filed as report {number}.", parts


def _line(text: str, title: str, outlet: str, published: str, annotator: str, parts: list, rng: random.Random,
          keep: float) -> dict:
    spans, attributions, offset = [], [], 0
    for source, cue, content, attributes in parts:
        at = text.index(source, offset)
        offset = at + 1
        if rng.random() > keep:
            continue
        ids = {}
        for role, phrase, label in (("source", source, "SOURCE"), ("cue", cue, "CUE"), ("content", content, "CONTENT")):
            start = text.index(phrase, at)
            ids[role] = len(spans) + 1
            spans.append({"id": ids[role], "layer": "attribution", "label": label, "start": start,
                          "end": start + len(phrase), "text": phrase})
        attributions.append({"relation": "attribution", "attributes": attributes,
                             "parts": [{"role": role, "span_id": span} for role, span in ids.items()]})
    if "shocking" in text and rng.random() < keep:
        start = text.index("shocking")
        spans.append({"id": len(spans) + 1, "layer": "loaded_language", "label": "LOADED_LANGUAGE", "start": start,
                      "end": start + len("shocking"), "text": "shocking",
                      "attributes": {"polarity": "negative", "voice": "attributed"}})
    labels = [{"start": 0, "layer": "claim_type", "value": rng.choice(("event", "quantity", "opinion"))},
              {"start": 0, "layer": "check_worthy", "value": rng.choice(("yes", "no"))}]
    return {"document": {"title": title, "text": text, "outlet": outlet, "published": published},
            "annotator": annotator, "status": "done", "spans": spans, "attributions": attributions,
            "sentence_labels": labels}


@pytest.fixture
def profiled(live_server, tmp_path):
    """A project of 18 articles from three outlets over six months, each read by two
    annotators (who keep more or fewer of its attributions), two of them adjudicated; and a
    supervisor who is a member of it."""
    number = next(_projects)
    project, supervisor = f"profile-{number}", f"profsup{number}"
    annotators = [f"prof{number}a", f"prof{number}b"]
    rng = random.Random(20)
    lines, gold = [], []
    for i in range(18):
        text, parts = _article(rng, i)
        outlet, month = OUTLETS[i % 3], f"2024-{1 + i // 3:02d}-15"
        for annotator, keep in zip(annotators, (0.95, 0.7)):
            lines.append(_line(text, f"Report {i}", outlet, month, annotator, parts, rng, keep))
        if i < 2:
            gold.append(_line(text, f"Report {i}", outlet, month, annotators[0], parts, rng, 1.0))
    work, adjudicated = tmp_path / "work.jsonl", tmp_path / "gold.jsonl"
    work.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    adjudicated.write_text("".join(json.dumps(line) + "\n" for line in gold), encoding="utf-8")
    live_server.cli("project", "create", project)
    live_server.cli("import-annotations", str(work), "--project", project, "--format", "jsonl")
    live_server.cli("import-annotations", str(adjudicated), "--project", project, "--format", "jsonl", "--gold", annotators[0])
    ids = [str(row["id"]) for row in live_server.rows(
        "SELECT d.id FROM documents d JOIN projects p ON p.id = d.project_id WHERE p.name = :name AND d.title IN ('Report 0', 'Report 1')",
        name=project)]
    live_server.cli("gold", "finish", "--project", project, *ids)
    live_server.cli("users", "add", supervisor, "--role", "supervisor", "--password-stdin", stdin=PASSWORD + "\n")
    live_server.cli("project", "members", "add", project, supervisor)
    return {"project": project, "supervisor": supervisor}


def test_the_profile_page_draws_its_charts_and_axe_finds_nothing(live_server, new_context, profiled, tmp_path):
    project = profiled["project"]
    page = log_in(new_context(), profiled["supervisor"])
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=project, exact=True).click()
    page.get_by_role("link", name="Profiles").click()
    expect(page.get_by_role("heading", name=f"Profiles · {project}")).to_be_visible()
    expect(page.get_by_text("18 articles counted (2 from their gold standard")).to_be_visible()
    chart = page.locator("#chart")
    expect(chart.locator("svg.profile-bar")).to_have_count(4)  # all articles and the three outlets
    expect(chart.locator("svg.profile-bar line.interval").first).to_be_attached()
    expect(chart.locator("svg.profile-bar line.spread").first).to_be_attached()
    expect(chart.locator("td.words").first).to_contain_text("95% interval")
    expect(page.locator("#breakdown svg.stack")).to_have_count(4)
    assert axe_violations(page) == {}
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
    shots = REPO / "docs" / "screenshots"
    page.screenshot(path=tmp_path / "profiles.png", clip={"x": 0, "y": 0, "width": 1360, "height": 900})
    shutil.copy(tmp_path / "profiles.png", shots / "profiles.png")

    # Another figure, by month: the series.
    page.get_by_role("link", name="Month", exact=True).click()
    page.get_by_label("Figure", exact=True).select_option("attribution/attribute/identification/anonymous")
    page.locator("#chart").get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Attribution: identification — anonymous, by month")).to_be_visible()
    expect(page.locator("svg.series g.month")).to_have_count(6)
    assert axe_violations(page) == {}

    # Two outlets compared: every figure's difference, its interval and the annotators' own.
    page.get_by_role("link", name="Outlet", exact=True).click()
    page.get_by_label("First", exact=True).select_option("Dawn")
    page.get_by_label("minus", exact=True).select_option("ARY News")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_text("Each difference is Dawn minus ARY News")).to_be_visible()
    expect(page.locator("#compare svg.difference").first).to_be_visible()
    expect(page.locator("#compare td.verdict").first).not_to_be_empty()
    assert axe_violations(page) == {}

    # The HTML download, opened in the browser: the same charts, nothing from elsewhere, clean.
    with page.expect_download() as download:
        page.locator("form.downloads").get_by_role("button", name="HTML").click()
    saved = tmp_path / "profile.html"
    download.value.save_as(saved)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(saved.as_uri())
    expect(page.locator("svg.profile-bar")).to_have_count(4)
    expect(page.locator("svg.difference").first).to_be_visible()
    assert [url for url in requests if not url.startswith("file:")] == []
    assert axe_violations(page) == {}
