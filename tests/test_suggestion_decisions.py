"""Suggestions in the annotation page and the provenance of annotators' work (issue 19): a span
accepted from a suggestion records its origin and the suggestion, one edited before or after
accepting is "accepted_edited", a rejection is recorded; annotators in the control condition
never receive suggestions, in the page or through the API; migration 0018 keeps what exists.

The test's session rolls back before it reads what requests wrote: SQLite keeps the snapshot of
a read transaction until it ends."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from annotator import migrate
from annotator.models import Assignment, Attribution, Event, Project, Span, StoredSuggestion, SuggestionDecision
from annotator.services import annotations, exports, suggestions
from annotator.services.permissions import SYSTEM
from annotator.suggest.attribution import VERSION as RULES

from .helpers import Client, add_users, assign, seed_document, seeded_project
from .test_migrations import _add_part, _engine, _parts

DATA = re.compile(r'id="annotator-data">(.*?)</script>', re.S)


@pytest.fixture
def world(app, session):
    """The seed article with the rule-based suggester's suggestions stored, suggestions on:
    ``ann`` in the suggestions condition, ``ctl`` in the control one, ``bob`` not assigned it."""
    project = seeded_project(session)
    people = add_users(session, {"ann": "annotator", "ctl": "annotator", "bob": "annotator"})
    document = seed_document(session, project)
    assign(session, project, [people["ann"], people["ctl"]], [document])
    suggestions.run(session, SYSTEM, project.id, suggesters=["rules-attribution"], documents=[document.id])
    session.get(Project, project.id).suggestions_enabled = True
    for assignment in session.scalars(select(Assignment).where(Assignment.document_id == document.id)):
        assignment.condition = "control" if assignment.user_id == people["ctl"].id else "suggestions"
    session.commit()
    return {"document": document, "project": project, "people": people}


def _page_data(client: Client, document_id: int) -> dict:
    response = client.get(f"/documents/{document_id}")
    assert response.status_code == 200
    return json.loads(DATA.search(response.get_data(as_text=True)).group(1))


def _payload(document, suggestion: dict, **extra) -> dict:
    start, end = extra.pop("start", suggestion["start"]), extra.pop("end", suggestion["end"])
    return {"layer": suggestion["layer"], "label": suggestion["label"], "start": start, "end": end,
            "text": document.text[start:end], "attributes": suggestion["attributes"], **extra}


def _first(offered: list[dict], label: str) -> dict:
    return next(s for s in offered if s["label"] == label)


def test_the_page_offers_suggestions_in_the_suggestions_condition_only(app, session, world):
    document = world["document"]
    offered = _page_data(Client(app, "ann"), document.id)["suggestions"]
    session.rollback()
    stored = session.scalar(select(sa.func.count()).select_from(StoredSuggestion)
                            .where(StoredSuggestion.document_id == document.id))
    assert 0 < len(offered) <= stored
    cue = next(s for s in offered if s["role"] == "cue")
    assert cue["relation"] == "attribution" and cue["group"].startswith(f"rules-attribution {RULES} ")
    assert cue["relation_attributes"]["cue_type"]  # the relation's attributes travel on its anchor
    members = [s for s in offered if s["group"] == cue["group"]]
    assert {s["role"] for s in members} >= {"cue"}

    assert _page_data(Client(app, "ctl"), document.id)["suggestions"] == []
    # No condition drawn yet, suggestions on: offered; suggestions off: nothing, whatever the condition.
    ann = world["people"]["ann"]
    session.rollback()
    session.execute(sa.update(Assignment).where(Assignment.user_id == ann.id).values(condition=None))
    session.commit()
    assert len(annotations.annotation_page(session, ann, document.id)["suggestions"]) == len(offered)
    session.rollback()
    session.get(Project, world["project"].id).suggestions_enabled = False
    session.commit()
    assert annotations.annotation_page(session, ann, document.id)["suggestions"] == []


def test_accepting_records_the_origin_and_the_suggestion(app, session, world):
    document, ann = world["document"], Client(app, "ann")
    cue = _first(_page_data(ann, document.id)["suggestions"], "CUE")
    response = ann.call("POST", f"/api/documents/{document.id}/spans", _payload(document, cue, suggestion_id=cue["id"]))
    assert response.status_code == 201, response.get_json()
    saved = response.get_json()
    assert (saved["origin"], saved["suggestion_id"]) == ("accepted", cue["id"])
    session.rollback()
    span = session.get(Span, saved["id"])
    assert (span.suggester, span.suggester_version, span.suggestion_score) == ("rules-attribution", RULES, cue["score"])
    session.rollback()
    decision = session.scalar(select(SuggestionDecision))
    assert (decision.decision, decision.suggestion_id, decision.user_id, decision.label, decision.start) == (
        "accepted", cue["id"], world["people"]["ann"].id, "CUE", cue["start"])
    session.rollback()
    assert session.scalar(select(Event.action).where(Event.entity_type == "suggestion_decisions")) == "accept"
    assert cue["id"] not in {s["id"] for s in _page_data(ann, document.id)["suggestions"]}

    # A span marked by hand is typed; an origin the server does not find is refused.
    typed = ann.call("POST", f"/api/documents/{document.id}/spans", _payload(document, cue, label="SOURCE"))
    assert typed.status_code == 201 and typed.get_json()["origin"] == "typed"
    other = _first(_page_data(ann, document.id)["suggestions"], "CUE")
    wrong = ann.call("POST", f"/api/documents/{document.id}/spans",
                     _payload(document, other, suggestion_id=other["id"], origin="typed"))
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "origin"

    # Deleting an accepted span withdraws the acceptance: the page offers the suggestion again.
    assert ann.call("DELETE", f"/api/spans/{saved['id']}", {"version": saved["version"]}).status_code == 200
    session.rollback()
    assert session.scalar(select(SuggestionDecision).where(SuggestionDecision.suggestion_id == cue["id"])) is None
    assert cue["id"] in {s["id"] for s in _page_data(ann, document.id)["suggestions"]}


def test_editing_boundaries_makes_it_accepted_edited(app, session, world):
    document, ann = world["document"], Client(app, "ann")
    offered = _page_data(ann, document.id)["suggestions"]
    first, second = [s for s in offered if s["label"] in ("SOURCE", "CONTENT")][:2]
    # Edited before accepting: the extent of the suggestion less its last word.
    shorter_end = document.text.rindex(" ", first["start"], first["end"])
    assert shorter_end > first["start"]
    edited = ann.call("POST", f"/api/documents/{document.id}/spans",
                      _payload(document, first, end=shorter_end, suggestion_id=first["id"]))
    assert edited.status_code == 201, edited.get_json()
    assert edited.get_json()["origin"] == "accepted_edited"
    # Accepted as suggested, then its boundaries changed.
    accepted = ann.call("POST", f"/api/documents/{document.id}/spans", _payload(document, second, suggestion_id=second["id"])).get_json()
    assert accepted["origin"] == "accepted"
    end = document.text.rindex(" ", second["start"], second["end"])
    moved = ann.call("PATCH", f"/api/spans/{accepted['id']}",
                     {"version": accepted["version"], "end": end, "text": document.text[second["start"]:end]})
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["origin"], moved.get_json()["suggestion_id"]) == ("accepted_edited", second["id"])
    session.rollback()
    assert session.scalar(select(Span.origin).where(Span.id == accepted["id"])) == "accepted_edited"


def test_rejecting_records_a_decision(app, session, world):
    document, ann = world["document"], Client(app, "ann")
    cue = _first(_page_data(ann, document.id)["suggestions"], "CUE")
    response = ann.call("POST", f"/api/suggestions/{cue['id']}/reject", {})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() | {"id": 0} == {
        "id": 0, "suggestion_id": cue["id"], "document_id": document.id, "suggester": "rules-attribution", "version": RULES,
        "layer": "attribution", "label": "CUE", "start": cue["start"], "end": cue["end"], "score": cue["score"],
        "decision": "rejected"}
    session.rollback()
    assert session.scalar(select(Event.action).where(Event.entity_type == "suggestion_decisions")) == "reject"
    assert cue["id"] not in {s["id"] for s in _page_data(ann, document.id)["suggestions"]}
    # Accepted after all: one decision, the latest.
    assert ann.call("POST", f"/api/documents/{document.id}/spans", _payload(document, cue, suggestion_id=cue["id"])).status_code == 201
    session.rollback()
    assert session.scalars(select(SuggestionDecision.decision)).all() == ["accepted"]
    # Accepted, it cannot be rejected while its span stands.
    assert ann.call("POST", f"/api/suggestions/{cue['id']}/reject", {}).status_code == 409


def test_a_rejected_suggestion_stays_rejected_when_the_suggestions_are_computed_again(app, session, world):
    document, project, ann = world["document"], world["project"], Client(app, "ann")
    cue = _first(_page_data(ann, document.id)["suggestions"], "CUE")
    assert ann.call("POST", f"/api/suggestions/{cue['id']}/reject", {}).status_code == 200
    # The same version again: every row is replaced, the rejected one with a new id.
    suggestions.run(session, SYSTEM, project.id, suggesters=["rules-attribution"], documents=[document.id])
    session.commit()
    assert session.scalars(select(SuggestionDecision.suggestion_id)).all() == [None]  # the row it named is gone
    offered = _page_data(ann, document.id)["suggestions"]
    assert not [s for s in offered if (s["label"], s["start"], s["end"]) == ("CUE", cue["start"], cue["end"])]
    assert offered  # the others are still offered


def test_an_attribution_group_accepted_makes_the_linked_attribution(app, session, world):
    document, ann = world["document"], Client(app, "ann")
    offered = _page_data(ann, document.id)["suggestions"]
    cue = next(s for s in offered if s["role"] == "cue" and sum(t["group"] == s["group"] for t in offered) > 1)
    group = [s for s in offered if s["group"] == cue["group"]]
    changes = [{"op": "create_span", "key": f"k{s['id']}", "body": _payload(document, s, suggestion_id=s["id"])} for s in group]
    changes.append({"op": "create_attribution", "key": "a", "body": {
        "relation": cue["relation"], "attributes": cue["relation_attributes"], "suggestion_id": cue["id"],
        "parts": [{"span_id": f"k{s['id']}", "role": s["role"]} for s in group]}})
    response = ann.call("POST", f"/api/documents/{document.id}/changes", {"changes": changes})
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201] * len(changes), results
    session.rollback()
    attribution = session.get(Attribution, results[-1]["body"]["id"])
    assert (attribution.origin, attribution.suggestion_id, attribution.suggester) == ("accepted", cue["id"], "rules-attribution")
    assert attribution.attributes == cue["relation_attributes"]
    assert sorted(part.role for part in attribution.parts) == sorted(s["role"] for s in group)
    session.rollback()
    assert session.scalars(select(Span.origin)).all() == ["accepted"] * len(group)


def test_control_annotators_never_receive_suggestions(app, session, world):
    document = world["document"]
    offered = _page_data(Client(app, "ann"), document.id)["suggestions"]
    cue = _first(offered, "CUE")
    ctl = Client(app, "ctl")
    assert _page_data(ctl, document.id)["suggestions"] == []
    state = ctl.call("GET", f"/api/documents/{document.id}/annotations").get_json()
    assert "suggestions" not in state and "suggestion" not in json.dumps(state)
    assert ctl.call("POST", f"/api/suggestions/{cue['id']}/reject", {}).status_code == 404
    accepted = ctl.call("POST", f"/api/documents/{document.id}/spans", _payload(document, cue, suggestion_id=cue["id"]))
    assert accepted.status_code == 404 and accepted.get_json()["field"] == "suggestion_id"
    session.rollback()
    assert session.scalar(select(SuggestionDecision)) is None


def test_users_not_assigned_the_document_are_refused(app, session, world):
    document = world["document"]
    cue = _first(_page_data(Client(app, "ann"), document.id)["suggestions"], "CUE")
    bob = Client(app, "bob")
    assert bob.call("POST", f"/api/suggestions/{cue['id']}/reject", {}).status_code == 404
    assert bob.call("POST", f"/api/documents/{document.id}/spans",
                    _payload(document, cue, suggestion_id=cue["id"])).status_code == 404
    assert bob.get(f"/documents/{document.id}").status_code == 404
    assert Client(app, "ann").call("POST", "/api/suggestions/2147483647/reject", {}).status_code == 404
    session.rollback()
    assert session.scalar(select(SuggestionDecision)) is None


def test_exports_carry_the_origin(app, session, world):
    document, ann = world["document"], Client(app, "ann")
    cue = _first(_page_data(ann, document.id)["suggestions"], "CUE")
    assert ann.call("POST", f"/api/documents/{document.id}/spans", _payload(document, cue, suggestion_id=cue["id"])).status_code == 201
    session.rollback()
    records = list(exports.document_records(session, SYSTEM, world["project"].id, secret_key="", usernames=True))
    spans = [s for record in records for entry in record["annotations"] for s in entry["spans"]]
    (span,) = [s for s in spans if "origin" in s]
    assert (span["origin"], span["suggester"], span["suggester_version"], span["suggestion_score"]) == (
        "accepted", "rules-attribution", RULES, cue["score"])


def _rows_at_0017(engine: sa.Engine) -> None:
    """An annotator's two spans linked by an attribution, in SQL (the models are the head's)."""
    statements = [
        "INSERT INTO users (id, username, password_hash, role, active, created_at) VALUES (1, 'ann', 'x', 'annotator', true, CURRENT_TIMESTAMP)",
        "INSERT INTO projects (id, name, codebook, codebook_version, adjudication, created_at) VALUES (1, 'p', '{}', 1, '{}', CURRENT_TIMESTAMP)",
        "INSERT INTO documents (id, project_id, title, text, content_hash, identity_hash, language, metadata, imported_at) "
        "VALUES (1, 1, 't', 'ARY News said so.', 'h', 'i', 'en', '{}', CURRENT_TIMESTAMP)",
        'INSERT INTO sentences (id, document_id, position, start, "end") VALUES (1, 1, 0, 0, 17)',
        *(f'INSERT INTO spans (id, user_id, document_id, sentence_id, layer, label, start, "end", text, attributes, version, '
          f"created_at, updated_at) VALUES ({i}, 1, 1, 1, 'attribution', '{label}', {start}, {end}, '{text}', '{{}}', 1, "
          "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
          for i, label, start, end, text in ((1, "SOURCE", 0, 8, "ARY News"), (2, "CUE", 9, 13, "said"))),
        "INSERT INTO attributions (id, user_id, document_id, relation, attributes, version, created_at, updated_at) "
        "VALUES (1, 1, 1, 'attribution', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO attribution_parts (id, attribution_id, span_id, role) VALUES (1, 1, 1, 'source'), (2, 1, 2, 'cue')",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def test_0018_keeps_spans_and_attribution_parts(empty_database_url):
    """0018 adds the provenance columns to spans and attributions (a rebuild of both tables on
    SQLite, whose dropping of the old copy would delete the parts of attributions): the rows
    stay, parts too, and come back from a downgrade."""
    engine = _engine(empty_database_url)
    migrate.upgrade(engine, "0017")
    _rows_at_0017(engine)
    parts = _parts(engine)
    assert len(parts) == 2
    migrate.upgrade(engine, "0018")
    assert _parts(engine) == parts
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id, origin, suggestion_id FROM spans ORDER BY id")).all() == [
            (1, None, None), (2, None, None)]
        assert connection.execute(sa.text("SELECT origin FROM attributions")).all() == [(None,)]
    with pytest.raises(sa.exc.IntegrityError):  # the parts' foreign keys still hold
        _add_part(engine, 1, 100, "content")
    migrate.downgrade(engine, "0017")
    assert _parts(engine) == parts
    engine.dispose()
