"""The save queue sends what is queued as one request (POST /api/documents/ID/changes)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SEED_TITLE, cut_api, log_in, open_document, select_text, user_rows, wait_saved

pytestmark = pytest.mark.browser


def queue_offline(page) -> None:
    """A cue (which starts an attribution), a source (which joins it) and the sentence's claim
    type, made while the server is unreachable: five changes queued (two spans, the attribution
    made and joined, the label)."""
    cut_api(page)
    select_text(page, "as reported by")
    page.keyboard.press("c")
    select_text(page, "ARY News")
    page.keyboard.press("s")
    page.keyboard.press("1")
    expect(page.locator("#save-state")).to_have_attribute("data-pending", "5")


def test_an_annotation_made_offline_goes_out_as_one_request(live_server, new_context, make_annotator):
    """Two spans (a cue starting an attribution, a source joining it) and the sentence's claim
    type, made while the server is unreachable: once it is back, one request saves them all."""
    user = make_annotator("batch")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    save = page.locator("#save-state")
    sent: list[dict] = []
    queue_offline(page)
    expect(save).to_have_attribute("data-state", "offline")
    assert user_rows(live_server, "spans", user) == []

    page.on("request", lambda request: "/api/" in request.url and sent.append(
        {"method": request.method, "url": request.url, "body": request.post_data_json}))
    page.unroute("**/api/**")
    wait_saved(page)
    [request] = sent
    assert request["method"] == "POST" and request["url"].endswith("/changes")
    assert [change["op"] for change in request["body"]["changes"]] == [
        "create_span", "create_attribution", "create_span", "update_attribution", "set_label"]

    spans = {row["label"]: row["text"] for row in user_rows(live_server, "spans", user)}
    assert spans == {"CUE": "as reported by", "SOURCE": "ARY News"}
    [attribution] = user_rows(live_server, "attributions", user)
    parts = live_server.rows("SELECT p.role, s.text FROM attribution_parts p JOIN spans s ON s.id = p.span_id "
                             "WHERE p.attribution_id = :id ORDER BY p.role", id=attribution["id"])
    assert [(part["role"], part["text"]) for part in parts] == [("cue", "as reported by"), ("source", "ARY News")]
    [label] = user_rows(live_server, "sentence_labels", user)
    assert label["value"] in ('"event"', "event")
    assert page.page_errors == []


def test_a_change_the_server_refuses_ends_its_batch_and_the_rest_is_saved_after_it(live_server, new_context, make_annotator):
    """Queued together: a label, a span the server refuses (loaded language may not cross
    sentences) and another label. The refused one is undone here with the server's reason, as a
    single request's refusal is; both labels are saved."""
    user = make_annotator("refused")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    save = page.locator("#save-state")
    cut_api(page)
    page.keyboard.press("1")
    select_text(page, "9/11 event. The operation's mastermind")
    page.keyboard.press("l")
    page.keyboard.press("j")
    page.keyboard.press("2")
    expect(save).to_have_attribute("data-pending", "3")
    page.unroute("**/api/**")
    expect(save).to_have_text("Not saved: layer 'loaded_language' does not allow spans across sentences")
    expect(save).to_have_attribute("data-pending", "0")
    expect(page.locator("#doc .tag")).to_have_count(0)
    assert user_rows(live_server, "spans", user) == []
    values = sorted(row["value"].strip('"') for row in user_rows(live_server, "sentence_labels", user))
    assert values == ["event", "quantity"]
