"""Suggestions stored and evaluated (issue 19): annotator.suggest.evaluate's figures, computed by
hand; services.suggestions' run (stores, replaces) and evaluate (against gold and an annotator),
who may run them; `annotator suggest run` and `evaluate`. A fake suggester stands in for the
real ones, so the figures below follow from the articles alone."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import re

import pytest
from sqlalchemy import delete, select

from annotator import suggest
from annotator.errors import Forbidden, NotFound, ServiceError
from annotator.ingest import Article
from annotator.ingest.text import segment
from annotator.models import Document, Event, StoredSuggestion
from annotator.services import adjudication, annotations, assignments, suggestions
from annotator.services.permissions import SYSTEM
from annotator.suggest.evaluate import NO_REFERENCE_SPANS, NO_SUGGESTIONS, evaluate

from .helpers import add_users, assign, project_with, span_payload

# -- the pure figures ------------------------------------------------------------------------------


def _values(scores) -> tuple:
    return scores.precision.value, scores.recall.value, scores.f1.value


def test_exact_and_overlap_figures_by_hand():
    suggested = [
        (0, "attribution", "CUE", 10, 14),  # = a reference span
        (0, "attribution", "CUE", 20, 32),  # overlaps the reference 20..29, not equal
        (0, "attribution", "CUE", 40, 44),  # nothing there
        (0, "attribution", "CUE", 40, 44),  # the same again: counted once
        (1, "attribution", "CUE", 10, 14),  # another document: the reference 10..14 is document 0's
        (0, "attribution", "SOURCE", 0, 9),
    ]
    reference = [
        (0, "attribution", "CUE", 10, 14),
        (0, "attribution", "CUE", 20, 29),
        (0, "attribution", "CUE", 50, 54),  # missed
        (1, "attribution", "CUE", 30, 34),  # missed
        (0, "attribution", "SOURCE", 5, 12),  # overlaps the SOURCE suggestion, and a CUE (another label)
        (0, "attribution", "CONTENT", 60, 70),  # a label never suggested
    ]
    result = evaluate(suggested, reference, documents=2, scored=[("attribution", "CUE"), ("attribution", "SOURCE")])
    rows = {row.label: row for row in result.per_label}
    assert list(rows) == ["CONTENT", "CUE", "SOURCE"]
    cue = rows["CUE"]
    assert (cue.suggested, cue.reference, cue.exact_matches, cue.overlap_correct, cue.overlap_found) == (4, 4, 1, 2, 2)
    assert _values(cue.exact) == pytest.approx((1 / 4, 1 / 4, 1 / 4))
    assert _values(cue.overlap) == pytest.approx((2 / 4, 2 / 4, 2 / 4))
    source = rows["SOURCE"]
    assert _values(source.exact) == pytest.approx((0.0, 0.0, 0.0))
    assert _values(source.overlap) == pytest.approx((1.0, 1.0, 1.0))
    content = rows["CONTENT"]
    assert content.exact.precision.value is None and content.exact.precision.undefined == NO_SUGGESTIONS
    assert (content.exact.recall.value, content.exact.f1.value) == (0.0, 0.0)
    # Overall: CUE and SOURCE only (CONTENT was never suggested): 5 suggestions, 5 reference spans.
    overall = result.overall
    assert (overall.suggested, overall.reference, overall.exact_matches) == (5, 5, 1)
    assert _values(overall.exact) == pytest.approx((1 / 5, 1 / 5, 1 / 5))
    assert _values(overall.overlap) == pytest.approx((3 / 5, 3 / 5, 3 / 5))


def test_one_long_suggestion_finds_two_references_and_fragments_count_without_their_gaps():
    suggested = [(0, "l", "X", 0, 20), (0, "l", "Y", 8, 12)]
    reference = [(0, "l", "X", 2, 5, None), (0, "l", "X", 10, 15), (0, "l", "Y", 5, 15, [[5, 7], [13, 15]])]
    rows = {row.label: row for row in evaluate(suggested, reference, documents=1).per_label}
    assert (rows["X"].overlap_correct, rows["X"].overlap_found) == (1, 2)
    assert _values(rows["X"].overlap) == pytest.approx((1.0, 1.0, 1.0))
    assert _values(rows["X"].exact) == pytest.approx((0.0, 0.0, 0.0))
    # The Y suggestion lies in the discontinuous reference's gap: no overlap.
    assert _values(rows["Y"].overlap) == pytest.approx((0.0, 0.0, 0.0))


def test_nothing_to_count_is_undefined_never_zero():
    result = evaluate([], [], documents=3)
    assert result.per_label == []
    for figure in _values(result.overall.exact):
        assert figure is None
    assert result.overall.exact.precision.undefined == NO_SUGGESTIONS
    assert result.overall.exact.recall.undefined == NO_REFERENCE_SPANS
    assert result.overall.overlap.f1.undefined == f"{NO_SUGGESTIONS} and {NO_REFERENCE_SPANS}"
    only_suggestions = evaluate([(0, "l", "X", 0, 3)], [], documents=1).overall
    assert only_suggestions.exact.recall.undefined == NO_REFERENCE_SPANS
    assert (only_suggestions.exact.precision.value, only_suggestions.exact.f1.value) == (0.0, 0.0)
    with pytest.raises(ValueError, match="empty or reversed"):
        evaluate([(0, "l", "X", 3, 3)], [], documents=1)


# -- a fake suggester and a small project ----------------------------------------------------------

BUDGET = "The minister said the budget would pass. According to officials, talks continue. " \
         "She told reporters that nothing was decided."
CRITICS = "Critics said the plan was late. The report said little."


class FakeCues:
    """CUE on "said" and "According to", SOURCE on "officials" and (twice, scored .5 and .8)
    "Critics", and a label no codebook has on "late"."""

    name = "fake-cues"
    version = "1"
    cues = ("said", "According to")

    def suggest(self, text, sentences, language):
        found = []
        for start, end in sentences:
            sentence = text[start:end]
            for pattern, layer, label, score in (
                ("|".join(self.cues), "attribution", "CUE", 0.9), ("officials|Critics", "attribution", "SOURCE", 0.5),
                ("Critics", "attribution", "SOURCE", 0.8), ("late", "sentiment", "NEGATIVE", 0.7),
            ):
                for match in re.finditer(rf"\b(?:{pattern})\b", sentence):
                    found.append(suggest.Suggestion(layer=layer, label=label, start=start + match.start(),
                                                    end=start + match.end(), score=score, suggester=self.name,
                                                    version=self.version, group=f"g{start}", role=label.lower()))
        return sorted(found, key=lambda s: s.start)


@pytest.fixture
def fake_cues(monkeypatch):
    """The fake as the only suggester there is (the default of run and evaluate: every one)."""
    monkeypatch.setattr(suggest, "SUGGESTERS", {FakeCues.name: FakeCues})
    return FakeCues


@pytest.fixture
def news(session, fake_cues):
    """Project "news" with the two articles; a member supervisor, an annotator and a supervisor
    of no project."""
    project = project_with(session, [Article(title=title, text=text, sentences=segment(text))
                                     for title, text in (("Budget", BUDGET), ("Critics", CRITICS))], name="news")
    people = add_users(session, {"sup": "supervisor", "ann": "annotator"})
    people |= add_users(session, {"outsider": "supervisor"}, member=False)
    budget, critics = session.scalars(select(Document).where(Document.project_id == project.id)
                                      .order_by(Document.id)).all()
    return {"project": project, "budget": budget, "critics": critics, **people}


def _stored(session, version: str = "1") -> list[tuple]:
    session.rollback()
    return [(row.document_id, row.label, row.start, row.end, row.score) for row in session.scalars(
        select(StoredSuggestion).where(StoredSuggestion.version == version)
        .order_by(StoredSuggestion.document_id, StoredSuggestion.start, StoredSuggestion.label))]


def _at(document: Document, phrase: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = document.text.index(phrase, start + 1)
    return start, start + len(phrase)


def test_run_stores_each_distinct_suggestion_of_the_codebook(session, news):
    budget, critics = news["budget"], news["critics"]
    result = suggestions.run(session, news["sup"], news["project"].id)
    assert result["suggesters"] == [{"suggester": "fake-cues", "version": "1", "documents": 2, "suggestions": 6,
                                     "replaced": 0, "outside_codebook": 1}]
    assert _stored(session) == [
        (budget.id, "CUE", *_at(budget, "said"), 0.9),
        (budget.id, "CUE", *_at(budget, "According to"), 0.9),
        (budget.id, "SOURCE", *_at(budget, "officials"), 0.5),
        (critics.id, "SOURCE", *_at(critics, "Critics"), 0.8),  # the higher scored of the two
        (critics.id, "CUE", *_at(critics, "said"), 0.9),
        (critics.id, "CUE", *_at(critics, "said", 1), 0.9),
    ]
    row = session.scalar(select(StoredSuggestion).where(StoredSuggestion.label == "SOURCE",
                                                        StoredSuggestion.document_id == budget.id))
    assert (row.suggester, row.layer, row.group, row.role, row.attributes) == \
        ("fake-cues", "attribution", f"g{_at(budget, 'According')[0]}", "source", {})
    events = session.scalars(select(Event).where(Event.action == "suggest").order_by(Event.entity_id)).all()
    assert [(e.user_id, e.entity_type, e.entity_id, e.before["suggestions"], e.after["suggestions"]) for e in events] \
        == [(news["sup"].id, "documents", budget.id, 0, 3), (news["sup"].id, "documents", critics.id, 0, 3)]


def test_a_rerun_replaces_the_same_version_only_on_its_documents(session, news, monkeypatch):
    budget, critics = news["budget"], news["critics"]
    suggestions.run(session, SYSTEM, news["project"].id)
    monkeypatch.setattr(FakeCues, "cues", ("said",))
    result = suggestions.run(session, SYSTEM, news["project"].id, suggesters=["fake-cues"])
    assert (result["suggesters"][0]["suggestions"], result["suggesters"][0]["replaced"]) == (5, 6)
    assert [(d, label) for d, label, *_ in _stored(session)] == [
        (budget.id, "CUE"), (budget.id, "SOURCE"), (critics.id, "SOURCE"), (critics.id, "CUE"), (critics.id, "CUE")]
    changes = session.execute(select(Event.entity_id, Event.before, Event.after).where(Event.action == "suggest")
                              .order_by(Event.id)).all()
    assert [(d, before["suggestions"], after["suggestions"]) for d, before, after in changes[2:]] == \
        [(budget.id, 3, 2), (critics.id, 3, 3)]
    # A new version on one document leaves version 1's rows everywhere.
    monkeypatch.setattr(FakeCues, "version", "2")
    result = suggestions.run(session, SYSTEM, news["project"].id, documents=[critics.id])
    assert result["suggesters"][0] | {"documents": 1, "suggestions": 3, "replaced": 0} == result["suggesters"][0]
    assert len(_stored(session)) == 5
    assert {d for d, *_ in _stored(session, "2")} == {critics.id}


def test_run_refuses_what_is_not_there(session, news):
    project = news["project"]
    with pytest.raises(NotFound, match="no suggester is named 'nope'"):
        suggestions.run(session, SYSTEM, project.id, suggesters=["nope"])
    with pytest.raises(NotFound, match="no document 999999 in project 'news'"):
        suggestions.run(session, SYSTEM, project.id, documents=[news["budget"].id, 999_999])
    assert _stored(session) == []


def test_only_supervisors_of_the_project_and_admins(session, news):
    project = news["project"]
    for call in (lambda actor: suggestions.run(session, actor, project.id),
                 lambda actor: suggestions.evaluate(session, actor, project.id)):
        with pytest.raises(NotFound, match="no project"):
            call(news["outsider"])
        with pytest.raises(Forbidden):
            call(news["ann"])
    assert _stored(session) == []


def _gold(session, news) -> None:
    """The gold standard of both articles (adjudicated): see the figures below."""
    budget, critics = news["budget"], news["critics"]
    for document, spans in (
        (budget, [("said", "CUE"), ("According", "CUE"), ("told", "CUE"), ("The minister", "SOURCE"),
                  ("officials", "SOURCE")]),
        (critics, [("said", "CUE"), ("Critics", "SOURCE"), ("the plan was late", "CONTENT")]),
    ):
        adjudication.start(session, SYSTEM, document.id)
        for phrase, label in spans:
            adjudication.create_gold_span(session, SYSTEM, document.id,
                                          span_payload(document, phrase, "attribution", label))
        adjudication.finish(session, SYSTEM, document.id)


def _figures(row: dict) -> tuple:
    return tuple(row[matching][name]["value"] for matching in ("exact", "overlap") for name in ("precision", "recall", "f1"))


def test_evaluate_against_gold(session, news):
    suggestions.run(session, SYSTEM, news["project"].id)
    _gold(session, news)
    result = suggestions.evaluate(session, news["sup"], news["project"].id, against="gold")
    assert (result["against"], result["documents"]) == ("gold", 2)
    (entry,) = result["suggesters"]
    assert (entry["suggester"], entry["version"], entry["documents_with_suggestions"]) == ("fake-cues", "1", 2)
    rows = {row["label"]: row for row in entry["labels"]}
    # CUE: suggested said, According to, said, said; gold said, According, told, said.
    assert (rows["CUE"]["suggested"], rows["CUE"]["reference"]) == (4, 4)
    assert _figures(rows["CUE"]) == pytest.approx((0.5, 0.5, 0.5, 0.75, 0.75, 0.75))
    # SOURCE: suggested officials, Critics; gold The minister, officials, Critics.
    assert _figures(rows["SOURCE"]) == pytest.approx((1.0, 2 / 3, 0.8, 1.0, 2 / 3, 0.8))
    # CONTENT: never suggested: precision undefined (not 0); left out of the overall figures.
    assert rows["CONTENT"]["exact"]["precision"] == {"value": None, "undefined": NO_SUGGESTIONS}
    overall = entry["overall"]
    assert overall["labels"] == [["attribution", "CUE"], ["attribution", "SOURCE"]]
    assert (overall["suggested"], overall["reference"]) == (6, 7)
    assert _figures(overall) == pytest.approx((4 / 6, 4 / 7, 16 / 26, 5 / 6, 5 / 7, 50 / 65))


def test_evaluate_against_an_annotator_counts_their_done_documents(session, news):
    budget, critics, ann = news["budget"], news["critics"], news["ann"]
    suggestions.run(session, SYSTEM, news["project"].id)
    assign(session, news["project"], [ann])
    for phrase, label in (("said", "CUE"), ("told", "CUE"), ("officials", "SOURCE")):
        annotations.create_span(session, ann, budget.id, span_payload(budget, phrase, "attribution", label))
    annotations.create_span(session, ann, critics.id, span_payload(critics, "little", "attribution", "CUE"))
    assignments.mark_done(session, ann, budget.id)  # critics stays unfinished: not counted
    result = suggestions.evaluate(session, SYSTEM, news["project"].id, against="ann")
    (entry,) = result["suggesters"]
    assert (result["documents"], entry["documents_with_suggestions"]) == (1, 1)
    rows = {row["label"]: row for row in entry["labels"]}
    assert _figures(rows["CUE"]) == pytest.approx((0.5, 0.5, 0.5, 0.5, 0.5, 0.5))
    assert _figures(rows["SOURCE"]) == pytest.approx((1.0, 1.0, 1.0, 1.0, 1.0, 1.0))
    assert _figures(entry["overall"]) == pytest.approx((2 / 3,) * 6)
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        suggestions.evaluate(session, SYSTEM, news["project"].id, against="nobody")


def test_evaluate_without_gold_is_undefined(session, news):
    suggestions.run(session, SYSTEM, news["project"].id)
    (entry,) = suggestions.evaluate(session, SYSTEM, news["project"].id)["suggesters"]
    assert (entry["documents_with_suggestions"], entry["labels"]) == (0, [])
    assert entry["overall"]["exact"]["f1"]["value"] is None


def test_the_registered_suggesters_run_and_store_their_spans(session):
    """The real suggesters (annotator.suggest's registry) through the service: every one runs by
    default, and the rows keep what they proposed, offsets exact."""
    project = project_with(session, [Article(title="Budget", text=BUDGET, sentences=segment(BUDGET))], name="real")
    result = suggestions.run(session, SYSTEM, project.id)
    assert [row["suggester"] for row in result["suggesters"]] == suggest.names()
    rows = session.scalars(select(StoredSuggestion).where(StoredSuggestion.suggester == "rules-attribution")).all()
    assert {(row.label, BUDGET[row.start:row.end]) for row in rows} >= {("CUE", "said"), ("CUE", "told")}
    assert len({row.group for row in rows if BUDGET[row.start:row.end] == "said"}) == 1


def test_a_suggester_named_twice_runs_once(session, news):
    result = suggestions.run(session, SYSTEM, news["project"].id, suggesters=["fake-cues", "fake-cues"])
    assert [(row["suggester"], row["suggestions"]) for row in result["suggesters"]] == [("fake-cues", 6)]
    assert len(_stored(session)) == 6


class WorkerCues(FakeCues):
    """FakeCues that writes into each suggestion the process that made it."""

    def suggest(self, text, sentences, language):
        found = super().suggest(text, sentences, language)
        return [dataclasses.replace(s, attributes={"pid": os.getpid()}) for s in found]


def _in_workers(monkeypatch, batch: int) -> None:
    """Make run compute in worker processes (two, whatever the machine), ``batch`` documents to
    a transaction and one to a task."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(suggestions, "PARALLEL_FROM", 1)
    monkeypatch.setattr(suggestions, "PIECE", 1)
    monkeypatch.setattr(suggestions, "BATCH", batch)


def _rows(session) -> list[tuple]:
    session.rollback()
    return [(row.document_id, row.layer, row.label, row.start, row.end, row.score, row.group, row.role)
            for row in session.scalars(select(StoredSuggestion).order_by(StoredSuggestion.id))]


def _suggest_events(session) -> list[tuple]:
    return [(e.entity_id, e.before, e.after) for e in session.scalars(
        select(Event).where(Event.action == "suggest").order_by(Event.id))]


def test_worker_processes_compute_what_the_run_stores_alone(session, news, monkeypatch):
    """Run twice (storing, then replacing) in this process, then twice in workers: the same
    rows in the same order (so the same ids follow), the same counts and audit events; and
    the workers did compute them."""
    monkeypatch.setitem(suggest.SUGGESTERS, FakeCues.name, WorkerCues)
    project = news["project"].id
    alone = [suggestions.run(session, SYSTEM, project) for _ in range(2)]
    rows, events = _rows(session), _suggest_events(session)
    assert {row.attributes["pid"] for row in session.scalars(select(StoredSuggestion))} == {os.getpid()}
    session.execute(delete(StoredSuggestion))
    session.commit()
    _in_workers(monkeypatch, batch=1)
    assert [suggestions.run(session, SYSTEM, project) for _ in range(2)] == alone
    assert _rows(session) == rows and len(rows) == 6
    assert _suggest_events(session)[len(events):] == events
    assert os.getpid() not in {row.attributes["pid"] for row in session.scalars(select(StoredSuggestion))}
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("in_workers", [False, True], ids=["alone", "in workers"])
def test_an_interrupted_run_keeps_the_batches_it_stored(session, news, monkeypatch, in_workers):
    """Ctrl-C (KeyboardInterrupt) after the first batch of one document: that document's
    suggestions and event stay, the other's never come, and no worker is left running."""
    if in_workers:
        _in_workers(monkeypatch, batch=1)
    else:
        monkeypatch.setattr(suggestions, "BATCH", 1)

    def interrupt(documents):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        suggestions.run(session, SYSTEM, news["project"].id, progress=interrupt)
    assert {document_id for document_id, *_ in _stored(session)} == {news["budget"].id}
    assert [entity_id for entity_id, *_ in _suggest_events(session)] == [news["budget"].id]
    assert multiprocessing.active_children() == []


def test_a_suggester_past_the_end_of_a_document_is_refused_from_a_worker(session, news, monkeypatch):
    monkeypatch.setattr(FakeCues, "suggest", lambda self, text, sentences, language: [suggest.Suggestion(
        layer="attribution", label="CUE", start=0, end=len(text) + 1, score=1.0, suggester=self.name, version="1")])
    _in_workers(monkeypatch, batch=2)
    with pytest.raises(ServiceError, match="past the end of document") as caught:
        suggestions.run(session, SYSTEM, news["project"].id)
    assert caught.value.field == "suggester"
    assert _stored(session) == []


# -- the command line ------------------------------------------------------------------------------


def test_suggest_commands(cli, session, news):
    result = cli("suggest", "run", "--project", "news", "--suggester", "fake-cues")
    assert result.exit_code == 0, result.output
    assert "fake-cues 1: 6 suggestion(s) on 2 document(s), replacing 0; 1 left out, of layers or labels the " \
           "codebook lacks." in result.output
    result = cli("suggest", "run", "--project", "news", "--documents", str(news["critics"].id))
    assert "fake-cues 1: 3 suggestion(s) on 1 document(s), replacing 3" in result.output
    _gold(session, news)

    result = cli("suggest", "evaluate", "--project", "news")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "fake-cues 1 against the gold standard: 2 document(s), suggestions stored on 2."
    table = {" ".join(line.split()[:2]): line.split()[2:] for line in lines[2:6]}
    assert table == {
        "attribution CONTENT": ["0", "1", "—", "0.000", "0.000", "—", "0.000", "0.000"],
        "attribution CUE": ["4", "4", "0.500", "0.500", "0.500", "0.750", "0.750", "0.750"],
        "attribution SOURCE": ["2", "3", "1.000", "0.667", "0.800", "1.000", "0.667", "0.800"],
        "overall (CUE,": ["SOURCE)", "6", "7", "0.667", "0.571", "0.615", "0.833", "0.714", "0.769"],
    }

    result = cli("suggest", "evaluate", "--project", "news", "--suggester", "fake-cues", "--format", "json")
    body = json.loads(result.output)
    assert body["suggesters"][0]["overall"]["overlap"]["f1"]["value"] == pytest.approx(50 / 65)

    result = cli("suggest", "evaluate", "--project", "news", "--against", "nobody")
    assert result.exit_code == 1 and "no user named 'nobody'" in result.output
    result = cli("suggest", "run", "--project", "news", "--suggester", "nope")
    assert result.exit_code == 1 and "no suggester is named 'nope'" in result.output
