"""The interop exporters (doccano, Label Studio, brat, CoNLL) on document records built here,
checked for exact content, offsets, and with the other tools' own readers where PyPI has a
well-kept one: label-studio-converter (its config parser and task reader), bratly-io-fs
(brat .ann parser), spaCy's blank English tokenizer and offsets_to_biluo_tags, seqeval."""

from __future__ import annotations

import io
import json
import types
import xml.etree.ElementTree as ET
import zipfile

import pytest
import spacy
from bratly.io import parse_ann_file
from label_studio_converter import Converter
from label_studio_converter.utils import parse_config
from seqeval.metrics.sequence_labeling import get_entities
from spacy.training import biluo_to_iob, offsets_to_biluo_tags

from annotator.codebook import default_codebook
from annotator.errors import ServiceError
from annotator.exporters import brat, conll, doccano, labelstudio

CODEBOOK = default_codebook()
TEXT = "Prices rose, ARY News reported. A source close to Hamas said talks failed."
STAMP = "2026-11-25T10:00:00+00:00"
LATER = "2026-11-25T11:30:00+00:00"


def _span(span_id, layer, label, start, end, text=TEXT, sentence_id=101, **attributes):
    return {"id": span_id, "layer": layer, "label": label, "start": start, "end": end,
            "text": text[start:end], "sentence_id": sentence_id, "attributes": attributes,
            "created_at": STAMP, "updated_at": STAMP}


def _attribution(attribution_id, parts, **attributes):
    return {"id": attribution_id, "relation": "attribution", "attributes": attributes,
            "parts": [{"role": role, "span_id": span_id} for role, span_id in parts],
            "created_at": STAMP, "updated_at": LATER}


def _label(sentence_id, layer, value, unsure=False, comment=None):
    return {"sentence_id": sentence_id, "layer": layer, "value": value, "unsure": unsure,
            "comment": comment, "created_at": STAMP, "updated_at": STAMP}


def _record(text, sentences, annotations, document_id=12):
    return {
        "project": "default",
        "codebook_version": 1,
        "document": {
            "id": document_id, "title": "Talks fail", "url": "https://example.org/talks",
            "outlet": "ARY News", "published": "2024-05-01", "language": "en", "metadata": {},
            "text": text,
            "sentences": [{"id": sentence_id, "position": position, "start": start, "end": end}
                          for position, (sentence_id, start, end) in enumerate(sentences)],
        },
        "annotations": annotations,
    }


def _entry(annotator, spans, attributions=(), sentence_labels=()):
    return {"annotator": annotator, "status": "done", "spans": list(spans),
            "attributions": list(attributions), "sentence_labels": list(sentence_labels)}


def seed_record() -> dict:
    """Two annotators on the seed sentence pair: a has two attributions and loaded language,
    b has one attribution and a differently judged loaded-language span."""
    a = _entry(
        "a-3f9c2e1b7d",
        [
            _span(1, "attribution", "CONTENT", 0, 11),
            _span(2, "attribution", "SOURCE", 13, 21),
            _span(3, "attribution", "CUE", 22, 30),
            _span(4, "attribution", "SOURCE", 32, 55, sentence_id=102),
            _span(5, "attribution", "CUE", 56, 60, sentence_id=102),
            _span(6, "attribution", "CONTENT", 61, 73, sentence_id=102),
            _span(7, "loaded_language", "LOADED_LANGUAGE", 67, 73, sentence_id=102,
                  polarity="negative", voice="attributed"),
        ],
        [
            _attribution(1, [("source", 2), ("cue", 3), ("content", 1)], source_kind="media_outlet",
                         identification="named", cue_type="as_reported_by", quote_type="indirect"),
            _attribution(2, [("source", 4), ("cue", 5), ("content", 6)], source_kind="person",
                         identification="anonymous", cue_type="reporting_verb", quote_type="indirect"),
        ],
        [
            _label(101, "claim_type", "quantity"),
            _label(101, "check_worthy", "yes", unsure=True, comment="needs the figure"),
            _label(102, "claim_type", "event"),
        ],
    )
    b = _entry(
        "a-9d0e4c7a21",
        [
            _span(11, "attribution", "CONTENT", 0, 11),
            _span(12, "attribution", "SOURCE", 13, 21),
            _span(13, "attribution", "CUE", 22, 30),
            _span(14, "loaded_language", "LOADED_LANGUAGE", 67, 73, sentence_id=102,
                  polarity="negative", voice="author"),
        ],
        [_attribution(5, [("content", 11), ("source", 12), ("cue", 13)], source_kind="media_outlet",
                      cue_type="as_reported_by", quote_type="indirect")],
        [_label(101, "claim_type", "event"), _label(102, "claim_type", "event")],
    )
    return _record(TEXT, [(101, 0, 31), (102, 32, 74)], [a, b])


def _utf16(text: str, start: int, end: int) -> str:
    """text between UTF-16 code unit offsets, as JavaScript's slice reads it."""
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


# -- every format -------------------------------------------------------------------------


@pytest.mark.parametrize("module", [doccano, labelstudio, brat, conll])
def test_exports_are_lazy_generators_with_file_type(module):
    consumed = []

    def records():
        consumed.append(True)
        yield seed_record()

    result = module.export(records(), CODEBOOK, layer="attribution")
    assert isinstance(result, types.GeneratorType)
    assert consumed == []  # nothing read before the caller asks
    assert module.MEDIA_TYPE and module.EXTENSION
    next(result)


@pytest.mark.parametrize("module", [doccano, labelstudio, brat, conll])
def test_unknown_layer_is_a_service_error(module):
    with pytest.raises(ServiceError) as raised:
        module.export([seed_record()], CODEBOOK, layer="claim_type")  # a choice layer
    assert raised.value.field == "layer"
    assert "attribution" in raised.value.message


# -- doccano ------------------------------------------------------------------------------


def test_doccano_lines_hold_entities_relations_and_metadata():
    lines = [json.loads(line) for line in doccano.export([seed_record()], CODEBOOK)]
    assert [line["annotator"] for line in lines] == ["a-3f9c2e1b7d", "a-9d0e4c7a21"]
    a = lines[0]
    assert a["id"] == 12 and a["text"] == TEXT
    assert a["entities"] == [
        {"id": 1, "start_offset": 0, "end_offset": 11, "label": "CONTENT"},
        {"id": 2, "start_offset": 13, "end_offset": 21, "label": "SOURCE"},
        {"id": 3, "start_offset": 22, "end_offset": 30, "label": "CUE"},
        {"id": 4, "start_offset": 32, "end_offset": 55, "label": "SOURCE"},
        {"id": 5, "start_offset": 56, "end_offset": 60, "label": "CUE"},
        {"id": 6, "start_offset": 61, "end_offset": 73, "label": "CONTENT"},
        {"id": 7, "start_offset": 67, "end_offset": 73, "label": "LOADED_LANGUAGE"},
    ]
    # From the cue to each other part, typed by role; ids unique over the whole file.
    assert a["relations"] == [
        {"id": 1, "from_id": 3, "to_id": 2, "type": "source"},
        {"id": 2, "from_id": 3, "to_id": 1, "type": "content"},
        {"id": 3, "from_id": 5, "to_id": 4, "type": "source"},
        {"id": 4, "from_id": 5, "to_id": 6, "type": "content"},
    ]
    assert lines[1]["relations"] == [
        {"id": 5, "from_id": 13, "to_id": 11, "type": "content"},
        {"id": 6, "from_id": 13, "to_id": 12, "type": "source"},
    ]
    assert a["span_attributes"] == {"7": {"polarity": "negative", "voice": "attributed"}}
    assert a["attributions"][0] == {
        "id": 1, "relation": "attribution",
        "attributes": {"source_kind": "media_outlet", "identification": "named",
                       "cue_type": "as_reported_by", "quote_type": "indirect"},
        "parts": [{"role": "source", "span_id": 2}, {"role": "cue", "span_id": 3},
                  {"role": "content", "span_id": 1}],
    }
    assert a["sentence_labels"][1] == {"start": 0, "end": 31, "sentence_id": 101, "layer": "check_worthy",
                                       "value": "yes", "unsure": True, "comment": "needs the figure"}
    assert {key: a[key] for key in ("status", "project", "codebook_version", "title", "outlet")} == {
        "status": "done", "project": "default", "codebook_version": 1, "title": "Talks fail",
        "outlet": "ARY News"}
    for line, entry in zip(lines, seed_record()["annotations"]):
        texts = {span["id"]: span["text"] for span in entry["spans"]}
        for entity in line["entities"]:
            assert TEXT[entity["start_offset"]:entity["end_offset"]] == texts[entity["id"]]


def test_doccano_layer_option_keeps_one_layer_and_its_relations():
    (line, _) = [json.loads(line) for line in doccano.export([seed_record()], CODEBOOK, layer="loaded_language")]
    assert [entity["label"] for entity in line["entities"]] == ["LOADED_LANGUAGE"]
    assert line["relations"] == [] and line["attributions"] == []


def test_doccano_offsets_are_utf16_code_units():
    text = "Café 📈 prices rose, 🙂 said ARY News."
    cafe, news = text.index("Café"), text.index("ARY News")
    record = _record(text, [(1, 0, len(text))], [_entry("a", [
        _span(1, "attribution", "SOURCE", news, news + 8, text=text, sentence_id=1),
        _span(2, "loaded_language", "LOADED_LANGUAGE", cafe, cafe + 4, text=text, sentence_id=1,
              polarity="positive"),
    ])])
    (line,) = [json.loads(line) for line in doccano.export([record], CODEBOOK)]
    source, cafe_entity = line["entities"]
    # é is in the Basic Multilingual Plane: no shift; each emoji before a span shifts it by one.
    assert (cafe_entity["start_offset"], cafe_entity["end_offset"]) == (cafe, cafe + 4)
    assert (source["start_offset"], source["end_offset"]) == (news + 2, news + 10)
    assert _utf16(text, source["start_offset"], source["end_offset"]) == "ARY News"
    assert _utf16(text, cafe_entity["start_offset"], cafe_entity["end_offset"]) == "Café"
    assert line["sentence_labels"] == [] and doccano.utf16_offsets(text)(len(text)) == len(text) + 2


# -- Label Studio --------------------------------------------------------------------------


def _labelstudio_tasks(records, **options):
    chunks = list(labelstudio.export(records, CODEBOOK, **options))
    assert chunks[0] == "[" and chunks[-1] == "\n]\n" and len(chunks) == len(records) + 2
    return json.loads("".join(chunks))


def test_labelstudio_tasks_have_regions_relations_and_choices():
    (task,) = _labelstudio_tasks([seed_record()])
    assert task["id"] == 12
    assert task["data"]["text"] == TEXT and task["data"]["title"] == "Talks fail"
    a, b = task["annotations"]
    assert (a["id"], a["completed_by"], b["id"], b["completed_by"]) == (1, "a-3f9c2e1b7d", 2, "a-9d0e4c7a21")
    assert (a["was_cancelled"], a["ground_truth"]) == (False, False)
    assert (a["created_at"], a["updated_at"]) == (STAMP, LATER)
    result = a["result"]
    by_region = {}
    for item in result:
        if item["type"] != "relation":
            by_region.setdefault(item["id"], []).append(item)
    assert by_region["span-7"] == [
        {"id": "span-7", "from_name": "loaded_language", "to_name": "text", "type": "labels",
         "value": {"start": 67, "end": 73, "text": "failed", "labels": ["LOADED_LANGUAGE"]}},
        {"id": "span-7", "from_name": "loaded_language.polarity", "to_name": "text", "type": "choices",
         "value": {"start": 67, "end": 73, "text": "failed", "choices": ["negative"]}},
        {"id": "span-7", "from_name": "loaded_language.voice", "to_name": "text", "type": "choices",
         "value": {"start": 67, "end": 73, "text": "failed", "choices": ["attributed"]}},
    ]
    # The attribution's attributes ride on its cue region.
    assert [item["from_name"] for item in by_region["span-3"]] == [
        "attribution", "relation.attribution.source_kind", "relation.attribution.identification",
        "relation.attribution.cue_type", "relation.attribution.quote_type"]
    relations = [item for item in result if item["type"] == "relation"]
    assert relations[:2] == [
        {"from_id": "span-3", "to_id": "span-2", "type": "relation", "direction": "right", "labels": ["source"]},
        {"from_id": "span-3", "to_id": "span-1", "type": "relation", "direction": "right", "labels": ["content"]},
    ]
    assert len(relations) == 4
    assert by_region["sentence-101"] == [
        {"id": "sentence-101", "from_name": "sentence-region", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 31, "text": TEXT[:31], "labels": ["SENTENCE"]}},
        {"id": "sentence-101", "from_name": "claim_type", "to_name": "text", "type": "choices",
         "value": {"start": 0, "end": 31, "text": TEXT[:31], "choices": ["quantity"]}},
        {"id": "sentence-101", "from_name": "check_worthy", "to_name": "text", "type": "choices",
         "value": {"start": 0, "end": 31, "text": TEXT[:31], "choices": ["yes"]}},
        {"id": "sentence-101", "from_name": "check_worthy.unsure", "to_name": "text", "type": "choices",
         "value": {"start": 0, "end": 31, "text": TEXT[:31], "choices": ["unsure"]}},
        {"id": "sentence-101", "from_name": "check_worthy.comment", "to_name": "text", "type": "textarea",
         "value": {"start": 0, "end": 31, "text": ["needs the figure"]}},
    ]
    regions = {item["id"] for item in result if item["type"] == "labels"}
    for item in result:
        if item["type"] == "relation":
            assert {item["from_id"], item["to_id"]} <= regions
        elif item["type"] == "labels":
            assert TEXT[item["value"]["start"]:item["value"]["end"]] == item["value"]["text"]


def test_labelstudio_results_fit_the_generated_config():
    config = labelstudio.labeling_config(CODEBOOK)
    ET.fromstring(config)  # well-formed XML
    schema = parse_config(config)  # Label Studio's own parser (label-studio-tools)
    assert schema["attribution"]["type"] == "Labels"
    assert schema["attribution"]["labels"] == ["SOURCE", "CUE", "CONTENT", "SUPPLEMENT"]
    assert schema["claim_type"]["type"] == "Choices"
    assert schema["claim_type"]["inputs"] == [{"type": "Text", "value": "text"}]
    assert "negative" in schema["loaded_language.polarity"]["labels"]
    (task,) = _labelstudio_tasks([seed_record()])
    for annotation in task["annotations"]:
        for item in annotation["result"]:
            if item["type"] == "relation":
                continue
            control = schema[item["from_name"]]
            assert control["to_name"] == [item["to_name"]]
            assert control["type"].lower() == item["type"]
            values = item["value"].get("labels") or item["value"].get("choices") or []
            assert set(values) <= set(control["labels"])


def test_labelstudio_converter_reads_the_export(tmp_path):
    exported = tmp_path / "tasks.json"
    exported.write_text("".join(labelstudio.export([seed_record()], CODEBOOK)), encoding="utf-8")
    converter = Converter(labelstudio.labeling_config(CODEBOOK), str(tmp_path))
    items = list(converter.iter_from_json_file(str(exported)))
    assert sorted(item["completed_by"] for item in items) == ["a-3f9c2e1b7d", "a-9d0e4c7a21"]
    a = next(item for item in items if item["completed_by"] == "a-3f9c2e1b7d")
    assert [value["labels"] for value in a["output"]["attribution"]] == [
        ["CONTENT"], ["SOURCE"], ["CUE"], ["SOURCE"], ["CUE"], ["CONTENT"]]
    assert [value["choices"] for value in a["output"]["claim_type"]] == [["quantity"], ["event"]]
    converter.convert_to_json_min(str(exported), str(tmp_path / "min"), is_dir=False)
    (minimal_a, _) = json.loads((tmp_path / "min" / "result.json").read_text(encoding="utf-8"))
    assert minimal_a["text"] == TEXT
    assert {(s["start"], s["end"], s["text"]) for s in minimal_a["loaded_language"]} == {(67, 73, "failed")}


def test_labelstudio_offsets_are_code_points():
    text = "Café 📈 prices rose, 🙂 said ARY News."
    news = text.index("ARY News")
    record = _record(text, [(1, 0, len(text))], [_entry("a", [
        _span(1, "attribution", "SOURCE", news, news + 8, text=text, sentence_id=1)])])
    (task,) = _labelstudio_tasks([record])
    (item,) = task["annotations"][0]["result"]
    assert (item["value"]["start"], item["value"]["end"]) == (news, news + 8)
    assert text[item["value"]["start"]:item["value"]["end"]] == item["value"]["text"] == "ARY News"


def test_labelstudio_copies_an_anchor_shared_by_two_attributions():
    record = seed_record()
    a = record["annotations"][0]
    # A second attribution hanging on the same cue (span 3), with other attribute values.
    a["attributions"].append(_attribution(3, [("cue", 3), ("content", 6)], cue_type="other", quote_type="mixed"))
    (task,) = _labelstudio_tasks([record])
    result = task["annotations"][0]["result"]
    copy = [item for item in result if item.get("id") == "span-3-attribution-3"]
    assert [(item["from_name"], item["value"].get("labels") or item["value"]["choices"]) for item in copy] == [
        ("attribution", ["CUE"]), ("relation.attribution.cue_type", ["other"]),
        ("relation.attribution.quote_type", ["mixed"])]
    assert {"from_id": "span-3-attribution-3", "to_id": "span-6", "type": "relation",
            "direction": "right", "labels": ["content"]} in result


def test_labelstudio_empty_export_is_an_empty_array():
    assert json.loads("".join(labelstudio.export([], CODEBOOK))) == []


# -- brat ---------------------------------------------------------------------------------


def _unzip(chunks) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def _conf_sections(conf: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in conf.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        else:
            current.append(line)
    return sections


def test_brat_zip_streams_one_chunk_per_document_and_annotator():
    chunks = list(brat.export([seed_record(), seed_record() | {"document": seed_record()["document"] | {"id": 13}}],
                              CODEBOOK))
    assert len(chunks) == 1 + 4 + 1  # the configs, each document × annotator, the directory
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    files = _unzip(chunks)
    assert sorted(files) == ["12_a-3f9c2e1b7d.ann", "12_a-3f9c2e1b7d.txt", "12_a-9d0e4c7a21.ann",
                             "12_a-9d0e4c7a21.txt", "13_a-3f9c2e1b7d.ann", "13_a-3f9c2e1b7d.txt",
                             "13_a-9d0e4c7a21.ann", "13_a-9d0e4c7a21.txt", "annotation.conf", "visual.conf"]
    assert files["12_a-3f9c2e1b7d.txt"] == TEXT


def test_brat_ann_lines_exact():
    files = _unzip(brat.export([seed_record()], CODEBOOK))
    assert files["12_a-3f9c2e1b7d.ann"] == (
        "T1\tCONTENT 0 11\tPrices rose\n"
        "T2\tSOURCE 13 21\tARY News\n"
        "T3\tCUE 22 30\treported\n"
        "T4\tSOURCE 32 55\tA source close to Hamas\n"
        "T5\tCUE 56 60\tsaid\n"
        "T6\tCONTENT 61 73\ttalks failed\n"
        "T7\tLOADED_LANGUAGE 67 73\tfailed\n"
        "A1\tpolarity T7 negative\n"
        "A2\tvoice T7 attributed\n"
        "A3\tsource_kind T3 media_outlet\n"
        "A4\tidentification T3 named\n"
        "A5\tcue_type T3 as_reported_by\n"
        "A6\tquote_type T3 indirect\n"
        "R1\tsource Arg1:T3 Arg2:T2\n"
        "R2\tcontent Arg1:T3 Arg2:T1\n"
        "A7\tsource_kind T5 person\n"
        "A8\tidentification T5 anonymous\n"
        "A9\tcue_type T5 reporting_verb\n"
        "A10\tquote_type T5 indirect\n"
        "R3\tsource Arg1:T5 Arg2:T4\n"
        "R4\tcontent Arg1:T5 Arg2:T6\n"
    )


def test_brat_files_parse_with_bratly_and_fit_annotation_conf():
    files = _unzip(brat.export([seed_record()], CODEBOOK))
    sections = _conf_sections(files["annotation.conf"])
    entities = set(sections["entities"])
    assert entities == {"SOURCE", "CUE", "CONTENT", "SUPPLEMENT", "LOADED_LANGUAGE", "NAME_CALLING_LABELING",
                        "EXAGGERATION_MINIMISATION", "DOUBT", "APPEAL_TO_FEAR"}
    relations = {}
    for line in sections["relations"]:
        name, arguments = line.split("\t")
        if name != "<OVERLAP>":
            arg1, arg2 = (argument.split(":")[1].split("|") for argument in arguments.split(", "))
            relations[name] = (set(arg1), set(arg2))
    attributes = {}
    for line in sections["attributes"]:
        name, declaration = line.split("\t")
        targets, values = declaration.split(", ")
        attributes[name] = (set(targets.removeprefix("Arg:").split("|")), set(values.removeprefix("Value:").split("|")))
    assert attributes["polarity"] == ({"LOADED_LANGUAGE", "NAME_CALLING_LABELING", "EXAGGERATION_MINIMISATION",
                                       "DOUBT", "APPEAL_TO_FEAR"}, {"negative", "positive"})
    for name, content in files.items():
        if not name.endswith(".ann"):
            continue
        text = files[name.removesuffix(".ann") + ".txt"]
        collection = parse_ann_file(content, name, no_duplicates=False, sorting=False, renumerotize=False)
        assert len(collection.annotations) == content.count("\n")  # bratly dropped no line
        for annotation in collection.annotations:
            kind = type(annotation).__name__
            if kind == "EntityAnnotation":
                assert annotation.label in entities
                covered = [text[fragment.start:fragment.end] for fragment in annotation.fragments]
                assert " ".join(covered) == annotation.content
            elif kind == "AttributeAnnotation":
                targets, values = attributes[annotation.label]
                assert annotation.component.label in targets and set(annotation.values) <= values
            else:
                assert kind == "RelationAnnotation"
                arg1, arg2 = relations[annotation.label]
                assert annotation.argument1[1].label in arg1 and annotation.argument2[1].label in arg2
    assert "CUE\tbgColor:#f28e2b" in files["visual.conf"]


def test_brat_splits_spans_at_line_breaks_into_fragments():
    text = "Prices rose.\nARY News\n\nreported it. Café 🙂 fine."
    start, end = text.index("ARY"), text.index(" it")
    cafe = text.index("Café")
    record = _record(text, [(1, 0, 12), (2, 13, len(text))], [_entry("a", [
        _span(1, "attribution", "CONTENT", start, end, text=text, sentence_id=2),
        _span(2, "loaded_language", "LOADED_LANGUAGE", cafe, len(text) - 1, text=text, sentence_id=2),
    ])])
    files = _unzip(brat.export([record], CODEBOOK))
    assert files["12_a.txt"] == text
    # Code point offsets: the emoji counts as one.
    assert files["12_a.ann"] == (f"T1\tCONTENT {start} {start + 8};{start + 10} {end}\tARY News reported\n"
                                 f"T2\tLOADED_LANGUAGE {cafe} {len(text) - 1}\tCafé 🙂 fine\n")
    (t1, t2) = parse_ann_file(files["12_a.ann"], "12_a.ann", no_duplicates=False, sorting=False,
                              renumerotize=False).annotations
    assert [text[f.start:f.end] for f in t1.fragments] == ["ARY News", "reported"]
    assert text[t2.fragments[0].start:t2.fragments[0].end] == "Café 🙂 fine"
    assert brat.fragments(text, start, end) == [(start, start + 8), (start + 10, end)]
    # A span ending on a line break gets no empty fragment.
    assert brat.fragments(text, 0, 13) == [(0, 12)]


def test_brat_copies_an_anchor_shared_by_two_attributions():
    record = seed_record()
    record["annotations"][0]["attributions"].append(_attribution(3, [("cue", 3), ("content", 6)], cue_type="other"))
    ann = _unzip(brat.export([record], CODEBOOK))["12_a-3f9c2e1b7d.ann"]
    assert ann.endswith("T8\tCUE 22 30\treported\nA11\tcue_type T8 other\nR5\tcontent Arg1:T8 Arg2:T6\n")


# -- CoNLL --------------------------------------------------------------------------------


def _conll_blocks(text: str) -> list[list[str]]:
    """Blocks of token lines, one per sentence, comment lines dropped."""
    return [[line for line in block.splitlines() if not line.startswith("#")]
            for block in text.split("\n\n") if block.strip()]


def test_conll_needs_a_span_layer():
    with pytest.raises(ServiceError) as raised:
        conll.export([seed_record()], CODEBOOK)
    assert raised.value.field == "layer"


def test_conll_attribution_layer_exact():
    out = "".join(conll.export([seed_record()], CODEBOOK, layer="attribution"))
    assert out.split("# document = 12\n# annotator = a-9d0e4c7a21")[0] == (
        "# document = 12\n# annotator = a-3f9c2e1b7d\n# dropped spans = 0\n"
        "# sent_id = 101\n"
        "Prices\tB-CONTENT\nrose\tI-CONTENT\n,\tO\nARY\tB-SOURCE\nNews\tI-SOURCE\nreported\tB-CUE\n.\tO\n\n"
        "# sent_id = 102\n"
        "A\tB-SOURCE\nsource\tI-SOURCE\nclose\tI-SOURCE\nto\tI-SOURCE\nHamas\tI-SOURCE\nsaid\tB-CUE\n"
        "talks\tB-CONTENT\nfailed\tI-CONTENT\n.\tO\n\n"
    )


def test_conll_tokens_and_tags_match_spacy_and_seqeval():
    nlp = spacy.blank("en")
    record = seed_record()
    for layer in ("attribution", "loaded_language"):
        blocks = _conll_blocks("".join(conll.export([record], CODEBOOK, layer=layer)))
        for entry, sentence_blocks in zip(record["annotations"], (blocks[:2], blocks[2:])):
            for sentence, rows in zip(record["document"]["sentences"], sentence_blocks):
                tokens, tags = zip(*(row.split("\t") for row in rows))
                doc = nlp(TEXT[sentence["start"]:sentence["end"]])
                assert list(tokens) == [token.text for token in doc]
                spans = [(span["start"] - sentence["start"], span["end"] - sentence["start"], span["label"])
                         for span in entry["spans"] if span["layer"] == layer
                         and sentence["start"] <= span["start"] < sentence["end"]]
                for start, end, _ in spans:
                    assert doc.char_span(start, end, alignment_mode="strict") is not None
                assert list(tags) == biluo_to_iob(offsets_to_biluo_tags(doc, spans))
                assert sorted(label for label, _, _ in get_entities(list(tags))) == sorted(s[2] for s in spans)


def _well_formed_bio(tags: list[str]) -> bool:
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return False
        previous = tag
    return True


def test_conll_overlaps_cross_sentence_spans_and_partial_words():
    text = "Officials said the brutal, devastating attack\nwas a massacre. Aid halted."
    record = _record(text, [(1, 0, 61), (2, 62, len(text))], [_entry("a", [
        # Overlapping spans of one layer: the earlier, longer one wins.
        _span(1, "loaded_language", "LOADED_LANGUAGE", 19, 45, text=text, sentence_id=1),
        _span(2, "loaded_language", "APPEAL_TO_FEAR", 27, 45, text=text, sentence_id=1),
        # Starts inside a word: the whole word is tagged.
        _span(3, "loaded_language", "DOUBT", 54, 60, text=text, sentence_id=1),
    ])])
    out = "".join(conll.export([record], CODEBOOK, layer="loaded_language"))
    assert "# dropped spans = 1\n" in out and "APPEAL_TO_FEAR" not in out
    rows = [row.split("\t") for block in _conll_blocks(out) for row in block]
    tags = dict(rows)
    assert tags["brutal"] == "B-LOADED_LANGUAGE" and tags["attack"] == "I-LOADED_LANGUAGE"
    assert tags["massacre"] == "B-DOUBT"
    assert all(_well_formed_bio([tag for _, tag in block]) for block in
               ([row.split("\t") for row in b] for b in _conll_blocks(out)))

    # Runs into the next sentence: B- again there.
    record["annotations"][0]["spans"] = [
        _span(4, "loaded_language", "EXAGGERATION_MINIMISATION", 50, 65, text=text, sentence_id=1)]
    blocks = _conll_blocks("".join(conll.export([record], CODEBOOK, layer="loaded_language")))
    first, second = ([row.split("\t") for row in block] for block in blocks)
    assert first[-3:] == [["a", "B-EXAGGERATION_MINIMISATION"], ["massacre", "I-EXAGGERATION_MINIMISATION"],
                          [".", "I-EXAGGERATION_MINIMISATION"]]
    assert second[0] == ["Aid", "B-EXAGGERATION_MINIMISATION"] and second[1] == ["halted", "O"]
    assert all(_well_formed_bio([tag for _, tag in block]) for block in (first, second))
