"""Adjudication in a real browser: two annotators disagree on a sentence's claim type and on a
span; a supervisor takes one annotator's claim type with the keyboard, accepts a span, marks
the document adjudicated, and the gold export holds exactly that decision."""

from __future__ import annotations

import json
import shutil

from playwright.sync_api import expect

from .conftest import PASSWORD, REPO, log_in, select_text, wait_saved

PROJECT = "adjudication-probe"
TITLE = "Adjudication probe"
ARTICLE = f"""{TITLE}

The ministry said prices rose by 40 percent last year.

Critics called the plan a reckless gamble with public money.
"""
CLAIM = "The ministry said prices rose"
CRITICS = "Critics called the plan"


def _set_up(live_server, tmp_path) -> dict:
    """A project of its own (the other tests' annotators are not in it), two annotators and a supervisor."""
    article = tmp_path / "adjudication_probe.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    live_server.cli("import", str(article), "--project", PROJECT)
    for name, role in (("adj_first", "annotator"), ("adj_second", "annotator"), ("adj_sup", "supervisor")):
        live_server.cli("users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    live_server.cli("project", "members", "add", PROJECT, "adj_sup")
    for name in ("adj_first", "adj_second"):  # in this order: annotator 1, annotator 2
        live_server.cli("assign", "--project", PROJECT, "--user", name)
    (row,) = live_server.rows(
        "SELECT d.id, d.project_id FROM documents d JOIN projects p ON p.id = d.project_id WHERE p.name = :name", name=PROJECT)
    return row


def _annotate(new_context, username: str, document_id: int, claim_key: str, loaded: str) -> None:
    page = log_in(new_context(), username)
    page.goto(f"/documents/{document_id}")
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    page.console_errors.clear()  # the home page's favicon.ico 404 is not this page's
    page.locator("#doc .sent", has_text=CLAIM).click()
    page.keyboard.press(claim_key)
    select_text(page, loaded)
    page.keyboard.press("l")  # LOADED_LANGUAGE
    wait_saved(page)
    assert page.page_errors == [] and page.console_errors == []


def test_adjudicate_a_claim_type_and_a_span(live_server, new_context, tmp_path):
    ids = _set_up(live_server, tmp_path)
    document_id, project_id = ids["id"], ids["project_id"]
    _annotate(new_context, "adj_first", document_id, "2", "reckless gamble")  # quantity
    _annotate(new_context, "adj_second", document_id, "1", "reckless")  # event

    context = new_context()
    page = log_in(context, "adj_sup")
    page.goto(f"/projects/{project_id}/adjudication")
    page.console_errors.clear()
    row = page.locator(f'tr[data-document="{document_id}"]')
    expect(row).to_have_attribute("data-status", "not_started")
    row.get_by_role("link", name="Adjudicate").click()
    root = page.locator("#annotate")
    expect(root).to_have_attribute("data-adjudicating", "ready")
    expect(page.locator("#read-only")).to_contain_text("not started")
    page.get_by_role("button", name="Start adjudicating").click()
    expect(page.get_by_role("button", name="Start adjudicating")).to_have_count(0)
    expect(root).to_have_attribute("data-adjudicating", "ready")
    expect(page.locator("#read-only")).to_be_hidden()

    # The claim sentence: both annotators side by side, the tie open, nothing proposed.
    page.locator("#doc .sent", has_text=CLAIM).click()
    panel = page.locator("#adjudication")
    annotators = panel.locator(".adj-ann")
    expect(annotators).to_have_count(2)
    expect(annotators.nth(0)).to_contain_text("adj_first")
    expect(annotators.nth(0).locator(".adj-values")).to_contain_text("quantity")
    expect(annotators.nth(1).locator(".adj-values")).to_contain_text("event")
    expect(panel.locator(".adj-open")).to_contain_text("Claim type: a tie")

    # Shift+1: annotator 1's claim type becomes gold, through the page's own save queue.
    page.keyboard.press("Shift+Digit1")
    quantity = page.locator('#choices button.choice[data-layer="claim_type"][data-value="quantity"]')
    expect(quantity).to_have_attribute("aria-pressed", "true")
    expect(annotators.nth(0).locator(".agrees")).to_contain_text("quantity")
    wait_saved(page)
    page.keyboard.press("z")  # undo works as for annotators
    expect(quantity).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Shift+Z")
    expect(quantity).to_have_attribute("aria-pressed", "true")
    wait_saved(page)

    # The critics sentence: go to annotator 2's span with Shift+↓ and accept it with Enter.
    page.locator("#doc .sent", has_text=CRITICS).click()
    takes = panel.locator("button.adj-take")
    expect(takes).to_have_count(2)
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    expect(takes.nth(1)).to_be_focused()
    expect(takes.nth(1)).to_have_attribute("aria-label", "Accept adj_second's LOADED_LANGUAGE reckless")
    page.keyboard.press("Enter")
    expect(takes).to_have_count(1)
    expect(panel.locator(".adj-ann").nth(1)).to_contain_text("in gold")
    expect(page.locator('#doc .tag[data-label="LOADED_LANGUAGE"]')).to_have_count(1)
    wait_saved(page)

    # The screenshot for the docs: the panel beside the article.
    page.locator("#doc .sent", has_text=CLAIM).click()
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=tmp_path / "adjudicate.png")
    (REPO / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "adjudicate.png", REPO / "docs" / "screenshots" / "adjudicate.png")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Mark adjudicated").click()
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#read-only")).to_contain_text("adjudicated")
    assert page.page_errors == [] and page.console_errors == []

    page.goto(f"/projects/{project_id}/adjudication")
    expect(page.locator(f'tr[data-document="{document_id}"]')).to_have_attribute("data-status", "adjudicated")

    # The gold export: exactly the decision, under the one annotator "gold".
    response = page.request.get(f"/projects/{project_id}/export/jsonl?gold=1&usernames=1")
    assert response.ok, response.text()
    (line,) = [json.loads(x) for x in response.text().splitlines() if x.strip()]
    assert line["annotator"] == "gold" and line["status"] == "done"
    claim = next(s["id"] for s in line["document"]["sentences"]
                 if s["start"] <= line["document"]["text"].index(CLAIM) < s["end"])
    assert [(x["sentence_id"], x["layer"], x["value"]) for x in line["sentence_labels"]] == [(claim, "claim_type", "quantity")]
    assert [(s["layer"], s["label"], s["text"]) for s in line["spans"]] == [("loaded_language", "LOADED_LANGUAGE", "reckless")]
    assert line["attributions"] == []
