"""Marking a document done makes it read-only; the page reports active time per sentence."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SEED_TITLE, log_in, open_document, user_rows, wait_saved

pytestmark = pytest.mark.browser


def test_active_time_is_reported_per_sentence(live_server, new_context, make_annotator):
    name = make_annotator()
    page = log_in(new_context(), name)
    open_document(page, SEED_TITLE)
    page.keyboard.press("1")  # activity, and a label so the sentence counts as worked on
    wait_saved(page)
    page.wait_for_timeout(2500)
    page.keyboard.press("j")  # moving on reports the time spent on the first sentence
    for _ in range(50):
        times = user_rows(live_server, "sentence_times", name)
        if times:
            break
        page.wait_for_timeout(100)
    assert len(times) == 1 and 1500 <= times[0]["active_ms"] <= 10_000, times


def test_mark_done_makes_the_page_read_only(live_server, new_context, make_annotator):
    name = make_annotator()
    page = log_in(new_context(), name)
    open_document(page, SEED_TITLE)
    page.keyboard.press("2")
    wait_saved(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Mark done").click()
    expect(page.locator("#read-only")).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("3")  # refused on the page, and nothing is sent
    expect(page.locator("#hint")).to_contain_text("read-only")
    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Mark done")).to_be_hidden()
    assignment = live_server.rows(
        "SELECT a.status FROM assignments a JOIN users u ON u.id = a.user_id "
        "JOIN documents d ON d.id = a.document_id WHERE u.username = :name AND d.title = :title",
        name=name, title=SEED_TITLE,
    )
    assert assignment == [{"status": "done"}]
    assert [row["value"] for row in user_rows(live_server, "sentence_labels", name)] == ['"quantity"']  # raw JSON
