"""Attributions adjudicated as units in a real browser (issue 17), a smaller run of
bench/adjudication_bench.py's scenario: three annotators, four attributions (one all agree
on, one where every pair differs but every part has a majority, a three-way tie on the quote
type, one only one annotator saw). Pre-fill forms the two the majority shares; `Shift`+`A`
and a number accept the others whole, two keys each; gold then holds exactly the four, each
complete with its attributes. The panel shows each annotator's attribution as a unit, the
words they differ on marked, the differing attribute and what the proposal leaves open."""

from __future__ import annotations

from playwright.sync_api import expect

from bench.adjudication_bench import CASES, Supervisor, after, complete, gold_of, open_gold, set_up, wait_saved

from .conftest import PASSWORD, REPO, log_in

PROJECT = "unit-adjudication"
SMALL = [CASES[0], CASES[3], CASES[4], CASES[6]]  # all agree; every pair differs; quote-type tie; only one annotator


def test_prefill_then_unit_accepts_reach_complete_gold(live_server, new_context, tmp_path):
    (scenario,) = set_up(live_server.cli, live_server.database_url, tmp_path, PROJECT, SMALL, "unit", password=PASSWORD)
    page = log_in(new_context(), "unitsup")
    open_gold(page, scenario.document_id)
    page.console_errors.clear()  # the home page's favicon.ico 404 is not this page's
    who, formed = after(page, scenario, live_server.rows)

    assert formed == 2  # the two attributions a majority shares, whole: parts linked, attributes set
    assert who.keys == 2 * 2 and who.clicks == 1  # Shift+A and a number for each of the other two; the Pre-fill click
    gold = gold_of(live_server.rows, scenario)
    assert gold == sorted(scenario.wanted(case) for case in SMALL)
    assert all(map(complete, gold))
    assert page.page_errors == [] and page.console_errors == []


def test_the_panel_shows_units_their_differences_and_what_stays_open(live_server, new_context, tmp_path):
    (scenario,) = set_up(live_server.cli, live_server.database_url, tmp_path, PROJECT + "-panel", SMALL, "panel", password=PASSWORD)
    page = log_in(new_context(), "panelsup")
    open_gold(page, scenario.document_id)
    page.console_errors.clear()
    page.get_by_role("button", name="Start adjudicating").click()
    expect(page.get_by_role("button", name="Start adjudicating")).to_have_count(0)  # the page reloaded
    expect(page.locator("#annotate")).to_have_attribute("data-adjudicating", "ready")
    page.locator("#doc").focus()
    tie, alone = SMALL[2], SMALL[3]
    Supervisor(page).to_sentence(scenario.sentence_of[1])  # SMALL[1]: every pair differs
    panel = page.locator("#adjudication")
    units = panel.locator(".adj-ann .adj-unit")
    expect(units).to_have_count(3)
    # The third annotator's source is longer: its extra words marked, the whole text shown.
    third = panel.locator(".adj-ann").nth(2)
    expect(third.locator(".adj-unit .adj-parts")).to_contain_text("José Núñez, a lawyer in Bogotá")
    expect(third.locator(".adj-unit mark.diff-extra")).to_have_text(["a lawyer in Bogotá"])
    expect(panel.locator(".adj-ann").nth(1).locator(".diff-value")).to_contain_text("≠")  # its quote type: direct
    expect(panel.locator(".adj-proposal .adj-unit")).to_contain_text("José Núñez")
    panel.locator(".adj-ann").nth(2).scroll_into_view_if_needed()
    page.screenshot(path=REPO / "docs" / "screenshots" / "adjudicate-attributions.png")  # docs/adjudication.md

    # The quote-type tie: the proposal's attribution with the quote type open, never hidden.
    page.keyboard.press("j")
    assert scenario.sentence_of[2] == scenario.sentence_of[1] + 1, tie["sentence"]
    proposed = panel.locator(".adj-proposal .adj-unit")
    expect(proposed.locator(".adj-open")).to_contain_text("open")
    expect(proposed.locator(".adj-open")).to_contain_text("quote_type")
    # p takes the proposal's attribution: decided parts and attributes, the quote type left unset.
    page.keyboard.press("p")
    expect(page.locator("#hint")).to_contain_text("open for you")
    expect(page.locator("#sent-attrs .item")).to_have_count(1)
    expect(page.locator("#sent-attrs .item.incomplete")).to_have_count(0)  # parts complete: cue, source, content
    # Shift+A 3: the third annotator's attribution replaces it whole, with its quote type; z undoes it.
    page.keyboard.press("Shift+A")
    page.keyboard.press("3")
    expect(page.locator("#hint")).to_contain_text("Accepted")
    expect(page.locator("#sent-attrs .item")).to_have_count(1)
    wait_saved(page)
    assert scenario.wanted(tie) in gold_of(live_server.rows, scenario)
    page.keyboard.press("z")
    wait_saved(page)
    assert scenario.wanted(tie) not in gold_of(live_server.rows, scenario)

    # Starting an attribution by hand: the + buttons offer this sentence's free spans first, then
    # the neighbours' (the tie sentence's content, in full: longer than the 40 characters once shown).
    page.keyboard.press("j")
    assert scenario.sentence_of[3] == scenario.sentence_of[2] + 1, alone["sentence"]
    for label, words in (("SOURCE", "the central bank"), ("CONTENT", "inflation eased to 4 percent in March")):
        panel.get_by_role("button", name=f"Accept panel2's {label} {words}", exact=True).click()
    page.locator("#sent-spans button.item", has_text="the central bank").click()
    page.get_by_role("button", name="Start an attribution with this source").click()
    contents = page.locator('#panel button.add[aria-label$=" as content"]')
    expect(contents).to_have_text(["+ “inflation eased to 4 percent in March”", "+ “that the market would close “for good” next month”"])
    wait_saved(page)
    assert page.page_errors == [] and page.console_errors == []
