"""The agreement report pages: overview, heatmaps, per document, disagreement browser, downloads.

``annotator.report`` computes (and caches) the report and checks the supervisor role; this
module parses the query, runs a cold report in the background, lays the figures out for the
templates (annotator/web/figures.py) and serves the downloads.

A cold report is computed in a background thread: the page waits for it up to
``REPORT_WAIT_SECONDS`` (default 2 s), and if it is not ready by then answers "computing…"
with a ``<meta http-equiv="refresh">`` (no script: the CSP allows none inline) until it is.
The report page's section "Suggestions and anchoring" (annotator.services.suggestions'
``anchoring_report``, not cached: its seconds per sentence come from the page's timer, which
the cache's fingerprint does not see) is computed beside it in the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from contextlib import suppress
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from .. import report as reporting
from ..app import db
from ..errors import NotFound, ServiceError
from ..services import projects, suggestions
from .figures import bucket, chart, condition_bars, difference_chart, figure
from .params import flag, whole_number

bp = Blueprint("report", __name__)

PAGE_SIZE = 100
DOCUMENTS_SHOWN = 20  # per layer on the overview; the documents page lists them all, a page at a time
FRESH_SECONDS = 30  # how long a finished background job's report may be shown without asking again


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


def _compute(app, actor, compute: Callable) -> Any:
    """In a thread of its own: ``compute(session, actor)`` with the request's user (its row as
    loaded then, enough for the role check) and a session of the thread's app context."""
    with app.app_context():
        return compute(db.session, actor)


def _computed(project_id: int, computations: dict[str, tuple[dict, Callable]]) -> dict[str, Any] | None:
    """Each computation's result by name, or None while one is still being computed (the page
    then says so). ``computations``: name → (its parameters, ``compute(session, actor)``); they
    run side by side, and the request waits for all of them up to ``REPORT_WAIT_SECONDS``.

    A job left over from an earlier request is used if it finished less than ``FRESH_SECONDS``
    ago (the "computing…" page reloading itself); an older one is dropped and the service asked
    again (the agreement report's cache answers at once unless the annotations changed).
    """
    projects.get_project(db.session, current_user, project_id)  # 403/404 before any work; the services check again
    app = current_app._get_current_object()
    now = time.monotonic()
    jobs = {}
    with _jobs_lock:
        for name, (parameters, compute) in computations.items():
            key = (id(app), current_user.id, name, project_id, json.dumps(parameters, default=str, sort_keys=True))
            job = _jobs.get(key)
            if job is not None and job.done() and now - getattr(job, "finished_at", now) > FRESH_SECONDS:
                job = None
            if job is None:
                job = _executor.submit(_compute, app, current_user._get_current_object(), compute)
                job.add_done_callback(lambda done: setattr(done, "finished_at", time.monotonic()))
                _jobs[key] = job
            jobs[name] = key, job
    deadline = now + app.config.get("REPORT_WAIT_SECONDS", 2.0)
    results = {}
    try:
        for name, (_, job) in jobs.items():
            with suppress(FutureTimeout):
                results[name] = job.result(timeout=max(0.0, deadline - time.monotonic()))
    except Exception:
        _forget(jobs.values())  # a failed job is not kept to fail again
        raise
    if len(results) < len(jobs):
        return None  # those finished stay, for the reload that finds the others done
    _forget(jobs.values())
    return results


def _forget(jobs) -> None:
    """Drop the finished ones of (key, job) from the jobs kept between requests."""
    with _jobs_lock:
        for key, job in jobs:
            if job.done() and _jobs.get(key) is job:
                del _jobs[key]


def _agreement(project_id: int, parameters: dict) -> tuple[dict, Callable]:
    """The agreement report's computation for :func:`_computed`."""
    return parameters, lambda session, actor: reporting.cached_report(session, actor, project_id, **parameters)


def _report(project_id: int, parameters: dict) -> dict | None:
    """The agreement report, or None while it is still being computed."""
    computed = _computed(project_id, {"report": _agreement(project_id, parameters)})
    return None if computed is None else computed["report"]


def _computing(project_id: int, back: str):
    return render_template("report/computing.html", project_id=project_id, back=back), 202


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
    computed = _computed(project_id, {
        "report": _agreement(project_id, parameters),
        # The whole project's: the filter does not apply to it.
        "anchoring": ({}, lambda session, actor: suggestions.anchoring_report(session, actor, project_id)),
    })
    if computed is None:
        return _computing(project_id, url_for(".page", project_id=project_id, **query))
    report = computed["report"]
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
        chart=chart, figure=figure, bucket=bucket,
        anchoring=computed["anchoring"], difference_chart=difference_chart, condition_bars=condition_bars,
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
        figure=figure,
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
    rows = reporting.disagreement_rows(db.session, current_user, project_id, layer, entries, a, b)
    return render_template(
        "report/disagreements.html", report=report, layer=layer, names=names, a=a, b=b, rows=rows,
        total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)), query=query,
    )


def _involves(kind: str, entry: dict, a: int | None, b: int | None) -> bool:
    """Whether a disagreement is one between ``a`` and ``b`` (either may be left open)."""
    wanted = [i for i in (a, b) if i is not None]
    if kind == "span":
        pair = {int(entry["a"]), int(entry["b"])}
        return all(i in pair for i in wanted) and (len(wanted) < 2 or a != b)
    values = reporting.entry_values(entry)
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
    # With the section "Suggestions and anchoring" of the page (the whole project's, as there).
    return _download(project_id, lambda report, names: reporting.report_html(
        report, names, anchoring=suggestions.anchoring_report(db.session, current_user, project_id)), "text/html", "html")
