"""Adjudication (annotator.services.adjudication): proposals, gold with provenance and history,
authorisation, the queue, auto and status, scores against gold, the gold export, and the gold
account kept out of every list of annotators; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import select

from annotator import exporters, report
from annotator.errors import Conflict, Forbidden, NotFound, ServiceError
from annotator.models import Adjudication, Document, Event, GoldProvenance, Sentence, SentenceLabel, Span, User
from annotator.services import adjudication, annotations, assignments, exports, progress, projects, review, users
from annotator.services.imports import ImportRejected, import_annotations
from annotator.services.permissions import SYSTEM

from .helpers import PASSWORD, Client, add_users, assign, span_payload

SENTENCES = ("Alice said prices rose.", "Bob told reporters nothing.", "Carol one two three.", "Dan one two three.")
# claim_type per annotator and sentence (None: not labelled)
CLAIMS = {
    "ann1": ["event", "event", "quantity", "opinion"],
    "ann2": ["event", "opinion", "quantity", None],
    "ann3": ["opinion", None, "quantity", "event"],
}


def _document(session, project, n: int) -> Document:
    text = " ".join(SENTENCES)
    document = Document(project_id=project.id, title=f"Document {n}", text=text,
                        content_hash=hashlib.sha256(f"{n}{text}".encode()).hexdigest())
    session.add(document)
    session.flush()
    start = 0
    for position, sentence in enumerate(SENTENCES):
        session.add(Sentence(document_id=document.id, position=position, start=start, end=start + len(sentence)))
        start += len(sentence) + 1
    session.commit()
    return document


@pytest.fixture
def world(app, session):
    project = projects.get_or_create_project(session, SYSTEM, "default")
    docs = [_document(session, project, n) for n in range(3)]
    people = add_users(session, {"ann1": "annotator", "ann2": "annotator", "ann3": "annotator", "sup": "supervisor"})
    # Documents 0 and 1: three annotators; document 2: only ann1.
    for name in ("ann1", "ann2", "ann3"):
        assign(session, project, [people[name]], docs[:2] if name != "ann1" else docs)
    sentences = {d.id: session.scalars(select(Sentence).where(Sentence.document_id == d.id).order_by(Sentence.position)).all()
                 for d in docs}
    for name, values in CLAIMS.items():
        for d in docs[:2]:
            for sentence, value in zip(sentences[d.id], values):
                if value is not None:
                    annotations.set_sentence_label(session, people[name], sentence.id, "claim_type", {"value": value})
    annotations.set_sentence_label(session, people["ann1"], sentences[docs[2].id][0].id, "claim_type", {"value": "event"})
    for d in docs[:2]:
        # SOURCE: ann1 and ann2 mark "Alice", ann3 "Alice said"; CUE "said": everyone.
        annotations.create_span(session, people["ann1"], d.id, span_payload(d, "Alice", "attribution", "SOURCE"))
        annotations.create_span(session, people["ann2"], d.id, span_payload(d, "Alice", "attribution", "SOURCE"))
        annotations.create_span(session, people["ann3"], d.id, span_payload(d, "Alice said", "attribution", "SOURCE"))
        for name in ("ann1", "ann2", "ann3"):
            annotations.create_span(session, people[name], d.id, span_payload(d, "said", "attribution", "CUE"))
    return {"project": project, "docs": docs, "sentences": sentences, **people}


def _ids(world, *names):
    return [world[name].id for name in names]


def _gold_label(session, sentence_id: int) -> SentenceLabel | None:
    gold = adjudication.gold_id(session)
    return session.scalar(select(SentenceLabel).where(SentenceLabel.user_id == gold, SentenceLabel.sentence_id == sentence_id,
                                                      SentenceLabel.layer == "claim_type"))


def _provenance(session, kind: str, entity_id: int) -> GoldProvenance:
    session.expire_all()
    return session.scalar(select(GoldProvenance).where(GoldProvenance.entity_type == kind, GoldProvenance.entity_id == entity_id))


# -- proposals --------------------------------------------------------------------------------


def test_proposal_majority_threshold_and_ties(world, session):
    doc, s = world["docs"][0], world["sentences"][world["docs"][0].id]
    proposal = adjudication.view(session, world["sup"], doc.id)["proposal"]
    labels = {(p["sentence_id"], p["layer"]): p for p in proposal["labels"]}
    assert labels[(s[0].id, "claim_type")]["value"] == "event"
    assert labels[(s[0].id, "claim_type")]["agreed"] == _ids(world, "ann1", "ann2")
    assert labels[(s[2].id, "claim_type")]["agreed"] == _ids(world, "ann1", "ann2", "ann3")
    # Sentence 1: event against opinion; sentence 3: opinion against event. Ties, never proposed.
    assert (s[1].id, "claim_type") not in labels and (s[3].id, "claim_type") not in labels
    ties = {t["sentence_id"]: t["values"] for t in proposal["ties"]}
    assert ties == {s[1].id: {str(world["ann1"].id): "event", str(world["ann2"].id): "opinion"},
                    s[3].id: {str(world["ann1"].id): "opinion", str(world["ann3"].id): "event"}}
    spans = {(p["label"], p["start"], p["end"]): p["agreed"] for p in proposal["spans"]}
    alice, said = doc.text.index("Alice"), doc.text.index("said")
    assert spans == {("SOURCE", alice, alice + 5): _ids(world, "ann1", "ann2"),
                     ("CUE", said, said + 4): _ids(world, "ann1", "ann2", "ann3")}

    # Three must agree: sentence 0 (two of three) is no longer proposed, and is not a tie.
    assert adjudication.update_settings(session, world["sup"], world["project"].id, {"min_agree": 3}) == {
        "min_agree": 3, "matching": "exact"}
    proposal = adjudication.view(session, world["sup"], doc.id)["proposal"]
    assert [p["sentence_id"] for p in proposal["labels"]] == [s[2].id]
    assert {t["sentence_id"] for t in proposal["ties"]} == {s[1].id, s[3].id}
    assert [p["label"] for p in proposal["spans"]] == ["CUE"]
    # Overlap matching: all three SOURCE spans agree; the extent two of them share is proposed.
    adjudication.update_settings(session, world["sup"], world["project"].id, {"matching": "overlap"})
    proposal = adjudication.view(session, world["sup"], doc.id)["proposal"]
    source = [p for p in proposal["spans"] if p["label"] == "SOURCE"]
    assert [(p["start"], p["end"], p["agreed"]) for p in source] == [(alice, alice + 5, _ids(world, "ann1", "ann2", "ann3"))]


def test_settings_are_checked_and_audited(world, session):
    project_id = world["project"].id
    for bad in ({"min_agree": 0}, {"min_agree": "0"}, {"min_agree": "two"}, {"min_agree": "2.5"}, {"min_agree": True},
                {"min_agree": None}, {"matching": "fuzzy"}):
        with pytest.raises(ServiceError):
            adjudication.update_settings(session, world["sup"], project_id, bad)
    # The form's digits are read here (the settings form sends a string); the same rule: no change.
    assert adjudication.update_settings(session, world["sup"], project_id, {"min_agree": " 2 "}) == {
        "min_agree": 2, "matching": "exact"}
    adjudication.update_settings(session, world["sup"], project_id, {"min_agree": 1, "matching": "overlap"})
    session.expire_all()
    assert adjudication.settings(session, world["sup"], project_id) == {"min_agree": 1, "matching": "overlap"}
    event = session.scalars(select(Event).where(Event.action == "adjudication_settings")).one()
    assert event.user_id == world["sup"].id
    assert event.before == {"adjudication": {"min_agree": 2, "matching": "exact"}}


def test_apply_proposal_writes_agreement_with_provenance_and_leaves_ties_open(world, session):
    doc, s = world["docs"][0], world["sentences"][world["docs"][0].id]
    written = adjudication.apply_proposal(session, world["sup"], doc.id)
    assert written == {"labels": 2, "spans": 2, "attributions": 0, "ties": 2}
    gold = _gold_label(session, s[0].id)
    assert gold.value == "event"
    assert _gold_label(session, s[1].id) is None and _gold_label(session, s[3].id) is None  # ties stay open
    provenance = _provenance(session, "sentence_label", gold.id)
    assert (provenance.method, provenance.agreed, provenance.adjudicator_id) == ("auto", _ids(world, "ann1", "ann2"), world["sup"].id)
    assert provenance.created_at is not None
    # Idempotent: everything proposed is in gold now.
    assert adjudication.apply_proposal(session, world["sup"], doc.id) == {"labels": 0, "spans": 0, "attributions": 0, "ties": 2}
    view = adjudication.view(session, world["sup"], doc.id)
    assert view["status"] == "in_progress"
    assert all(item["in_gold"] for item in view["proposal"]["labels"] + view["proposal"]["spans"])
    assert {span["label"] for span in view["gold"]["spans"]} == {"SOURCE", "CUE"}
    assert all(view["provenance"][f"span:{span['id']}"]["method"] == "auto" for span in view["gold"]["spans"])


def test_apply_proposal_never_overwrites_a_persons_decision(world, session):
    doc, s = world["docs"][0], world["sentences"][world["docs"][0].id]
    adjudication.start(session, world["sup"], doc.id)
    adjudication.set_gold_label(session, world["sup"], s[0].id, "claim_type", {"value": "rule"})
    proposal = adjudication.view(session, world["sup"], doc.id)["proposal"]
    assert [p["in_gold"] for p in proposal["labels"] if p["sentence_id"] == s[0].id] == [False]  # gold differs
    assert adjudication.apply_proposal(session, world["sup"], doc.id)["labels"] == 1  # sentence 2 only
    session.expire_all()
    assert _gold_label(session, s[0].id).value == "rule"
    assert _provenance(session, "sentence_label", _gold_label(session, s[0].id).id).method == "added"


def test_proposed_attributions_are_written_with_their_spans(world, session):
    doc = world["docs"][1]
    for name in ("ann1", "ann2"):
        mine = {s.label: s.id for s in session.scalars(select(Span).where(Span.user_id == world[name].id, Span.document_id == doc.id))}
        annotations.create_span(session, world[name], doc.id, span_payload(doc, "prices rose", "attribution", "CONTENT"))
        content = session.scalar(select(Span.id).where(Span.user_id == world[name].id, Span.document_id == doc.id, Span.label == "CONTENT"))
        annotations.create_attribution(session, world[name], doc.id, {
            "attributes": {"quote_type": "indirect"},
            "parts": [{"span_id": mine["SOURCE"], "role": "source"}, {"span_id": mine["CUE"], "role": "cue"},
                      {"span_id": content, "role": "content"}]})
    written = adjudication.apply_proposal(session, world["sup"], doc.id)
    assert written["attributions"] == 1 and written["spans"] == 3  # SOURCE, CUE, CONTENT
    gold = adjudication.view(session, world["sup"], doc.id)["gold"]
    (attribution,) = gold["attributions"]
    by_id = {span["id"]: span for span in gold["spans"]}
    assert {(p["role"], by_id[p["span_id"]]["text"]) for p in attribution["parts"]} == {
        ("source", "Alice"), ("cue", "said"), ("content", "prices rose")}
    assert attribution["attributes"]["quote_type"] == "indirect"
    assert _provenance(session, "attribution", attribution["id"]).agreed == _ids(world, "ann1", "ann2")


# -- gold written by a person -----------------------------------------------------------------


def test_gold_writes_record_provenance_and_keep_history(world, session):
    doc, s = world["docs"][0], world["sentences"][world["docs"][0].id]
    with pytest.raises(Conflict, match="not started"):
        adjudication.set_gold_label(session, world["sup"], s[1].id, "claim_type", {"value": "event"})
    adjudication.start(session, world["sup"], doc.id)
    assert adjudication.start(session, world["sup"], doc.id)["status"] == "in_progress"  # idempotent

    # The tie on sentence 1, decided by a person: ann1's value, with a note.
    saved = adjudication.set_gold_label(session, world["sup"], s[1].id, "claim_type", {"value": "event", "note": "ann1 is right"})
    row = _provenance(session, "sentence_label", saved["id"])
    assert (row.method, row.agreed, row.adjudicator_id, row.note) == ("accepted", _ids(world, "ann1"), world["sup"].id, "ann1 is right")
    # Re-adjudicated to a value nobody chose: edited; the history is in the audit log.
    adjudication.set_gold_label(session, world["sup"], s[1].id, "claim_type", {"value": "rule", "version": saved["version"]})
    row = _provenance(session, "sentence_label", saved["id"])
    assert (row.method, row.agreed, row.note) == ("edited", [], None)
    history = session.scalars(select(Event).where(Event.entity_type == "gold_provenance", Event.entity_id == row.id).order_by(Event.id)).all()
    assert [e.action for e in history] == ["adjudicate", "adjudicate"]
    assert history[0].before is None and history[0].after["method"] == "accepted"
    assert history[1].before["method"] == "accepted" and history[1].before["note"] == "ann1 is right"
    assert history[1].after["method"] == "edited" and history[1].user_id == world["sup"].id

    # Spans: added (nobody marked it), accepted once it matches an annotator's, deleted.
    span = adjudication.create_gold_span(session, world["sup"], doc.id, span_payload(doc, "Bob", "attribution", "SOURCE"))
    assert _provenance(session, "span", span["id"]).method == "added"
    span = adjudication.update_gold_span(session, world["sup"], span["id"], {**span_payload(doc, "Alice said", "attribution", "SOURCE"), "version": span["version"]})
    row = _provenance(session, "span", span["id"])
    assert (row.method, row.agreed) == ("accepted", _ids(world, "ann3"))
    adjudication.delete_gold_span(session, world["sup"], span["id"], {"version": span["version"]})
    assert _provenance(session, "span", span["id"]) is None
    assert session.scalar(select(Event).where(Event.entity_type == "gold_provenance", Event.action == "delete")).before["method"] == "accepted"
    # An annotator's span is not gold: the gold functions do not reach it.
    theirs = session.scalar(select(Span.id).where(Span.user_id == world["ann1"].id))
    with pytest.raises(NotFound):
        adjudication.update_gold_span(session, world["sup"], theirs, {"label": "CUE", "version": 1})


def test_finish_and_reopen(world, session):
    doc, s = world["docs"][0], world["sentences"][world["docs"][0].id]
    with pytest.raises(Conflict):
        adjudication.finish(session, world["sup"], doc.id)
    adjudication.apply_proposal(session, world["sup"], doc.id)
    assert adjudication.finish(session, world["sup"], doc.id, note="checked twice")["status"] == "adjudicated"
    with pytest.raises(Conflict, match="reopen"):
        adjudication.set_gold_label(session, world["sup"], s[1].id, "claim_type", {"value": "event"})
    with pytest.raises(Conflict):
        adjudication.apply_proposal(session, world["sup"], doc.id)
    with pytest.raises(Conflict):
        adjudication.finish(session, world["sup"], doc.id)
    assert adjudication.reopen(session, world["sup"], doc.id)["status"] == "in_progress"
    adjudication.set_gold_label(session, world["sup"], s[1].id, "claim_type", {"value": "event"})
    session.expire_all()
    row = session.scalar(select(Adjudication).where(Adjudication.document_id == doc.id))
    assert (row.status, row.note) == ("in_progress", "checked twice")
    actions = session.scalars(select(Event.action).where(Event.entity_type == "adjudications").order_by(Event.id)).all()
    assert actions == ["start", "adjudicated", "reopen"]


# -- authorisation ----------------------------------------------------------------------------


def test_annotators_cannot_reach_any_of_it(world, session):
    doc, s = world["docs"][0], world["sentences"][world["docs"][0].id]
    adjudication.apply_proposal(session, world["sup"], doc.id)
    gold_span = session.scalar(select(Span.id).where(Span.user_id == adjudication.gold_id(session)))
    project_id = world["project"].id
    calls = [
        lambda a: adjudication.queue(session, a, project_id),
        lambda a: adjudication.status(session, a, project_id),
        lambda a: report.gold_scores(session, a, project_id),
        lambda a: adjudication.settings(session, a, project_id),
        lambda a: adjudication.update_settings(session, a, project_id, {"min_agree": 1}),
        lambda a: adjudication.auto(session, a, project_id),
        lambda a: adjudication.view(session, a, doc.id),
        lambda a: adjudication.start(session, a, doc.id),
        lambda a: adjudication.apply_proposal(session, a, doc.id),
        lambda a: adjudication.set_gold_label(session, a, s[1].id, "claim_type", {"value": "event"}),
        lambda a: adjudication.create_gold_span(session, a, doc.id, span_payload(doc, "Bob", "attribution", "SOURCE")),
        lambda a: adjudication.update_gold_span(session, a, gold_span, {"label": "CUE", "version": 1}),
        lambda a: adjudication.delete_gold_span(session, a, gold_span, {"version": 1}),
        lambda a: adjudication.create_gold_attribution(session, a, doc.id, {"parts": []}),
        lambda a: adjudication.update_gold_attribution(session, a, 1, {"version": 1}),
        lambda a: adjudication.delete_gold_attribution(session, a, 1, {"version": 1}),
        lambda a: adjudication.finish(session, a, doc.id),
        lambda a: adjudication.reopen(session, a, doc.id),
        lambda a: exports.document_records(session, a, project_id, secret_key="k", gold=True),
    ]
    before = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    for call in calls:
        session.rollback()
        with pytest.raises(Forbidden):
            call(world["ann1"])
    session.rollback()
    assert session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) == before  # nothing written
    # Nor through the annotation services: the gold rows are not theirs, gold's assignment not theirs.
    with pytest.raises(NotFound):
        annotations.update_span(session, world["ann1"], gold_span, {"label": "CUE", "version": 1})
    state = annotations.annotation_state(session, world["ann1"], doc.id)
    assert gold_span not in {span["id"] for span in state["spans"]}
    # The gold account cannot sign in.
    assert users.authenticate(session, "gold", "") is None and users.authenticate(session, "gold", "!") is None


def test_the_name_gold_is_reserved_and_the_account_never_signs_in(world, session):
    for name in ("gold", " Gold "):
        with pytest.raises(ServiceError, match="reserved"):
            users.add_user(session, SYSTEM, name, "annotator", PASSWORD)
        with pytest.raises(ServiceError, match="reserved"):
            users.add_placeholder(session, SYSTEM, name)
        session.rollback()
    adjudication.start(session, world["sup"], world["docs"][0].id)
    gold = session.get(User, adjudication.gold_id(session))
    admin = add_users(session, {"admin": "admin"})["admin"]
    for attempt in (lambda: users.reactivate(session, admin, gold.id), lambda: users.set_password(session, admin, gold.id),
                    lambda: users.set_role(session, admin, gold.id, "supervisor"),
                    lambda: users.set_password(session, SYSTEM, gold.id, PASSWORD)):
        with pytest.raises(ServiceError, match="cannot sign in"):
            attempt()
        session.rollback()
    session.expire_all()
    assert (gold.active, gold.role, gold.password_hash) == (False, "annotator", users.UNUSABLE_PASSWORD)


# -- the queue, auto, status ------------------------------------------------------------------


def test_queue_orders_by_disagreement(world, session):
    doc0, doc1, doc2 = world["docs"]
    # Document 1: everyone agrees everywhere they overlap, from now on.
    s1 = world["sentences"][doc1.id]
    for name, position, value in (("ann2", 1, "event"), ("ann3", 3, "opinion")):
        row = session.scalar(select(SentenceLabel).where(SentenceLabel.user_id == world[name].id, SentenceLabel.sentence_id == s1[position].id))
        if row is None:
            annotations.set_sentence_label(session, world[name], s1[position].id, "claim_type", {"value": value})
        else:
            annotations.set_sentence_label(session, world[name], s1[position].id, "claim_type", {"value": value, "version": row.version})
    queue = adjudication.queue(session, world["sup"], world["project"].id)
    rows = {row["document"]: row for row in queue["documents"]}
    assert [row["document"] for row in queue["documents"]] == [doc0.id, doc1.id, doc2.id]
    assert rows[doc0.id]["disagreement"] > rows[doc1.id]["disagreement"] > 0  # sentence 0 still differs in doc 1
    assert rows[doc2.id]["disagreement"] is None  # one annotator: nothing to compare
    assert (rows[doc0.id]["annotators"], rows[doc2.id]["annotators"]) == (3, 1)
    assert queue["counts"] == {"not_started": 3, "in_progress": 0, "adjudicated": 0, "total": 3}
    adjudication.apply_proposal(session, world["sup"], doc0.id)
    rows = {row["document"]: row for row in adjudication.queue(session, world["sup"], world["project"].id)["documents"]}
    assert rows[doc0.id]["status"] == "in_progress" and rows[doc0.id]["annotators"] == 3  # gold is not an annotator


def test_auto_then_status(world, session, cli):
    result = cli("gold", "auto", "--project", "default", "--min-agree", "2")
    assert result.exit_code == 0, result.output
    assert "2 document(s) pre-filled with 4 label(s), 4 span(s)" in result.output
    assert "4 tie(s) left open" in result.output and "skipped 1 with fewer annotators" in result.output
    session.rollback()  # a fresh snapshot: the command wrote through its own session
    status = adjudication.status(session, world["sup"], world["project"].id)
    assert status["counts"] == {"not_started": 1, "in_progress": 2, "adjudicated": 0, "total": 3}
    first = status["documents"][0]
    assert first["gold"] == {"labels": 2, "spans": 2, "attributions": 0} and first["annotators"] == 3
    # Overlap matching in one run, not saved: ann3's "Alice said" joins the SOURCE agreement.
    assert adjudication.settings(session, world["sup"], world["project"].id)["matching"] == "exact"
    counts = adjudication.auto(session, world["sup"], world["project"].id, min_agree=1)
    assert counts["documents"] == 3 and counts["labels"] == 1  # document 2's single label
    adjudication.finish(session, world["sup"], world["docs"][0].id)
    assert adjudication.auto(session, SYSTEM, world["project"].id)["skipped_adjudicated"] == 1
    result = cli("gold", "status", "--project", "default")
    assert result.exit_code == 0, result.output
    assert "Adjudicated 1/3 (33%), in progress 2, not started 0." in result.output
    assert json.loads(cli("gold", "status", "--project", "default", "--json").output)["counts"]["adjudicated"] == 1
    assert cli("gold", "auto", "--project", "default", "--min-agree", "0").exit_code != 0
    assert "no project" in cli("gold", "status", "--project", "nope").output.lower()


# -- scores, report, export -------------------------------------------------------------------


def test_scores_against_known_gold(world, session):
    doc = world["docs"][0]
    s = world["sentences"][doc.id]
    assert report.gold_scores(session, world["sup"], world["project"].id)["documents"] == 0  # nothing adjudicated
    adjudication.apply_proposal(session, world["sup"], doc.id)
    # Gold = ann1's claim types: event, event, quantity, opinion.
    adjudication.set_gold_label(session, world["sup"], s[1].id, "claim_type", {"value": "event"})
    adjudication.set_gold_label(session, world["sup"], s[3].id, "claim_type", {"value": "opinion"})
    adjudication.finish(session, world["sup"], doc.id)
    scores = report.gold_scores(session, world["sup"], world["project"].id)
    assert scores["documents"] == 1
    assert [a["username"] for a in scores["annotators"]] == ["ann1", "ann2", "ann3"]
    layers = {(layer["kind"], layer["layer"]): layer["annotators"] for layer in scores["layers"]}
    claim = {row["annotator"]: row["kappa"] for row in layers[("choice", "claim_type")]}
    assert claim[world["ann1"].id]["value"] == pytest.approx(1.0)
    # ann2 vs gold on the 3 sentences both labelled: (event,event) (opinion,event) (quantity,quantity):
    # p_o = 2/3, p_e = (1/3·2/3) + (1/3·0) + (1/3·1/3) = 1/3, kappa = (2/3 - 1/3) / (2/3) = 0.5.
    assert claim[world["ann2"].id]["value"] == pytest.approx(0.5)
    assert claim[world["ann2"].id]["pairs"] == 3
    spans = {row["annotator"]: row for row in layers[("span", "attribution")]}
    assert spans[world["ann1"].id]["exact_f1"]["value"] == pytest.approx(1.0)
    # ann3: SOURCE "Alice said" against gold "Alice", CUE "said" exact. Exact F1 = 2·1/4;
    # partial: P = (5/10 + 4/4) / 2 = 0.75, R = (5/5 + 4/4) / 2 = 1, F1 = 1.5/1.75.
    assert spans[world["ann3"].id]["exact_f1"]["value"] == pytest.approx(0.5)
    assert spans[world["ann3"].id]["overlap_f1"]["value"] == pytest.approx(1.5 / 1.75)
    assert spans[world["ann3"].id]["precision"]["value"] == pytest.approx(0.75)
    # No gold attribution: every role of ann1's (none either) is undefined, not a perfect score.
    roles = {row["annotator"]: row["roles"] for row in layers[("relation", "attribution")]}
    assert roles[world["ann1"].id]["cue"]["exact"]["undefined"] == "no spans"

    # The agreement report carries the same figures per layer.
    built = report.build_report(session, world["sup"], world["project"].id, replicates=0)
    assert built["gold"] == {"documents": 1}
    claim_layer = next(layer for layer in built["layers"] if layer["layer"] == "claim_type")
    assert {row["annotator"]: row["kappa"]["value"] for row in claim_layer["gold"]} == pytest.approx(
        {world["ann1"].id: 1.0, world["ann2"].id: 0.5, world["ann3"].id: claim[world["ann3"].id]["value"]})
    relation = next(layer for layer in built["layers"] if layer["kind"] == "relation")
    assert relation["gold"] is not None and set(relation["gold"][0]["roles"]) == {"source", "cue", "content", "supplement"}
    names = report.annotator_names(built, secret_key="test-secret", usernames=True)
    rows = [line for line in report.report_csv(built, names) if ",gold," in line]
    assert any(line.startswith("claim_type,kappa,gold,ann2,,0.5,") for line in rows)
    html = report.report_html(built, names)
    assert "Annotators against gold (1 adjudicated documents)" in html and "Cohen's kappa with gold" in html


def test_report_page_shows_annotators_against_gold(world, session, app):
    doc = world["docs"][0]
    s = world["sentences"][doc.id]
    adjudication.apply_proposal(session, world["sup"], doc.id)
    adjudication.set_gold_label(session, world["sup"], s[1].id, "claim_type", {"value": "event"})
    adjudication.set_gold_label(session, world["sup"], s[3].id, "claim_type", {"value": "opinion"})
    page = Client(app, "sup").http.get(f"/projects/{world['project'].id}/agreement?replicates=0").get_data(as_text=True)
    assert "Annotators against gold" not in page  # nothing adjudicated yet: no gold to score against
    adjudication.finish(session, world["sup"], doc.id)
    page = Client(app, "sup").http.get(f"/projects/{world['project'].id}/agreement").get_data(as_text=True)
    claim = page[page.index('id="layer-claim_type"'):page.index("</section>", page.index('id="layer-claim_type"'))]
    assert "Annotators against gold" in claim and "(1 adjudicated document)" in claim
    table = claim[claim.index('<table class="gold">'):]
    assert '<td>ann2</td><td class="value"><span class="num">0.500</span>' in table
    dashboard = Client(app, "sup").http.get(f"/projects/{world['project'].id}/progress").get_data(as_text=True)
    scores = dashboard[dashboard.index("<h2>Against gold</h2>"):dashboard.index("<h2>Documents</h2>")]
    assert "Over the 1 adjudicated document;" in scores and "claim_type: kappa" in scores
    ann2 = re.search(r"<tr><td>ann2</td>(.*?)</tr>", scores, re.S).group(1)
    assert re.search(r'<td class="num">0\.500</td>', ann2) and "1.000 / 1.000" in scores  # ann1's spans are gold's


def test_gold_export(world, session, cli, tmp_path):
    doc0, doc1, _ = world["docs"]
    for doc in (doc0, doc1):
        adjudication.apply_proposal(session, world["sup"], doc.id)
    adjudication.finish(session, world["sup"], doc0.id)  # doc1's gold is unfinished: not exported

    records = list(exports.document_records(session, world["sup"], world["project"].id, secret_key="k", gold=True))
    by_doc = {r["document"]["id"]: r["annotations"] for r in records}
    (entry,) = by_doc[doc0.id]
    assert entry["annotator"] == "gold" and entry["status"] == "done"
    assert {(s["label"], s["text"]) for s in entry["spans"]} == {("SOURCE", "Alice"), ("CUE", "said")}
    assert [(l["sentence_id"], l["value"]) for l in entry["sentence_labels"]] == [
        (world["sentences"][doc0.id][0].id, "event"), (world["sentences"][doc0.id][2].id, "quantity")]
    assert by_doc[doc1.id] == []
    # The annotators' export never holds gold; gold is not an annotator to choose.
    plain = list(exports.document_records(session, world["sup"], world["project"].id, secret_key="k", usernames=True))
    assert {e["annotator"] for r in plain for e in r["annotations"]} == {"ann1", "ann2", "ann3"}
    with pytest.raises(ServiceError):
        exports.document_records(session, world["sup"], world["project"].id, secret_key="k", usernames=True, annotators=["gold"])
    with pytest.raises(ServiceError):
        exports.document_records(session, world["sup"], world["project"].id, secret_key="k", annotators=["ann1"], gold=True)

    # Every format, through the exporters: the CLI flag and a CSV.
    out = tmp_path / "gold.jsonl"
    result = cli("export", "--project", "default", "--format", "jsonl", "--gold", "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["document"]["id"], line["annotator"]) for line in lines] == [(doc0.id, "gold")]
    csv_text = b"".join(exporters.stream(
        "csv", exports.document_records(session, SYSTEM, world["project"].id, secret_key="k", gold=True),
        projects.project_codebook(world["project"]),
    )).decode()
    assert csv_text.count("\n") == 3 and ",gold," in csv_text  # header and the two gold spans


def test_gold_cannot_be_imported_as_an_annotator(world, session):
    """A gold export read back by the annotation import is refused: gold is only ever written
    by adjudication, with its provenance."""
    adjudication.apply_proposal(session, world["sup"], world["docs"][0].id)
    adjudication.finish(session, world["sup"], world["docs"][0].id)
    records = [r for r in exports.document_records(session, SYSTEM, world["project"].id, secret_key="k", gold=True)
               if r["annotations"]]
    session.rollback()
    with pytest.raises(ImportRejected) as rejected:
        import_annotations(session, world["sup"], world["project"].id, records, source="gold.jsonl", replace=True)
    assert ["gold standard" in str(problem) for problem in rejected.value.problems] == [True]


def test_gold_export_over_http(world, session, app):
    adjudication.apply_proposal(session, world["sup"], world["docs"][0].id)
    adjudication.finish(session, world["sup"], world["docs"][0].id)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": "sup", "password": PASSWORD, "csrf_token": token}).status_code == 302
    body = client.get(f"/projects/{world['project'].id}/export/jsonl?gold=1").get_data(as_text=True)
    assert [json.loads(line)["annotator"] for line in body.splitlines()] == ["gold"]
    # The project page's export form offers it.
    assert '<input type="checkbox" name="gold" value="1">' in client.get(f"/projects/{world['project'].id}").get_data(as_text=True)


# -- the gold account is never an annotator ---------------------------------------------------


def test_gold_account_is_absent_from_every_list_of_annotators(world, session):
    doc0 = world["docs"][0]
    adjudication.apply_proposal(session, world["sup"], doc0.id)
    adjudication.finish(session, world["sup"], doc0.id)
    gold = adjudication.gold_id(session)
    names = {"ann1", "ann2", "ann3"}
    project_id = world["project"].id

    built = report.build_report(session, world["sup"], project_id, replicates=0)
    assert {a["username"] for a in built["annotators"]} == names and built["counts"]["annotators"] == 3
    assert {u.user.username for u in progress.project_progress(session, world["sup"], project_id).annotators} == names
    matrix = assignments.assignment_matrix(session, world["sup"], project_id)
    assert gold not in {u.id for u in matrix.users} and gold not in {u.id for u in matrix.candidates}
    # Even reactivated by mistake, gold is never eligible (the matrix's candidates are the
    # eligible annotators), nor auto-assigned.
    session.get(User, gold).active = True
    session.commit()
    assert gold not in {u.id for u in assignments.assignment_matrix(session, world["sup"], project_id).candidates}
    auto = assignments.auto_assign(session, world["sup"], project_id, 1)
    assert gold not in {load.user.id for load in auto.loads}
    assert auto.created == []  # auto_assign commits now: nothing it did may change what follows
    assert {a.name for a in review.document_review(session, world["sup"], doc0.id).annotators} == names
    (counts,) = projects.list_projects(session, world["sup"])
    assert counts.annotators == 3
    documents = {row.id: row.annotators for row in projects.project_documents(session, world["sup"], project_id)}
    assert documents[doc0.id] == 3  # three annotators; gold's assignment is not counted
