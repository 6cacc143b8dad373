"""Discontinuous spans (issue 18): a span with several fragments is one span, stored, checked,
exported and agreed on as one unit, never as several."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from bratly.io import parse_ann_file
from sqlalchemy import func, select

from annotator import report
from annotator.agreement import span_agreement
from annotator.codebook import default_codebook
from annotator.exporters import brat, csv_spans
from annotator.models import Span
from annotator.services import exports
from annotator.services.permissions import SYSTEM

from .helpers import Client, annotation_world, span_payload

SECRET = "test secret"
STATEMENT = "In an official statement, Aslam Ghauri, the spokesperson for JUI-F, conveyed that"


@pytest.fixture
def world(app, session):
    return annotation_world(app, session)


def discontinuous(document, label: str, *phrases: str, layer: str = "attribution", **extra) -> dict:
    """A span payload marking each of ``phrases`` (found in order, in the seed's second sentence)."""
    fragments, position = [], document.text.index(STATEMENT)
    for phrase in phrases:
        start = document.text.index(phrase, position)
        fragments.append([start, start + len(phrase)])
        position = start + len(phrase)
    start, end = fragments[0][0], fragments[-1][1]
    return {"layer": layer, "label": label, "start": start, "end": end, "text": document.text[start:end],
            "fragments": fragments, **extra}


def test_create_update_and_json_keep_the_fragments_as_one_span(world):
    seed, ann, session = world["seed"], Client(world["app"], "ann"), world["session"]
    payload = discontinuous(seed, "SOURCE", "Aslam Ghauri", "spokesperson for JUI-F", comment="  split by the apposition ")
    created = ann.call("POST", f"/api/documents/{seed.id}/spans", payload)
    assert created.status_code == 201, created.json
    span = created.json
    assert span["fragments"] == payload["fragments"] and span["comment"] == "split by the apposition"
    assert (span["start"], span["end"], span["text"]) == (payload["start"], payload["end"], payload["text"])
    assert seed.text[span["start"]:span["end"]] == span["text"]
    state = ann.get(f"/api/documents/{seed.id}/annotations").json
    assert [s["fragments"] for s in state["spans"]] == [payload["fragments"]]

    # Moving the last fragment moves the end; null makes the span contiguous; the comment goes.
    wider = discontinuous(seed, "SOURCE", "Aslam Ghauri", "the spokesperson for JUI-F, conveyed")
    updated = ann.call("PATCH", f"/api/spans/{span['id']}", {"version": 1, **{k: wider[k] for k in ("end", "text", "fragments")}})
    assert updated.status_code == 200, updated.json
    assert updated.json["fragments"] == wider["fragments"] and updated.json["end"] == wider["end"]
    assert updated.json["comment"] == "split by the apposition"  # not sent: kept
    contiguous = ann.call("PATCH", f"/api/spans/{span['id']}", {"version": 2, "fragments": None, "comment": ""})
    assert contiguous.status_code == 200, contiguous.json
    assert (contiguous.json["fragments"], contiguous.json["comment"]) == (None, None)
    session.rollback()
    assert session.scalar(select(func.count(Span.id))) == 1
    assert session.scalar(select(Span.fragments)) is None  # SQL NULL, not JSON null
    assert session.scalar(select(func.count(Span.id)).where(Span.fragments.is_(None))) == 1


@pytest.mark.parametrize("change", [
    "one fragment", "overlapping", "touching", "out of order", "whitespace edge", "only whitespace",
    "outside the extent", "first not at start", "not pairs", "booleans", "across sentences", "not a list",
])
def test_bad_fragments_are_refused_and_nothing_is_written(world, change):
    seed, ann, session = world["seed"], Client(world["app"], "ann"), world["session"]
    payload = discontinuous(seed, "SOURCE", "Aslam Ghauri", "spokesperson for JUI-F")
    (a, b), (c, d) = payload["fragments"]
    bad = {
        "one fragment": [[a, d]],
        "overlapping": [[a, c + 2], [c, d]],
        "touching": [[a, c], [c, d]],
        "out of order": [[c, d], [a, b]],
        "whitespace edge": [[a, b + 2], [c, d]],  # "Aslam Ghauri, ": ends on a space
        "only whitespace": [[a, b], [b + 1, b + 2], [c, d]],
        "outside the extent": [[a - 3, b], [c, d]],
        "first not at start": [[a + 1, b], [c, d]],
        "not pairs": [[a, b, 3], [c, d]],
        "booleans": [[a, True], [c, d]],
        "not a list": "1 2;3 4",
    }
    if change == "across sentences":
        follow = seed.text.index("The JUI-F representative")
        payload = {**payload, "end": follow + 9, "text": seed.text[a:follow + 9], "fragments": [[a, b], [follow, follow + 9]]}
    else:
        payload["fragments"] = bad[change]
    response = ann.call("POST", f"/api/documents/{seed.id}/spans", payload)
    assert response.status_code == 400, response.json
    assert response.json["field"] == "fragments" and response.json["error"]
    session.rollback()
    assert session.scalar(select(func.count(Span.id))) == 0


def test_same_extent_and_label_with_other_fragments_is_the_same_span(world):
    """The unique key is (document, user, layer, label, start, end): fragments are not in it."""
    seed, ann = world["seed"], Client(world["app"], "ann")
    url = f"/api/documents/{seed.id}/spans"
    assert ann.call("POST", url, discontinuous(seed, "SOURCE", "Aslam Ghauri", "spokesperson for JUI-F")).status_code == 201
    other_fragments = ann.call("POST", url, discontinuous(seed, "SOURCE", "Aslam", "the spokesperson for JUI-F"))
    assert other_fragments.status_code == 409 and other_fragments.json["field"] == "start"
    assert ann.call("POST", url, discontinuous(seed, "CUE", "Aslam", "the spokesperson for JUI-F")).status_code == 201


def _records(world):
    return list(exports.document_records(world["session"], SYSTEM, world["project"].id, secret_key=SECRET,
                                         usernames=True))


def test_exports_carry_fragments_and_comment_and_brat_writes_one_t(world):
    seed, ann, session = world["seed"], Client(world["app"], "ann"), world["session"]
    payload = discontinuous(seed, "SOURCE", "Aslam Ghauri", "spokesperson for JUI-F", comment="two\nlines")
    assert ann.call("POST", f"/api/documents/{seed.id}/spans", payload).status_code == 201
    assert ann.call("POST", f"/api/documents/{seed.id}/spans", span_payload(seed, "ARY News", "attribution", "SOURCE")).status_code == 201
    session.rollback()
    records = _records(world)
    record = next(r for r in records if r["document"]["id"] == seed.id)
    spans = next(entry for entry in record["annotations"] if entry["annotator"] == "ann")["spans"]
    (split,) = [s for s in spans if "fragments" in s]
    assert split["fragments"] == payload["fragments"] and split["comment"] == "two\nlines"
    assert split["text"] == seed.text[split["start"]:split["end"]]
    assert all("fragments" not in s and "comment" not in s for s in spans if s is not split)

    rows = list(csv.DictReader(io.StringIO("".join(csv_spans.export(records, default_codebook())))))
    (row,) = [r for r in rows if r["fragments"]]
    (a, b), (c, d) = payload["fragments"]
    assert (row["fragments"], row["comment"], row["start"], row["end"]) == (f"{a} {b};{c} {d}", "two\nlines", str(a), str(d))

    files = {}
    with zipfile.ZipFile(io.BytesIO(b"".join(brat.export(records, default_codebook())))) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    ann_file = files[f"{seed.id}_ann.ann"]
    (t_line,) = [line for line in ann_file.splitlines() if f" {a} {b};{c} {d}\t" in line]
    number = t_line.split("\t")[0]
    assert t_line == f"{number}\tSOURCE {a} {b};{c} {d}\tAslam Ghauri spokesperson for JUI-F"
    assert f"#1\tAnnotatorNotes {number}\ttwo lines" in ann_file.splitlines()
    # Back through brat's own format: one entity with the span's fragments, not two.
    parsed = parse_ann_file(ann_file, "x.ann", no_duplicates=False, sorting=False, renumerotize=False)
    entities = [x for x in parsed.annotations if type(x).__name__ == "EntityAnnotation"]
    (entity,) = [x for x in entities if len(x.fragments) > 1]
    assert [[f.start, f.end] for f in entity.fragments] == payload["fragments"]
    assert len(entities) == 2


def test_agreement_counts_a_discontinuous_span_as_one_unit():
    """By hand: a marks CONTENT [0,5)+[10,15) and [20,25); b marks [0,5)+[10,20) and [20,25).
    By span: one of two spans each matches, exact F1 = 2·1/(2+2) = 0.5; counted by fragment it
    would be 2·2/(3+3) = 0.667 (the issue's .71 against .66). Partial credit counts fragment
    characters only: a's spans are wholly inside b's (P = 1); b's first shares 10 of its 15
    marked characters (its gap [5,10) is not its), the second all: R = (10/15 + 1)/2."""
    a = [[(0, 15, "CONTENT", ((0, 5), (10, 15))), (20, 25, "CONTENT")]]
    b = [[(0, 20, "CONTENT", ((0, 5), (10, 20))), (20, 25, "CONTENT")]]
    scores = span_agreement(a, b).micro
    assert scores.exact_f1.value == 0.5
    assert scores.precision.value == 1.0 and scores.recall.value == pytest.approx((10 / 15 + 1) / 2)
    by_fragment = span_agreement([[(0, 5, "CONTENT"), (10, 15, "CONTENT"), (20, 25, "CONTENT")]],
                                 [[(0, 5, "CONTENT"), (10, 20, "CONTENT"), (20, 25, "CONTENT")]]).micro
    assert by_fragment.exact_f1.value == pytest.approx(2 / 3)
    # The same fragments match; the same extent with other fragments does not.
    same = span_agreement(a, [[(0, 15, "CONTENT", ((0, 5), (10, 15))), (20, 25, "CONTENT")]]).micro
    other = span_agreement(a, [[(0, 15, "CONTENT", ((0, 6), (10, 15))), (20, 25, "CONTENT")]]).micro
    assert (same.exact_f1.value, other.exact_f1.value) == (1.0, 0.5)


def test_report_gives_the_by_span_figure(world):
    seed, session = world["seed"], world["session"]
    ann, bob = Client(world["app"], "ann"), Client(world["app"], "bob")
    url = f"/api/documents/{seed.id}/spans"
    assert ann.call("POST", url, discontinuous(seed, "CONTENT", "Aslam Ghauri", "spokesperson")).status_code == 201
    assert bob.call("POST", url, discontinuous(seed, "CONTENT", "Aslam Ghauri", "spokesperson for JUI-F")).status_code == 201
    for client in (ann, bob):
        assert client.call("POST", url, span_payload(seed, "ARY News", "attribution", "SOURCE")).status_code == 201
    session.rollback()
    body = report.build_report(session, SYSTEM, world["project"].id, replicates=0)
    json.dumps(body, allow_nan=False)
    layer = next(x for x in body["layers"] if x["layer"] == "attribution")
    (pair,) = layer["pairs"]
    assert pair["exact_f1"]["value"] == 0.5  # by fragment: 2·2/(3+3)
    ghauri = len("Aslam Ghauri")
    # ann's CONTENT lies wholly inside bob's fragments; bob's shares Ghauri + "spokesperson" of its marked characters.
    shared = ghauri + len("spokesperson")
    assert pair["partial_f1"]["value"] == pytest.approx(
        2 * 1.0 * ((shared / (ghauri + len("spokesperson for JUI-F")) + 1) / 2)
        / (1.0 + (shared / (ghauri + len("spokesperson for JUI-F")) + 1) / 2))
