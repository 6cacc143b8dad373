"""Linking SOURCE spans to source entities on the annotation page (static/entities.js,
docs/entities.md): two keystrokes (@, Enter) with a SOURCE span selected, the name on the span's
tag and in the attribution panel, a pronoun of a later sentence linked by typing a name, undo,
a reload that keeps it, a link made offline and saved later, and an Urdu article."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SEED_TITLE, cut_api, document_row, log_in, open_document, select_text, user_rows, wait_saved

pytestmark = pytest.mark.browser

URDU_TITLE = "حماس کے رہنما خالد مشعل کا مولانا فضل الرحمان کو ٹیلیفون، اسرائیل کے خلاف حمایت کی اپیل"
BOX, QUERY, OPTIONS = "#entity-box", "#entity-q", "#entity-list [role=option]"


def entity_of(live_server, span_id: int) -> str | None:
    """The name of the entity the span links to (None: not linked)."""
    rows = live_server.rows("SELECT e.name FROM spans s JOIN source_entities e ON e.id = s.entity_id WHERE s.id = :id", id=span_id)
    return rows[0]["name"] if rows else None


def source_span(live_server, user: str, text: str) -> dict:
    (span,) = [s for s in user_rows(live_server, "spans", user) if s["text"] == text and s["label"] == "SOURCE"]
    return span


def press_enter(page) -> None:
    """Enter in the box: it links once the registry has answered the latest text typed, then closes."""
    page.keyboard.press("Enter")
    expect(page.locator(BOX)).to_be_hidden()
    wait_saved(page)


def mark_source(page, text: str, nth: int = 0) -> None:
    select_text(page, text, nth)
    page.keyboard.press("s")
    expect(page.locator("#hint")).to_contain_text("Marked SOURCE")


def test_two_keystrokes_link_a_source_and_a_pronoun_is_linked_by_typing(live_server, new_context, make_annotator):
    user = make_annotator("linker")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)

    mark_source(page, "Aslam Ghauri")
    # The two keystrokes: @ opens the box on the span just marked, prefilled; Enter links.
    page.keyboard.press("@")
    expect(page.locator(BOX)).to_be_visible()
    expect(page.locator(QUERY)).to_have_value("Aslam Ghauri")
    expect(page.locator(QUERY)).to_be_focused()
    press_enter(page)
    tag = page.locator('#doc .tag[data-label="SOURCE"]').first
    expect(tag).to_have_attribute("data-entity", "Aslam Ghauri")
    expect(page.locator("#hint")).to_contain_text("Linked “\u2068Aslam Ghauri\u2069” to “\u2068Aslam Ghauri\u2069”")
    aslam = source_span(live_server, user, "Aslam Ghauri")
    assert entity_of(live_server, aslam["id"]) == "Aslam Ghauri"

    # z undoes the link (saved), Shift+Z redoes it.
    page.keyboard.press("z")
    expect(tag).not_to_have_attribute("data-entity", "Aslam Ghauri")
    wait_saved(page)
    assert entity_of(live_server, aslam["id"]) is None
    page.keyboard.press("Shift+Z")
    expect(tag).to_have_attribute("data-entity", "Aslam Ghauri")
    wait_saved(page)
    assert entity_of(live_server, aslam["id"]) == "Aslam Ghauri"

    # A cue in the same sentence makes an attribution: its panel names the source's entity.
    select_text(page, "conveyed that")
    page.keyboard.press("c")
    expect(page.locator("#sent-attrs button.item")).to_contain_text("→ Aslam Ghauri")

    # Maulana Fazlur Rehman, linked; then "He" of the next sentence.
    mark_source(page, "Maulana Fazlur Rehman", nth=2)
    page.keyboard.press("@")
    expect(page.locator(QUERY)).to_have_value("Maulana Fazlur Rehman")
    expect(page.locator(OPTIONS).first).to_contain_text("Maulana Fazlur Rehman")
    press_enter(page)
    mark_source(page, "He")
    wait_saved(page)
    he = source_span(live_server, user, "He")
    # For a pronoun the box lists this article's sources, the nearest before it first; typing a name searches.
    page.keyboard.press("@")
    expect(page.locator(QUERY)).to_have_value("He")
    expect(page.locator("#entity-note")).to_contain_text("is a pronoun")
    expect(page.locator(OPTIONS).first).to_contain_text("Maulana Fazlur Rehman")
    expect(page.locator(OPTIONS).first).to_contain_text("in this article")
    expect(page.locator(OPTIONS).nth(1)).to_contain_text("Aslam Ghauri")
    expect(page.locator(BOX)).not_to_contain_text("New source «He»")
    page.keyboard.type("Fazlur")
    expect(page.locator(OPTIONS).first).to_contain_text("Maulana Fazlur Rehman")
    press_enter(page)
    assert entity_of(live_server, he["id"]) == "Maulana Fazlur Rehman"
    expect(page.locator('#doc .tag[aria-label="SOURCE (Maulana Fazlur Rehman): He"]')).to_have_count(1)

    # The span's panel says whom it is linked to.
    page.keyboard.press("Enter")
    expect(page.locator("#panel .entity-line")).to_contain_text("Source: Maulana Fazlur Rehman")
    page.keyboard.press("Escape")

    # A reload shows what was saved.
    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    expect(page.locator(f'#doc .tag[data-k="s{aslam["id"]}"]')).to_have_attribute("data-entity", "Aslam Ghauri")
    expect(page.locator(f'#doc .tag[data-k="s{he["id"]}"]')).to_have_attribute("data-entity", "Maulana Fazlur Rehman")
    # The article's DOM text is the document's text: names are drawn by CSS only.
    document = document_row(live_server, SEED_TITLE)
    assert page.locator("#doc").text_content().strip() == document["text"].strip()
    assert page.page_errors == [] and page.console_errors == []


def test_only_a_source_span_opens_the_box_and_escape_closes_it(live_server, new_context, make_annotator):
    user = make_annotator("escape")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    select_text(page, "Israeli brutalities")
    page.keyboard.press("l")
    page.keyboard.press("@")
    expect(page.locator("#hint")).to_contain_text("No SOURCE span here")
    expect(page.locator(BOX)).to_be_hidden()
    mark_source(page, "ARY News")
    page.keyboard.press("@")
    expect(page.locator(BOX)).to_be_visible()
    page.keyboard.press("j")  # typed into the box: the page's keys wait
    expect(page.locator(QUERY)).to_have_value("j")
    page.keyboard.press("Escape")
    expect(page.locator(BOX)).to_be_hidden()
    expect(page.locator("#doc")).to_be_focused()
    wait_saved(page)
    assert entity_of(live_server, source_span(live_server, user, "ARY News")["id"]) is None


def test_a_link_made_offline_is_saved_once_back(live_server, new_context, make_annotator):
    user = make_annotator("offline")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    cut_api(page)
    mark_source(page, "A source close to Hamas in Gaza")
    page.keyboard.press("@")
    expect(page.locator("#entity-note")).to_contain_text("cannot be reached")
    expect(page.locator(OPTIONS).first).to_contain_text("New source «A source close to Hamas in Gaza»")
    page.keyboard.press("Enter")
    expect(page.locator(BOX)).to_be_hidden()
    expect(page.locator('#doc .tag[data-entity="A source close to Hamas in Gaza"]')).to_have_count(1)
    expect(page.locator("#save-state")).to_contain_text("Offline")
    page.unroute("**/api/**")
    wait_saved(page)
    assert entity_of(live_server, source_span(live_server, user, "A source close to Hamas in Gaza")["id"]) == \
        "A source close to Hamas in Gaza"


def test_an_urdu_article(live_server, new_context, make_annotator):
    user = make_annotator("urdu")
    page = log_in(new_context(), user)
    open_document(page, URDU_TITLE)
    mark_source(page, "اسلم غوری")
    page.keyboard.press("@")
    expect(page.locator(QUERY)).to_have_value("اسلم غوری")
    expect(page.locator(QUERY)).to_have_attribute("dir", "auto")
    press_enter(page)
    mark_source(page, "مولانا فضل الرحمان", nth=2)
    page.keyboard.press("@")
    press_enter(page)
    # "انہوں نے" ("he", of the next sentence): the nearest source before it first.
    mark_source(page, "انہوں نے")
    page.keyboard.press("@")
    expect(page.locator("#entity-note")).to_contain_text("is a pronoun")
    expect(page.locator(OPTIONS).first).to_contain_text("مولانا فضل الرحمان")
    press_enter(page)
    assert entity_of(live_server, source_span(live_server, user, "انہوں نے")["id"]) == "مولانا فضل الرحمان"
    assert entity_of(live_server, source_span(live_server, user, "اسلم غوری")["id"]) == "اسلم غوری"
    # The tag reads in the article's direction and keeps the name whole.
    tag = page.locator('#doc .tag[data-entity="مولانا فضل الرحمان"]')
    expect(tag).to_have_count(2)
    assert page.evaluate("() => getComputedStyle(document.querySelector('#doc')).direction") == "rtl"
    assert page.page_errors == [] and page.console_errors == []
