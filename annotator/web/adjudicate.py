"""Adjudication pages and the gold API the adjudication page saves through.

Thin, like the other blueprints: ``annotator.services.adjudication`` checks the supervisor role (an
annotator gets 403), writes gold with provenance and audit events; this module parses, calls
and answers. The adjudication page is the annotation page (templates/annotate.html and
static/annotate.js) with its API URLs pointed at /api/gold/ and the adjudication panel
(static/adjudicate.js) added; /api/gold/ mirrors /api/, so undo, offline retry and version
conflicts work as they do for annotators.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from ..app import db
from ..services import adjudication
from .annotation_page import annotate_data
from .forms import finish_form
from .params import flag, idempotency_key, json_body, page_number

bp = Blueprint("adjudicate", __name__)

# -- pages --------------------------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/adjudication")
@login_required
def queue(project_id: int):
    result = adjudication.queue(db.session, current_user, project_id, page_number())  # checks the role first
    return render_template("adjudicate/queue.html", project=result["project"], queue=result)


@bp.post("/projects/<int:project_id>/adjudication/settings")
@login_required
def settings(project_id: int):
    def run():
        data = {"min_agree": request.form.get("min_agree", ""), "matching": request.form.get("matching", "").strip()}
        return adjudication.update_settings(db.session, current_user, project_id, data)

    return finish_form(url_for(".queue", project_id=project_id), run,
                 lambda s: f"Proposals now need {s['min_agree']} agreeing annotators, {s['matching']} matching.")


@bp.get("/documents/<int:document_id>/adjudicate")
@login_required
def page(document_id: int):
    hide_names = flag("hide_names")
    page = adjudication.page(db.session, current_user, document_id, hide_names=hide_names)
    view, document, codebook = page["view"], page["document"], page["codebook"]
    api = {
        "annotations": url_for(".gold_annotations", document_id=document.id),
        "changes": url_for(".apply_changes", document_id=document.id),
        "done": url_for(".finish", document_id=document.id),
        "activity": url_for(".activity", document_id=document.id),
        "proposal": url_for(".proposal", document_id=document.id),
        "start": url_for(".start", document_id=document.id),
    }
    # Not started: the page is read-only until "Start adjudicating" or "Pre-fill from proposal".
    state = view["gold"] | ({"status": "not_started"} if view["status"] == adjudication.NOT_STARTED else {})
    data = annotate_data(document, codebook, state, api, codebook_language=page["codebook_language"])
    panel = {key: view[key] for key in ("annotators", "labels", "spans", "attributions", "proposal", "provenance", "status")}
    return render_template(
        "annotate.html", document=document, codebook=data["codebook"], data=data, adjudication=panel,
        hide_names=hide_names, project_id=document.project_id,
    )


@bp.post("/documents/<int:document_id>/adjudication/reopen")
@login_required
def reopen(document_id: int):
    return finish_form(url_for(".page", document_id=document_id),
                 lambda: adjudication.reopen(db.session, current_user, document_id),
                 "Reopened: the gold of this document can change again (its history is kept).")


# -- the gold API (mirrors annotator/web/api.py) ------------------------------------------------


@bp.get("/api/gold/documents/<int:document_id>/view")
@login_required
def view(document_id: int):
    hide_names = flag("hide_names")
    return jsonify(adjudication.view(db.session, current_user, document_id, hide_names=hide_names))


@bp.get("/api/gold/documents/<int:document_id>/annotations")
@login_required
def gold_annotations(document_id: int):
    return jsonify(adjudication.view(db.session, current_user, document_id)["gold"])


@bp.post("/api/gold/documents/<int:document_id>/spans")
@login_required
def create_span(document_id: int):
    return jsonify(adjudication.create_gold_span(db.session, current_user, document_id, json_body(), idempotency_key=idempotency_key())), 201


@bp.patch("/api/gold/spans/<int:span_id>")
@login_required
def update_span(span_id: int):
    return jsonify(adjudication.update_gold_span(db.session, current_user, span_id, json_body(), idempotency_key=idempotency_key()))


@bp.delete("/api/gold/spans/<int:span_id>")
@login_required
def delete_span(span_id: int):
    return jsonify(adjudication.delete_gold_span(db.session, current_user, span_id, json_body(), idempotency_key=idempotency_key()))


@bp.put("/api/gold/sentences/<int:sentence_id>/labels/<layer>")
@login_required
def set_sentence_label(sentence_id: int, layer: str):
    return jsonify(adjudication.set_gold_label(db.session, current_user, sentence_id, layer, json_body(), idempotency_key=idempotency_key()))


@bp.post("/api/gold/documents/<int:document_id>/attributions")
@login_required
def create_attribution(document_id: int):
    return jsonify(adjudication.create_gold_attribution(db.session, current_user, document_id, json_body(), idempotency_key=idempotency_key())), 201


@bp.patch("/api/gold/attributions/<int:attribution_id>")
@login_required
def update_attribution(attribution_id: int):
    return jsonify(adjudication.update_gold_attribution(db.session, current_user, attribution_id, json_body(), idempotency_key=idempotency_key()))


@bp.delete("/api/gold/attributions/<int:attribution_id>")
@login_required
def delete_attribution(attribution_id: int):
    return jsonify(adjudication.delete_gold_attribution(db.session, current_user, attribution_id, json_body(), idempotency_key=idempotency_key()))


@bp.post("/api/gold/documents/<int:document_id>/changes")
@login_required
def apply_changes(document_id: int):
    return jsonify(adjudication.apply_gold_changes(db.session, current_user, document_id, json_body()))


@bp.post("/api/gold/documents/<int:document_id>/start")
@login_required
def start(document_id: int):
    return jsonify(adjudication.start(db.session, current_user, document_id))


@bp.post("/api/gold/documents/<int:document_id>/proposal")
@login_required
def proposal(document_id: int):
    return jsonify(adjudication.apply_proposal(db.session, current_user, document_id))


@bp.post("/api/gold/documents/<int:document_id>/done")
@login_required
def finish(document_id: int):
    return jsonify(adjudication.finish(db.session, current_user, document_id, note=json_body().get("note") or None))


@bp.post("/api/gold/documents/<int:document_id>/activity")
@login_required
def activity(document_id: int):
    """The page reports active time as it does for annotators; adjudication time is not recorded."""
    adjudication.record_activity(db.session, current_user, document_id)
    return "", 204
