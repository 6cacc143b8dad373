"""Active time, the progress dashboard (page, service, CLI) and the review page, over real HTTP."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from annotator.ingest import build_article
from annotator.models import Assignment, Document, Event, Sentence, SentenceTime, UTCDateTime
from annotator.services import assignments, progress, projects, review
from annotator.services.permissions import SYSTEM

from .helpers import Client, add_users, assign, project_with, span_payload, supervision_world


@pytest.fixture
def world(app, session):
    """The seed articles; ann and bob have the first, cat nothing yet."""
    return supervision_world(app, session)


def _sentences(session, document) -> list[Sentence]:
    return session.scalars(select(Sentence).where(Sentence.document_id == document.id).order_by(Sentence.position)).all()


# -- active time ---------------------------------------------------------------------------------


def test_activity_is_validated_and_adds_up(world):
    session, app, seed, other = world["session"], world["app"], world["seed"], world["other"]
    first, second = _sentences(session, seed)[:2]
    url = f"/api/documents/{seed.id}/activity"
    ann = Client(app, "ann")
    assert ann.call("POST", url, {"sentence_id": first.id, "ms": 1500}).json == {
        "sentence_id": first.id, "active_ms": 1500, "accepted_ms": 1500}
    assert ann.call("POST", url, {"sentence_id": first.id, "ms": 2500}).json["active_ms"] == 4000
    # Within what the wall clock allows at once (tests/test_bad_input.py: capped beyond it).
    assert ann.call("POST", url, {"sentence_id": second.id, "ms": 50_000}).json["active_ms"] == 50_000
    elsewhere = _sentences(session, other)[0].id
    for body, field in (
        ({"sentence_id": first.id, "ms": 0}, "ms"),
        ({"sentence_id": first.id, "ms": -5}, "ms"),
        ({"sentence_id": first.id, "ms": 600_001}, "ms"),
        ({"sentence_id": first.id, "ms": "500"}, "ms"),
        ({"sentence_id": first.id, "ms": True}, "ms"),
        ({"sentence_id": first.id, "ms": 1.5}, "ms"),
        ({"ms": 500}, "sentence_id"),
        ({"sentence_id": elsewhere, "ms": 500}, "sentence_id"),
    ):
        response = ann.call("POST", url, body)
        assert response.status_code == 400 and response.json["field"] == field, (body, response.json)
    assert ann.call("POST", url, {"sentence_id": first.id, "ms": 5}, csrf=False).status_code == 400
    assert ann.call("POST", f"/api/documents/{other.id}/activity", {"sentence_id": elsewhere, "ms": 5}).status_code == 404
    assert Client(app, "sup").call("POST", url, {"sentence_id": first.id, "ms": 5}).status_code == 404
    assert Client(app, None).call("POST", url, {"sentence_id": first.id, "ms": 5}).status_code == 401  # its session's CSRF token passes; not logged in

    # Still counted on a done document (reading it is time spent); refused once withdrawn.
    assert ann.call("POST", f"/api/documents/{seed.id}/done").status_code == 200
    assert ann.call("POST", url, {"sentence_id": first.id, "ms": 1000}).json["active_ms"] == 5000
    assignments.withdraw(session, SYSTEM, world["assignment"]["ann"])
    assert ann.call("POST", url, {"sentence_id": first.id, "ms": 1000}).status_code == 403

    session.rollback()
    rows = session.execute(select(SentenceTime.sentence_id, SentenceTime.active_ms).order_by(SentenceTime.sentence_id)).all()
    assert [tuple(row) for row in rows] == [(first.id, 5000), (second.id, 50_000)]
    assert session.scalar(select(func.count(Event.id)).where(Event.entity_type == "sentence_times")) == 0


# -- progress ------------------------------------------------------------------------------------


@pytest.fixture
def worked(world):
    """ann: the seed article (2 sentences labelled, 1 half, 2 spans, 54 s, done) and the other
    (untouched); bob: the seed article (1 sentence, 1 span, done); cat: the seed, withdrawn."""
    session, app, seed, other = world["session"], world["app"], world["seed"], world["other"]
    assign(session, world["project"], [world["ann"]], [other])
    assign(session, world["project"], [world["cat"]], [seed])
    cat = session.scalar(select(Assignment.id).where(Assignment.user_id == world["cat"].id))
    assignments.withdraw(session, SYSTEM, cat)
    s0, s1, s2 = _sentences(session, seed)[:3]
    ann, bob = Client(app, "ann"), Client(app, "bob")
    for sentence, layer, value in ((s0, "claim_type", "event"), (s1, "claim_type", "opinion"), (s1, "check_worthy", "yes"), (s2, "check_worthy", "no")):
        assert ann.call("PUT", f"/api/sentences/{sentence.id}/labels/{layer}", {"value": value}).status_code == 200
    ann.call("PUT", f"/api/sentences/{s0.id}/labels/check_worthy", {"value": "yes", "unsure": True, "comment": "<b>hard</b> one"})
    for phrase, layer, label in (("ARY News", "attribution", "SOURCE"), ("as reported by", "attribution", "CUE")):
        assert ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, phrase, layer, label)).status_code == 201
    for sentence, ms in ((s0, 1500), (s0, 2500), (s1, 50_000)):
        assert ann.call("POST", f"/api/documents/{seed.id}/activity", {"sentence_id": sentence.id, "ms": ms}).status_code == 200
    assert bob.call("PUT", f"/api/sentences/{s0.id}/labels/claim_type", {"value": "quantity"}).status_code == 200
    assert bob.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE")).status_code == 201
    assert ann.call("POST", f"/api/documents/{seed.id}/done").status_code == 200
    assert bob.call("POST", f"/api/documents/{seed.id}/done").status_code == 200
    session.rollback()
    return world | {"sentences": (s0, s1, s2), "n_seed": len(_sentences(session, seed)), "n_other": len(_sentences(session, other))}


def test_progress_numbers_are_exact(worked):
    session, n_seed, n_other = worked["session"], worked["n_seed"], worked["n_other"]
    report = progress.project_progress(session, worked["sup"], worked["project"].id)
    people = {p.user.username: p for p in report.annotators}
    assert set(people) == {"ann", "bob"}  # cat's only assignment was withdrawn
    ann, bob = people["ann"], people["bob"]
    assert (ann.documents_done, ann.documents_assigned, ann.sentences_labelled, ann.sentences_total, ann.spans, ann.active_ms) == (
        1, 2, 2, n_seed + n_other, 2, 54_000)
    assert (bob.documents_done, bob.documents_assigned, bob.sentences_labelled, bob.sentences_total, bob.spans, bob.active_ms) == (
        1, 1, 1, n_seed, 1, 0)
    done_event = session.scalar(
        select(Event.created_at).where(Event.action == "done", Event.user_id == worked["ann"].id)
    )
    assert done_event.utcoffset() == dt.timedelta(0)  # aware, in UTC, on SQLite too (models.UTCDateTime)
    assert ann.last_activity == done_event
    assert (report.assignments_done, report.assignments) == (2, 3)
    assert (report.sentences_labelled, report.sentences_total) == (3, 2 * n_seed + n_other)
    assert (report.documents_complete, report.documents_assigned) == (1, 2)
    by_document = {d.document.id: (d.annotators, d.done) for d in report.documents}
    assert by_document == {worked["seed"].id: (2, 2), worked["other"].id: (1, 0)}
    assert progress.format_duration(64_000) == "0:01:04" and progress.format_duration(3_600_000 + 61_000) == "1:01:01"


def test_progress_page(worked):
    n_seed, n_other = worked["n_seed"], worked["n_other"]
    page = Client(worked["app"], "sup").http.get(f"/projects/{worked['project'].id}/progress").get_data(as_text=True)
    assert page.count("<meter") == 2 + 2 + 2 and page.count("<progress") == 1  # overall, annotators, documents
    assert f"2 / {n_seed + n_other}" in page and f"1 / {n_seed}" in page and "0:00:54" in page
    assert "2 / 3 (67%)" in page and f"3 / {2 * n_seed + n_other}" in page and "not assigned" not in page
    assert ">cat<" not in page and "UTC" in page
    assert "style=" not in page
    assert f'href="/documents/{worked["seed"].id}/review"' in page


def test_progress_empty_state(app, session):
    project = projects.get_or_create_project(session, SYSTEM, "quiet")
    add_users(session, {"sup": "supervisor"})  # a member of it
    page = Client(app, "sup").http.get(f"/projects/{project.id}/progress").get_data(as_text=True)
    assert "Nothing is assigned in this project yet" in page and "<meter" not in page


def test_progress_command(worked, cli):
    n_seed, n_other = worked["n_seed"], worked["n_other"]
    result = cli("progress", "--project", "default")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["annotator", "documents", "done", "sentences"]
    rows = {line.split()[0]: line.split() for line in lines[1:3]}
    assert rows["ann"][1:5] == ["1/2", f"2/{n_seed + n_other}", "2", "0:00:54"] and rows["ann"][-1] == "UTC"
    assert rows["bob"][1:5] == ["1/1", f"1/{n_seed}", "1", "0:00:00"]
    assert lines[3].startswith("Overall: 2/3 assignments done (67%)") and "1/2 documents done by all" in lines[3]
    missing = cli("progress", "--project", "nope")
    assert missing.exit_code != 0 and "no project named 'nope'" in missing.output


# -- review --------------------------------------------------------------------------------------


def _rows(page: str) -> int:
    return page.count('<tr id="s')


def test_review_side_by_side(worked):
    seed, n_seed = worked["seed"], worked["n_seed"]
    sup = Client(worked["app"], "sup")
    page = sup.http.get(f"/documents/{seed.id}/review").get_data(as_text=True)
    assert "<th>ann <span" in page and "<th>bob <span" in page and "<th>cat" in page and "(withdrawn)" in page
    assert _rows(page) == n_seed
    assert '<mark class="hl hl-0">ARY News<span class="seg-label">SOURCE</span></mark>' in page
    assert '<mark class="hl hl-0">as reported by<span class="seg-label">CUE</span></mark>' in page
    assert "<strong>event</strong>" in page and "<strong>quantity</strong>" in page and "<strong>opinion</strong>" in page
    assert "(unsure)" in page and "&lt;b&gt;hard&lt;/b&gt; one" in page and "<b>hard</b>" not in page
    assert "style=" not in page

    only = sup.http.get(f"/documents/{seed.id}/review?disagree=1").get_data(as_text=True)
    # Sentence 1: event vs quantity. Sentences 2 and 3 are labelled by ann only, and bob, who has
    # begun the document, marked nothing there: one-sided, a disagreement too.
    assert _rows(only) == 3 and f"3 of {n_seed} sentences" in only
    assert all(f'id="s{i}" class="disagree"' in only for i in range(3))

    one = sup.http.get(f"/documents/{seed.id}/review?annotator={worked['bob'].id}").get_data(as_text=True)
    assert "<th>bob" in one and "<th>ann" not in one and "<strong>event</strong>" not in one
    assert sup.http.get(f"/documents/{seed.id}/review?annotator={worked['sup'].id}").status_code == 404
    assert sup.http.get(f"/documents/{seed.id}/review?annotator=x").status_code == 400

    blind = sup.http.get(f"/documents/{seed.id}/review?blind=1").get_data(as_text=True)
    assert "<th>Annotator A" in blind and "<th>Annotator B" in blind and "<th>Annotator C" in blind
    assert "<th>ann" not in blind and "<th>bob" not in blind and ">ann</option>" not in blind
    # Stable: A is whoever was assigned first, in every view.
    blind_one = sup.http.get(f"/documents/{seed.id}/review?blind=1&annotator={worked['ann'].id}").get_data(as_text=True)
    assert "<th>Annotator A" in blind_one and "<th>Annotator B" not in blind_one and "<strong>event</strong>" in blind_one


def test_review_escapes_article_text(app, session):
    people = add_users(session, {"sup": "supervisor", "ann": "annotator"})
    article = build_article("Probe", ["Officials said <img src=x onerror=alert(1)> & <script>alert(2)</script> was fine."], source="probe")
    project = project_with(session, [article], "xss")
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [people["ann"]], [document])
    phrase = "<img src=x onerror=alert(1)>"
    assert Client(app, "ann").call("POST", f"/api/documents/{document.id}/spans", span_payload(document, phrase, "loaded_language", "LOADED_LANGUAGE")).status_code == 201
    page = Client(app, "sup").http.get(f"/documents/{document.id}/review").get_data(as_text=True)
    assert "<img" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;<span class=\"seg-label\">LOADED_LANGUAGE</span>" in page


def test_segments_cut_where_spans_begin_and_end():
    span = lambda start, end, label, layer="a": SimpleNamespace(start=start, end=end, label=label, layer=layer)  # noqa: E731
    text = "Alpha beta gamma."  # at offset 100 in its document
    cut = review.segments(text, 100, [span(106, 116, "X"), span(100, 110, "Y", "b"), span(90, 95, "Z")], {"a": 0, "b": 1})
    assert [(s.text, s.labels, s.layers) for s in cut] == [
        ("Alpha ", ("Y",), (1,)),
        ("beta", ("X", "Y"), (0, 1)),
        (" gamma", ("X",), (0,)),
        (".", (), ()),
    ]
    # A span from an earlier sentence that runs into this one covers its start.
    assert [s.labels for s in review.segments(text, 100, [span(80, 105, "C")], {})] == [("C",), ()]


def test_naive_timestamps_are_read_as_utc():
    naive = dt.datetime(2026, 1, 1, 12, 0)
    assert UTCDateTime().process_result_value(naive, None) == naive.replace(tzinfo=dt.timezone.utc)
    assert progress.format_time(None) == "never"
