"""Supervisor pages: assignment, progress, review; and the annotator's "Mark done" form.

Thin: the services check roles (an annotator gets 403) and do the work; a form that fails
validation comes back to its page with the reason flashed.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import report as reporting
from ..app import db
from ..services import assignments, progress, projects, review
from .forms import finish_form
from .params import form_page, page_number, whole_number

bp = Blueprint("supervise", __name__)


def _int(name: str, *, default: int | None = None, source=None) -> int:
    raw = (source if source is not None else request.form).get(name, "").strip()
    if not raw and default is not None:
        return default
    return whole_number(name, raw)


def _ints(name: str) -> list[int]:
    return [whole_number(name, raw) for raw in request.form.getlist(name)]


# -- assignment ----------------------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/assignments", endpoint="assignments")
@login_required
def assignments_page(project_id: int):
    matrix = assignments.assignment_matrix(db.session, current_user, project_id, page_number())
    return render_template("supervise/assignments.html", matrix=matrix)


@bp.post("/projects/<int:project_id>/assignments/auto")
@login_required
def auto_assign(project_id: int):
    projects.get_project(db.session, current_user, project_id)  # 403/404 before the form's fields are read and judged

    def run():
        return assignments.auto_assign(
            db.session, current_user, project_id, _int("per_document"), seed=_int("seed", default=0),
            calibration=_int("calibration", default=0), annotator_ids=_ints("annotators"),
        )

    def report(result) -> str:
        short = f"; {len(result.short)} document(s) still below k (too few annotators left)" if result.short else ""
        return f"{len(result.created)} new assignment(s), {len(result.calibration)} calibration document(s){short}."

    return finish_form(url_for(".assignments", project_id=project_id), run, report)


@bp.post("/projects/<int:project_id>/assignments")
@login_required
def assign(project_id: int):
    projects.get_project(db.session, current_user, project_id)  # 403/404 before the form's fields are read and judged

    def run():
        return assignments.assign(db.session, current_user, project_id, [_int("user")], _ints("documents"))

    back = url_for(".assignments", project_id=project_id, page=form_page())
    return finish_form(back, run, lambda created: f"{len(created)} new assignment(s).")


def _assignment_action(assignment_id: int, action, message: str):
    """Withdraw, reassign or reopen; back to the page of the project's assignments the form was on."""
    assignment = assignments.get_assignment(db.session, current_user, assignment_id)
    back = url_for(".assignments", project_id=assignment.document.project_id, page=form_page())
    return finish_form(back, action, message)


@bp.post("/assignments/<int:assignment_id>/withdraw")
@login_required
def withdraw(assignment_id: int):
    return _assignment_action(
        assignment_id, lambda: assignments.withdraw(db.session, current_user, assignment_id),
        "Assignment withdrawn; its annotations are kept.",
    )


@bp.post("/assignments/<int:assignment_id>/reassign")
@login_required
def reassign(assignment_id: int):
    return _assignment_action(
        assignment_id, lambda: assignments.reassign(db.session, current_user, assignment_id, _int("user")),
        "Reassigned; the first annotator's annotations are kept.",
    )


@bp.post("/assignments/<int:assignment_id>/reopen")
@login_required
def reopen(assignment_id: int):
    return _assignment_action(
        assignment_id, lambda: assignments.reopen(db.session, current_user, assignment_id), "Reopened."
    )


@bp.post("/documents/<int:document_id>/done")
@login_required
def mark_done(document_id: int):
    back = url_for("pages.home", page=form_page())
    assignments.mark_done(db.session, current_user, document_id)
    flash("Marked done. It stays readable; a supervisor can reopen it.", "info")
    return redirect(back)


# -- progress and review -------------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/progress", endpoint="progress")
@login_required
def progress_page(project_id: int):
    report = progress.project_progress(db.session, current_user, project_id, page_number())
    gold = reporting.gold_scores(db.session, current_user, project_id)
    return render_template(
        "supervise/progress.html", report=report, gold=gold, duration=progress.format_duration,
        moment=progress.format_time,
    )


@bp.get("/documents/<int:document_id>/review", endpoint="review")
@login_required
def review_page(document_id: int):
    args = request.args
    annotator = _int("annotator", source=args) if args.get("annotator") else None
    data = review.document_review(
        db.session, current_user, document_id,
        annotator_id=annotator, disagree=args.get("disagree") == "1", blind=args.get("blind") == "1",
    )
    return render_template("supervise/review.html", review=data, annotator=annotator,
                           disagree=args.get("disagree") == "1", blind=args.get("blind") == "1")
