"""Pages for signed-in users: home, the annotation view, the guidelines."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required
from .. import annotations, assignments, projects
from ..db import db
from ..models import Document

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def home():
    mine = assignments.progress_of(db.session, current_user, assignments.assignments_of(db.session, current_user))
    counts = projects.project_counts(db.session) if current_user.role != "annotator" else []
    return render_template("home.html", assigned=mine, projects=counts)


@bp.get("/documents/<int:document_id>")
@login_required
def annotate(document_id: int):
    state = annotations.annotation_state(db.session, current_user, document_id)
    document = db.session.get(Document, document_id)
    api = {
        "annotations": url_for("api.document_annotations", document_id=document.id),
        "spans": url_for("api.create_span", document_id=document.id),
        "span": url_for("api.update_span", span_id=0).removesuffix("0"),
        "label": "/api/sentences/{sentence_id}/labels/{layer}",
        "attributions": url_for("api.create_attribution", document_id=document.id),
        "attribution": url_for("api.update_attribution", attribution_id=0).removesuffix("0"),
        "done": url_for("api.mark_done", document_id=document.id),
        "activity": url_for("api.record_activity", document_id=document.id),
    }
    codebook = annotations.project_codebook(document.project)
    return render_template("annotate.html", document=document, codebook=codebook,
                           data=annotate_data(document, codebook, state, api))


def annotate_data(document: Document, codebook, state: dict, api: dict) -> dict:
    """The annotation page's JSON data block: the article, the codebook, the saved state and
    the API URLs the page saves to (the adjudication page points them at /api/gold/)."""
    return {
        "document": {
            "id": document.id,
            "title": document.title,
            "text": document.text,
            "outlet": document.outlet,
            "url": document.url,
            "published": document.published.isoformat() if document.published else None,
        },
        "sentences": [
            {"id": s.id, "position": s.position, "start": s.start, "end": s.end} for s in document.sentences
        ],
        "codebook": codebook.to_dict(),
        "hotkeys": codebook.hotkeys(),
        "state": state,
        "api": api,
    }


@bp.get("/documents/<int:document_id>/guidelines")
@login_required
def guidelines(document_id: int):
    assignments.active_assignment(db.session, current_user, document_id, for_write=False)
    document = db.session.get(Document, document_id)
    return render_template(
        "guidelines.html", codebook=annotations.project_codebook(document.project), document=document
    )
