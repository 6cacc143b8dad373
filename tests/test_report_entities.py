"""The agreement report's section on source entities (annotator/report/entities.py): annotators'
links of SOURCE spans to the project's entities, scored by annotator.agreement.coreference, in
the JSON, on the page and in the downloads; the empty state; the report's filters; on SQLite and
PostgreSQL. The world is made through the services, as annotators and supervisors make it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from annotator import report
from annotator.agreement import coreference_scores
from annotator.ingest import build_article
from annotator.models import Document
from annotator.report.entities import ENTITY_REPLICATES, NO_LINKED_SOURCE
from annotator.services import adjudication, annotations, entities
from annotator.services.permissions import SYSTEM

from .helpers import Client, add_users, assign, project_with, span_payload

FIRST = ("Prime Minister Shehbaz Sharif said the talks would resume. He added that the ceasefire held. "
         "Police said two people were arrested.")
SECOND = "The prime minister told reporters the budget was ready. A police spokesman said the roads were closed."
# The SOURCE spans: (document, phrase).
SHARIF, HE, POLICE = (0, "Prime Minister Shehbaz Sharif"), (0, "He"), (0, "Police")
PRIME_MINISTER, SPOKESMAN, REPORTERS = (1, "The prime minister"), (1, "A police spokesman"), (1, "reporters")
# Each annotator's links by hand: mention -> entity (None: left unlinked). "He", in the second
# sentence, is linked to the entity of the first sentence's Sharif, and so is the second
# article's "The prime minister" (an entity across two documents). The one disagreement: bob
# links the spokesman to a source of its own, ann to the police. ann leaves "reporters"
# unlinked (a singleton); bob did not mark it.
ANN = {SHARIF: "Sharif", HE: "Sharif", POLICE: "Police", PRIME_MINISTER: "Sharif", SPOKESMAN: "Police",
       REPORTERS: None}
BOB = {SHARIF: "Sharif", HE: "Sharif", POLICE: "Police", PRIME_MINISTER: "Sharif", SPOKESMAN: "Police spokesman"}
METRICS = ("muc", "b_cubed", "ceaf_e")


def _link(session, user, document, phrase, entity: str | None) -> dict:
    payload = span_payload(document, phrase, "attribution", "SOURCE")
    if entity is not None:
        payload["entity_name"] = entity  # the project's entity of that name, made if there is none
    return annotations.create_span(session, user, document.id, payload)


@pytest.fixture
def world(app, session):
    """Two articles in project "sources", ann and bob assigned to both and linking as ANN and BOB
    say, a supervisor sup."""
    project = project_with(session, [build_article("Talks", [FIRST], source="one"),
                                     build_article("Budget", [SECOND], source="two")], "sources")
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor"})
    documents = session.scalars(select(Document).where(Document.project_id == project.id).order_by(Document.id)).all()
    assign(session, project, [people["ann"], people["bob"]], documents)
    spans = {}
    for name, links in (("ann", ANN), ("bob", BOB)):
        for (document, phrase), entity in links.items():
            spans[(name, document, phrase)] = _link(session, people[name], documents[document], phrase, entity)
    return {"app": app, "session": session, "project": project, "documents": documents, "spans": spans, **people}


def _section(world, **filters) -> dict:
    return report.build_report(world["session"], SYSTEM, world["project"].id, replicates=300, **filters)[
        "source_entities"]


def _values(figures: dict) -> dict:
    return {name: figure["value"] for name, figure in figures.items()}


def test_the_section_scores_the_annotators_partitions(world):
    section = _section(world)
    ann, bob = world["ann"].id, world["bob"].id
    assert section["labels"] == [{"layer": "attribution", "label": "SOURCE"}]
    assert section["annotators"] == [ann, bob] and section["not_linking"] == []
    assert (section["documents"], section["mentions"], section["linked"], section["entities"]) == (2, 11, 10, 3)
    assert section["replicates"] == min(300, ENTITY_REPLICATES)

    expected = coreference_scores(ANN, BOB)  # the same partitions, written by hand
    [pair] = section["pairs"]
    assert (pair["a"], pair["b"]) == (ann, bob)
    for metric in METRICS:
        for part in ("recall", "precision", "f1"):
            assert pair[metric][part]["value"] == pytest.approx(getattr(getattr(expected, metric), part).value)
        # Two annotators: the project's figure is the pair's F1.
        assert section["metrics"][metric]["value"] == pytest.approx(getattr(expected, metric).f1.value)
    assert section["metrics"]["conll"]["value"] == pytest.approx(expected.conll.value)
    # By hand, ann's links as the key: entities Sharif {Sharif, He, The prime minister}, Police
    # {Police, A police spokesman}, {reporters}; bob's: Sharif (the same three), Police {Police},
    # Police spokesman {A police spokesman}.
    # MUC recall: Sharif keeps its 2 links; bob cuts Police in two (0 of 1); reporters has none:
    # 2 / 3. Precision: bob's Sharif holds 2 links, both ann's; his singletons none: 2 / 2.
    assert pair["muc"]["recall"]["value"] == pytest.approx(2 / 3)
    assert pair["muc"]["precision"]["value"] == pytest.approx(1.0)
    assert pair["muc"]["f1"]["value"] == pytest.approx(0.8)
    # B³ recall: per key entity Σ n² / |K|: Sharif 3²/3, Police 1²/2 + 1²/2, reporters (bob
    # lacks it) 0: 4 over ann's 6 mentions. Precision: 3²/3 + 1²/1 + 1²/1 = 5 over bob's 5.
    assert pair["b_cubed"]["recall"]["value"] == pytest.approx(4 / 6)
    assert pair["b_cubed"]["precision"]["value"] == pytest.approx(1.0)
    # CEAF-e: Sharif-Sharif φ4 = 1, Police with either of bob's two 2·1/(2+1): 5/3 over 3 and 3 entities.
    assert pair["ceaf_e"]["f1"]["value"] == pytest.approx(5 / 9)
    assert section["metrics"]["conll"]["value"] == pytest.approx((0.8 + 0.8 + 5 / 9) / 3)
    # Intervals resample the two documents; the project's figures count documents, pairs and
    # annotators, a pair's its mentions.
    for figure in section["metrics"].values():
        interval = figure["interval"]
        assert interval["undefined"] is None and 0 < interval["replicates"] <= ENTITY_REPLICATES
        assert interval["seed"] == 20261125 and interval["low"] <= figure["value"] <= interval["high"]
        assert (figure["units"], figure["pairs"], figure["annotators"]) == (2, 1, 2)
    assert (pair["conll"]["units"], pair["conll"]["pairs"]) == (2, 11)


def test_a_merge_of_two_entities_shows_in_the_figures(world):
    session, sup = world["session"], world["sup"]
    police = world["spans"][("ann", 1, SPOKESMAN[1])]["entity_id"]
    spokesman = world["spans"][("bob", 1, SPOKESMAN[1])]["entity_id"]
    entities.merge_entities(session, sup, police, {"other_id": spokesman})
    section = _section(world)
    # bob's spokesman now points at Police: the partitions differ only by ann's unlinked reporters.
    merged = {**BOB, SPOKESMAN: "Police"}
    expected = coreference_scores(ANN, merged)
    assert _values(section["metrics"]) == pytest.approx({
        "muc": expected.muc.f1.value, "b_cubed": expected.b_cubed.f1.value, "ceaf_e": expected.ceaf_e.f1.value,
        "conll": expected.conll.value})
    assert section["metrics"]["muc"]["value"] == pytest.approx(1.0) and section["entities"] == 2


def test_filters_apply(world):
    first, second = world["documents"]
    ann, bob = world["ann"].id, world["bob"].id
    # The first article alone: both link alike there.
    alone = _section(world, documents=[first.id])
    assert (alone["documents"], alone["mentions"]) == (1, 6)
    assert _values(alone["metrics"]) == pytest.approx(dict.fromkeys(("muc", "b_cubed", "ceaf_e", "conll"), 1.0))
    assert alone["metrics"]["conll"]["interval"]["undefined"] == "too few documents for an interval"
    # The second alone: every entity met there once, so no links for MUC (nor the CoNLL average).
    expected = coreference_scores({m: e for m, e in ANN.items() if m[0] == 1}, {m: e for m, e in BOB.items() if m[0] == 1})
    later = _section(world, documents=[second.id])
    assert later["metrics"]["b_cubed"]["value"] == pytest.approx(expected.b_cubed.f1.value)
    assert later["metrics"]["muc"]["undefined"] == later["metrics"]["conll"]["undefined"] == "no links"
    # One annotator: nobody to compare with.
    one = _section(world, annotators=[ann])
    assert one["annotators"] == [ann] and one["not_linking"] == [] and one["pairs"] == []
    assert one["metrics"]["conll"]["undefined"] == "fewer than two annotators"
    # Annotations changed from tomorrow on: none, so nothing is linked.
    tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    later = _section(world, since=tomorrow)
    assert later["linked"] == 0 and later["metrics"]["muc"]["undefined"] == NO_LINKED_SOURCE
    assert _section(world, annotators=[ann, bob], since=dt.date(2000, 1, 1))["metrics"] == _section(world)["metrics"]


def test_who_linked_nothing_is_left_out_and_gold_is_no_annotator(world):
    session, first = world["session"], world["documents"][0]
    people = add_users(session, {"cat": "annotator"})
    assign(session, world["project"], [people["cat"]], [first])
    _link(session, people["cat"], first, SHARIF[1], None)  # marked, never linked
    adjudication.start(session, world["sup"], first.id)
    gold = adjudication.create_gold_span(session, world["sup"], first.id,
                                         span_payload(first, POLICE[1], "attribution", "SOURCE"))
    adjudication.update_gold_span(session, world["sup"], gold["id"], {"version": gold["version"], "entity_name": "Police"})
    section = _section(world)
    assert section["annotators"] == [world["ann"].id, world["bob"].id]
    assert section["not_linking"] == [people["cat"].id]
    assert section["mentions"] == 11 and len(section["pairs"]) == 1  # neither cat's span nor gold's


def test_the_empty_state(app, session):
    project = project_with(session, [build_article("Talks", [FIRST], source="one")], "unlinked")
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor"})
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [people["ann"], people["bob"]], [document])
    for name in ("ann", "bob"):
        _link(session, people[name], document, SHARIF[1], None)
    section = report.build_report(session, SYSTEM, project.id, replicates=50)["source_entities"]
    assert (section["linked"], section["mentions"], section["documents"], section["pairs"]) == (0, 0, 0, [])
    assert section["not_linking"] == [people["ann"].id, people["bob"].id]
    for figure in section["metrics"].values():
        assert figure["value"] is None and figure["undefined"] == NO_LINKED_SOURCE and figure["interval"] is None
    page = Client(app, "sup").get(f"/projects/{project.id}/agreement").get_data(as_text=True)
    card = page[page.index('id="source-entities"'):]
    assert "No SOURCE span is linked to a source entity in this selection" in card[:card.index("</section>")]
    rows = [row for row in csv.reader(io.StringIO(Client(app, "sup").get(
        f"/projects/{project.id}/agreement.csv").get_data(as_text=True))) if row[0] == "source_entities"]
    assert [(row[1], row[2], row[5], row[6]) for row in rows] == [
        (metric, "overall", "", NO_LINKED_SOURCE) for metric in ("muc", "b_cubed", "ceaf_e", "conll")]


def test_the_page_and_the_downloads_show_it(world):
    app, project = world["app"], world["project"]
    expected = coreference_scores(ANN, BOB)
    client = Client(app, "sup")
    page = client.get(f"/projects/{project.id}/agreement").get_data(as_text=True)
    card = page[page.index('id="source-entities"'):]
    card = card[:card.index("</section>")]
    assert "style=" not in card.lower()
    conll = re.search(r'<tr data-metric="conll">.*?</tr>', card, re.S).group(0)
    assert f"{expected.conll.value:.3f}" in conll and "95% interval" in conll and "<svg" in conll
    assert "11 mentions, 10 of them linked to" in card and "ann · bob" in card
    pair = re.sub(r"<[^>]+>", "", card[card.index("ann · bob"):])
    assert f"{expected.muc.recall.value:.3f} / {expected.muc.precision.value:.3f} / {expected.muc.f1.value:.3f}" in pair

    rows = list(csv.reader(io.StringIO(client.get(
        f"/projects/{project.id}/agreement.csv?usernames=1").get_data(as_text=True))))
    mine = {(row[1], row[2], row[3], row[4]): row for row in rows if row[0] == "source_entities"}
    assert float(mine[("conll", "overall", "", "")][5]) == pytest.approx(expected.conll.value)
    assert float(mine[("b_cubed.recall", "pair", "ann", "bob")][5]) == pytest.approx(expected.b_cubed.recall.value)
    assert len(mine) == 4 + 3 * 3 + 1
    html = client.get(f"/projects/{project.id}/agreement.html?usernames=1").get_data(as_text=True)
    assert "Source entities" in html and f"{expected.ceaf_e.f1.value:.3f}" in html
    body = client.get(f"/projects/{project.id}/agreement.json").get_json()
    assert body["source_entities"]["metrics"]["conll"]["value"] == pytest.approx(expected.conll.value)


def test_the_codebook_says_which_spans_are_sources(app, session):
    from annotator.codebook import default_codebook
    from annotator.services import projects

    data = default_codebook().to_dict()
    # A version of its own: codebooks are parsed once per (project id, version) in the process,
    # and another test's project may have had this one's id.
    data["version"] = 2001
    for layer in data["span_layers"]:
        for label in layer["labels"]:
            if label["name"] == "SOURCE":
                label["name"] = "SPEAKER"
    for relation in data["relations"]:
        for role in relation["roles"]:
            if role["label"] == "SOURCE":
                role["label"] = "SPEAKER"
    project = project_with(session, [build_article("Talks", [FIRST], source="one")], "speakers",
                           default_codebook().from_dict(data))
    people = add_users(session, {"ann": "annotator", "bob": "annotator"})
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [people["ann"], people["bob"]], [document])
    for name in ("ann", "bob"):
        for phrase in (SHARIF[1], HE[1]):
            payload = span_payload(document, phrase, "attribution", "SPEAKER", entity_name="Shehbaz Sharif")
            annotations.create_span(session, people[name], document.id, payload)
    section = report.build_report(session, SYSTEM, project.id, replicates=0)["source_entities"]
    assert section["labels"] == [{"layer": "attribution", "label": "SPEAKER"}]
    assert (section["mentions"], section["linked"], section["entities"]) == (4, 4, 1)
    assert section["metrics"]["muc"]["value"] == 1.0 and section["metrics"]["muc"]["interval"] is None
    # A codebook without a relation has no source role, and the report no section.
    data["relations"], data["version"] = [], 2002
    bare = projects.create_project(session, SYSTEM, "bare", default_codebook().from_dict(data))
    assert report.build_report(session, SYSTEM, bare.id, replicates=0)["source_entities"] is None
