"""The agreement report: database -> arrays -> :mod:`annotator.agreement` -> a JSON-ready dict
(format 1, docs/report-format.md), cached; and its downloads.

The two ways in are here: ``build_report`` computes a project's report, ``cached_report``
returns it from the ``reports`` table while the data it was computed from is unchanged and
computes it (through ``build_report``) otherwise. The modules, in the order data flows:

load           database -> arrays: ReportData (live assignments only), the span tables, choice codes
choice_layers  a choice layer's section of the report
span_layers    a span layer's section
relations      a relation's section
entities       the section on source entities: how alike annotators link SOURCE spans to entities
gold           each annotator against gold (the gold rows; the ``gold_scores`` service)
figures        a Figure as JSON; how many disagreements a layer lists
build          the report dict from the sections; FORMAT
cache          the cache key, the data fingerprint, the stored reports
browser        the disagreement browser: each disagreement with its sentence and work
render         the downloads (JSON, CSV, HTML) and what they call each annotator

Every statistic is a pure function of annotator.agreement; none is computed here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from .. import agreement
from ..db import reads
from ..errors import Conflict
from ..services.permissions import SUPERVISORS, Actor
from ..services.projects import get_project
from .browser import disagreement_rows, entry_values
from .build import FORMAT, assemble, report_parameters
from .cache import CACHE_REVISION, fingerprint, report_key, store_report, stored_report
from .figures import figure_json
from .gold import gold_scores
from .load import choice_codes
from .render import CSV_COLUMNS, annotator_names, report_csv, report_html, report_json

__all__ = [
    "CACHE_REVISION",
    "CSV_COLUMNS",
    "FORMAT",
    "annotator_names",
    "build_report",
    "cached_report",
    "choice_codes",
    "disagreement_rows",
    "entry_values",
    "figure_json",
    "fingerprint",
    "gold_scores",
    "report_csv",
    "report_html",
    "report_json",
    "report_key",
]


@reads(SUPERVISORS)
def build_report(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    documents: list[int] | None = None,
    annotators: list[int] | None = None,
    since: dt.date | None = None,
    replicates: int = agreement.DEFAULT_REPLICATES,
    seed: int = agreement.DEFAULT_SEED,
) -> dict:
    """The agreement report of a project as JSON data (docs/report-format.md)."""
    project = get_project(session, actor, project_id)
    return assemble(session, project, report_parameters(documents, annotators, since, replicates, seed), since)


@reads(SUPERVISORS)
def cached_report(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    documents: list[int] | None = None,
    annotators: list[int] | None = None,
    since: dt.date | None = None,
    replicates: int = agreement.DEFAULT_REPLICATES,
    seed: int = agreement.DEFAULT_SEED,
) -> dict:
    """``build_report``, computed once per (project, parameters, data fingerprint) and kept in
    the ``reports`` table; any change to the project's annotations recomputes it."""
    project = get_project(session, actor, project_id)
    key = report_key(project.id, report_parameters(documents, annotators, since, replicates, seed))
    current = fingerprint(session, project)  # before computing: a change meanwhile only re-computes
    stored = stored_report(session, project.id, key, current)
    if stored is not None:
        return stored
    report = build_report(
        session, actor, project_id, documents=documents, annotators=annotators, since=since,
        replicates=replicates, seed=seed,
    )
    try:
        store_report(session, actor, project.id, key, current, report)
    except Conflict:  # another worker stored it at the same moment
        pass
    return report
