"""The agreement report pages: overview, heatmaps, per document, disagreement browser, downloads.

Thin, like the other blueprints: ``annotator.report`` computes (and caches) the report and
checks the supervisor role; this module only parses the query, lays numbers out for the
templates (the CI bars are SVG computed here, drawn by the template) and serves downloads.

A cold report is computed in a background thread: the page waits for it up to
``REPORT_WAIT_SECONDS`` (default 2 s), and if it is not ready by then answers "computing…"
with a ``<meta http-equiv="refresh">`` (no script: the CSP allows none inline) until it is.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import report as reporting
from ..db import db
from ..errors import NotFound, ServiceError
from ..models import Document, Sentence, Span, User
from ..permissions import require_supervisor
from ..review import segments
from .params import flag, whole_number

bp = Blueprint("report", __name__)

PAGE_SIZE = 100
DOCUMENTS_SHOWN = 20  # per layer on the overview; the documents page lists them all, a page at a time
FRESH_SECONDS = 30  # how long a finished background job's report may be shown without asking again
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 260, 34, 8


# -- query parameters ------------------------------------------------------------------------


def _id_list(name: str) -> list[int] | None:
    raw = [part.strip() for value in request.args.getlist(name) for part in value.split(",")]
    raw = [part for part in raw if part]
    if not raw:
        return None
    return [whole_number(name, part) for part in raw]


def _since() -> dt.date | None:
    """A day (YYYY-MM-DD; a date and time is cut to its day): annotations changed from then on."""
    raw = request.args.get("since", "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise ServiceError("since must be a date, YYYY-MM-DD", field="since") from None


def _parameters() -> dict[str, Any]:
    """The keywords passed on to the report service (only those given)."""
    parameters = {"documents": _id_list("documents"), "annotators": _id_list("annotators"), "since": _since()}
    return {key: value for key, value in parameters.items() if value is not None}


def _query() -> dict[str, str]:
    """The filter as it came in, to carry over into links."""
    return {key: request.args.get(key) for key in ("documents", "annotators", "since") if request.args.get(key)}


def _optional_int(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return whole_number(name, raw) if raw else None


# -- computing in the background ------------------------------------------------------------

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="agreement-report")
_jobs: dict[tuple, Future] = {}
_jobs_lock = threading.Lock()


def _compute(app, user_id: int, project_id: int, parameters: dict) -> dict:
    with app.app_context():
        try:
            actor = db.session.get(User, user_id)
            return reporting.cached_report(db.session, actor, project_id, **parameters)
        finally:
            db.session.remove()


def _report(project_id: int, parameters: dict) -> dict | None:
    """The report, or None while it is still being computed (the page then says so).

    A job left over from an earlier request is used if it finished less than ``FRESH_SECONDS``
    ago (the "computing…" page reloading itself); an older one is dropped and the report asked
    for again, which the service's cache answers at once unless the annotations changed.
    """
    require_supervisor(current_user)  # before starting any work; the service checks again
    app = current_app._get_current_object()
    key = (id(app), current_user.id, project_id, json.dumps(parameters, default=str, sort_keys=True))
    now = time.monotonic()
    with _jobs_lock:
        job = _jobs.get(key)
        if job is not None and job.done() and now - getattr(job, "finished_at", now) > FRESH_SECONDS:
            job = None
        if job is None:
            job = _executor.submit(_compute, app, current_user.id, project_id, parameters)
            job.add_done_callback(lambda done: setattr(done, "finished_at", time.monotonic()))
            _jobs[key] = job
    try:
        result = job.result(timeout=app.config.get("REPORT_WAIT_SECONDS", 2.0))
    except FutureTimeout:
        return None
    finally:
        if job.done():
            with _jobs_lock:
                if _jobs.get(key) is job:
                    del _jobs[key]
    return result


def _computing(project_id: int, back: str):
    return render_template("report/computing.html", project_id=project_id, back=back), 202


# -- figures for the templates --------------------------------------------------------------


def figure(raw: Any) -> dict:
    """A FIGURE dict whatever came (a dict, a bare number, None)."""
    if isinstance(raw, dict):
        return raw
    if raw is None:
        return {"value": None, "undefined": "not computed"}
    return {"value": float(raw), "undefined": None}


def number(raw: Any) -> str:
    """Three decimals, or "undefined — reason" (never 0 for undefined)."""
    fig = figure(raw)
    if fig.get("value") is None:
        return f"undefined — {fig.get('undefined') or 'not computed'}"
    return f"{fig['value']:.3f}"


def bucket(raw: Any) -> str:
    """The heatmap class of a value."""
    value = figure(raw).get("value")
    if value is None:
        return "heat-none"
    if value < 0.2:
        return "heat-0"
    if value < 0.4:
        return "heat-1"
    if value < 0.667:
        return "heat-2"
    if value < 0.8:
        return "heat-3"
    return "heat-4"


def chart(raw: Any) -> dict | None:
    """Coordinates of a CI bar: the scale 0..1 (lower when needed), bands, interval, point."""
    fig = figure(raw)
    value = fig.get("value")
    if value is None:
        return None
    interval = fig.get("interval") or None
    low_end = min([0.0, value] + ([interval["low"]] if interval and interval.get("low") is not None else []))
    if low_end < 0:
        low_end = math.floor(low_end * 4) / 4  # down to a quarter
    high_end = max(1.0, value)
    inner = CHART_WIDTH - 2 * CHART_PAD

    def x(v: float) -> float:
        return round(CHART_PAD + (v - low_end) / (high_end - low_end) * inner, 1)

    bands = [
        {"cls": "band-unreliable", "x": x(low_end), "width": round(x(0.667) - x(low_end), 1)},
        {"cls": "band-tentative", "x": x(0.667), "width": round(x(0.8) - x(0.667), 1)},
        {"cls": "band-reliable", "x": x(0.8), "width": round(x(high_end) - x(0.8), 1)},
    ]
    ticks = [{"x": x(t), "label": label} for t, label in ((0.0, "0"), (0.667, ".667"), (0.8, ".8"), (1.0, "1"))]
    if low_end < 0:
        ticks.insert(0, {"x": x(low_end), "label": f"{low_end:g}"})
    has_interval = bool(interval and interval.get("low") is not None and interval.get("high") is not None)
    text = f"{value:.3f}"
    if has_interval:
        text += f", 95% interval {interval['low']:.3f} to {interval['high']:.3f}"
    elif interval and interval.get("undefined"):
        text += f", 95% interval undefined — {interval['undefined']}"
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "bar_y": 4, "bar_height": 14, "mid": 11,
        "bands": bands, "ticks": ticks, "point": x(value),
        "low": x(interval["low"]) if has_interval else None, "high": x(interval["high"]) if has_interval else None,
        "label": text,
    }


def _by_value(rows: list[dict], key: str) -> list[dict]:
    """Lowest first, undefined last (the service already orders them; this keeps it so)."""
    return sorted(rows, key=lambda row: (figure(row.get(key)).get("value") is None, figure(row.get(key)).get("value") or 0))


def _documents(layer: dict) -> list[dict]:
    return _by_value(layer.get("documents", []), "alpha" if layer["kind"] == "choice" else "exact_f1")


def _layer(report: dict, name: str | None) -> dict:
    for layer in report.get("layers", []):
        if layer.get("layer") == name:
            return layer
    raise NotFound("no such layer in this report", field="layer")


def _names(report: dict) -> dict[int, str]:
    return {int(a["id"]): a["username"] for a in report.get("annotators", [])}


def _heatmap(layer: dict, names: dict[int, str]) -> dict | None:
    """Rows and columns: the annotators of the layer's pairs; cells: the pair's figure."""
    key = "cohen_kappa" if layer["kind"] == "choice" else "exact_f1"
    pairs = {}
    for pair in layer.get("pairs", []):
        a, b = int(pair["a"]), int(pair["b"])
        pairs[(a, b)] = pairs[(b, a)] = pair.get(key)
    if not pairs:
        return None
    people = sorted({a for a, _ in pairs}, key=lambda i: (names.get(i, ""), i))
    return {"metric": "Cohen's kappa" if key == "cohen_kappa" else "exact F1", "people": people, "cells": pairs}


# -- pages ----------------------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/agreement", endpoint="page")
@login_required
def report_page(project_id: int):
    parameters, query = _parameters(), _query()
    report = _report(project_id, parameters)
    if report is None:
        return _computing(project_id, url_for(".page", project_id=project_id, **query))
    names = _names(report)
    layers = []
    for layer in report.get("layers", []):
        view = {"layer": layer, "heatmap": None}
        if layer["kind"] in ("choice", "span"):
            view["heatmap"] = _heatmap(layer, names)
            documents = _documents(layer)
            view["documents"], view["documents_total"] = documents[:DOCUMENTS_SHOWN], len(documents)
        layers.append(view)
    counts = report.get("counts", {})
    return render_template(
        "report/page.html", report=report, layers=layers, names=names, query=query,
        enough=counts.get("annotators", 0) >= 2 and counts.get("sentences", 0) > 0,
        number=number, chart=chart, figure=figure, bucket=bucket,
    )


@bp.get("/projects/<int:project_id>/agreement/documents", endpoint="documents")
@login_required
def documents_page(project_id: int):
    parameters, query = _parameters(), _query()
    page = max(_optional_int("page") or 1, 1)
    report = _report(project_id, parameters)
    if report is None:
        return _computing(project_id, request.full_path)
    layer = _layer(report, request.args.get("layer"))
    if layer["kind"] not in ("choice", "span"):
        raise NotFound("this layer has no per-document figures", field="layer")
    documents = _documents(layer)
    return render_template(
        "report/documents.html", report=report, layer=layer, rows=documents[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(documents), page=page, pages=max(1, -(-len(documents) // PAGE_SIZE)), query=query,
        number=number, figure=figure,
    )


@bp.get("/projects/<int:project_id>/agreement/disagreements", endpoint="disagreements")
@login_required
def disagreements_page(project_id: int):
    parameters, query = _parameters(), _query()
    layer_name, a, b = request.args.get("layer"), _optional_int("a"), _optional_int("b")
    page = max(_optional_int("page") or 1, 1)
    report = _report(project_id, parameters)
    if report is None:
        return _computing(project_id, request.full_path)
    layer = _layer(report, layer_name)
    if layer["kind"] not in ("choice", "span"):
        raise NotFound("this layer has no per-sentence disagreements", field="layer")
    names = _names(report)
    entries = [entry for entry in layer.get("disagreements", []) if _involves(layer["kind"], entry, a, b)]
    total = len(entries)
    entries = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = _rows(layer, entries, a, b)
    return render_template(
        "report/disagreements.html", report=report, layer=layer, names=names, a=a, b=b, rows=rows,
        total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)), query=query,
    )


def _values(entry: dict) -> dict[int, Any]:
    return {int(user): value for user, value in (entry.get("values") or {}).items()}


def _involves(kind: str, entry: dict, a: int | None, b: int | None) -> bool:
    """Whether a disagreement is one between ``a`` and ``b`` (either may be left open)."""
    wanted = [i for i in (a, b) if i is not None]
    if kind == "span":
        pair = {int(entry["a"]), int(entry["b"])}
        return all(i in pair for i in wanted) and (len(wanted) < 2 or a != b)
    values = _values(entry)
    if any(i not in values for i in wanted):
        return False
    if len(wanted) == 2:
        return _same(values[a], values[b]) is False
    if len(wanted) == 1:
        return any(not _same(values[wanted[0]], v) for user, v in values.items() if user != wanted[0])
    return True


def _same(x: Any, y: Any) -> bool:
    normal = lambda v: sorted(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
    return normal(x) == normal(y)


def _rows(layer: dict, entries: list[dict], a: int | None, b: int | None) -> list[dict]:
    """Each disagreement with its document, sentence text and each annotator's work on it."""
    if not entries:
        return []
    session = db.session
    sentence_ids = {int(e["sentence"]) for e in entries}
    sentences = {s.id: s for s in session.scalars(select(Sentence).where(Sentence.id.in_(sentence_ids)))}
    document_ids = {s.document_id for s in sentences.values()}
    documents = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(document_ids)))}
    spans: dict[tuple[int, int], list[Span]] = {}
    if layer["kind"] == "span":
        users = {int(e["a"]) for e in entries} | {int(e["b"]) for e in entries}
        for span in session.scalars(
            select(Span).where(Span.document_id.in_(document_ids), Span.user_id.in_(users), Span.layer == layer["layer"])
            .order_by(Span.start, Span.end, Span.id)
        ):
            spans.setdefault((span.document_id, span.user_id), []).append(span)
    rows = []
    for entry in entries:
        sentence = sentences.get(int(entry["sentence"]))
        if sentence is None:  # deleted since the report was computed
            continue
        document = documents[sentence.document_id]
        text = document.text[sentence.start : sentence.end]
        if layer["kind"] == "span":
            people = [int(entry["a"]), int(entry["b"])]
            work = [
                {"user": user, "segments": segments(text, sentence.start, spans.get((document.id, user), []), {})}
                for user in people
            ]
        else:
            values = _values(entry)
            people = [i for i in (a, b) if i is not None] or sorted(values)
            people += [] if (a is None) == (b is None) else sorted(set(values) - set(people))
            work = [{"user": user, "value": values.get(user)} for user in people]
        rows.append({"document": document, "sentence": sentence, "text": text, "work": work})
    return rows


# -- downloads ------------------------------------------------------------------------------


def _download_name(report: dict, extension: str) -> str:
    project = report.get("project", {})
    return f"agreement-project-{project.get('id', 'x')}.{extension}"


def _download(project_id: int, render, mimetype: str, extension: str, disposition: str = "attachment"):
    """``render(report, names)``: annotators by pseudonym, or by user name with ``usernames=1``."""
    report = reporting.cached_report(db.session, current_user, project_id, **_parameters())
    names = reporting.annotator_names(report, secret_key=current_app.config["SECRET_KEY"], usernames=flag("usernames"))
    response = Response(render(report, names), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{_download_name(report, extension)}"'
    return response


@bp.get("/projects/<int:project_id>/agreement.json", endpoint="download_json")
@login_required
def download_json(project_id: int):
    return _download(project_id, reporting.report_json, "application/json", "json", "inline")


@bp.get("/projects/<int:project_id>/agreement.csv", endpoint="download_csv")
@login_required
def download_csv(project_id: int):
    return _download(project_id, lambda report, names: "".join(reporting.report_csv(report, names)), "text/csv", "csv")


@bp.get("/projects/<int:project_id>/agreement.html", endpoint="download_html")
@login_required
def download_html(project_id: int):
    return _download(project_id, reporting.report_html, "text/html", "html")
