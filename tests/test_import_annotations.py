"""Importing annotations (this project's JSONL, doccano, Label Studio) on SQLite and PostgreSQL:
what is written, every problem located by file and line, all or nothing, and round trips."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from annotator.codebook import default_codebook
from annotator.errors import Forbidden
from annotator.exporters import jsonl, labelstudio
from annotator.exporters import doccano as doccano_export
from annotator.ingest import IngestError, read_file
from annotator.ingest.annotations import load_mapping, read_annotation_file
from annotator.models import (
    Assignment,
    Attribution,
    Base,
    Document,
    Event,
    Sentence,
    SentenceLabel,
    Span,
    User,
)
from annotator.services import exports, imports, projects, users
from annotator.services.imports import ImportRejected, import_annotations
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT, SEEDS
from .helpers import PASSWORD, add_users, project_with

SECRET = "test-secret"


@pytest.fixture
def world(app, session):
    project = project_with(session, read_file(SEED_TXT), "news")
    people = add_users(session, {"sup": "supervisor", "ann": "annotator"})
    supervisor, annotator = people["sup"], people["ann"]
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    sentences = session.scalars(select(Sentence).where(Sentence.document_id == document.id)
                                .order_by(Sentence.position)).all()
    return {"project": project, "document": document, "sentences": sentences, "sup": supervisor, "ann": annotator}


def _span(text: str, covered: str, layer: str, label: str, span_id: int, occurrence: int = 0, **attributes) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(covered, start + 1)
    return {"id": span_id, "layer": layer, "label": label, "start": start, "end": start + len(covered),
            "text": covered, "attributes": attributes}


def _seed_entry(text: str, annotator: str = "maria", **changes) -> dict:
    """A realistic annotation of the seed article's first sentence."""
    spans = [
        _span(text, "ARY News", "attribution", "SOURCE", 1),
        _span(text, "as reported by", "attribution", "CUE", 2),
        _span(text, "Khaled Meshaal, the leader of Hamas, engaged in a telephone conversation", "attribution",
              "CONTENT", 3),
        _span(text, "brutalities", "loaded_language", "LOADED_LANGUAGE", 4, polarity="negative", voice="attributed"),
    ]
    entry = {
        "annotator": annotator,
        "status": "done",
        "spans": spans,
        "attributions": [{
            "id": 9, "relation": "attribution",
            "attributes": {"source_kind": "media_outlet", "cue_type": "as_reported_by", "quote_type": "indirect"},
            "parts": [{"role": "source", "span_id": 1}, {"role": "cue", "span_id": 2}, {"role": "content", "span_id": 3}],
        }],
        "sentence_labels": [{"sentence_id": 101, "layer": "claim_type", "value": "event", "unsure": True,
                             "comment": "reported speech"}],
    }
    return entry | changes


def _document(world) -> dict:
    document = world["document"]
    return {"id": 1, "title": document.title, "text": document.text, "language": "en", "metadata": {},
            "url": None, "outlet": None, "published": None,
            "sentences": [{"id": 101 + s.position, "position": s.position, "start": s.start, "end": s.end}
                          for s in world["sentences"]]}


def _line(world, entry: dict) -> str:
    """A per-annotator JSONL line."""
    return json.dumps({"project": "elsewhere", "codebook_version": 1, "document": _document(world), **entry},
                      ensure_ascii=False)


def _read(tmp_path, name: str, content: str, file_format: str, **options) -> list:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return read_annotation_file(path, file_format, codebook=default_codebook(), **options)


def _counts(session) -> dict[str, int]:
    session.rollback()  # a fresh snapshot: see what other sessions committed
    return {table.name: session.scalar(select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables}


# -- this project's JSONL ----------------------------------------------------------------------


def test_jsonl_import_writes_everything_and_audits(world, session, tmp_path):
    text = world["document"].text
    records = _read(tmp_path, "a.jsonl", _line(world, _seed_entry(text)) + "\n", "jsonl")
    assert not [r for r in records if isinstance(r, IngestError)]
    before = _counts(session)
    summary = import_annotations(session, world["sup"], world["project"].id, records, source="a.jsonl")
    assert (summary.documents_matched, summary.documents_created) == (1, 0)
    assert (summary.spans, summary.attributions, summary.sentence_labels) == (4, 1, 1)
    assert summary.annotators_created == ["maria"]

    maria = session.scalar(select(User).where(User.username == "maria"))
    # A stand-in account: an annotator who cannot log in until an admin hands it to someone.
    assert (maria.role, maria.active) == ("annotator", False)
    assert users.authenticate(session, "maria", "") is None
    maria.active = True
    assert users.authenticate(session, "maria", users.UNUSABLE_PASSWORD) is None
    session.rollback()

    spans = session.scalars(select(Span).where(Span.user_id == maria.id).order_by(Span.start)).all()
    assert [(s.label, s.text) for s in spans] == [
        ("CONTENT", "Khaled Meshaal, the leader of Hamas, engaged in a telephone conversation"),
        ("CUE", "as reported by"), ("SOURCE", "ARY News"), ("LOADED_LANGUAGE", "brutalities")]
    assert spans[3].attributes == {"polarity": "negative", "voice": "attributed"}
    assert spans[3].sentence_id == world["sentences"][4].id  # "brutalities" is in the fifth sentence
    attribution = session.scalar(select(Attribution).where(Attribution.user_id == maria.id))
    assert sorted((p.role, p.span.label) for p in attribution.parts) == [
        ("content", "CONTENT"), ("cue", "CUE"), ("source", "SOURCE")]
    assert attribution.attributes["cue_type"] == "as_reported_by"
    label = session.scalar(select(SentenceLabel).where(SentenceLabel.user_id == maria.id))
    assert (label.sentence_id, label.value, label.unsure, label.comment) == (
        world["sentences"][0].id, "event", True, "reported speech")
    assignment = session.scalar(select(Assignment).where(Assignment.user_id == maria.id))
    assert assignment.status == "done" and assignment.completed_at is not None

    event = session.scalar(select(Event).where(Event.action == "import_annotations"))
    assert (event.entity_type, event.entity_id, event.user_id) == ("assignments", assignment.id, world["sup"].id)
    assert event.after == {"document_id": world["document"].id, "annotator": "maria", "source": "a.jsonl",
                           "spans": 4, "attributions": 1, "sentence_labels": 1, "replaced": None}
    after = _counts(session)
    assert after["spans"] - before["spans"] == 4 and after["documents"] == before["documents"]


def test_jsonl_lines_of_one_document_merge_and_per_document_lines_are_read(world, tmp_path):
    text = world["document"].text
    per_annotator = [_line(world, _seed_entry(text, "maria")), _line(world, _seed_entry(text, "omar"))]
    per_document = json.dumps({"project": "p", "codebook_version": 1, "document": _document(world),
                               "annotations": [_seed_entry(text, "lina")]})
    records = _read(tmp_path, "mixed.jsonl", "\n".join([*per_annotator, "", per_document]) + "\n", "jsonl")
    assert len(records) == 1
    assert [(e["annotator"], e["line"]) for e in records[0]["annotations"]] == [("maria", 1), ("omar", 2), ("lina", 4)]


# -- doccano -----------------------------------------------------------------------------------


MAPPING_TOML = """\
relation = "attribution"

[labels]
ORG = "SOURCE"
SAYS = "CUE"
QUOTE = "CONTENT"

[layers]
SOURCE = "attribution"

[roles]
said_by = "source"
what = "content"

[choices]
claim = "claim_type"
"""


def test_doccano_both_shapes_with_mapping(world, session, tmp_path):
    text = world["document"].text
    source, cue = _span(text, "ARY News", "", "", 0), _span(text, "as reported by", "", "", 0)
    content = _span(text, "Khaled Meshaal, the leader of Hamas", "", "", 0)
    mapping_path = tmp_path / "mapping.toml"
    mapping_path.write_text(MAPPING_TOML)
    mapping = load_mapping(mapping_path)
    objects = {"id": 7, "text": text, "user": "omar",
               "entities": [{"id": 11, "start_offset": source["start"], "end_offset": source["end"], "label": "ORG"},
                            {"id": 12, "start_offset": cue["start"], "end_offset": cue["end"], "label": "SAYS"},
                            {"id": 13, "start_offset": content["start"], "end_offset": content["end"], "label": "QUOTE"}],
               "relations": [{"id": 1, "from_id": 11, "to_id": 12, "type": "said_by"},  # anchor at either end
                             {"id": 2, "from_id": 12, "to_id": 13, "type": "what"}]}
    old_shape = {"text": text, "label": [[source["start"], source["end"], "ORG"], [cue["start"], cue["end"], "CUE"]]}
    content_lines = json.dumps(objects) + "\n" + json.dumps(old_shape) + "\n"
    records = _read(tmp_path, "doccano.jsonl", content_lines, "doccano", mapping=mapping, annotator="lina")
    assert not [r for r in records if isinstance(r, IngestError)]
    summary = import_annotations(session, SYSTEM, world["project"].id, records, source="doccano.jsonl")
    assert (summary.entries, summary.spans, summary.attributions) == (2, 5, 1)
    omar = session.scalar(select(User).where(User.username == "omar"))
    attribution = session.scalar(select(Attribution).where(Attribution.user_id == omar.id))
    assert sorted((p.role, p.span.text) for p in attribution.parts) == [
        ("content", "Khaled Meshaal, the leader of Hamas"), ("cue", "as reported by"), ("source", "ARY News")]
    lina = session.scalar(select(User).where(User.username == "lina"))  # from --annotator
    assert sorted(session.scalars(select(Span.label).where(Span.user_id == lina.id))) == ["CUE", "SOURCE"]


def test_doccano_offsets_are_utf16_and_label_studio_offsets_are_code_points(world, session, tmp_path):
    text = "Ministerin 🙂 Müller sagte, die Lage in Lahore (لاہور) sei ernst.\n\nNoch ein Satz 😀 von ARY News."
    start = text.index("Müller")
    utf16 = start + 1  # the emoji before it is two UTF-16 code units
    doccano_line = json.dumps({"text": text, "annotator": "omar", "entities": [
        {"id": 1, "start_offset": utf16, "end_offset": utf16 + 6, "label": "SOURCE"},
        {"id": 2, "start_offset": text.index("لاہور") + 1, "end_offset": text.index("لاہور") + 6, "label": "SOURCE"},
        {"id": 3, "start_offset": text.index("ARY") + 2, "end_offset": text.index("ARY") + 10, "label": "SOURCE"}]},
        ensure_ascii=False)
    task = [{"id": 1, "data": {"text": text}, "annotations": [{"completed_by": {"id": 3, "email": "lina@example.org"},
             "result": [{"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
                         "value": {"start": start, "end": start + 6, "text": "Müller", "labels": ["SOURCE"]}}]}]}]
    records = _read(tmp_path, "d.jsonl", doccano_line + "\n", "doccano") + \
        _read(tmp_path, "ls.json", json.dumps(task, ensure_ascii=False), "labelstudio")
    assert not [r for r in records if isinstance(r, IngestError)]
    summary = import_annotations(session, SYSTEM, world["project"].id, records, source="mixed")
    assert summary.documents_created == 1  # created from the text, then matched by the second file
    assert sorted(session.scalars(select(Span.text))) == ["ARY News", "Müller", "Müller", "لاہور"]
    created = session.scalar(select(Document).where(Document.text == text))
    assert [(s.start, s.end) for s in created.sentences][-1] == (text.index("Noch"), len(text))


# -- Label Studio ------------------------------------------------------------------------------


def test_label_studio_tasks_with_relations_choices_and_user_ids(world, session, tmp_path):
    text = world["document"].text
    regions = {key: _span(text, covered, "", "", 0) for key, covered in
               (("s", "ARY News"), ("c", "as reported by"), ("t", "Khaled Meshaal, the leader of Hamas"))}
    labels = {"s": "ORG", "c": "SAYS", "t": "QUOTE"}
    first = world["sentences"][0]
    result = [{"id": key, "from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": r["start"], "end": r["end"], "text": r["text"], "labels": [labels[key]]}}
              for key, r in regions.items()]
    result += [{"from_id": "c", "to_id": "s", "type": "relation", "direction": "right", "labels": ["said_by"]},
               {"from_id": "c", "to_id": "t", "type": "relation", "direction": "right", "labels": []},
               {"id": "x", "from_name": "claim", "to_name": "text", "type": "choices",
                "value": {"start": first.start, "end": first.end, "choices": ["event"]}}]
    tasks = [{"id": 1, "data": {"text": text}, "annotations": [
        {"id": 1, "completed_by": 42, "result": result, "was_cancelled": False},
        {"id": 2, "completed_by": 43, "result": [], "was_cancelled": True}]}]
    mapping_path = tmp_path / "mapping.json"
    mapping_path.write_text(json.dumps({"labels": {"ORG": "SOURCE", "SAYS": "CUE", "QUOTE": "CONTENT"},
                                        "roles": {"said_by": "source"}, "choices": {"claim": "claim_type"}}))
    records = _read(tmp_path, "ls.json", json.dumps(tasks, indent=2), "labelstudio",
                    mapping=load_mapping(mapping_path))
    assert not [r for r in records if isinstance(r, IngestError)]
    import_annotations(session, SYSTEM, world["project"].id, records, source="ls.json")
    user = session.scalar(select(User).where(User.username == "labelstudio-user-42"))
    assert user is not None and session.scalar(select(func.count(User.id))) == 3  # the cancelled one is skipped
    attribution = session.scalar(select(Attribution).where(Attribution.user_id == user.id))
    assert sorted(p.role for p in attribution.parts) == ["content", "cue", "source"]
    label = session.scalar(select(SentenceLabel).where(SentenceLabel.user_id == user.id))
    assert (label.sentence_id, label.layer, label.value) == (first.id, "claim_type", "event")


# -- problems ----------------------------------------------------------------------------------


def _bad_file(world, tmp_path):
    """A JSONL file with one good line and a problem on each of the others."""
    text = world["document"].text
    shifted = _seed_entry(text, "omar")
    shifted["spans"][0] = shifted["spans"][0] | {"start": shifted["spans"][0]["start"] + 1}
    unknown_label = _seed_entry(text, "lina")
    unknown_label["spans"][1] = unknown_label["spans"][1] | {"label": "SPEAKER"}
    out_of_range = _seed_entry(text, "sami")
    out_of_range["spans"][3] = out_of_range["spans"][3] | {"start": len(text) + 5, "end": len(text) + 9}
    missing_part = _seed_entry(text, "dana")
    missing_part["attributions"][0]["parts"].append({"role": "content", "span_id": 99})
    lines = [_line(world, _seed_entry(text, "maria")), "{not json", _line(world, shifted), _line(world, unknown_label),
             _line(world, out_of_range), _line(world, missing_part), _line(world, _seed_entry(text, "maria"))]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, [
        (2, "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
        (3, "annotator 'omar': spans[0]: text does not match the document at start:end"),
        (4, "annotator 'lina': spans[1]: 'SPEAKER' is not a label of span layer 'attribution'; "
            "choose from SOURCE, CUE, CONTENT, SUPPLEMENT"),
        (5, f"annotator 'sami': spans[3]: start must be between 0 and {len(text) - 1}"),
        (6, "annotator 'dana': attributions[0]: parts[3] refers to no span of this annotator's spans"),
        (7, "annotator 'maria' already annotated this document on line 1"),
    ]


def test_every_problem_is_reported_with_its_line_and_nothing_is_written(world, session, tmp_path):
    path, expected = _bad_file(world, tmp_path)
    before = _counts(session)
    read = read_annotation_file(path, "jsonl", codebook=default_codebook())
    records = [item for item in read if not isinstance(item, IngestError)]
    with pytest.raises(ImportRejected) as caught:
        import_annotations(session, world["sup"], world["project"].id, records, source=str(path),
                           read_problems=[item for item in read if isinstance(item, IngestError)])
    assert [(problem.line, problem.reason) for problem in caught.value.problems] == expected
    assert str(caught.value.problems[0]) == f"{path}:2: {expected[0][1]}"
    # Valid lines made a user, an assignment and spans before the problems were known: all gone.
    assert _counts(session) == before


def test_cli_prints_every_problem_and_writes_nothing(world, session, cli, tmp_path):
    path, expected = _bad_file(world, tmp_path)
    before = _counts(session)
    result = cli("import-annotations", str(path), "--project", "news", "--format", "jsonl")
    assert result.exit_code != 0
    assert result.stderr.splitlines()[:-1] == [f"{path}:{line}: {message}" for line, message in expected]
    assert "6 problem(s); nothing was imported" in result.stderr
    assert _counts(session) == before


def test_cli_imports_and_summarises(world, session, cli, tmp_path):
    path = tmp_path / "good.jsonl"
    path.write_text(_line(world, _seed_entry(world["document"].text)) + "\n", encoding="utf-8")
    result = cli("import-annotations", str(path), "--project", "news", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert "imported 4 span(s), 1 attribution(s) and 1 sentence label(s)" in result.output
    assert "created 1 inactive account(s): maria" in result.output
    again = cli("import-annotations", str(path), "--project", "news", "--format", "jsonl")
    assert again.exit_code != 0
    assert "annotator 'maria' already has 4 spans, 1 attributions, 1 sentence labels on document" in again.stderr
    assert cli("import-annotations", str(path), "--project", "news", "--format", "jsonl", "--replace").exit_code == 0
    assert _counts(session)["spans"] == 4
    missing = cli("import-annotations", str(path), "--project", "nope", "--format", "jsonl")
    assert missing.exit_code != 0 and "no project named 'nope'" in missing.output


def test_cli_counts_the_spans_it_stores_with_or_without_ids(world, session, cli, tmp_path):
    """A span needs an id only when an attribution names it as a part: the summary and the
    audit events count every row stored."""
    text = world["document"].text
    no_ids = _seed_entry(text, "maria", attributions=[])
    for span in no_ids["spans"]:
        del span["id"]
    some_ids = _seed_entry(text, "omar")
    del some_ids["spans"][3]["id"]  # the loaded language, in no attribution
    path = tmp_path / "no-ids.jsonl"
    path.write_text(_line(world, no_ids) + "\n" + _line(world, some_ids) + "\n", encoding="utf-8")
    result = cli("import-annotations", str(path), "--project", "news", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    session.rollback()
    stored = {name: session.scalar(select(func.count()).select_from(model))
              for name, model in (("spans", Span), ("attributions", Attribution), ("sentence_labels", SentenceLabel))}
    assert stored == {"spans": 8, "attributions": 1, "sentence_labels": 2}
    assert (f"imported {stored['spans']} span(s), {stored['attributions']} attribution(s) and "
            f"{stored['sentence_labels']} sentence label(s) of 2 document-annotator pair(s)") in result.output
    events = session.scalars(select(Event).where(Event.action == "import_annotations")).all()
    assert {name: sum(event.after[name] for event in events) for name in stored} == stored
    for event in events:
        user = session.scalar(select(User).where(User.username == event.after["annotator"]))
        assert event.after["spans"] == session.scalar(select(func.count(Span.id)).where(Span.user_id == user.id)) == 4


def test_problems_in_doccano_and_label_studio_files_name_lines(world, tmp_path):
    text = world["document"].text
    doccano_lines = [
        json.dumps({"text": text, "annotator": "a", "entities": [
            {"id": 1, "start_offset": 0, "end_offset": 6, "label": "PERSON"}]}),
        json.dumps({"text": text, "annotator": "b", "entities": [
            {"id": 1, "start_offset": 0, "end_offset": 6, "label": "SOURCE"}],
            "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "source"}]}),
        json.dumps({"text": text, "entities": []}),
        json.dumps({"text": text, "annotator": "c", "entities": [
            {"id": [1], "start_offset": 0, "end_offset": 6, "label": "SOURCE"}]}),
        json.dumps({"text": text, "annotator": "d", "entities": [],
                    "relations": [{"id": 1, "from_id": {"id": 1}, "to_id": 2, "type": "source"}]}),
    ]
    read = _read(tmp_path, "d.jsonl", "\n".join(doccano_lines), "doccano")
    assert [(p.line, p.reason) for p in read if isinstance(p, IngestError)] == [
        (1, "entities[0]: label 'PERSON' is not a label of the codebook; map it in [labels] (and [layers]) "
            "of the mapping file"),
        (2, "relations[0]: links to 2, which is not an entity of this document"),
        (3, "the file does not say who annotated this; name the annotator (--annotator NAME)"),
        (4, "entities[0]: id must be a string or an integer"),
        (5, "relations[0]: from_id and to_id must be strings or integers"),
    ]
    tasks = '[\n  {"data": {"text": "A text."}, "annotations": []},\n  {"data": {}},\n  {"data": {"text": "B."},' \
            ' "annotations": [{"completed_by": 1, "result": [{"type": "rectanglelabels", "value": {"start": 0, "end": 1}},' \
            ' {"id": ["r"], "type": "labels", "value": {"start": 0, "end": 1, "labels": ["SOURCE"]}},' \
            ' {"type": "relation", "from_id": [1], "to_id": "r"}]}]}\n]'
    read = _read(tmp_path, "ls.json", tasks, "labelstudio")
    assert [(p.line, p.reason) for p in read if isinstance(p, IngestError)] == [
        (3, "task 2: data.text is required (a string)"),
        (4, "task 3: annotations[0].result[0]: result type 'rectanglelabels' is not supported "
            "(labels, relation, choices)"),
        (4, "task 3: annotations[0].result[1]: id must be a string or an integer"),
        (4, "task 3: annotations[0].result[2]: a relation needs from_id and to_id (region ids: strings or integers)"),
    ]
    assert [str(p) for p in _read(tmp_path, "broken.json", '[{"data": {}}\n  {', "labelstudio")] == [
        f"{tmp_path / 'broken.json'}:2: invalid JSON: expected ',' or ']' (column 3)"]
    mapping = tmp_path / "m.toml"
    mapping.write_text("[labels]\nPER = 3\n[colours]\n")
    assert [p.reason for p in load_mapping(mapping)] == [
        "[labels] must map names to names (strings)",
        "unknown key 'colours'; use labels, layers, roles, choices, attributes, values or relation"]


# -- authorisation, existing annotations -------------------------------------------------------


def test_annotators_cannot_import(world, session):
    records = [{"document": _document(world), "annotations": [_seed_entry(world["document"].text)]}]
    before = _counts(session)
    with pytest.raises(Forbidden):
        import_annotations(session, world["ann"], world["project"].id, records, source="x")
    assert _counts(session) == before
    summary = import_annotations(session, world["sup"], world["project"].id, records, source="x")
    assert summary.spans == 4


def test_existing_annotations_are_refused_unless_replaced(world, session):
    text = world["document"].text
    records = lambda entry: [{"document": _document(world), "annotations": [entry]}]  # noqa: E731
    import_annotations(session, SYSTEM, world["project"].id, records(_seed_entry(text, "ann")), source="first")
    before = _counts(session)
    with pytest.raises(ImportRejected) as caught:
        import_annotations(session, SYSTEM, world["project"].id, records(_seed_entry(text, "ann")), source="again")
    assert [str(p) for p in caught.value.problems] == [
        f"again: record 1: annotator 'ann' already has 4 spans, 1 attributions, 1 sentence labels on document "
        f"{world['document'].id} ({world['document'].title!r}); nothing was merged: import with replace to delete "
        "them first"]
    assert _counts(session) == before
    fewer = _seed_entry(text, "ann", attributions=[], sentence_labels=[])
    fewer["spans"] = fewer["spans"][:1]
    summary = import_annotations(session, SYSTEM, world["project"].id, records(fewer), source="fix", replace=True)
    assert summary.replaced == 1
    ann = world["ann"]
    assert session.scalars(select(Span.text).where(Span.user_id == ann.id)).all() == ["ARY News"]
    assert session.scalar(select(func.count(Attribution.id))) == 0
    assert session.scalar(select(func.count(SentenceLabel.id))) == 0
    event = session.scalars(select(Event).where(Event.action == "import_annotations").order_by(Event.id)).all()[-1]
    assert event.after["replaced"] == {"spans": 4, "attributions": 1, "sentence_labels": 1}
    assert users.authenticate(session, "ann", PASSWORD) is not None  # an existing account is used as it is


# -- round trips -------------------------------------------------------------------------------


def _export(session, project, module=jsonl, **options) -> str:
    records = exports.document_records(session, SYSTEM, project.id, secret_key=SECRET, usernames=True)
    return "".join(module.export(records, projects.project_codebook(project), **options))


def _bare_document(document: dict) -> dict:
    return {**{k: v for k, v in document.items() if k not in ("id", "sentences")},
            "sentences": [{k: v for k, v in s.items() if k != "id"} for s in document["sentences"]]}


def _without_ids(line: dict) -> dict:
    """A per-annotator line with database ids replaced by positions (they differ per instance)."""
    document = line["document"]
    sentences = {s["id"]: s["position"] for s in document["sentences"]}
    spans = {span["id"]: index for index, span in enumerate(line["spans"])}
    return {
        "document": _bare_document(document),
        "annotator": line["annotator"], "status": line["status"],
        "spans": [{**{k: v for k, v in s.items() if k not in ("id", "sentence_id")},
                   "sentence": sentences[s["sentence_id"]]} for s in line["spans"]],
        "attributions": [{**{k: v for k, v in a.items() if k not in ("id", "parts")},
                          "parts": sorted((p["role"], spans[p["span_id"]]) for p in a["parts"])}
                         for a in line["attributions"]],
        "sentence_labels": [{**{k: v for k, v in label.items() if k != "sentence_id"},
                             "sentence": sentences[label["sentence_id"]]} for label in line["sentence_labels"]],
    }


def _lines(exported: str) -> list[dict]:
    return [_without_ids(json.loads(line)) for line in exported.splitlines()]


def test_jsonl_round_trip_into_an_empty_project(world, session, tmp_path):
    text = world["document"].text
    records = [{"document": _document(world), "annotations": [_seed_entry(text, "ann"), _seed_entry(text, "maria")]}]
    import_annotations(session, SYSTEM, world["project"].id, records, source="setup")
    exported = _export(session, world["project"])
    path = tmp_path / "export.jsonl"
    path.write_text(exported, encoding="utf-8")

    empty = projects.create_project(session, SYSTEM, "copy")
    read = read_annotation_file(path, "jsonl")
    summary = import_annotations(session, SYSTEM, empty.id, read, source=str(path))
    assert (summary.documents_created, summary.entries, summary.annotators_created) == (1, 2, [])
    again = _export(session, empty)
    assert _lines(again) == _lines(exported)
    assert [line["annotator"] for line in _lines(again)] == ["ann", "maria"]
    assert _lines(exported)[0]["spans"][0]["created_at"] is not None  # timestamps survive too


@pytest.mark.parametrize("module, file_format", [(doccano_export, "doccano"), (labelstudio, "labelstudio")])
def test_interop_exports_import_back(world, session, tmp_path, module, file_format):
    text = world["document"].text
    entry = _seed_entry(text, "ann")
    records = [{"document": _document(world), "annotations": [entry]}]
    import_annotations(session, SYSTEM, world["project"].id, records, source="setup")
    path = tmp_path / f"export.{module.EXTENSION}"
    path.write_text(_export(session, world["project"], module), encoding="utf-8")

    empty = projects.create_project(session, SYSTEM, "copy")
    read = read_annotation_file(path, file_format, codebook=default_codebook())
    assert not [item for item in read if isinstance(item, IngestError)]
    import_annotations(session, SYSTEM, empty.id, read, source=str(path))
    essentials = lambda line: {key: [{k: v for k, v in item.items() if k not in ("created_at", "updated_at")}  # noqa: E731
                                     for item in line[key]] for key in ("spans", "attributions", "sentence_labels")}
    original, copied = _lines(_export(session, world["project"])), _lines(_export(session, empty))
    assert [essentials(line) for line in copied] == [essentials(line) for line in original]
    assert [len(copied[0][key]) for key in ("spans", "attributions", "sentence_labels")] == [4, 1, 1]
    assert copied[0]["attributions"][0]["attributes"]["cue_type"] == "as_reported_by"


def test_cli_round_trip_export_import_export(world, session, cli, tmp_path):
    text = world["document"].text
    records = [{"document": _document(world), "annotations": [_seed_entry(text, "ann"), _seed_entry(text, "omar")]}]
    import_annotations(session, SYSTEM, world["project"].id, records, source="setup")
    imports.import_articles(session, SYSTEM, world["project"].id, read_file(SEEDS / "gulfledger_desalination.html"))
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert cli("export", "--project", "news", "--format", "jsonl-documents", "--usernames",
               "--out", str(first)).exit_code == 0
    assert cli("project", "create", "copy").exit_code == 0
    imported = cli("import-annotations", str(first), "--project", "copy", "--format", "jsonl")
    assert imported.exit_code == 0, imported.output
    assert "2 new document(s)" in imported.output  # one nobody annotated, too
    assert cli("export", "--project", "copy", "--format", "jsonl-documents", "--usernames",
               "--out", str(second)).exit_code == 0
    per_annotator = lambda path: [  # noqa: E731
        _without_ids({**json.loads(line), **entry})
        for line in path.read_text(encoding="utf-8").splitlines() for entry in json.loads(line)["annotations"]]
    assert per_annotator(second) == per_annotator(first)
    assert len(per_annotator(first)) == 2
    documents_of = lambda path: [_bare_document(json.loads(line)["document"])  # noqa: E731
                                 for line in path.read_text(encoding="utf-8").splitlines()]
    assert documents_of(second) == documents_of(first) and len(documents_of(first)) == 2


def test_malformed_records_are_problems_not_crashes(world, session):
    text = world["document"].text
    document = _document(world)
    broken_span = _seed_entry(text, "omar")
    broken_span["spans"][0] = {**broken_span["spans"][0], "start": "10", "attributes": []}
    bad_ids = _seed_entry(text, "dana", sentence_labels=[])
    bad_ids["spans"][1]["id"] = [2]
    bad_ids["spans"][3]["id"] = 1
    bad_ids["attributions"].append({"parts": [{"role": "cue", "span_id": {"id": 2}}]})
    records = [
        "not a record",
        {"document": {"text": "   "}, "annotations": []},
        {"document": document, "annotations": [{"annotator": 5}, {"annotator": "lina", "spans": {}},
                                               {"annotator": "sami", "status": "finished"}]},
        {"document": document, "annotations": [broken_span | {"sentence_labels": [
            {"sentence_id": 999, "layer": "claim_type", "value": "event"},
            {"sentence_id": 101, "layer": "claim_type", "value": "gossip"},
            {"start": 0, "layer": "tone", "value": "x"}]}]},
        {"document": document, "annotations": [bad_ids]},
    ]
    before = _counts(session)
    with pytest.raises(ImportRejected) as caught:
        import_annotations(session, SYSTEM, world["project"].id, records, source="api")
    assert [p.reason for p in caught.value.problems] == [
        "record 1: a record has a document and a list of annotations",
        "record 2: the document text is empty",
        "record 3: annotator must be str, not int",
        "record 3: spans must be list, not dict",
        "record 3: status must be one of assigned, in_progress, done, withdrawn",
        "record 4: annotator 'omar': spans[0]: attributes must be dict, not list",
        "record 4: annotator 'omar': sentence_labels[0]: sentence_id 999 is not a sentence of the record with "
        "the same offsets as one of the stored document",
        "record 4: annotator 'omar': sentence_labels[1]: 'gossip' is not a value of choice layer 'claim_type'; "
        "choose from event, quantity, causal, prediction, rule, personal_experience, opinion, not_claim",
        "record 4: annotator 'omar': sentence_labels[2]: 'tone' is not a sentence layer of this codebook",
        "record 5: annotator 'dana': spans[1]: id must be a string or an integer, not list",
        "record 5: annotator 'dana': spans[3]: id 1 is used by another span",
        "record 5: annotator 'dana': attributions[1]: parts[0].span_id must be a string or an integer, not dict",
    ]
    assert _counts(session) == before


def test_spans_follow_offsets_when_this_instance_segments_differently(world, session):
    """A record from an instance that split the first sentence in two: its spans land in the
    sentence that holds them here; a sentence label on a sentence this instance lacks cannot."""
    text = world["document"].text
    document = _document(world)
    split = text.index("engaged")
    first, *rest = document["sentences"]
    document["sentences"] = [{"id": 1, "position": 0, "start": 0, "end": split - 1},
                             {"id": 2, "position": 1, "start": split, "end": first["end"]},
                             *({**s, "position": s["position"] + 1} for s in rest)]
    entry = _seed_entry(text, "omar", sentence_labels=[])
    for span in entry["spans"][:3]:
        span["sentence_id"] = 1 if span["start"] < split else 2
    record = {"document": document, "annotations": [entry]}
    summary = import_annotations(session, SYSTEM, world["project"].id, [record], source="other-instance")
    assert summary.spans == 4
    assert set(session.scalars(select(Span.sentence_id).where(Span.layer == "attribution"))) == {world["sentences"][0].id}
    labelled = _seed_entry(text, "lina", spans=[], attributions=[],
                           sentence_labels=[{"sentence_id": 2, "layer": "claim_type", "value": "event"}])
    with pytest.raises(ImportRejected) as caught:
        import_annotations(session, SYSTEM, world["project"].id, [{"document": document, "annotations": [labelled]}],
                           source="other-instance")
    assert "sentence_id 2 is not a sentence of the record" in str(caught.value.problems[0])


def test_bytes_are_read_and_must_be_utf8():
    assert [str(p) for p in read_annotation_file(b'{"a": 1}\n\xff\n', "doccano", name="up.jsonl")] == [
        "up.jsonl:2: not UTF-8 (JSON files are UTF-8)"]
    line = json.dumps({"text": "Fine text.", "annotator": "x", "entities": []}).encode()
    assert read_annotation_file(line, "doccano", name="up.jsonl")[0]["annotations"][0]["annotator"] == "x"
