"""The report page's section "Suggestions and anchoring" in Chromium: a supervisor opens the
agreement report of a project with a half-blind design (tests/test_anchoring_report.py's, made
through the services on the live instance), sees the figures and their charts, and axe-core finds
nothing wrong with the page. Takes docs/screenshots/anchoring.png (docs/suggestions.md)."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from annotator.db import Database

from ..test_anchoring_report import build_world
from .conftest import PASSWORD, REPO, log_in
from .test_rtl import axe_violations

pytestmark = pytest.mark.browser


def test_the_anchoring_section_renders_and_axe_finds_nothing(live_server, new_context, tmp_path):
    database = Database(live_server.database_url)
    try:
        world = build_world(database.session(), "anchoring", prefix="anch", password=PASSWORD, redraw=True)
    finally:
        database.dispose()
    project = world["project"]

    page = log_in(new_context(viewport={"width": 1100, "height": 900}), "anchsup")
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="anchoring", exact=True).click()
    page.get_by_role("link", name="Agreement").click()
    section = page.locator("#anchoring")
    expect(section.get_by_role("heading", name="Suggestions and anchoring")).to_be_visible()
    adopted = section.locator('tr[data-figure="wrong_adopted"]')
    expect(adopted).to_contain_text("0.429")
    expect(adopted).to_contain_text("0.400")
    # The chart is an image with the numbers in words, the interval drawn as a bar about 0.
    chart = adopted.get_by_role("img")
    expect(chart).to_have_attribute("aria-label", "difference +0.029, 95% interval -0.250 to +0.500, includes 0")
    expect(chart.locator("rect.interval-bar")).to_be_visible()
    seconds = section.locator('tr[data-figure="seconds_per_sentence"]')
    expect(seconds.locator(".detected")).to_have_text("detected")
    expect(section.get_by_role("img", name="suggestions: 6.4 s; control: 2.8 s")).to_be_visible()
    expect(section.locator("table.acceptance tbody tr")).to_have_count(3)
    assert page.url.endswith(f"/projects/{project.id}/agreement")

    assert axe_violations(page) == {}
    assert not page.page_errors and not [e for e in page.console_errors if "Content Security Policy" in e]

    section.screenshot(path=tmp_path / "anchoring.png")
    (REPO / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "anchoring.png", REPO / "docs" / "screenshots" / "anchoring.png")
