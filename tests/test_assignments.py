"""Assignment: automatic balancing, reproducibility, calibration, top-ups, withdraw/reassign,
done/reopen, the assignment page, the CLI, and who may use each route (over real HTTP)."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from annotator.db import writes
from annotator.errors import Forbidden, ServiceError
from annotator.ingest import build_article
from annotator.models import Assignment, Document, Event, Sentence, SentenceLabel, Span, User
from annotator.services import assignments, projects, users
from annotator.services.permissions import ADMINS, SYSTEM

from .helpers import SUPERVISION_ROLES, Client, add_users, project_with, span_payload, supervision_world


def synthetic_project(session, count: int, *, seed: int = 7, name: str = "synth"):
    """``count`` documents of 1 to 25 sentences (varied lengths, reproducible)."""
    rng = random.Random(seed)
    articles = [
        build_article(
            f"Synthetic document {j}",
            [" ".join(f"Item {j}-{i} of the report is stated here." for i in range(rng.randint(1, 25)))],
            source=f"synthetic-{j}",
        )
        for j in range(count)
    ]
    return project_with(session, articles, name)


def sentence_counts(session, project) -> dict[int, int]:
    return dict(
        session.execute(
            select(Sentence.document_id, func.count()).join(Document).where(Document.project_id == project.id).group_by(Sentence.document_id)
        ).all()
    )


def live(session) -> set[tuple[str, int]]:
    rows = session.execute(
        select(User.username, Assignment.document_id).join(User).where(Assignment.status.in_(assignments.ACTIVE_STATUSES))
    ).all()
    return {tuple(row) for row in rows}


def snapshot(session) -> set[tuple[int, int, int, str]]:
    return {tuple(row) for row in session.execute(select(Assignment.id, Assignment.user_id, Assignment.document_id, Assignment.status))}


# -- the algorithm -------------------------------------------------------------------------------


def test_auto_assign_balances_sentences(session):
    people = add_users(session, {f"a{i}": "annotator" for i in range(5)} | {"sup": "supervisor"})
    project = synthetic_project(session, 40)
    result = assignments.auto_assign(session, SYSTEM, project.id, 2, seed=3)
    sizes = sentence_counts(session, project)
    per_document: dict[int, int] = {}
    loads = {name: 0 for name in people if name != "sup"}
    for username, document_id in live(session):
        per_document[document_id] = per_document.get(document_id, 0) + 1
        loads[username] += sizes[document_id]
    assert set(per_document.values()) == {2} and len(per_document) == 40
    assert "sup" not in loads or loads.get("sup") == 0
    average = sum(loads.values()) / len(loads)
    assert average == 2 * sum(sizes.values()) / 5
    assert max(loads.values()) - min(loads.values()) <= 0.05 * average, loads
    assert {load.user.username: load.sentences for load in result.loads} == loads
    assert len(result.created) == 80 and result.short == []
    events = session.scalars(select(Event).where(Event.entity_type == "assignments")).all()
    assert len(events) == 80 and all(e.action == "assign" and e.after["auto"]["seed"] == 3 for e in events)


class _Undone(Exception):
    """Raised to roll a write transaction back, carrying what it saw."""


@writes(ADMINS)
def _undone_auto_assign(session, actor, project_id, seed, options) -> None:
    """auto_assign inside a write transaction of ours (it joins it), which is then rolled back."""
    assignments.auto_assign(session, actor, project_id, 2, seed=seed, **options)
    session.flush()
    raise _Undone({(username, document_id) for username, document_id in live(session)})


def _outcome(session, project, seed, **options) -> set[tuple[str, int]]:
    with pytest.raises(_Undone) as undone:
        _undone_auto_assign(session, SYSTEM, project.id, seed, options)
    return undone.value.args[0]


def test_auto_assign_is_reproducible_from_the_seed(session):
    add_users(session, {f"a{i}": "annotator" for i in range(4)})
    project = synthetic_project(session, 20)
    first = _outcome(session, project, 11, calibration=2)
    assert first == _outcome(session, project, 11, calibration=2)
    assert first != _outcome(session, project, 12, calibration=2)
    assert session.scalar(select(func.count(Assignment.id))) == 0  # all rolled back


def test_too_many_per_document_is_a_clear_error_and_writes_nothing(session, cli):
    add_users(session, {"a0": "annotator", "a1": "annotator", "sup": "supervisor"})
    project = synthetic_project(session, 5)
    with pytest.raises(ServiceError) as raised:
        assignments.auto_assign(session, SYSTEM, project.id, 3)
    assert raised.value.field == "per_document" and "only 2 eligible" in raised.value.message
    for bad, field in (({"per_document": 0}, "per_document"), ({"per_document": 1, "calibration": 6}, "calibration")):
        with pytest.raises(ServiceError) as raised:
            assignments.auto_assign(session, SYSTEM, project.id, **bad)
        assert raised.value.field == field
    result = cli("assign", "--project", "synth", "--per-document", "3")
    assert result.exit_code != 0 and "only 2 eligible" in result.output
    assert session.scalar(select(func.count(Assignment.id))) == 0
    assert session.scalar(select(func.count(Event.id)).where(Event.entity_type == "assignments")) == 0


def test_calibration_newcomers_and_top_up_never_move_assignments(session):
    people = add_users(session, {"a0": "annotator", "a1": "annotator", "a2": "annotator"})
    project = synthetic_project(session, 12)
    first = assignments.auto_assign(session, SYSTEM, project.id, 2, seed=5, calibration=2)
    calibration = {document.id for document in first.calibration}
    assert len(calibration) == 2
    for document_id in calibration:
        assert {u for u, d in live(session) if d == document_id} == {"a0", "a1", "a2"}
    before = snapshot(session)

    # A newcomer joins: the calibration documents, nothing else (every document has k already).
    newcomer = add_users(session, {"new": "annotator"})["new"]
    again = assignments.auto_assign(session, SYSTEM, project.id, 2, seed=5, calibration=2)
    assert {d.id for d in again.calibration} == calibration
    assert sorted((a.user_id, a.document_id) for a in again.created) == sorted((newcomer.id, d) for d in calibration)
    assert before <= snapshot(session)  # nothing moved or changed

    # One assignment withdrawn, one annotator deactivated: their documents are topped up to k,
    # never back to whom it was withdrawn from, and the rest stays as it was.
    withdrawn = session.scalar(
        select(Assignment).where(Assignment.user_id == people["a0"].id, Assignment.document_id.not_in(calibration))
    )
    assignments.withdraw(session, SYSTEM, withdrawn.id)
    users.deactivate(session, SYSTEM, people["a2"].id)
    before = snapshot(session)
    topped = assignments.auto_assign(session, SYSTEM, project.id, 2, seed=5, calibration=2)
    assert before <= snapshot(session)
    assert all(a.user_id != people["a2"].id for a in topped.created)
    assert (people["a0"].id, withdrawn.document_id) not in {(a.user_id, a.document_id) for a in topped.created}
    active = {"a0", "a1", "new"}
    for document_id in sentence_counts(session, project):
        holders = {u for u, d in live(session) if d == document_id and u in active}
        assert len(holders) >= 2, (document_id, holders)


def test_explicit_annotators_and_deactivated_ones(session):
    people = add_users(session, {"a0": "annotator", "a1": "annotator", "sup": "supervisor"})
    project = synthetic_project(session, 4)
    # Only annotators can be chosen (a supervisor is refused by name, and nothing is written) ...
    with pytest.raises(ServiceError, match="not annotators: sup") as raised:
        assignments.auto_assign(session, SYSTEM, project.id, 1, annotator_ids=[people["sup"].id, people["a0"].id])
    assert raised.value.field == "annotators" and live(session) == set()
    # ... and only the chosen ones get documents.
    assignments.auto_assign(session, SYSTEM, project.id, 1, annotator_ids=[people["a0"].id])
    assert {u for u, _ in live(session)} == {"a0"}
    users.deactivate(session, SYSTEM, people["a1"].id)
    with pytest.raises(ServiceError, match="deactivated"):
        assignments.auto_assign(session, SYSTEM, project.id, 1, annotator_ids=[people["a1"].id])


def test_service_refuses_annotators(session):
    people = add_users(session, SUPERVISION_ROLES)
    project = synthetic_project(session, 2)
    with pytest.raises(Forbidden):
        assignments.auto_assign(session, people["ann"], project.id, 1)
    with pytest.raises(Forbidden):
        assignments.assign(session, people["ann"], project.id, [people["bob"].id])
    assert assignments.assign(session, people["sup"], project.id, [people["bob"].id])


# -- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def world(app, session):
    """The seed articles; ann and bob have the first, cat nothing yet."""
    return supervision_world(app, session)


def test_every_supervision_route_by_role(world):
    project, seed, app = world["project"], world["seed"], world["app"]
    assignment = world["assignment"]["bob"]
    pages = [
        f"/projects/{project.id}/assignments",
        f"/projects/{project.id}/progress",
        f"/documents/{seed.id}/review",
    ]
    forms = [
        (f"/projects/{project.id}/assignments/auto", {"per_document": "1"}),
        (f"/projects/{project.id}/assignments", {"user": str(world["cat"].id), "documents": str(seed.id)}),
        (f"/assignments/{assignment}/withdraw", {}),
        (f"/assignments/{assignment}/reassign", {"user": str(world["cat"].id)}),
        (f"/assignments/{assignment}/reopen", {}),
    ]
    anonymous = Client(app, None)
    for url in pages:
        response = anonymous.http.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for url, data in forms:
        assert anonymous.http.post(url, data=data).status_code in (302, 400), url  # no session, no CSRF token
    ann = Client(app, "ann")
    for url in pages:
        response = ann.http.get(url)
        assert response.status_code == 403 and response.mimetype == "text/html", url
    for url, data in forms:
        assert ann.post(url, data).status_code == 403, url
    session = world["session"]
    session.rollback()
    assert session.scalar(select(func.count(Event.id)).where(Event.entity_type == "assignments")) == 2  # the fixture's
    # Nonexistent things: still 403 for an annotator (nothing to learn), 404 for a supervisor.
    assert ann.http.get("/projects/999/progress").status_code == 403
    for name in ("sup", "adm"):
        client = Client(app, name)
        for url in pages:
            assert client.http.get(url).status_code == 200, (name, url)
        assert client.http.get("/projects/999/progress").status_code == 404
        assert client.http.get("/documents/999/review").status_code == 404
    admin = Client(app, "adm")
    for url, data in forms:
        assert admin.post(url, data).status_code == 302, url


def test_reassign_keeps_the_first_annotators_work(world):
    seed, session, app = world["seed"], world["session"], world["app"]
    ann, sup = Client(app, "ann"), Client(app, "sup")
    span = ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE"))
    assert span.status_code == 201
    first = session.scalar(select(Sentence).where(Sentence.document_id == seed.id, Sentence.position == 0))
    assert ann.call("PUT", f"/api/sentences/{first.id}/labels/claim_type", {"value": "event"}).status_code == 200

    response = sup.post(f"/assignments/{world['assignment']['ann']}/reassign", {"user": str(world["cat"].id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/{world['project'].id}/assignments")
    session.rollback()
    statuses = dict(session.execute(select(User.username, Assignment.status).join(User)).all())
    assert statuses == {"ann": "withdrawn", "bob": "assigned", "cat": "assigned"}
    assert session.scalar(select(func.count(Span.id)).where(Span.user_id == world["ann"].id)) == 1
    assert session.scalar(select(func.count(SentenceLabel.id)).where(SentenceLabel.user_id == world["ann"].id)) == 1
    actions = session.scalars(select(Event.action).where(Event.entity_type == "assignments").order_by(Event.id)).all()
    assert actions[-2:] == ["withdraw", "assign"]

    cat = Client(app, "cat")
    state = cat.call("GET", f"/api/documents/{seed.id}/annotations").json
    assert state["spans"] == [] and state["labels"] == [] and state["status"] == "assigned"
    refused = ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "Hamas", "attribution", "SOURCE"))
    assert refused.status_code == 403 and "withdrawn" in refused.json["error"]
    assert seed.title not in ann.http.get("/").get_data(as_text=True)
    # Reassigning to someone who already has it is refused, with the reason on the page.
    again = sup.post(f"/assignments/{world['assignment']['bob']}/reassign", {"user": str(world["cat"].id)})
    assert again.status_code == 302
    assert "already has this document" in sup.http.get(again.headers["Location"]).get_data(as_text=True)
    # Unassigning: the same, without a successor.
    assert sup.post(f"/assignments/{world['assignment']['bob']}/withdraw").status_code == 302
    session.rollback()
    assert session.scalar(select(Assignment.status).where(Assignment.id == world["assignment"]["bob"])) == "withdrawn"


def test_done_is_read_only_until_reopened(world):
    seed, session, app = world["seed"], world["session"], world["app"]
    ann, sup = Client(app, "ann"), Client(app, "sup")
    first = session.scalar(select(Sentence).where(Sentence.document_id == seed.id, Sentence.position == 0))
    label = ann.call("PUT", f"/api/sentences/{first.id}/labels/claim_type", {"value": "event"}).json

    home = ann.http.get("/").get_data(as_text=True)
    assert f'action="/documents/{seed.id}/done"' in home and "Mark done" in home
    assert ann.call("POST", f"/api/documents/{seed.id}/done", csrf=False).status_code == 400
    done = ann.call("POST", f"/api/documents/{seed.id}/done")
    assert done.status_code == 200 and done.json["status"] == "done" and done.json["completed_at"]
    assert ann.call("POST", f"/api/documents/{seed.id}/done").json["completed_at"] == done.json["completed_at"]

    refused = ann.call("PUT", f"/api/sentences/{first.id}/labels/claim_type", {"value": "opinion", "version": label["version"]})
    assert refused.status_code == 403 and "reopen" in refused.json["error"]
    assert ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE")).status_code == 403
    state = ann.call("GET", f"/api/documents/{seed.id}/annotations")
    assert state.status_code == 200 and state.json["status"] == "done" and len(state.json["labels"]) == 1
    assert ann.http.get(f"/documents/{seed.id}").status_code == 200
    home = ann.http.get("/").get_data(as_text=True)
    assert "read-only until a supervisor reopens it" in home and f'action="/documents/{seed.id}/done"' not in home

    # Others cannot mark it done for ann; bob marks his own through the page's form.
    assert sup.call("POST", f"/api/documents/{seed.id}/done").status_code == 404
    bob = Client(app, "bob")
    assert bob.call("POST", f"/api/documents/{world['other'].id}/done").status_code == 404
    assert bob.post(f"/documents/{seed.id}/done").status_code == 302

    assert sup.post(f"/assignments/{world['assignment']['ann']}/reopen").status_code == 302
    session.rollback()
    row = session.get(Assignment, world["assignment"]["ann"])
    assert row.status == "in_progress" and row.completed_at is None
    assert session.scalar(select(Assignment.status).where(Assignment.id == world["assignment"]["bob"])) == "done"
    again = ann.call("PUT", f"/api/sentences/{first.id}/labels/claim_type", {"value": "opinion", "version": label["version"]})
    assert again.status_code == 200
    # Reopening what is not done is refused.
    response = sup.post(f"/assignments/{world['assignment']['ann']}/reopen")
    assert "only a done assignment" in sup.http.get(response.headers["Location"]).get_data(as_text=True)
    session.rollback()
    events = session.execute(select(Event.user_id, Event.action, Event.before, Event.after).where(Event.entity_type == "assignments", Event.entity_id == world["assignment"]["ann"]).order_by(Event.id)).all()
    assert [(e.action, e.user_id) for e in events] == [("assign", None), ("done", world["ann"].id), ("reopen", world["sup"].id)]
    assert events[2].before["status"] == "done" and events[2].after["status"] == "in_progress"


def test_assignment_page_forms(world):
    session, app, project, seed, other = world["session"], world["app"], world["project"], world["seed"], world["other"]
    sup = Client(app, "sup")
    home = sup.http.get("/").get_data(as_text=True)
    assert f'href="/projects/{project.id}/assignments"' in home and f'href="/projects/{project.id}/progress"' in home
    page = sup.http.get(f"/projects/{project.id}/assignments").get_data(as_text=True)
    assert "Assign automatically" in page and "Assign by hand" in page
    assert page.count('class="status status-assigned"') == 2 and seed.title in page and other.title in page
    assert f'action="/assignments/{world["assignment"]["ann"]}/withdraw"' in page

    everyone = {"annotators": [str(world[name].id) for name in ("ann", "bob", "cat")]}
    nobody = sup.post(f"/projects/{project.id}/assignments/auto", {"per_document": "1"})
    assert "choose at least one annotator" in sup.http.get(nobody.headers["Location"]).get_data(as_text=True)
    too_many = sup.post(f"/projects/{project.id}/assignments/auto", {"per_document": "4", "seed": "1"} | everyone)
    assert "only 3 eligible" in sup.http.get(too_many.headers["Location"]).get_data(as_text=True)
    not_a_number = sup.post(f"/projects/{project.id}/assignments/auto", {"per_document": "two"} | everyone)
    assert "whole number" in sup.http.get(not_a_number.headers["Location"]).get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count(Assignment.id))) == 2

    done = sup.post(f"/projects/{project.id}/assignments/auto", {"per_document": "2", "seed": "1", "calibration": "0"} | everyone)
    assert "2 new assignment(s)" in sup.http.get(done.headers["Location"]).get_data(as_text=True)
    by_hand = sup.post(f"/projects/{project.id}/assignments", {"user": str(world["cat"].id), "documents": [str(seed.id), str(other.id)]})
    assert by_hand.status_code == 302
    session.rollback()
    holders = {d: {u for u, dd in live(session) if dd == d} for d in (seed.id, other.id)}
    assert holders[seed.id] == {"ann", "bob", "cat"} and len(holders[other.id]) >= 2 and "cat" in holders[other.id]
    wrong = sup.post(f"/projects/{project.id}/assignments", {"user": str(world["cat"].id), "documents": "999"})
    assert "no document 999" in sup.http.get(wrong.headers["Location"]).get_data(as_text=True)


def test_empty_assignment_page(app, session):
    project = projects.get_or_create_project(session, SYSTEM, "empty")
    add_users(session, {"sup": "supervisor"})  # a member of it
    page = Client(app, "sup").http.get(f"/projects/{project.id}/assignments").get_data(as_text=True)
    assert "has no documents yet" in page


# -- the command line ----------------------------------------------------------------------------


def test_cli_assign_modes(cli, session):
    add_users(session, {"a0": "annotator", "a1": "annotator", "a2": "annotator"})
    synthetic_project(session, 9)
    both = cli("assign", "--project", "synth", "--per-document", "2", "--user", "a0")
    assert both.exit_code != 0 and "not both" in both.output
    neither = cli("assign", "--project", "synth")
    assert neither.exit_code != 0 and "--per-document" in neither.output
    stray = cli("assign", "--project", "synth", "--user", "a0", "--calibration", "1")
    assert stray.exit_code != 0 and "automatic" in stray.output
    assert session.scalar(select(func.count(Assignment.id))) == 0

    auto = cli("assign", "--project", "synth", "--per-document", "2", "--seed", "4", "--calibration", "1")
    assert auto.exit_code == 0, auto.output
    lines = auto.output.splitlines()
    assert lines[0].split() == ["annotator", "documents", "sentences", "new"]
    table = {line.split()[0]: [int(x) for x in line.split()[1:]] for line in lines[1:4]}
    assert set(table) == {"a0", "a1", "a2"}
    session.rollback()
    sizes = sentence_counts(session, projects.project_named(session, SYSTEM, "synth"))
    assert sum(row[1] for row in table.values()) == sum(sizes[d] for _, d in live(session))
    assert sum(row[0] for row in table.values()) == len(live(session)) == 1 * 3 + 8 * 2
    assert "Calibration documents (every annotator):" in auto.output and "19 new assignment(s)" in auto.output

    again = cli("assign", "--project", "synth", "--per-document", "2", "--seed", "4", "--calibration", "1")
    assert "0 new assignment(s)" in again.output
    by_hand = cli("assign", "--project", "synth", "--user", "a0")
    assert by_hand.exit_code == 0 and "a0" in by_hand.output.splitlines()[1]
    assert f"{9 - table['a0'][0]} new assignment(s)" in by_hand.output
