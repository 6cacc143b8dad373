"""Every route of the app, for every role, from one table: a new route without a rule here fails.

The table says who may reach each endpoint: anyone, any logged-in user, supervisors (and
admins), or admins. Each route is called over HTTP as an anonymous visitor, an annotator,
a supervisor and an admin, with a valid CSRF token, and the answer is checked against it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from annotator.ingest import read_paths
from annotator.models import Document, Sentence

from .conftest import SEED_TXT
from .helpers import Client, add_users, assign, project_with

PUBLIC, LOGGED_IN, SUPERVISOR, ADMIN = "public", "logged in", "supervisor", "admin"

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
    "supervise.mark_done": LOGGED_IN,
    "admin.account": LOGGED_IN,
    "admin.projects": SUPERVISOR,
    "admin.project": SUPERVISOR,
    "admin.upload": SUPERVISOR,
    "supervise.assignments": SUPERVISOR,
    "supervise.auto_assign": SUPERVISOR,
    "supervise.assign": SUPERVISOR,
    "supervise.withdraw": SUPERVISOR,
    "supervise.reassign": SUPERVISOR,
    "supervise.reopen": SUPERVISOR,
    "supervise.progress": SUPERVISOR,
    "supervise.review": SUPERVISOR,
    "report.page": SUPERVISOR,
    "report.disagreements": SUPERVISOR,
    "report.documents": SUPERVISOR,
    "report.download_json": SUPERVISOR,
    "report.download_csv": SUPERVISOR,
    "report.download_html": SUPERVISOR,
    "exports.download": SUPERVISOR,
    "adjudicate.queue": SUPERVISOR,
    "adjudicate.settings": SUPERVISOR,
    "adjudicate.page": SUPERVISOR,
    "adjudicate.view": SUPERVISOR,
    "adjudicate.gold_annotations": SUPERVISOR,
    "adjudicate.create_span": SUPERVISOR,
    "adjudicate.update_span": SUPERVISOR,
    "adjudicate.delete_span": SUPERVISOR,
    "adjudicate.set_sentence_label": SUPERVISOR,
    "adjudicate.create_attribution": SUPERVISOR,
    "adjudicate.update_attribution": SUPERVISOR,
    "adjudicate.delete_attribution": SUPERVISOR,
    "adjudicate.apply_changes": SUPERVISOR,
    "adjudicate.start": SUPERVISOR,
    "adjudicate.proposal": SUPERVISOR,
    "adjudicate.finish": SUPERVISOR,
    "adjudicate.reopen": SUPERVISOR,
    "adjudicate.activity": SUPERVISOR,
    "admin.new_project": ADMIN,
    "admin.users": ADMIN,
    "admin.create_user": ADMIN,
    "admin.set_role": ADMIN,
    "admin.deactivate": ADMIN,
    "admin.reactivate": ADMIN,
    "admin.reset_password": ADMIN,
}

ALLOWED = {
    PUBLIC: {"anonymous", "annotator", "supervisor", "admin"},
    LOGGED_IN: {"annotator", "supervisor", "admin"},
    SUPERVISOR: {"supervisor", "admin"},
    ADMIN: {"admin"},
}


def test_every_route_has_a_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ACCESS.keys() == set(), "add the new routes to ACCESS"
    assert ACCESS.keys() - endpoints == set(), "ACCESS names routes that no longer exist"


@pytest.fixture
def ids(app, session):
    project = project_with(session, read_paths([SEED_TXT]))
    accounts = add_users(session, {role: role for role in ("annotator", "supervisor", "admin")} | {"spare": "annotator"})
    document = session.scalar(select(Document))
    (assignment,) = assign(session, project, [accounts["annotator"]], [document])
    sentence = session.scalar(select(Sentence).where(Sentence.document_id == document.id))
    return {
        "project_id": project.id,
        "document_id": document.id,
        "sentence_id": sentence.id,
        "assignment_id": assignment.id,
        "user_id": accounts["spare"].id,
        "span_id": 1,
        "attribution_id": 1,
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


@pytest.mark.parametrize("who", ["anonymous", "annotator", "supervisor", "admin"])
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
        if not allowed and who != "anonymous" and status != 403:
            problems.append(f"{who} was not refused {method} {url} ({endpoint}): {status}")
        if status >= 500:
            problems.append(f"{who} got {status} from {method} {url} ({endpoint})")
    assert problems == []
