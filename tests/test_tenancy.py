"""Project membership: a supervisor sees and supervises only the projects they are a member of;
admins (and the command line) see every project; annotators see what they are assigned.

Over real HTTP through the app and through the services, on SQLite and PostgreSQL. The
authorization table (tests/test_authorization.py) calls every endpoint as a supervisor who is
not a member; here: the lists, the admin's forms and the command line that manage members,
their audit events, and the migration that keeps existing installs as they were.
"""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from annotator import migrate, report
from annotator.db import configure_engine
from annotator.errors import NotFound
from annotator.ingest import read_paths
from annotator.models import Event, ProjectMember
from annotator.services import adjudication, assignments, exports, imports, progress, projects, review
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT, SEEDS
from .helpers import Client, add_users, assign, project_with, seed_document, snapshot_rows


@pytest.fixture
def world(app, session):
    """Projects "ours" (the seed articles, assigned to ann) and "theirs" (one article); sup is a
    member of "ours" only, outsider of none; an admin, root."""
    ours = project_with(session, read_paths([SEEDS]), "ours")
    theirs = project_with(session, read_paths([SEED_TXT]), "theirs")
    people = add_users(session, {"root": "admin", "ann": "annotator", "sup": "supervisor", "outsider": "supervisor"},
                       member=False)
    projects.add_members(session, SYSTEM, ours.id, [people["sup"].id])
    assign(session, ours, [people["ann"]])
    return {"app": app, "session": session, "ours": ours, "theirs": theirs, **people}


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _members(session, project) -> list[str]:
    session.rollback()
    return [member.username for member in projects.project_members(session, SYSTEM, project.id).members]


def _membership_rows(session) -> dict:
    """The memberships and the audit log: what a refused change to members must leave as it was."""
    rows = snapshot_rows(session)
    return {table: rows[table] for table in ("project_members", "events")}


def _events(session, action: str, project) -> list[Event]:
    """The project's audit events of that action."""
    session.rollback()
    return list(session.scalars(select(Event).where(
        Event.action == action, Event.entity_type == "projects", Event.entity_id == project.id).order_by(Event.id)))


# -- what each one sees ------------------------------------------------------------------------------


def test_a_supervisor_sees_only_the_projects_they_are_a_member_of(world):
    session, ours, theirs = world["session"], world["ours"], world["theirs"]
    listed = lambda actor: [row.name for row in projects.list_projects(session, actor)]  # noqa: E731
    assert listed(world["sup"]) == ["ours"]
    assert listed(world["outsider"]) == []
    assert listed(world["root"]) == listed(SYSTEM) == ["ours", "theirs"]

    assert projects.get_project(session, world["sup"], ours.id).name == "ours"
    assert projects.project_named(session, world["root"], "theirs").id == theirs.id
    # Another's project is to them one that does not exist: the same answer, word for word.
    for lookup, key, missing in ((projects.get_project, theirs.id, 999_999),
                                 (projects.project_named, "theirs", "nonexistent")):
        with pytest.raises(NotFound) as refused:
            lookup(session, world["sup"], key)
        with pytest.raises(NotFound) as absent:
            lookup(session, world["sup"], missing)
        assert str(refused.value).replace(str(key), "?") == str(absent.value).replace(str(missing), "?")


def test_every_supervisor_service_of_another_project_is_refused(world):
    """The services a supervisor reaches with a project id, or a document's or an assignment's,
    each refuse another's project with NotFound, and write nothing."""
    session, theirs, outsider = world["session"], world["theirs"], world["outsider"]
    document = seed_document(session, theirs)
    (assignment,) = assign(session, theirs, [world["ann"]], [document])
    before = snapshot_rows(session)
    calls = [
        lambda: projects.project_documents(session, outsider, theirs.id),
        lambda: projects.project_members(session, outsider, theirs.id),
        lambda: assignments.assignment_matrix(session, outsider, theirs.id),
        lambda: assignments.assign(session, outsider, theirs.id, [world["ann"].id]),
        lambda: assignments.auto_assign(session, outsider, theirs.id, 1),
        lambda: assignments.get_assignment(session, outsider, assignment.id),
        lambda: assignments.withdraw(session, outsider, assignment.id),
        lambda: assignments.reopen(session, outsider, assignment.id),
        lambda: progress.project_progress(session, outsider, theirs.id),
        lambda: review.document_review(session, outsider, document.id),
        lambda: report.build_report(session, outsider, theirs.id),
        lambda: report.cached_report(session, outsider, theirs.id),
        lambda: report.gold_scores(session, outsider, theirs.id),
        lambda: exports.document_records(session, outsider, theirs.id, secret_key="k"),
        lambda: imports.import_articles(session, outsider, theirs.id, read_paths([SEEDS])),
        lambda: adjudication.queue(session, outsider, theirs.id),
        lambda: adjudication.update_settings(session, outsider, theirs.id, {"min_agree": 1}),
        lambda: adjudication.view(session, outsider, document.id),
        lambda: adjudication.start(session, outsider, document.id),
        lambda: adjudication.record_activity(session, outsider, document.id),
        lambda: adjudication.auto(session, outsider, theirs.id),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert snapshot_rows(session) == before


def test_pages_list_only_ones_projects(world):
    sup, outsider, root = (Client(world["app"], name) for name in ("sup", "outsider", "root"))
    for path in ("/", "/projects"):
        assert "ours" in _text(sup.get(path)) and "theirs" not in _text(sup.get(path))
        assert "theirs" in _text(root.get(path)) and "ours" in _text(root.get(path))
        assert "ours" not in _text(outsider.get(path))
    assert "You are not a member of any project yet" in _text(outsider.get("/projects"))
    assert "You are not a member of any project yet" in _text(outsider.get("/"))
    assert sup.get(f"/projects/{world['ours'].id}").status_code == 200
    assert sup.get(f"/projects/{world['theirs'].id}").status_code == 404
    # The annotator works on what they are assigned, whatever the memberships.
    ann = Client(world["app"], "ann")
    assert ann.get(f"/documents/{seed_document(world['session'], world['ours']).id}").status_code == 200


# -- an admin manages the members --------------------------------------------------------------------


def test_an_admin_adds_and_removes_members_on_the_project_page(world):
    session, theirs, outsider = world["session"], world["theirs"], world["outsider"]
    root, visitor = Client(world["app"], "root"), Client(world["app"], "outsider")
    page = _text(root.get(f"/projects/{theirs.id}"))
    assert "No supervisor is a member yet" in page and f'<option value="{outsider.id}">outsider</option>' in page
    assert visitor.get(f"/projects/{theirs.id}").status_code == 404

    added = root.post(f"/projects/{theirs.id}/members", {"user": str(outsider.id)})
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/projects/{theirs.id}#members")
    assert "outsider is now a member of this project." in _text(root.get(f"/projects/{theirs.id}"))
    assert _members(session, theirs) == ["outsider"]
    assert visitor.get(f"/projects/{theirs.id}").status_code == 200  # at once, in the session they have
    assert "theirs" in _text(visitor.get("/projects"))
    (event,) = _events(session, "add_member", theirs)
    assert event.user_id == world["root"].id
    assert event.after == {"project": "theirs", "user_id": outsider.id, "username": "outsider"}

    assert root.post(f"/projects/{theirs.id}/members", {"user": str(outsider.id)}).status_code == 302
    assert "Already a member." in _text(root.get("/projects"))
    assert len(_events(session, "add_member", theirs)) == 1  # nothing changed, nothing audited

    removed = root.post(f"/projects/{theirs.id}/members/remove", {"user": str(outsider.id)})
    assert removed.status_code == 302
    assert "outsider is no longer a member of this project." in _text(root.get(f"/projects/{theirs.id}"))
    assert _members(session, theirs) == []
    assert visitor.get(f"/projects/{theirs.id}").status_code == 404
    (event,) = _events(session, "remove_member", theirs)
    assert event.before == {"project": "theirs", "user_id": outsider.id, "username": "outsider"} and event.after is None


def test_only_supervisors_are_members_and_refused_forms_change_nothing(world):
    session, ours = world["session"], world["ours"]
    root, sup = Client(world["app"], "root"), Client(world["app"], "sup")
    before = _membership_rows(session)
    for name in ("ann", "root"):
        response = root.post(f"/projects/{ours.id}/members", {"user": str(world[name].id)})
        assert response.status_code == 302
        assert "only supervisors are members of projects" in _text(root.get(f"/projects/{ours.id}"))
    assert root.post(f"/projects/{ours.id}/members/remove", {"user": str(world["outsider"].id)}).status_code == 302
    assert "'outsider' is not a member of project 'ours'" in _text(root.get(f"/projects/{ours.id}"))
    assert root.post(f"/projects/{ours.id}/members", {"user": "x"}).status_code == 302
    assert root.post(f"/projects/{ours.id}/members", {"user": "999999"}).status_code == 404
    assert root.post("/projects/999999/members", {"user": str(world["outsider"].id)}).status_code == 404
    # Members are an admin's to change: a supervisor, even a member, is refused.
    assert sup.post(f"/projects/{ours.id}/members", {"user": str(world["outsider"].id)}).status_code == 403
    assert sup.post(f"/projects/{ours.id}/members/remove", {"user": str(world["sup"].id)}).status_code == 403
    assert "Add member" not in _text(sup.get(f"/projects/{ours.id}"))
    # Without the CSRF token.
    no_token = root.http.post(f"/projects/{ours.id}/members", data={"user": str(world["outsider"].id)})
    assert no_token.status_code == 400
    assert _membership_rows(session) == before


def test_a_membership_grants_nothing_to_a_supervisor_who_is_no_longer_one(world):
    """Memberships stay with the account, but only a supervisor's count: demoted to annotator,
    the member sees no project; an admin sees them all anyway."""
    from annotator.services import users

    session, sup = world["session"], world["sup"]
    users.set_role(session, SYSTEM, sup.id, "annotator")
    client = Client(world["app"], "sup")
    assert client.get(f"/projects/{world['ours'].id}").status_code == 403
    assert _members(session, world["ours"]) == ["sup"]


# -- the command line ---------------------------------------------------------------------------------


def test_members_commands(cli, world):
    session, theirs = world["session"], world["theirs"]
    listed = cli("project", "members", "list", "theirs")
    assert listed.exit_code == 0 and "has no members: only admins see it" in listed.output

    added = cli("project", "members", "add", "theirs", "sup,outsider")
    assert added.exit_code == 0, added.output
    assert "Project 'theirs': added sup, outsider." in added.output
    again = cli("project", "members", "add", "theirs", "sup")
    assert "added nobody; already members: sup." in again.output
    assert cli("project", "members", "list", "theirs").output.split() == ["outsider", "sup"]
    assert [event.user_id for event in _events(session, "add_member", theirs)] == [None, None]  # the command line: no user

    removed = cli("project", "members", "remove", "theirs", "outsider")
    assert removed.exit_code == 0 and "outsider is no longer a member." in removed.output
    assert _members(session, theirs) == ["sup"]

    for args, message in ((("add", "theirs", "ann"), "only supervisors are members of projects"),
                          (("add", "theirs", "nobody"), "no user named 'nobody'"),
                          (("add", "nowhere", "sup"), "no project named 'nowhere'"),
                          (("remove", "theirs", "outsider"), "'outsider' is not a member of project 'theirs'")):
        refused = cli("project", "members", *args)
        assert refused.exit_code == 1 and message in refused.output, refused.output
    assert _members(session, theirs) == ["sup"]


def test_quickstart_makes_the_demo_supervisor_a_member_of_the_demo_project(cli, session):
    assert cli("quickstart", "--no-serve").exit_code == 0
    assert cli("quickstart", "--no-serve").exit_code == 0  # again: duplicates nothing
    assert cli("project", "members", "list", "default").output.split() == ["supervisor"]
    session.rollback()
    assert session.scalar(select(func.count(ProjectMember.id))) == 1


# -- existing installs ----------------------------------------------------------------------------


def test_the_migration_makes_every_supervisor_a_member_of_every_project(empty_database_url):
    """Existing installs keep what supervisors saw: 0011 makes each supervisor (deactivated
    ones too) a member of each project there is, and no one else; downgrading drops the table."""
    engine = configure_engine(sa.create_engine(empty_database_url))
    migrate.upgrade(engine, "0010")
    with engine.begin() as connection:
        for name, role, active in (("s1", "supervisor", True), ("s2", "supervisor", False), ("a", "admin", True),
                                   ("n", "annotator", True)):
            connection.execute(sa.text("INSERT INTO users (username, password_hash, role, active) "
                                       "VALUES (:name, 'x', :role, :active)"), {"name": name, "role": role, "active": active})
        for name in ("p1", "p2"):
            connection.execute(sa.text("INSERT INTO projects (name, codebook, codebook_version) VALUES (:name, '{}', 1)"),
                               {"name": name})
    migrate.upgrade(engine)
    with engine.connect() as connection:
        members = connection.execute(sa.text(
            "SELECT projects.name, users.username FROM project_members JOIN projects ON projects.id = project_id "
            "JOIN users ON users.id = user_id ORDER BY 1, 2")).all()
    assert [tuple(row) for row in members] == [("p1", "s1"), ("p1", "s2"), ("p2", "s1"), ("p2", "s2")]
    migrate.downgrade(engine, "0010")
    assert "project_members" not in sa.inspect(engine).get_table_names()
    engine.dispose()
