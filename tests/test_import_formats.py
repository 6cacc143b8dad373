"""The CoNLL / BIO, technique span file and sentence-label CSV readers (annotator.ingest.conll,
techniques, sentence_csv; docs/interop.md), with files written by hand, and CoNLL back
through our own exporter."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from sqlalchemy import select

from annotator.codebook import default_codebook
from annotator.exporters import conll as conll_export
from annotator.ingest import IngestError, read_file
from annotator.ingest.annotations import Mapping, read_annotation_file
from annotator.ingest.sentence_csv import match_sentences
from annotator.ingest.techniques import BUILT_IN, normalised
from annotator.models import Document, Event, Sentence, SentenceLabel, User
from annotator.services import exports, projects
from annotator.services.imports import import_annotations
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT
from .helpers import project_with


def _read(tmp_path, name: str, content: str | bytes, file_format: str, **options) -> tuple[list, list]:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    read = read_annotation_file(path, file_format, options.pop("mapping", None), codebook=default_codebook(),
                                **options)
    return [i for i in read if isinstance(i, IngestError)], [i for i in read if not isinstance(i, IngestError)]


def _spans(record: dict, number: int = 0) -> list[tuple]:
    return [(s["label"], s["start"], s["end"], s["text"]) for s in record["annotations"][number]["spans"]]


# -- CoNLL / BIO -------------------------------------------------------------------------------


CONLL = """-DOCSTART- -X- O O

ARY NNP B-SOURCE
News NNP I-SOURCE
reported VBD B-CUE
prices NNS B-CONTENT
rose VBD I-CONTENT
. . O

Prices NNS I-CONTENT
fell VBD E-CONTENT
sharply RB S-CUE

-DOCSTART- -X- O O

Café\tI-CONTENT
#\tI-CONTENT
naïve\tB-CONTENT
"""


def test_conll_rebuilds_the_text_with_exact_offsets_in_every_tag_scheme(tmp_path):
    problems, records = _read(tmp_path, "a.conll", CONLL, "conll", annotator="reader")
    assert problems == []
    first, second = records
    assert first["document"]["text"] == "ARY News reported prices rose .\nPrices fell sharply"
    assert [(s["start"], s["end"]) for s in first["document"]["sentences"]] == [(0, 31), (32, 51)]
    # BIO, an IOB1 I- after O starting a span, BIOES's E- and S-.
    assert _spans(first) == [("SOURCE", 0, 8, "ARY News"), ("CUE", 9, 17, "reported"),
                             ("CONTENT", 18, 29, "prices rose"), ("CONTENT", 32, 43, "Prices fell"),
                             ("CUE", 44, 51, "sharply")]
    # Non-ASCII tokens, a "#" token (not a comment), B- ending the span before it.
    assert second["document"]["text"] == "Café # naïve"
    assert _spans(second) == [("CONTENT", 0, 6, "Café #"), ("CONTENT", 7, 12, "naïve")]
    assert {e["annotator"] for r in records for e in r["annotations"]} == {"reader"}
    for record in records:
        for span in record["annotations"][0]["spans"]:
            assert record["document"]["text"][span["start"]:span["end"]] == span["text"]


def test_conll_reports_an_unmapped_tag_once_with_a_suggestion_and_bad_lines(tmp_path):
    content = "a\tB-SORCE\nb\tI-SORCE\nc\tB-SORCE\nd\nf\tX_Y\n"
    problems, records = _read(tmp_path, "bad.conll", content, "conll", annotator="reader")
    assert records == []
    messages = [str(p) for p in problems]
    assert len([m for m in messages if "SORCE" in m]) == 1
    assert any(m.startswith(f"{tmp_path / 'bad.conll'}:1:") and "did you mean 'SOURCE'" in m for m in messages)
    assert any(":4:" in m and "one column" in m for m in messages)
    assert any(":5:" in m and "'X_Y'" in m for m in messages)
    # Through the mapping file it places.
    problems, records = _read(tmp_path, "bad.conll", "a\tB-PER\nb\tI-PER\n", "conll", annotator="reader",
                              mapping=Mapping(labels={"PER": "SOURCE"}))
    assert problems == [] and _spans(records[0]) == [("SOURCE", 0, 3, "a b")]


def _annotate_seed(session, project) -> None:
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    text = document.text

    def span(phrase, layer, label, number):
        start = text.index(phrase)
        return {"id": number, "layer": layer, "label": label, "start": start, "end": start + len(phrase),
                "text": phrase, "attributes": {}}

    entries = [
        {"annotator": "ann", "status": "done", "spans": [
            span("ARY News", "attribution", "SOURCE", 1), span("as reported by", "attribution", "CUE", 2),
            span("Khaled Meshaal, the leader of Hamas", "attribution", "CONTENT", 3)]},
        {"annotator": "omar", "status": "done", "spans": [span("ARY News", "attribution", "SOURCE", 1)]},
    ]
    import_annotations(session, SYSTEM, project.id, [{"document": {"text": text}, "annotations": entries}],
                       source="setup")


def _conll(session, project) -> str:
    records = exports.document_records(session, SYSTEM, project.id, secret_key="s", usernames=True)
    return "".join(conll_export.export(records, projects.project_codebook(project), layer="attribution"))


def _without_ids(exported: str) -> str:
    """Database ids differ between projects; everything else must not."""
    return "\n".join(line for line in exported.split("\n") if not line.startswith(("# document", "# sent_id")))


def test_conll_round_trip_through_our_exporter(app, session, tmp_path):
    project = project_with(session, read_file(SEED_TXT), "news")
    _annotate_seed(session, project)
    exported = _conll(session, project)
    path = tmp_path / "export.conll"
    path.write_text(exported, encoding="utf-8")

    empty = projects.create_project(session, SYSTEM, "copy")
    read = read_annotation_file(path, "conll", codebook=default_codebook())
    assert not [item for item in read if isinstance(item, IngestError)]
    summary = import_annotations(session, SYSTEM, empty.id, read, source=str(path))
    assert (summary.documents_created, summary.entries, summary.spans) == (1, 2, 4)
    assert _without_ids(_conll(session, empty)) == _without_ids(exported)
    # Without the document comments, the annotator comment starts the next block all the same.
    path.write_text(_without_ids(exported), encoding="utf-8")
    read = read_annotation_file(path, "conll", codebook=default_codebook())
    assert [entry["annotator"] for record in read for entry in record["annotations"]] == ["ann", "omar"]


# -- technique span files ------------------------------------------------------------------------


ARTICLE = "Crooked  Hillary\r\n\r\nShe is a  total  disaster, critics say.\r\nWe must act now!\r\n"
# Offsets as Python reads the file (CRLF as one character): "Crooked  Hillary\n\nShe is ..."
LABELS = "111\tName_Calling,Labeling\t0\t16\n111\tExaggeration,Minimisation\t27\t43\n" \
         "111\tSlogans\t58\t74\n111\tFlag-Waving\t58\t74\n111\tDoubt\t16\t18\n"


def test_technique_spans_map_through_normalisation_exactly(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "articles").mkdir(parents=True)
    (folder / "articles" / "article111.txt").write_bytes(ARTICLE.encode())
    (folder / "train.labels").write_text(LABELS, encoding="utf-8")
    read = read_annotation_file(folder, "techniques", codebook=default_codebook())
    problems = [i for i in read if isinstance(i, IngestError)]
    records = [i for i in read if not isinstance(i, IngestError)]
    assert [str(p) for p in problems] == [f"{folder / 'train.labels'}:5: offsets 16-18 cover only whitespace or "
                                          "invisible characters"]
    (record,) = records
    text = record["document"]["text"]
    assert text == "Crooked Hillary\n\nShe is a total disaster, critics say. We must act now!"
    assert record["document"]["title"] == "Crooked Hillary"
    assert record["annotations"][0]["annotator"] == "semeval"
    spans = record["annotations"][0]["spans"]
    assert [(s["label"], s["text"], s["comment"]) for s in spans] == [
        ("NAME_CALLING_LABELING", "Crooked Hillary", None),
        ("EXAGGERATION_MINIMISATION", "total disaster", None),
        # Two techniques merged into one label on the same words: one span, both named.
        ("LOADED_LANGUAGE", "We must act now!", "Slogans; Flag-Waving"),
    ]
    assert all(text[s["start"]:s["end"]] == s["text"] for s in spans)
    assert all(s["layer"] == "loaded_language" for s in spans)
    # " total  disaster" began on a space: trimmed, and said so.
    assert record["warnings"] == [f"{folder / 'articles' / 'article111.txt'}: 1 span(s) with whitespace at an edge, "
                                  "trimmed"]


def test_technique_names_are_the_tasks_fourteen_and_place_in_the_default_codebook():
    assert len(BUILT_IN) == 14
    (layer,) = [layer for layer in default_codebook().span_layers if layer.name == "loaded_language"]
    labels = {label.name for label in layer.labels}
    assert set(BUILT_IN.values()) <= labels


def test_technique_zip_upload_and_problems_located(tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a/article7.txt", "Title\n\nA café “story”.\n")
        zipped.writestr("a/article7.task2-TC.labels", "7\tLoaded_Language\t9\t13\n7\tSmears\t0\t5\n"
                                                      "8\tDoubt\t0\t1\n7\tDoubt\t5\t99\n7\t1\t2\n")
    read = read_annotation_file(archive.getvalue(), "techniques", Mapping(labels={"Loaded_Language": "DOUBT"}),
                                codebook=default_codebook(), annotator="ann", name="upload.zip")
    messages = [str(i) for i in read if isinstance(i, IngestError)]
    assert messages == [
        "upload.zip/a/article7.task2-TC.labels:2: label 'Smears' is not a label of the codebook and the mapping file "
        "does not map it in [labels] (reported at its first use only; every use is refused)",
        "upload.zip/a/article7.task2-TC.labels:3: no text article8.txt for article 8",
        "upload.zip/a/article7.task2-TC.labels:4: offsets 5-99 are not a span of upload.zip/a/article7.txt "
        "(23 characters)",
        "upload.zip/a/article7.task2-TC.labels:5: a line is <ID> TAB <technique> TAB <start> TAB <end>; this one has "
        "3 field(s) (a span identification file has no techniques)",
    ]
    (record,) = [i for i in read if not isinstance(i, IngestError)]
    assert _spans(record) == [("DOUBT", 9, 13, "café")]  # the mapping file overrides the built-in name


def test_normalisation_map_composes_and_drops_invisible_characters():
    raw = "Cafe\u0301\u00ad  bar\u200b"
    text, begins, ends = normalised(raw)
    assert text == "Café bar"
    assert (begins[3], ends[3]) == (3, 5)  # é composed from e + combining acute
    assert (begins[5], ends[-1]) == (8, 11)


# -- sentence labels from a CSV ------------------------------------------------------------------


SENTENCES_CSV = """sentence;annotator;claim;check_worthy;outlet
"Prices  rose sharply.";ann;Quantity;yes;x
Prices rose sharply.;omar;event;;x
It was late.;ann;opinion;no;x
Nobody said this.;ann;event;;x
"""


def test_sentence_labels_read_and_match_by_normalised_text(tmp_path):
    mapping = Mapping(choices={"claim": "claim_type"}, values={"Quantity": "quantity"})
    problems, items = _read(tmp_path, "labels.csv", SENTENCES_CSV, "sentence-csv", mapping=mapping)
    assert problems == []
    assert [item["sentence"] for item in items] == ["Prices rose sharply.", "It was late.", "Nobody said this."]
    assert items[0]["annotations"][0]["sentence_labels"] == [
        {"layer": "claim_type", "value": "quantity", "unsure": False, "comment": None},
        {"layer": "check_worthy", "value": "yes", "unsure": False, "comment": None}]
    text = "Prices rose sharply. It was late."
    matched, unmatched, warnings = match_sentences(items, [(5, text, [(0, 20), (21, 33)])], "labels.csv")
    assert [str(p) for p in unmatched] == ["labels.csv:5: no sentence of the project's documents has this text: "
                                           "'Nobody said this.'"]
    assert warnings == []
    assert [(e["annotator"], [(label["start"], label["layer"], label["value"]) for label in e["sentence_labels"]])
            for e in matched[5]] == [
        ("ann", [(0, "claim_type", "quantity"), (0, "check_worthy", "yes"), (21, "claim_type", "opinion"),
                 (21, "check_worthy", "no")]),
        ("omar", [(0, "claim_type", "event")])]


def test_sentence_csv_problems_are_listed_at_once(tmp_path):
    content = "text,annotator,claim_type\nA.,ann,guess\nA.,ann,event\nA.,ann,event\n,ann,event\n"
    problems, _ = _read(tmp_path, "bad.csv", content, "sentence-csv")
    assert [(p.line, p.reason) for p in problems] == [
        (2, "claim_type: 'guess' is not a value of choice layer 'claim_type' and the mapping file does not map it "
            "in [values]"),
        (4, "annotator 'ann' labelled this sentence's claim_type on line 3 already"),
        (5, "the sentence and the annotator are required"),
    ]
    problems, _ = _read(tmp_path, "none.csv", "sentence,who,bias\nA.,ann,yes\n", "sentence-csv")
    assert len(problems) == 1 and "no column annotator and no column a choice layer" in problems[0].reason


@pytest.mark.parametrize("file_format", ["conll", "sentence-csv"])
def test_not_utf8_is_a_located_problem(tmp_path, file_format):
    problems, records = _read(tmp_path, "x", b"ok\tO\n\xff\tO\n", file_format)
    assert records == [] and problems[0].line == 2


# -- sentence labels from a CSV, end to end ------------------------------------------------------


def _sentence_texts(session, project) -> list[str]:
    """The texts of the project's first document's sentences, in order."""
    document = session.scalar(select(Document).where(Document.project_id == project.id).order_by(Document.id))
    return [document.text[sentence.start:sentence.end] for sentence in document.sentences]


def _stored_labels(session) -> list[tuple]:
    return sorted(session.execute(
        select(User.username, Sentence.document_id, Sentence.position, SentenceLabel.layer, SentenceLabel.value)
        .join(User, SentenceLabel.user_id == User.id).join(Sentence, SentenceLabel.sentence_id == Sentence.id)).all())


def test_sentence_csv_imports_through_the_command_into_the_documents_with_the_text(app, session, cli, tmp_path):
    article = read_file(SEED_TXT)[0]
    # The same text run by two outlets: two documents, and the sentence is labelled in both.
    project = project_with(session, [article, dataclasses.replace(article, outlet="Other Outlet")], "news")
    first, second = _sentence_texts(session, project)[:2]
    path = tmp_path / "labels.csv"
    path.write_text(f'sentence,annotator,claim_type,check_worthy\n"{first}",ann,event,yes\n'
                    f'"{second}",ann,opinion,\n"  {second}  ",omar,event,no\n', encoding="utf-8")
    result = cli("import-annotations", str(path), "--project", "news", "--format", "sentence-csv")
    assert result.exit_code == 0, result.output
    assert "imported 0 span(s), 0 attribution(s) and 10 sentence label(s) of 4 document-annotator pair(s) " \
           "(0 new document(s), 2 matched; 0 replaced), created 2 inactive account(s): ann, omar." in result.output
    assert f"{path}:2: the sentence occurs 2 times in the project; labelled at each" in result.output
    session.rollback()
    documents = session.scalars(select(Document.id).where(Document.project_id == project.id)
                                .order_by(Document.id)).all()
    assert _stored_labels(session) == sorted(
        (annotator, document_id, position, layer, value)
        for document_id in documents
        for annotator, position, layer, value in (
            ("ann", 0, "claim_type", "event"), ("ann", 0, "check_worthy", "yes"), ("ann", 1, "claim_type", "opinion"),
            ("omar", 1, "claim_type", "event"), ("omar", 1, "check_worthy", "no")))
    events = session.scalars(select(Event).where(Event.action == "import_annotations")).all()
    assert sorted((event.after["annotator"], event.after["sentence_labels"]) for event in events) \
        == [("ann", 3), ("ann", 3), ("omar", 2), ("omar", 2)]


def test_sentence_csv_with_unmatched_sentences_lists_every_line_and_writes_nothing(app, session, cli, tmp_path):
    project = project_with(session, read_file(SEED_TXT), "news")
    first = _sentence_texts(session, project)[0]
    path = tmp_path / "labels.csv"
    path.write_text(f'sentence,annotator,claim_type\n"{first}",ann,event\nNot in any article.,ann,event\n'
                    f'Not in any article.,omar,opinion\nNor this one.,ann,event\n', encoding="utf-8")
    result = cli("import-annotations", str(path), "--project", "news", "--format", "sentence-csv")
    assert result.exit_code != 0
    assert result.stderr.splitlines()[:-1] == [
        f"{path}:{line}: no sentence of the project's documents has this text: {text!r}"
        for line, text in ((3, "Not in any article."), (4, "Not in any article."), (5, "Nor this one."))]
    session.rollback()
    assert _stored_labels(session) == []
    assert session.scalars(select(User.username).where(User.username.in_(["ann", "omar"]))).all() == []
