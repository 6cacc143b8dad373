"""Pages for signed-in users: home, the annotation view, the guidelines."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required

from ..app import db
from ..services import annotations, assignments, projects
from .annotation_page import annotate_data
from .params import page_number

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def home():
    mine = assignments.my_progress(db.session, current_user, page_number())
    counts = projects.list_projects(db.session, current_user) if current_user.role != "annotator" else []
    return render_template("home.html", assigned=mine, projects=counts)


@bp.get("/documents/<int:document_id>")
@login_required
def annotate(document_id: int):
    page = annotations.annotation_page(db.session, current_user, document_id)
    document, codebook = page["document"], page["codebook"]
    api = {
        "annotations": url_for("api.document_annotations", document_id=document.id),
        "changes": url_for("api.apply_changes", document_id=document.id),
        "done": url_for("api.mark_done", document_id=document.id),
        "activity": url_for("api.record_activity", document_id=document.id),
    }
    if page["suggestions"]:
        api["reject"] = url_for("api.reject_suggestion", suggestion_id=0)  # the page puts the id in
    data = annotate_data(document, codebook, page["state"], api, codebook_language=page["codebook_language"],
                         suggestions=page["suggestions"])
    return render_template("annotate.html", document=document, codebook=data["codebook"], data=data)


@bp.get("/documents/<int:document_id>/guidelines")
@login_required
def guidelines(document_id: int):
    page = annotations.guidelines(db.session, current_user, document_id)
    return render_template("guidelines.html", codebook=page["codebook"].shown_in(page["codebook_language"]),
                           document=page["document"])
