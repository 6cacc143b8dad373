"""The listings a page at a time (annotator/services/paging.py): the annotator's home, the project
page, the assignment matrix, the progress page, the adjudication queue and the users, on a
project of 250 documents. Each page holds the right items in the right order, a page past the
end is empty (its total still counts everything) and the overall figures are those computed
the slow way, in Python from every row, whichever page is asked for. Then the pages' links."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from annotator.errors import ServiceError
from annotator.ingest import build_article
from annotator.models import ID_MAX, Assignment, Document, Event, Sentence, SentenceLabel, SentenceTime, Span, User
from annotator.services import adjudication, annotations, assignments, progress, projects, users
from annotator.services.assignments import ACTIVE_STATUSES
from annotator.services.paging import Page, cut, every_item
from annotator.services.permissions import SYSTEM

from .helpers import Client, add_users, assign, project_with

DOCUMENTS = 250
SHARED = 30  # the first documents, bob's too


@pytest.fixture
def world(app, session):
    """250 two-sentence documents, all ann's; bob has the first 30 too; cat had the first 5 and
    was withdrawn from them after labelling. ann and bob label both sentences of the first 30:
    bob differs from ann on both (i % 3 == 0), on the first (i % 3 == 1) or on neither; ann also
    marks a span in the first 3, labels only the first sentence of document 30 and only the
    second of document 31, marks the first 10 done and spends time on the first 4."""
    people = add_users(session, {"sup": "supervisor", "adm": "admin", "ann": "annotator", "bob": "annotator",
                                 "cat": "annotator"})
    articles = [build_article(f"Report {i:03d}", [f"The mayor spoke about report {i}. Nobody answered."], source=f"r{i}")
                for i in range(DOCUMENTS)]
    project = project_with(session, articles, "big")
    documents = session.scalars(select(Document).where(Document.project_id == project.id).order_by(Document.id)).all()
    assign(session, project, [people["ann"]])
    assign(session, project, [people["bob"]], documents[:SHARED])
    assign(session, project, [people["cat"]], documents[:5])
    sentences = {d.id: session.scalars(select(Sentence.id).where(Sentence.document_id == d.id).order_by(Sentence.position)).all()
                 for d in documents}
    assert all(len(ids) == 2 for ids in sentences.values())

    def label(name: str, sentence_id: int, value: str) -> None:
        annotations.set_sentence_label(session, people[name], sentence_id, "claim_type", {"value": value})

    for i, document in enumerate(documents[:SHARED]):
        first, second = sentences[document.id]
        label("ann", first, "event")
        label("ann", second, "opinion")
        label("bob", first, "quantity" if i % 3 in (0, 1) else "event")
        label("bob", second, "rule" if i % 3 == 0 else "opinion")
    for document in documents[:5]:
        label("cat", sentences[document.id][0], "prediction")
    for row in session.scalars(select(Assignment).where(Assignment.user_id == people["cat"].id)).all():
        assignments.withdraw(session, SYSTEM, row.id)
    for document in documents[:3]:
        start = document.text.index("mayor")
        annotations.create_span(session, people["ann"], document.id, {
            "layer": "loaded_language", "label": "LOADED_LANGUAGE", "start": start, "end": start + 5, "text": "mayor"})
    label("ann", sentences[documents[30].id][0], "event")
    label("ann", sentences[documents[31].id][1], "event")
    for document in documents[:10]:
        assignments.mark_done(session, people["ann"], document.id)
    for document in documents[:4]:
        progress.record_activity(session, people["ann"], document.id, {"sentence_id": sentences[document.id][0], "ms": 1500})
    session.rollback()
    return {"app": app, "session": session, "project": project, "documents": documents, "sentences": sentences, **people}


def _ids(documents) -> list[int]:
    return [document.id for document in documents]


# -- what the pages must show, computed the slow way ------------------------------------------------


def _live(session, project_id: int) -> list[Assignment]:
    return session.scalars(select(Assignment).join(Document).where(
        Document.project_id == project_id, Assignment.status.in_(ACTIVE_STATUSES))).all()


def _expected_queue(session, project_id: int) -> list[tuple[int, float | None]]:
    """(document, share of differing sentences) lowest agreement first, from every row: a sentence
    is comparable when two annotators left something on it under live assignments, they differ
    when the sets of what they left differ."""
    live = {(row.user_id, row.document_id) for row in _live(session, project_id)}
    document_of = dict(session.execute(select(Sentence.id, Sentence.document_id).join(Document)
                                       .where(Document.project_id == project_id)).all())
    held: dict[tuple[int, int], set] = {}
    for row in session.scalars(select(SentenceLabel)):
        if (row.user_id, document_of.get(row.sentence_id)) in live and row.value not in (None, []):
            held.setdefault((row.sentence_id, row.user_id), set()).add((row.layer, repr(row.value)))
    for span in session.scalars(select(Span)):
        if (span.user_id, span.document_id) in live:
            held.setdefault((span.sentence_id, span.user_id), set()).add((span.layer, span.label, span.start, span.end))
    by_sentence: dict[int, list] = {}
    for (sentence, _), items in held.items():
        by_sentence.setdefault(sentence, []).append(frozenset(items))
    comparable, differing = Counter(), Counter()
    for sentence, signatures in by_sentence.items():
        if len(signatures) >= 2:
            comparable[document_of[sentence]] += 1
            differing[document_of[sentence]] += len(set(signatures)) > 1
    documents = session.scalars(select(Document.id).where(Document.project_id == project_id)).all()
    shares = [(d, differing[d] / comparable[d] if comparable[d] else None) for d in documents]
    return sorted(shares, key=lambda row: (row[1] is None, -(row[1] or 0.0), row[0]))


def _expected_people(session, project_id: int) -> dict[str, tuple]:
    """Per annotator with a live assignment: (assigned, done, sentences, labelled, spans, active ms)."""
    figures = {}
    sentence_counts = Counter(session.scalars(select(Sentence.document_id)).all())
    for row in _live(session, project_id):
        name = session.get(User, row.user_id).username
        sentence_ids = session.scalars(select(Sentence.id).where(Sentence.document_id == row.document_id)).all()
        labelled = session.scalars(select(SentenceLabel.sentence_id).where(
            SentenceLabel.user_id == row.user_id, SentenceLabel.sentence_id.in_(sentence_ids),
            SentenceLabel.layer == "claim_type", SentenceLabel.value.is_not(None))).all()
        spans = session.scalars(select(Span.id).where(Span.user_id == row.user_id, Span.document_id == row.document_id)).all()
        times = session.scalars(select(SentenceTime.active_ms).where(
            SentenceTime.user_id == row.user_id, SentenceTime.sentence_id.in_(sentence_ids))).all()
        now = (1, row.status == "done", sentence_counts[row.document_id], len(labelled), len(spans), sum(times))
        figures[name] = tuple(a + b for a, b in zip(figures.get(name, (0,) * 6), now))
    return figures


# -- the paging itself -------------------------------------------------------------------------------


def test_page_arithmetic():
    page = Page(items=list(range(50)), number=3, size=100, total=250)
    assert (page.pages, page.first, page.last, page.has_previous, page.has_next) == (3, 201, 250, True, False)
    assert list(page) == list(range(50))
    empty = Page(items=[], number=1, size=100, total=0)
    assert (empty.pages, empty.has_previous, empty.has_next) == (1, False, False)
    for number in (0, -1, ID_MAX + 1):
        with pytest.raises(ServiceError, match="page must be a whole number"):
            cut(select(Document), number, 100)
    pages = {1: Page([1, 2], 1, 2, 5), 2: Page([3, 4], 2, 2, 5), 3: Page([5], 3, 2, 5)}
    assert every_item(pages.__getitem__) == [1, 2, 3, 4, 5]


# -- each listing ---------------------------------------------------------------------------------


def test_home_pages(world):
    session, ann, documents = world["session"], world["ann"], world["documents"]
    pages = [assignments.my_progress(session, ann, number) for number in (1, 2, 3, 4)]
    assert [len(page.items) for page in pages] == [100, 100, 50, 0]
    assert {page.total for page in pages} == {DOCUMENTS} and pages[0].size == assignments.HOME_PAGE_SIZE
    assert [item.assignment.document_id for page in pages for item in page] == [d.id for d in documents]
    figures = {item.assignment.document_id: (item.done, item.total, item.next_position) for item in pages[0]}
    assert figures[documents[0].id] == (2, 2, 0) and figures[documents[29].id] == (2, 2, 0)
    assert figures[documents[30].id] == (1, 2, 1) and figures[documents[31].id] == (1, 2, 0)
    assert figures[documents[32].id] == (0, 2, 0)
    assert sum(item.assignment.status == "done" for item in pages[0]) == 10
    bob = assignments.my_progress(session, world["bob"])
    assert (bob.total, _ids(item.assignment.document for item in bob)) == (SHARED, [d.id for d in documents[:SHARED]])
    assert assignments.my_progress(session, world["cat"]).total == 0  # withdrawn from everything
    with pytest.raises(ServiceError):
        assignments.my_progress(session, ann, 0)


def test_project_documents_pages(world):
    session, sup, project, documents = world["session"], world["sup"], world["project"], world["documents"]
    first, second, past = (projects.project_documents(session, sup, project.id, number) for number in (1, 2, 3))
    assert [len(first.items), len(second.items), len(past.items)] == [200, 50, 0]
    assert first.total == second.total == past.total == DOCUMENTS
    assert [row.id for row in first] + [row.id for row in second] == [d.id for d in documents]
    rows = {row.id: row for row in first}
    assert {row.sentences for row in first} == {2}
    assert [rows[d.id].annotators for d in documents[:SHARED + 1]] == [2] * SHARED + [1]  # cat's were withdrawn


def test_assignment_matrix_pages(world):
    session, sup, project, documents = world["session"], world["sup"], world["project"], world["documents"]
    first, last, past = (assignments.assignment_matrix(session, sup, project.id, number) for number in (1, 3, 4))
    assert _ids(d for d, _ in first.documents) == [d.id for d in documents[:100]]
    assert _ids(d for d, _ in last.documents) == [d.id for d in documents[200:]]
    assert past.documents.items == [] and past.documents.total == DOCUMENTS and past.cells == {}
    assert [user.username for user in first.users] == [user.username for user in past.users] == ["ann", "bob", "cat"]
    held = session.scalars(select(Assignment).where(Assignment.document_id.in_(_ids(documents[:100])))).all()
    assert {key: cell.status for key, cell in first.cells.items()} == {(a.document_id, a.user_id): a.status for a in held}
    assert Counter(cell.status for cell in first.cells.values())["withdrawn"] == 5  # cat's, shown
    assert {document_id for document_id, _ in last.cells} == set(_ids(documents[200:]))
    assert {sentences for _, sentences in first.documents} == {2}


def test_progress_pages(world):
    session, sup, project, documents = world["session"], world["sup"], world["project"], world["documents"]
    first, second, past = (progress.project_progress(session, sup, project.id, number) for number in (1, 2, 3))
    expected = _expected_people(session, project.id)
    for report in (first, second, past):  # the overall figures do not depend on the page
        people = {p.user.username: (p.documents_assigned, p.documents_done, p.sentences_total, p.sentences_labelled,
                                    p.spans, p.active_ms) for p in report.annotators}
        assert people == expected and list(people) == ["ann", "bob"]
        assert (report.documents_assigned, report.documents_complete) == (DOCUMENTS, 0)
        assert (report.assignments, report.assignments_done) == (DOCUMENTS + SHARED, 10)
    assert expected["ann"] == (DOCUMENTS, 10, 2 * DOCUMENTS, 2 * SHARED + 2, 3, 4 * 1500)
    assert [len(first.documents.items), len(second.documents.items), len(past.documents.items)] == [200, 50, 0]
    assert _ids(item.document for item in first.documents) + _ids(item.document for item in second.documents) \
        == [d.id for d in documents]
    by_document = {item.document.id: (item.sentences, item.annotators, item.done) for item in first.documents}
    assert by_document[documents[0].id] == (2, 2, 1) and by_document[documents[10].id] == (2, 2, 0)
    assert by_document[documents[SHARED].id] == (2, 1, 0)
    latest = max(session.scalars(select(Event.created_at).where(Event.user_id == world["ann"].id, Event.action == "done")))
    assert {p.user.username: p.last_activity for p in first.annotators}["ann"] >= latest
    # bob and ann finish the first document together: it is complete.
    assignments.mark_done(session, world["bob"], documents[0].id)
    report = progress.project_progress(session, sup, project.id, 2)
    assert (report.documents_assigned, report.documents_complete) == (DOCUMENTS, 1)


def test_queue_pages(world):
    session, sup, project = world["session"], world["sup"], world["project"]
    pages = [adjudication.queue(session, sup, project.id, number) for number in (1, 2, 3, 4)]
    assert [len(page["documents"].items) for page in pages] == [100, 100, 50, 0]
    rows = [row for page in pages for row in page["documents"]]
    expected = _expected_queue(session, project.id)
    assert [(row["document"], row["disagreement"]) for row in rows] == expected
    shares = [share for _, share in expected]
    assert shares[:10] == [1.0] * 10 and shares[10:SHARED] == [0.5] * 11 + [0.0] * 9 and shares[SHARED] is None
    for page in pages:
        assert page["counts"] == {"not_started": DOCUMENTS, "in_progress": 0, "adjudicated": 0, "total": DOCUMENTS}
    assert {row["annotators"] for row in rows[:SHARED]} == {2} and {row["annotators"] for row in rows[SHARED:]} == {1}
    adjudication.start(session, sup, rows[0]["document"])
    again = adjudication.queue(session, sup, project.id, 3)
    assert again["counts"] == {"not_started": DOCUMENTS - 1, "in_progress": 1, "adjudicated": 0, "total": DOCUMENTS}
    assert adjudication.queue(session, sup, project.id)["documents"].items[0]["status"] == "in_progress"


def test_users_pages(world, monkeypatch, cli):
    session, adm = world["session"], world["adm"]
    monkeypatch.setattr(users, "USERS_PAGE_SIZE", 2)
    pages = [users.list_users(session, adm, number) for number in (1, 2, 3, 4)]
    assert [[user.username for user in page] for page in pages] == [["adm", "ann"], ["bob", "cat"], ["sup"], []]
    assert {page.total for page in pages} == {5} and pages[0].pages == 3
    listed = cli("users", "list")
    assert listed.exit_code == 0 and [line.split()[0] for line in listed.output.splitlines()] == ["adm", "ann", "bob", "cat", "sup"]


# -- the pages' links -------------------------------------------------------------------------------


def _pager(html: str) -> str:
    found = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    return found.group(0) if found else ""


@pytest.mark.parametrize("reader, url, pages", [
    ("ann", "/", 3),
    ("sup", "/projects/{project}", 2),
    ("sup", "/projects/{project}/assignments", 3),
    ("sup", "/projects/{project}/progress", 2),
    ("sup", "/projects/{project}/adjudication", 3),
])
def test_pages_link_to_each_other(world, reader, url, pages):
    client = Client(world["app"], reader)
    url = url.format(project=world["project"].id)
    nav = _pager(client.get(url).get_data(as_text=True))
    assert f"Page 1 of {pages}" in nav and "of 250 documents" in nav and 'rel="prev"' not in nav
    assert re.search(rf'<a href="{re.escape(url)}\?page=2[^"]*" rel="next">', nav), nav
    last = client.get(f"{url}?page={pages}").get_data(as_text=True)
    nav = _pager(last)
    assert f"Page {pages} of {pages}" in nav and 'rel="next"' not in nav
    assert re.search(rf'<a href="{re.escape(url)}\?page={pages - 1}[^"]*" rel="prev">', nav), nav
    past = client.get(f"{url}?page={pages + 5}")
    text = past.get_data(as_text=True)
    assert past.status_code == 200 and f"Page {pages + 5} is past the end" in text and _pager(text) == ""
    assert f'href="{url}?page={pages}' in text  # back to the last page
    for wrong in ("0", "-1", "x", str(2**40)):
        response = client.get(f"{url}?page={wrong}")
        assert response.status_code == 400 and "page" in response.get_data(as_text=True), (url, wrong)


def test_forms_come_back_to_their_page(world):
    sup, ann = Client(world["app"], "sup"), Client(world["app"], "ann")
    project, documents = world["project"], world["documents"]
    matrix = sup.get(f"/projects/{project.id}/assignments?page=3").get_data(as_text=True)
    assert matrix.count('<input type="hidden" name="page" value="3">') >= 50
    held = world["session"].scalar(select(Assignment.id).where(
        Assignment.user_id == world["ann"].id, Assignment.document_id == documents[-1].id))
    response = sup.post(f"/assignments/{held}/withdraw", {"page": "3"})
    assert response.headers["Location"].endswith(f"/projects/{project.id}/assignments?page=3")
    home = ann.get("/?page=2").get_data(as_text=True)
    assert '<input type="hidden" name="page" value="2">' in home
    response = ann.post(f"/documents/{documents[150].id}/done", {"page": "2"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/?page=2")
    assert ann.post(f"/documents/{documents[151].id}/done", {"page": "x"}).status_code == 400
    world["session"].rollback()
    assert world["session"].scalar(select(Assignment.status).where(
        Assignment.user_id == world["ann"].id, Assignment.document_id == documents[151].id)) == "assigned"


def test_users_page_links(world, monkeypatch):
    monkeypatch.setattr(users, "USERS_PAGE_SIZE", 2)
    admin = Client(world["app"], "adm")
    nav = _pager(admin.get("/users?page=2").get_data(as_text=True))
    assert "Page 2 of 3 · 3–4 of 5 accounts" in nav
    assert 'href="/users?page=1#accounts" rel="prev"' in nav and 'href="/users?page=3#accounts" rel="next"' in nav
    page = admin.get("/users?page=2").get_data(as_text=True)
    assert 'id="role-{}"'.format(world["bob"].id) in page and 'id="role-{}"'.format(world["adm"].id) not in page
    response = admin.post(f"/users/{world['bob'].id}/deactivate", {"page": "2"})
    assert response.headers["Location"].endswith("/users?page=2")
