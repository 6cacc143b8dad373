"""The report cache: the ``reports`` table holds one computed report per (project,
parameters), valid while the data's fingerprint is the one it was computed from."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..db import writes
from ..models import Event, Project, Report
from ..services.permissions import SUPERVISORS, Actor
from .build import FORMAT

# Bumped when the report gains a key, so that reports cached without it are computed anew
# (2: the "gold" sections; 3: intervals' "undefined", Fleiss' kappa's "units_left_out";
# 4: "source_entities").
CACHE_REVISION = 4


def report_key(project_id: int, parameters: dict) -> str:
    canonical = json.dumps({"format": FORMAT, "revision": CACHE_REVISION, "project": project_id, **parameters},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(session: Session, project: Project) -> str:
    """Changes whenever anything the report reads changes: every change the service layer
    makes to annotations, assignments, documents or projects appends an audit event, so the
    newest event id (one index lookup, whatever the size of the project) and the codebook
    version identify the data. Conservative: a change in another project also renews it."""
    newest_event = session.scalar(select(func.max(Event.id)))
    return hashlib.sha256(f"{project.codebook_version}:{newest_event}".encode()).hexdigest()


def stored_report(session: Session, project_id: int, key: str, current: str) -> dict | None:
    """The cached report under ``key`` if it was computed from the data fingerprinted
    ``current``, else None."""
    row = session.execute(
        select(Report.fingerprint, Report.body).where(Report.project_id == project_id, Report.key == key)
    ).first()
    return row.body if row is not None and row.fingerprint == current else None


@writes(SUPERVISORS)
def store_report(session: Session, actor: Actor, project_id: int, key: str, fingerprint: str, report: dict) -> None:
    """Store a computed report in the cache (not audited: it is derived from the audited data)."""
    session.execute(delete(Report).where(Report.project_id == project_id, Report.key == key))
    session.add(Report(project_id=project_id, key=key, fingerprint=fingerprint, body=report))
