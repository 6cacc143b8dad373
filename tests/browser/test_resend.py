"""A batch the server saved but whose answer never reached the page is sent again with the same
idempotency keys: answered as the first time, nothing saved twice (issue 15)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from .conftest import SEED_TITLE, log_in, open_document, user_rows, wait_saved
from .test_batch_saves import queue_offline

pytestmark = pytest.mark.browser

SAVED = {"spans": 2, "attributions": 1, "sentence_labels": 1}


def _lose_answers(page, sent: list[dict], lost: list[dict], *, lose: int) -> None:
    """From now on the page's batches reach the server, but the answers of the first ``lose`` are
    lost on the way back (a proxy timing out); the bodies sent are collected in ``sent``, those
    whose answer was lost, once it was, in ``lost``."""

    def handle(route):
        sent.append(route.request.post_data_json)
        if len(sent) > lose:
            return route.continue_()
        route.fetch()  # the server runs the batch and commits it ...
        route.abort("connectionreset")  # ... and the page never hears of it
        lost.append(sent[-1])

    page.route("**/changes", handle)  # before the route that is taken away: it goes first
    page.unroute("**/api/**")


def _saved(live_server, user: str) -> dict:
    return {table: len(user_rows(live_server, table, user)) for table in SAVED}


def _one_of_each_on_the_page(page) -> None:
    expect(page.locator("#doc .tag")).to_have_count(2)
    page.locator("#doc .tag").first.click()  # its sentence: both spans and the attribution
    expect(page.locator("#sent-spans li")).to_have_count(2)
    expect(page.locator("#sent-attrs button.item")).to_have_count(1)
    assert page.page_errors == []


def test_a_batch_whose_answer_was_lost_is_sent_again_and_saved_once(live_server, new_context, make_annotator):
    user = make_annotator("resend")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    queue_offline(page)
    sent: list[dict] = []
    _lose_answers(page, sent, [], lose=1)
    wait_saved(page)

    assert len(sent) == 2 and sent[0] == sent[1]  # the same changes, with the same keys
    keys = [change["idempotency_key"] for change in sent[0]["changes"]]
    assert len(keys) == 5 and len(set(keys)) == 5 and all(keys)
    assert _saved(live_server, user) == SAVED
    _one_of_each_on_the_page(page)


def test_a_batch_whose_answer_was_lost_is_sent_again_after_a_reload_and_saved_once(live_server, new_context,
                                                                                   make_annotator):
    """The page is reloaded before it could send the batch again: it shows what the server saved
    plus its kept queue (the same items twice, for a moment); sent again, the kept changes are
    answered as the first time and each becomes the saved item it is."""
    user = make_annotator("reload")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    queue_offline(page)
    lost: list[dict] = []
    _lose_answers(page, [], lost, lose=10**6)
    deadline = time.monotonic() + 20
    while not lost and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert _saved(live_server, user) == SAVED
    page.on("dialog", lambda dialog: dialog.accept())  # beforeunload: there are unsaved changes
    page.unroute("**/changes")
    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    wait_saved(page)

    assert _saved(live_server, user) == SAVED
    _one_of_each_on_the_page(page)
    page.reload()  # and what the server holds is what the page showed
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    _one_of_each_on_the_page(page)
