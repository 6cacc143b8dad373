"""Liveness for load balancers and monitoring: is the database reachable?"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..app import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if not db.reachable():
        return jsonify(status="error", error="database unreachable"), 503
    return jsonify(status="ok")
