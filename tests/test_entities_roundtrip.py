"""Source entities survive export → `annotator import-annotations` (docs/interop.md, "Source
entities"): a project's JSONL export (per document and per annotator) imported into a fresh
project restores every link and the linked part of the registry (names, aliases, fields; Urdu
names; a merged entity's name as its survivor's alias); entities are matched by normalised name
in a project that has them; a bad entity record is refused naming its file and line, and
nothing is written. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from annotator import exporters
from annotator.ingest import read_paths
from annotator.models import Document, Event, SourceEntity, Span, User
from annotator.services import annotations, entities, exports
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT, SEEDS
from .helpers import add_users, assign, project_with, span_payload

SECRET = "test-secret"
URDU_SEED = SEEDS / "ur_meshaal_fazlur_rehman.txt"


@pytest.fixture
def world(app, session):
    """Project "source": the English and the Urdu seed articles, ann on both, bob on the English
    one; their SOURCE spans linked, two entities of one man merged, fields and aliases set.
    Project "copy": empty, where the export goes."""
    source = project_with(session, read_paths([SEED_TXT, URDU_SEED]), "source")
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor"})
    english, urdu = sorted(source.documents, key=lambda document: document.language != "en")
    assign(session, source, [people["ann"]], [english, urdu])
    assign(session, source, [people["bob"]], [english])

    def link(user, document, phrase, **entity):
        payload = span_payload(document, phrase, "attribution", "SOURCE", **entity)
        return annotations.create_span(session, user, document.id, payload)["entity_id"]

    rehman = link(people["ann"], english, "Maulana Fazlur Rehman, the head of Jamiat-e-Ulema Islam-Fazl (JUI-F)",
                  entity_name="Maulana Fazlur Rehman")
    other = link(people["bob"], english, "Maulana Fazlur Rehman", entity_name="Fazlur Rehman")
    ghauri = link(people["ann"], urdu, "اسلم غوری", entity_name="اسلم غوری")
    link(people["ann"], urdu, "مولانا فضل الرحمان", entity_id=rehman)
    entities.merge_entities(session, SYSTEM, rehman, {"other_id": other})
    for entity_id, fields in ((rehman, {"kind": "person", "affiliation": "JUI-F", "wikidata_id": "Q6736361",
                                        "gender": "male", "aliases": ["Fazlur Rehman", "مولانا فضل الرحمان"]}),
                              (ghauri, {"kind": "person", "anonymity": "named", "aliases": ["Aslam Ghauri"]})):
        version = entities.get_entity(session, SYSTEM, entity_id)["version"]
        entities.update_entity(session, SYSTEM, entity_id, fields | {"version": version})
    copy = project_with(session, [], "copy")
    session.rollback()
    return {"source": source, "copy": copy, "rehman": rehman, "other": other, **people}


def _export(session, project, name: str, path) -> str:
    records = exports.document_records(session, SYSTEM, project.id, secret_key=SECRET, usernames=True)
    path.write_bytes(b"".join(exporters.stream(name, records, records.codebook)))
    return str(path)


def _registry(session, project) -> set[tuple]:
    """The live entities with their fields, aliases and counts (not their ids)."""
    return {(e["name"], e["kind"], e["affiliation"], e["anonymity"], e["wikidata_id"], e["gender"],
             tuple(sorted(e["aliases"])), e["mentions"], e["documents"])
            for e in entities.registry_records(session, SYSTEM, project.id) if e["merged_into_id"] is None}


def _links(session, project) -> set[tuple]:
    """(document title, annotator, start, end, label, entity name) of every span of the project."""
    return set(session.execute(
        select(Document.title, User.username, Span.start, Span.end, Span.label, SourceEntity.name)
        .join(Document, Document.id == Span.document_id).join(User, User.id == Span.user_id)
        .outerjoin(SourceEntity, SourceEntity.id == Span.entity_id).where(Document.project_id == project.id)).all())


@pytest.mark.parametrize("export_format", ["jsonl-documents", "jsonl"])
def test_an_export_imported_into_a_fresh_project_has_the_same_links_and_registry(world, session, cli, tmp_path,
                                                                                   export_format):
    path = _export(session, world["source"], export_format, tmp_path / "source.jsonl")
    result = cli("import-annotations", path, "--project", "copy", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert "Linked 4 span(s) to source entities: 2 made, 0 matched by name in the project's registry." in result.output
    session.rollback()
    source, copy = world["source"], world["copy"]
    assert _links(session, copy) == _links(session, source)
    expected = {
        ("Maulana Fazlur Rehman", "person", "JUI-F", None, "Q6736361", "male",
         ("Fazlur Rehman", "مولانا فضل الرحمان"), 3, 2),  # the merged entity's name is its survivor's alias
        ("اسلم غوری", "person", None, "named", None, None, ("Aslam Ghauri",), 1, 1),
    }
    assert _registry(session, source) == _registry(session, copy) == expected
    # Made and linked as the service makes and links: audited, with the file.
    made = session.scalars(select(SourceEntity).where(SourceEntity.project_id == copy.id)).all()
    events = session.execute(select(Event.action, Event.after).where(
        Event.entity_type == "source_entities", Event.entity_id.in_([entity.id for entity in made]))).all()
    assert sorted(action for action, _ in events) == ["create", "create", "link", "link", "link", "link"]
    assert all(after["source"] == path for action, after in events if action == "create")
    # Imported again (replacing the annotations), the entities are matched, not made twice.
    again = cli("import-annotations", path, "--project", "copy", "--format", "jsonl", "--replace")
    assert again.exit_code == 0, again.output
    assert "2 made" not in again.output and "0 made, 2 matched" in again.output
    session.rollback()
    assert _registry(session, copy) == expected and _links(session, copy) == _links(session, source)


def test_entities_are_matched_by_normalised_name_their_empty_fields_filled(world, session, cli, tmp_path):
    copy = world["copy"]
    path = _export(session, world["source"], "jsonl-documents", tmp_path / "source.jsonl")
    # The copy knows the man by his name in other letters, with a kind of its own; "Aslam Ghauri" is
    # another entity's alias there.
    here = entities.create_entity(session, SYSTEM, copy.id, {"name": "MAULANA  fazlur-rehman", "kind": "organisation"})
    entities.create_entity(session, SYSTEM, copy.id, {"name": "JUI-F spokesman", "aliases": ["aslam ghauri"]})
    result = cli("import-annotations", path, "--project", "copy", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert "1 made, 1 matched" in result.output
    assert "Alias not added: “Aslam Ghauri” (for اسلم غوری) is an alias of JUI-F spokesman" in result.output
    session.rollback()
    matched = entities.get_entity(session, SYSTEM, here["id"])
    assert (matched["name"], matched["kind"], matched["gender"], sorted(matched["aliases"])) == (
        "MAULANA fazlur-rehman", "organisation", "male", ["Fazlur Rehman", "مولانا فضل الرحمان"])
    linked = {name for *_, name in _links(session, copy) if name}
    assert linked == {"MAULANA fazlur-rehman", "اسلم غوری"}


def test_a_bad_entity_record_is_refused_with_its_file_and_line_and_nothing_is_written(world, session, cli, tmp_path):
    path = tmp_path / "source.jsonl"
    _export(session, world["source"], "jsonl", path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3  # a line per document and annotator
    lines[0]["entities"][0]["gender"] = "man"  # not a gender the registry records
    lines[1]["entities"][0]["name"] = "وہ"  # a pronoun, not a name
    next(span for span in lines[2]["spans"] if span["label"] == "SOURCE")["entity_id"] = 999999  # none of the line's
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    before = session.scalar(select(func.count(SourceEntity.id)))
    result = cli("import-annotations", str(path), "--project", "copy", "--format", "jsonl")
    assert result.exit_code != 0
    problems = result.stderr.splitlines()
    assert f"{path}:1: entities[0]: gender must be one of female, male, non_binary, or null (not known, not set)" in problems
    assert any(line.startswith(f"{path}:2: entities[0]: “وہ” is a pronoun") for line in problems)
    assert any(line.startswith(f"{path}:3: annotator ") and line.endswith("entity_id 999999 is none of the entities of its line")
               for line in problems)
    session.rollback()
    assert session.scalar(select(func.count(SourceEntity.id))) == before
    assert _links(session, world["copy"]) == set()


def test_only_source_spans_are_linked_on_import(world, session, cli, tmp_path):
    path = tmp_path / "source.jsonl"
    _export(session, world["source"], "jsonl", path)
    line = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    english = next(document for document in world["source"].documents if document.language == "en")
    assert line["document"]["text"] == english.text
    cue = span_payload(english, "conveyed", "attribution", "CUE")
    line["spans"].append(cue | {"id": 999, "attributes": {}, "entity_id": line["entities"][0]["id"]})
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    result = cli("import-annotations", str(path), "--project", "copy", "--format", "jsonl")
    assert result.exit_code != 0
    assert "entity_id: only a span of the source role's label (SOURCE) is linked to a source entity" in result.stderr
