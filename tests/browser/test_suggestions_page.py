"""Suggestions in the annotation page (issue 19), in Chromium: drawn dashed, apart from spans;
Enter accepts one (a group: its spans and the linked attribution), p rejects one, Shift+arrows
adjust one before a label key accepts it ("accepted_edited"); an annotator in the control
condition sees none; no console errors, and axe-core finds nothing the page without
suggestions lacks."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from .conftest import SEEDS, log_in, wait_saved
from .test_annotate_keys import assert_clean, open_by_id
from .test_rtl import axe_violations

PROJECT = "suggesting"
SEED = SEEDS / "000_a8e75834ae8b6b50.txt"  # the article about Hamas and Pakistan


@pytest.fixture(scope="module")
def suggesting(live_server) -> dict:
    """A project of its own (the other tests' pages stay without suggestions) holding the seed
    article, with both suggesters' suggestions stored and the design on, no control share."""
    live_server.cli("import", str(SEED), "--project", PROJECT)
    live_server.cli("suggest", "run", "--project", PROJECT)
    live_server.cli("suggest", "design", "--project", PROJECT, "--on", "--control-share", "0", "--seed", "1")
    (document,) = live_server.rows("SELECT d.id, d.text FROM documents d JOIN projects p ON p.id = d.project_id "
                                   "WHERE p.name = :p", p=PROJECT)
    return document


@pytest.fixture
def annotator(live_server, make_annotator, suggesting):
    def make(prefix: str = "suggested") -> str:
        user = make_annotator(prefix)
        live_server.cli("assign", "--project", PROJECT, "--user", user)
        return user
    return make


def _offered(page) -> list[dict]:
    return page.evaluate("() => JSON.parse(document.querySelector('#annotator-data').textContent).suggestions")


def _mine(live_server, table: str, user: str) -> list[dict]:
    return live_server.rows(f"SELECT * FROM {table} WHERE user_id = (SELECT id FROM users WHERE username = :u) ORDER BY id",
                            u=user)


def _focus(page, suggestion: dict) -> None:
    """The suggestion's tag focused, as Tab reaches it in its sentence."""
    tag = page.locator(f"#sug-{suggestion['id']}")
    tag.scroll_into_view_if_needed()
    tag.focus()
    expect(tag).to_be_focused()


def _decisions(live_server, user: str, wanted: int) -> list[dict]:
    for _ in range(100):
        rows = _mine(live_server, "suggestion_decisions", user)
        if len(rows) >= wanted:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"{wanted} decision(s) not recorded: {rows}")


def test_suggestions_are_drawn_dashed_accepted_with_enter_rejected_with_p(live_server, new_context, annotator, suggesting):
    user = annotator()
    page = log_in(new_context(), user)
    open_by_id(page, suggesting["id"])
    offered = _offered(page)
    assert offered
    expect(page.locator(".sug-tag").first).to_be_attached()
    # Dashed, without fill: unlike a span's underline and tint.
    looks = page.locator(".seg.sug").first.evaluate(
        "el => { const s = getComputedStyle(el); return [s.borderTopStyle, s.backgroundColor, s.backgroundImage]; }")
    assert looks == ["dashed", "rgba(0, 0, 0, 0)", "none"]
    assert page.locator("#doc").text_content().count(suggesting["text"][:40]) == 1  # the tags add no text

    single = [x for x in offered if x["group"] is None]
    accepted, rejected = single[0], single[1]
    _focus(page, accepted)
    page.keyboard.press("Enter")
    wait_saved(page)
    (span,) = _mine(live_server, "spans", user)
    assert (span["origin"], span["suggestion_id"], span["start"], span["end"]) == (
        "accepted", accepted["id"], accepted["start"], accepted["end"])
    expect(page.locator(f"#sug-{accepted['id']}")).to_have_count(0)
    expect(page.locator(f"[id^='tag-'][data-label='{accepted['label']}']")).to_have_count(1)

    _focus(page, rejected)
    page.keyboard.press("p")
    expect(page.locator(f"#sug-{rejected['id']}")).to_have_count(0)
    decisions = _decisions(live_server, user, 2)
    assert {(d["suggestion_id"], d["decision"]) for d in decisions} == {(accepted["id"], "accepted"), (rejected["id"], "rejected")}
    assert len(_mine(live_server, "spans", user)) == 1  # a rejection saves no span
    wait_saved(page)
    assert_clean(page)


def test_editing_a_suggestion_then_its_label_key_accepts_it_edited(live_server, new_context, annotator, suggesting):
    user = annotator()
    page = log_in(new_context(), user)
    open_by_id(page, suggesting["id"])
    text = suggesting["text"]
    several = next(x for x in _offered(page) if x["group"] is None and len(text[x["start"]:x["end"]].split()) >= 3)
    key = page.evaluate("([layer, label]) => Object.entries(JSON.parse(document.querySelector('#annotator-data').textContent)"
                        ".hotkeys.sentence).find(([k, b]) => b.layer === layer && b.label === label)?.[0]",
                        [several["layer"], several["label"]])
    assert key
    # Tab cycles through the tags of the sentence in focus: it reaches the suggestion's.
    (position,) = live_server.rows('SELECT position FROM sentences WHERE document_id = :d AND start <= :a AND "end" > :a',
                                   d=suggesting["id"], a=several["start"])
    open_by_id(page, suggesting["id"], f"#s{position['position']}")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == f"sug-{several['id']}":
            break
    expect(page.locator(f"#sug-{several['id']}")).to_be_focused()
    page.keyboard.press("Shift+ArrowLeft")  # selects the suggestion's extent
    expect(page.locator("#sel-info")).to_contain_text(text[several["start"]:several["end"]][:20])
    page.keyboard.press("Shift+ArrowLeft")  # one word less at its end
    page.keyboard.press(key)
    wait_saved(page)
    (span,) = _mine(live_server, "spans", user)
    assert (span["origin"], span["suggestion_id"], span["start"]) == ("accepted_edited", several["id"], several["start"])
    assert span["end"] < several["end"]
    assert _decisions(live_server, user, 1)[0]["decision"] == "accepted"
    assert_clean(page)


def test_an_attribution_group_accepted_makes_the_linked_attribution(live_server, new_context, annotator, suggesting):
    user = annotator()
    page = log_in(new_context(), user)
    open_by_id(page, suggesting["id"])
    offered = _offered(page)
    cue = next(x for x in offered if x["role"] == "cue" and sum(y["group"] == x["group"] for y in offered) == 3)
    group = [x for x in offered if x["group"] == cue["group"]]
    _focus(page, cue)
    page.keyboard.press("Enter")
    wait_saved(page)
    spans = _mine(live_server, "spans", user)
    assert sorted((s["suggestion_id"], s["origin"]) for s in spans) == sorted((x["id"], "accepted") for x in group)
    (attribution,) = _mine(live_server, "attributions", user)
    assert (attribution["origin"], attribution["suggestion_id"]) == ("accepted", cue["id"])
    parts = live_server.rows("SELECT role FROM attribution_parts WHERE attribution_id = :a", a=attribution["id"])
    assert sorted(p["role"] for p in parts) == sorted(x["role"] for x in group)
    for x in group:
        expect(page.locator(f"#sug-{x['id']}")).to_have_count(0)
    # One undo step takes the whole group back, and the suggestions are offered again.
    page.keyboard.press("z")
    wait_saved(page)
    assert _mine(live_server, "spans", user) == [] and _mine(live_server, "attributions", user) == []
    expect(page.locator(f"#sug-{cue['id']}")).to_have_count(1)
    assert_clean(page)


def test_control_annotators_see_none_and_axe_finds_nothing_new(live_server, new_context, annotator, suggesting):
    shown, control = annotator(), annotator("control")
    live_server.cli("suggest", "design", "--project", PROJECT, "--on", "--control-share", "0", "--seed", "1")
    engine = live_server.engine()
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE assignments SET condition = 'control' WHERE document_id = ? AND user_id = (SELECT id FROM users "
            "WHERE username = ?)", (suggesting["id"], control))
    engine.dispose()
    found = {}
    for user in (control, shown):
        page = log_in(new_context(), user)
        open_by_id(page, suggesting["id"])
        found[user] = axe_violations(page)
        if user == control:
            assert _offered(page) == []
            expect(page.locator(".sug-tag, .seg.sug")).to_have_count(0)
        else:
            expect(page.locator(".sug-tag").first).to_be_attached()
        assert_clean(page)
    new = {rule: nodes for rule, nodes in found[shown].items() if rule not in found[control]}
    assert new == {}, f"on the page without suggestions: {found[control]}"
