"""The annotation page as annotators use it: mouse and keyboard, autosave, reload, undo,
offline, conflicts between tabs, and blind annotation between users."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from playwright.sync_api import expect

from .conftest import (
    PASSWORD,
    REPO,
    SEED_TITLE,
    cut_api,
    document_row,
    log_in,
    open_document,
    select_text,
    user_rows,
    wait_saved,
)

pytestmark = pytest.mark.browser

CURRENT = re.compile(r"\bcur\b")
CONFLICT = "changed in another tab or window — reload to see the latest"
CONTENT_TEXT = "this operation has claimed the lives of over 1,200 people in Israel"


def attributes(row: dict) -> dict:
    value = row["attributes"]
    return json.loads(value) if isinstance(value, str) else value


def labels_by_position(live_server, username: str) -> dict[tuple[int, str], dict]:
    rows = live_server.rows(
        "SELECT s.position, l.layer, l.value, l.unsure, l.comment, l.version FROM sentence_labels l "
        "JOIN sentences s ON s.id = l.sentence_id JOIN users u ON u.id = l.user_id WHERE u.username = :name",
        name=username,
    )
    return {(row["position"], row["layer"]): row | {"value": json.loads(row["value"]) if row["value"] else None}
            for row in rows}


def attribution_parts(live_server, username: str) -> list[dict]:
    """Each of the user's attributions: attributes and {role: [span text]}."""
    result = []
    for attribution in user_rows(live_server, "attributions", username):
        parts = live_server.rows(
            "SELECT p.role, s.text FROM attribution_parts p JOIN spans s ON s.id = p.span_id "
            "WHERE p.attribution_id = :id ORDER BY p.role, s.start", id=attribution["id"])
        roles: dict[str, list[str]] = {}
        for part in parts:
            roles.setdefault(part["role"], []).append(part["text"])
        result.append({"attributes": attributes(attribution), "parts": roles})
    return result


def test_a_new_annotator_annotates_and_finds_everything_after_reload(live_server, new_context, make_annotator, tmp_path):
    user = make_annotator("reader")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    panel, save = page.locator("#panel"), page.locator("#save-state")

    # It opens at the first sentence not done, with the whole article readable around it.
    expect(page.locator("#s0")).to_have_class(CURRENT)
    expect(page.locator("#progress-text")).to_have_text("0 / 14 sentences done")
    expect(page.locator("#doc")).to_contain_text("Mohammed Deif, a survivor of seven Israeli assassination attempts")
    expect(save).to_have_text("Saved")
    expect(page.locator("button.lab", has_text="SOURCE")).to_have_attribute("title", re.compile("noun phrase.*Example: In an official statement", re.S))

    # A cue starts an attribution; the source in its sentence joins it.
    select_text(page, "as reported by")
    expect(page.locator("#sel-info")).to_contain_text("“as reported by”")
    page.keyboard.press("c")
    expect(page.locator('#doc .tag[data-label="CUE"]')).to_have_count(1)
    select_text(page, "ARY News")
    page.keyboard.press("s")
    attribution = page.locator("#sent-attrs button.item")
    expect(attribution).to_have_count(1)
    expect(attribution).to_contain_text("source “ARY News”")
    expect(attribution).to_contain_text("cue “as reported by”")
    expect(attribution).to_contain_text("incomplete (no content)")

    # Enter opens the span just marked, with its attribution: keys set the attributes.
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(panel.locator("#panel-title")).to_contain_text("SOURCE")
    expect(panel.locator(".warn")).to_have_text("Incomplete: add content.")
    for key in "mabi":
        page.keyboard.press(key)
    expect(panel.locator("#ra-source_kind-media_outlet")).to_be_checked()
    expect(panel.locator("#ra-identification-named")).to_be_checked()
    expect(panel.locator("#ra-cue_type-as_reported_by")).to_be_checked()
    expect(panel.locator("#ra-quote_type-indirect")).to_be_checked()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    # A second attribution, from the cue "estimates": an anonymous source and its content.
    select_text(page, "estimates")
    page.keyboard.press("c")
    expect(page.locator("#s10")).to_have_class(CURRENT)
    select_text(page, "A source close to Hamas in Gaza")
    page.keyboard.press("s")
    select_text(page, CONTENT_TEXT)
    page.keyboard.press("t")
    expect(attribution).to_have_count(1)
    expect(attribution).to_contain_text("source “A source close to Hamas in Gaza”")
    expect(attribution).not_to_contain_text("incomplete")
    page.keyboard.press("Enter")
    expect(panel.locator("#panel-title")).to_contain_text("CONTENT")
    expect(panel.locator(".ok")).to_have_text("Complete.")
    for key in "yevi":
        page.keyboard.press(key)
    expect(panel.locator("#ra-identification-anonymous")).to_be_checked()
    page.keyboard.press("Escape")

    # Loaded language, with its polarity from the panel's keys.
    select_text(page, "brutalities")
    page.keyboard.press("l")
    page.keyboard.press("Enter")
    expect(panel.locator("#panel-title")).to_contain_text("LOADED_LANGUAGE")
    page.keyboard.press("-")
    expect(panel.locator("#sa-polarity-negative")).to_be_checked()
    expect(panel.locator("#sa-voice-author")).to_be_checked()  # the codebook's default, filled in by the server
    page.keyboard.press("Escape")

    # Claim types for three sentences, keyboard only; check-worthy, unsure and a comment too.
    expect(page.locator("#s4")).to_have_class(CURRENT)
    for _ in range(4):
        page.keyboard.press("k")
    expect(page.locator("#s0")).to_have_class(CURRENT)
    page.keyboard.press("1")
    page.keyboard.press("+")
    page.keyboard.press("j")
    page.keyboard.press("1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("7")
    page.keyboard.press("u")
    page.keyboard.press("n")
    expect(page.locator("#comment")).to_be_focused()
    page.keyboard.type("Is praise a claim?")
    page.keyboard.press("Enter")
    expect(page.locator("#doc")).to_be_focused()
    expect(page.locator("#progress-text")).to_have_text("3 / 14 sentences done")
    wait_saved(page)

    # The database holds exactly that, at the right offsets.
    text = document_row(live_server, SEED_TITLE)["text"]
    spans = user_rows(live_server, "spans", user)
    assert sorted((row["label"], row["text"]) for row in spans) == sorted([
        ("CUE", "as reported by"), ("SOURCE", "ARY News"), ("CUE", "estimates"),
        ("SOURCE", "A source close to Hamas in Gaza"), ("CONTENT", CONTENT_TEXT), ("LOADED_LANGUAGE", "brutalities"),
    ])
    for row in spans:
        assert (row["start"], row["end"]) == (text.index(row["text"]), text.index(row["text"]) + len(row["text"]))
    loaded = next(row for row in spans if row["label"] == "LOADED_LANGUAGE")
    assert attributes(loaded) == {"polarity": "negative", "voice": "author"}
    assert sorted(attribution_parts(live_server, user), key=lambda a: a["parts"]["cue"]) == [
        {"parts": {"cue": ["as reported by"], "source": ["ARY News"]},
         "attributes": {"source_kind": "media_outlet", "identification": "named", "cue_type": "as_reported_by", "quote_type": "indirect"}},
        {"parts": {"content": [CONTENT_TEXT], "cue": ["estimates"], "source": ["A source close to Hamas in Gaza"]},
         "attributes": {"identification": "anonymous", "source_kind": "person", "cue_type": "reporting_verb", "quote_type": "indirect"}},
    ]
    labels = labels_by_position(live_server, user)
    assert {key: row["value"] for key, row in labels.items()} == {
        (0, "claim_type"): "event", (0, "check_worthy"): "yes", (1, "claim_type"): "event", (2, "claim_type"): "opinion",
    }
    assert bool(labels[2, "claim_type"]["unsure"]) and labels[2, "claim_type"]["comment"] == "Is praise a claim?"

    # The screenshot for the docs: the document view with annotations and an open panel.
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.locator('#doc .tag[data-label="SOURCE"]').first.click()
    expect(panel.locator("#panel-title")).to_contain_text("ARY News")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=tmp_path / "annotate.png")
    (REPO / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "annotate.png", REPO / "docs" / "screenshots" / "annotate.png")
    page.keyboard.press("Escape")

    # A reload shows exactly what was saved.
    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    for label, count in {"CUE": 2, "SOURCE": 2, "CONTENT": 1, "LOADED_LANGUAGE": 1}.items():
        expect(page.locator(f'#doc .tag[data-label="{label}"]')).to_have_count(count)
    expect(page.locator("#progress-text")).to_have_text("3 / 14 sentences done")
    expect(page.locator("#s0")).to_have_class(CURRENT)
    expect(page.locator('button.choice[data-layer="claim_type"][aria-pressed="true"]')).to_have_attribute("data-value", "event")
    expect(page.locator('button.choice[data-layer="check_worthy"][aria-pressed="true"]')).to_have_attribute("data-value", "yes")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator('button.choice[data-layer="claim_type"][aria-pressed="true"]')).to_have_attribute("data-value", "opinion")
    expect(page.locator("#unsure")).to_be_checked()
    expect(page.locator("#comment")).to_have_value("Is praise a claim?")
    page.locator('#doc .tag[data-label="LOADED_LANGUAGE"]').click()
    expect(panel.locator("#sa-polarity-negative")).to_be_checked()
    page.keyboard.press("Escape")
    page.locator('#doc .tag[data-label="SOURCE"]').first.click()
    expect(panel.locator("#ra-source_kind-media_outlet")).to_be_checked()
    expect(panel.locator("#ra-identification-named")).to_be_checked()
    assert page.page_errors == [] and page.console_errors == []

    # Another annotator sees none of it (blind annotation).
    other = make_annotator("other")
    page2 = log_in(new_context(), other)
    open_document(page2, SEED_TITLE)
    expect(page2.locator("#doc .tag")).to_have_count(0)
    expect(page2.locator("#progress-text")).to_have_text("0 / 14 sentences done")
    expect(page2.locator("#sent-attrs")).to_contain_text("None")
    expect(page2.locator('button.choice[aria-pressed="true"]')).to_have_count(0)
    expect(page2.locator("#doc")).to_contain_text("as reported by ARY News")


def test_keyboard_selection_makes_exact_spans_and_undo_redo(live_server, new_context, make_annotator):
    user = make_annotator("keys")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    text = document_row(live_server, SEED_TITLE)["text"]
    doc, tags = page.locator("#doc"), page.locator("#doc .tag")

    page.keyboard.press("j")
    expect(page.locator("#s1")).to_have_class(CURRENT)
    page.keyboard.press("ArrowRight")
    expect(page.locator("#s1 .caret")).to_have_text("In")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#s1 .caret")).to_have_text("an")
    page.keyboard.press("ArrowLeft")
    for _ in range(4):
        page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#sel-info")).to_contain_text("“In an official statement”")
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("#sel-info")).to_contain_text("“In an official”")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#s1 .sel")).to_have_text("In an official statement")
    page.keyboard.press("m")
    expect(tags).to_have_count(1)
    wait_saved(page)
    start = text.index("In an official statement")
    [span] = user_rows(live_server, "spans", user)
    assert (span["label"], span["start"], span["end"], span["text"]) == ("SUPPLEMENT", start, start + 24, "In an official statement")

    page.keyboard.press("z")
    expect(tags).to_have_count(0)
    wait_saved(page)
    assert user_rows(live_server, "spans", user) == []
    page.keyboard.press("Shift+Z")
    expect(tags).to_have_count(1)
    wait_saved(page)
    [again] = user_rows(live_server, "spans", user)
    assert (again["label"], again["start"], again["end"], again["version"]) == ("SUPPLEMENT", start, start + 24, 1)

    # A sentence label: undo restores the previous value (none).
    page.keyboard.press("3")
    wait_saved(page)
    assert labels_by_position(live_server, user)[1, "claim_type"]["value"] == "causal"
    page.keyboard.press("z")
    wait_saved(page)
    assert labels_by_position(live_server, user)[1, "claim_type"]["value"] is None
    expect(page.locator('button.choice[aria-pressed="true"]')).to_have_count(0)

    # Changing an attribute, then undoing it.
    page.keyboard.press("Enter")
    expect(page.locator("#panel-title")).to_contain_text("SUPPLEMENT")
    page.locator("#pl-label-CONTENT").check()
    expect(page.locator('#doc .tag[data-label="CONTENT"]')).to_have_count(1)
    page.keyboard.press("z")
    expect(page.locator('#doc .tag[data-label="SUPPLEMENT"]')).to_have_count(1)
    wait_saved(page)
    assert [row["label"] for row in user_rows(live_server, "spans", user)] == ["SUPPLEMENT"]
    expect(doc).to_be_visible()
    assert page.page_errors == [] and page.console_errors == []


def test_deleting_a_source_and_undoing_relinks_it(live_server, new_context, make_annotator):
    user = make_annotator("undo")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    select_text(page, "conveyed that")
    page.keyboard.press("c")
    select_text(page, "Aslam Ghauri, the spokesperson for JUI-F")
    page.keyboard.press("s")
    page.keyboard.press("Enter")
    expect(page.locator("#panel-title")).to_contain_text("SOURCE")
    page.keyboard.press("Delete")
    expect(page.locator("#panel")).to_be_hidden()
    expect(page.locator('#doc .tag[data-label="SOURCE"]')).to_have_count(0)
    wait_saved(page)
    assert attribution_parts(live_server, user) == [{"parts": {"cue": ["conveyed that"]}, "attributes": {}}]

    page.keyboard.press("z")
    expect(page.locator('#doc .tag[data-label="SOURCE"]')).to_have_count(1)
    wait_saved(page)
    assert attribution_parts(live_server, user) == [
        {"parts": {"cue": ["conveyed that"], "source": ["Aslam Ghauri, the spokesperson for JUI-F"]}, "attributes": {}}
    ]
    page.keyboard.press("Shift+Z")
    wait_saved(page)
    assert attribution_parts(live_server, user) == [{"parts": {"cue": ["conveyed that"]}, "attributes": {}}]
    assert [row["label"] for row in user_rows(live_server, "spans", user)] == ["CUE"]


def test_a_span_across_sentences_is_refused_with_the_servers_message(live_server, new_context, make_annotator):
    user = make_annotator("cross")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    select_text(page, "9/11 event. The operation's mastermind")
    expect(page.locator("#sel-info")).to_contain_text("“9/11 event. The operation's mastermind”")
    page.keyboard.press("l")  # loaded language may not cross sentences
    save = page.locator("#save-state")
    expect(save).to_have_text("Not saved: layer 'loaded_language' does not allow spans across sentences")
    expect(save).to_have_attribute("data-state", "error")
    expect(page.locator("#doc .tag")).to_have_count(0)
    assert user_rows(live_server, "spans", user) == []

    select_text(page, "9/11 event. The operation's mastermind")
    page.keyboard.press("t")  # attribution spans may
    wait_saved(page)
    [span] = user_rows(live_server, "spans", user)
    assert span["text"] == "9/11 event. The operation's mastermind"


def test_offline_changes_are_kept_retried_and_saved(live_server, new_context, make_annotator):
    user = make_annotator("offline")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    save = page.locator("#save-state")

    cut_api(page)
    page.keyboard.press("2")
    expect(save).to_contain_text("Offline — retrying in")
    expect(save).to_have_attribute("data-state", "offline")
    expect(save).to_have_attribute("data-pending", "1")
    stored = page.evaluate("() => Object.entries(localStorage).filter(([k]) => k.startsWith('annotator:queue:'))")
    assert len(stored) == 1 and '"value":"quantity"' in stored[0][1]
    assert labels_by_position(live_server, user) == {}

    # A reload (or a crash) does not lose it: the queue is replayed from this browser.
    page.on("dialog", lambda dialog: dialog.accept())  # beforeunload: there are unsaved changes
    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    expect(page.locator("#hint")).to_contain_text("Restored 1 unsaved change")
    expect(page.locator('button.choice[aria-pressed="true"]')).to_have_attribute("data-value", "quantity")
    expect(save).to_contain_text("Offline — retrying in")

    page.unroute("**/api/**")
    wait_saved(page)
    assert labels_by_position(live_server, user)[0, "claim_type"]["value"] == "quantity"
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('annotator:queue:')).length") == 0


def test_a_conflict_between_two_tabs_is_shown_and_not_overwritten(live_server, new_context, make_annotator):
    user = make_annotator("tabs")
    context = new_context()
    first = log_in(context, user)
    open_document(first, SEED_TITLE)
    second = context.new_page()
    second.goto(first.url)
    expect(second.locator("#annotate")).to_have_attribute("data-ready", "true")

    first.keyboard.press("1")
    wait_saved(first)
    second.keyboard.press("2")
    save = second.locator("#save-state")
    expect(save).to_have_text(f"Not saved: {CONFLICT}")
    expect(save).to_have_attribute("data-state", "error")
    assert labels_by_position(live_server, user)[0, "claim_type"]["value"] == "event"
    expect(second.locator('button.choice[aria-pressed="true"]')).to_have_attribute("data-value", "event")

    # Both tabs now hold version 1; a change in one makes the other's next change conflict.
    first.keyboard.press("3")
    wait_saved(first)
    second.keyboard.press("4")
    expect(save).to_have_text(f"Not saved: {CONFLICT}")
    assert labels_by_position(live_server, user)[0, "claim_type"]["value"] == "causal"
    second.reload()
    expect(second.locator('button.choice[aria-pressed="true"]')).to_have_attribute("data-value", "causal")


def test_the_page_is_light(live_server, new_context, make_annotator):
    user = make_annotator("weight")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    sizes = {url: len(page.request.get(url).body()) for url in (
        page.url.split("#")[0], "/static/app.css", "/static/annotate.css", "/static/annotate.js")}
    assert sum(sizes.values()) < 150_000, sizes
    hosts = page.evaluate("() => performance.getEntriesByType('resource').map(e => new URL(e.name).host)")
    assert set(hosts) <= {live_server.url.removeprefix("http://")}


def test_hash_continue_link_and_guidelines(live_server, new_context, make_annotator):
    user = make_annotator("nav")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    page.keyboard.press("1")
    wait_saved(page)

    # The home page's "Continue" link opens the first sentence not done (#s1).
    page.goto("/")
    page.get_by_role("link", name="Continue").first.click()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    assert page.url.endswith("#s1")
    expect(page.locator("#s1")).to_have_class(CURRENT)

    # A hash names the sentence to open at; it is scrolled into view.
    page.goto(page.url.split("#")[0] + "#s12")
    page.reload()
    expect(page.locator("#s12")).to_have_class(CURRENT)
    expect(page.locator("#s12")).to_be_in_viewport()
    expect(page.locator("#sent-head")).to_have_text("Sentence 13 of 14")

    # The guidelines are one key away; Escape closes them.
    guide = page.locator("#guide")
    page.keyboard.press("?")
    expect(guide).to_be_visible()
    expect(guide.get_by_role("heading", name="Claim type")).to_be_visible()
    page.keyboard.press("1")  # no hotkeys behind the dialog
    page.keyboard.press("Escape")
    expect(guide).to_be_hidden()
    expect(page.locator("#doc")).to_be_focused()
    expect(page.locator('button.choice[aria-pressed="true"]')).to_have_count(0)

    # Hotkeys do not fire while typing in the comment box.
    page.keyboard.press("n")
    page.keyboard.type("j k 1 z")
    expect(page.locator("#comment")).to_have_value("j k 1 z")
    expect(page.locator("#s12")).to_have_class(CURRENT)
    page.keyboard.press("Escape")
    wait_saved(page)
    assert labels_by_position(live_server, user)[12, "claim_type"]["comment"] == "j k 1 z"
    assert labels_by_position(live_server, user)[12, "claim_type"]["value"] is None


def test_changes_made_while_logged_out_are_kept_until_logged_in_again(live_server, new_context, make_annotator):
    user = make_annotator("expired")
    context = new_context()
    page = log_in(context, user)
    open_document(page, SEED_TITLE)
    other = context.new_page()
    other.goto("/")
    other.get_by_role("button", name="Log out").click()
    expect(other.get_by_role("heading", name="Log in")).to_be_visible()

    page.keyboard.press("5")
    save = page.locator("#save-state")
    expect(save).to_contain_text("Not saved: logged out")
    expect(save).to_have_attribute("data-pending", "1")
    assert labels_by_position(live_server, user) == {}

    other.fill("#username", user)
    other.fill("#password", PASSWORD)
    other.click("button[type=submit]")
    page.on("dialog", lambda dialog: dialog.accept())  # beforeunload: there are unsaved changes
    page.reload()
    wait_saved(page)
    assert labels_by_position(live_server, user)[0, "claim_type"]["value"] == "rule"
