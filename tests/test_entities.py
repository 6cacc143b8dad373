"""Sources as entities (annotator.services.entities): names normalised for Urdu and Arabic too,
the type-ahead, creating (a pronoun refused), uniqueness the database keeps, linking only SOURCE
spans (an annotator's and gold's), merging and splitting with their history, who may do what,
the audit log, and the exports' entity ids and registry; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from annotator import exporters
from annotator.errors import Conflict, Forbidden, NotFound, ServiceError
from annotator.exporters import entities as registry_files
from annotator.ingest import read_paths
from annotator.models import Event, SourceEntity, SourceEntityAlias, Span
from annotator.services import adjudication, annotations, entities, exports
from annotator.services.permissions import SYSTEM

from .conftest import REPO, SEED_TXT, SEEDS
from .helpers import add_users, assign, project_with, span_payload

SECRET = "test-secret"
URDU_SEED = SEEDS / "ur_meshaal_fazlur_rehman.txt"


@pytest.fixture
def world(app, session):
    """The English seed article in project "news" (ann and bob assigned, sup a member), the Urdu
    one in project "urdu" (ann assigned); an annotator of neither and a supervisor of neither."""
    news = project_with(session, read_paths([SEED_TXT]), "news")
    urdu = project_with(session, read_paths([URDU_SEED]), "urdu")
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "eve": "annotator", "sup": "supervisor"})
    people |= add_users(session, {"outsider": "supervisor"}, member=False)
    seed = news.documents[0]
    assign(session, news, [people["ann"], people["bob"]], [seed])
    assign(session, urdu, [people["ann"]], urdu.documents)
    return {"news": news, "urdu": urdu, "seed": seed, "urdu_doc": urdu.documents[0], **people}


def _source(session, user, document, phrase, **extra) -> dict:
    return annotations.create_span(session, user, document.id, span_payload(document, phrase, "attribution", "SOURCE", **extra))


def _events(session, entity_id: int) -> list[tuple[str, dict | None]]:
    session.rollback()
    return [(event.action, event.after) for event in session.scalars(
        select(Event).where(Event.entity_type == "source_entities", Event.entity_id == entity_id).order_by(Event.id))]


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("one", "other"), [
    ("Aslam Ghauri", "aslam  GHAURI"),
    ("JUI-F", "jui f"),
    ("Ｑａｓｉｍ", "qasim"),  # fullwidth letters (NFKC)
    ("پاكستان", "پاکستان"),  # Arabic kaf, as an Arabic keyboard types it in Urdu
    ("علي", "علی"),  # Arabic yeh and Persian/Urdu yeh
    ("مولانا فضلُ الرحمٰن", "مولانا فضل الرحمن"),  # harakat and the superscript alef
    ("می‌گوید", "میگوید"),  # a zero-width non-joiner
    ("ﻻ", "لا"),  # a presentation form
])
def test_names_that_are_one_name(one, other):
    assert entities.normalised(one) == entities.normalised(other) != ""


def test_names_that_are_not():
    assert entities.normalised("Ahmed Khan") != entities.normalised("Ahmad Khan")
    assert entities.normalised("ہ") != entities.normalised("ھ")  # Urdu's two hehs are letters apart
    assert entities.name_problem("...") == "a name must hold a letter or a digit"
    for pronoun in ("He", "they", "انہوں نے", "وہ", "هو"):
        assert "pronoun" in entities.name_problem(pronoun)
    assert entities.name_problem("the spokesperson") is None  # a description names an anonymous source


# -- creating, uniqueness --------------------------------------------------------------------------


def test_create_checks_every_field(world, session):
    news, ann = world["news"], world["ann"]
    made = entities.create_entity(session, ann, news.id, {
        "name": "  Aslam   Ghauri ", "kind": "person", "affiliation": "JUI-F", "anonymity": "named",
        "wikidata_id": "q123", "gender": "male", "aliases": ["Ghauri", "اسلم غوری", "ghauri"]})
    assert made | {"id": 0, "version": 0} == {
        "id": 0, "project_id": news.id, "name": "Aslam Ghauri", "kind": "person", "affiliation": "JUI-F",
        "anonymity": "named", "wikidata_id": "Q123", "gender": "male", "aliases": ["Ghauri", "اسلم غوری"],
        "merged_into_id": None, "version": 0}
    for data, field in (
        ({"name": "He"}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": "a\x00b"}, "name"),
        ({"name": "a\u202eb"}, "name"), ({"name": "X", "kind": "alien"}, "kind"), ({"name": "X", "anonymity": "secret"}, "anonymity"),
        ({"name": "X", "wikidata_id": "P31"}, "wikidata_id"), ({"name": "X", "wikidata_id": "Q0"}, "wikidata_id"),
        ({"name": "X", "gender": "man"}, "gender"), ({"name": "X", "aliases": ["they"]}, "aliases[0]"),
        ({"name": "X", "aliases": ["x"]}, "aliases"), ({"name": "X", "aliases": "Y"}, "aliases"),
    ):
        with pytest.raises(ServiceError) as refused:
            entities.create_entity(session, ann, news.id, data)
        assert refused.value.field == field, (data, refused.value.message)
    with pytest.raises(Conflict, match="has an entity named Aslam Ghauri") as taken:
        entities.create_entity(session, ann, news.id, {"name": "ASLAM GHAURI"})
    assert taken.value.current["id"] == made["id"]
    with pytest.raises(Conflict, match="already an alias of Aslam Ghauri"):
        entities.create_entity(session, ann, news.id, {"name": "Mr Ghauri", "aliases": ["GHAURI"]})
    # Another project has names of its own.
    assert entities.create_entity(session, SYSTEM, world["urdu"].id, {"name": "Aslam Ghauri"})["project_id"] == world["urdu"].id
    # Nothing refused was written.
    assert session.scalar(select(SourceEntity.id).where(SourceEntity.name == "X")) is None


def test_a_codebook_without_source_kind_keeps_kind_empty(world, session):
    from annotator.codebook import default_codebook
    from annotator.services import projects

    data = default_codebook().to_dict()
    for relation in data["relations"]:
        relation["attributes"] = [a for a in relation["attributes"] if a["name"] != "source_kind"]
    project = projects.create_project(session, SYSTEM, "plain", default_codebook().from_dict(data))
    with pytest.raises(ServiceError, match="no source_kind attribute"):
        entities.create_entity(session, SYSTEM, project.id, {"name": "A", "kind": "person"})
    assert entities.create_entity(session, SYSTEM, project.id, {"name": "A", "anonymity": "named"})["kind"] is None


def test_the_database_keeps_names_and_aliases_unique_per_project(world, session):
    news = world["news"]
    made = entities.create_entity(session, SYSTEM, news.id, {"name": "ARY News", "aliases": ["ARY"]})
    session.add(SourceEntity(project_id=news.id, name="ary news", name_key=entities.normalised("ary news")))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(SourceEntityAlias(entity_id=made["id"], project_id=news.id, alias="ary", alias_key="ary"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(SourceEntity(project_id=news.id, name="Someone", name_key="someone", gender="man"))
    with pytest.raises(IntegrityError):  # gender from the documented set only
        session.commit()
    session.rollback()


# -- searching -------------------------------------------------------------------------------------


def _names(answer: dict) -> list[tuple[str, str]]:
    return [(entity["name"], entity["match"]) for entity in answer["entities"]]


def test_search_ranks_names_aliases_and_the_text_that_holds_them(world, session):
    news, ann = world["news"], world["ann"]
    for data in ({"name": "Aslam Ghauri", "aliases": ["Ghauri"]}, {"name": "Maulana Fazlur Rehman", "aliases": ["Fazlur Rehman"]},
                 {"name": "Khaled Meshaal"}, {"name": "ARY News"}, {"name": "Hamas"}, {"name": "Shamshad Ahmad"}):
        entities.create_entity(session, ann, news.id, data)
    search = lambda q, **kw: entities.search(session, ann, news.id, q, **kw)  # noqa: E731
    answer = search("Aslam Ghauri, the spokesperson for JUI-F")
    assert _names(answer)[0] == ("Aslam Ghauri", "in_text")  # the span's text holds the name
    assert answer["new"] == {"name": "Aslam Ghauri, the spokesperson for JUI-F", "problem": None}
    assert _names(search("aslam ghauri")) == [("Aslam Ghauri", "name")]
    assert search("aslam ghauri")["new"]["problem"] == "the project has an entity named Aslam Ghauri"
    assert _names(search("ghauri")) == [("Aslam Ghauri", "alias")]
    assert _names(search("Fazlur Rehman")) == [("Maulana Fazlur Rehman", "alias")]
    assert _names(search("maul")) == [("Maulana Fazlur Rehman", "prefix")]
    assert _names(search("fazl")) == [("Maulana Fazlur Rehman", "prefix")]  # of its alias
    assert _names(search("rehm")) == [("Maulana Fazlur Rehman", "word")]
    # A prefix before a word's prefix before the query inside a name; shorter names first.
    assert _names(search("ha")) == [("Hamas", "prefix"), ("Aslam Ghauri", "substring"), ("Khaled Meshaal", "substring"),
                                    ("Shamshad Ahmad", "substring")]
    assert len(search("a", limit=2)["entities"]) == 2
    pronoun = search("He")
    assert pronoun["pronoun"] is True and "pronoun" in pronoun["new"]["problem"]
    assert search("  ")["new"]["problem"] == "type a name" and search("")["entities"] == []
    with pytest.raises(ServiceError):
        search("x", limit=51)
    assert search("a%_")["entities"] == search("a")["entities"]  # no LIKE wildcard gets through


def test_search_in_urdu(world, session):
    urdu, ann = world["urdu"], world["ann"]
    entities.create_entity(session, ann, urdu.id, {"name": "مولانا فضل الرحمان", "aliases": ["فضل الرحمان"]})
    entities.create_entity(session, ann, urdu.id, {"name": "اسلم غوری", "kind": "person"})
    search = lambda q: entities.search(session, ann, urdu.id, q)  # noqa: E731
    # A span's text: "the spokesperson of JUI (F), Aslam Ghauri".
    assert _names(search("جے یو آئی (ف) کے ترجمان اسلم غوری"))[0] == ("اسلم غوری", "in_text")
    assert _names(search("اسلم غوري")) == [("اسلم غوری", "name")]  # typed with the Arabic yeh
    assert _names(search("فضل الرحمان")) == [("مولانا فضل الرحمان", "alias")]
    assert _names(search("فضل")) == [("مولانا فضل الرحمان", "prefix")]  # of its alias
    assert _names(search("الرحما")) == [("مولانا فضل الرحمان", "word")]
    assert search("انہوں نے")["pronoun"] is True


def test_who_may_search_and_create(world, session):
    news = world["news"]
    for actor in (world["eve"], world["outsider"]):  # an annotator of no document of it; a supervisor not a member
        with pytest.raises(NotFound):
            entities.search(session, actor, news.id, "a")
        with pytest.raises(NotFound):
            entities.create_entity(session, actor, news.id, {"name": "Qasim Ali"})
    made = entities.create_entity(session, world["sup"], news.id, {"name": "Qasim Ali"})
    assert entities.get_entity(session, world["bob"], made["id"])["name"] == "Qasim Ali"
    with pytest.raises(NotFound):
        entities.get_entity(session, world["eve"], made["id"])


# -- changing ------------------------------------------------------------------------------------


def test_annotators_change_what_they_made_and_supervisors_anything(world, session):
    news, ann, bob, sup = world["news"], world["ann"], world["bob"], world["sup"]
    made = entities.create_entity(session, ann, news.id, {"name": "Khaled Mishal"})
    changed = entities.update_entity(session, ann, made["id"], {"version": made["version"], "name": "Khaled Meshaal",
                                                               "aliases": ["Khaled Mishal"], "gender": "male"})
    assert (changed["name"], changed["aliases"], changed["gender"], changed["version"]) == (
        "Khaled Meshaal", ["Khaled Mishal"], "male", made["version"] + 1)
    with pytest.raises(Forbidden):
        entities.update_entity(session, bob, made["id"], {"version": changed["version"], "gender": None})
    with pytest.raises(Conflict) as stale:
        entities.update_entity(session, sup, made["id"], {"version": made["version"], "kind": "person"})
    assert stale.value.current["name"] == "Khaled Meshaal"
    other = entities.create_entity(session, bob, news.id, {"name": "Hamas"})
    with pytest.raises(Conflict, match="has an entity named Hamas"):
        entities.update_entity(session, sup, made["id"], {"version": changed["version"], "name": "HAMAS"})
    final = entities.update_entity(session, sup, other["id"], {"version": other["version"], "kind": "organisation",
                                                                "aliases": ["حماس"]})
    assert (final["kind"], final["aliases"]) == ("organisation", ["حماس"])
    assert [action for action, _ in _events(session, made["id"])] == ["create", "update"]


# -- linking ---------------------------------------------------------------------------------------


def test_only_source_spans_are_linked(world, session):
    seed, ann, news = world["seed"], world["ann"], world["news"]
    span = _source(session, ann, seed, "ARY News", entity_name="ARY News")
    entity = session.scalar(select(SourceEntity).where(SourceEntity.name == "ARY News"))
    assert span["entity_id"] == entity.id and (entity.kind, entity.gender, entity.created_by) == (None, None, ann.id)
    cue = span_payload(seed, "as reported by", "attribution", "CUE", entity_id=entity.id)
    with pytest.raises(ServiceError, match=r"only a span of the source role's label \(SOURCE\)") as refused:
        annotations.create_span(session, ann, seed.id, cue)
    assert refused.value.field == "entity_id"
    loaded = span_payload(seed, "Israeli brutalities", "loaded_language", "LOADED_LANGUAGE", entity_name="X")
    with pytest.raises(ServiceError, match="only a span of the source role's label"):
        annotations.create_span(session, ann, seed.id, loaded)
    # A label that leaves the source role unlinks the span; its old entity's history says so.
    moved = annotations.update_span(session, ann, span["id"], {"version": span["version"], "label": "CUE"})
    assert moved["entity_id"] is None
    assert [action for action, _ in _events(session, entity.id)] == ["create", "link", "unlink"]
    # An entity of another project is none of this document's.
    elsewhere = entities.create_entity(session, SYSTEM, world["urdu"].id, {"name": "اے آر وائی نیوز"})
    again = annotations.update_span(session, ann, span["id"], {"version": moved["version"], "label": "SOURCE"})
    with pytest.raises(NotFound):
        annotations.update_span(session, ann, span["id"], {"version": again["version"], "entity_id": elsewhere["id"]})
    with pytest.raises(ServiceError, match="not both"):
        annotations.update_span(session, ann, span["id"], {"version": again["version"], "entity_id": entity.id,
                                                           "entity_name": "ARY"})
    linked = annotations.update_span(session, ann, span["id"], {"version": again["version"], "entity_id": entity.id})
    assert linked["entity_id"] == entity.id
    # The page's state names the entities its spans link to.
    state = annotations.annotation_state(session, ann, seed.id)
    assert state["entities"] == [{"id": entity.id, "name": "ARY News", "kind": None, "affiliation": None}]
    assert entities.search(session, ann, news.id, "ary")["entities"][0]["id"] == entity.id


def test_a_pronoun_links_to_an_earlier_entity_and_names_none(world, session):
    seed, ann = world["seed"], world["ann"]
    rehman = _source(session, ann, seed, "Maulana Fazlur Rehman", entity_name="Maulana Fazlur Rehman")
    he = span_payload(seed, "He also", "attribution", "SOURCE")
    he["end"], he["text"] = he["start"] + 2, "He"
    with pytest.raises(ServiceError, match="pronoun") as refused:
        annotations.create_span(session, ann, seed.id, he | {"entity_name": "He"})
    assert refused.value.field == "entity_name"
    assert session.scalar(select(Span.id).where(Span.text == "He")) is None
    linked = annotations.create_span(session, ann, seed.id, he | {"entity_id": rehman["entity_id"]})
    assert linked["entity_id"] == rehman["entity_id"]
    # Linking by a name the project has (any case) reuses that entity.
    again = _source(session, world["bob"], seed, "Maulana Fazlur Rehman", entity_name="maulana fazlur REHMAN")
    assert again["entity_id"] == rehman["entity_id"]
    assert session.scalar(select(SourceEntity.id).where(SourceEntity.name_key == "he")) is None


def test_an_urdu_article_links_its_sources(world, session):
    document, ann = world["urdu_doc"], world["ann"]
    rehman = _source(session, ann, document, "مولانا فضل الرحمان", entity_name="مولانا فضل الرحمان")
    they = annotations.create_span(session, ann, document.id, span_payload(document, "انہوں نے", "attribution", "SOURCE"))
    linked = annotations.update_span(session, ann, they["id"], {"version": they["version"], "entity_id": rehman["entity_id"]})
    assert linked["entity_id"] == rehman["entity_id"]
    with pytest.raises(ServiceError, match="pronoun"):
        annotations.update_span(session, ann, they["id"], {"version": linked["version"], "entity_name": "انہوں نے"})
    assert [e["name"] for e in annotations.annotation_state(session, ann, document.id)["entities"]] == ["مولانا فضل الرحمان"]


def test_gold_spans_are_linked_by_supervisors(world, session):
    seed, sup = world["seed"], world["sup"]
    adjudication.start(session, sup, seed.id)
    gold = adjudication.create_gold_span(session, sup, seed.id, span_payload(seed, "ARY News", "attribution", "SOURCE"))
    linked = adjudication.update_gold_span(session, sup, gold["id"], {"version": gold["version"], "entity_name": "ARY News"})
    assert linked["entity_id"] is not None
    assert adjudication.view(session, sup, seed.id)["gold"]["entities"][0]["name"] == "ARY News"
    # An annotator links only their own spans.
    with pytest.raises(NotFound):
        annotations.update_span(session, world["ann"], gold["id"], {"version": linked["version"], "entity_id": None})


def test_deleting_a_linked_span_unlinks_it_in_the_history(world, session):
    seed, ann = world["seed"], world["ann"]
    span = _source(session, ann, seed, "ARY News", entity_name="ARY News")
    annotations.delete_span(session, ann, span["id"], {"version": span["version"]})
    actions = _events(session, span["entity_id"])
    assert actions == [("create", actions[0][1]), ("link", {"span_id": span["id"], "document_id": seed.id}),
                       ("unlink", {"span_id": span["id"], "document_id": seed.id})]


# -- merging and splitting ---------------------------------------------------------------------------


def _two_rehmans(world, session) -> tuple[dict, dict, list[int], list[int]]:
    """ann links two mentions to "Maulana Fazlur Rehman", bob one to "Fazlur Rehman": the same man twice."""
    seed, ann, bob, news = world["seed"], world["ann"], world["bob"], world["news"]
    first = _source(session, ann, seed, "Maulana Fazlur Rehman, the head of Jamiat-e-Ulema Islam-Fazl (JUI-F)",
                    entity_name="Maulana Fazlur Rehman")
    he = span_payload(seed, "He also", "attribution", "SOURCE")
    he["end"], he["text"] = he["start"] + 2, "He"
    second = annotations.create_span(session, ann, seed.id, he | {"entity_id": first["entity_id"]})
    third = _source(session, bob, seed, "Maulana Fazlur Rehman", entity_name="Fazlur Rehman")
    keep = session.get(SourceEntity, first["entity_id"])
    other = session.get(SourceEntity, third["entity_id"])
    entities.update_entity(session, SYSTEM, other.id, {"version": other.version, "kind": "person", "aliases": ["Fazl"]})
    session.rollback()
    return (entities.get_entity(session, SYSTEM, keep.id), entities.get_entity(session, SYSTEM, other.id),
            [first["id"], second["id"]], [third["id"]])


def test_merge_moves_mentions_and_aliases_and_keeps_the_other(world, session):
    sup = world["sup"]
    keep, other, mine, theirs = _two_rehmans(world, session)
    for actor, error in ((world["ann"], Forbidden), (world["outsider"], NotFound)):
        with pytest.raises(error):
            entities.merge_entities(session, actor, keep["id"], {"other_id": other["id"]})
    with pytest.raises(ServiceError):
        entities.merge_entities(session, sup, keep["id"], {"other_id": keep["id"]})
    merged = entities.merge_entities(session, sup, keep["id"], {"other_id": other["id"]})
    assert (merged["spans"], merged["moved_aliases"], merged["aliases"], merged["alias_added"], merged["filled"]) == (
        theirs, ["Fazl"], ["Fazl", "Fazlur Rehman"], "Fazlur Rehman", {"kind": "person"})
    session.rollback()
    assert sorted(session.scalars(select(Span.id).where(Span.entity_id == keep["id"]))) == sorted(mine + theirs)
    gone = session.get(SourceEntity, other["id"])
    assert (gone.merged_into_id, [a.alias for a in gone.aliases]) == (keep["id"], [])
    # The event records exactly which spans moved; the other's says where it went.
    (action, after), = [(a, e) for a, e in _events(session, keep["id"]) if a == "merge"]
    assert (after["merged"], after["spans"]) == (other["id"], theirs)
    assert _events(session, other["id"])[-1] == ("merged", entities.get_entity(session, SYSTEM, other["id"]) | {"merged_into": keep["id"]})
    # The merged one is found no more, its name leads to the survivor, and links to it land there.
    assert [e["id"] for e in entities.search(session, sup, world["news"].id, "Fazlur Rehman")["entities"]] == [keep["id"]]
    seed = world["seed"]
    late = _source(session, world["bob"], seed, "Khaled Meshaal", entity_id=other["id"])
    assert late["entity_id"] == keep["id"]
    with pytest.raises(Conflict):
        entities.merge_entities(session, sup, keep["id"], {"other_id": other["id"]})
    with pytest.raises(Conflict):
        entities.update_entity(session, sup, other["id"], {"version": gone.version, "kind": None})
    history = entities.history(session, sup, keep["id"])
    assert [event["action"] for event in history][-2:] == ["merge", "link"]
    assert history[-2]["user"] == "sup"


def test_split_moves_chosen_mentions_and_aliases_to_a_new_entity(world, session):
    sup = world["sup"]
    keep, other, mine, theirs = _two_rehmans(world, session)
    entities.merge_entities(session, sup, keep["id"], {"other_id": other["id"]})
    for data, field in (({"name": "Bob's Rehman"}, "span_ids"), ({"name": "X", "span_ids": [10**6]}, "span_ids"),
                        ({"name": "X", "aliases": ["nobody"]}, "aliases"), ({"span_ids": theirs}, "name"),
                        ({"name": "Maulana Fazlur Rehman", "span_ids": theirs}, "name")):
        with pytest.raises(ServiceError) as refused:
            entities.split_entity(session, sup, keep["id"], data)
        assert refused.value.field == field, data
    with pytest.raises(Forbidden):
        entities.split_entity(session, world["ann"], keep["id"], {"name": "X", "span_ids": theirs})
    new = entities.split_entity(session, sup, keep["id"], {"name": "Fazlur Rehman (bob)", "span_ids": theirs,
                                                           "aliases": ["fazl"], "gender": "male"})
    assert (new["split_from"], new["spans"], new["aliases"], new["gender"]) == (keep["id"], theirs, ["Fazl"], "male")
    session.rollback()
    assert sorted(session.scalars(select(Span.id).where(Span.entity_id == new["id"]))) == theirs
    assert sorted(session.scalars(select(Span.id).where(Span.entity_id == keep["id"]))) == sorted(mine)
    action, after = _events(session, keep["id"])[-1]
    assert (action, after["into"], after["spans"], after["moved_aliases"], after["aliases"]) == (
        "split", new["id"], theirs, ["Fazl"], ["Fazlur Rehman"])
    assert _events(session, new["id"])[0][1]["split_from"] == keep["id"]
    page = entities.entity_page(session, sup, keep["id"])
    assert page["mentions"].total == 2 and [row.mentions for row in page["documents"]] == [2]


# -- the registry and exports ---------------------------------------------------------------------


def test_registry_counts_mentions_and_documents(world, session):
    keep, other, mine, theirs = _two_rehmans(world, session)
    entities.create_entity(session, SYSTEM, world["news"].id, {"name": "Nobody yet"})
    page = entities.registry(session, world["sup"], world["news"].id)
    assert [(row.entity.name, row.mentions, row.documents) for row in page["entities"]] == [
        ("Maulana Fazlur Rehman", 2, 1), ("Fazlur Rehman", 1, 1), ("Nobody yet", 0, 0)]
    assert [row.entity.name for row in entities.registry(session, world["sup"], world["news"].id, query="fazl")["entities"]] == [
        "Maulana Fazlur Rehman", "Fazlur Rehman"]
    with pytest.raises(Forbidden):
        entities.registry(session, world["ann"], world["news"].id)
    with pytest.raises(NotFound):
        entities.registry(session, world["outsider"], world["news"].id)


SCHEMAS = {name: json.loads((REPO / "docs" / f"export-schema-{name}.json").read_text()) for name in ("jsonl", "jsonl-documents")}


def _export(session, project, name: str) -> str:
    records = exports.document_records(session, SYSTEM, project.id, secret_key=SECRET, usernames=True)
    return b"".join(exporters.stream(name, records, records.codebook)).decode()


def test_exports_carry_the_entity_ids_and_the_registry(world, session):
    keep, other, mine, theirs = _two_rehmans(world, session)
    entities.merge_entities(session, SYSTEM, keep["id"], {"other_id": other["id"]})
    entities.update_entity(session, SYSTEM, keep["id"], {"version": entities.get_entity(session, SYSTEM, keep["id"])["version"],
                                                          "wikidata_id": "Q6736361", "gender": "male"})
    news = world["news"]
    (record,) = [json.loads(line) for line in _export(session, news, "jsonl-documents").splitlines()]
    jsonschema.validate(record, SCHEMAS["jsonl-documents"], cls=jsonschema.Draft202012Validator)
    expected = {"id": keep["id"], "name": "Maulana Fazlur Rehman", "kind": "person", "affiliation": None, "anonymity": None,
                "wikidata_id": "Q6736361", "gender": "male", "aliases": ["Fazl", "Fazlur Rehman"]}
    assert record["entities"] == [expected]
    linked = {span["id"]: span.get("entity_id") for entry in record["annotations"] for span in entry["spans"]}
    assert linked == {span_id: keep["id"] for span_id in mine + theirs}
    lines = [json.loads(line) for line in _export(session, news, "jsonl").splitlines()]
    for line in lines:
        jsonschema.validate(line, SCHEMAS["jsonl"], cls=jsonschema.Draft202012Validator)
        assert line["entities"] == [expected]
    rows = list(csv.DictReader(io.StringIO(_export(session, news, "csv"))))
    assert {(row["annotator"], row["text"], row["entity_id"], row["entity_name"]) for row in rows} == {
        ("ann", "Maulana Fazlur Rehman, the head of Jamiat-e-Ulema Islam-Fazl (JUI-F)", str(keep["id"]), "Maulana Fazlur Rehman"),
        ("ann", "He", str(keep["id"]), "Maulana Fazlur Rehman"), ("bob", "Maulana Fazlur Rehman", str(keep["id"]), "Maulana Fazlur Rehman")}
    # A document without links has no entities; the registry download has every entity, merged ones too.
    assert "entities" not in json.loads(_export(session, world["urdu"], "jsonl-documents").splitlines()[0])
    registry = entities.registry_records(session, world["sup"], news.id)
    assert [(e["name"], e["merged_into_id"], e["mentions"], e["documents"]) for e in registry] == [
        ("Maulana Fazlur Rehman", None, 3, 1), ("Fazlur Rehman", keep["id"], 0, 0)]
    as_jsonl = [json.loads(line) for line in registry_files.export(registry, "jsonl")]
    assert as_jsonl == registry
    table = list(csv.DictReader(io.StringIO("".join(registry_files.export(registry, "csv", bom=True)).removeprefix("\ufeff"))))
    assert (table[0]["aliases"], table[1]["merged_into_id"], list(table[0])) == (
        "Fazl|Fazlur Rehman", str(keep["id"]), list(registry_files.COLUMNS))
    with pytest.raises(ServiceError):
        list(registry_files.export(registry, "xml"))
    with pytest.raises(Forbidden):
        entities.registry_records(session, world["ann"], news.id)
