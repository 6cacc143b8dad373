"""Review shows what two annotators differ in (issue 17): the words only one included and where
the other stops short are marked visibly, in an English and an Urdu article, the differing
attribute values carry "≠", and axe-core finds nothing wrong with the page
(tests/test_difference_display.py checks the markup in detail)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in
from .test_rtl import axe_violations

pytestmark = pytest.mark.browser

PROJECT = "difference"
ARTICLES = {
    "en": {"title": "Minister speaks on the raid",
           "text": "The minister, Ali Khan, told reporters that the brutal raid was a reckless waste of money."},
    "ur": {"title": "احتجاج کا پیغام",
           "text": "انہوں نے کہا کہ کئی نے خوش\u200cآمدید کے بجائے احتجاج کا پیغام لکھا۔"},
}
# Each annotator's work: loaded-language spans (phrase, voice) and one attribution (role: phrase) with its quote type.
WORK = {
    "ann": {"en": {"loaded": [("reckless waste of money", "attributed")],
                   "attribution": ({"source": "The minister, Ali Khan", "cue": "told reporters that",
                                    "content": "the brutal raid was a reckless waste of money"}, "indirect")},
            "ur": {"loaded": [("احتجاج کا پیغام", "author")]}},
    "bob": {"en": {"loaded": [("reckless waste", "author")],
                   "attribution": ({"cue": "told reporters that", "content": "the brutal raid was a reckless waste"}, "direct")},
            "ur": {"loaded": [("احتجاج", "author")]}},
}


def _store(live_server, names: dict[str, str], documents: dict[str, dict]) -> None:
    """WORK, stored as the annotation page would leave it, every sentence labelled "event"."""
    from sqlalchemy.orm import Session

    from annotator.models import Attribution, AttributionPart, Sentence, SentenceLabel, Span, User

    engine = live_server.engine()
    try:
        with Session(engine) as session:
            for who, per_language in WORK.items():
                user = session.query(User).filter_by(username=names[who]).one()
                for language, work in per_language.items():
                    document = documents[language]
                    text = document["text"]

                    def span(phrase, layer, label, **attributes):
                        start = text.index(phrase)
                        sentence = session.query(Sentence).filter(
                            Sentence.document_id == document["id"], Sentence.start <= start, Sentence.end > start).one()
                        made = Span(user_id=user.id, document_id=document["id"], sentence_id=sentence.id, layer=layer,
                                    label=label, start=start, end=start + len(phrase), text=phrase, attributes=attributes)
                        session.add(made)
                        return made

                    for sentence in session.query(Sentence).filter_by(document_id=document["id"]):
                        session.add(SentenceLabel(user_id=user.id, sentence_id=sentence.id, layer="claim_type", value="event"))
                    for phrase, voice in work["loaded"]:
                        span(phrase, "loaded_language", "LOADED_LANGUAGE", polarity="negative", voice=voice)
                    if "attribution" in work:
                        parts, quote_type = work["attribution"]
                        session.add(Attribution(
                            user_id=user.id, document_id=document["id"],
                            attributes={"cue_type": "reporting_verb", "quote_type": quote_type},
                            parts=[AttributionPart(span=span(phrase, "attribution", role.upper()), role=role)
                                   for role, phrase in parts.items()]))
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def differing(live_server, tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("difference") / "difference.jsonl"
    path.write_text("".join(json.dumps({**article, "language": language}, ensure_ascii=False) + "\n"
                            for language, article in ARTICLES.items()), encoding="utf-8")
    live_server.cli("import", str(path), "--project", PROJECT)
    documents = {language: live_server.rows("SELECT id, text FROM documents WHERE title = :t", t=article["title"])[0]
                 for language, article in ARTICLES.items()}
    names = {who: f"diff_{who}" for who in WORK} | {"sup": "diff_sup"}
    for who, name in names.items():
        role = "supervisor" if who == "sup" else "annotator"
        live_server.cli("users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
        if role == "annotator":
            live_server.cli("assign", "--project", PROJECT, "--user", name)
    live_server.cli("project", "members", "add", PROJECT, names["sup"])
    _store(live_server, names, documents)
    return {"documents": documents, "names": names}


def test_review_marks_the_differences_visibly_and_axe_finds_nothing(live_server, new_context, differing):
    page = log_in(new_context(), differing["names"]["sup"])
    english, urdu = differing["documents"]["en"], differing["documents"]["ur"]

    page.goto(f"/documents/{english['id']}/review")
    extra = page.locator("td.work mark.diff-extra", has_text="of money")
    expect(extra.first).to_be_visible()
    assert extra.count() == 2  # ann's loaded-language span and her content
    assert page.locator("td.work mark.diff-extra", has_text="The minister, Ali Khan").count() == 1
    short = page.locator("td.work .diff-short")
    expect(short.first).to_be_visible()
    expect(short.first.locator("[aria-hidden=true]")).to_have_text("⋯")
    # Marked by more than colour: the extra words underlined, the differing values with "≠".
    assert extra.first.evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"
    assert extra.first.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    quote_type = page.locator("td.work .diff-value", has_text="quote_type")
    expect(quote_type.first).to_be_visible()
    assert quote_type.count() == 2 and all("≠" in text for text in quote_type.all_inner_texts())
    assert page.locator("td.work .attr:not(.diff-value)", has_text="cue_type").count() == 2
    assert axe_violations(page) == {}

    page.goto(f"/documents/{urdu['id']}/review")
    extra = page.locator("td.work bdi.span-text[dir=rtl] mark.diff-extra")
    expect(extra).to_have_text("کا پیغام")
    expect(page.locator("td.work bdi.span-text[dir=rtl] .diff-short")).to_be_visible()
    assert axe_violations(page) == {}

    page.goto(f"/documents/{english['id']}/review?disagree=1")
    expect(page.locator("tr.disagree")).to_have_count(1)
    assert page.page_errors == []  # (the console has the 404 of /favicon.ico, which these pages do not set)
