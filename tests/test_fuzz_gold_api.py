"""Property-based fuzzing of the gold API (/api/gold/, annotator/web/adjudicate.py) with
hypothesis, over real HTTP through the app on SQLite and PostgreSQL, as a supervisor
adjudicating a document.

The bodies are test_fuzz_api's (helpers.fuzz_bodies: any JSON value, near misses of the real
bodies), with a ``note`` too, and valid bodies with one field changed or dropped; URLs carry odd
layers and ids. The answer is a 2xx or a 4xx with a JSON ``error``, never a 5xx; a 4xx changes no row of
any table (every row of every table compared, gold provenance, the adjudication queue and the
audit log included), and a 2xx changes only the tables gold lives in.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from annotator.models import Adjudication, Attribution, Span
from annotator.services import adjudication

# fuzz_bodies and snapshot_rows keep the names the fuzzer had before they moved to helpers:
# hypothesis derives its (derandomized) examples from the source of the test function, and
# these examples are known to reach both outcomes of every endpoint.
from .helpers import (
    DEEP_JSON,
    EXAMPLES,
    FUZZ_FIELDS,
    NOT_A_JSON_OBJECT,
    ODD_IDS,
    ODD_OBJECTS,
    ONE_SIDED_PHRASE,
    adjudication_world,
    changed_tables,
    gold_span_payload,
    json_values,
    ok,
)
from .helpers import fuzz_bodies as bodies
from .helpers import snapshot_rows as _snapshot

GOLD_TABLES = {"spans", "sentence_labels", "attributions", "attribution_parts", "gold_provenance", "events",
               "adjudications", "assignments", "users"}
LAYERS = ["claim_type", "loaded_language", "attribution", "nonsense", "", "x" * 300, "%00", "a%00b", "%FF%FE",
          "..%2F..", "claim_type%20"]
PARTS = (("ARY News", "SOURCE"), ("as reported by", "CUE"))  # of the gold attribution

# (method, URL with {placeholders}, the kind of a valid body): every write of the gold API.
ENDPOINTS = {
    "adjudicate.create_span": ("POST", "/api/gold/documents/{document}/spans", "span"),
    "adjudicate.update_span": ("PATCH", "/api/gold/spans/{span}", "span_change"),
    "adjudicate.delete_span": ("DELETE", "/api/gold/spans/{span}", "span_version"),
    "adjudicate.set_sentence_label": ("PUT", "/api/gold/sentences/{sentence}/labels/{layer}", "label"),
    "adjudicate.create_attribution": ("POST", "/api/gold/documents/{document}/attributions", "attribution"),
    "adjudicate.update_attribution": ("PATCH", "/api/gold/attributions/{attribution}", "attribution_change"),
    "adjudicate.delete_attribution": ("DELETE", "/api/gold/attributions/{attribution}", "attribution_version"),
    "adjudicate.start": ("POST", "/api/gold/documents/{document}/start", None),
    "adjudicate.proposal": ("POST", "/api/gold/documents/{document}/proposal", None),
    "adjudicate.finish": ("POST", "/api/gold/documents/{document}/done", "note"),
    "adjudicate.activity": ("POST", "/api/gold/documents/{document}/activity", "activity"),
}

# The batch (several of those changes in one request): fuzzed by a test of its own, so that the
# derandomized examples of ENDPOINTS' test stay the ones known to reach both outcomes.
BATCH = {"adjudicate.apply_changes": ("POST", "/api/gold/documents/{document}/changes", "changes")}
EVERY_WRITE = ENDPOINTS | BATCH


@pytest.fixture
def world(app, session):
    """The adjudication world (helpers.adjudication_world): the seed article with a tie and a
    span only one annotator marked."""
    return adjudication_world(app, session)


def test_every_gold_write_is_fuzzed(app):
    writes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/gold/") and rule.methods - {"GET", "HEAD", "OPTIONS"}}
    assert writes == EVERY_WRITE.keys()


class Gold:
    """The seed document being adjudicated, with a gold span and a gold attribution to change;
    made again after a request deletes them, and the document reopened after one finishes it."""

    def __init__(self, world):
        self.world, self.sup, self.seed = world, world["sup_client"], world["seed"]
        ok(self.sup.call("POST", f"/api/gold/documents/{self.seed.id}/start", {}))
        world["session"].rollback()  # see what the requests committed
        self.gold_id = adjudication.gold_id(world["session"])
        self.span = self.attribution = None
        self.restore()

    def _call(self, method: str, url: str, body: dict, status: int = 200) -> dict:
        return ok(self.sup.call(method, f"/api/gold/{url}", body), status)

    def restore(self) -> None:
        session, seed = self.world["session"], self.seed
        session.rollback()
        if session.scalar(select(Adjudication.status).where(Adjudication.document_id == seed.id)) == "adjudicated":
            response = self.sup.http.post(f"/documents/{seed.id}/adjudication/reopen", data={"csrf_token": self.sup.token})
            assert response.status_code == 302
        if self.span is None or session.get(Span, self.span["id"]) is None:
            self.span = self._call("POST", f"documents/{seed.id}/spans", gold_span_payload(seed, ONE_SIDED_PHRASE, note="fuzzing"), 201)
        if self.attribution is None or session.get(Attribution, self.attribution["id"]) is None:
            self.attribution = self._call("POST", f"documents/{seed.id}/attributions", self._attribution(), 201)
        session.rollback()

    def _attribution(self) -> dict:
        """An attribution of the gold spans PARTS (made if need be)."""
        session, parts = self.world["session"], []
        for phrase, label in PARTS:
            span_id = session.scalar(select(Span.id).where(
                Span.user_id == self.gold_id, Span.document_id == self.seed.id,
                Span.start == self.seed.text.index(phrase), Span.label == label))
            if span_id is None:
                span_id = self._call("POST", f"documents/{self.seed.id}/spans",
                                     gold_span_payload(self.seed, phrase, "attribution", label), 201)["id"]
            parts.append({"role": label.lower(), "span_id": span_id})
        return {"relation": "attribution", "parts": parts}

    def url(self, template: str, choice: int, layer: str, *, odd: int | None = None) -> str:
        """The URL with the world's ids (choice 0: the first of each), or ids no row has
        (ODD_IDS[odd] for all of them)."""
        ids = {
            "document": [self.seed.id, self.world["other"].id],  # the other is not being adjudicated
            "span": [self.span["id"], self.attribution["parts"][0]["span_id"]],
            "attribution": [self.attribution["id"]],
            "sentence": [self.world["split"].id, self.world["agreed"].id],
        }
        values = {key: ODD_IDS[odd] if odd is not None else (candidates + ODD_IDS)[choice % (len(candidates) + len(ODD_IDS))]
                  for key, candidates in ids.items()}
        return template.format(**values, layer=layer)

    def valid(self, kind: str | None) -> dict:
        session = self.world["session"]
        versions = {"span": session.get(Span, self.span["id"]).version,
                    "attribution": session.get(Attribution, self.attribution["id"]).version}
        session.rollback()
        return {
            None: {},
            "span": gold_span_payload(self.seed, "Israeli brutalities", note="a note"),
            "span_change": {"version": versions["span"], "label": "NAME_CALLING_LABELING", "note": "changed"},
            "span_version": {"version": versions["span"]},
            "label": {"value": "event", "comment": "gold", "note": "agreed"},
            "attribution": self._attribution() | {"note": "again"},
            "attribution_change": {"version": versions["attribution"], "attributes": {}, "note": "same"},
            "attribution_version": {"version": versions["attribution"]},
            "note": {"note": "finished"},
            "activity": {"ms": 1000, "sentence_id": self.world["split"].id},
            "changes": {"changes": [
                {"op": "set_label", "sentence_id": self.world["split"].id, "layer": "claim_type", "body": {"value": "event"}},
                {"op": "create_span", "key": "n1", "body": gold_span_payload(self.seed, "Israeli brutalities", note="batched")},
                {"op": "update_span", "span_id": "n1", "body": {"label": "NAME_CALLING_LABELING"}},
            ]},
        }[kind]


@st.composite
def _changed_body(draw, valid: dict) -> dict:
    """A valid body with one field set to any JSON value, or dropped."""
    body = dict(valid)
    key = draw(st.sampled_from(sorted(valid) + list(FUZZ_FIELDS) + ["note"]))
    if draw(st.booleans()):
        body.pop(key, None)
    else:
        body[key] = draw(json_values)
    return body


gold_near_misses = st.dictionaries(st.sampled_from((*FUZZ_FIELDS, "note")), json_values, max_size=8)


def _check(response, before: dict, session) -> None:
    """Never a 5xx; a 4xx says why in JSON and changes no row; a 2xx only the tables of gold."""
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    changed = changed_tables(before, _snapshot(session))
    if response.status_code >= 400:
        error = response.json.get("error") if response.is_json else None
        assert isinstance(error, str) and error, response.data[:300]
        assert changed == set(), f"a rejected request ({response.status_code}) changed {sorted(changed)}"
    else:
        assert changed <= GOLD_TABLES, sorted(changed)


def test_any_body_to_the_gold_api_gets_a_4xx_with_a_message_or_succeeds(world):
    gold, session = Gold(world), world["session"]
    statuses: dict[str, list[int]] = {endpoint: [] for endpoint in ENDPOINTS}

    # Which examples hypothesis draws depends on what ran before it in the process, so each
    # endpoint first gets one valid request of its own (before any example made its span): the
    # accepted outcome never rests on luck.
    for endpoint, (method, template, kind) in ENDPOINTS.items():
        before = _snapshot(session)
        response = gold.sup.call(method, gold.url(template, 0, "claim_type"), gold.valid(kind))
        _check(response, before, session)
        statuses[endpoint].append(response.status_code)
        gold.restore()

    @settings(max_examples=130, **EXAMPLES)
    @given(endpoint=st.sampled_from(sorted(ENDPOINTS)), choice=st.one_of(st.just(0), st.integers(0, 10)),
           layer=st.one_of(st.just("claim_type"), st.sampled_from(LAYERS)), data=st.data())
    def run(endpoint, choice, layer, data):
        method, template, kind = ENDPOINTS[endpoint]
        url = gold.url(template, choice, layer)
        valid = gold.valid(kind)
        body = data.draw(st.one_of(st.just(valid), _changed_body(valid), bodies, gold_near_misses))
        before = _snapshot(session)
        response = gold.sup.call(method, url, body)
        _check(response, before, session)
        statuses[endpoint].append(response.status_code)
        gold.restore()

    run()
    # Every endpoint was tried, and both accepted and refused requests.
    for endpoint, codes in statuses.items():
        assert any(code < 300 for code in codes) and any(code >= 400 for code in codes), (endpoint, sorted(set(codes)))


@st.composite
def _changed_batch(draw, valid: dict) -> dict:
    """A valid batch with one of its changes, or that change's body, changed as _changed_body
    changes a body."""
    changes = [dict(change) for change in valid["changes"]]
    index = draw(st.integers(0, len(changes) - 1))
    if draw(st.booleans()):
        changes[index] = draw(_changed_body(changes[index]))
    else:
        changes[index]["body"] = draw(_changed_body(changes[index]["body"]))
    return {"changes": changes}


def test_any_batch_to_the_gold_api_gets_a_4xx_with_a_message_or_succeeds(world):
    gold, session = Gold(world), world["session"]
    method, template, kind = BATCH["adjudicate.apply_changes"]
    codes: list[int] = []

    @settings(max_examples=60, **EXAMPLES)
    @given(choice=st.one_of(st.just(0), st.integers(0, 10)), data=st.data())
    def run(choice, data):
        valid = gold.valid(kind)
        body = data.draw(st.one_of(st.just(valid), _changed_batch(valid), bodies, gold_near_misses))
        before = _snapshot(session)
        response = gold.sup.call(method, gold.url(template, choice, "claim_type"), body)
        _check(response, before, session)
        codes.append(response.status_code)
        gold.restore()

    run()
    assert any(code < 300 for code in codes) and any(code >= 400 for code in codes), sorted(set(codes))


def test_odd_ids_and_layers_in_gold_urls(world):
    """Each endpoint with a valid body and each id no row has (zero, past PostgreSQL's INTEGER,
    past SQLite's), and the label endpoint with each odd layer (NUL, bytes that are not UTF-8,
    a path, overlong): a 4xx with a message, nothing written."""
    gold, session = Gold(world), world["session"]
    cases = [(endpoint, odd, "claim_type") for endpoint in EVERY_WRITE for odd in range(len(ODD_IDS))]
    cases += [("adjudicate.set_sentence_label", None, layer) for layer in LAYERS[1:]]
    for endpoint, odd, layer in cases:
        method, template, kind = EVERY_WRITE[endpoint]
        url = gold.url(template, 0, layer, odd=odd)
        before = _snapshot(session)
        response = gold.sup.call(method, url, gold.valid(kind))
        _check(response, before, session)
        if odd is not None and endpoint != "adjudicate.activity":  # which only checks the role
            assert response.status_code == 404, (url, response.status_code)
        assert response.status_code >= 400 or endpoint == "adjudicate.activity", (url, response.status_code)
        gold.restore()


ODD_NOTES = [b'{"note": "\\u0000"}', b'{"note": ' + DEEP_JSON[:2000].encode() + b"}", b'{"note": 5}', b'{"note": ["a"]}']


@pytest.mark.parametrize("raw, content_type", NOT_A_JSON_OBJECT + [(body, "application/json") for body in ODD_OBJECTS + ODD_NOTES])
def test_malformed_bodies_to_the_gold_api(world, raw, content_type):
    gold, session = Gold(world), world["session"]
    for endpoint, (method, template, _) in EVERY_WRITE.items():
        before = _snapshot(session)
        response = gold.sup.http.open(gold.url(template, 0, "claim_type"), method=method, data=raw,
                                      headers={"X-CSRFToken": gold.sup.token, "Content-Type": content_type})
        _check(response, before, session)
        gold.restore()


def test_gold_request_size_limit(world):
    gold, session = Gold(world), world["session"]
    before = _snapshot(session)
    body = gold_span_payload(gold.seed, "Israeli", note="x" * 2_000_000)
    response = gold.sup.call("POST", f"/api/gold/documents/{gold.seed.id}/spans", body)
    assert response.status_code == 413 and "error" in response.json
    assert changed_tables(before, _snapshot(session)) == set()
