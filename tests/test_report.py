"""The agreement report: database -> arrays -> annotator.agreement -> JSON, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re

import krippendorff
import numpy as np
import pytest
from sqlalchemy import select, update
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotator import report
from annotator.errors import Forbidden, NotFound, ServiceError
from annotator.models import (
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Report,
    Sentence,
    SentenceLabel,
    Span,
)
from annotator.pseudonyms import pseudonym
from annotator.services import adjudication, annotations, exports, projects
from annotator.services.permissions import SYSTEM

from .helpers import add_users, assign

SECRET = "test-secret"  # the app fixture's SECRET_KEY
TOO_FEW_DOCUMENTS = "too few documents for an interval"
CLAIMS = ("event", "quantity", "causal", "prediction", "rule", "personal_experience", "opinion", "not_claim")
SENTENCE = "Word{n} one two three. "
# Claim types per annotator, per document, per sentence (None: not labelled).
LABELS = {
    "ann1": [["event", "quantity", "opinion", "event"], ["causal", "event", "rule", "opinion"], ["event", "event", "not_claim", None]],
    "ann2": [["event", "quantity", "event", "event"], ["causal", "event", "rule", "event"], ["event", "quantity", None, "opinion"]],
    "ann3": [["event", "opinion", "opinion", None], ["causal", "event", "prediction", "opinion"], ["event", "event", "not_claim", "opinion"]],
}


def _add_document(session, project, n: int) -> Document:
    text = "".join(SENTENCE.format(n=f"{n}{i}") for i in range(4)).strip()
    document = Document(project_id=project.id, title=f"Document {n}", text=text,
                        content_hash=hashlib.sha256(text.encode()).hexdigest())
    session.add(document)
    session.flush()
    start = 0
    for i in range(4):
        length = len(SENTENCE.format(n=f"{n}{i}").strip())
        session.add(Sentence(document_id=document.id, position=i, start=start, end=start + length))
        start += length + 1
    session.flush()
    return document


@pytest.fixture
def world(app, session):
    project = projects.get_or_create_project(session, SYSTEM, "default")
    docs = [_add_document(session, project, n) for n in range(3)]
    session.commit()
    people = add_users(session, {"ann1": "annotator", "ann2": "annotator", "ann3": "annotator", "sup": "supervisor"})
    assign(session, project, [people[name] for name in ("ann1", "ann2", "ann3")], docs)
    sentences = {d.id: session.scalars(select(Sentence).where(Sentence.document_id == d.id).order_by(Sentence.position)).all() for d in docs}
    for name, per_doc in LABELS.items():
        for d, values in zip(docs, per_doc):
            for sentence, value in zip(sentences[d.id], values):
                if value is not None:
                    session.add(SentenceLabel(user_id=people[name].id, sentence_id=sentence.id, layer="claim_type", value=value))
                # check_worthy: everybody says "yes" wherever they labelled (no variation)
                session.add(SentenceLabel(user_id=people[name].id, sentence_id=sentence.id, layer="check_worthy", value="yes"))
    session.commit()
    return {"project": project, "docs": docs, "sentences": sentences, **people}


def _matrix(world, masked=()) -> np.ndarray:
    """The claim-type reliability data as krippendorff wants it (annotators x units, NaN missing)."""
    rows = []
    for name in ("ann1", "ann2", "ann3"):
        row = []
        for d, values in enumerate(LABELS[name]):
            for s, value in enumerate(values):
                row.append(np.nan if value is None or (name, d) in masked else CLAIMS.index(value))
        rows.append(row)
    return np.array(rows, dtype=float)


def _layer(body, name):
    return next(layer for layer in body["layers"] if layer["layer"] == name)


def test_claim_type_alpha_matches_krippendorff_and_json_is_strict(world, session):
    body = report.build_report(session, SYSTEM, world["project"].id, replicates=200)
    text = json.dumps(body, allow_nan=False)  # no NaN anywhere
    assert json.loads(text) == body  # JSON-native: the cached copy compares equal
    claim = _layer(body, "claim_type")
    expected = krippendorff.alpha(reliability_data=_matrix(world), level_of_measurement="nominal")
    assert claim["metrics"]["alpha"]["value"] == pytest.approx(expected, abs=1e-9)
    assert claim["level"] == "nominal" and claim["categories"] == list(CLAIMS)
    interval = claim["metrics"]["alpha"]["interval"]
    assert interval["replicates"] > 0 and interval["seed"] == 20261125 and interval["low"] <= interval["high"]
    assert len(claim["pairs"]) == 3  # 3 annotators: 3 kappa pairs
    assert {(p["a"], p["b"]) for p in claim["pairs"]} == {
        (world["ann1"].id, world["ann2"].id), (world["ann1"].id, world["ann3"].id), (world["ann2"].id, world["ann3"].id)}
    assert sum(map(sum, claim["pooled_confusion"])) == sum(sum(map(sum, p["confusion"])) for p in claim["pairs"])
    assert body["counts"] == {"documents": 3, "sentences": 12, "annotators": 3}
    assert [a["username"] for a in body["annotators"]] == ["ann1", "ann2", "ann3"]
    # Ordered layers are ordinal; unanimous values are "no variation", never 1 or NaN.
    worthy = _layer(body, "check_worthy")
    assert worthy["level"] == "ordinal"
    assert worthy["metrics"]["alpha"]["value"] is None
    assert worthy["metrics"]["alpha"]["undefined"] == "no variation" and worthy["metrics"]["alpha"]["band"] is None
    # Documents: lowest first.
    values = [d["alpha"]["value"] for d in claim["documents"] if d["alpha"]["value"] is not None]
    assert values == sorted(values)


def test_disagreements_are_exact(world, session):
    claim = _layer(report.build_report(session, SYSTEM, world["project"].id, replicates=0), "claim_type")
    expected = []
    for d, doc in enumerate(world["docs"]):
        for s, sentence in enumerate(world["sentences"][doc.id]):
            given = {str(world[name].id): LABELS[name][d][s] for name in ("ann1", "ann2", "ann3") if LABELS[name][d][s]}
            if len(given) >= 2 and len(set(given.values())) > 1:
                expected.append({"document": doc.id, "sentence": sentence.id, "position": s, "values": given})
    assert claim["disagreements"] == expected
    assert claim["disagreements_total"] == len(expected) == 5
    per_doc = {d["document"]: d["disagreements"] for d in claim["documents"]}
    assert per_doc == {doc.id: sum(1 for x in expected if x["document"] == doc.id) for doc in world["docs"]}


def test_one_annotator_is_undefined_not_zero(world, session):
    body = report.build_report(session, SYSTEM, world["project"].id, annotators=[world["ann1"].id], replicates=50)
    claim = _layer(body, "claim_type")
    assert claim["metrics"]["alpha"]["value"] is None
    assert claim["metrics"]["alpha"]["undefined"] == "no unit with two annotators"
    assert claim["pairs"] == [] and body["counts"]["annotators"] == 1
    json.dumps(body, allow_nan=False)


def test_withdrawn_assignments_are_excluded(world, session):
    doc0 = world["docs"][0]
    session.execute(update(Assignment).where(Assignment.user_id == world["ann3"].id, Assignment.document_id == doc0.id)
                    .values(status="withdrawn"))
    session.commit()
    claim = _layer(report.build_report(session, SYSTEM, world["project"].id, replicates=0), "claim_type")
    expected = krippendorff.alpha(reliability_data=_matrix(world, masked={("ann3", 0)}), level_of_measurement="nominal")
    assert claim["metrics"]["alpha"]["value"] == pytest.approx(expected, abs=1e-9)
    assert all(str(world["ann3"].id) not in x["values"] for x in claim["disagreements"] if x["document"] == doc0.id)


def test_since_filters_older_annotations(world, session):
    session.execute(update(SentenceLabel).where(SentenceLabel.user_id == world["ann1"].id)
                    .values(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    session.commit()
    body = report.build_report(session, SYSTEM, world["project"].id, since=dt.date(2021, 1, 1), replicates=0)
    masked = {("ann1", d) for d in range(3)}
    expected = krippendorff.alpha(reliability_data=_matrix(world, masked=masked), level_of_measurement="nominal")
    assert _layer(body, "claim_type")["metrics"]["alpha"]["value"] == pytest.approx(expected, abs=1e-9)
    assert body["parameters"]["since"] == "2021-01-01"


def _span(session, user, document, start, end, label, layer="attribution"):
    sentence = session.scalar(select(Sentence).where(Sentence.document_id == document.id, Sentence.start <= start,
                                                     Sentence.end > start))
    span = Span(user_id=user.id, document_id=document.id, sentence_id=sentence.id, layer=layer, label=label,
                start=start, end=end, text=document.text[start:end])
    session.add(span)
    session.flush()
    return span


def test_span_and_relation_layers(world, session):
    doc = world["docs"][0]
    for name in ("ann1", "ann2"):
        source = _span(session, world[name], doc, 0, 6, "SOURCE")
        cue = _span(session, world[name], doc, 7, 10, "CUE")
        content = _span(session, world[name], doc, 11, 20, "CONTENT")
        attribution = Attribution(user_id=world[name].id, document_id=doc.id, relation="attribution",
                                  attributes={"source_kind": "person"})
        session.add(attribution)
        session.flush()
        for role, span in (("source", source), ("cue", cue), ("content", content)):
            session.add(AttributionPart(attribution_id=attribution.id, span_id=span.id, role=role))
    _span(session, world["ann3"], doc, 0, 5, "SOURCE")
    _span(session, world["ann3"], doc, 30, 35, "CUE")
    session.commit()
    body = report.build_report(session, SYSTEM, world["project"].id, replicates=100)
    json.dumps(body, allow_nan=False)
    spans = _layer(body, "attribution")
    assert spans["kind"] == "span" and "SOURCE" in spans["labels"]
    pair12 = next(p for p in spans["pairs"] if (p["a"], p["b"]) == (world["ann1"].id, world["ann2"].id))
    assert pair12["exact_f1"]["value"] == 1.0 and pair12["partial_f1"]["value"] == 1.0
    pair13 = next(p for p in spans["pairs"] if (p["a"], p["b"]) == (world["ann1"].id, world["ann3"].id))
    assert 0 <= pair13["exact_f1"]["value"] < 1
    for name in ("unitizing_alpha", "token_alpha", "exact_f1", "partial_f1", "boundary_f1"):
        figure = spans["metrics"][name]
        assert (figure["value"] is None) != (figure["undefined"] is None)
        assert figure["value"] is None or -1 <= figure["value"] <= 1
    assert spans["metrics"]["token_alpha"]["value"] is not None
    by_label = {row["label"]: row["token_alpha"] for row in spans["per_label"]}
    assert by_label["SOURCE"]["value"] is not None  # marked, and defined beside the pooled figure
    assert all((f["value"] is None) != (f["undefined"] is None) for f in by_label.values())
    # ann3 differs from both others in sentence 0 (SOURCE) and 1 (CUE at 30 is in the second sentence).
    rows = {(r["a"], r["b"], r["position"]) for r in spans["disagreements"]}
    a1, a2, a3 = world["ann1"].id, world["ann2"].id, world["ann3"].id
    assert rows == {(a1, a3, 0), (a2, a3, 0), (a1, a3, 1), (a2, a3, 1)}
    assert spans["documents"][-1]["exact_f1"]["value"] is None  # documents with no spans last
    loaded = _layer(body, "loaded_language")
    assert loaded["metrics"]["exact_f1"]["undefined"] == "no spans"

    relation = next(x for x in body["layers"] if x["kind"] == "relation")
    assert relation["layer"] == "attribution"
    pair = next(p for p in relation["pairs"] if (p["a"], p["b"]) == (a1, a2))
    assert pair["aligned"] == 1
    assert pair["roles"]["cue"]["exact"]["value"] == 1.0 and pair["roles"]["content"]["overlap"]["value"] == 1.0
    assert pair["roles"]["supplement"]["exact"]["undefined"] == "no spans"
    assert set(relation["metrics"]["attributes"]) >= {"source_kind", "identification"}


def test_cache_hit_and_invalidation(world, session, monkeypatch):
    calls = []
    original = report.build_report

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(report, "build_report", counting)
    project_id = world["project"].id
    first = report.cached_report(session, world["sup"], project_id, replicates=100)
    second = report.cached_report(session, world["sup"], project_id, replicates=100)
    assert len(calls) == 1 and second == first
    assert session.scalar(select(Report.fingerprint).where(Report.project_id == project_id))
    report.cached_report(session, world["sup"], project_id, replicates=50)  # other parameters: computed
    assert len(calls) == 2

    # A new label saved through the service layer invalidates the cached report.
    doc2 = world["docs"][2]
    sentence = world["sentences"][doc2.id][3]  # ann1 left it empty
    annotations.set_sentence_label(session, world["ann1"], sentence.id, "claim_type", {"value": "opinion"})
    third = report.cached_report(session, world["sup"], project_id, replicates=100)
    assert len(calls) == 3 and third != first
    assert _layer(third, "claim_type")["metrics"]["alpha"]["units"] == _layer(first, "claim_type")["metrics"]["alpha"]["units"]
    assert report.cached_report(session, world["sup"], project_id, replicates=100) == third
    assert len(calls) == 3


def test_authorisation(world, session):
    with pytest.raises(Forbidden):
        report.build_report(session, world["ann1"], world["project"].id)
    with pytest.raises(Forbidden):
        report.cached_report(session, world["ann1"], world["project"].id)
    with pytest.raises(NotFound):
        report.build_report(session, world["sup"], 9999)
    assert report.build_report(session, world["sup"], world["project"].id, replicates=10)["format"] == 1


def test_cli_outputs(world, cli, tmp_path):
    result = cli("report", "--project", "default", "--replicates", "50")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["parameters"]["replicates"] == 50 and "Computing" in result.stderr
    assert [a["name"] for a in body["annotators"]] == [
        pseudonym(SECRET, world["project"].id, world[name].id) for name in ("ann1", "ann2", "ann3")]

    result = cli("report", "--project", "default", "--format", "csv", "--replicates", "0",
                 "--annotators", "ann1,ann2", "--documents", ",".join(str(d.id) for d in world["docs"][:2]))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == list(report.CSV_COLUMNS)
    alpha = next(r for r in rows if r[:3] == ["claim_type", "alpha", "overall"])
    assert float(alpha[5]) <= 1
    assert any(r[2] == "pair" for r in rows) and all(len(r) == len(report.CSV_COLUMNS) for r in rows)
    project_id = world["project"].id
    pseudonyms = {pseudonym(SECRET, project_id, world[name].id) for name in ("ann1", "ann2")}
    assert {r[3] for r in rows if r[2] in ("pair", "annotator")} == pseudonyms
    result = cli("report", "--project", "default", "--format", "csv", "--replicates", "0", "--usernames")
    assert {r[3] for r in csv.reader(io.StringIO(result.stdout)) if r[2] == "annotator"} == {"ann1", "ann2", "ann3"}

    out = tmp_path / "report.html"
    result = cli("report", "--project", "default", "--format", "html", "--out", str(out), "--replicates", "20")
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "Claim type" in html
    assert pseudonym(SECRET, project_id, world["ann2"].id) in html and "ann2" not in html
    result = cli("report", "--project", "default", "--format", "html", "--out", str(out), "--replicates", "0",
                 "--usernames")
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "ann2" in html
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    assert "<link" not in html.lower()

    for args, message in (
        (("--project", "nope"), "no project named 'nope'"),
        (("--annotators", "ghost"), "no user named 'ghost'"),
        (("--since", "2026-13-45"), "not a date"),
        (("--documents", "a,b"), "not a comma-separated list"),
    ):
        result = cli("report", *args)
        assert result.exit_code != 0 and message in result.output, result.output


# --- intervals of one document, Fleiss' kappa on the fully rated units, annotators' names ---


def _figures(node):
    """Every FIGURE dict anywhere in a report."""
    if isinstance(node, dict):
        if "value" in node and "undefined" in node and "interval" in node:
            yield node
        else:
            for child in node.values():
                yield from _figures(child)
    elif isinstance(node, list):
        for child in node:
            yield from _figures(child)


def _csv(body: dict, names: dict[int, str]) -> list[dict]:
    """The report's CSV rows as dicts by column (the header checked)."""
    header, *rows = csv.reader(io.StringIO("".join(report.report_csv(body, names))))
    assert header == list(report.CSV_COLUMNS)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_one_document_gives_no_interval(world, session):
    """Resampling one document gives that document back: the interval is undefined, with its
    reason, in the JSON, the CSV and the HTML file (not "0.544 to 0.544")."""
    body = report.build_report(session, SYSTEM, world["project"].id, documents=[world["docs"][0].id], replicates=100)
    alpha = _layer(body, "claim_type")["metrics"]["alpha"]
    assert alpha["value"] is not None
    assert alpha["interval"] == {"low": None, "high": None, "p_below_0667": None, "p_below_08": None,
                                 "replicates": 0, "seed": 20261125, "undefined": TOO_FEW_DOCUMENTS}
    with_interval = [f for f in _figures(body) if f["value"] is not None and f["interval"] is not None]
    assert len(with_interval) > 5
    assert all(f["interval"]["undefined"] == TOO_FEW_DOCUMENTS and f["interval"]["low"] is None
               for f in with_interval)
    json.dumps(body, allow_nan=False)

    names = report.annotator_names(body, secret_key=SECRET)
    rows = _csv(body, names)
    row = next(r for r in rows if (r["layer"], r["metric"], r["scope"]) == ("claim_type", "alpha", "overall"))
    assert (row["low"], row["high"], row["interval_undefined"]) == ("", "", TOO_FEW_DOCUMENTS)
    assert float(row["value"]) == pytest.approx(alpha["value"])

    html = report.report_html(body, names)
    alpha_row = re.search(r"<tr><th>Krippendorff's alpha</th>.*?</tr>", html, re.S).group(0)
    assert f"undefined: {TOO_FEW_DOCUMENTS}" in alpha_row and f"{alpha['value']:.3f}" in alpha_row
    assert " – " not in alpha_row

    # Two documents: an interval again.
    two = report.build_report(session, SYSTEM, world["project"].id, documents=[d.id for d in world["docs"][:2]],
                              replicates=100)
    interval = _layer(two, "claim_type")["metrics"]["alpha"]["interval"]
    assert interval["undefined"] is None and interval["low"] is not None


def test_fleiss_kappa_with_one_extra_label(world, session):
    """ann1 and ann2 on every document; ann2 labels one sentence ann1 left empty. Fleiss' kappa
    is that of the other eleven sentences (as statsmodels computes it), one unit left out."""
    doc2 = world["docs"][2]
    session.add(SentenceLabel(user_id=world["ann2"].id, sentence_id=world["sentences"][doc2.id][2].id,
                              layer="claim_type", value="not_claim"))  # now only sentence 3 is ann2's alone
    session.commit()
    pair = [world["ann1"].id, world["ann2"].id]
    body = report.build_report(session, SYSTEM, world["project"].id, annotators=pair, replicates=100)
    fleiss = _layer(body, "claim_type")["metrics"]["fleiss_kappa"]
    values = {name: [v for doc in LABELS[name] for v in doc] for name in ("ann1", "ann2")}
    values["ann2"][10] = "not_claim"
    common = [u for u in range(12) if values["ann1"][u] and values["ann2"][u]]
    assert len(common) == 11
    counts = np.zeros((11, len(CLAIMS)))
    for row, u in enumerate(common):
        for name in ("ann1", "ann2"):
            counts[row, CLAIMS.index(values[name][u])] += 1
    assert fleiss["value"] == pytest.approx(statsmodels_fleiss_kappa(counts, method="fleiss"), abs=1e-9)
    assert (fleiss["units"], fleiss["annotators"], fleiss["units_left_out"]) == (11, 2, 1)
    assert fleiss["interval"]["low"] is not None
    assert "units_left_out" not in _layer(body, "claim_type")["metrics"]["alpha"]  # only Fleiss leaves units out

    names = report.annotator_names(body, secret_key=SECRET)
    rows = _csv(body, names)
    row = next(r for r in rows if (r["layer"], r["metric"], r["scope"]) == ("claim_type", "fleiss_kappa", "overall"))
    assert (row["units"], row["units_left_out"]) == ("11", "1")
    alpha_row = next(r for r in rows if (r["layer"], r["metric"], r["scope"]) == ("claim_type", "alpha", "overall"))
    assert alpha_row["units_left_out"] == ""
    html = report.report_html(body, names)
    fleiss_row = re.search(r"<tr><th>Fleiss' kappa</th>.*?</tr>", html, re.S).group(0)
    assert f"{fleiss['value']:.3f}" in fleiss_row and "1 left out" in fleiss_row


def test_downloads_name_annotators_like_the_exports(world, session):
    """Pseudonyms by default (the exports' own), user names when asked; never user ids."""
    doc = world["docs"][0]
    project_id = world["project"].id
    names = report.annotator_names(report.build_report(session, SYSTEM, project_id, replicates=0), secret_key=SECRET)
    exported = {entry["annotator"] for record in exports.document_records(session, SYSTEM, project_id, secret_key=SECRET)
                for entry in record["annotations"]}
    assert set(names.values()) == exported and len(exported) == 3
    assert names == {world[n].id: pseudonym(SECRET, project_id, world[n].id) for n in ("ann1", "ann2", "ann3")}
    _span(session, world["ann1"], doc, 0, 6, "SOURCE")
    _span(session, world["ann2"], doc, 0, 6, "SOURCE")
    session.commit()
    adjudication.apply_proposal(session, world["sup"], doc.id)  # gold rows name annotators too
    adjudication.finish(session, world["sup"], doc.id)
    body = report.build_report(session, SYSTEM, project_id, replicates=0)
    assert body["gold"] == {"documents": 1}
    ids = {str(world[n].id) for n in ("ann1", "ann2", "ann3")}
    for usernames, expected in ((False, set(names.values())), (True, {"ann1", "ann2", "ann3"})):
        chosen = report.annotator_names(body, secret_key=SECRET, usernames=usernames)
        rows = _csv(body, chosen)
        named = [r for r in rows if r["scope"] in ("pair", "annotator", "gold")]
        assert {r["layer"] for r in named} >= {"claim_type", "attribution", "loaded_language"}
        assert {r["a"] for r in named if r["scope"] == "gold"} == expected
        assert {r["a"] for r in named} | {r["b"] for r in named if r["scope"] == "pair"} == expected
        assert not ({r["a"] for r in named} | {r["b"] for r in named}) & ids
        document = json.loads(report.report_json(body, chosen))
        assert [a["name"] for a in document["annotators"]] == [chosen[world[n].id] for n in ("ann1", "ann2", "ann3")]
        html = report.report_html(body, chosen)
        assert all(name in html for name in expected)
    assert "ann1" not in report.report_html(body, names)
    with pytest.raises(ServiceError):
        report.annotator_names(body, secret_key="")
