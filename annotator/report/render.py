"""The report's downloads: JSON, CSV (one figure per row) and one self-contained HTML file,
naming annotators as the exports do (``annotator_names``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from ..errors import ServiceError
from ..pseudonyms import pseudonym


def annotator_names(report: dict, *, secret_key: str | None, usernames: bool = False) -> dict[int, str]:
    """What the downloads call each annotator of the report (by user id): the pseudonym the
    exports use (keyed by the instance's secret key), or the user name when ``usernames``."""
    if usernames:
        return {int(a["id"]): a["username"] for a in report["annotators"]}
    if not secret_key:
        raise ServiceError("pseudonyms need the instance's secret key", field="secret_key")
    project_id = report["project"]["id"]
    return {int(a["id"]): pseudonym(secret_key, project_id, int(a["id"])) for a in report["annotators"]}


def report_json(report: dict, names: dict[int, str]) -> str:
    """The report as a JSON document, each of its ``annotators`` with its ``name``."""
    named = {**report, "annotators": [{**a, "name": names[int(a["id"])]} for a in report["annotators"]]}
    return json.dumps(named, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


CSV_COLUMNS = ("layer", "metric", "scope", "a", "b", "value", "undefined", "band", "low", "high",
               "units", "pairs", "annotators", "interval_undefined", "units_left_out")


def _csv_row(layer: str, metric: str, scope: str, a, b, figure: dict) -> list:
    interval = figure.get("interval") or {}
    return [layer, metric, scope, "" if a is None else a, "" if b is None else b,
            "" if figure["value"] is None else repr(figure["value"]), figure["undefined"] or "",
            figure["band"] or "", "" if interval.get("low") is None else repr(interval["low"]),
            "" if interval.get("high") is None else repr(interval["high"]),
            figure["units"], figure["pairs"], figure["annotators"], interval.get("undefined") or "",
            figure.get("units_left_out", "")]


def _gold_csv_rows(name: str, layer: dict, who) -> Iterator[list]:
    """Each annotator against gold: scope "gold", the annotator in column a."""
    for row in layer.get("gold") or ():
        if layer["kind"] == "relation":
            for role, figures in row["roles"].items():
                for kind, figure in figures.items():
                    yield _csv_row(name, f"{role}.{kind}", "gold", who(row["annotator"]), None, figure)
        else:
            for metric, figure in row.items():
                if metric != "annotator":
                    yield _csv_row(name, metric, "gold", who(row["annotator"]), None, figure)


def _csv_rows(report: dict, who) -> Iterator[list]:
    for layer in report["layers"]:
        name = layer["layer"]
        if layer["kind"] == "relation":
            for role, figures in layer["metrics"]["roles"].items():
                for kind, figure in figures.items():
                    yield _csv_row(name, f"{role}.{kind}", "overall", None, None, figure)
            for attribute, figure in layer["metrics"]["attributes"].items():
                yield _csv_row(name, f"attribute.{attribute}", "overall", None, None, figure)
            for pair in layer["pairs"]:
                a, b = who(pair["a"]), who(pair["b"])
                for role, figures in pair["roles"].items():
                    for kind, figure in figures.items():
                        yield _csv_row(name, f"{role}.{kind}", "pair", a, b, figure)
                for attribute, figure in pair["attributes"].items():
                    yield _csv_row(name, f"attribute.{attribute}", "pair", a, b, figure)
            continue
        for metric, figure in layer["metrics"].items():
            yield _csv_row(name, metric, "overall", None, None, figure)
        if layer["kind"] == "choice":
            for row in layer["per_category"]:
                yield _csv_row(name, "specific_agreement", "label", row["category"], None, row["agreement"])
            for pair in layer["pairs"]:
                yield _csv_row(name, "cohen_kappa", "pair", who(pair["a"]), who(pair["b"]), pair["cohen_kappa"])
            for row in layer["annotators"]:
                yield _csv_row(name, "alpha_without", "annotator", who(row["annotator"]), None, row["alpha_without"])
                yield _csv_row(name, "mean_kappa", "annotator", who(row["annotator"]), None, row["mean_kappa"])
            for row in layer["documents"]:
                yield _csv_row(name, "alpha", "document", row["document"], None, row["alpha"])
        else:
            for row in layer["per_label"]:
                for metric in ("unitizing_alpha", "token_alpha", "exact_f1", "partial_f1"):
                    yield _csv_row(name, metric, "label", row["label"], None, row[metric])
            for pair in layer["pairs"]:
                for metric in ("exact_f1", "partial_f1", "boundary_f1"):
                    yield _csv_row(name, metric, "pair", who(pair["a"]), who(pair["b"]), pair[metric])
            for row in layer["annotators"]:
                yield _csv_row(name, "mean_f1", "annotator", who(row["annotator"]), None, row["mean_f1"])
            for row in layer["documents"]:
                yield _csv_row(name, "exact_f1", "document", row["document"], None, row["exact_f1"])
    yield from _entity_csv_rows(report.get("source_entities"), who)
    for layer in report["layers"]:
        yield from _gold_csv_rows(layer["layer"], layer, who)


def _entity_csv_rows(section: dict | None, who) -> Iterator[list]:
    """The section on source entities: layer "source_entities"; over the pairs each metric's F1
    (metrics muc, b_cubed, ceaf_e, conll), per pair also recall and precision (muc.recall, ...)."""
    if section is None:
        return
    for metric, figure in section["metrics"].items():
        yield _csv_row("source_entities", metric, "overall", None, None, figure)
    for pair in section["pairs"]:
        a, b = who(pair["a"]), who(pair["b"])
        for metric in ("muc", "b_cubed", "ceaf_e"):
            for part, figure in pair[metric].items():
                yield _csv_row("source_entities", f"{metric}.{part}", "pair", a, b, figure)
        yield _csv_row("source_entities", "conll", "pair", a, b, pair["conll"])


def report_csv(report: dict, names: dict[int, str]) -> Iterator[str]:
    """The report's figures as CSV lines (header first), one figure per row; annotators by
    their ``names``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in [list(CSV_COLUMNS), *_csv_rows(report, lambda user_id: names[int(user_id)])]:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def report_html(report: dict, names: dict[int, str], anchoring: dict | None = None) -> str:
    """One self-contained HTML file (inline style, no script, no external resource);
    annotators by their ``names``; with the project's anchoring report when given
    (annotator.services.suggestions.anchoring_report, as the report page shows it)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from ..direction import bidi_controls_isolated
    from ..paths import TEMPLATES_DIR

    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True, finalize=bidi_controls_isolated,
    )

    def who(user_id) -> str:
        return names[int(user_id)]

    def number(value, digits: int = 3) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    return environment.get_template("report_file.html").render(report=report, who=who, number=number, anchoring=anchoring)
