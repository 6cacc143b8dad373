"""Bad input that cannot hurt (issue 15): lone surrogates in JSON, a log that never touches the
database, HTML extraction linear in the page with limits on nesting and uploads, bidirectional
controls, spans of invisible characters only, and active time capped by the wall clock.
Over real HTTP on SQLite and PostgreSQL; docs/security.md names each test."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sys
import time

import pytest
from flask import g
from flask_login import current_user
from sqlalchemy import select, update

from annotator import report
from annotator.app import db
from annotator.errors import ServiceError
from annotator.ingest import Article, IngestError, read_bytes, segment
from annotator.ingest.html_page import MAX_DEPTH, parse_html
from annotator.models import Document, Sentence, SentenceTime, User
from annotator.services import progress, projects, users
from annotator.services.permissions import SYSTEM

from .helpers import (
    Client,
    add_users,
    adjudication_world,
    annotation_world,
    assign,
    ok,
    project_with,
    sentence_of,
    snapshot_rows,
)

# -- lone surrogates --------------------------------------------------------------------------------


def _send(client: Client, method: str, url: str, raw: str):
    """``raw`` JSON text as the body, as written: a "\\ud800" in it is a JSON escape, valid JSON
    syntax, which Flask's decoder turns into a lone surrogate."""
    return client.http.open(url, method=method, data=raw.encode(), content_type="application/json",
                            headers={"X-CSRFToken": client.token})


def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_400_naming_the_field(app, session):
    world = adjudication_world(app, session)
    seed, split = world["seed"], world["split"]
    ann, sup = world["ann_client"], world["sup_client"]
    ok(sup.call("POST", f"/api/gold/documents/{seed.id}/start", {}))
    phrase = "devastating"
    start = seed.text.index(phrase)
    cases = [
        (ann, "PUT", f"/api/sentences/{split.id}/labels/claim_type", r'{"value": "event", "comment": "x\ud800y"}',
         "comment"),
        (ann, "POST", f"/api/documents/{seed.id}/spans",
         f'{{"layer": "loaded_language", "label": "LOADED_LANGUAGE", "start": {start}, "end": {start + len(phrase)},'
         f' "text": "{phrase}", "attributes": {{"note": ["fine", "\\udfff"]}}}}', "attributes.note[1]"),
        (ann, "POST", f"/api/documents/{seed.id}/changes",
         f'{{"changes": [{{"op": "label", "key": "k1", "body": {{"sentence_id": {split.id}, "layer": "claim_type",'
         r' "value": "event", "comment": "\udc00"}}]}', "changes[0].body.comment"),
        (ann, "PUT", f"/api/sentences/{split.id}/labels/claim_type", r'{"value": "event", "\ud800": 1}', r"\ud800"),
        (sup, "POST", f"/api/gold/documents/{seed.id}/done", r'{"note": "\ud800"}', "note"),
        (sup, "PUT", f"/api/gold/sentences/{split.id}/labels/claim_type", r'{"value": "event", "comment": "a\udbffb"}',
         "comment"),
    ]
    before = snapshot_rows(session)
    for client, method, url, raw, field in cases:
        response = _send(client, method, url, raw)
        assert response.status_code == 400, (url, response.status_code, response.get_data(as_text=True)[:300])
        assert response.json["field"] == field and "surrogate" in response.json["error"], response.json
    assert snapshot_rows(session) == before
    # A surrogate pair is a character like any other: a label with an emoji is saved.
    unlabelled = session.scalar(select(Sentence.id).where(Sentence.document_id == seed.id,
                                                          Sentence.id.not_in([split.id, world["agreed"].id])))
    saved = _send(ann, "PUT", f"/api/sentences/{unlabelled}/labels/claim_type", r'{"value": "event", "comment": "\ud83d\ude00"}')
    assert saved.status_code == 200 and saved.json["comment"] == "\U0001f600"


def test_addresses_and_forms_carry_no_surrogates(app, session):
    """Werkzeug never decodes a path, query or form into a surrogate: percent-encoded or raw
    bytes of one are kept as written or replaced. So JSON is the only way in."""
    world = annotation_world(app, session)
    ann = Client(app, "ann")
    response = ann.get(f"/api/documents/{world['seed'].id}/annotations?layer=%ED%A0%80")
    assert response.status_code < 500
    page = ann.get("/?page=%ED%A0%80")
    assert page.status_code < 500


# -- the log ----------------------------------------------------------------------------------------


def _log_lines(app) -> io.StringIO:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error is logged, not raised
    log = io.StringIO()
    app.logger.handlers[0].setStream(log)
    return log


def test_a_failed_transaction_is_logged_with_the_user_and_logging_never_queries(app, session, capsys):
    accounts = add_users(session, {"ann": "annotator"})

    def broken_transaction():
        user = current_user._get_current_object()  # loaded, as every page loads its user
        db.session.expire(user)  # as a rollback leaves it: reading its id would query
        db.session.add(User(username="ann", password_hash="!", role="annotator"))
        db.session.flush()  # IntegrityError: the session must now be rolled back before any query

    def logs_without_loading():
        app.logger.info("before anything loaded the user")
        return {"loaded": "_login_user" in g}

    app.add_url_rule("/api/broken", view_func=broken_transaction)  # its error is answered without a template
    app.add_url_rule("/quiet", view_func=logs_without_loading)
    log = _log_lines(app)
    client = Client(app, "ann")
    assert client.get("/api/broken").status_code == 500
    assert client.get("/quiet").json == {"loaded": False}  # logging did not load the user
    entries = [json.loads(line) for line in log.getvalue().splitlines()]
    error = next(entry for entry in entries if entry["level"] == "ERROR")
    assert error["path"] == "/api/broken" and error["exception"] == "IntegrityError"
    assert error["user_id"] == accounts["ann"].id
    quiet = next(entry for entry in entries if entry["path"] == "/quiet")
    assert quiet["user_id"] is None
    assert "Logging error" not in capsys.readouterr().err  # the formatter never raised


# -- HTML: linear, with a nesting limit ------------------------------------------------------------


def _nested(tag: str, depth: int) -> str:
    """The issue's pages: ``tag`` nested ``depth`` times around one paragraph."""
    return (f"<html><head><title>Deep</title></head><body>{f'<{tag}>' * depth}<p>Bottom one. Two.</p>"
            f"{f'</{tag}>' * depth}</body></html>")


@pytest.mark.parametrize("tag, depth", [("article", 2_500), ("blockquote", 20_000)])
def test_a_page_nested_past_the_limit_is_refused_naming_the_file(tag, depth):
    """40 s and 103 s of a server thread before (and then imported): refused at once now."""
    page = _nested(tag, depth)
    (error,) = read_bytes("deep.html", page.encode())
    assert isinstance(error, IngestError) and error.source == "deep.html"
    assert f"nested more than {MAX_DEPTH} elements deep" in error.reason


def test_a_page_nested_up_to_the_limit_is_read():
    # <html>, <body>, the nest and <p>: MAX_DEPTH elements deep.
    article = parse_html("deep.html", _nested("div", MAX_DEPTH - 3), {})
    assert article.text == "Bottom one. Two." and article.title == "Deep"
    with pytest.raises(IngestError, match="nested more than"):
        parse_html("deep.html", _nested("div", MAX_DEPTH - 2), {})


def _python_lines(function, *args) -> int:
    """How many lines of Python a call runs: a measure of its work that, unlike a time, does
    not depend on the machine or what else runs on it."""
    count = 0

    def trace(frame, event, _arg):
        nonlocal count
        count += event == "line"
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        function(*args)
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("tag", ["article", "blockquote", "li"])
def test_extraction_work_grows_linearly_with_nesting(tag):
    """Twice as deep a page, twice the work: the extraction used to measure the text of every
    nested <article> (and bs4 to walk every subtree again), three times the work and rising."""
    parse_html("warm.html", _nested(tag, 10), {})  # imports and caches out of the count
    shallow = _python_lines(parse_html, "a.html", _nested(tag, 120), {})
    deep = _python_lines(parse_html, "b.html", _nested(tag, 240), {})
    assert deep / shallow < 2.5, (shallow, deep)


def test_documents_per_upload_are_limited_before_any_is_parsed(app, session):
    lines = "".join(json.dumps({"title": f"Title {n}", "text": f"Body number {n}."}) + "\n" for n in range(3))
    (error,) = read_bytes("three.jsonl", (lines + "\n\n").encode(), max_documents=2)  # blank lines are none
    assert error.source == "three.jsonl" and error.reason.startswith("3 documents, more than the 2 this upload")
    assert len(read_bytes("three.jsonl", lines.encode(), max_documents=3)) == 3

    add_users(session, {"root": "admin"})
    project = projects.get_or_create_project(session, SYSTEM, "limited")
    app.config["MAX_DOCUMENTS_PER_UPLOAD"] = 4
    files = [(io.BytesIO(lines.encode()), "first.jsonl"), (io.BytesIO(lines.encode().replace(b"Body", b"Text")), "second.jsonl"),
             (io.BytesIO(b"A title\n\nOne more body."), "third.txt")]
    root = Client(app, "root")
    response = root.post(f"/projects/{project.id}/documents", {"files": files}, content_type="multipart/form-data")
    page = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert response.status_code == 200
    assert "second.jsonl: 3 documents, more than the 1 this upload may still take" in page
    assert "at most 4 documents in all" in page  # the form says the limit
    session.rollback()
    titles = session.scalars(select(Document.title).where(Document.project_id == project.id).order_by(Document.id)).all()
    assert titles == ["Title 0", "Title 1", "Title 2", "A title"]


# -- bidirectional controls -------------------------------------------------------------------------

RLO, PDF, LRI, PDI, LRM, RLM, ALM = "\u202e", "\u202c", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"


def test_imports_drop_bidi_controls_and_keep_marks_with_exact_offsets():
    page = (f"<html><head><title>Invoice {RLO}fdp.exe{PDF}</title></head><body><article>"
            f"<p>Paid {LRI}عاجل{PDI} today{RLM}. Next {ALM}one.</p><p>Third {RLO}sentence{LRM} here.</p>"
            "</article></body></html>")
    for name, data in (("page.html", page.encode()),
                       ("plain.txt", f"Invoice {RLO}fdp.exe\n\nPaid {LRI}عاجل{PDI} today{RLM}. Next {ALM}one.".encode()),
                       ("one.jsonl", json.dumps({"title": f"Invoice {RLO}fdp.exe", "text": f"Paid {LRI}x{PDI}."}).encode())):
        (article,) = read_bytes(name, data)
        assert article.title == "Invoice fdp.exe", name
        assert not any(char in article.text for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), name
        if name != "one.jsonl":
            assert RLM in article.text and ALM in article.text, name  # marks are content
        for start, end in article.sentences:  # the offsets are those of the stored text
            assert article.text[start:end] == article.text[start:end].strip() != ""
    (html,) = read_bytes("page.html", page.encode())
    assert [html.text[s:e] for s, e in html.sentences] == [f"Paid عاجل today{RLM}.", f"Next {ALM}one.",
                                                            f"Third sentence{LRM} here."]


def test_names_with_bidi_controls_are_refused(app, session):
    for control in (RLO, LRI, "\u202a", "\u2068"):
        with pytest.raises(ServiceError) as refused:
            users.add_user(session, SYSTEM, f"admin{control}txt", "annotator", "a long test password")
        assert refused.value.field == "username"
        with pytest.raises(ServiceError) as refused:
            projects.create_project(session, SYSTEM, f"news{control}")
        assert refused.value.field == "name"


def test_stored_text_with_bidi_controls_is_shown_isolated(app, session):
    """A title imported before controls were dropped, and a comment (free text keeps them), are
    shown each in an isolate of its own, closing whatever it leaves open (an LRI needs its own
    PDI, or it would take the isolate's)."""
    world = annotation_world(app, session)
    seed, project = world["seed"], world["project"]
    add_users(session, {"root": "admin"})
    title = f"Old {LRI}title{RLO} evil"
    session.execute(update(Document).where(Document.id == seed.id).values(title=title))
    session.commit()
    ann = Client(app, "ann")
    sentence = sentence_of(session, seed, "Hamas")
    comment = f"see {RLO}gnp.exe"
    ok(ann.call("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", {"value": "event", "comment": comment}))
    project_page = Client(app, "root").get(f"/projects/{project.id}").get_data(as_text=True)
    assert f"\u2068{title}{PDI}{PDI}" in project_page
    review = Client(app, "sup").get(f"/documents/{seed.id}/review").get_data(as_text=True)
    assert f"\u2068{comment}{PDI}" in review
    assert "<th>ann</th>" in review  # a value without controls is shown as it is
    ok(Client(app, "bob").call("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", {"value": "opinion"}))
    body = report.build_report(session, SYSTEM, project.id, replicates=0)
    html = report.report_html(body, report.annotator_names(body, secret_key="test-secret"))  # the downloaded report
    assert f"\u2068{title}{PDI}{PDI}" in html


# -- spans of invisible characters ---------------------------------------------------------------------

INVISIBLE = f"Before {RLO}\u200b\u200c after the marks."


@pytest.mark.parametrize("invisible", [RLO, "\u200b", "\u200c", f"{RLO}\u200b\u200c"])
def test_a_span_of_invisible_characters_only_is_refused(app, session, invisible):
    # Stored as another tool's annotations would store it: imports of articles drop the RLO.
    article = Article(title="Invisible", text=INVISIBLE, sentences=segment(INVISIBLE))
    project = project_with(session, [article], name="invisible")
    ann = add_users(session, {"ann": "annotator"})["ann"]
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [ann])
    client = Client(app, "ann")
    start = INVISIBLE.index(invisible)
    body = {"layer": "loaded_language", "label": "LOADED_LANGUAGE", "start": start, "end": start + len(invisible),
            "text": invisible}
    refused = client.call("POST", f"/api/documents/{document.id}/spans", body)
    assert refused.status_code == 400 and refused.json["field"] == "text", refused.json
    end = INVISIBLE.index("after") + len("after")  # with a word, the same start is a span
    visible = {**body, "end": end, "text": INVISIBLE[start:end]}
    assert client.call("POST", f"/api/documents/{document.id}/spans", visible).status_code == 201


# -- active time capped by the wall clock ----------------------------------------------------------------


def _activity_world(app, session):
    world = annotation_world(app, session)
    sentences = session.scalars(select(Sentence.id).where(Sentence.document_id == world["seed"].id)
                                .order_by(Sentence.position)).all()
    return world, sentences, Client(app, "ann"), f"/api/documents/{world['seed'].id}/activity"


def _total_ms(session, user) -> int:
    session.rollback()
    return sum(session.scalars(select(SentenceTime.active_ms).where(SentenceTime.user_id == user.id)))


def test_a_burst_of_reports_adds_no_more_than_the_allowance(app, session):
    world, sentences, ann, url = _activity_world(app, session)
    began = time.monotonic()
    answers = [ok(ann.call("POST", url, {"sentence_id": sentences[n % 3], "ms": 600_000})) for n in range(20)]
    elapsed_ms = (time.monotonic() - began) * 1000
    allowance = progress.ACTIVITY_ALLOWANCE // dt.timedelta(milliseconds=1)
    accepted = sum(answer["accepted_ms"] for answer in answers)
    assert answers[0]["accepted_ms"] == allowance  # the first report after a pause
    assert accepted == _total_ms(session, world["ann"]) <= allowance + elapsed_ms + 1  # was 12,000,000 (3 h 20 min)


class FakeClock:
    """The server's clock, moved by the test (the page's interval is 30 s)."""

    def __init__(self):
        self.now = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_the_pages_reports_count_fully_and_two_places_at_once_do_not(app, session, monkeypatch):
    world, sentences, ann, url = _activity_world(app, session)
    clock = FakeClock()
    monkeypatch.setattr(progress, "utcnow", clock)

    def report(sentence: int, ms: int, client: Client = ann, path: str = url) -> int:
        return ok(client.call("POST", path, {"sentence_id": sentence, "ms": ms}))["accepted_ms"]

    # The page: a report every 30 s of the time since its last, some arriving late and the next
    # early (the network), a quick move between sentences, and after a pause of two hours.
    for seconds, ms in ((30, 30_000), (33, 30_000), (27, 30_000), (30, 30_500), (2, 2_000), (7_200, 30_000)):
        clock.advance(seconds)
        assert report(sentences[0], ms) == ms
    # The same person in a second tab, on another document, both reporting every 30 s: 30 s counts.
    other = world["other"]
    assign(session, world["project"], [world["ann"]], [other])
    other_sentence = session.scalar(select(Sentence.id).where(Sentence.document_id == other.id))
    before = _total_ms(session, world["ann"])
    for _ in range(6):
        clock.advance(30)
        report(sentences[1], 30_000)
        report(other_sentence, 30_000, path=f"/api/documents/{other.id}/activity")
    allowance = progress.ACTIVITY_ALLOWANCE // dt.timedelta(milliseconds=1)
    assert _total_ms(session, world["ann"]) - before <= 6 * 30_000 + allowance  # 3 minutes passed, not 6


def test_each_annotators_time_is_capped_on_its_own(app, session, monkeypatch):
    world, sentences, ann, url = _activity_world(app, session)
    clock = FakeClock()
    monkeypatch.setattr(progress, "utcnow", clock)
    bob = Client(app, "bob")
    for client in (ann, bob):
        assert ok(client.call("POST", url, {"sentence_id": sentences[0], "ms": 40_000}))["accepted_ms"] == 40_000
    clock.advance(10)
    assert ok(ann.call("POST", url, {"sentence_id": sentences[0], "ms": 40_000}))["accepted_ms"] == 30_000
    assert ok(bob.call("POST", url, {"sentence_id": sentences[0], "ms": 5_000}))["accepted_ms"] == 5_000
    assert ok(ann.call("POST", url, {"sentence_id": sentences[0], "ms": 1_000})) == {
        "sentence_id": sentences[0], "active_ms": 70_000, "accepted_ms": 0}
