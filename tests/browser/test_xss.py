"""Article text is data, never markup: an article full of HTML shows it as text and runs nothing.

The page is opened with the Content-Security-Policy bypassed, so that the CSP cannot hide a
page that inserts the text as HTML: only rendering it as text keeps window.__xss unset.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import XSS_STRINGS, XSS_TITLE, document_row, log_in, select_text, user_rows, wait_saved

pytestmark = pytest.mark.browser


def assert_inert(page) -> None:
    article = page.locator("#doc")
    for markup in XSS_STRINGS:
        expect(article).to_contain_text(markup)
    expect(page.locator("h1.ann-title")).to_have_text(XSS_TITLE)
    for tag in ("img", "script", "a", "b"):
        expect(article.locator(tag)).to_have_count(0)
    assert page.evaluate("() => typeof window.__xss") == "undefined"


def test_markup_in_an_article_is_shown_as_text_and_never_runs(live_server, new_context, make_annotator):
    user = make_annotator("xss")
    page = log_in(new_context(bypass_csp=True), user)
    page.get_by_role("link", name=XSS_TITLE, exact=True).click()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    assert_inert(page)

    # Annotate over the markup (the first piece crosses a sentence break, at "window."), and
    # after an astral character (🎉 and 𝒳 are one code point for the server, two UTF-16
    # units in JS).
    select_text(page, XSS_STRINGS[0])
    page.keyboard.press("t")
    select_text(page, XSS_STRINGS[1])
    page.keyboard.press("l")
    select_text(page, "said")
    page.keyboard.press("c")
    select_text(page, "𝒳 Gazette")
    page.keyboard.press("s")
    wait_saved(page)

    text = document_row(live_server, XSS_TITLE)["text"]
    spans = {row["label"]: row for row in user_rows(live_server, "spans", user)}
    assert {label: row["text"] for label, row in spans.items()} == {  # snapped to whole words
        "CONTENT": "script>window.__xss=1</script",
        "LOADED_LANGUAGE": 'img src=x onerror="window.__xss=1',
        "CUE": "said",
        "SOURCE": "𝒳 Gazette",
    }
    for row in spans.values():
        assert row["start"] == text.index(row["text"]) and row["end"] == row["start"] + len(row["text"])

    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    for label in ("CONTENT", "LOADED_LANGUAGE", "CUE", "SOURCE"):
        expect(page.locator(f'#doc .tag[data-label="{label}"]')).to_have_count(1)
    expect(page.locator('#doc .tag[data-label="LOADED_LANGUAGE"] + .seg')).to_have_text('img src=x onerror="window.__xss=1')
    expect(page.locator('#doc .tag[data-label="CUE"] + .seg')).to_have_text("said")
    assert_inert(page)
    assert page.page_errors == []
