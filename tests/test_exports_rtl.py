"""Exports of Urdu, Arabic and Hebrew documents, mixed with Latin names, digits, emoji (with
skin tones, zero-width-joiner sequences, flags), Arabic harakat, Hebrew points, the zero-width
non-joiner and gershayim: in every format, every span's offsets give back exactly its text
(code points; UTF-16 code units for doccano), brat's files read back with bratly, CoNLL's tokens
keep each written word whole and tag exactly the words of each span, and doccano's and Label
Studio's files import back into the same spans. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
import zipfile

import pytest
import spacy
from bratly.io import parse_ann_file
from seqeval.metrics.sequence_labeling import get_entities
from sqlalchemy import select

from annotator import exporters
from annotator.codebook import default_codebook
from annotator.exporters import conll
from annotator.ingest import IngestError, read_bytes
from annotator.ingest.annotations import read_annotation_file
from annotator.models import Document
from annotator.services import exports, imports, projects
from annotator.services.permissions import SYSTEM

from .helpers import project_with

SECRET = "test-secret"
ARTICLES = {
    "ur": ("بین‌الاقوامی خبر",
           "اے آر وائی نیوز 📺 کے مطابق مُحَمَّد علی نے کہا کہ ”یہ فیصلہ درست ہے 👍🏽“۔ "
           "بین‌الاقوامی ادارے ARY News نے 1,200 افراد کی تصدیق کی۔"),
    "ar": ("خبر عاجل",
           "قالَ المُتَحَدِّثُ 🙂 إنَّ وكالة Reuters أكدت الخبر؛ وأضاف أن العلم 🇵🇸 رُفع. "
           "وبلغت الكلفة ٣٫٥ مليون دولار."),
    "he": ("חדשות הנמל",
           "לפי ד\"ר נועה לוי 👩🏽‍⚕️, שָׁלוֹם לכולם. "
           "אמר Harbor Weekly כי 3 אוניות ממתינות 🚢."),
}
# (language, label, covered text): each around or inside what the file tests.
SPANS = [
    ("ur", "SOURCE", "اے آر وائی نیوز"),  # the sentence's first words
    ("ur", "SUPPLEMENT", "📺"),  # an emoji alone
    ("ur", "SOURCE", "مُحَمَّد علی"),  # harakat
    ("ur", "CONTENT", "”یہ فیصلہ درست ہے 👍🏽“"),  # ends on a skin-toned emoji and a quotation mark
    ("ur", "SOURCE", "بین‌الاقوامی ادارے ARY News"),  # a ZWNJ word running into a Latin name
    ("ur", "CONTENT", "1,200 افراد کی تصدیق کی۔"),  # to the sentence's end, its full stop included
    ("ar", "SOURCE", "المُتَحَدِّثُ"),
    ("ar", "CUE", "قالَ"),
    ("ar", "SOURCE", "وكالة Reuters"),
    ("ar", "CONTENT", "العلم 🇵🇸 رُفع"),  # a flag: two code points
    ("ar", "CONTENT", "٣٫٥ مليون دولار"),
    ("he", "SOURCE", "ד\"ר נועה לוי 👩🏽‍⚕️"),  # a zero-width-joiner sequence of five code points
    ("he", "CONTENT", "שָׁלוֹם"),  # Hebrew points
    ("he", "SOURCE", "Harbor Weekly"),
    ("he", "CONTENT", "3 אוניות ממתינות 🚢"),
]
LAYERS = {"SOURCE": "attribution", "CUE": "attribution", "CONTENT": "attribution", "SUPPLEMENT": "attribution"}


@pytest.fixture
def world(app, session):
    """A project of the three articles, each annotated by "ann" with its SPANS."""
    articles = [article for language, (title, text) in ARTICLES.items()
                for article in read_bytes(f"{language}.txt", f"{title}\n\n{text}\n".encode())]
    project = project_with(session, articles, "rtl")
    documents = {document.language: document for document in session.scalars(select(Document))}
    assert set(documents) == set(ARTICLES)
    records = []
    for language, document in documents.items():
        spans = []
        for number, (_, label, covered) in enumerate(s for s in SPANS if s[0] == language):
            start = document.text.index(covered)
            spans.append({"id": number, "layer": LAYERS[label], "label": label, "start": start,
                          "end": start + len(covered), "text": covered, "attributes": {}})
        records.append({"document": {"text": document.text, "title": document.title},
                        "annotations": [{"annotator": "ann", "status": "done", "spans": spans}]})
    imports.import_annotations(session, SYSTEM, project.id, records, source="setup")
    return {"project": project, "documents": documents}


def _export(session, project, name: str, **options) -> bytes:
    records = exports.document_records(session, SYSTEM, project.id, secret_key=SECRET, usernames=True)
    return b"".join(exporters.stream(name, records, projects.project_codebook(project), **options))


def _expected(world) -> set[tuple[int, str, str]]:
    """(document id, label, covered) of every span."""
    return {(world["documents"][language].id, label, covered) for language, label, covered in SPANS}


def _utf16(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


@pytest.mark.parametrize("name", ["jsonl", "jsonl-documents"])
def test_jsonl_offsets_are_code_points(world, session, name):
    found = set()
    for line in _export(session, world["project"], name).decode().splitlines():
        record = json.loads(line)
        text = record["document"]["text"]
        for entry in record.get("annotations", [record]):
            for span in entry["spans"]:
                assert text[span["start"]:span["end"]] == span["text"]
                found.add((record["document"]["id"], span["label"], span["text"]))
        for sentence in record["document"]["sentences"]:
            piece = text[sentence["start"]:sentence["end"]]
            assert piece == piece.strip() and piece
    assert found == _expected(world)


def test_csv_rows_slice_their_text_and_sentence(world, session):
    texts = {document.id: document.text for document in world["documents"].values()}
    rows = list(csv.DictReader(io.StringIO(_export(session, world["project"], "csv", bom=True).decode("utf-8-sig"))))
    found = set()
    for row in rows:
        text, start, end = texts[int(row["document_id"])], int(row["start"]), int(row["end"])
        assert text[start:end] == row["text"]
        assert row["sentence_text"][int(row["sentence_start"]):int(row["sentence_end"])] == row["text"]
        found.add((int(row["document_id"]), row["label"], row["text"]))
    assert found == _expected(world)
    stored = {document.text[s.start:s.end] for document in world["documents"].values() for s in document.sentences}
    rows = csv.DictReader(io.StringIO(_export(session, world["project"], "sentences-csv").decode()))
    assert {row["sentence_text"] for row in rows} == stored


def test_doccano_offsets_are_utf16_code_units_and_import_back(world, session, tmp_path):
    exported = _export(session, world["project"], "doccano").decode()
    found = set()
    for line in exported.splitlines():
        example = json.loads(line)
        for entity in example["entities"]:
            covered = _utf16(example["text"], entity["start_offset"], entity["end_offset"])
            found.add((example["id"], entity["label"], covered))
    assert found == _expected(world)
    # Emoji before a span shift its UTF-16 offsets: 📺 (one code point, two units) before مُحَمَّد.
    urdu = json.loads(next(line for line in exported.splitlines() if json.loads(line)["language"] == "ur"))
    harakat = next(e for e in urdu["entities"] if _utf16(urdu["text"], e["start_offset"], e["end_offset"]) == "مُحَمَّد علی")
    assert harakat["start_offset"] == urdu["text"].index("مُحَمَّد") + 1
    _imports_back(world, session, tmp_path, "doccano", exported)


def test_labelstudio_offsets_are_code_points_and_import_back(world, session, tmp_path):
    exported = _export(session, world["project"], "labelstudio").decode()
    found = set()
    for task in json.loads(exported):
        for item in task["annotations"][0]["result"]:
            value = item["value"]
            if item["type"] == "labels" and item["from_name"] == "attribution":
                assert task["data"]["text"][value["start"]:value["end"]] == value["text"]
                found.add((task["id"], value["labels"][0], value["text"]))
    assert found == _expected(world)
    _imports_back(world, session, tmp_path, "labelstudio", exported)


def _imports_back(world, session, tmp_path, file_format: str, exported: str) -> None:
    path = tmp_path / f"export.{file_format}"
    path.write_text(exported, encoding="utf-8")
    read = read_annotation_file(path, file_format, codebook=default_codebook())
    assert not [item for item in read if isinstance(item, IngestError)]
    copy = projects.create_project(session, SYSTEM, f"copy-{file_format}")
    imports.import_annotations(session, SYSTEM, copy.id, read, source=str(path))
    records = exports.document_records(session, SYSTEM, copy.id, secret_key=SECRET, usernames=True)
    spans = {(record["document"]["language"], span["label"], span["start"], span["end"], span["text"])
             for record in records for entry in record["annotations"] for span in entry["spans"]}
    originals = {(language, label, world["documents"][language].text.index(covered),
                  world["documents"][language].text.index(covered) + len(covered), covered)
                 for language, label, covered in SPANS}
    assert spans == originals  # the same documents (their languages detected again) and spans


def test_brat_files_read_back_with_bratly(world, session):
    files = {}
    with zipfile.ZipFile(io.BytesIO(_export(session, world["project"], "brat"))) as archive:
        for name in archive.namelist():
            files[name] = archive.read(name).decode("utf-8")
    found = set()
    for name, content in files.items():
        if not name.endswith(".ann"):
            continue
        text = files[name.removesuffix(".ann") + ".txt"]
        document_id = int(name.split("_")[0])
        annotations = parse_ann_file(content, name, no_duplicates=False, sorting=False, renumerotize=False).annotations
        for annotation in annotations:
            (fragment,) = annotation.fragments
            assert text[fragment.start:fragment.end] == annotation.content
            found.add((document_id, annotation.label, annotation.content))
    assert found == _expected(world)


def _visible(token: str) -> bool:
    return unicodedata.category(token[0]) not in ("Mn", "Mc", "Me", "Cf") and token[0] not in "\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff"


def test_conll_keeps_written_words_whole_and_tags_exactly_each_span(world, session):
    out = _export(session, world["project"], "conll", layer="attribution").decode()
    by_document: dict[int, list[list[tuple[str, str]]]] = {}
    document_id = None
    for block in out.split("\n\n"):
        rows = []
        for line in block.splitlines():
            if line.startswith("# document = "):
                document_id = int(line.removeprefix("# document = "))
            elif not line.startswith("#"):
                rows.append(tuple(line.split("\t")))
        if rows:
            by_document.setdefault(document_id, []).append(rows)
    found = set()
    for language, document in world["documents"].items():
        blocks = by_document[document.id]
        for sentence, rows in zip(document.sentences, blocks, strict=True):
            tokens = [token for token, _ in rows]
            # Nothing lost, nothing invisible on its own line.
            assert "".join(tokens) == "".join(document.text[sentence.start:sentence.end].split())
            assert all(_visible(token) for token in tokens), tokens
            for label, first, last in get_entities([tag for _, tag in rows]):
                found.add((document.id, label, " ".join(tokens[first:last + 1])))
    expected = set()
    for document_id, label, covered in _expected(world):
        words = [covered[start:end] for start, end in conll.tokens(covered, 0, len(covered))]
        expected.add((document_id, label, " ".join(words)))
    assert found == expected
    # The written words themselves: one token each, as spaCy's tokenizers for these languages see them.
    for language, word in (("ur", "مُحَمَّد"), ("ur", "بین‌الاقوامی"), ("ar", "المُتَحَدِّثُ"), ("ar", "٣٫٥"),
                           ("he", "שָׁלוֹם"), ("he", "ד\"ר")):
        assert [token.text for token in spacy.blank(language)(word)] == [word]
        assert conll.tokens(word, 0, len(word)) == [(0, len(word))]
    for emoji in ("👍🏽", "👩🏽‍⚕️", "🇵🇸"):
        assert conll.tokens(emoji, 0, len(emoji)) == [(0, len(emoji))]

