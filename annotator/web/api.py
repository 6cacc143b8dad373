"""The JSON API the annotation page saves through. Thin: parse, call the service, answer."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user, login_required

from ..app import db
from ..services import annotations, assignments, progress
from .params import idempotency_key, json_body

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/documents/<int:document_id>/annotations")
@login_required
def document_annotations(document_id: int):
    return jsonify(annotations.annotation_state(db.session, current_user, document_id))


@bp.post("/documents/<int:document_id>/spans")
@login_required
def create_span(document_id: int):
    return jsonify(annotations.create_span(db.session, current_user, document_id, json_body(), idempotency_key=idempotency_key())), 201


@bp.patch("/spans/<int:span_id>")
@login_required
def update_span(span_id: int):
    return jsonify(annotations.update_span(db.session, current_user, span_id, json_body(), idempotency_key=idempotency_key()))


@bp.delete("/spans/<int:span_id>")
@login_required
def delete_span(span_id: int):
    return jsonify(annotations.delete_span(db.session, current_user, span_id, json_body(), idempotency_key=idempotency_key()))


@bp.put("/sentences/<int:sentence_id>/labels/<layer>")
@login_required
def set_sentence_label(sentence_id: int, layer: str):
    return jsonify(annotations.set_sentence_label(db.session, current_user, sentence_id, layer, json_body(), idempotency_key=idempotency_key()))


@bp.post("/documents/<int:document_id>/attributions")
@login_required
def create_attribution(document_id: int):
    return jsonify(annotations.create_attribution(db.session, current_user, document_id, json_body(), idempotency_key=idempotency_key())), 201


@bp.patch("/attributions/<int:attribution_id>")
@login_required
def update_attribution(attribution_id: int):
    return jsonify(annotations.update_attribution(db.session, current_user, attribution_id, json_body(), idempotency_key=idempotency_key()))


@bp.delete("/attributions/<int:attribution_id>")
@login_required
def delete_attribution(attribution_id: int):
    return jsonify(annotations.delete_attribution(db.session, current_user, attribution_id, json_body(), idempotency_key=idempotency_key()))


@bp.post("/suggestions/<int:suggestion_id>/reject")
@login_required
def reject_suggestion(suggestion_id: int):
    """A suggestion the page shows, rejected (docs/suggestions.md, "In the page")."""
    return jsonify(annotations.reject_suggestion(db.session, current_user, suggestion_id, json_body(), idempotency_key=idempotency_key()))


@bp.post("/documents/<int:document_id>/changes")
@login_required
def apply_changes(document_id: int):
    """Several of the above in one request and one transaction (docs/annotation-ui.md)."""
    return jsonify(annotations.apply_changes(db.session, current_user, document_id, json_body()))


# -- marking done, active time ------------------------------------------------------------------


@bp.post("/documents/<int:document_id>/done")
@login_required
def mark_done(document_id: int):
    return jsonify(assignments.mark_done(db.session, current_user, document_id))


@bp.post("/documents/<int:document_id>/activity")
@login_required
def record_activity(document_id: int):
    return jsonify(progress.record_activity(db.session, current_user, document_id, json_body()))
