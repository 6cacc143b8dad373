"""A supervisor opens the agreement report from the project page, sees the CI chart, follows a
heatmap cell to the disagreement browser and finds the sentence the two annotators differ on."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, open_document, wait_saved

pytestmark = pytest.mark.browser

_projects = itertools.count(1)


def test_agreement_report_heatmap_to_disagreements(live_server, new_context, tmp_path):
    number = next(_projects)
    project, supervisor = f"agree-{number}", f"agsup{number}"
    names = [f"agann{number}a", f"agann{number}b"]
    article = tmp_path / "article.txt"
    article.write_text("Agreement probe\n\nThe minister said the bridge would open next year. Critics disagreed strongly.\n",
                       encoding="utf-8")
    live_server.cli("import", str(article), "--project", project)
    live_server.cli("users", "add", supervisor, "--role", "supervisor", "--password-stdin", stdin=PASSWORD + "\n")
    live_server.cli("project", "members", "add", project, supervisor)
    for name in names:
        live_server.cli("users", "add", name, "--role", "annotator", "--password-stdin", stdin=PASSWORD + "\n")
        live_server.cli("assign", "--project", project, "--user", name)

    # Both annotators set the first sentence's claim type, differently (1: event, 2: quantity).
    for name, key in zip(names, ("1", "2")):
        worker = log_in(new_context(), name)
        open_document(worker, "Agreement probe")
        worker.keyboard.press(key)
        wait_saved(worker)

    boss = log_in(new_context(), supervisor)
    boss.get_by_role("link", name="Projects").click()
    boss.get_by_role("link", name=project, exact=True).click()
    boss.get_by_role("link", name="Agreement").click()
    expect(boss.get_by_role("heading", name=f"Agreement · {project}")).to_be_visible()
    claim = boss.locator("#layer-claim_type")
    expect(claim.locator("svg.ci-bar").first).to_be_visible()
    # One document: the point without an interval, and why, in words.
    expect(claim.locator(".ci-text").first).to_contain_text("95% interval undefined — too few documents for an interval")
    expect(claim.locator("table.heatmap")).to_be_visible()
    assert not [e for e in boss.console_errors if "Content Security Policy" in e]

    claim.locator("table.heatmap a.heat-link").first.click()
    expect(boss.get_by_role("heading", name="Disagreements · Claim type")).to_be_visible()
    row = boss.locator("tr.disagreement")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("The minister said the bridge would open next year.")
    expect(row).to_contain_text("event")
    expect(row).to_contain_text("quantity")
    expect(row.get_by_role("link", name="open in review")).to_be_visible()
    assert not [e for e in boss.console_errors if "Content Security Policy" in e]
