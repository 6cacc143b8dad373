"""The adjudication pages and the gold API over real HTTP: queue, settings, view, gold writes
with provenance, the proposal, finishing, hidden names, and annotators kept out."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from annotator.models import Adjudication, Event, GoldProvenance, Project, SentenceLabel, Span, User

from .helpers import ONE_SIDED_PHRASE, Client, add_users, adjudication_world, assign, gold_span_payload, ok


@pytest.fixture
def world(app, session):
    """Two documents both annotated by ann and bob: the seed article with a tie on one
    sentence's claim type and a span only ann marked, the other document in full agreement."""
    return adjudication_world(app, session)


def _fresh(world):
    world["session"].rollback()  # end the test session's snapshot to see what the requests wrote
    return world["session"]


def _queue_rows(html: str) -> list[tuple[int, str]]:
    return [(int(d), s) for d, s in re.findall(r'<tr data-document="(\d+)" data-status="([a-z_]+)">', html)]


def test_queue_orders_by_disagreement_and_follows_the_status(world):
    sup, seed, other = world["sup_client"], world["seed"], world["other"]
    url = f"/projects/{world['project'].id}/adjudication"
    page = sup.http.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _queue_rows(html) == [(seed.id, "not_started"), (other.id, "not_started")]  # disagreement first
    assert f'href="/documents/{seed.id}/adjudicate"' in html
    assert re.search(r'<progress id="adjudicated" max="2" value="0">', html)

    label = f"/api/gold/sentences/{world['split'].id}/labels/claim_type"
    assert sup.call("PUT", label, {"value": "event"}).status_code == 409  # not started: nothing is written
    assert ok(sup.call("POST", f"/api/gold/documents/{seed.id}/start", {}))["status"] == "in_progress"
    ok(sup.call("PUT", label, {"value": "event"}))
    assert _queue_rows(sup.http.get(url).get_data(as_text=True))[0] == (seed.id, "in_progress")
    ok(sup.call("POST", f"/api/gold/documents/{seed.id}/done", {}))
    html = sup.http.get(url).get_data(as_text=True)
    assert _queue_rows(html)[0] == (seed.id, "adjudicated")
    assert re.search(r'<progress id="adjudicated" max="2" value="1">', html)
    assert "0 not started" not in html and "1 not started · 0 in progress · 1 adjudicated" in html


def test_links_to_the_queue_from_the_project_and_the_report(world):
    sup, project_id = world["sup_client"], world["project"].id
    world["app"].config["REPORT_WAIT_SECONDS"] = 30  # the report page itself, not "computing…"
    queue = f'href="/projects/{project_id}/adjudication"'
    assert queue in sup.http.get(f"/projects/{project_id}").get_data(as_text=True)
    report = sup.http.get(f"/projects/{project_id}/agreement").get_data(as_text=True)
    assert "Agreement ·" in report and queue in report


def test_settings_form_changes_the_proposal_rule(world):
    sup, project = world["sup_client"], world["project"]
    url = f"/projects/{project.id}/adjudication/settings"
    response = sup.http.post(url, data={"min_agree": "3", "matching": "overlap", "csrf_token": sup.token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{project.id}/adjudication")
    assert _fresh(world).get(Project, project.id).adjudication == {"min_agree": 3, "matching": "overlap"}
    page = sup.http.get(f"/projects/{project.id}/adjudication").get_data(as_text=True)
    assert 'name="min_agree" min="1" value="3"' in page and '<option value="overlap" selected>' in page

    for bad in ({"min_agree": "0", "matching": "exact"}, {"min_agree": "2", "matching": "fuzzy"}, {"min_agree": "two", "matching": "exact"}):
        response = sup.http.post(url, data=bad | {"csrf_token": sup.token}, follow_redirects=True)
        assert response.status_code == 200 and 'class="flash error"' in response.get_data(as_text=True)
    assert _fresh(world).get(Project, project.id).adjudication == {"min_agree": 3, "matching": "overlap"}
    assert sup.http.post(url, data={"min_agree": "2", "matching": "exact"}).status_code == 400  # no CSRF token


def test_view_shows_every_annotator_and_the_proposal(world):
    sup, seed, split, agreed = world["sup_client"], world["seed"], world["split"], world["agreed"]
    view = ok(sup.call("GET", f"/api/gold/documents/{seed.id}/view"))
    ann, bob = world["ann"], world["bob"]
    assert {(a["id"], a["name"]) for a in view["annotators"]} == {(ann.id, "ann"), (bob.id, "bob")}
    labels = view["labels"][str(split.id)]["claim_type"]
    assert labels == {str(ann.id): "event", str(bob.id): "quantity"}
    assert [s["text"] for s in view["spans"][str(ann.id)]] == [ONE_SIDED_PHRASE]
    proposed = {(p["sentence_id"], p["layer"]): p for p in view["proposal"]["labels"]}
    assert proposed[(agreed.id, "claim_type")]["value"] == "event"
    assert sorted(proposed[(agreed.id, "claim_type")]["agreed"]) == sorted([ann.id, bob.id])
    assert (split.id, "claim_type") not in proposed  # a tie is never resolved silently
    assert [(t["sentence_id"], t["layer"]) for t in view["proposal"]["ties"]] == [(split.id, "claim_type")]
    assert view["proposal"]["spans"] == []  # one annotator is not two


def test_page_saves_to_the_gold_api_and_renders_text_as_data(world):
    sup, seed = world["sup_client"], world["seed"]
    response = sup.http.get(f"/documents/{seed.id}/adjudicate")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="annotator-data">(.*?)</script>', html, re.S).group(1))
    assert data["api"]["changes"] == f"/api/gold/documents/{seed.id}/changes"
    assert data["api"]["done"] == f"/api/gold/documents/{seed.id}/done"
    assert all(url.startswith("/api/gold/") for url in data["api"].values())
    assert data["state"]["spans"] == [] and data["state"]["labels"] == []  # gold, not the supervisor's own
    assert data["document"]["text"] == seed.text
    panel = json.loads(re.search(r'<script type="application/json" id="adjudication-data">(.*?)</script>', html, re.S).group(1))
    assert {a["name"] for a in panel["annotators"]} == {"ann", "bob"}
    assert 'src="/static/adjudicate.js"' in html and 'src="/static/annotate.js"' not in html
    assert 'data-user="sup:gold"' in html  # its unsaved changes are kept apart from the supervisor's own


def test_names_and_text_go_into_the_page_as_data(world):
    session, seed, sup = world["session"], world["seed"], world["sup_client"]
    markup = "<img src=x onerror=alert(1)>"
    user = add_users(session, {markup: "annotator"})[markup]
    assign(session, world["project"], [user], [seed])
    html = sup.http.get(f"/documents/{seed.id}/adjudicate").get_data(as_text=True)
    panel = json.loads(re.search(r'id="adjudication-data">(.*?)</script>', html, re.S).group(1))
    assert markup in [a["name"] for a in panel["annotators"]]  # the name itself, as data
    assert "<img" not in html and "\\u003cimg src=x" in html


def test_gold_writes_record_provenance_and_keep_history(world):
    sup, seed, split = world["sup_client"], world["seed"], world["split"]
    ann, bob, supervisor = world["ann"], world["bob"], world["sup"]
    url = f"/api/gold/sentences/{split.id}/labels/claim_type"
    ok(sup.call("POST", f"/api/gold/documents/{seed.id}/start", {}))
    label = ok(sup.call("PUT", url, {"value": "quantity"}))
    relabelled = ok(sup.call("PUT", url, {"value": "causal", "version": label["version"]}))
    stale = sup.call("PUT", url, {"value": "event", "version": label["version"]})
    assert stale.status_code == 409 and stale.json["current"]["value"] == "causal"
    span = ok(sup.call("POST", f"/api/gold/documents/{seed.id}/spans", gold_span_payload(seed, ONE_SIDED_PHRASE)), 201)

    session = _fresh(world)
    gold = session.scalar(select(User).where(User.username == "gold"))
    row = session.get(SentenceLabel, relabelled["id"])
    assert row.user_id == gold.id and row.value == "causal"
    provenance = {(p.entity_type, p.entity_id): p for p in session.scalars(select(GoldProvenance))}
    decided = provenance[("sentence_label", relabelled["id"])]  # nobody chose causal: the supervisor's own
    assert decided.method == "edited" and decided.agreed == [] and decided.adjudicator_id == supervisor.id
    accepted = provenance[("span", span["id"])]
    assert accepted.method == "accepted" and accepted.agreed == [ann.id] and bob.id not in accepted.agreed
    assert session.get(Span, span["id"]).user_id == gold.id
    history = session.scalars(select(Event).where(Event.entity_type == "sentence_labels", Event.entity_id == relabelled["id"]).order_by(Event.id))
    assert [e.after["value"] for e in history if e.after] == ["quantity", "causal"]
    # Annotators' own rows are untouched.
    assert session.scalar(select(SentenceLabel.value).where(SentenceLabel.sentence_id == split.id, SentenceLabel.user_id == ann.id)) == "event"

    updated = ok(sup.call("PATCH", f"/api/gold/spans/{span['id']}", {"version": span["version"], "label": "NAME_CALLING_LABELING"}))
    assert updated["label"] == "NAME_CALLING_LABELING"
    ok(sup.call("DELETE", f"/api/gold/spans/{span['id']}", {"version": updated["version"]}))
    assert _fresh(world).get(Span, span["id"]) is None
    state = ok(sup.call("GET", f"/api/gold/documents/{seed.id}/annotations"))
    assert state["spans"] == [] and [x["value"] for x in state["labels"]] == ["causal"]


def test_proposal_prefills_agreements_and_leaves_ties_open(world):
    sup, seed, split, agreed = world["sup_client"], world["seed"], world["split"], world["agreed"]
    ok(sup.call("POST", f"/api/gold/documents/{seed.id}/proposal", {}))
    state = ok(sup.call("GET", f"/api/gold/documents/{seed.id}/annotations"))
    assert {(x["sentence_id"], x["value"]) for x in state["labels"]} == {(agreed.id, "event")}
    assert state["spans"] == []
    session = _fresh(world)
    (provenance,) = session.scalars(select(GoldProvenance))
    assert provenance.method == "auto" and provenance.adjudicator_id == world["sup"].id
    assert sorted(provenance.agreed) == sorted([world["ann"].id, world["bob"].id])
    assert split.id not in {x["sentence_id"] for x in state["labels"]}


def test_finish_makes_gold_read_only(world):
    sup, seed, split = world["sup_client"], world["seed"], world["split"]
    ok(sup.call("POST", f"/api/gold/documents/{seed.id}/start", {}))
    ok(sup.call("PUT", f"/api/gold/sentences/{split.id}/labels/claim_type", {"value": "event"}))
    ok(sup.call("POST", f"/api/gold/documents/{seed.id}/done", {"note": "checked twice"}))
    adjudication = _fresh(world).scalar(select(Adjudication).where(Adjudication.document_id == seed.id))
    assert adjudication.status == "adjudicated" and adjudication.adjudicator_id == world["sup"].id
    assert adjudication.note == "checked twice"
    refused = sup.call("PUT", f"/api/gold/sentences/{split.id}/labels/claim_type", {"value": "quantity", "version": 1})
    assert refused.status_code == 409 and "adjudicated" in refused.json["error"]
    page = sup.http.get(f"/documents/{seed.id}/adjudicate").get_data(as_text=True)
    data = json.loads(re.search(r'id="annotator-data">(.*?)</script>', page, re.S).group(1))
    assert data["state"]["status"] == "done"  # the page opens read-only

    queue = sup.http.get(f"/projects/{world['project'].id}/adjudication").get_data(as_text=True)
    reopen = f"/documents/{seed.id}/adjudication/reopen"
    assert f'action="{reopen}"' in queue
    assert world["ann_client"].http.post(reopen, data={"csrf_token": world["ann_client"].token}).status_code == 403
    response = sup.http.post(reopen, data={"csrf_token": sup.token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/documents/{seed.id}/adjudicate")
    assert _fresh(world).scalar(select(Adjudication.status).where(Adjudication.document_id == seed.id)) == "in_progress"
    ok(sup.call("PUT", f"/api/gold/sentences/{split.id}/labels/claim_type", {"value": "quantity", "version": 1}))


def test_annotators_and_visitors_are_kept_out(world):
    ann, seed, split, project = world["ann_client"], world["seed"], world["split"], world["project"]
    calls = [
        ("GET", f"/projects/{project.id}/adjudication", None),
        ("GET", f"/documents/{seed.id}/adjudicate", None),
        ("GET", f"/api/gold/documents/{seed.id}/view", None),
        ("GET", f"/api/gold/documents/{seed.id}/annotations", None),
        ("PUT", f"/api/gold/sentences/{split.id}/labels/claim_type", {"value": "event"}),
        ("POST", f"/api/gold/documents/{seed.id}/spans", gold_span_payload(seed, ONE_SIDED_PHRASE)),
        ("POST", f"/api/gold/documents/{seed.id}/start", {}),
        ("POST", f"/api/gold/documents/{seed.id}/proposal", {}),
        ("POST", f"/api/gold/documents/{seed.id}/done", {}),
    ]
    for method, url, body in calls:
        assert ann.call(method, url, body).status_code == 403, url
    assert ann.http.post(f"/projects/{project.id}/adjudication/settings",
                         data={"min_agree": "1", "matching": "exact", "csrf_token": ann.token}).status_code == 403
    anonymous = Client(world["app"], None)
    for method, url, body in calls:
        response = anonymous.call(method, url, body)
        if url.startswith("/api/"):
            assert response.status_code == 401 and response.json == {"error": "authentication required"}
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"]
    session = _fresh(world)
    assert session.scalar(select(GoldProvenance.id)) is None and session.scalar(select(Adjudication.id)) is None
    assert _fresh(world).get(Project, project.id).adjudication == {"min_agree": 2, "matching": "exact"}
    # CSRF: a supervisor's write without the token is refused, and writes nothing.
    refused = world["sup_client"].call("PUT", f"/api/gold/sentences/{split.id}/labels/claim_type", {"value": "event"}, csrf=False)
    assert refused.status_code == 400 and "CSRF" in refused.json["error"]
    assert _fresh(world).scalar(select(GoldProvenance.id)) is None


def test_names_hidden(world):
    sup, seed = world["sup_client"], world["seed"]
    view = ok(sup.call("GET", f"/api/gold/documents/{seed.id}/view?hide_names=1"))
    assert sorted(a["name"] for a in view["annotators"]) == ["Annotator 1", "Annotator 2"]
    html = sup.http.get(f"/documents/{seed.id}/adjudicate?hide_names=1").get_data(as_text=True)
    panel = re.search(r'id="adjudication-data">(.*?)</script>', html, re.S).group(1)
    assert "Annotator 1" in panel and '"ann"' not in panel and '"bob"' not in panel
    assert f'href="/documents/{seed.id}/adjudicate">Show names</a>' in html
