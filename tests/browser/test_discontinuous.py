"""A discontinuous span on the annotation page: highlighted on its fragments only, the gap
between them left plain, with one tag; listed once, its text the fragments joined by " … "."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import SEED_TITLE, document_row, log_in, open_document

pytestmark = pytest.mark.browser

FRAGMENTS = ("Aslam Ghauri", "spokesperson for JUI-F")
GAP = ", the "

_CREATE = """async body => {
  const response = await fetch(`/api/documents/${body.document}/spans`, {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content},
    body: JSON.stringify(body.span)});
  return [response.status, await response.json()];
}"""
# The text of the article's segments that the span's highlight covers, in order.
_MARKED = """key => [...document.querySelectorAll('#doc span.m')]
  .filter(segment => segment.dataset.k.split(' ').includes(key)).map(segment => segment.textContent).join('|')"""


def test_a_discontinuous_span_is_drawn_on_its_fragments_with_one_tag(new_context, make_annotator, live_server):
    name = make_annotator()
    page = log_in(new_context(), name)
    open_document(page, SEED_TITLE)
    document = document_row(live_server, SEED_TITLE)
    text = document["text"]
    start = text.index(FRAGMENTS[0])
    middle = text.index(FRAGMENTS[1], start)
    assert text[start + len(FRAGMENTS[0]):middle] == GAP
    end = middle + len(FRAGMENTS[1])
    span = {"layer": "attribution", "label": "SOURCE", "start": start, "end": end, "text": text[start:end],
            "fragments": [[start, start + len(FRAGMENTS[0])], [middle, end]]}
    status, saved = page.evaluate(_CREATE, {"document": document["id"], "span": span})
    assert status == 201, saved

    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    key = f"s{saved['id']}"
    tag = page.locator(f"#tag-{key}")
    expect(tag).to_have_count(1)
    tag.scroll_into_view_if_needed()
    # Segments are cut at every boundary (the caret's word too): joined, they are the fragments.
    marked = page.evaluate(_MARKED, key)
    assert marked.replace("|", "") == "".join(FRAGMENTS), marked
    assert GAP not in marked.replace("|", "")
    expect(page.locator(f'[data-k="{key}"].tag')).to_have_count(1)

    tag.click()
    expect(page.locator("#panel-title .quote")).to_have_text(f"“{FRAGMENTS[0]} … {FRAGMENTS[1]}”")
    expect(page.locator(f"#sl-{key}")).to_contain_text(f"{FRAGMENTS[0]} … {FRAGMENTS[1]}")
    assert page.page_errors == [] and page.console_errors == []
