"""The annotation page's keys and layout, as annotators work all day: the save state in view,
Enter after a label button, the done marker and the keys to the next sentence not done,
caret movement (Home/End, Ctrl+arrows, clicks) with exact code-point offsets, the home page's
confirmation, the narrow layout, the guidelines' list of keys, and long documents (a key press
redraws only the sentences it changes)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from .conftest import (
    SEED_TITLE,
    document_row,
    log_in,
    open_document,
    select_text,
    user_rows,
    wait_saved,
)

pytestmark = pytest.mark.browser

CURRENT = re.compile(r"\bcur\b")
DONE = re.compile(r"\bdone\b")
S1 = ("In an official statement, Aslam Ghauri, the spokesperson for JUI-F, conveyed that Khaled Meshaal updated "
      "Maulana Fazlur Rehman on the current situation between Palestine and Israel")
UNICODE_TITLE = "Keys probe: astral characters and Greek"
UNICODE_SENTENCE = "Ο υπουργός 🎉 είπε ότι το 𝒳-ray κόστισε 1.200 ευρώ στη Θεσσαλονίκη"
LONG_TITLE = "A long article of two thousand sentences"
LONG_SENTENCES = 2000


def in_viewport(page, selector: str) -> bool:
    """The element's whole box is inside the window."""
    return page.evaluate("""s => { const r = document.querySelector(s).getBoundingClientRect();
      return r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }""", selector)


def import_article(live_server, path, project: str) -> int:
    """Import one article into a project of its own, past the CLI's sentence limit."""
    from annotator.db import configure_engine
    from annotator.ingest import read_paths
    from annotator.services import imports, projects
    from annotator.services.permissions import SYSTEM

    engine = configure_engine(sa.create_engine(live_server.database_url))
    try:
        with Session(engine) as session:
            project_row = projects.get_or_create_project(session, SYSTEM, project)
            summary = imports.import_articles(session, SYSTEM, project_row.id, read_paths([path], max_sentences=100_000))
            assert summary.imported, summary
    finally:
        engine.dispose()
    return live_server.rows("SELECT d.id FROM documents d JOIN projects p ON p.id = d.project_id WHERE p.name = :p",
                            p=project)[0]["id"]


@pytest.fixture(scope="module")
def unicode_document(live_server, tmp_path_factory) -> int:
    path = tmp_path_factory.mktemp("unicode") / "keys_probe.txt"
    path.write_text(f"{UNICODE_TITLE}\n\nA first sentence comes here.\n\n{UNICODE_SENTENCE}.\n", encoding="utf-8")
    return import_article(live_server, path, "keys-probe")


@pytest.fixture(scope="module")
def long_document(live_server, tmp_path_factory) -> int:
    """2,000 sentences in paragraphs of three."""
    sentences = [f"Sentence {n} of the long article says that the council met again on Tuesday." for n in range(LONG_SENTENCES)]
    paragraphs = [" ".join(sentences[n:n + 3]) for n in range(0, LONG_SENTENCES, 3)]
    path = tmp_path_factory.mktemp("long") / "long.txt"
    path.write_text(LONG_TITLE + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    document_id = import_article(live_server, path, "long")
    assert live_server.rows("SELECT count(*) AS n FROM sentences WHERE document_id = :d", d=document_id)[0]["n"] == LONG_SENTENCES
    return document_id


def mark_every_sentence(live_server, username: str, document_id: int) -> None:
    """Two spans in every sentence (straight into the database: 4,000 saves through the page would take minutes)."""
    from annotator.models import Document, Span, User

    engine = sa.create_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            user = session.scalar(sa.select(User).where(User.username == username))
            document = session.get(Document, document_id)
            for sentence in document.sentences:
                words = [(sentence.start + m.start(), sentence.start + m.end())
                         for m in re.finditer(r"\w+", document.text[sentence.start:sentence.end])]
                for layer, label, (start, end) in (("attribution", "SOURCE", (words[0][0], words[1][1])),
                                                   ("loaded_language", "LOADED_LANGUAGE", words[8])):
                    session.add(Span(user_id=user.id, document_id=document.id, sentence_id=sentence.id, layer=layer,
                                     label=label, start=start, end=end, text=document.text[start:end], attributes={}))
            session.commit()
    finally:
        engine.dispose()


def open_by_id(page, document_id: int, hash_: str = "") -> None:
    page.goto(f"/documents/{document_id}{hash_}")
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    page.console_errors.clear()  # the home page's favicon.ico 404 is not this page's


def assert_clean(page) -> None:
    assert page.page_errors == [] and page.console_errors == []


# -- 1. the save state and progress stay in view ---------------------------------------------


def test_the_save_state_stays_in_view_down_a_long_article(live_server, new_context, make_annotator, long_document):
    user = make_annotator("sticky")
    live_server.cli("assign", "--project", "long", "--user", user)
    page = log_in(new_context(), user)
    open_by_id(page, long_document)
    page.keyboard.press("1")
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => scrollY > 10000")
    for selector in ("#save-state", "#progress", "#progress-text"):
        assert in_viewport(page, selector), selector
    expect(page.locator("#save-state")).to_have_text("Saved")
    expect(page.locator("#progress-text")).to_have_text(f"1 / {LONG_SENTENCES} sentences done")
    assert_clean(page)


# -- 2. Enter after a label button ------------------------------------------------------------


def test_enter_after_clicking_a_label_button_opens_the_span_just_marked(live_server, new_context, make_annotator):
    user = make_annotator("button")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    select_text(page, "ARY News")
    page.locator("button.lab", has_text="SOURCE").click()
    expect(page.locator('#doc .tag[data-label="SOURCE"]')).to_have_count(1)
    expect(page.locator("#doc")).to_be_focused()  # the keys act on the text again
    page.keyboard.press("Enter")
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#panel-title")).to_contain_text("SOURCE")
    expect(panel.locator("#panel-title")).to_contain_text("ARY News")
    page.keyboard.press("Escape")

    # A value button clicked with the mouse gives the keys back to the text too.
    page.locator('button.choice[data-value="quantity"]').click()
    expect(page.locator("#doc")).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel.locator("#panel-title")).to_contain_text("SOURCE")
    wait_saved(page)
    assert [row["text"] for row in user_rows(live_server, "spans", user)] == ["ARY News"]
    assert_clean(page)


# -- 3. the done marker, and Shift+J / Shift+K -------------------------------------------------


def test_done_sentences_show_a_check_mark_and_shift_j_k_go_to_those_not_done(live_server, new_context, make_annotator):
    user = make_annotator("undone")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    for key in ("j", "1", "j", "2", "j", "j", "3", "k", "k", "k", "k"):  # done: 1, 2, 4
        page.keyboard.press(key)
    expect(page.locator("#s0")).to_have_class(CURRENT)
    expect(page.locator("#progress-text")).to_have_text("3 / 14 sentences done")
    for done in ("#s1", "#s2", "#s4"):
        expect(page.locator(done)).to_have_class(DONE)
    marker = "s => getComputedStyle(document.querySelector(s), '::before').content"
    assert "✓" in page.evaluate(marker, "#s1")  # a shape, not only a colour
    assert "✓" not in page.evaluate(marker, "#s3")
    expect(page.locator("#s3")).not_to_have_class(DONE)

    page.keyboard.press("Shift+J")
    expect(page.locator("#s3")).to_have_class(CURRENT)
    page.keyboard.press("Shift+J")
    expect(page.locator("#s5")).to_have_class(CURRENT)
    expect(page.locator("#s5")).to_be_in_viewport()
    page.keyboard.press("Shift+K")
    expect(page.locator("#s3")).to_have_class(CURRENT)
    page.keyboard.press("Shift+K")
    expect(page.locator("#s0")).to_have_class(CURRENT)
    page.keyboard.press("Shift+K")
    expect(page.locator("#s0")).to_have_class(CURRENT)
    expect(page.locator("#hint")).to_have_text("Every sentence before this one is done.")
    page.keyboard.press("j")  # and j still moves one sentence
    expect(page.locator("#s1")).to_have_class(CURRENT)
    assert_clean(page)


# -- 4. Home/End, Ctrl+arrows and clicks: exact ranges ------------------------------------------


def test_home_end_ctrl_arrows_and_clicks_select_exact_ranges(live_server, new_context, make_annotator):
    user = make_annotator("caret")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    text = document_row(live_server, SEED_TITLE)["text"]
    info = page.locator("#sel-info")

    page.keyboard.press("j")
    page.keyboard.press("End")
    expect(page.locator("#s1 .caret")).to_have_text("Israel")
    page.keyboard.press("Shift+Home")
    expect(info).to_contain_text("“In an official statement")
    page.keyboard.press("t")  # CONTENT: the whole sentence but its full stop

    page.keyboard.press("Home")
    expect(page.locator("#s1 .caret")).to_have_text("In")
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+ArrowRight")
    expect(page.locator("#s1 .caret")).to_have_text("official")
    page.keyboard.press("Control+Shift+ArrowRight")  # the caret's word
    page.keyboard.press("Control+Shift+ArrowRight")
    expect(page.locator("#s1 .sel")).to_have_text("official statement")
    page.keyboard.press("m")  # SUPPLEMENT

    # A click puts the caret on the word clicked; Shift+End selects from there to the end.
    select_text(page, "conveyed")  # a drag over one word, then Shift+arrows extend it
    page.keyboard.press("Shift+ArrowRight")
    expect(info).to_contain_text("“conveyed that”")
    page.keyboard.press("Escape")
    box = page.locator("#s3").evaluate("""el => { const n = [...el.childNodes].find(x => x.nodeType === 3 && x.data.includes('expressed'));
      const r = document.createRange(), i = n.data.indexOf('expressed') + 3; r.setStart(n, i); r.setEnd(n, i + 1);
      const q = r.getBoundingClientRect(); return { x: q.left + 1, y: q.top + q.height / 2 }; }""")
    page.mouse.click(box["x"], box["y"])
    expect(page.locator("#s3")).to_have_class(CURRENT)
    expect(page.locator("#s3 .caret")).to_have_text("expressed")
    page.keyboard.press("Shift+End")
    page.keyboard.press("c")
    wait_saved(page)

    spans = {row["label"]: row for row in user_rows(live_server, "spans", user)}
    sentence3 = next(line for line in text.split("\n") if line.startswith("During this exchange"))
    after = sentence3[sentence3.index("expressed"):sentence3.index(". He also")]
    assert {label: row["text"] for label, row in spans.items()} == {"CONTENT": S1, "SUPPLEMENT": "official statement", "CUE": after}
    for row in spans.values():
        assert (row["start"], row["end"]) == (text.index(row["text"]), text.index(row["text"]) + len(row["text"]))

    # Browser shortcuts stay the browser's: nothing here takes Ctrl+C, Ctrl+F, Ctrl+R or Alt+←.
    taken = page.evaluate("""() => [['c', {ctrlKey: true}], ['f', {ctrlKey: true}], ['r', {ctrlKey: true}], ['ArrowLeft', {altKey: true}],
        ['Home', {ctrlKey: true}], ['j', {metaKey: true}]].filter(([key, mods]) =>
        !document.querySelector('#doc').dispatchEvent(new KeyboardEvent('keydown', {key, ...mods, bubbles: true, cancelable: true}))).map(String)""")
    assert taken == []
    assert_clean(page)


def test_keyboard_selection_counts_code_points_over_emoji_and_greek(live_server, new_context, make_annotator, unicode_document):
    user = make_annotator("unicode")
    live_server.cli("assign", "--project", "keys-probe", "--user", user)
    page = log_in(new_context(), user)
    open_by_id(page, unicode_document, "#s1")
    page.keyboard.press("End")
    expect(page.locator("#s1 .caret")).to_have_text("Θεσσαλονίκη")
    page.keyboard.press("Shift+Home")
    expect(page.locator("#s1 .sel")).to_have_text(UNICODE_SENTENCE)
    page.keyboard.press("t")
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("Control+ArrowRight")  # past 🎉, which is no word
    expect(page.locator("#s1 .caret")).to_have_text("ότι")
    for _ in range(3):
        page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("l")
    wait_saved(page)
    text = live_server.rows("SELECT text FROM documents WHERE id = :d", d=unicode_document)[0]["text"]
    spans = sorted((row["start"], row["end"], row["text"]) for row in user_rows(live_server, "spans", user))
    expected = [UNICODE_SENTENCE, "ότι το 𝒳-ray"]
    assert sorted(spans) == sorted((text.index(t), text.index(t) + len(t), t) for t in expected)  # code points
    assert_clean(page)


# -- 5. the home page's Mark done asks first ----------------------------------------------------


def test_mark_done_on_the_home_page_asks_first(live_server, new_context, make_annotator):
    user = make_annotator("homedone")
    page = log_in(new_context(), user)

    def status() -> str:
        return live_server.rows(
            "SELECT a.status FROM assignments a JOIN users u ON u.id = a.user_id JOIN documents d ON d.id = a.document_id "
            "WHERE u.username = :u AND d.title = :t", u=user, t=SEED_TITLE)[0]["status"]

    before = status()
    row = page.locator("li.assignment", has_text=SEED_TITLE)
    asked = []
    page.once("dialog", lambda dialog: (asked.append((dialog.type, dialog.message)), dialog.dismiss()))
    page.evaluate("() => { window.__stayed = true; }")  # gone if the form were sent (the click waits for a navigation it starts)
    row.get_by_role("button", name="Mark done").click()
    assert page.evaluate("() => window.__stayed") is True
    expect(row.get_by_role("button", name="Mark done")).to_be_visible()
    assert asked == [("confirm", f"Mark “{SEED_TITLE}” done? It becomes read-only until a supervisor reopens it.")]
    assert status() == before != "done"

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Mark done").click()
    expect(page.locator(".flash")).to_contain_text("Marked done")
    expect(row.locator(".status-done")).to_be_visible()
    assert status() == "done"
    assert page.page_errors == []


# -- 6. below 1000 px the panel stays in reach --------------------------------------------------


def test_at_800_px_the_label_buttons_stay_in_reach_beside_the_sentence(live_server, new_context, make_annotator):
    user = make_annotator("narrow")
    page = log_in(new_context(viewport={"width": 800, "height": 900}), user)
    open_document(page, SEED_TITLE)
    side, bar = page.locator("#side"), page.locator(".ann-bar")
    for n in range(1, 14):
        page.keyboard.press("j")
        cur = page.locator(f"#s{n}")
        expect(cur).to_have_class(CURRENT)
        cur_box, side_box, bar_box = cur.bounding_box(), side.bounding_box(), bar.bounding_box()
        top, bottom = bar_box["y"] + bar_box["height"], side_box["y"]  # what the sticky bar and the docked panel leave
        assert top - 1 <= cur_box["y"] and cur_box["y"] + cur_box["height"] <= bottom + 1, (n, cur_box, top, bottom)
        for button in ("SOURCE", "APPEAL_TO_FEAR"):
            expect(page.locator("button.lab", has_text=button)).to_be_in_viewport(ratio=1)
    assert side_box["y"] + side_box["height"] <= 900 and side_box["height"] <= 0.46 * 900

    # The buttons work from there, and the panel folds away and comes back.
    select_text(page, "Mohammed Deif")
    page.locator("button.lab", has_text="SOURCE").click()
    expect(page.locator('#doc .tag[data-label="SOURCE"]')).to_have_count(1)
    toggle = page.locator("#side-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("button.lab").first).to_be_hidden()
    assert side.bounding_box()["height"] < 150
    page.keyboard.press("Enter")  # a span's panel opens it again
    expect(page.locator("#panel")).to_be_in_viewport()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(page.locator("button.lab").first).to_be_visible()
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    assert in_viewport(page, "#save-state")
    assert_clean(page)


# -- 7. the guidelines list every key, and one spelling of every name ----------------------------


def test_the_guidelines_list_exactly_the_keys_the_page_answers_to(live_server, new_context, make_annotator):
    user = make_annotator("keylist")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    page.keyboard.press("?")
    guide = page.locator("#guide")
    expect(guide).to_be_visible()
    listed = set(" ".join(guide.locator(".keys dt[data-keys]").evaluate_all("els => els.map(e => e.dataset.keys)")).split())
    handled = set(page.evaluate("async () => (await import(document.querySelector('script[type=module]').src)).page.keys"))
    assert listed == handled, (listed - handled, handled - listed)
    # Rows without data-keys are the codebook's keys (listed below) and the browser's Tab.
    assert guide.locator(".keys dt:not([data-keys]) kbd").all_inner_texts() == ["Tab"]
    # The codebook's keys: each label's, value's and attribute value's key shown beside it.
    hotkeys = page.evaluate("() => JSON.parse(document.querySelector('#annotator-data').textContent).hotkeys")
    codebook_keys = {key for scope in hotkeys.values() for key in scope}
    shown = set(guide.locator(".guidelines > dl:not(.keys) kbd").all_inner_texts())
    assert shown == codebook_keys
    page.keyboard.press("Escape")
    expect(guide).to_be_hidden()


def test_every_name_is_spelled_as_the_codebook_writes_it(live_server, new_context, make_annotator):
    user = make_annotator("names")
    page = log_in(new_context(), user)
    open_document(page, SEED_TITLE)
    select_text(page, "brutalities")
    page.keyboard.press("a")  # NAME_CALLING_LABELING
    page.keyboard.press("Enter")
    panel = page.locator("#panel")
    expect(panel.locator("#panel-title")).to_contain_text("NAME_CALLING_LABELING")
    expect(panel.locator('label[for="pl-label-NAME_CALLING_LABELING"]')).to_contain_text("NAME_CALLING_LABELING")
    expect(page.locator('#doc .tag[data-label="NAME_CALLING_LABELING"]')).to_have_count(1)
    expect(page.locator("#sent-spans")).to_contain_text("NAME_CALLING_LABELING")
    expect(page.locator("button.lab", has_text="NAME_CALLING_LABELING")).to_have_count(1)
    expect(page.locator('button.choice[data-value="personal_experience"]')).to_contain_text("personal_experience")
    expect(page.locator("#guide")).to_contain_text("NAME_CALLING_LABELING")
    for spaced in ("NAME CALLING LABELING", "personal experience"):
        expect(page.locator("#annotate")).not_to_contain_text(spaced)
    page.keyboard.press("Escape")
    assert_clean(page)


# -- 8. a long document: a key press redraws only what it changes ------------------------------

# Which sentences of the article a change touched, from the DOM itself; and anything outside
# them (the article's paragraphs and blocks) counts as "outside".
OBSERVE = """() => {
  window.__touched = new Set();
  const doc = document.querySelector('#doc');
  window.__observer?.disconnect();
  window.__observer = new MutationObserver(records => { for (const r of records) {
    const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    window.__touched.add(el.closest('.sent')?.id ?? 'outside');
  } });
  window.__observer.observe(doc, { subtree: true, childList: true, attributes: true, characterData: true });
}"""
TOUCHED = "() => new Promise(done => requestAnimationFrame(() => setTimeout(() => done([...window.__touched].sort()))))"


def test_in_a_long_document_a_key_press_redraws_only_the_sentences_it_changes(live_server, new_context, make_annotator, long_document):
    user = make_annotator("long")
    live_server.cli("assign", "--project", "long", "--user", user)
    mark_every_sentence(live_server, user, long_document)
    page = log_in(new_context(), user)
    open_by_id(page, long_document, "#s1000")
    root = page.locator("#annotate")
    expect(root).to_have_attribute("data-decorated", "true", timeout=30_000)  # drawn in full, while idle
    expect(page.locator("#doc .tag")).to_have_count(2 * LONG_SENTENCES)
    expect(page.locator("#s1000")).to_have_class(CURRENT)

    def press(key: str) -> list[str]:
        page.evaluate(OBSERVE)
        page.keyboard.press(key)
        return page.evaluate(TOUCHED)

    assert press("j") == ["s1000", "s1001"]
    expect(page.locator("#s1001")).to_have_class(CURRENT)
    assert press("k") == ["s1000", "s1001"]
    assert press("ArrowRight") == ["s1000"]
    assert press("Shift+End") == ["s1000"]
    assert press("Escape") == ["s1000"]
    assert press("3") == ["s1000"]  # done: its check mark; the count is kept, not recounted
    expect(page.locator("#progress-text")).to_have_text(f"1 / {LONG_SENTENCES} sentences done")
    assert press("Shift+J") == ["s1000", "s1001"]  # the next not done
    assert press("Shift+K") == ["s1001", "s999"]  # the previous not done, past s1000
    expect(page.locator("#s999")).to_have_class(CURRENT)
    page.keyboard.press("j")
    page.keyboard.press("j")
    select_text(page, "council", 1001)  # a drag over a word of s1001, then a label key
    assert press("d") == ["s1001"]
    expect(page.locator('#s1001 .tag[data-label="DOUBT"]')).to_have_count(1)
    assert press("z") == ["s1001"]
    wait_saved(page)
    assert press("End") == ["s1001"]
    assert_clean(page)
