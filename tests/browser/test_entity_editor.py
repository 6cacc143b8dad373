"""Editing a linked source on the annotation page (static/entities.js, docs/entities.md, "Editing a
source on the page"): # opens the fields of the entity the SOURCE span links to; its maker saves
them (an Urdu alias typed right to left, gender chosen, never prefilled), focus goes back to the
span; an entity someone else made is shown read-only, with why; axe finds nothing wrong."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SEED_TITLE, log_in, open_document, wait_saved
from .test_entity_linking import BOX, entity_of, mark_source, press_enter, source_span
from .test_rtl import axe_violations

pytestmark = pytest.mark.browser

EDITOR = "#entity-editor"


def link_aslam(page) -> None:
    open_document(page, SEED_TITLE)
    mark_source(page, "Aslam Ghauri")
    page.keyboard.press("@")
    expect(page.locator(BOX)).to_be_visible()
    press_enter(page)


def test_the_maker_edits_the_linked_source_and_others_see_it_read_only(live_server, new_context, make_annotator):
    maker, other = make_annotator("maker"), make_annotator("other")
    page = log_in(new_context(), maker)
    link_aslam(page)
    tag = page.locator('#doc .tag[data-entity="Aslam Ghauri"]')
    tag.focus()
    page.keyboard.press("#")
    editor = page.locator(EDITOR)
    expect(editor).to_be_visible()
    expect(page.locator("#entity-edit-name")).to_be_focused()
    expect(page.locator("#entity-edit-name")).to_have_value("Aslam Ghauri")
    expect(page.locator("#entity-edit-gender")).to_have_value("")  # never prefilled
    assert page.locator("#entity-edit-gender option").all_inner_texts()[1:] == ["female", "male", "non binary"]
    assert axe_violations(page) == {}
    # An Urdu alias no other test of the shared live instance looks for (test_entity_linking makes
    # "اسلم غوری" an entity of its own: an alias of that name here would be its best match).
    page.locator("#entity-edit-aliases").fill("جے یو آئی کے ترجمان\nAslam Ghori")
    expect(page.locator("#entity-edit-aliases")).to_have_attribute("dir", "auto")
    page.locator("#entity-edit-kind").select_option("person")
    page.locator("#entity-edit-gender").select_option("male")
    page.locator("#entity-edit-affiliation").fill("JUI-F")
    page.locator("#entity-edit-wikidata_id").fill("q42")
    page.locator("#entity-edit-wikidata_id").press("Enter")  # submits the form
    expect(editor).to_be_hidden()
    expect(tag).to_be_focused()  # back on the span
    expect(page.locator("#hint")).to_contain_text("Saved the source")
    (row,) = live_server.rows("SELECT id, kind, gender, affiliation, wikidata_id FROM source_entities WHERE name = 'Aslam Ghauri'")
    assert (row["kind"], row["gender"], row["affiliation"], row["wikidata_id"]) == ("person", "male", "JUI-F", "Q42")
    aliases = {r["alias"] for r in live_server.rows("SELECT alias FROM source_entity_aliases WHERE entity_id = :id", id=row["id"])}
    assert aliases == {"جے یو آئی کے ترجمان", "Aslam Ghori"}
    # A refused change says why, on the field, and keeps the editor open.
    page.keyboard.press("#")
    page.locator("#entity-edit-wikidata_id").fill("42")
    page.locator("#entity-edit-name").press("Enter")
    expect(page.locator("#entity-edit-note")).to_contain_text("wikidata_id must be a Wikidata item id")
    expect(page.locator("#entity-edit-wikidata_id")).to_be_focused()
    page.keyboard.press("Escape")
    expect(editor).to_be_hidden()
    expect(tag).to_be_focused()

    # Another annotator links the same source: they see its fields, read-only, and why.
    theirs = log_in(new_context(), other)
    link_aslam(theirs)
    assert entity_of(live_server, source_span(live_server, other, "Aslam Ghauri")["id"]) == "Aslam Ghauri"
    theirs.locator('#doc .tag[data-entity="Aslam Ghauri"]').focus()
    theirs.keyboard.press("#")
    expect(theirs.locator(EDITOR)).to_be_visible()
    expect(theirs.locator("#entity-read-only")).to_contain_text("only a supervisor changes an entity someone else created")
    expect(theirs.locator("#entity-edit-gender")).to_have_value("male")
    expect(theirs.locator("#entity-edit-name")).to_be_disabled()
    expect(theirs.locator(f"{EDITOR} button[type=submit]")).to_have_count(0)
    assert axe_violations(theirs) == {}
    theirs.keyboard.press("Escape")
    expect(theirs.locator(EDITOR)).to_be_hidden()
    wait_saved(theirs)


def test_an_entity_id_the_page_does_not_know_is_named_not_shown_bare(live_server, new_context, make_annotator):
    user = make_annotator("merger")
    page = log_in(new_context(), user)
    link_aslam(page)
    key = page.locator('#doc .tag[data-entity="Aslam Ghauri"]').get_attribute("data-k")
    (row,) = live_server.rows("SELECT project_id FROM source_entities WHERE name = 'Aslam Ghauri'")
    # The registry changes under the open page (as a merge re-points spans to its survivor):
    # the page meets an id it has no name for, and asks the registry.
    survivor = page.evaluate("""async ([url]) => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const res = await fetch(url, {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf}, body: JSON.stringify({name: 'A. Ghauri'})});
        return (await res.json()).id; }""", [f"/api/projects/{row['project_id']}/entities"])
    page.evaluate("""async ([k, id]) => {
        const { page } = await import(document.querySelector('script[type=module]').src);
        const s = page.liveSpan(k); s.entity_id = id; page.touch(s); page.render(); }""", [key, survivor])
    tag = page.locator(f'#doc .tag[data-k="{key}"]')
    expect(tag).to_have_attribute("data-entity", "A. Ghauri")
    assert "entity " not in (tag.get_attribute("aria-label") or "")
