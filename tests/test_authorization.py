"""Every route of the app, for every role, from one table: a new route without a rule here fails.

The table says who may reach each endpoint: anyone, any logged-in user, any supervisor (and
admins), the supervisors who are members of the project the URL names (and admins), or
admins. Each route is called over HTTP as an anonymous visitor, an annotator, a supervisor
who is a member of the project, one who is not (an outsider) and an admin, with a valid CSRF
token, and the answer is checked against it: a role refused gets 403; an outsider gets 404 from
every project endpoint, as for a project that does not exist. A supervisors' endpoint whose
URL names a project, document, assignment, sentence, span or attribution must be for members.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from annotator.ingest import read_paths
from annotator.models import Document, Sentence
from annotator.services import adjudication, entities
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT
from .helpers import Client, add_users, assign, project_with, span_payload

PUBLIC, LOGGED_IN, SUPERVISOR, MEMBER, ADMIN = "public", "logged in", "supervisor", "member", "admin"

ACCESS = {
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": LOGGED_IN,
    "pages.home": LOGGED_IN,
    # Logged in, and further limited to one's own assignments by the service layer.
    "pages.annotate": LOGGED_IN,
    "pages.guidelines": LOGGED_IN,
    "api.document_annotations": LOGGED_IN,
    "api.create_span": LOGGED_IN,
    "api.update_span": LOGGED_IN,
    "api.delete_span": LOGGED_IN,
    "api.set_sentence_label": LOGGED_IN,
    "api.create_attribution": LOGGED_IN,
    "api.update_attribution": LOGGED_IN,
    "api.delete_attribution": LOGGED_IN,
    "api.apply_changes": LOGGED_IN,
    "api.mark_done": LOGGED_IN,
    "api.record_activity": LOGGED_IN,
    "api.reject_suggestion": LOGGED_IN,
    "supervise.mark_done": LOGGED_IN,
    "admin.account": LOGGED_IN,
    # Any supervisor: the list shows each only the projects they are a member of.
    "admin.projects": SUPERVISOR,
    # The supervisors who are members of the project the URL names (through its document,
    # assignment, sentence, span or attribution too), and admins.
    "admin.project": MEMBER,
    "admin.upload": MEMBER,
    "admin.upload_annotations": MEMBER,
    "admin.codebook_language": MEMBER,
    "supervise.assignments": MEMBER,
    "supervise.auto_assign": MEMBER,
    "supervise.assign": MEMBER,
    "supervise.withdraw": MEMBER,
    "supervise.reassign": MEMBER,
    "supervise.reopen": MEMBER,
    "supervise.progress": MEMBER,
    "supervise.review": MEMBER,
    "report.page": MEMBER,
    "report.disagreements": MEMBER,
    "report.documents": MEMBER,
    "report.download_json": MEMBER,
    "report.download_csv": MEMBER,
    "report.download_html": MEMBER,
    "profiles.page": MEMBER,
    "profiles.download_json": MEMBER,
    "profiles.download_csv": MEMBER,
    "profiles.download_html": MEMBER,
    "exports.download": MEMBER,
    "adjudicate.queue": MEMBER,
    "adjudicate.settings": MEMBER,
    "adjudicate.page": MEMBER,
    "adjudicate.view": MEMBER,
    "adjudicate.gold_annotations": MEMBER,
    "adjudicate.create_span": MEMBER,
    "adjudicate.update_span": MEMBER,
    "adjudicate.delete_span": MEMBER,
    "adjudicate.set_sentence_label": MEMBER,
    "adjudicate.create_attribution": MEMBER,
    "adjudicate.update_attribution": MEMBER,
    "adjudicate.delete_attribution": MEMBER,
    "adjudicate.apply_changes": MEMBER,
    "adjudicate.start": MEMBER,
    "adjudicate.proposal": MEMBER,
    "adjudicate.finish": MEMBER,
    "adjudicate.reopen": MEMBER,
    "adjudicate.activity": MEMBER,
    # Source entities: the project's annotators search, add and change their own (the service
    # checks their assignments); its supervisors see the registry, merge and split.
    "entities.search": LOGGED_IN,
    "entities.create": LOGGED_IN,
    "entities.entity_json": LOGGED_IN,
    "entities.update": LOGGED_IN,
    "entities.merge_json": MEMBER,
    "entities.split_json": MEMBER,
    "entities.history_json": MEMBER,
    "entities.registry": MEMBER,
    "entities.add": MEMBER,
    "entities.download": MEMBER,
    "entities.entity": MEMBER,
    "entities.edit": MEMBER,
    "entities.merge_form": MEMBER,
    "entities.merge": MEMBER,
    "entities.split_form": MEMBER,
    "entities.split": MEMBER,
    "admin.add_member": ADMIN,
    "admin.remove_member": ADMIN,
    "admin.new_project": ADMIN,
    "admin.users": ADMIN,
    "admin.create_user": ADMIN,
    "admin.set_role": ADMIN,
    "admin.deactivate": ADMIN,
    "admin.reactivate": ADMIN,
    "admin.reset_password": ADMIN,
}

# "outsider": a supervisor who is not a member of the project.
ALLOWED = {
    PUBLIC: {"anonymous", "annotator", "supervisor", "outsider", "admin"},
    LOGGED_IN: {"annotator", "supervisor", "outsider", "admin"},
    SUPERVISOR: {"supervisor", "outsider", "admin"},
    MEMBER: {"supervisor", "admin"},
    ADMIN: {"admin"},
}
# What a URL names that lies in one project: a supervisors' endpoint with one is for members.
IN_A_PROJECT = {"project_id", "document_id", "assignment_id", "sentence_id", "span_id", "attribution_id", "entity_id"}


def test_every_route_has_a_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ACCESS.keys() == set(), "add the new routes to ACCESS"
    assert ACCESS.keys() - endpoints == set(), "ACCESS names routes that no longer exist"


def test_every_project_endpoint_is_for_members(app):
    """A supervisors' endpoint reaching into a project must check membership (MEMBER): a
    new one marked for any supervisor fails here."""
    for_any_supervisor = {rule.endpoint for rule in app.url_map.iter_rules()
                          if ACCESS.get(rule.endpoint) == SUPERVISOR and rule.arguments & IN_A_PROJECT}
    assert for_any_supervisor == set(), "a project endpoint: make it MEMBER (and check membership in its service)"


@pytest.fixture
def ids(app, session):
    """A project with the seed article, assigned to the annotator; the supervisor is a member
    of it, the outsider not. Every id a URL takes is a real row of it (a gold span and
    attribution too): an outsider's 404 comes from the membership check alone."""
    project = project_with(session, read_paths([SEED_TXT]))
    accounts = add_users(session, {role: role for role in ("annotator", "supervisor", "admin")} | {"spare": "annotator"})
    add_users(session, {"outsider": "supervisor"}, member=False)
    document = session.scalar(select(Document))
    (assignment,) = assign(session, project, [accounts["annotator"]], [document])
    sentence = session.scalar(select(Sentence).where(Sentence.document_id == document.id))
    adjudication.start(session, SYSTEM, document.id)
    span = adjudication.create_gold_span(session, SYSTEM, document.id,
                                         span_payload(document, document.text.split()[0], "attribution", "SOURCE"))
    attribution = adjudication.create_gold_attribution(
        session, SYSTEM, document.id, {"relation": "attribution", "parts": [{"span_id": span["id"], "role": "source"}]})
    # The annotator's own entity: they may change it (an entity someone else made is the supervisors').
    entity = entities.create_entity(session, accounts["annotator"], project.id, {"name": "ARY News"})
    return {
        "project_id": project.id,
        "document_id": document.id,
        "sentence_id": sentence.id,
        "assignment_id": assignment.id,
        "user_id": accounts["spare"].id,
        "span_id": span["id"],
        "attribution_id": attribution["id"],
        "entity_id": entity["id"],
        "suggestion_id": 1,  # none is stored: the annotators' endpoint answers 404, never 403
        "layer": "claim_type",
        "filename": "app.css",
        "format_name": "csv",
    }


def _calls(app, ids):
    # Marking the document done (or adjudicated) makes it read-only (403 on writes): do it last.
    last = {"api.mark_done", "supervise.mark_done", "adjudicate.finish"}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in last, r.rule)):
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


@pytest.mark.parametrize("who", ["anonymous", "annotator", "supervisor", "outsider", "admin"])
def test_each_role_reaches_exactly_what_the_table_allows(app, ids, who):
    # An anonymous client too has the CSRF token of its session, so that forms pass that check.
    client = Client(app, None if who == "anonymous" else who)
    assert client.token
    problems = []
    for endpoint, method, url in _calls(app, ids):
        if endpoint == "auth.logout":
            continue  # would end this client's session; covered in test_annotations_api
        allowed = who in ALLOWED[ACCESS[endpoint]]
        body = {"csrf_token": client.token} if method == "POST" and not url.startswith("/api/") else None
        if body is not None:
            response = client.http.open(url, method=method, data=body)
        else:
            response = client.call(method, url, {} if method != "GET" else None)
        status = response.status_code
        response.close()  # as a server would: a streamed download (an export) holds its request open until then
        refused_login = status == 401 or (status == 302 and "/login" in response.headers.get("Location", ""))
        if allowed and (status == 403 or refused_login):
            problems.append(f"{who} refused {method} {url} ({endpoint}): {status}")
        if not allowed and who == "anonymous" and not refused_login:
            problems.append(f"anonymous reached {method} {url} ({endpoint}): {status}")
        # Outside their projects a supervisor finds nothing: the 404 of a project that does not exist.
        refusal = 404 if who == "outsider" and ACCESS[endpoint] == MEMBER else 403
        if not allowed and who != "anonymous" and status != refusal:
            problems.append(f"{who} was not refused {method} {url} ({endpoint}): {status}, not {refusal}")
        if status >= 500:
            problems.append(f"{who} got {status} from {method} {url} ({endpoint})")
    assert problems == []
