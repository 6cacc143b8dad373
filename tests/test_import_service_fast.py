"""The annotation import service (issue 18), on SQLite and PostgreSQL: every problem found
before anything is written, a number of queries that does not grow with the input, spans'
whitespace trimmed and counted, fragments and comments stored, --gold, and the same text run
by two outlets kept as two documents."""

from __future__ import annotations

import dataclasses
import gc

import pytest
from sqlalchemy import event, func, select

from annotator.ingest import read_file
from annotator.models import Adjudication, Assignment, Attribution, Document, GoldProvenance, Span, User
from annotator.services import imports
from annotator.services.imports import ImportRejected, import_annotations
from annotator.services.permissions import SYSTEM
from annotator.services.users import GOLD_USERNAME

from .conftest import SEED_TXT
from .helpers import project_with


@pytest.fixture
def world(app, session):
    article = read_file(SEED_TXT)[0]
    project = project_with(session, [article], "news")
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    return {"project": project, "article": article, "document": document}


def _span(document_text: str, covered: str, label: str = "SOURCE", layer: str = "attribution", **extra) -> dict:
    start = document_text.index(covered)
    return {"layer": layer, "label": label, "start": start, "end": start + len(covered), "text": covered} | extra


def _record(text: str, annotator: str, spans: list[dict], line: int = 1, **document) -> dict:
    return {"document": {"text": text} | document,
            "annotations": [{"annotator": annotator, "status": "done", "spans": spans, "line": line}]}


class _Statements:
    """The SQL statements a block sends, by their first word and table."""

    def __init__(self, session):
        self.engine = session.get_bind()
        self.sent: list[str] = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.record)

    def record(self, connection, cursor, statement, parameters, context, executemany):
        self.sent.append(" ".join(statement.split()).upper())

    def count(self, prefix: str) -> int:
        return sum(statement.startswith(prefix.upper()) for statement in self.sent)


def test_every_problem_is_found_before_any_span_is_written(world, session):
    text = world["document"].text
    records = [
        _record(text, "maria", [_span(text, "ARY News"), _span(text, "ARY News", text="wrong")], line=1),
        _record(text, "omar", [_span(text, "ARY News", label="NOPE")], line=2),
        _record(text, "lina", [_span(text, "ARY News")], line=3),
    ]
    with _Statements(session) as statements, pytest.raises(ImportRejected) as rejected:
        import_annotations(session, SYSTEM, world["project"].id, records, source="bad.jsonl")
    assert [(problem.line, problem.reason.split(": ")[1]) for problem in rejected.value.problems] == [
        (1, "spans[1]"), (2, "spans[0]")]
    assert statements.count("INSERT INTO spans") == 0
    assert statements.count("INSERT INTO assignments") == 0
    assert session.scalar(select(func.count(Span.id))) == 0
    assert gc.isenabled()  # paused while the import ran, and running again after its refusal


def test_the_queries_of_an_import_do_not_grow_with_its_spans(app, session):
    """One SELECT per span was the old cost, and on SQLite an INSERT per span; now the
    statements are the same for 3 and 30 documents of 4 spans each."""
    article = read_file(SEED_TXT)[0]
    variants = [dataclasses.replace(article, outlet=f"Outlet {n}") for n in range(30)]
    project = project_with(session, variants, "many")

    def statements_sent(count: int, name: str) -> tuple[int, int]:
        records = [_record(a.text, name, [_span(a.text, "ARY News"), _span(a.text, "as reported by", label="CUE"),
                                          _span(a.text, "brutalities", "LOADED_LANGUAGE", "loaded_language",
                                                attributes={"polarity": "negative", "voice": "attributed"}),
                                          _span(a.text, "Hamas", label="SOURCE")], outlet=a.outlet)
                   for a in variants[:count]]
        with _Statements(session) as statements:
            summary = import_annotations(session, SYSTEM, project.id, records, source="many.jsonl")
        assert (summary.spans, summary.documents_matched) == (4 * count, count)
        return statements.count("SELECT"), statements.count("INSERT")

    statements_sent(1, "first")  # the project's codebook, loaded once a session
    assert statements_sent(3, "few") == statements_sent(30, "many")


def test_whitespace_edges_are_trimmed_and_counted_fragments_and_comments_stored(world, session):
    text = world["document"].text
    padded = _span(text, " as reported by ", label="CUE", comment="  a note  ")
    source = _span(text, "ARY News")
    source["fragments"] = [[source["start"], source["start"] + 3], [source["start"] + 4, source["end"]]]
    record = _record(text, "maria", [padded, source]) | {"warnings": ["bad.ann:3: a warning of the reader"]}

    summary = import_annotations(session, SYSTEM, world["project"].id, [record], source="padded.jsonl")

    assert (summary.spans, summary.trimmed, summary.warnings) == (2, 1, ["bad.ann:3: a warning of the reader"])
    spans = {span.label: span for span in session.scalars(select(Span))}
    assert (spans["CUE"].start, spans["CUE"].text, spans["CUE"].comment) == (padded["start"] + 1, "as reported by",
                                                                             "a note")
    assert spans["CUE"].fragments is None
    assert spans["SOURCE"].fragments == source["fragments"] and spans["SOURCE"].text == "ARY News"


def test_gold_name_imports_that_annotators_entries_as_gold(world, session, cli, tmp_path):
    import json

    text = world["document"].text
    lines = [{"document": {"text": text}, "annotator": name, "status": "done",
              "spans": [_span(text, "ARY News")]} for name in ("maria", "expert")]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    result = cli("import-annotations", str(path), "--project", "news", "--format", "jsonl", "--gold", "expert")

    assert result.exit_code == 0, result.output
    assert "2 document-annotator pair(s), 1 of them as gold" in result.output
    session.rollback()
    gold = session.scalar(select(User).where(User.username == GOLD_USERNAME))
    by_user = dict(session.execute(select(Span.user_id, func.count(Span.id)).group_by(Span.user_id)).all())
    assert by_user[gold.id] == 1 and session.scalar(select(User).where(User.username == "expert")) is None
    adjudication = session.scalar(select(Adjudication).where(Adjudication.document_id == world["document"].id))
    assert adjudication.status == "in_progress"
    assert session.scalar(select(Assignment.status).where(Assignment.user_id == gold.id)) == "in_progress"
    provenance = session.scalars(select(GoldProvenance)).all()
    assert [(row.entity_type, row.method) for row in provenance] == [("span", "imported")]

    again = cli("import-annotations", str(path), "--project", "news", "--format", "jsonl", "--gold", "expert",
                "--replace")
    assert again.exit_code == 0, again.output
    session.rollback()
    assert session.scalar(select(func.count(GoldProvenance.id))) == 1  # the replaced span's went with it


def test_the_same_text_from_two_outlets_is_two_documents(world, session):
    article = world["article"]
    other = dataclasses.replace(article, outlet="Wire Copy Daily", url="https://example.org/story")
    summary = imports.import_articles(session, SYSTEM, world["project"].id, [other, article, other])
    assert (len(summary.imported), len(summary.skipped)) == (1, 2)
    documents = session.scalars(select(Document).order_by(Document.id)).all()
    assert [document.outlet for document in documents] == [article.outlet, "Wire Copy Daily"]

    text = article.text
    chosen = _record(text, "maria", [_span(text, "ARY News")], outlet="Wire Copy Daily",
                     url="https://example.org/story")
    assert import_annotations(session, SYSTEM, world["project"].id, [chosen], source="a.jsonl").documents_matched == 1
    assert session.scalar(select(Span.document_id)) == documents[1].id

    with pytest.raises(ImportRejected) as rejected:
        import_annotations(session, SYSTEM, world["project"].id, [_record(text, "omar", [_span(text, "ARY News")])],
                           source="b.jsonl")
    assert f"the text is that of 2 documents ({documents[0].id}, {documents[1].id})" in rejected.value.problems[0].reason


def test_rows_get_their_ids_in_order_after_the_rows_already_stored(world, session):
    """Spans and attributions are inserted a statement for all (SQLite: ids given, after the
    largest); each attribution's parts are the spans its record named, and a record's
    attribute values are checked each on their own (the checks remember answers by value)."""
    text = world["document"].text
    cue = _span(text, "as reported by", label="CUE", id="c")
    content = _span(text, "Khaled Meshaal, the leader of Hamas", label="CONTENT", id="t")

    def attribution(source_id: str, kind) -> dict:
        return {"relation": "attribution", "attributes": {"source_kind": kind},
                "parts": [{"role": "source", "span_id": source_id}, {"role": "cue", "span_id": "c"},
                          {"role": "content", "span_id": "t"}]}

    def record(name: str, source: str, kind, line: int) -> dict:
        entry = _record(text, name, [_span(text, source, id="s"), cue, content], line=line)
        entry["annotations"][0]["attributions"] = [attribution("s", kind)]
        return entry

    import_annotations(session, SYSTEM, world["project"].id, [record("first", "ARY News", "media_outlet", 1)],
                       source="first.jsonl")
    with pytest.raises(ImportRejected) as rejected:
        import_annotations(session, SYSTEM, world["project"].id, [
            record("maria", "Hamas", "organisation", 1), record("omar", "ARY News", "media_outlet", 2),
            record("lina", "Hamas", "nobody", 3), record("sara", "Hamas", ["person"], 4)], source="mixed.jsonl")
    assert [(problem.line, "source_kind" in problem.reason) for problem in rejected.value.problems] == [
        (3, True), (4, True)]
    summary = import_annotations(session, SYSTEM, world["project"].id, [
        record("maria", "Hamas", "organisation", 1), record("omar", "ARY News", "media_outlet", 2)],
        source="good.jsonl")
    assert (summary.spans, summary.attributions) == (6, 2)
    session.expire_all()
    attributions = session.scalars(select(Attribution).order_by(Attribution.id)).all()
    names = dict(session.execute(select(User.id, User.username)).all())
    assert [(names[attribution.user_id], attribution.attributes["source_kind"],
             sorted((part.role, part.span.user_id == attribution.user_id, part.span.text) for part in attribution.parts))
            for attribution in attributions] == [
        (name, kind, [("content", True, "Khaled Meshaal, the leader of Hamas"), ("cue", True, "as reported by"),
                      ("source", True, source)])
        for name, kind, source in (("first", "media_outlet", "ARY News"), ("maria", "organisation", "Hamas"),
                                   ("omar", "media_outlet", "ARY News"))]
    ids = session.scalars(select(Span.id).order_by(Span.id)).all()
    assert ids == list(range(ids[0], ids[0] + 9))  # after the first import's, none skipped or reused
