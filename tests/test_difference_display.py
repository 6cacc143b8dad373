"""What annotators differ in, shown on the review page and in the disagreement browser (issue
17): each span's full text with the words where its boundaries differ marked, every attribute
of spans and attributions with the differing values marked, and review's "only disagreements"
taking in what one annotator marked alone (annotator.spandiff, docs/supervision.md "Review")."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from annotator import spandiff
from annotator.ingest import build_article
from annotator.models import Document, Sentence
from annotator.spandiff import EXTRA, SAME, SHORT

from .helpers import Client, add_users, assign, ok, project_with, span_payload

ENGLISH = [
    "The minister, Ali Khan, told reporters that the brutal raid was a reckless waste of money.",
    "The weather was fine on Sunday.",
    "Markets opened on Monday.",
]
# Urdu, with a zero-width non-joiner inside a word (خوش‌آمدید).
URDU = ["انہوں نے کہا کہ کئی نے خوش\u200cآمدید کے بجائے احتجاج کا پیغام لکھا۔"]


def _pieces(pieces) -> list[tuple[str, str]]:
    return [(p.text, p.kind) for p in pieces]


# -- the boundary difference (pure) ---------------------------------------------------------------


def test_the_words_only_one_span_includes_and_where_it_stops_short():
    text = ENGLISH[0]
    at = text.index("reckless")
    long, short = (at, at + len("reckless waste of money")), (at, at + len("reckless waste"))
    assert _pieces(spandiff.boundary_pieces(text, *long, [short])) == [("reckless waste ", SAME), ("of money", EXTRA)]
    assert _pieces(spandiff.boundary_pieces(text, *short, [long])) == [("reckless waste", SAME), ("of money", SHORT)]
    # Starting earlier and later at once; a span nobody else overlaps is all its own.
    earlier = (text.index("a reckless"), at + len("reckless"))
    assert _pieces(spandiff.boundary_pieces(text, *short, [earlier])) == [("a", SHORT), ("reckless ", SAME), ("waste", EXTRA)]
    assert _pieces(spandiff.boundary_pieces(text, *short, [(0, 3)])) == [("reckless waste", EXTRA)]
    assert _pieces(spandiff.boundary_pieces(text, *short, [short])) == [("reckless waste", SAME)]
    # A boundary inside a word marks the whole word; punctuation alone stays a difference.
    assert _pieces(spandiff.boundary_pieces(text, *short, [(at, at + len("reckless wast"))])) == [
        ("reckless ", SAME), ("waste", EXTRA)]
    end = len(text)
    assert _pieces(spandiff.boundary_pieces(text, end - 6, end, [(end - 6, end - 1)])) == [("money", SAME), (".", EXTRA)]


def test_urdu_words_hold_their_zero_width_non_joiner():
    text = URDU[0]
    whole = text.index("خوش")
    word = (whole, whole + len("خوش\u200cآمدید"))
    assert spandiff.to_words(text, whole, whole + 2) == word
    # Half the word against the whole: the whole word differs, and where the half stops short.
    assert _pieces(spandiff.boundary_pieces(text, *word, [(whole, whole + 3)])) == [("خوش\u200cآمدید", EXTRA)]
    assert _pieces(spandiff.boundary_pieces(text, whole, whole + 3, [word])) == [("خوش", SAME), ("\u200cآمدید", SHORT)]
    protest = text.index("احتجاج")
    message = (protest, protest + len("احتجاج کا پیغام"))
    assert _pieces(spandiff.boundary_pieces(text, *message, [(protest, protest + len("احتجاج"))])) == [
        ("احتجاج ", SAME), ("کا پیغام", EXTRA)]
    # Arabic harakat belong to their word.
    arabic = "قُتِلوا منذ ٧ أكتوبر"
    assert spandiff.to_words(arabic, 1, 2) == (0, len("قُتِلوا"))
    assert spandiff.to_words("1,200 people", 0, 1) == (0, 5)


def test_values_and_attributions_against_their_counterparts():
    values = spandiff.compare_values(["polarity", "voice"], {"polarity": "negative", "voice": "author"},
                                     [{"polarity": "negative", "voice": "attributed"}])
    assert [(v.name, v.value, v.differs) for v in values] == [("polarity", "negative", False), ("voice", "author", True)]
    assert not any(v.differs for v in spandiff.compare_values(["voice"], {"voice": "author"}, []))

    text = ENGLISH[0]

    def span(phrase, sid):
        start = text.index(phrase)
        return SimpleNamespace(id=sid, start=start, end=start + len(phrase))

    def attribution(parts, **attributes):
        return SimpleNamespace(relation="attribution", attributes=attributes,
                               parts=[SimpleNamespace(role=role, span=s, span_id=s.id) for role, s in parts])

    ann = attribution([("source", span("The minister, Ali Khan", 1)), ("cue", span("told reporters that", 2)),
                       ("content", span("the brutal raid was a reckless waste of money", 3))],
                      quote_type="indirect", cue_type="reporting_verb")
    bob = attribution([("cue", span("told reporters that", 4)), ("content", span("the brutal raid was a reckless waste", 5))],
                      quote_type="direct", cue_type="reporting_verb")
    shown = spandiff.compare_attributions(text, {1: [ann], 2: [bob]}, ["source", "cue", "content", "supplement"],
                                          ["cue", "content"], ["cue_type", "quote_type"])
    mine, theirs = shown[1][0], shown[2][0]
    assert [(p.role, p.differs, _pieces(p.pieces)) for p in mine.parts] == [
        ("source", True, [("The minister, Ali Khan", EXTRA)]),
        ("cue", False, [("told reporters that", SAME)]),
        ("content", True, [("the brutal raid was a reckless waste ", SAME), ("of money", EXTRA)]),
    ]
    assert [(p.role, p.span is None, p.differs) for p in theirs.parts] == [
        ("source", True, True), ("cue", False, False), ("content", False, True)]
    assert [(v.name, v.differs) for v in mine.attributes] == [("cue_type", False), ("quote_type", True)]
    assert not mine.alone and not theirs.alone
    # An attribution nobody else's pairs with.
    alone = spandiff.compare_attributions(text, {1: [ann], 2: []}, ["cue"], ["cue"], ["quote_type"])[1][0]
    assert alone.alone and not alone.attributes[0].differs


# -- the pages, over HTTP, on SQLite and PostgreSQL ---------------------------------------------------


def _loaded(document, phrase, **attributes):
    return span_payload(document, phrase, "loaded_language", "LOADED_LANGUAGE", attributes=attributes)


def _attribution(client, document, parts: dict[str, str], **attributes) -> None:
    linked = []
    for role, phrase in parts.items():
        span = ok(client.call("POST", f"/api/documents/{document.id}/spans",
                              span_payload(document, phrase, "attribution", role.upper())), 201)
        linked.append({"span_id": span["id"], "role": role})
    ok(client.call("POST", f"/api/documents/{document.id}/attributions", {"attributes": attributes, "parts": linked}), 201)


@pytest.fixture
def differing(app, session):
    """ann and bob on an English article: the first sentence marked by both, differing in a
    loaded-language span's extent and voice, and in their attribution's source (bob has none),
    content and quote type; the second marked by ann alone; the third by nobody. The same on an
    Urdu article: a loaded-language span one word longer for ann."""
    people = add_users(session, {"sup": "supervisor", "ann": "annotator", "bob": "annotator"})
    project = project_with(session, [build_article("Minister <b>speaks</b>", [" ".join(ENGLISH)], source="probe"),
                                     build_article("احتجاج", URDU, source="probe-ur", given_language="ur")], "differ")
    english, urdu = (session.scalar(select(Document).where(Document.project_id == project.id, Document.language == language))
                     for language in ("en", "ur"))
    assign(session, project, [people["ann"], people["bob"]])
    ann, bob = Client(app, "ann"), Client(app, "bob")
    first = session.scalar(select(Sentence).where(Sentence.document_id == english.id, Sentence.position == 0))
    for client in (ann, bob):
        ok(client.call("PUT", f"/api/sentences/{first.id}/labels/claim_type", {"value": "event"}))
    ok(ann.call("POST", f"/api/documents/{english.id}/spans",
                _loaded(english, "reckless waste of money", polarity="negative", voice="attributed")), 201)
    ok(bob.call("POST", f"/api/documents/{english.id}/spans",
                _loaded(english, "reckless waste", polarity="negative", voice="author")), 201)
    _attribution(ann, english, {"source": "The minister, Ali Khan", "cue": "told reporters that",
                                "content": "the brutal raid was a reckless waste of money"},
                 source_kind="person", identification="named", cue_type="reporting_verb", quote_type="indirect")
    _attribution(bob, english, {"cue": "told reporters that", "content": "the brutal raid was a reckless waste"},
                 cue_type="reporting_verb", quote_type="direct")
    ok(ann.call("POST", f"/api/documents/{english.id}/spans", _loaded(english, "fine", polarity="positive", voice="author")), 201)
    ok(ann.call("POST", f"/api/documents/{urdu.id}/spans", _loaded(urdu, "احتجاج کا پیغام", polarity="negative", voice="author")), 201)
    ok(bob.call("POST", f"/api/documents/{urdu.id}/spans", _loaded(urdu, "احتجاج", polarity="negative", voice="author")), 201)
    session.rollback()
    return {"app": app, "project": project, "english": english, "urdu": urdu, **people}


def _cell(page: str, position: int, column: int) -> str:
    """The ``column``-th annotator's cell (0: the first) of the sentence at ``position``."""
    row = re.search(rf'<tr id="s{position}".*?</tr>', page, re.S).group(0)
    return re.findall(r'<td class="work">(.*?)</td>', row, re.S)[column]


def test_review_shows_each_span_in_full_with_the_differences_marked(differing):
    sup = Client(differing["app"], "sup")
    page = sup.http.get(f"/documents/{differing['english'].id}/review").get_data(as_text=True)
    ann, bob = _cell(page, 0, 0), _cell(page, 0, 1)
    bdi = '<bdi class="span-text" dir="ltr" lang="en">'
    # Loaded language: ann's extra words, bob's marker where he stops short; voice differs, polarity not.
    assert f'LOADED_LANGUAGE:</span> {bdi}reckless waste <mark class="diff-extra" title="only this annotator includes it">of money</mark></bdi>' in ann
    assert f'LOADED_LANGUAGE:</span> {bdi}reckless waste<span class="diff-short" title="the others include: of money">' in bob
    assert "(stops short of: of money)" in bob
    assert '<span class="attr"><span class="muted">polarity:</span> negative</span>' in ann
    assert re.search(r'<span class="attr diff-value"><span class="muted">voice:</span> attributed <span class="diff-cue"[^>]*>≠<span class="visually-hidden"> \(another annotator chose otherwise\)', ann)
    assert re.search(r'<span class="attr diff-value"><span class="muted">voice:</span> author <span class="diff-cue"[^>]*>≠<span class="visually-hidden"> \(another annotator chose otherwise\)', bob)
    # The attribution: every part in full, the source bob lacks, the content's extra words, the
    # quote type differing, the cue type not, attributes nobody set shown as such.
    assert f'source:</span> {bdi}<mark class="diff-extra" title="only this annotator includes it">The minister, Ali Khan</mark></bdi>' in ann
    assert 'source:</span> <span class="diff-value">none <span class="diff-cue"' in bob
    assert f'cue:</span> {bdi}told reporters that</bdi>' in ann and f'cue:</span> {bdi}told reporters that</bdi>' in bob
    assert f'content:</span> {bdi}the brutal raid was a reckless waste <mark class="diff-extra" title="only this annotator includes it">of money</mark></bdi>' in ann
    assert re.search(r'class="attr diff-value"><span class="muted">quote_type:</span> indirect <span class="diff-cue"', ann)
    assert re.search(r'class="attr diff-value"><span class="muted">quote_type:</span> direct <span class="diff-cue"', bob)
    assert '<span class="attr"><span class="muted">cue_type:</span> reporting_verb</span>' in bob
    assert re.search(r'class="attr diff-value"><span class="muted">source_kind:</span> <span class="muted">not set</span> <span class="diff-cue"', bob)
    # An attribution's spans are listed with it, not again on their own.
    assert ann.count("told reporters that</bdi>") == 1
    # The second sentence: ann's span, hers alone.
    assert '<mark class="diff-extra" title="only this annotator includes it">fine</mark>' in _cell(page, 1, 0)
    assert "style=" not in page and "<b>speaks</b>" not in page


def test_only_disagreements_takes_in_what_one_annotator_marked_alone(differing):
    sup = Client(differing["app"], "sup")
    english = differing["english"]
    only = sup.http.get(f"/documents/{english.id}/review?disagree=1").get_data(as_text=True)
    # The first: spans and attributions differ (the labels agree); the second: ann's span only;
    # the third: nobody marked anything.
    assert re.findall(r'<tr id="s(\d+)"', only) == ["0", "1"] and "2 of 3 sentences" in only


def test_review_and_browser_show_urdu_differences_right_to_left(differing):
    sup = Client(differing["app"], "sup")
    urdu = differing["urdu"]
    page = sup.http.get(f"/documents/{urdu.id}/review").get_data(as_text=True)
    bdi = '<bdi class="span-text" dir="rtl" lang="ur">'
    assert f'{bdi}احتجاج <mark class="diff-extra" title="only this annotator includes it">کا پیغام</mark></bdi>' in _cell(page, 0, 0)
    assert f'{bdi}احتجاج<span class="diff-short" title="the others include: کا پیغام">' in _cell(page, 0, 1)

    a, b = differing["ann"].id, differing["bob"].id
    browser = sup.http.get(f"/projects/{differing['project'].id}/agreement/disagreements?layer=loaded_language&a={a}&b={b}")
    assert browser.status_code == 200
    shown = browser.get_data(as_text=True)
    assert f'{bdi}احتجاج <mark class="diff-extra" title="only this annotator includes it">کا پیغام</mark></bdi>' in shown
    assert '<bdi class="span-text" dir="ltr" lang="en">reckless waste <mark class="diff-extra"' in shown
    assert re.search(r'<span class="attr diff-value"><span class="muted">voice:</span> attributed <span class="diff-cue"', shown)


def test_the_browser_shows_attributions_on_the_attribution_layer(differing):
    sup = Client(differing["app"], "sup")
    a, b = differing["ann"].id, differing["bob"].id
    response = sup.http.get(f"/projects/{differing['project'].id}/agreement/disagreements?layer=attribution&a={a}&b={b}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'source:</span> <span class="diff-value">none <span class="diff-cue"' in page
    assert re.search(r'class="attr diff-value"><span class="muted">quote_type:</span> indirect <span class="diff-cue"', page)
    assert re.search(r'class="attr diff-value"><span class="muted">quote_type:</span> direct <span class="diff-cue"', page)
    assert "the brutal raid was a reckless waste <mark class=\"diff-extra\"" in page


def test_only_disagreements_takes_in_attribute_values_alone(differing, session):
    """Both mark the same words; one calls them negative, the other positive."""
    app, english = differing["app"], differing["english"]
    third = session.scalar(select(Sentence).where(Sentence.document_id == english.id, Sentence.position == 2))
    for name, polarity in (("ann", "negative"), ("bob", "positive")):
        client = Client(app, name)
        ok(client.call("PUT", f"/api/sentences/{third.id}/labels/claim_type", {"value": "event"}))
        ok(client.call("POST", f"/api/documents/{english.id}/spans", _loaded(english, "Markets", polarity=polarity, voice="author")), 201)
    only = Client(app, "sup").http.get(f"/documents/{english.id}/review?disagree=1").get_data(as_text=True)
    assert re.findall(r'<tr id="s(\d+)"', only) == ["0", "1", "2"]
    assert '<bdi class="span-text" dir="ltr" lang="en">Markets</bdi>' in _cell(only, 2, 0)
    assert re.search(r'class="attr diff-value"><span class="muted">polarity:</span> positive <span class="diff-cue"', _cell(only, 2, 1))
