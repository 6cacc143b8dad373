"""Bulk work on SQLite and PostgreSQL: importing thousands of articles a batch at a time,
assigning thousands of documents, importing annotations across batches; every row and every
audit event counted in the database."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.ingest import build_article
from annotator.models import (
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Event,
    Sentence,
    SentenceLabel,
    Span,
)
from annotator.services import assignments, imports, projects
from annotator.services.imports import ImportRejected, import_annotations
from annotator.services.permissions import SYSTEM

from .helpers import add_users, project_with


def _articles(count: int, *, seed: int = 14, prefix: str = "Story") -> list:
    """``count`` distinct short articles of 2 or 3 sentences."""
    rng = random.Random(seed)
    return [
        build_article(f"{prefix} {number}", [" ".join(
            f"The council said {prefix.lower()} {number} had item {sentence} on its agenda." for sentence in range(rng.choice((2, 3)))
        )], source=f"{prefix.lower()}-{number}.txt")
        for number in range(count)
    ]


def _count(session, model, *where) -> int:
    session.rollback()  # a fresh snapshot
    return session.scalar(select(func.count()).select_from(model).where(*where))


# -- articles ------------------------------------------------------------------------------------


def test_a_large_import_stores_each_document_once_with_its_sentences_and_event(session):
    project = projects.get_or_create_project(session, SYSTEM, "bulk")
    articles = _articles(2_500)
    present = articles[1_234:1_284]  # already in the project: 50, in the third batch
    imports.import_articles(session, SYSTEM, project.id, present)
    events_before = _count(session, Event, Event.action == "import")
    rng = random.Random(3)
    repeats = [articles[rng.randrange(2_500)] for _ in range(120)]  # repeated later in the input
    given = articles + repeats
    progressed = []

    summary = imports.import_articles(session, SYSTEM, project.id, given, on_progress=progressed.append)

    new = [article for article in articles if article not in present]
    assert progressed == given
    assert summary.skipped == present + repeats
    assert len(summary.imported) == len(set(summary.imported)) == len(new)
    assert summary.sentences == sum(len(article.sentences) for article in new)
    assert _count(session, Document) == 2_500
    assert _count(session, Sentence) == sum(len(article.sentences) for article in articles)
    stored = {document.content_hash: document for document in session.scalars(select(Document))}
    assert [stored[article.content_hash].id for article in new] == summary.imported
    assert summary.imported == sorted(summary.imported)  # ids in the input's order: the pages' order
    for article in new[:: 97]:
        document = stored[article.content_hash]
        assert (document.title, document.text) == (article.title, article.text)
        assert [(s.position, s.start, s.end) for s in document.sentences] == [
            (position, start, end) for position, (start, end) in enumerate(article.sentences)]
    events = session.scalars(select(Event).where(Event.action == "import").order_by(Event.id)).all()
    assert len(events) == events_before + len(new)
    assert [(event.entity_type, event.entity_id) for event in events[events_before:]] == [
        ("documents", document_id) for document_id in summary.imported]
    assert events[events_before].after == {"title": new[0].title, "content_hash": new[0].content_hash,
                                           "sentences": len(new[0].sentences), "source": new[0].source}


def test_content_another_importer_is_storing_meanwhile_is_skipped(session, engine):
    """Another importer's transaction, still open, holds a document this import also has: the
    import waits for it (SQLite: for the write lock; PostgreSQL: on the unique key), then skips
    that document and stores the others."""
    project = projects.get_or_create_project(session, SYSTEM, "race")
    articles = _articles(30, prefix="Race")
    with engine.connect() as other:
        transaction = other.execution_options(sqlite_begin="IMMEDIATE").begin()
        imports._insert_articles(Session(bind=other), SYSTEM, project.id, [articles[7]])
        outcome = []
        importer = threading.Thread(target=lambda: outcome.append(
            imports.import_articles(session, SYSTEM, project.id, articles)))
        importer.start()
        importer.join(1.0)
        assert importer.is_alive()  # waiting for the other transaction
        transaction.commit()
    importer.join(30)

    (summary,) = outcome
    assert summary.skipped == [articles[7]] and len(summary.imported) == 29
    assert _count(session, Document) == 30
    assert _count(session, Event, Event.action == "import") == 30
    assert _count(session, Sentence) == sum(len(article.sentences) for article in articles)


# -- assignments ---------------------------------------------------------------------------------


def test_assigning_many_documents_gives_each_once_restores_withdrawn_and_leaves_the_rest(session):
    people = add_users(session, {"ann": "annotator", "bob": "annotator"})
    project = project_with(session, _articles(1_200, prefix="Assign"), "many")
    ids = session.scalars(select(Document.id).where(Document.project_id == project.id).order_by(Document.id)).all()
    withdrawn, done = assignments.assign(session, SYSTEM, project.id, [people["ann"].id], ids[:2])
    assignments.withdraw(session, SYSTEM, withdrawn.id)
    assignments.mark_done(session, people["ann"], ids[1])
    before = _count(session, Event, Event.entity_type == "assignments")

    given = assignments.assign(session, SYSTEM, project.id, [people["ann"].id, people["bob"].id])

    assert [(a.user_id, a.document_id) for a in given] == (
        [(people["ann"].id, document_id) for document_id in ids if document_id != ids[1]]
        + [(people["bob"].id, document_id) for document_id in ids])
    assert given[0].id == withdrawn.id  # restored, with whatever was annotated under it
    assert _count(session, Assignment) == 2 * 1_200
    assert _count(session, Assignment, Assignment.status == "assigned") == 2 * 1_200 - 1
    assert session.scalar(select(Assignment.status).where(Assignment.id == done.id)) == "done"
    events = session.scalars(select(Event).where(Event.entity_type == "assignments").order_by(Event.id)).all()[before:]
    assert [(event.action, event.entity_id) for event in events] == [("assign", a.id) for a in given]
    usernames = {people["ann"].id: "ann", people["bob"].id: "bob"}
    assert [event.after for event in events] == [
        {"user": usernames[a.user_id], "document_id": a.document_id, "status": "assigned"} for a in given]
    assert assignments.assign(session, SYSTEM, project.id, [people["ann"].id, people["bob"].id]) == []
    assert _count(session, Event, Event.entity_type == "assignments") == before + len(given)
    loads = assignments.loads_of(session, SYSTEM, project.id, [people["ann"].id, people["bob"].id])
    assert [(load.user.username, load.documents) for load in loads] == [("ann", 1_200), ("bob", 1_200)]


def test_auto_assign_of_many_documents_writes_one_event_each(session):
    people = add_users(session, {"a0": "annotator", "a1": "annotator", "a2": "annotator"})
    project = project_with(session, _articles(900, prefix="Auto"), "auto")
    result = assignments.auto_assign(session, SYSTEM, project.id, 2, seed=9, calibration=3)
    assert len(result.created) == 3 * 3 + 2 * 897 and len({(a.user_id, a.document_id) for a in result.created}) == len(result.created)
    assert _count(session, Assignment) == len(result.created)
    events = session.scalars(select(Event).where(Event.entity_type == "assignments").order_by(Event.id)).all()
    calibration = {document.id for document in result.calibration}
    assert [event.entity_id for event in events] == [a.id for a in result.created]
    assert all(event.after["status"] == "assigned" and event.after["user"] in people
               and event.after["auto"] == {"seed": 9, "per_document": 2, "calibration": event.after["document_id"] in calibration}
               for event in events)
    assert sum(load.new_documents for load in result.loads) == len(result.created)


# -- annotations from files ----------------------------------------------------------------------


def _record(document: Document, sentences: list[Sentence], annotator: str, **entry) -> dict:
    """A record of this project's shape: the document and one annotator's work on it (a SOURCE and
    a CUE in each sentence, an attribution linking them, a claim type)."""
    spans, attributions, labels = [], [], []
    for sentence in sentences:
        words = document.text[sentence.start:sentence.end].split(" ")
        source_end = sentence.start + len(words[0])
        cue_start = source_end + 1
        spans += [{"id": f"s{sentence.position}", "layer": "attribution", "label": "SOURCE",
                   "start": sentence.start, "end": source_end, "text": words[0]},
                  {"id": f"c{sentence.position}", "layer": "attribution", "label": "CUE",
                   "start": cue_start, "end": cue_start + len(words[1]), "text": words[1]}]
        attributions.append({"parts": [{"role": "source", "span_id": f"s{sentence.position}"},
                                       {"role": "cue", "span_id": f"c{sentence.position}"}]})
        labels.append({"sentence_id": sentence.position, "layer": "claim_type", "value": "event"})
    return {"document": {"text": document.text, "sentences": [
                {"id": s.position, "position": s.position, "start": s.start, "end": s.end} for s in sentences]},
            "annotations": [{"annotator": annotator, "spans": spans, "attributions": attributions,
                             "sentence_labels": labels} | entry]}


@pytest.fixture
def annotated(session):
    project = project_with(session, _articles(620, prefix="Annotated"), "annotated")
    documents = session.scalars(select(Document).where(Document.project_id == project.id).order_by(Document.id)).all()
    return project, [(document, list(document.sentences)) for document in documents]


def test_importing_annotations_across_batches_writes_every_row_and_event(session, annotated):
    """620 document-annotator entries, checked then written together; then the same again
    with replace, which deletes them first."""
    project, documents = annotated
    records = [_record(document, sentences, "maria") for document, sentences in documents]
    sentences = sum(len(sentences) for _, sentences in documents)

    summary = import_annotations(session, SYSTEM, project.id, records, source="big.jsonl")

    assert (summary.entries, summary.documents_matched, summary.assignments_created) == (620, 620, 620)
    assert (summary.spans, summary.attributions, summary.sentence_labels) == (2 * sentences, sentences, sentences)
    counts = {model.__tablename__: _count(session, model)
              for model in (Span, Attribution, AttributionPart, SentenceLabel, Assignment)}
    assert counts == {"spans": 2 * sentences, "attributions": sentences, "attribution_parts": 2 * sentences,
                      "sentence_labels": sentences, "assignments": 620}
    wrong = session.execute(
        select(func.count()).select_from(AttributionPart)
        .join(Span, Span.id == AttributionPart.span_id).join(Attribution, Attribution.id == AttributionPart.attribution_id)
        .where((Span.document_id != Attribution.document_id) | (Span.label != func.upper(AttributionPart.role)))
    ).scalar()
    assert wrong == 0  # every part names its own attribution's SOURCE or CUE
    events = session.scalars(select(Event).where(Event.action == "import_annotations").order_by(Event.id)).all()
    assignment_of = dict(session.execute(select(Assignment.document_id, Assignment.id)).all())
    assert [event.entity_id for event in events] == [assignment_of[document.id] for document, _ in documents]
    document, first = documents[0]
    assert events[0].after == {"document_id": document.id, "annotator": "maria", "source": "big.jsonl",
                               "spans": 2 * len(first), "attributions": len(first), "sentence_labels": len(first),
                               "replaced": None}

    again = import_annotations(session, SYSTEM, project.id, records, source="again.jsonl", replace=True)
    assert (again.replaced, again.spans, again.assignments_created) == (620, 2 * sentences, 0)
    assert {model.__tablename__: _count(session, model)
            for model in (Span, Attribution, AttributionPart, SentenceLabel, Assignment)} == counts


def test_problems_are_reported_in_the_order_of_the_records(session, annotated):
    """Every record is checked, its attributions in memory against its spans, before anything
    of theirs is written: the problems come in the records' order, and nothing is written."""
    project, documents = annotated
    records = [_record(document, sentences, "maria") for document, sentences in documents[:5]]
    records[1]["annotations"][0]["attributions"][0]["parts"][0]["span_id"] = "nowhere"
    records[1]["annotations"][0]["sentence_labels"][0]["layer"] = "mood"
    records[2]["annotations"][0]["attributions"][0]["relation"] = "cause"  # checked after record 4's spans
    records[3]["annotations"][0]["spans"][0]["text"] = "wrong"

    with pytest.raises(ImportRejected) as rejected:
        import_annotations(session, SYSTEM, project.id, records, source="api")

    assert [problem.reason for problem in rejected.value.problems] == [
        "record 2: annotator 'maria': attributions[0]: parts[0] refers to no span of this annotator's spans",
        "record 2: annotator 'maria': sentence_labels[0]: 'mood' is not a sentence layer of this codebook",
        "record 3: annotator 'maria': attributions[0]: 'cause' is not a relation of this codebook",
        "record 4: annotator 'maria': spans[0]: text does not match the document at start:end",
    ]
    assert _count(session, Span) == _count(session, Assignment) == 0
