"""Sources as entities over HTTP (annotator/web/entities.py): the JSON API (CSRF, JSON errors,
idempotency keys), linking through the span API and its batches, and the supervisors' pages
(the registry, an entity, merging, splitting, the downloads); on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from annotator.ingest import read_paths
from annotator.models import SourceEntity, Span
from annotator.services import entities
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT, SEEDS
from .helpers import Client, add_users, assign, project_with, span_payload


@pytest.fixture
def world(app, session):
    """The English seed in project "news" (ann and bob assigned, sup a member), the Urdu seed in
    project "urdu" (ann assigned); eve annotates neither, outsider supervises neither."""
    news = project_with(session, read_paths([SEED_TXT]), "news")
    urdu = project_with(session, read_paths([SEEDS / "ur_meshaal_fazlur_rehman.txt"]), "urdu")
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "eve": "annotator", "sup": "supervisor"})
    add_users(session, {"outsider": "supervisor"}, member=False)
    assign(session, news, [people["ann"], people["bob"]], news.documents)
    assign(session, urdu, [people["ann"]], urdu.documents)
    return {"app": app, "session": session, "news": news, "urdu": urdu, "seed": news.documents[0],
            "urdu_doc": urdu.documents[0], **people}


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    return response.json if response.is_json else response.get_data(as_text=True)


def _error(response, status: int, field: str | None = None) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json and response.json["error"]
    if field is not None:
        assert response.json.get("field") == field, response.json
    return response.json["error"]


# -- the JSON API ---------------------------------------------------------------------------------


def test_search_create_change_and_their_errors(world):
    app, news = world["app"], world["news"]
    ann = Client(app, "ann")
    url = f"/api/projects/{news.id}/entities"
    assert "CSRF" in _error(ann.call("POST", url, {"name": "ARY News"}, csrf=False), 400)
    made = _ok(ann.call("POST", url, {"name": "ARY News", "kind": "media_outlet", "aliases": ["ARY"]}), 201)
    assert (made["name"], made["kind"], made["aliases"]) == ("ARY News", "media_outlet", ["ARY"])
    taken = ann.call("POST", url, {"name": "ary  news"})
    _error(taken, 409, "name")
    assert taken.json["current"]["id"] == made["id"]
    _error(ann.call("POST", url, {"name": "they"}), 400, "name")
    _error(ann.call("POST", url, ["not", "an", "object"]), 400)
    found = _ok(ann.get(f"{url}?q=ARY+News,+the+channel"))
    assert [(e["id"], e["match"]) for e in found["entities"]] == [(made["id"], "in_text")]
    assert _ok(ann.get(f"{url}?q=he"))["pronoun"] is True
    _error(ann.get(f"{url}?q=a&limit=0"), 400, "limit")
    _error(ann.get(f"{url}?q=a&limit=x"), 400, "limit")
    # Changing: the version last seen; Bob did not make it; a supervisor may.
    one = f"/api/entities/{made['id']}"
    _error(ann.call("PATCH", one, {"version": made["version"] + 5, "gender": "male"}), 409, "version")
    changed = _ok(ann.call("PATCH", one, {"version": made["version"], "affiliation": "ARY Digital Network"}))
    _error(Client(app, "bob").call("PATCH", one, {"version": changed["version"], "gender": None}), 403)
    _ok(Client(app, "sup").call("PATCH", one, {"version": changed["version"], "wikidata_id": "Q4658021"}))
    # Outside the project: 404, as for nothing; logged out: 401.
    eve, outsider = Client(app, "eve"), Client(app, "outsider")
    for client in (eve, outsider):
        _error(client.get(f"{url}?q=a"), 404)
        _error(client.get(one), 404)
        _error(client.call("POST", url, {"name": "X"}), 404)
    _error(Client(app).get(f"{url}?q=a"), 401)
    _error(ann.get(f"/api/entities/{made['id']}/history"), 403)
    history = _ok(Client(app, "sup").get(f"/api/entities/{made['id']}/history"))
    assert [(event["action"], event["user"]) for event in history] == [("create", "ann"), ("update", "ann"), ("update", "sup")]


def test_a_key_sent_again_makes_one_entity(world):
    app, news, session = world["app"], world["news"], world["session"]
    ann = Client(app, "ann")
    url = f"/api/projects/{news.id}/entities"
    headers = {"Idempotency-Key": "entity-1", "X-CSRFToken": ann.token}
    first = ann.http.post(url, json={"name": "Hamas"}, headers=headers)
    again = ann.http.post(url, json={"name": "Hamas"}, headers=headers)
    assert (first.status_code, again.status_code, again.json) == (201, 201, first.json)
    session.rollback()
    assert session.scalar(select(func.count(SourceEntity.id))) == 1
    _error(ann.http.patch(f"/api/entities/{first.json['id']}", json={"version": 1}, headers=headers), 422)


def test_merge_and_split_over_the_api(world):
    app, news, seed = world["app"], world["news"], world["seed"]
    ann, bob, sup = Client(app, "ann"), Client(app, "bob"), Client(app, "sup")
    mine = _ok(ann.call("POST", f"/api/documents/{seed.id}/spans",
                        span_payload(seed, "Aslam Ghauri", "attribution", "SOURCE", entity_name="Aslam Ghauri")), 201)
    theirs = _ok(bob.call("POST", f"/api/documents/{seed.id}/spans",
                          span_payload(seed, "Aslam Ghauri, the spokesperson for JUI-F", "attribution", "SOURCE",
                                       entity_name="Spokesperson for JUI-F")), 201)
    merge = f"/api/entities/{mine['entity_id']}/merge"
    _error(ann.call("POST", merge, {"other_id": theirs["entity_id"]}), 403)
    _error(sup.call("POST", merge, {"other_id": 2**31}), 404, "other_id")
    merged = _ok(sup.call("POST", merge, {"other_id": theirs["entity_id"]}))
    assert (merged["spans"], merged["aliases"]) == ([theirs["id"]], ["Spokesperson for JUI-F"])
    assert _ok(bob.get(f"/api/documents/{seed.id}/annotations"))["spans"][0]["entity_id"] == mine["entity_id"]
    split = _ok(sup.call("POST", f"/api/entities/{mine['entity_id']}/split",
                         {"name": "JUI-F spokesperson", "span_ids": [theirs["id"]]}), 201)
    assert (split["split_from"], split["spans"]) == (mine["entity_id"], [theirs["id"]])
    _error(sup.call("POST", f"/api/entities/{mine['entity_id']}/split", {"name": "X", "span_ids": ["1"]}), 400, "span_ids")


def test_linking_through_spans_and_batches(world):
    app, seed, session = world["app"], world["seed"], world["session"]
    ann = Client(app, "ann")
    source = _ok(ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE")), 201)
    assert source["entity_id"] is None
    linked = _ok(ann.call("PATCH", f"/api/spans/{source['id']}", {"version": source["version"], "entity_name": "ARY News"}))
    assert linked["entity_id"] is not None
    _error(ann.call("PATCH", f"/api/spans/{source['id']}", {"version": linked["version"], "entity_id": 2**31 - 1}), 404, "entity_id")
    _error(ann.call("PATCH", f"/api/spans/{source['id']}", {"version": linked["version"], "entity_id": "1"}), 400, "entity_id")
    # The page's batch: a span made and linked before the server answered (its key stands for its id).
    he = span_payload(seed, "He also", "attribution", "SOURCE")
    he["end"], he["text"] = he["start"] + 2, "He"
    answer = _ok(ann.call("POST", f"/api/documents/{seed.id}/changes", {"changes": [
        {"op": "create_span", "key": "n1", "body": he, "idempotency_key": "k1"},
        {"op": "update_span", "span_id": "n1", "body": {"label": "SOURCE", "attributes": {}, "entity_id": linked["entity_id"]},
         "idempotency_key": "k2"},
        {"op": "update_span", "span_id": "n1", "body": {"label": "SOURCE", "attributes": {}, "entity_name": "he"},
         "idempotency_key": "k3"},
    ]}))
    assert [result["status"] for result in answer["results"]] == [201, 200, 400]
    assert answer["results"][1]["body"]["entity_id"] == linked["entity_id"]
    assert "pronoun" in answer["results"][2]["body"]["error"]
    state = _ok(ann.get(f"/api/documents/{seed.id}/annotations"))
    assert [e["name"] for e in state["entities"]] == ["ARY News"]
    session.rollback()
    assert session.scalar(select(func.count(Span.id)).where(Span.entity_id == linked["entity_id"])) == 2


# -- the supervisors' pages -----------------------------------------------------------------------


def _page(response) -> BeautifulSoup:
    return BeautifulSoup(_ok(response), "html.parser")


def _flash(client: Client) -> list[str]:
    with client.http.session_transaction() as flask_session:
        return [message for _, message in flask_session.pop("_flashes", [])]


def test_registry_entity_merge_and_split_pages(world):
    app, news, seed, session = world["app"], world["news"], world["seed"], world["session"]
    ann, sup = Client(app, "ann"), Client(app, "sup")
    first = _ok(ann.call("POST", f"/api/documents/{seed.id}/spans",
                         span_payload(seed, "Aslam Ghauri", "attribution", "SOURCE", entity_name="Aslam Ghauri")), 201)
    other = entities.create_entity(session, SYSTEM, news.id, {"name": "<script>alert(1)</script>", "aliases": ["Ghauri"]})
    registry = f"/projects/{news.id}/entities"
    page = _page(sup.get(registry))
    rows = [[cell.get_text(" ", strip=True) for cell in row.find_all("td")] for row in page.select("#registry tbody tr")]
    assert [(row[0], row[5], row[6], row[7]) for row in rows] == [
        ("Aslam Ghauri", "", "1", "1"), ("<script>alert(1)</script>", "Ghauri", "0", "0")]
    assert page.find("script", string="alert(1)") is None  # a name is text, never markup
    assert [row[0] for row in _registry_rows(sup, f"{registry}?q=ghauri")] == ["Aslam Ghauri", "<script>alert(1)</script>"]
    # Adding: a flash says what happened, or why not.
    assert _ok(sup.post(registry, {"name": "ARY News", "kind": "media_outlet", "aliases": "ARY\nاے آر وائی"}), 302) is not None
    assert _flash(sup) == ["Added ARY News to the registry."]
    sup.post(registry, {"name": "he"})
    assert "pronoun" in _flash(sup)[0]
    # The entity's page: its mentions, by document, and its history; its edit form.
    entity_url = f"/entities/{first['entity_id']}"
    page = _page(sup.get(entity_url))
    assert page.select_one("#entity-name").get_text(strip=True) == "Aslam Ghauri"
    assert [row.get_text(" ", strip=True) for row in page.select("#mentions tbody td:nth-of-type(2)")] == ["Aslam Ghauri"]
    assert [row["data-action"] for row in page.select("#history tbody tr")] == ["create", "link"]
    version = page.select_one("#edit input[name=version]")["value"]
    sup.post(entity_url, {"version": version, "name": "Aslam Ghauri", "gender": "male", "aliases": "Ghauri Sahib"})
    assert _flash(sup) == ["Saved Aslam Ghauri."]
    sup.post(entity_url, {"version": version, "name": "Aslam Ghauri"})
    assert "changed elsewhere" in _flash(sup)[0]
    # Merging: the candidates found by name or alias; the other one merged in.
    merge = _page(sup.get(f"{entity_url}/merge?q=ghauri"))
    assert [int(radio["value"]) for radio in merge.select("#candidates input[name=other_id]")] == [other["id"]]
    sup.post(f"{entity_url}/merge", {"other_id": str(other["id"])})
    assert _flash(sup) == [f"Merged entity {other['id']} into Aslam Ghauri: 0 mention(s) and 1 alias(es) moved."]
    merged_page = _page(sup.get(f"/entities/{other['id']}"))
    assert merged_page.select_one("#merged-into a")["href"] == entity_url
    assert merged_page.select_one("#edit") is None
    # Splitting: the ticked mention and alias move to a new entity.
    split = _page(sup.get(f"{entity_url}/split"))
    assert [box["value"] for box in split.select("#split-mentions input")] == [str(first["id"])]
    sup.post(f"{entity_url}/split", {"name": "Ghauri the elder", "span_ids": str(first["id"]), "aliases": "Ghauri"})
    (message,) = _flash(sup)
    assert message.startswith("Split off Ghauri the elder") and message.endswith("with 1 mention(s).")
    history = _page(sup.get(entity_url)).select("#history tbody tr")
    assert [row["data-action"] for row in history] == ["create", "link", "update", "merge", "split"]
    # Annotators get 403, supervisors of other projects 404.
    for url in (registry, entity_url, f"{entity_url}/merge", f"{entity_url}/split", f"{registry}/export"):
        assert ann.get(url).status_code == 403, url
        assert Client(app, "outsider").get(url).status_code == 404, url
    assert ann.post(f"{entity_url}/merge", {"other_id": "1"}).status_code == 403


def _registry_rows(client: Client, url: str) -> list[list[str]]:
    page = _page(client.get(url))
    return [[cell.get_text(" ", strip=True) for cell in row.find_all("td")] for row in page.select("#registry tbody tr")]


def test_registry_downloads(world):
    app, news, session = world["app"], world["news"], world["session"]
    entities.create_entity(session, SYSTEM, news.id, {"name": "=HYPERLINK(\"x\")", "aliases": ["A", "B"], "gender": "female"})
    sup = Client(app, "sup")
    jsonl = sup.get(f"/projects/{news.id}/entities/export")
    assert (jsonl.status_code, jsonl.headers["Content-Type"]) == (200, "application/jsonl")
    assert jsonl.headers["Content-Disposition"] == 'attachment; filename="news-sources.jsonl"'
    (line,) = [json.loads(text) for text in jsonl.get_data(as_text=True).splitlines()]
    assert (line["name"], line["aliases"], line["gender"], line["mentions"]) == ('=HYPERLINK("x")', ["A", "B"], "female", 0)
    table = sup.get(f"/projects/{news.id}/entities/export?format=csv&bom=1")
    assert table.headers["Content-Type"] == "text/csv; charset=utf-8" and table.data.startswith(b"\xef\xbb\xbfid,name,")
    (row,) = csv.DictReader(io.StringIO(table.get_data(as_text=True).removeprefix("\ufeff")))
    assert (row["name"], row["aliases"]) == ("'=HYPERLINK(\"x\")", "A|B")  # no formula for a spreadsheet
    assert sup.get(f"/projects/{news.id}/entities/export?format=xml").status_code == 400


def test_urdu_names_read_right_to_left_on_the_pages(world):
    app, urdu, document = world["app"], world["urdu"], world["urdu_doc"]
    ann, sup = Client(app, "ann"), Client(app, "sup")
    span = _ok(ann.call("POST", f"/api/documents/{document.id}/spans",
                        span_payload(document, "مولانا فضل الرحمان", "attribution", "SOURCE", entity_name="مولانا فضل الرحمان")), 201)
    found = _ok(ann.get(f"/api/projects/{urdu.id}/entities", query_string={"q": "مولانا فضلُ الرحمان"}))
    assert [(e["id"], e["match"]) for e in found["entities"]] == [(span["entity_id"], "name")]  # typed with a damma
    page = _page(sup.get(f"/entities/{span['entity_id']}"))
    assert page.select_one("#entity-name")["dir"] == "auto"
    assert page.select_one("#mentions tbody td:nth-of-type(2)")["dir"] == "rtl"
