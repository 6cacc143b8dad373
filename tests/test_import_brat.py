"""Importing brat standoff corpora (annotator.ingest.brat): the hand-written corpus in
tests/data/brat/events (texts and annotations in separate folders, two annotators on one text,
events with and without a source, discontinuous fragments, content across sentences,
non-ASCII text, a note, a metadata table), variants of it made here (CRLF line ends, offsets
that do not match, an annotator column, R relations), the round trip through our brat
exporter, and the command line end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from annotator.codebook import default_codebook
from annotator.exporters import brat as brat_export
from annotator.ingest import IngestError
from annotator.ingest import corpus as corpus_module
from annotator.ingest.annotations import load_mapping, read_annotation_file
from annotator.models import Attribution, Document, Span, User

from .test_interop_export import seed_record

DATA = Path(__file__).parent / "data" / "brat"
CORPUS = DATA / "events"
MAPPING = DATA / "mapping.toml"
CODEBOOK = default_codebook()


def read(path, mapping=MAPPING, **options) -> tuple[list[IngestError], list[dict]]:
    found = read_annotation_file(path, "brat", load_mapping(mapping) if mapping else None, codebook=CODEBOOK,
                                 **options)
    return [i for i in found if isinstance(i, IngestError)], [i for i in found if not isinstance(i, IngestError)]


def by_title(records: list[dict]) -> dict[str, dict]:
    return {record["document"]["title"]: record for record in records}


def entry_of(record: dict, annotator: str) -> dict:
    return next(entry for entry in record["annotations"] if entry["annotator"] == annotator)


def parts(entry: dict) -> list[set]:
    """Each attribution as {(role, label, covered text)}."""
    spans = {span["id"]: span for span in entry["spans"]}
    return [{(part["role"], spans[part["span_id"]]["label"], spans[part["span_id"]]["text"])
             for part in attribution["parts"]} for attribution in entry["attributions"]]


def copy_corpus(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CORPUS, tmp_path / "corpus"))


def test_two_annotators_events_and_metadata():
    problems, records = read(CORPUS)
    assert problems == []
    march = by_title(records)["March ends peacefully"]
    assert {key: march["document"][key] for key in ("outlet", "published", "metadata")} == {
        "outlet": "Daily Planet", "published": "2024-03-01", "metadata": {"author": "J. Olsen", "section": "city"}}
    assert [entry["annotator"] for entry in march["annotations"]] == ["alice", "bob"]
    alice, bob = entry_of(march, "alice"), entry_of(march, "bob")
    # The content of alice's first attribution runs over two sentences: one part per sentence.
    assert parts(alice)[0] == {("cue", "CUE", "said"), ("source", "SOURCE", "The spokesman"),
                               ("content", "CONTENT", "the march was peaceful."),
                               ("content", "CONTENT", "It ended at noon")}
    assert alice["attributions"][0]["attributes"] == {"source_kind": "person"}
    assert [span["comment"] for span in alice["spans"] if "comment" in span] == ["paraphrase, not a quote"] * 2
    # " later" is trimmed, with a warning naming the file and line.
    assert ("supplement", "SUPPLEMENT", "later") in parts(alice)[1]
    assert march["warnings"] == [f"{CORPUS}/ann/march_alice.ann:10: T7: whitespace at the edges of the span trimmed"]
    # bob's events are triggered by "Attribution" Ts, not spans here; Content2 is a second content;
    # the second event has no source; the binary attribute Named maps to identification=named.
    assert parts(bob) == [
        {("source", "SOURCE", "The spokesman"), ("cue", "CUE", "said"),
         ("content", "CONTENT", "the march was peaceful."), ("content", "CONTENT", "It ended at noon")},
        {("cue", "CUE", "added"), ("content", "CONTENT", "No arrests were made")},
    ]
    assert [a["attributes"] for a in bob["attributions"]] == [{"identification": "named"}, {}]
    assert "Attribution" not in {span["label"] for span in bob["spans"]}


def test_discontinuous_fragments_in_one_sentence_and_across_sentences():
    _, records = read(CORPUS)
    cafe = by_title(records)["Fête au Café Müller"]
    text = cafe["document"]["text"]
    (content,) = [span for span in entry_of(cafe, "alice")["spans"] if span["label"] == "CONTENT"]
    # Code points: the emoji at the start counts one.
    assert content["fragments"] == [[26, 38], [65, 83]]
    assert (content["start"], content["end"]) == (26, 83) and content["text"] == text[26:83]
    assert [text[start:end] for start, end in content["fragments"]] == ["Tout va bien", "et nous continuons"]
    # bob's T9 "peaceful" ; "It ended at noon" has a fragment in each sentence: two spans, the
    # second the same as his T4, so stored once.
    bob = entry_of(by_title(records)["March ends peacefully"], "bob")
    assert [(s["start"], s["end"]) for s in bob["spans"] if s["label"] == "CONTENT"] == [(19, 42), (43, 59), (62, 82),
                                                                                         (33, 41)]
    for record in records:
        for entry in record["annotations"]:
            for span in entry["spans"]:
                assert record["document"]["text"][span["start"]:span["end"]] == span["text"]


def test_unmapped_names_are_listed_at_once_with_a_suggestion():
    problems, _ = read(CORPUS, mapping=None)
    assert [str(problem) for problem in problems] == [
        f"{CORPUS}/ann/march_bob.ann:1: 3 label name(s) the codebook does not have: 'Source' (once, first at "
        "ann/march_bob.ann:1); 'Cue' (2 times, first at ann/march_bob.ann:2); 'Content' (4 times, first at "
        "ann/march_bob.ann:3). Map them in [labels] of the mapping file (--mapping), e.g. Source = \"SOURCE\", "
        "Cue = \"CUE\", Content = \"CONTENT\"",
        f"{CORPUS}/ann/march_bob.ann:7: 1 attribute name(s) the codebook does not have: 'Named' (once, first at "
        "ann/march_bob.ann:7). Map them in [attributes] of the mapping file (--mapping), e.g. "
        "Named = \"identification=named\"",
    ]


@pytest.mark.parametrize("cr_counted", [True, False])
def test_crlf_texts_are_stored_with_lf_whichever_way_offsets_count(tmp_path, cr_counted):
    corpus = copy_corpus(tmp_path)
    march = corpus / "txt" / "march.txt"
    march.write_bytes(march.read_bytes().replace(b"\n", b"\r\n"))
    for ann in (corpus / "ann").glob("march_*.ann"):
        lines = ann.read_text(encoding="utf-8").splitlines()
        if cr_counted:  # the second paragraph starts two characters later
            lines = [_shift_offsets(line, after=60, by=2) for line in lines]
        ann.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    problems, records = read(corpus)
    assert problems == []
    _, original = read(CORPUS)
    crlf, lf = by_title(records)["March ends peacefully"], by_title(original)["March ends peacefully"]
    assert crlf["document"] == lf["document"] and "\r" not in crlf["document"]["text"]
    for key in ("spans", "attributions"):
        assert [entry[key] for entry in crlf["annotations"]] == [entry[key] for entry in lf["annotations"]]


def _shift_offsets(line: str, after: int, by: int) -> str:
    if not line.startswith("T"):
        return line
    name, extent, covered = line.split("\t")
    label, offsets = extent.split(" ", 1)
    moved = ";".join(" ".join(str(int(n) + by if int(n) > after else int(n)) for n in piece.split())
                     for piece in offsets.split(";"))
    return f"{name}\t{label} {moved}\t{covered}"


def test_a_span_whose_text_differs_names_file_and_line(tmp_path):
    corpus = copy_corpus(tmp_path)
    ann = corpus / "ann" / "cafe_alice.ann"
    ann.write_text(ann.read_text(encoding="utf-8").replace("CUE 42 51", "CUE 41 50"), encoding="utf-8")
    problems, records = read(corpus)
    assert [str(problem) for problem in problems] == [
        f"{corpus}/ann/cafe_alice.ann:2: T2: the text says ' a déclar' at 41 50, the .ann 'a déclaré'"]
    assert "Fête au Café Müller" not in {r["document"]["title"] for r in records if r["annotations"]}


def test_annotator_column_of_the_metadata_table_and_a_zip(tmp_path):
    corpus = copy_corpus(tmp_path)
    (corpus / "ann" / "march_alice.ann").rename(corpus / "ann" / "march.ann")
    (corpus / "ann" / "march_bob.ann").unlink()
    (corpus / "ann" / "cafe_alice.ann").rename(corpus / "ann" / "cafe.ann")
    (corpus / "metadata.tsv").write_text("name\tannotator\toutlet\nmarch.ann\tcarol\tDaily Planet\n", encoding="utf-8")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in corpus.rglob("*"):
            zipped.write(path, path.relative_to(corpus).as_posix())
    problems, records = read(archive.getvalue(), name="corpus.zip")
    # cafe.ann has no annotator anywhere: named by the caller, else a problem.
    assert [str(problem) for problem in problems] == [
        "corpus.zip/ann/cafe.ann: the corpus does not say who annotated this file; name the annotator "
        "(--annotator NAME), call it NAME_<annotator>.ann or add an annotator column to the metadata table"]
    assert [(r["document"]["outlet"], [e["annotator"] for e in r["annotations"]]) for r in records] == [
        ("Daily Planet", ["carol"])]
    problems, records = read(archive.getvalue(), name="corpus.zip", annotator="dana")
    assert problems == []
    assert sorted(e["annotator"] for r in records for e in r["annotations"]) == ["carol", "dana"]


def test_a_zip_that_unpacks_past_the_limit_is_refused_before_it_is_read(monkeypatch):
    """A zip bomb: a small upload of repeated bytes that would fill the server's memory."""
    monkeypatch.setattr(corpus_module, "MAX_UNPACKED_BYTES", 100_000)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("bomb.txt", "a" * 100_001)
        zipped.writestr("bomb.ann", "")
    assert len(archive.getvalue()) < 1_000
    problems, records = read(archive.getvalue(), name="bomb.zip", annotator="dana")
    assert records == [] and [str(problem) for problem in problems] == [
        "bomb.zip: the zip unpacks to 100,001 bytes, more than the 100,000 an import takes; split the corpus"]


def test_relations_that_name_no_role_are_errors_naming_the_line(tmp_path):
    corpus = copy_corpus(tmp_path)
    ann = corpus / "ann" / "cafe_alice.ann"
    ann.write_text("T1\tCONTENT 26 38\tTout va bien\nT2\tCUE 42 51\ta déclaré\nT3\tSOURCE 52 61\tZoë Ançel\n"
                   "R1\tcontent Arg1:T2 Arg2:T1\nR2\tSaidBy Arg1:T2 Arg2:T3\nR3\tsource Arg1:T2 Arg2:T9\n",
                   encoding="utf-8")
    problems, _ = read(corpus)
    assert [(Path(p.source).name, p.line, p.reason.split(":")[0]) for p in problems] == [
        ("cafe_alice.ann", 6, "R3"),
        ("cafe_alice.ann", 5, "1 role name(s) the codebook does not have")]
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING.read_text(encoding="utf-8") + '[roles]\nSaidBy = "source"\n', encoding="utf-8")
    ann.write_text(ann.read_text(encoding="utf-8").replace("R3\tsource Arg1:T2 Arg2:T9\n", ""), encoding="utf-8")
    problems, records = read(corpus, mapping=mapping)
    assert problems == []
    cafe = entry_of(by_title(records)["Fête au Café Müller"], "alice")
    assert parts(cafe) == [{("cue", "CUE", "a déclaré"), ("content", "CONTENT", "Tout va bien"),
                            ("source", "SOURCE", "Zoë Ançel")}]


def test_round_trip_through_our_brat_export():
    """Our export (one text copy per annotator, R lines from the cue, attribution attributes
    on the cue, span attributes as A lines) comes back as the same spans and attributions."""
    record = seed_record()
    exported = b"".join(brat_export.export([record], CODEBOOK))
    problems, records = read(exported, mapping=None, name="export.zip")
    assert problems == []
    (back,) = records
    assert back["document"]["text"] == record["document"]["text"]
    assert len(back["annotations"]) == len(record["annotations"])
    for original, imported in zip(record["annotations"], back["annotations"], strict=True):
        assert imported["annotator"] == original["annotator"]
        assert _content(imported) == _content(original)


def _content(entry: dict) -> tuple:
    spans = {span["id"]: span for span in entry["spans"]}
    shape = lambda span: (span["layer"], span["label"], span["start"], span["end"],  # noqa: E731
                          tuple(sorted((k, v) for k, v in span["attributes"].items() if v is not None)))
    return (sorted(map(shape, entry["spans"])),
            sorted((a["relation"], tuple(sorted(a["attributes"].items())),
                    tuple(sorted((p["role"], shape(spans[p["span_id"]])) for p in a["parts"])))
                   for a in entry["attributions"]))


def test_cli_imports_a_corpus_folder(cli, session):
    assert cli("project", "create", "reference").exit_code == 0
    result = cli("import-annotations", str(CORPUS), "--project", "reference", "--format", "brat",
                 "--mapping", str(MAPPING))
    assert result.exit_code == 0, result.output
    session.rollback()
    march = session.scalar(select(Document).where(Document.title == "March ends peacefully"))
    assert (march.outlet, str(march.published), march.meta) == (
        "Daily Planet", "2024-03-01", {"author": "J. Olsen", "section": "city"})
    users = dict(session.execute(select(User.id, User.username)).all())
    stored = session.execute(select(Span.user_id, Span.label, Span.start, Span.end, Span.fragments, Span.comment)
                             .where(Span.document_id == march.id)).all()
    assert sorted((users[u], label, start, end) for u, label, start, end, _, _ in stored if label == "CONTENT") == [
        ("alice", "CONTENT", 19, 42), ("alice", "CONTENT", 43, 59), ("alice", "CONTENT", 62, 82),
        ("bob", "CONTENT", 19, 42), ("bob", "CONTENT", 33, 41), ("bob", "CONTENT", 43, 59), ("bob", "CONTENT", 62, 82)]
    assert {comment for *_, comment in stored} == {None, "paraphrase, not a quote"}
    cafe = session.scalar(select(Document).where(Document.outlet == "Le Quotidien"))
    assert session.scalar(select(Span.fragments).where(Span.document_id == cafe.id, Span.label == "CONTENT")) == \
        [[26, 38], [65, 83]]
    assert session.scalar(select(Attribution.id).where(Attribution.document_id == cafe.id)) is not None
    bad = cli("import-annotations", str(CORPUS), "--project", "reference", "--format", "brat")
    assert bad.exit_code != 0 and "label name(s) the codebook does not have" in bad.stderr
