"""The annotation API over real HTTP through the app: validation, blind annotation, audit, conflicts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from annotator.codebook import load_codebook
from annotator.ingest import read_bytes
from annotator.services import users
from annotator.services.permissions import SYSTEM
from annotator.models import Attribution, AttributionPart, Document, Event, Sentence, SentenceLabel, Span

from .conftest import REPO
from .helpers import PASSWORD, Client, add_users, assign, project_with, seed_document, seeded_project, sentence_of, span_payload


@pytest.fixture
def world(app, session):
    """The seed article assigned to two annotators; a supervisor; an unassigned second document."""
    project = seeded_project(session)
    accounts = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor"})
    seed = seed_document(session)
    other = session.scalar(select(Document).where(Document.id != seed.id))
    assign(session, project, [accounts["ann"], accounts["bob"]], [seed])
    return {"app": app, "session": session, "seed": seed, "other": other, **accounts}


def test_span_lifecycle_and_audit(world):
    seed, ann = world["seed"], Client(world["app"], "ann")
    url = f"/api/documents/{seed.id}/spans"
    created = ann.call("POST", url, span_payload(seed, "ARY News", "attribution", "SOURCE"))
    assert created.status_code == 201, created.json
    span = created.json
    assert seed.text[span["start"] : span["end"]] == "ARY News" and span["version"] == 1

    updated = ann.call("PATCH", f"/api/spans/{span['id']}", {"version": 1, "label": "CUE"})
    assert updated.status_code == 200 and updated.json["label"] == "CUE" and updated.json["version"] == 2
    stale = ann.call("PATCH", f"/api/spans/{span['id']}", {"version": 1, "label": "SOURCE"})
    assert stale.status_code == 409 and stale.json["field"] == "version"
    assert stale.json["current"]["label"] == "CUE"

    deleted = ann.call("DELETE", f"/api/spans/{span['id']}", {"version": 2})
    assert deleted.status_code == 200
    session = world["session"]
    session.rollback()  # end the test session's snapshot to see what the requests wrote
    events = session.execute(select(Event.action, Event.before, Event.after).where(Event.entity_type == "spans").order_by(Event.id)).all()
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[1].before["label"] == "SOURCE" and events[1].after["label"] == "CUE"
    assert events[2].before["text"] == "ARY News" and events[2].after is None
    assert session.scalar(select(func.count(Span.id))) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": -1}, "start"),
        ({"start": 10**9, "end": 10**9 + 3}, "start"),
        ({"end": 10**9}, "end"),
        ({"text": "ARY Newz"}, "text"),
        ({"label": "SPEAKER"}, "label"),
        ({"layer": "nonsense"}, "layer"),
        ({"attributes": {"polarity": "negative"}}, "label"),
        ({"start": "3"}, "start"),
        ({"start": True}, "start"),
        ({"sentence_id": 1}, "sentence_id"),
    ],
)
def test_span_validation_rejects_and_writes_nothing(world, change, field):
    seed, ann = world["seed"], Client(world["app"], "ann")
    payload = span_payload(seed, "ARY News", "attribution", "SOURCE") | change
    if "sentence_id" in change:
        payload["sentence_id"] = sentence_of(world["session"], seed, "Khaled Meshaal served").id
    response = ann.call("POST", f"/api/documents/{seed.id}/spans", payload)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field and response.json["error"]
    world["session"].rollback()
    assert world["session"].scalar(select(func.count(Span.id))) == 0


def test_span_whitespace_and_sentence_boundaries(world):
    seed, ann = world["seed"], Client(world["app"], "ann")
    url = f"/api/documents/{seed.id}/spans"
    at = seed.text.index(" ARY News")
    leading = {"layer": "attribution", "label": "SOURCE", "start": at, "end": at + 9, "text": " ARY News"}
    assert ann.call("POST", url, leading).json["field"] == "start"
    gap = seed.text.index("\n\n")
    blank = {"layer": "attribution", "label": "SOURCE", "start": gap, "end": gap + 2, "text": "\n\n"}
    assert ann.call("POST", url, blank).json["field"] == "text"
    # A loaded-language span may not cross into the next sentence; an attribution span may.
    phrase = "ARY News.\n\nIn an official statement"
    crossing = span_payload(seed, phrase, "loaded_language", "LOADED_LANGUAGE")
    response = ann.call("POST", url, crossing)
    assert response.status_code == 400 and response.json["field"] == "end"
    allowed = ann.call("POST", url, span_payload(seed, phrase, "attribution", "CONTENT"))
    assert allowed.status_code == 201
    duplicate = ann.call("POST", url, span_payload(seed, phrase, "attribution", "CONTENT"))
    assert duplicate.status_code == 409


def test_voice_prefilled_inside_content(world):
    seed, ann = world["seed"], Client(world["app"], "ann")
    url = f"/api/documents/{seed.id}/spans"
    content = "the Israeli brutalities in Gaza"
    assert ann.call("POST", url, span_payload(seed, content, "attribution", "CONTENT")).status_code == 201
    inside = ann.call("POST", url, span_payload(seed, "brutalities", "loaded_language", "LOADED_LANGUAGE"))
    assert inside.json["attributes"]["voice"] == "attributed"
    outside = ann.call("POST", url, span_payload(seed, "devastating", "loaded_language", "LOADED_LANGUAGE"))
    assert outside.json["attributes"]["voice"] == "author"
    chosen = ann.call(
        "POST", url, span_payload(seed, "Israeli brutalities", "loaded_language", "NAME_CALLING_LABELING", attributes={"voice": "author"})
    )
    assert chosen.json["attributes"]["voice"] == "author"


def test_sentence_labels_create_update_conflict(world):
    seed, ann = world["seed"], Client(world["app"], "ann")
    sentence = sentence_of(world["session"], seed, "ARY News")
    url = f"/api/sentences/{sentence.id}/labels/claim_type"
    first = ann.call("PUT", url, {"value": "event"})
    assert first.status_code == 200 and first.json["version"] == 1
    again_without_version = ann.call("PUT", url, {"value": "opinion"})
    assert again_without_version.status_code == 409
    second = ann.call("PUT", url, {"value": "opinion", "unsure": True, "comment": " hard one ", "version": 1})
    assert second.json == {**second.json, "value": "opinion", "unsure": True, "comment": "hard one", "version": 2}
    stale = ann.call("PUT", url, {"value": "event", "version": 1})
    assert stale.status_code == 409 and stale.json["current"]["value"] == "opinion"
    for bad, field in (
        ({"value": "rumour"}, "value"),
        ({"value": ["event"]}, "value"),
        ({"value": "event", "unsure": "yes"}, "unsure"),
        ({"value": "event", "comment": "x" * 2001}, "comment"),
    ):
        response = ann.call("PUT", url, bad | {"version": 2})
        assert response.status_code == 400 and response.json["field"] == field, (bad, response.json)
    assert ann.call("PUT", f"/api/sentences/{sentence.id}/labels/nonsense", {"value": "x"}).json["field"] == "layer"
    worthy = ann.call("PUT", f"/api/sentences/{sentence.id}/labels/check_worthy", {"value": "yes"})
    assert worthy.status_code == 200
    world["session"].rollback()
    rows = world["session"].scalars(select(SentenceLabel).order_by(SentenceLabel.layer)).all()
    assert [(r.layer, r.value) for r in rows] == [("check_worthy", "yes"), ("claim_type", "opinion")]


def test_attribution_unit(world):
    seed, ann = world["seed"], Client(world["app"], "ann")
    url = f"/api/documents/{seed.id}/spans"
    cue = ann.call("POST", url, span_payload(seed, "as reported by", "attribution", "CUE")).json
    source = ann.call("POST", url, span_payload(seed, "ARY News", "attribution", "SOURCE")).json
    brutal = ann.call("POST", url, span_payload(seed, "brutalities", "loaded_language", "LOADED_LANGUAGE")).json

    started = ann.call(
        "POST", f"/api/documents/{seed.id}/attributions",
        {"attributes": {"source_kind": "media_outlet"}, "parts": [{"span_id": cue["id"], "role": "cue"}]},
    )
    assert started.status_code == 201 and started.json["missing"] == ["content"]
    attribution = started.json
    for parts, message in (
        ([{"span_id": source["id"], "role": "cue"}], "must be a CUE"),
        ([{"span_id": brutal["id"], "role": "source"}], "must be a SOURCE"),
        ([{"span_id": cue["id"], "role": "speaker"}], "role must be one of"),
        ([{"span_id": 999999, "role": "source"}], "not one of your spans"),
        ([{"span_id": cue["id"], "role": "cue"}, {"span_id": cue["id"], "role": "cue"}], "at most one cue"),
    ):
        response = ann.call("PATCH", f"/api/attributions/{attribution['id']}", {"version": 1, "parts": parts})
        assert response.status_code == 400 and message in response.json["error"], response.json
    bad_value = ann.call("PATCH", f"/api/attributions/{attribution['id']}", {"version": 1, "attributes": {"source_kind": "alien"}})
    assert bad_value.status_code == 400 and bad_value.json["field"] == "attributes"

    content = ann.call("POST", url, span_payload(seed, "Khaled Meshaal, the leader of Hamas", "attribution", "CONTENT")).json
    linked = ann.call(
        "PATCH", f"/api/attributions/{attribution['id']}",
        {"version": 1, "attributes": {"source_kind": "media_outlet", "identification": "named"},
         "parts": [{"span_id": cue["id"], "role": "cue"}, {"span_id": source["id"], "role": "source"}, {"span_id": content["id"], "role": "content"}]},
    )
    assert linked.status_code == 200 and linked.json["missing"] == [] and linked.json["version"] == 2
    assert {p["role"] for p in linked.json["parts"]} == {"cue", "source", "content"}

    # Deleting a span removes its part, answering with the attribution's new version.
    deleted = ann.call("DELETE", f"/api/spans/{source['id']}", {"version": 1})
    assert deleted.status_code == 200 and deleted.json["attributions"][0]["version"] == 3
    state = ann.call("GET", f"/api/documents/{seed.id}/annotations").json
    assert {p["role"] for p in state["attributions"][0]["parts"]} == {"cue", "content"}
    assert state["attributions"][0]["version"] == 3

    # Relabelling a part moves it to the role of its new label when that role is free ...
    relabelled = ann.call("PATCH", f"/api/spans/{content['id']}", {"version": 1, "label": "SOURCE"})
    assert relabelled.status_code == 200
    assert {(p["span_id"], p["role"]) for p in relabelled.json["attributions"][0]["parts"]} == {(cue["id"], "cue"), (content["id"], "source")}
    # ... and out of the attribution when the label plays no role there (or it is taken).
    out = ann.call("PATCH", f"/api/spans/{cue['id']}", {"version": 1, "label": "SOURCE"})
    assert out.json["attributions"][0]["parts"] == [{"span_id": content["id"], "role": "source"}]
    assert out.json["attributions"][0]["version"] == 5 and out.json["attributions"][0]["missing"] == ["cue", "content"]
    session = world["session"]
    session.rollback()
    actions = session.scalars(select(Event.action).where(Event.entity_type == "attributions").order_by(Event.id)).all()
    assert actions == ["create", "update", "update", "update", "update"]
    assert ann.call("DELETE", f"/api/attributions/{attribution['id']}", {"version": 5}).status_code == 200
    session.rollback()
    assert session.scalar(select(func.count(Attribution.id))) == 0
    assert session.scalar(select(func.count(Span.id))) == 3  # spans outlive the unit


def test_attribution_with_the_roles_of_a_custom_codebook(world):
    """A codebook decides its relation's roles (here support: claim, evidence), not a list
    the database was once given; a role the codebook lacks is a 400 naming the field."""
    session = world["session"]
    text = "The minister said growth doubled. Figures from the Treasury show a rise of 4 percent."
    project = project_with(session, read_bytes("debate.txt", f"Debate\n\n{text}\n".encode()), "debates",
                           load_codebook(REPO / "tests/data/codebooks/custom.json"))
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [world["ann"]], [document])
    ann = Client(world["app"], "ann")
    url = f"/api/documents/{document.id}/spans"
    claim = ann.call("POST", url, span_payload(document, "growth doubled", "evidence", "CLAIM"))
    evidence = ann.call("POST", url, span_payload(document, "a rise of 4 percent", "evidence", "EVIDENCE",
                                                   attributes={"evidence_kind": "statistic"}))
    assert (claim.status_code, evidence.status_code) == (201, 201), (claim.json, evidence.json)
    parts = [{"span_id": claim.json["id"], "role": "claim"}, {"span_id": evidence.json["id"], "role": "evidence"}]

    created = ann.call("POST", f"/api/documents/{document.id}/attributions",
                       {"relation": "support", "attributes": {"strength": "strong"}, "parts": parts})
    assert created.status_code == 201, created.json
    assert created.json["missing"] == []
    session.rollback()
    stored = session.execute(select(AttributionPart.role, AttributionPart.span_id).join(Attribution)
                             .where(Attribution.document_id == document.id, Attribution.relation == "support")).all()
    assert sorted(stored) == [("claim", claim.json["id"]), ("evidence", evidence.json["id"])]

    unknown = ann.call("POST", f"/api/documents/{document.id}/attributions",
                       {"relation": "support", "parts": [{"span_id": claim.json["id"], "role": "source"}]})
    assert unknown.status_code == 400 and unknown.json["field"] == "parts"
    assert "role must be one of claim, evidence" in unknown.json["error"]
    session.rollback()
    assert session.scalar(select(func.count(Attribution.id))) == 1


def test_blind_annotation_between_annotators(world):
    seed = world["seed"]
    ann, bob = Client(world["app"], "ann"), Client(world["app"], "bob")
    span = ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE")).json
    sentence = sentence_of(world["session"], seed, "ARY News")
    ann.call("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", {"value": "event"})

    state = bob.call("GET", f"/api/documents/{seed.id}/annotations").json
    assert state["spans"] == [] and state["labels"] == [] and state["attributions"] == []
    assert "ARY News" not in bob.http.get(f"/documents/{seed.id}").get_data(as_text=True).split('"spans"')[1][:40]
    assert bob.call("PATCH", f"/api/spans/{span['id']}", {"version": 1, "label": "CUE"}).status_code == 404
    assert bob.call("DELETE", f"/api/spans/{span['id']}", {"version": 1}).status_code == 404
    # Bob's own label on the same sentence is separate from Ann's.
    assert bob.call("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", {"value": "opinion"}).status_code == 200


def test_unassigned_documents_are_out_of_reach(world):
    other, ann, sup = world["other"], Client(world["app"], "ann"), Client(world["app"], "sup")
    for client in (ann, sup):
        assert client.call("GET", f"/api/documents/{other.id}/annotations").status_code == 404
        assert client.call("POST", f"/api/documents/{other.id}/spans", span_payload(other, other.text.split()[0], "attribution", "SOURCE")).status_code == 404
        assert client.http.get(f"/documents/{other.id}").status_code == 404
    sentence = world["session"].scalar(select(Sentence).where(Sentence.document_id == other.id))
    assert ann.call("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", {"value": "event"}).status_code == 404
    assert ann.call("GET", "/api/documents/999999/annotations").status_code == 404


def test_withdrawn_assignment_is_read_only(world):
    session, seed = world["session"], world["seed"]
    ann = Client(world["app"], "ann")
    from annotator.models import Assignment

    assignment = session.scalar(select(Assignment).where(Assignment.user_id == world["ann"].id))
    assignment.status = "withdrawn"
    session.commit()
    response = ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE"))
    assert response.status_code == 403


def test_authentication_and_csrf(world):
    seed = world["seed"]
    anonymous = Client(world["app"], None)
    response = anonymous.call("GET", f"/api/documents/{seed.id}/annotations")
    assert response.status_code == 401 and response.json == {"error": "authentication required"}
    # Logged out with a stale token: 401 (log in again), not a CSRF error.
    posted = anonymous.http.post(f"/api/documents/{seed.id}/spans", json={}, headers={"X-CSRFToken": "stale"})
    assert posted.status_code == 401
    assert anonymous.http.get(f"/documents/{seed.id}").status_code == 302
    ann = Client(world["app"], "ann")
    no_token = ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE"), csrf=False)
    assert no_token.status_code == 400 and "CSRF" in no_token.json["error"]
    not_json = ann.http.post(f"/api/documents/{seed.id}/spans", data="nope", headers={"X-CSRFToken": ann.token})
    assert not_json.status_code == 400 and "JSON object" in not_json.json["error"]
    world["session"].rollback()
    assert world["session"].scalar(select(func.count(Span.id))) == 0


def test_login_logout_and_deactivated_user(world):
    session = world["session"]
    ann = Client(world["app"], "ann")
    assert "Hamas top leader" in ann.http.get("/").get_data(as_text=True)
    page = ann.http.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert ann.http.post("/logout", data={"csrf_token": token}).status_code == 302
    assert ann.http.get("/").status_code == 302
    users.deactivate(session, SYSTEM, world["bob"].id)
    with pytest.raises(AssertionError):
        Client(world["app"], "bob")


def test_login_redirect_stays_on_site(world):
    client = world["app"].test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login?next=//evil.example/x", data={"username": "ann", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_annotator_home_progress(world):
    seed, session = world["seed"], world["session"]
    ann = Client(world["app"], "ann")
    total = session.scalar(select(func.count(Sentence.id)).where(Sentence.document_id == seed.id))
    first = session.scalar(select(Sentence).where(Sentence.document_id == seed.id, Sentence.position == 0))
    ann.call("PUT", f"/api/sentences/{first.id}/labels/claim_type", {"value": "event"})
    home = ann.http.get("/").get_data(as_text=True)
    assert f"1 / {total} sentences" in home and f"/documents/{seed.id}#s1" in home
    assert world["other"].title not in home


# -- several changes in one request (POST /api/documents/ID/changes) --------------------------------


def _batch(client, document_id: int, *changes: dict):
    return client.call("POST", f"/api/documents/{document_id}/changes", {"changes": list(changes)})


def _events(session) -> list[tuple]:
    session.rollback()
    return session.execute(select(Event.action, Event.entity_type, Event.entity_id).order_by(Event.id)).all()


def test_an_annotation_goes_in_one_request_answered_as_its_single_requests(world):
    """Two spans, a label and the attribution joining the spans, one request; each change
    answered, checked and audited as its own request is (bob sends the same as single requests)."""
    seed, session = world["seed"], world["session"]
    sentence = sentence_of(session, seed, "ARY News")
    source, cue = span_payload(seed, "ARY News", "attribution", "SOURCE"), span_payload(seed, "as reported by", "attribution", "CUE")
    label = {"value": "event", "version": None}
    ann, bob = Client(world["app"], "ann"), Client(world["app"], "bob")
    response = _batch(
        ann, seed.id,
        {"op": "create_span", "key": "n1", "body": source},
        {"op": "create_span", "key": "n2", "body": cue},
        {"op": "set_label", "sentence_id": sentence.id, "layer": "claim_type", "body": label},
        {"op": "create_attribution", "key": "m1", "body": {"parts": [{"span_id": "n1", "role": "source"}, {"span_id": "n2", "role": "cue"}]}},
    )
    assert response.status_code == 200, response.json
    results = response.json["results"]
    singles = [bob.call("POST", f"/api/documents/{seed.id}/spans", source), bob.call("POST", f"/api/documents/{seed.id}/spans", cue),
               bob.call("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", label)]
    singles.append(bob.call("POST", f"/api/documents/{seed.id}/attributions", {"parts": [
        {"span_id": singles[0].json["id"], "role": "source"}, {"span_id": singles[1].json["id"], "role": "cue"}]}))
    assert [r["status"] for r in results] == [s.status_code for s in singles] == [201, 201, 200, 201]

    def without_ids(body):
        return {k: v for k, v in body.items() if k not in ("id", "parts")} | {"roles": [p["role"] for p in body.get("parts", [])]}

    assert [without_ids(r["body"]) for r in results] == [without_ids(s.json) for s in singles]
    spans = [r["body"]["id"] for r in results[:2]]
    assert {(p["span_id"], p["role"]) for p in results[3]["body"]["parts"]} == {(spans[0], "source"), (spans[1], "cue")}
    ann_id = world["ann"].id
    assert [(action, kind) for action, kind, _ in _events(session)[-8:]] == [
        ("create", "spans"), ("create", "spans"), ("create", "sentence_labels"), ("create", "attributions")] * 2
    assert session.scalars(select(Event.user_id).where(Event.entity_id.in_(spans), Event.entity_type == "spans")).all() == [ann_id] * 2


def test_a_batch_changes_what_its_earlier_changes_made_at_the_versions_they_left(world):
    seed, session, ann = world["seed"], world["session"], Client(world["app"], "ann")
    sentence = sentence_of(session, seed, "ARY News")
    [made] = _batch(ann, seed.id, {"op": "create_span", "body": span_payload(seed, "Khaled Meshaal", "attribution", "SOURCE")}).json["results"]
    saved = made["body"]
    response = _batch(
        ann, seed.id,
        {"op": "set_label", "sentence_id": sentence.id, "layer": "claim_type", "body": {"value": "event"}},
        {"op": "set_label", "sentence_id": sentence.id, "layer": "claim_type", "body": {"value": "opinion"}},
        {"op": "update_span", "span_id": saved["id"], "body": {"version": 1, "label": "CUE"}},
        {"op": "update_span", "span_id": saved["id"], "body": {"version": 1, "label": "SOURCE"}},
        {"op": "create_span", "key": "n1", "body": span_payload(seed, "ARY News", "attribution", "SOURCE")},
        {"op": "create_attribution", "key": "m1", "body": {"parts": [{"span_id": "n1", "role": "source"}]}},
        {"op": "update_span", "span_id": "n1", "body": {"label": "CONTENT"}},  # its part in m1 goes: m1 at version 2
        {"op": "update_attribution", "attribution_id": "m1", "body": {"version": 1, "parts": [{"span_id": saved["id"], "role": "source"}]}},
        {"op": "delete_span", "span_id": "n1", "body": {}},
        {"op": "delete_attribution", "attribution_id": "m1", "body": {"version": 1}},
    )
    results = response.json["results"]
    assert [r["status"] for r in results] == [200, 200, 200, 200, 201, 201, 200, 200, 200, 200], results
    assert [r["body"].get("version") for r in results[:4]] == [1, 2, 2, 3]
    assert results[6]["body"]["attributions"][0]["version"] == 2 and results[7]["body"]["version"] == 3
    assert results[9]["body"] == {"deleted": results[5]["body"]["id"]}
    session.rollback()
    assert session.scalar(select(SentenceLabel.value)) == "opinion"
    assert session.scalars(select(Span.label)).all() == ["SOURCE"]
    assert session.scalar(select(func.count(Attribution.id))) == 0


def test_a_batch_stops_at_its_first_failed_change_and_keeps_the_ones_before(world):
    seed, session, ann = world["seed"], world["session"], Client(world["app"], "ann")
    sentence = sentence_of(session, seed, "ARY News")
    label = {"op": "set_label", "sentence_id": sentence.id, "layer": "claim_type", "body": {"value": "event"}}
    before = len(_events(session))
    response = _batch(
        ann, seed.id,
        {"op": "create_span", "body": span_payload(seed, "ARY News", "attribution", "SOURCE")},
        {"op": "create_span", "body": span_payload(seed, "ARY News", "attribution", "SOURCE", text="ARY Newz")},
        label,
    )
    assert response.status_code == 200
    [kept, refused] = response.json["results"]
    assert kept["status"] == 201 and refused == {"status": 400, "body": {"error": "text does not match the document at start:end", "field": "text"}}
    assert [action for action, _, _ in _events(session)[before:]] == ["create"]
    assert session.scalar(select(func.count(SentenceLabel.id))) == 0

    # A conflict answers with the saved row, as the single request does; the rest is not run.
    ok = _batch(ann, seed.id, label).json["results"]
    stale = _batch(ann, seed.id, {**label, "body": {"value": "opinion", "version": 7}}, label).json["results"]
    assert len(stale) == 1 and stale[0]["status"] == 409 and stale[0]["body"]["current"] == ok[0]["body"]


# Malformed batches, most of them after a valid change (OK), which is not run either.
OK = "a valid change"


@pytest.mark.parametrize("body", [
    [], {}, {"changes": []}, {"changes": {}}, {"changes": [OK, 1]}, {"changes": [OK, {"op": "drop_table"}]},
    {"changes": [OK, {"op": ["create_span"]}]}, {"changes": [OK, {"op": "create_span", "body": []}]},
    {"changes": [OK, {"op": "update_span", "key": "n1", "span_id": 1, "body": {}}]},
    {"changes": [OK, {"op": "create_span", "key": "n1", "body": {}}, {"op": "create_span", "key": "n1", "body": {}}]},
    {"changes": [OK, {"op": "create_span", "key": 7, "body": {}}]},
    {"changes": [OK] * 101}, {"changes": [OK, {"op": "update_span", "body": {}}]},
    {"changes": [OK, {"op": "delete_span", "span_id": True, "body": {}}]}, {"changes": [OK, {"op": "create_span", "key": None}]},
    {"changes": [OK, {"op": "set_label", "sentence_id": "1", "layer": "claim_type", "body": {}}]},
])
def test_a_malformed_batch_is_refused_whole(world, body):
    seed, session, ann = world["seed"], world["session"], Client(world["app"], "ann")
    sentence = sentence_of(session, seed, "ARY News")
    ok = {"op": "set_label", "sentence_id": sentence.id, "layer": "claim_type", "body": {"value": "event"}}
    if isinstance(body, dict) and isinstance(body.get("changes"), list):
        body = {"changes": [ok if change == OK else change for change in body["changes"]]}
    response = ann.call("POST", f"/api/documents/{seed.id}/changes", body)
    assert response.status_code == 400 and response.json["error"], response.json
    assert session.scalar(select(func.count(SentenceLabel.id))) == 0


def test_every_item_of_a_batch_is_on_its_document_and_the_actors(world):
    seed, other, session = world["seed"], world["other"], world["session"]
    ann, bob = Client(world["app"], "ann"), Client(world["app"], "bob")
    bobs = bob.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE")).json
    sentence, elsewhere = sentence_of(session, seed, "ARY News"), session.scalar(select(Sentence.id).where(Sentence.document_id == other.id))
    cases = [
        ({"op": "update_span", "span_id": bobs["id"], "body": {"version": 1, "label": "CUE"}}, 404, "no such span among yours"),
        ({"op": "delete_span", "span_id": 2**31, "body": {"version": 1}}, 404, "no span 2147483648 on this document"),
        ({"op": "set_label", "sentence_id": elsewhere, "layer": "claim_type", "body": {"value": "event"}}, 404,
         f"no sentence {elsewhere} on this document"),
        ({"op": "set_label", "sentence_id": sentence.id, "layer": "claim\x00type", "body": {}}, 400, "layer must be printable text"),
        ({"op": "update_attribution", "attribution_id": "m9", "body": {}}, 400, "attribution_id 'm9' names no attribution created earlier"),
        ({"op": "create_attribution", "body": {"parts": [{"span_id": "n9", "role": "source"}]}}, 400, "parts[0].span_id 'n9' names no span created earlier"),
    ]
    for change, status, error in cases:
        [result] = _batch(ann, seed.id, change).json["results"]
        assert result["status"] == status and result["body"]["error"].startswith(error), (change, result)
    # A lone surrogate is no text anywhere in a body: the whole batch is refused (web/params.json_body).
    surrogate = _batch(ann, seed.id, {"op": "set_label", "sentence_id": sentence.id, "layer": "\ud800", "body": {}})
    assert surrogate.status_code == 400 and surrogate.json["field"] == "changes[0].layer"
    refused = _batch(ann, other.id, {"op": "create_span", "body": span_payload(other, other.text.split()[0], "attribution", "SOURCE")})
    assert refused.status_code == 404 and refused.json == {"error": "no such document among your assignments", "field": "document_id"}
    session.rollback()
    assert session.scalars(select(Span.label)).all() == ["SOURCE"]
