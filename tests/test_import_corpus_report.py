"""After import the corpus is usable at once: `annotator report` on the hand-written brat
corpus (tests/data/brat/events: alice and bob on one text, alice alone on another) shows the
attribution agreement of the annotators found, F1 per role and alpha per attribute, on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

from annotator import report

from .test_import_brat import MAPPING, copy_corpus

# Attribute values (brat A lines) both annotators give the events they share: the source's
# kind alike on both attributions, the quote type not.
ALICE_ATTRIBUTES = "A3\tsource_kind E2 organisation\n"
BOB_ATTRIBUTES = "A2\tsource_kind E1 person\nA3\tsource_kind E2 organisation\nA4\tquote_type E2 direct\n"


def test_brat_import_with_two_annotators_reports_attribution_agreement(cli, tmp_path):
    corpus = copy_corpus(tmp_path)
    for name, lines in (("march_alice.ann", ALICE_ATTRIBUTES), ("march_bob.ann", BOB_ATTRIBUTES)):
        with (corpus / "ann" / name).open("a", encoding="utf-8", newline="") as ann:
            ann.write(lines)
    assert cli("project", "create", "reference").exit_code == 0
    imported = cli("import-annotations", str(corpus), "--project", "reference", "--format", "brat",
                   "--mapping", str(MAPPING))
    assert imported.exit_code == 0, imported.output

    result = cli("report", "--project", "reference", "--format", "csv", "--replicates", "0", "--usernames")
    assert result.exit_code == 0, result.output
    header, *rows = csv.reader(io.StringIO(result.stdout))
    assert header == list(report.CSV_COLUMNS)
    relation = {(row[1], row[2], row[3], row[4]): row for row in rows
                if row[0] == "attribution" and row[1].split(".")[0] in ("source", "cue", "content", "supplement",
                                                                         "attribute")}
    assert {(a, b) for _, scope, a, b in relation if scope == "pair"} == {("alice", "bob")}
    pair = {metric: row for (metric, scope, _, _), row in relation.items() if scope == "pair"}

    # Both attributions of the shared text are aligned; alice's second one has a source and a
    # supplement bob's has not: source F1 2/3, supplement 0; cue and content agree exactly.
    assert {metric: float(pair[metric][5]) for metric in (
        "source.exact", "cue.exact", "content.exact", "content.overlap", "supplement.exact")} == {
        "source.exact": 2 / 3, "cue.exact": 1.0, "content.exact": 1.0, "content.overlap": 1.0,
        "supplement.exact": 0.0}
    # Alpha per attribute: defined where both gave values, exact here (two units, always alike).
    assert float(pair["attribute.source_kind"][5]) == 1.0
    assert pair["attribute.source_kind"][10] == "2"  # units: the two aligned attributions
    # Only bob says how the source is identified: undefined, never 0.
    assert pair["attribute.identification"][5] == "" and pair["attribute.identification"][6]
    # One pair of annotators: the overall figures are that pair's.
    assert relation["cue.exact", "overall", "", ""][5] == pair["cue.exact"][5]
    assert relation["attribute.source_kind", "overall", "", ""][5] == pair["attribute.source_kind"][5]
