"""The OpenAPI description of the JSON API (annotator/static/openapi.json) is true to the app.

(a) It is a valid OpenAPI 3.1 document and describes exactly the /api rules of the URL map:
a new endpoint without a description, or a description of an endpoint that is gone, fails.
(b) schemathesis generates requests for every operation from the description and sends them
to the real app in-process (WSGI), logged in with the CSRF header, on SQLite and PostgreSQL:
the annotator endpoints as an annotator of the document, the gold endpoints as a supervisor
adjudicating it. Path ids are the world's real ones (so the requests reach the handlers) or
generated; bodies are generated from the described schemas (positive cases), or break them
(negative cases); some positive cases get the row's current version and a real extent of the
text, so that the success answers are checked too. Every answer must be no 5xx, a documented
status code, the documented content type and a body matching the described schema.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

import annotator
from annotator.models import (
    Adjudication,
    Assignment,
    Attribution,
    Project,
    SentenceLabel,
    SourceEntity,
    Span,
    StoredSuggestion,
    User,
)
from annotator.services import adjudication, entities, suggestions
from annotator.services.permissions import SYSTEM

from .helpers import Client, annotation_world, sentence_of, span_payload

SPEC_PATH = Path(annotator.__file__).parent / "static" / "openapi.json"
SPEC = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
# Our own configuration, not a schemathesis.toml found on the way. The tests send the session
# cookie and the CSRF header themselves, so cases that leave them out are not generated.
CONFIG = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
SCHEMA = schemathesis.openapi.from_dict(json.loads(SPEC_PATH.read_text(encoding="utf-8")), config=CONFIG)
OPERATIONS = [(result.ok().method.upper(), result.ok().path) for result in SCHEMA.get_all_operations()]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
MAX_EXAMPLES = 25
# The operations only a project's supervisors succeed at, called as one (outside /api/gold/ too).
FOR_SUPERVISORS = ("/merge", "/split", "/history")
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


# -- (a) the document -------------------------------------------------------------------------------


def test_description_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1.")
    SCHEMA.validate()  # against the OpenAPI 3.1 meta-schema; raises if invalid
    broken = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    broken["paths"]["/api/spans/{span_id}"]["patch"]["responses"] = "none"
    with pytest.raises(Exception):  # noqa: B017 - the validator's own error type
        schemathesis.openapi.from_dict(broken).validate()


def test_description_lists_exactly_the_api_rules(app):
    rules = {
        (method, CONVERTER.sub(r"{\2}", rule.rule))
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(method.upper(), path) for path, item in SPEC["paths"].items() for method in item}
    assert described == rules, {"undescribed": sorted(rules - described), "not in the app": sorted(described - rules)}
    assert sorted(OPERATIONS) == sorted(described)
    for path, item in SPEC["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)
            writes = method != "get"
            assert operation["security"] == ([{"session": [], "csrf": []}] if writes else [{"session": []}]), (method, path)
            for code in ("401", "404"):
                assert code in operation["responses"], (method, path, code)


def test_description_is_served_as_a_static_file(app):
    response = app.test_client().get("/static/openapi.json")
    assert response.status_code == 200 and response.get_json() == SPEC


# -- (b) schemathesis against the app -----------------------------------------------------------------


@pytest.fixture
def world(app, session):
    return annotation_world(app, session)


def _arrange(world) -> dict:
    """Rows for the ids: the annotator's span, attribution and label, and the same in gold."""
    seed, session, app = world["seed"], world["session"], world["app"]
    sentence = sentence_of(session, seed, "ARY News")
    ann, sup = Client(app, "ann"), Client(app, "sup")
    # A suggestion Ann's page shows, for the rejection endpoint (docs/suggestions.md, "In the page").
    suggestions.run(session, SYSTEM, seed.project_id, suggesters=["rules-attribution"], documents=[seed.id])
    session.get(Project, seed.project_id).suggestions_enabled = True
    session.commit()
    suggestion_id = session.scalar(select(StoredSuggestion.id).where(StoredSuggestion.document_id == seed.id).limit(1))
    real = {"document_id": seed.id, "sentence_id": sentence.id, "layer": "claim_type", "suggestion_id": suggestion_id}
    # A source entity of Ann's making, which she may change and supervisors merge others into.
    entity = ann.call("POST", f"/api/projects/{seed.project_id}/entities", {"name": "ARY News"})
    assert entity.status_code == 201, entity.json
    real |= {"project_id": seed.project_id, "entity_id": entity.json["id"]}
    ids = {}
    for client, prefix in ((ann, "/api"), (sup, "/api/gold")):
        if prefix == "/api/gold":
            # Bob agrees with Ann on a span, so the proposal has something to write.
            Client(app, "bob").call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE"))
            assert client.call("POST", f"/api/gold/documents/{seed.id}/start").status_code == 200
        spans = [client.call("POST", f"{prefix}/documents/{seed.id}/spans", span_payload(seed, phrase, "attribution", label))
                 for phrase, label in (("ARY News", "SOURCE"), ("as reported by", "CUE"))]
        assert [r.status_code for r in spans] == [201, 201], [r.json for r in spans]
        attribution = client.call("POST", f"{prefix}/documents/{seed.id}/attributions", {
            "relation": "attribution",
            "parts": [{"role": "source", "span_id": spans[0].json["id"]}, {"role": "cue", "span_id": spans[1].json["id"]}],
        })
        assert attribution.status_code == 201, attribution.json
        label = client.call("PUT", f"{prefix}/sentences/{sentence.id}/labels/claim_type", {"value": "event"})
        assert label.status_code == 200, label.json
        ids[prefix] = {**real, "span_id": spans[0].json["id"], "attribution_id": attribution.json["id"]}
    return {"ann": ann, "sup": sup, "ids": ids, "seed": seed, "sentence": sentence}


def _current_version(session, path: str, parameters: dict) -> int | None:
    session.rollback()  # see what the requests committed
    if "span_id" in parameters:
        row = session.get(Span, parameters["span_id"])
    elif "attribution_id" in parameters:
        row = session.get(Attribution, parameters["attribution_id"])
    elif "entity_id" in parameters:
        row = session.get(SourceEntity, parameters["entity_id"])
    elif "sentence_id" in parameters and "layer" in parameters:
        gold = path.startswith("/api/gold/")
        user = adjudication.gold_id(session) if gold else session.scalar(select(User.id).where(User.username == "ann"))
        row = session.scalar(select(SentenceLabel).where(
            SentenceLabel.sentence_id == parameters["sentence_id"], SentenceLabel.layer == parameters["layer"],
            SentenceLabel.user_id == user))
    else:
        return None
    return row.version if row is not None else None


def _realistic(case, arranged, session) -> None:
    """Make a generated body more like one the page sends: the row's current version, a real
    extent of the text, a real value. What stays generated still varies."""
    if not isinstance(case.body, dict):
        return
    body = dict(case.body)
    if "version" in body or case.method.upper() in ("PATCH", "DELETE"):
        body["version"] = _current_version(session, case.operation.path, case.path_parameters)
    if case.operation.path.endswith("/spans") or ("{span_id}" in case.operation.path and case.method.upper() == "PATCH"):
        extent = span_payload(arranged["seed"], "Hamas", "attribution", "SOURCE")
        body.update(extent if case.method.upper() == "POST" else {k: extent[k] for k in ("start", "end", "text")})
        body.pop("attributes", None), body.pop("sentence_id", None), body.pop("suggestion_id", None), body.pop("origin", None)
        body.pop("entity_id", None), body.pop("entity_name", None)
        if case.method.upper() == "PATCH":
            body.pop("label", None)
    if "/labels/" in case.operation.path:
        body["value"] = "opinion"
        body.pop("comment", None)
    if "/activity" in case.operation.path:
        body.update(sentence_id=arranged["sentence"].id, ms=1000)
    if case.operation.path.endswith("/entities"):  # a new source: a fresh name
        body = {"name": uuid.uuid4().hex}
    if case.operation.path == "/api/entities/{entity_id}":
        body = {"version": body["version"], "affiliation": uuid.uuid4().hex}
    if case.operation.path.endswith("/merge"):  # another entity of the project, not merged yet
        body = {"other_id": entities.create_entity(session, SYSTEM, arranged["seed"].project_id, {"name": uuid.uuid4().hex})["id"]}
    if case.operation.path.endswith("/split"):  # an alias of the entity moves to a new one
        session.rollback()  # see what the requests committed
        entity = entities.get_entity(session, SYSTEM, case.path_parameters["entity_id"])
        alias = uuid.uuid4().hex
        entities.update_entity(session, SYSTEM, entity["id"], {"version": entity["version"], "aliases": [*entity["aliases"], alias]})
        body = {"name": uuid.uuid4().hex, "aliases": [alias]}
    case.body = body


def _reopen(session, seed) -> None:
    """Undo what would shut every later case out: the annotator's done, gold's adjudicated."""
    session.rollback()
    for assignment in session.scalars(select(Assignment).where(Assignment.document_id == seed.id, Assignment.status == "done")):
        assignment.status, assignment.completed_at = "in_progress", None
    for row in session.scalars(select(Adjudication).where(Adjudication.document_id == seed.id, Adjudication.status == "adjudicated")):
        row.status = "in_progress"
    session.commit()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_schemathesis(world, method, path):
    arranged = _arrange(world)
    session, app = world["session"], world["app"]
    gold = path.startswith("/api/gold/")
    client = arranged["sup"] if gold or path.endswith(FOR_SUPERVISORS) else arranged["ann"]
    operation = SCHEMA[path][method]
    names = set(re.findall(r"{(\w+)}", path))
    real = {name: value for name, value in arranged["ids"]["/api/gold" if gold else "/api"].items() if name in names}
    flavours = st.one_of(
        st.tuples(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real), st.just(True)),
        st.tuples(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real), st.just(False)),
        st.tuples(operation.as_strategy(GenerationMode.POSITIVE), st.just(False)),
        st.tuples(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real), st.just(False)),
    )
    cookie = client.http.get_cookie("session").value
    seen: set[int] = set()

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(flavour=flavours)
    def run(flavour):
        case, realistic = flavour
        if realistic:
            _realistic(case, arranged, session)
        response = case.call_and_validate(session=client.http, app=app, headers={"X-CSRFToken": client.token},
                                          cookies={"session": cookie}, checks=CHECKS)
        seen.add(response.status_code)
        _reopen(session, arranged["seed"])

    run()
    success = {"POST": {201} if path.endswith(("/spans", "/attributions", "/entities", "/split")) else {200}}.get(method, {200})
    if path.endswith("/gold/documents/{document_id}/activity"):
        success = {204}
    assert seen & success, f"no case reached the handler's success answer: {sorted(seen)}"
