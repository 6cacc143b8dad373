"""Saves that happen exactly once (issue 15): the database keeps one span per document, user,
layer, label and extent, so identical saves sent at once make one row; a change sent again with
its idempotency key is answered as the first time instead of running again."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, update

from annotator import migrate
from annotator.db import configure_engine
from annotator.models import Event, GoldProvenance, IdempotencyKey, Span
from annotator.services import idempotency

from .helpers import Client, annotation_world, changed_tables, gold_span_payload, ok, sentence_of, snapshot_rows, span_payload

AT_ONCE = 8
ROUNDS = 30
DUPLICATE = "you already marked exactly this text with this label"


@pytest.fixture
def world(app, session):
    """annotation_world, with the seed article being adjudicated by sup."""
    world = annotation_world(app, session)
    ok(Client(app, "sup").call("POST", f"/api/gold/documents/{world['seed'].id}/start"))
    return world


def _words(document, count: int) -> list[str]:
    """``count`` distinct words of the document, each at least four letters long."""
    found = list(dict.fromkeys(re.findall(r"\b[A-Za-z]{4,}\b", document.text)))
    assert len(found) >= count
    return found[:count]


def _at_once(clients: list[Client], send: Callable[[Client], object]) -> list:
    """What each client's ``send`` answered, all sent at the same moment (one thread each)."""
    barrier, answers = threading.Barrier(len(clients)), [None] * len(clients)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = send(clients[index])

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _spans_at(session, payload: dict) -> int:
    session.rollback()  # see what the requests committed
    return session.scalar(select(func.count(Span.id)).where(
        Span.start == payload["start"], Span.end == payload["end"], Span.label == payload["label"]))


@pytest.mark.parametrize("who", ["ann", "sup"])
def test_identical_spans_sent_at_once_make_one_row(world, who):
    """8 identical POSTs of a span at once, 30 rounds (on PostgreSQL, before the unique index,
    up to 6 rows a round): one 201, the others the duplicate's 409, never a 5xx; one row. The
    same for gold (a supervisor's POST /api/gold/documents/D/spans)."""
    seed, session = world["seed"], world["session"]
    clients = [Client(world["app"], who) for _ in range(AT_ONCE)]
    url = f"/api/gold/documents/{seed.id}/spans" if who == "sup" else f"/api/documents/{seed.id}/spans"
    for word in _words(seed, ROUNDS):
        payload = gold_span_payload(seed, word)
        answers = _at_once(clients, lambda client: client.call("POST", url, payload))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] + [409] * (AT_ONCE - 1), (word, [answer.json for answer in answers])
        assert all(DUPLICATE in answer.json["error"] for answer in answers if answer.status_code == 409)
        assert _spans_at(session, payload) == 1, word


def test_a_span_changed_into_one_already_marked_is_refused_as_a_duplicate(world):
    """The index refuses an update that would make two identical spans too: said as a duplicate,
    not as a race, by the single request and in a batch."""
    seed, ann = world["seed"], Client(world["app"], "ann")
    url = f"/api/documents/{seed.id}/spans"
    ok(ann.call("POST", url, span_payload(seed, "ARY News", "attribution", "SOURCE")), 201)
    cue = ok(ann.call("POST", url, span_payload(seed, "ARY News", "attribution", "CUE")), 201)
    refused = ann.call("PATCH", f"/api/spans/{cue['id']}", {"version": 1, "label": "SOURCE"})
    assert refused.status_code == 409 and DUPLICATE in refused.json["error"] and refused.json["field"] == "label"
    [result] = ok(ann.call("POST", f"/api/documents/{seed.id}/changes", {"changes": [
        {"op": "update_span", "span_id": cue["id"], "body": {"version": 1, "label": "SOURCE"}}]}))["results"]
    assert result["status"] == 409 and DUPLICATE in result["body"]["error"]


# -- the migration ---------------------------------------------------------------------------------

ROWS_AT_0008 = [  # (table, rows): spans saved twice, with parts and provenance naming each copy
    ("users", [{"id": i, "username": name, "password_hash": "x", "role": "annotator", "active": True}
               for i, name in ((1, "ann"), (2, "bob"), (3, "gold"))]),
    ("projects", [{"id": 1, "name": "p", "codebook": "{}", "codebook_version": 1}]),
    ("documents", [{"id": 1, "project_id": 1, "title": "t", "text": "ARY News said so.", "content_hash": "h",
                    "language": "en", "metadata": "{}"}]),
    ("sentences", [{"id": 1, "document_id": 1, "position": 0, "start": 0, "end": 17}]),
    ("spans", [{"id": span_id, "user_id": user, "document_id": 1, "sentence_id": 1, "layer": "evidence",
                "label": "CLAIM", "start": start, "end": end, "text": "ARY News said so."[start:end],
                "attributes": attributes, "version": 1}
               for span_id, user, start, end, attributes in (
                   (10, 1, 0, 8, "{}"), (11, 1, 0, 8, '{"x": 1}'), (12, 1, 0, 8, "{}"),  # ann's, three times
                   (20, 1, 9, 13, "{}"), (21, 1, 9, 13, "{}"),  # twice
                   (30, 1, 14, 16, "{}"),  # once
                   (40, 2, 0, 8, "{}"),  # bob's: the same extent as ann's, another user
                   (50, 3, 0, 8, "{}"), (51, 3, 0, 8, "{}"), (52, 3, 0, 8, "{}"),  # gold's, three times
                   (60, 3, 9, 13, "{}"), (61, 3, 9, 13, "{}"))]),  # twice
    ("attributions", [{"id": i, "user_id": 1, "document_id": 1, "relation": "r", "attributes": "{}", "version": 1}
                      for i in (1, 2, 3, 4)]),
    ("attribution_parts", [{"id": part, "attribution_id": attribution, "span_id": span, "role": role}
                           for part, attribution, span, role in (
                               (1, 1, 11, "cue"), (2, 1, 10, "cue"),  # both copies: the kept span's part stays
                               (3, 2, 11, "source"), (4, 2, 30, "cue"),  # a copy: moves to the kept span
                               (5, 3, 12, "source"), (6, 3, 11, "cue"),  # two copies, not the kept span: the oldest
                               (7, 4, 21, "cue"))]),
    ("gold_provenance", [{"id": row, "entity_type": kind, "entity_id": entity, "method": "added", "agreed": "[]"}
                         for row, kind, entity in (
                             (1, "span", 52), (2, "span", 51),  # copies only: the oldest moves to span 50
                             (3, "span", 61), (4, "span", 60),  # the kept span's own stays
                             (5, "attribution", 11))]),  # an attribution's, whatever its id
]


def _insert_rows(connection, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{column}"' for column in columns)
    connection.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + c for c in columns)})"), rows)


def _table(engine, query: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(query))]


def _duplicate_of_span_10(engine) -> None:
    with engine.begin() as connection:
        _insert_rows(connection, "spans", [dict(ROWS_AT_0008[4][1][0], id=99)])


def test_0009_merges_spans_saved_twice_then_refuses_them(empty_database_url):
    """Upgrading a database holding spans saved twice (three times) keeps the lowest id of each,
    moves the parts and gold provenance of the others to it (one per attribution, one per span),
    records each merge in the audit log, and adds the unique index: a span saved twice is then
    refused. Another user's identical span is not a copy. Downgrading drops the index."""
    engine = configure_engine(sa.create_engine(empty_database_url))
    migrate.upgrade(engine, "0008")
    with engine.begin() as connection:
        for table, rows in ROWS_AT_0008:
            _insert_rows(connection, table, rows)

    migrate.upgrade(engine, "0009")
    assert _table(engine, "SELECT id FROM spans ORDER BY id") == [(10,), (20,), (30,), (40,), (50,), (60,)]
    assert _table(engine, "SELECT id, attribution_id, span_id, role FROM attribution_parts ORDER BY id") == [
        (2, 1, 10, "cue"), (3, 2, 10, "source"), (4, 2, 30, "cue"), (5, 3, 10, "source"), (7, 4, 20, "cue")]
    assert _table(engine, "SELECT id, entity_type, entity_id FROM gold_provenance ORDER BY id") == [
        (1, "span", 50), (4, "span", 60), (5, "attribution", 11)]
    with engine.connect() as connection:
        merges = connection.execute(select(Event.entity_type, Event.entity_id, Event.user_id, Event.before, Event.after)
                                    .where(Event.action == "merge").order_by(Event.entity_id)).all()
    assert [(kind, kept, user) for kind, kept, user, _, _ in merges] == [
        ("spans", 10, None), ("spans", 20, None), ("spans", 50, None), ("spans", 60, None)]
    assert [[span["id"] for span in before["removed"]] for _, _, _, before, _ in merges] == [[11, 12], [21], [51, 52], [61]]
    assert merges[0].before["removed"][0]["attributes"] == {"x": 1}  # what was merged away is kept in the log
    with pytest.raises(sa.exc.IntegrityError):
        _duplicate_of_span_10(engine)

    migrate.downgrade(engine, "0008")
    _duplicate_of_span_10(engine)
    assert len(_table(engine, "SELECT id FROM spans WHERE user_id = 1 AND start = 0")) == 2
    engine.dispose()


# -- idempotency keys ------------------------------------------------------------------------------


def _stored_keys(session) -> list[str]:
    session.rollback()
    return session.scalars(select(IdempotencyKey.key).order_by(IdempotencyKey.id)).all()


def test_a_single_request_sent_again_with_its_key_gets_the_first_answer(world):
    """POST, PATCH, PUT and DELETE with an Idempotency-Key, each sent twice: the second gets the
    first's status and body and writes nothing (no row, no audit event); without the key the
    span sent again is the duplicate's 409. The key stands for its request: for another one it
    is 422; a refused request keeps no key (sent again, fixed, it runs); a malformed key is 400
    and writes nothing; keys are per user."""
    seed, session, app = world["seed"], world["session"], world["app"]
    ann, bob = Client(app, "ann"), Client(app, "bob")
    sentence = sentence_of(session, seed, "ARY News")
    source = span_payload(seed, "ARY News", "attribution", "SOURCE")

    def twice(method: str, url: str, body: dict, key: str) -> dict:
        first = ann.http.open(url, method=method, json=body, headers={"X-CSRFToken": ann.token, "Idempotency-Key": key})
        rows = snapshot_rows(session)
        again = ann.http.open(url, method=method, json=body, headers={"X-CSRFToken": ann.token, "Idempotency-Key": key})
        assert (again.status_code, again.json) == (first.status_code, first.json), (first.json, again.json)
        assert changed_tables(rows, snapshot_rows(session)) == set()
        return first.json

    span = twice("POST", f"/api/documents/{seed.id}/spans", source, "create-1")
    assert ann.call("POST", f"/api/documents/{seed.id}/spans", source).status_code == 409
    assert twice("PATCH", f"/api/spans/{span['id']}", {"version": 1, "label": "CUE"}, "update-1")["version"] == 2
    twice("PUT", f"/api/sentences/{sentence.id}/labels/claim_type", {"value": "event"}, "label-1")
    assert twice("DELETE", f"/api/spans/{span['id']}", {"version": 2}, "delete-1")["deleted"] == span["id"]
    assert _stored_keys(session) == ["create-1", "update-1", "label-1", "delete-1"]

    def send(key: str, body: dict = source, client: Client = ann):
        return client.http.open(f"/api/documents/{seed.id}/spans", method="POST", json=body,
                                headers={"X-CSRFToken": client.token, "Idempotency-Key": key})

    reused = ann.http.open(f"/api/spans/{span['id']}", method="PATCH", json={"version": 1},
                           headers={"X-CSRFToken": ann.token, "Idempotency-Key": "create-1"})
    assert reused.status_code == 422 and reused.json["field"] == "Idempotency-Key"
    assert send("create-2", source | {"text": "ARY Newz"}).status_code == 400
    assert send("create-2").status_code == 201  # the refused request kept no key
    rows = snapshot_rows(session)
    for bad in ("", "with space", "x" * 256, "é"):
        response = send(bad, span_payload(seed, "Aslam Ghauri", "attribution", "SOURCE"))
        assert response.status_code == 400 and response.json["field"] == "Idempotency-Key", (bad, response.json)
    assert changed_tables(rows, snapshot_rows(session)) == set()
    assert send("create-2", client=bob).status_code == 201  # bob's key, bob's span


def test_a_batch_sent_again_is_answered_as_the_first_time(world):
    """The page's queue sends each change with its own idempotency key. The batch sent again (its
    answer lost) gets the same results and writes nothing, a delete included (its item is gone
    by then); sent again after a reload (ids for keys, the versions the page now knows), the
    same. A change that failed kept no key: sent again, it runs."""
    seed, session, ann = world["seed"], world["session"], Client(world["app"], "ann")
    sentence = sentence_of(session, seed, "ARY News")
    url = f"/api/documents/{seed.id}/changes"
    old = ok(ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "Aslam Ghauri", "attribution", "SOURCE")), 201)
    changes = [
        {"op": "create_span", "key": "n1", "idempotency_key": "k1", "body": span_payload(seed, "ARY News", "attribution", "SOURCE")},
        {"op": "create_attribution", "key": "m1", "idempotency_key": "k2", "body": {"parts": [{"span_id": "n1", "role": "source"}]}},
        {"op": "create_span", "key": "n2", "idempotency_key": "k3", "body": span_payload(seed, "as reported by", "attribution", "CUE")},
        {"op": "update_attribution", "attribution_id": "m1", "idempotency_key": "k4",
         "body": {"version": 1, "parts": [{"span_id": "n1", "role": "source"}, {"span_id": "n2", "role": "cue"}]}},
        {"op": "set_label", "sentence_id": sentence.id, "layer": "claim_type", "idempotency_key": "k5", "body": {"value": "event"}},
        {"op": "delete_span", "span_id": old["id"], "idempotency_key": "k6", "body": {"version": 1}},
    ]
    first = ok(ann.call("POST", url, {"changes": changes}))["results"]
    assert [result["status"] for result in first] == [201, 201, 201, 200, 200, 200]
    rows = snapshot_rows(session)
    assert ok(ann.call("POST", url, {"changes": changes}))["results"] == first
    span, attribution = first[0]["body"]["id"], first[1]["body"]["id"]
    after_reload = [changes[0], changes[1] | {"key": "m9"}, changes[2],
                    changes[3] | {"attribution_id": attribution, "body": {"version": 2, "parts": [{"span_id": span, "role": "source"}]}},
                    changes[4] | {"body": {"value": "event", "version": 1}}, changes[5]]
    assert ok(ann.call("POST", url, {"changes": after_reload}))["results"] == first
    assert changed_tables(rows, snapshot_rows(session)) == set()

    opinion = {"op": "set_label", "sentence_id": sentence.id, "layer": "claim_type", "idempotency_key": "k8"}
    stale = ok(ann.call("POST", url, {"changes": [changes[0], opinion | {"body": {"value": "opinion", "version": 9}}]}))["results"]
    assert [result["status"] for result in stale] == [201, 409]
    again = ok(ann.call("POST", url, {"changes": [changes[0], opinion | {"body": {"value": "opinion", "version": 1}}]}))["results"]
    assert [result["status"] for result in again] == [201, 200] and again[0] == first[0]


@pytest.mark.parametrize("changes", [
    [{"op": "create_span", "idempotency_key": "k", "body": {}}, {"op": "create_span", "idempotency_key": "k", "body": {}}],
    [{"op": "create_span", "idempotency_key": "", "body": {}}],
    [{"op": "create_span", "idempotency_key": 7, "body": {}}],
    [{"op": "create_span", "idempotency_key": "a b", "body": {}}],
])
def test_a_batch_with_a_malformed_or_repeated_idempotency_key_is_refused_whole(world, changes):
    seed, session, ann = world["seed"], world["session"], Client(world["app"], "ann")
    rows = snapshot_rows(session)
    response = ann.call("POST", f"/api/documents/{seed.id}/changes", {"changes": changes})
    assert response.status_code == 400 and "idempotency_key" in response.json["error"], response.json
    assert changed_tables(rows, snapshot_rows(session)) == set()


def test_gold_sent_again_with_its_key_is_one_gold_span_with_one_provenance(world):
    seed, session, sup = world["seed"], world["session"], Client(world["app"], "sup")
    payload = gold_span_payload(seed, "devastating")
    headers = {"X-CSRFToken": sup.token, "Idempotency-Key": "gold-1"}
    answers = [sup.http.post(f"/api/gold/documents/{seed.id}/spans", json=payload, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json == answers[1].json
    change = {"op": "create_span", "idempotency_key": "gold-2", "body": gold_span_payload(seed, "Aslam Ghauri")}
    batches = [ok(sup.call("POST", f"/api/gold/documents/{seed.id}/changes", {"changes": [change]})) for _ in range(2)]
    assert batches[0] == batches[1] and batches[0]["results"][0]["status"] == 201
    session.rollback()
    gold = [answers[0].json["id"], batches[0]["results"][0]["body"]["id"]]
    assert session.scalar(select(func.count(Span.id)).where(Span.user_id == world["sup"].id)) == 0
    assert sorted(session.scalars(select(GoldProvenance.entity_id).where(GoldProvenance.entity_type == "span"))) == sorted(gold)
    assert session.scalar(select(func.count(Span.id)).where(Span.id.in_(gold))) == 2


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_the_same_key_sent_at_once_runs_once_and_every_request_gets_its_answer(world, batch):
    """8 requests with one key at once (two tabs replaying one queue, a proxy's retry): the
    first runs, the others wait for it and answer its answer, 10 rounds."""
    seed, session = world["seed"], world["session"]
    clients = [Client(world["app"], "ann") for _ in range(AT_ONCE)]
    for round_number, word in enumerate(_words(seed, 10)):
        payload, key = gold_span_payload(seed, word), f"round-{round_number}"
        if batch:
            body = {"changes": [{"op": "create_span", "idempotency_key": key, "body": payload}]}
            answers = _at_once(clients, lambda client: client.call("POST", f"/api/documents/{seed.id}/changes", body))
        else:
            answers = _at_once(clients, lambda client: client.http.post(
                f"/api/documents/{seed.id}/spans", json=payload, headers={"X-CSRFToken": client.token, "Idempotency-Key": key}))
        assert {answer.status_code for answer in answers} == {200 if batch else 201}, [answer.json for answer in answers]
        assert all(answer.json == answers[0].json for answer in answers)
        assert _spans_at(session, payload) == 1, word


def test_keys_are_kept_a_week(world):
    """A key older than idempotency.KEEP is deleted when its user next sends one (so its change
    would run again); younger ones and other users' stay."""
    seed, session, app = world["seed"], world["session"], world["app"]
    ann, bob = Client(app, "ann"), Client(app, "bob")
    for client, key, phrase in ((ann, "old", "ARY News"), (ann, "recent", "Aslam Ghauri"), (bob, "bobs", "ARY News")):
        response = client.http.post(f"/api/documents/{seed.id}/spans", json=span_payload(seed, phrase, "attribution", "SOURCE"),
                                    headers={"X-CSRFToken": client.token, "Idempotency-Key": key})
        assert response.status_code == 201
    session.rollback()
    long_ago = dt.datetime.now(dt.timezone.utc) - idempotency.KEEP - dt.timedelta(minutes=1)
    session.execute(update(IdempotencyKey).where(IdempotencyKey.key.in_(["old", "bobs"])).values(created_at=long_ago))
    session.commit()
    response = ann.http.put(f"/api/sentences/{sentence_of(session, seed, 'ARY News').id}/labels/claim_type",
                            json={"value": "event"}, headers={"X-CSRFToken": ann.token, "Idempotency-Key": "new"})
    assert response.status_code == 200
    assert _stored_keys(session) == ["recent", "bobs", "new"]
