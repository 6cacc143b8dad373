"""Exports: the record service, CSV, sentence CSV and both JSONL variants, the command and the
downloads, on the seed article with known annotations by two annotators (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from operator import itemgetter

import jsonschema
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, select

from annotator import exporters
from annotator.errors import Forbidden, NotFound, ServiceError
from annotator.exporters.csv_spans import cell
from annotator.ingest import read_bytes, read_paths
from annotator.models import Assignment, Document, Sentence, SentenceLabel
from annotator.services import annotations, assignments, exports
from annotator.services.permissions import SYSTEM

from .conftest import REPO, SEED_TXT
from .helpers import Client, add_users, assign, project_with

SECRET = "test-secret"  # the app fixture's SECRET_KEY
SCHEMAS = {
    "jsonl": json.loads((REPO / "docs" / "export-schema-jsonl.json").read_text()),
    "jsonl-documents": json.loads((REPO / "docs" / "export-schema-jsonl-documents.json").read_text()),
}
HYPERLINK = '=HYPERLINK("http://example.com/x","click")'
PLUS_TITLE = "+SUM(1,2) officials count the votes"
SPAN_COLUMNS = [
    "project", "document_id", "title", "url", "outlet", "sentence_id", "sentence_position", "sentence_text",
    "annotator", "layer", "label", "start", "end", "sentence_start", "sentence_end", "text",
    "fragments", "comment", "entity_id", "entity_name", "attr_polarity", "attr_voice", "attribution_id", "role", "attribution_source_kind",
    "attribution_identification", "attribution_cue_type", "attribution_quote_type",
    "codebook_version", "created_at", "updated_at",
]
SENTENCE_COLUMNS = [
    "project", "document_id", "title", "url", "outlet", "sentence_id", "sentence_position", "sentence_text",
    "annotator", "status", "claim_type", "claim_type_unsure", "claim_type_comment",
    "check_worthy", "check_worthy_unsure", "check_worthy_comment", "codebook_version",
]


def _span(session, user, document, phrase, layer, label, attributes=None) -> dict:
    start = document.text.index(phrase)
    data = {"layer": layer, "label": label, "start": start, "end": start + len(phrase), "text": phrase}
    if attributes:
        data["attributes"] = attributes
    return annotations.create_span(session, user, document.id, data)


def _attribution(session, user, document, attributes, **parts) -> dict:
    body = [{"role": role, "span_id": span["id"]} for role, spans in parts.items() for span in spans]
    return annotations.create_attribution(session, user, document.id, {"attributes": attributes, "parts": body})


@pytest.fixture
def world(app, session):
    """The seed article annotated by ann1 and ann2 (and by ann3, withdrawn since); a second
    document, whose title starts with "+", for ann1 alone; a third nobody is assigned."""
    plus = read_bytes("plus.txt", f"{PLUS_TITLE}\n\nThe count went on. Results follow tomorrow.\n".encode())
    plain = read_bytes("plain.txt", b"Unassigned article\n\nNobody reads this one.\n")
    project = project_with(session, read_paths([SEED_TXT]) + plus + plain)
    people = add_users(session, {"ann1": "annotator", "ann2": "annotator", "ann3": "annotator", "sup": "supervisor"})
    seed, second, third = session.scalars(select(Document).order_by(Document.id)).all()
    assign(session, project, [people[name] for name in ("ann1", "ann2", "ann3")], [seed])
    assign(session, project, [people["ann1"]], [second])
    ann1, ann2, ann3 = people["ann1"], people["ann2"], people["ann3"]
    sentences = session.scalars(select(Sentence).where(Sentence.document_id == seed.id).order_by(Sentence.position)).all()

    source = _span(session, ann1, seed, "ARY News", "attribution", "SOURCE")
    cue = _span(session, ann1, seed, "as reported by", "attribution", "CUE")
    content = _span(session, ann1, seed, "Khaled Meshaal, the leader of Hamas, engaged in a telephone conversation",
                    "attribution", "CONTENT")
    _attribution(session, ann1, seed, {"source_kind": "media_outlet", "cue_type": "as_reported_by"},
                 source=[source], cue=[cue], content=[content])
    _span(session, ann1, seed, "Israeli brutalities", "loaded_language", "LOADED_LANGUAGE",
          {"polarity": "negative", "voice": "author"})
    annotations.set_sentence_label(session, ann1, sentences[1].id, "claim_type",
                                   {"value": "event", "unsure": True, "comment": HYPERLINK})
    annotations.set_sentence_label(session, ann1, sentences[1].id, "check_worthy", {"value": "no"})

    aslam = _span(session, ann2, seed, "Aslam Ghauri, the spokesperson for JUI-F", "attribution", "SOURCE")
    conveyed = _span(session, ann2, seed, "conveyed that", "attribution", "CUE")
    update = _span(session, ann2, seed, "Khaled Meshaal updated Maulana Fazlur Rehman", "attribution", "CONTENT")
    noted = _span(session, ann2, seed, "also noted that", "attribution", "CUE")
    commended = _span(session, ann2, seed, "Meshaal commended JUI-F", "attribution", "CONTENT")
    _attribution(session, ann2, seed, {"source_kind": "person", "identification": "named"},
                 source=[aslam], cue=[conveyed], content=[update])
    _attribution(session, ann2, seed, {"source_kind": "person"}, source=[aslam], cue=[noted], content=[commended])
    annotations.set_sentence_label(session, ann2, sentences[1].id, "claim_type", {"value": "opinion"})

    _span(session, ann3, seed, "ARY News", "attribution", "SOURCE")
    withdrawn = session.scalar(select(Assignment).where(Assignment.user_id == ann3.id))
    assignments.withdraw(session, people["sup"], withdrawn.id)
    return {"project": project, "seed": seed, "second": second, "third": third, "sentences": sentences, **people}


def _records(session, world, **options) -> list[dict]:
    return list(exports.document_records(session, SYSTEM, world["project"].id, secret_key=SECRET, **options))


def _export(session, world, name: str, *, usernames=True, annotators=None, **options) -> bytes:
    records = exports.document_records(session, SYSTEM, world["project"].id, secret_key=SECRET,
                                       usernames=usernames, annotators=annotators)
    return b"".join(exporters.stream(name, records, records.codebook, **options))


def _csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_span_csv_rows_and_columns(world, session):
    data = _export(session, world, "csv")
    header = next(csv.reader(io.StringIO(data.decode())))
    assert header == SPAN_COLUMNS
    rows = _csv(data)
    seed = world["seed"]
    # ann1: 3 attribution spans + 1 loaded; ann2: 5 spans, its SOURCE in two attributions (2 rows).
    assert [(r["annotator"], r["label"], r["role"]) for r in rows] == [
        ("ann1", "CONTENT", "content"), ("ann1", "CUE", "cue"), ("ann1", "SOURCE", "source"),
        ("ann1", "LOADED_LANGUAGE", ""),
        ("ann2", "SOURCE", "source"), ("ann2", "SOURCE", "source"), ("ann2", "CUE", "cue"), ("ann2", "CONTENT", "content"),
        ("ann2", "CUE", "cue"), ("ann2", "CONTENT", "content"),
    ]
    source = rows[2]
    start = seed.text.index("ARY News")
    sentence = next(s for s in world["sentences"] if s.start <= start < s.end)
    assert source == {
        "project": "default", "document_id": str(seed.id), "title": seed.title, "url": "", "outlet": "",
        "sentence_id": str(sentence.id), "sentence_position": str(sentence.position),
        "sentence_text": seed.text[sentence.start : sentence.end], "annotator": "ann1",
        "layer": "attribution", "label": "SOURCE", "start": str(start), "end": str(start + 8),
        "sentence_start": str(start - sentence.start), "sentence_end": str(start + 8 - sentence.start),
        "text": "ARY News", "fragments": "", "comment": "", "entity_id": "", "entity_name": "", "attr_polarity": "", "attr_voice": "",
        "attribution_id": source["attribution_id"],
        "role": "source", "attribution_source_kind": "media_outlet", "attribution_identification": "",
        "attribution_cue_type": "as_reported_by", "attribution_quote_type": "", "codebook_version": "1",
        "created_at": source["created_at"], "updated_at": source["updated_at"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", source["created_at"])
    loaded = rows[3]
    assert (loaded["attr_polarity"], loaded["attr_voice"], loaded["attribution_id"]) == ("negative", "author", "")
    shared = rows[4:6]
    assert shared[0]["attribution_id"] != shared[1]["attribution_id"]
    assert [r["attribution_identification"] for r in shared] == ["named", ""]
    for row in rows:
        assert seed.text[int(row["start"]) : int(row["end"])] == row["text"]
        assert row["sentence_text"][int(row["sentence_start"]) : int(row["sentence_end"])] == row["text"]
    layer_only = _csv(_export(session, world, "csv", layer="loaded_language"))
    assert [r["label"] for r in layer_only] == ["LOADED_LANGUAGE"]


def test_sentence_csv(world, session):
    data = _export(session, world, "sentences-csv")
    assert next(csv.reader(io.StringIO(data.decode()))) == SENTENCE_COLUMNS
    rows = _csv(data)
    seed, second, sentences = world["seed"], world["second"], world["sentences"]
    second_sentences = session.scalars(select(Sentence.id).where(Sentence.document_id == second.id)).all()
    # every sentence × annotator: ann1 and ann2 on the seed article, ann1 on the second (2 sentences)
    assert len(second_sentences) == 2
    assert [(r["document_id"], r["annotator"], r["sentence_id"]) for r in rows] == [
        (str(seed.id), name, str(sentence.id)) for name in ("ann1", "ann2") for sentence in sentences
    ] + [(str(second.id), "ann1", str(sid)) for sid in second_sentences]
    by = {(r["annotator"], r["sentence_id"]): r for r in rows}
    first = by[("ann1", str(sentences[1].id))]
    assert first["sentence_text"] == seed.text[sentences[1].start : sentences[1].end]
    assert (first["claim_type"], first["claim_type_unsure"], first["claim_type_comment"]) == ("event", "true", "'" + HYPERLINK)
    assert (first["check_worthy"], first["check_worthy_unsure"], first["check_worthy_comment"]) == ("no", "false", "")
    assert first["status"] == "in_progress"
    other = by[("ann2", str(sentences[1].id))]
    assert (other["claim_type"], other["claim_type_unsure"], other["check_worthy"]) == ("opinion", "false", "")
    empty = by[("ann1", str(sentences[0].id))]
    assert (empty["claim_type"], empty["claim_type_unsure"], empty["claim_type_comment"]) == ("", "", "")
    only = _csv(_export(session, world, "sentences-csv", layer="check_worthy"))
    assert "claim_type" not in only[0] and "check_worthy" in only[0]
    with pytest.raises(ServiceError, match="not a sentence"):
        _export(session, world, "sentences-csv", layer="loaded_language")


def test_jsonl_variants_validate_and_hold_the_annotations(world, session):
    lines = [json.loads(line) for line in _export(session, world, "jsonl").decode().splitlines()]
    documents = [json.loads(line) for line in _export(session, world, "jsonl-documents").decode().splitlines()]
    for name, items in (("jsonl", lines), ("jsonl-documents", documents)):
        for item in items:
            jsonschema.validate(item, SCHEMAS[name], cls=jsonschema.Draft202012Validator)
    seed, second, third = world["seed"], world["second"], world["third"]
    assert [(line["document"]["id"], line["annotator"]) for line in lines] == [
        (seed.id, "ann1"), (seed.id, "ann2"), (second.id, "ann1")]
    assert [record["document"]["id"] for record in documents] == [seed.id, second.id, third.id]
    assert documents[2]["annotations"] == []
    assert [entry["annotator"] for entry in documents[0]["annotations"]] == ["ann1", "ann2"]
    assert lines[0] == {"project": "default", "codebook_version": 1, "document": documents[0]["document"],
                        **documents[0]["annotations"][0]}
    for record in documents:
        text = record["document"]["text"]
        assert [s["position"] for s in record["document"]["sentences"]] == list(range(len(record["document"]["sentences"])))
        for entry in record["annotations"]:
            span_ids = {span["id"] for span in entry["spans"]}
            for span in entry["spans"]:
                assert text[span["start"] : span["end"]] == span["text"]
            for attribution in entry["attributions"]:
                assert {part["span_id"] for part in attribution["parts"]} <= span_ids
    ann2 = documents[0]["annotations"][1]
    assert [(a["attributes"], [p["role"] for p in a["parts"]]) for a in ann2["attributions"]] == [
        ({"source_kind": "person", "identification": "named"}, ["content", "cue", "source"]),
        ({"source_kind": "person"}, ["content", "cue", "source"]),
    ]
    assert [(label["layer"], label["value"], label["unsure"], label["comment"])
            for label in documents[0]["annotations"][0]["sentence_labels"]] == [
        ("check_worthy", "no", False, None), ("claim_type", "event", True, HYPERLINK)]
    raw = _export(session, world, "jsonl-documents")
    assert raw.endswith(b"\n") and raw.count(b"\n") == 3


def test_a_sentence_label_is_exported_only_with_work_in_it(world, session):
    """A label whose value the annotator took back, and that has no unsure flag or comment,
    is no work: no format exports it. Without a value, the flag or the comment is still
    work: exported with value null (empty cells in CSV, no choice in Label Studio)."""
    ann2, sentences = world["ann2"], world["sentences"]
    chosen = annotations.set_sentence_label(session, ann2, sentences[2].id, "claim_type", {"value": "event"})
    annotations.set_sentence_label(session, ann2, sentences[2].id, "claim_type",
                                   {"value": None, "version": chosen["version"]})
    annotations.set_sentence_label(session, ann2, sentences[3].id, "check_worthy", {"value": None, "unsure": True})
    annotations.set_sentence_label(session, ann2, sentences[4].id, "claim_type",
                                   {"value": None, "comment": "two sentences in one"})
    # What the annotation page saves when every value of a multiple-choice layer is unticked.
    session.add(SentenceLabel(user_id=ann2.id, sentence_id=sentences[5].id, layer="check_worthy", value=[]))
    session.commit()
    work = [(sentences[1].id, "claim_type", "opinion", False, None),
            (sentences[3].id, "check_worthy", None, True, None),
            (sentences[4].id, "claim_type", None, False, "two sentences in one")]
    essentials = itemgetter("sentence_id", "layer", "value", "unsure", "comment")

    lines = [json.loads(line) for line in _export(session, world, "jsonl").decode().splitlines()]
    for line in lines:
        jsonschema.validate(line, SCHEMAS["jsonl"], cls=jsonschema.Draft202012Validator)
    (ann2_line,) = [line for line in lines if line["annotator"] == "ann2"]
    assert [essentials(label) for label in ann2_line["sentence_labels"]] == work
    (record, *_) = [json.loads(line) for line in _export(session, world, "jsonl-documents").decode().splitlines()]
    jsonschema.validate(record, SCHEMAS["jsonl-documents"], cls=jsonschema.Draft202012Validator)
    assert [essentials(label) for label in record["annotations"][1]["sentence_labels"]] == work

    doccano_lines = [json.loads(line) for line in _export(session, world, "doccano").decode().splitlines()]
    (ann2_example,) = [line for line in doccano_lines if line["annotator"] == "ann2"]
    assert [essentials(label) for label in ann2_example["sentence_labels"]] == work

    rows = {(row["sentence_id"], row["annotator"]): row for row in _csv(_export(session, world, "sentences-csv"))}
    cells = lambda sentence, layer: tuple(rows[str(sentence.id), "ann2"][f"{layer}{suffix}"]  # noqa: E731
                                          for suffix in ("", "_unsure", "_comment"))
    assert cells(sentences[2], "claim_type") == ("", "", "")
    assert cells(sentences[3], "check_worthy") == ("", "true", "")
    assert cells(sentences[4], "claim_type") == ("", "false", "two sentences in one")
    assert cells(sentences[5], "check_worthy") == ("", "", "")

    task = json.loads(_export(session, world, "labelstudio"))[0]
    (result,) = [a["result"] for a in task["annotations"] if a["completed_by"] == "ann2"]
    sentence_items = sorted((item["id"], item["from_name"]) for item in result if item.get("id", "").startswith("sentence-"))
    assert sentence_items == sorted([
        (f"sentence-{sentences[1].id}", "sentence-region"), (f"sentence-{sentences[1].id}", "claim_type"),
        (f"sentence-{sentences[3].id}", "sentence-region"), (f"sentence-{sentences[3].id}", "check_worthy.unsure"),
        (f"sentence-{sentences[4].id}", "sentence-region"), (f"sentence-{sentences[4].id}", "claim_type.comment"),
    ])


def test_withdrawn_work_is_left_out(world, session):
    records = _records(session, world, usernames=True)
    assert all(entry["annotator"] != "ann3" for record in records for entry in record["annotations"])
    assert b"ann3" not in _export(session, world, "csv") + _export(session, world, "jsonl-documents")


def test_pseudonyms_are_stable_distinct_and_hide_usernames(world, session):
    first = _export(session, world, "jsonl-documents", usernames=False)
    assert first == _export(session, world, "jsonl-documents", usernames=False)
    assert b"ann1" not in first and b"ann2" not in first
    names = [entry["annotator"] for entry in json.loads(first.splitlines()[0])["annotations"]]
    expected = {exports.pseudonym(SECRET, world["project"].id, world[n].id) for n in ("ann1", "ann2")}
    assert set(names) == expected and len(expected) == 2
    assert all(re.fullmatch(r"a-[0-9a-f]{10}", name) for name in names)
    assert names == sorted(names)
    assert exports.pseudonym("another secret", world["project"].id, world["ann1"].id) not in expected
    assert exports.pseudonym(SECRET, world["project"].id + 1, world["ann1"].id) not in expected
    with pytest.raises(ServiceError, match="secret key"):
        exports.document_records(session, SYSTEM, world["project"].id, secret_key="")


def test_annotator_filter(world, session):
    records = _records(session, world, usernames=True, annotators=["ann2"])
    assert [[e["annotator"] for e in r["annotations"]] for r in records] == [["ann2"], [], []]
    with pytest.raises(NotFound, match="'ghost'"):
        exports.document_records(session, SYSTEM, world["project"].id, secret_key=SECRET, annotators=["ghost"])


def test_injection_neutralised_and_bom(world, session):
    rows = _csv(_export(session, world, "sentences-csv"))
    titles = {r["title"] for r in rows}
    assert "'" + PLUS_TITLE in titles and PLUS_TITLE not in titles
    documents = [json.loads(line) for line in _export(session, world, "jsonl-documents").splitlines()]
    assert documents[1]["document"]["title"] == PLUS_TITLE  # JSON is never altered
    with_bom = _export(session, world, "csv", bom=True)
    assert with_bom.startswith(b"\xef\xbb\xbfproject,") and not _export(session, world, "csv").startswith(b"\xef")
    assert not _export(session, world, "jsonl", bom=False).startswith(b"\xef")
    with pytest.raises(ServiceError, match="takes no bom"):
        _export(session, world, "jsonl", bom=True)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("+A1", "'+A1"), ("-A1", "'-A1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("-3", "-3"), ("+1.5", "+1.5"), ("-2e3", "-2e3"), ("a=b", "a=b"), ("", ""),
    (None, ""), (True, "true"), (False, "false"), (["a", "b"], "a|b"), (-3, -3),
])
def test_cell_rules(value, expected):
    assert cell(value) == expected


def test_streaming_in_batches(world, session, engine):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    records = exports.document_records(session, SYSTEM, world["project"].id, secret_key=SECRET, batch_size=1)
    chunks = exporters.stream("jsonl-documents", records, records.codebook)
    assert not isinstance(chunks, list | tuple) and iter(chunks) is chunks
    event.listen(engine, "before_cursor_execute", record)
    try:
        batched = b"".join(chunks)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    document_reads = [s for s in statements if s.lstrip().startswith("SELECT documents.id")]
    # the first batch was read when stream() made the first chunk; then documents 2 and 3, then an empty batch
    assert len(document_reads) == 3
    assert batched == _export(session, world, "jsonl-documents", usernames=False)
    lazy = iter(exports.document_records(session, SYSTEM, world["project"].id, secret_key=SECRET, batch_size=1))
    assert next(lazy)["document"]["id"] == world["seed"].id


def test_only_supervisors_export(world, session):
    with pytest.raises(Forbidden):
        exports.document_records(session, world["ann1"], world["project"].id, secret_key=SECRET)
    records = exports.document_records(session, world["sup"], world["project"].id, secret_key=SECRET)
    assert records.documents == 3
    with pytest.raises(NotFound):
        exports.document_records(session, world["sup"], 999, secret_key=SECRET)
    with pytest.raises(ServiceError, match="unknown export format"):
        exporters.exporter("xlsx")


def test_cli_to_file_and_stdout(world, session, cli, tmp_path):
    out = tmp_path / "export.jsonl"
    result = cli("export", "--format", "jsonl-documents", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == _export(session, world, "jsonl-documents", usernames=False)
    assert "Wrote" in result.stderr
    result = cli("export", "--project", "default", "--format", "csv", "--usernames", "--annotators", "ann1",
                 "--annotators", "ann2", "--bom")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == _export(session, world, "csv", bom=True, annotators=["ann1", "ann2"])
    result = cli("export", "--format", "sentences-csv", "--annotators", "ann2,ann1", "--usernames", "--layer", "claim_type")
    assert result.stdout_bytes == _export(session, world, "sentences-csv", layer="claim_type")
    for args, message in (
        (("--format", "csv", "--layer", "nope"), "'nope' is not a span layer"),
        (("--format", "csv", "--annotators", "ghost"), "no user 'ghost'"),
        (("--format", "csv", "--project", "missing"), "missing"),
        (("--format", "jsonl", "--bom"), "takes no bom"),
    ):
        result = cli("export", *args)
        assert result.exit_code != 0 and message in result.stderr, (args, result.stderr)
    assert cli("export", "--format", "xlsx").exit_code != 0


def test_web_download(world, session, app):
    project_id = world["project"].id
    supervisor = Client(app, "sup")
    response = supervisor.http.get(f"/projects/{project_id}/export/csv?usernames=1&bom=1&annotators=ann1")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="default-csv.csv"'
    assert response.get_data() == _export(session, world, "csv", bom=True, annotators=["ann1"])
    documents = supervisor.http.get(f"/projects/{project_id}/export/jsonl-documents")
    assert documents.headers["Content-Type"] == "application/jsonl"
    assert documents.get_data() == _export(session, world, "jsonl-documents", usernames=False)
    sentences = supervisor.http.get(f"/projects/{project_id}/export/sentences-csv?layer=claim_type&usernames=1")
    assert sentences.get_data() == _export(session, world, "sentences-csv", layer="claim_type")
    assert supervisor.http.get(f"/projects/{project_id}/export/csv?layer=nope").status_code == 400
    assert supervisor.http.get(f"/projects/{project_id}/export/xlsx").status_code == 400
    assert supervisor.http.get(f"/projects/{project_id}/export/csv?annotators=ghost").status_code == 404
    page = supervisor.http.get(f"/projects/{project_id}").get_data(as_text=True)
    assert f'formaction="/projects/{project_id}/export/jsonl-documents"' in page
    assert Client(app, "ann1").http.get(f"/projects/{project_id}/export/csv").status_code == 403
    anonymous = app.test_client().get(f"/projects/{project_id}/export/csv")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def _export_forms(html: str) -> dict:
    """The project page's export forms: {form's action or "all": (layer options as (value,
    selected), format buttons, annotators, usernames ticked)}."""
    forms = {}
    for form in BeautifulSoup(html, "html.parser").select("form.export-form"):
        layer = form.select_one("select[name=layer]")
        options = [(option["value"], option.has_attr("selected")) for option in layer.select("option")]
        buttons = [button.get_text() for button in form.select("button")]
        forms[form.get("action", "all")] = (options, buttons, form.select_one("input[name=annotators]")["value"],
                                            form.select_one("input[name=usernames]").has_attr("checked"))
    return forms


def test_export_form_gives_conll_a_span_layer_and_shows_refusals_on_the_project_page(world, app):
    project_id = world["project"].id
    conll = f"/projects/{project_id}/export/conll"
    supervisor = Client(app, "sup")
    forms = _export_forms(supervisor.http.get(f"/projects/{project_id}").get_data(as_text=True))
    # CoNLL has a form of its own: only the span layers, the first chosen, never "every layer".
    assert forms[conll][:2] == ([("attribution", True), ("loaded_language", False)], ["conll"])
    options, buttons, _, _ = forms["all"]
    assert "conll" not in buttons and len(buttons) == len(exporters.FORMATS) - 1
    assert [value for value, _ in options] == ["", "attribution", "loaded_language", "claim_type", "check_worthy"]
    # What the browser sends from the CoNLL form as it comes.
    sent = supervisor.http.get(f"{conll}?layer=attribution&annotators=&usernames=1")
    assert sent.status_code == 200 and "ARY\tB-SOURCE" in sent.get_data(as_text=True)

    # A request without a valid layer: the project page, the reason, the form as it was sent.
    for query, status, chosen, message in (
        ("?annotators=ann1&usernames=1", 400, "attribution",
         "The conll export was not made: choose a span layer: one of attribution, loaded_language"),
        ("?layer=claim_type&annotators=ann1&usernames=1", 400, "attribution",
         "The conll export was not made: 'claim_type' is not a span layer; choose one of attribution, "
         "loaded_language"),
        ("?layer=loaded_language&annotators=ghost", 404, "loaded_language",
         "The conll export was not made: no user 'ghost'"),
    ):
        refused = supervisor.http.get(conll + query)
        assert (refused.status_code, refused.mimetype) == (status, "text/html"), query
        page = BeautifulSoup(refused.get_data(as_text=True), "html.parser")
        assert page.select_one("h1").get_text() == "default"
        assert page.select_one("#export-problem[role=alert]").get_text() == message
        options, _, annotators, usernames = _export_forms(str(page))[conll]
        assert [value for value, selected in options if selected] == [chosen]
        assert (annotators, usernames) == ("ann1" if "ann1" in query else "ghost", "usernames" in query)
    refused = supervisor.http.get(f"/projects/{project_id}/export/jsonl?layer=claim_type")
    assert refused.status_code == 400
    assert _export_forms(refused.get_data(as_text=True))["all"][0][3] == ("claim_type", True)
    assert "the jsonl format takes no layer option" in refused.get_data(as_text=True)
    # Who may not see the project page gets no page either.
    assert Client(app, "ann1").http.get(conll).status_code == 403
    assert supervisor.http.get(f"/projects/{project_id + 99}/export/conll").status_code == 404


def test_schemas_are_valid_draft_2020_12():
    for schema in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(schema)


# --- the other tools' formats, from the database ----------------------------------------


def test_interop_formats_from_the_database(world, session, app):
    """Each interop format carries the seed article's spans and attributions as stored
    (tests/test_interop_export.py checks each format in depth with the other tools' readers)."""
    seed = world["seed"]
    text = seed.text

    doccano_lines = [json.loads(line) for line in _export(session, world, "doccano").decode().splitlines()]
    on_seed = {line["annotator"]: line for line in doccano_lines if line["text"] == text}
    assert set(on_seed) == {"ann1", "ann2"}  # ann3's work is withdrawn
    assert text.isascii()  # so doccano's UTF-16 offsets are the code point offsets here
    ann1 = {text[e["start_offset"]:e["end_offset"]]: e["label"] for e in on_seed["ann1"]["entities"]}
    assert ann1["ARY News"] == "SOURCE" and ann1["as reported by"] == "CUE"
    assert ann1["Israeli brutalities"] == "LOADED_LANGUAGE"
    assert {r["type"] for r in on_seed["ann1"]["relations"]} == {"source", "content"}  # from the cue
    assert len(on_seed["ann2"]["relations"]) == 4  # two attributions, cue -> source and cue -> content

    tasks = json.loads(_export(session, world, "labelstudio"))
    task = next(t for t in tasks if t["data"]["text"] == text)
    assert sorted(a["completed_by"] for a in task["annotations"]) == ["ann1", "ann2"]
    for annotation in task["annotations"]:
        for item in annotation["result"]:
            if item["type"] == "labels":
                value = item["value"]
                assert text[value["start"]:value["end"]] == value["text"]

    with zipfile.ZipFile(io.BytesIO(_export(session, world, "brat"))) as archive:
        names = archive.namelist()
        assert "annotation.conf" in names
        ann = archive.read(f"{seed.id}_ann1.ann").decode()
        assert archive.read(f"{seed.id}_ann1.txt").decode() == text
    start = text.index("ARY News")
    assert re.search(rf"^T\d+\tSOURCE {start} {start + 8}\tARY News$", ann, re.M)
    assert re.search(r"^R\d+\tsource Arg1:T\d+ Arg2:T\d+$", ann, re.M)

    conll = _export(session, world, "conll", layer="attribution").decode()
    assert "ARY\tB-SOURCE\nNews\tI-SOURCE\n" in conll
    assert "# annotator = ann1" in conll and "# annotator = ann3" not in conll
    with pytest.raises(ServiceError):
        _export(session, world, "conll")  # which layer?

    supervisor = Client(app, "sup")
    for name, media_type in (("doccano", "application/jsonl"), ("labelstudio", "application/json"),
                             ("brat", "application/zip"), ("conll", "text/plain")):
        query = "?layer=attribution" if name == "conll" else ""
        response = supervisor.http.get(f"/projects/{world['project'].id}/export/{name}{query}")
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:500])
        assert response.headers["Content-Type"].startswith(media_type), name
        assert len(response.get_data()) > 0
    assert supervisor.http.get(f"/projects/{world['project'].id}/export/conll").status_code == 400
