"""Export downloads for supervisors: the same streams as `annotator export`.

Thin: ``annotator.exports`` checks the role and the parameters and reads the records;
``annotator.exporters`` renders them. Both check everything before the response starts, so
a bad request is an ordinary 4xx page, never a broken download.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_login import current_user, login_required

from .. import exporters, exports
from ..db import db
from .params import flag

bp = Blueprint("exports", __name__)

def _annotators() -> list[str] | None:
    names = [name.strip() for value in request.args.getlist("annotators") for name in value.split(",")]
    return [name for name in names if name] or None


def _filename(project_name: str, format_name: str, extension: str) -> str:
    """ASCII letters, digits, dots, dashes and underscores only: safe in the header."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", project_name).strip("-.") or "project"
    return f"{stem}-{format_name}.{extension}"


@bp.app_context_processor
def _formats() -> dict:
    """The format names, for the export form on the project page (templates/exports/_form.html)."""
    return {"export_formats": list(exporters.FORMATS)}


@bp.get("/projects/<int:project_id>/export/<format_name>", endpoint="download")
@login_required
def download(project_id: int, format_name: str):
    records = exports.document_records(  # checks the role first
        db.session, current_user, project_id, secret_key=current_app.config["SECRET_KEY"],
        annotators=_annotators(), usernames=flag("usernames"), gold=flag("gold"),
    )
    module = exporters.exporter(format_name)
    chunks = exporters.stream(
        format_name, records, records.codebook, layer=request.args.get("layer", "").strip() or None, bom=flag("bom")
    )
    response = Response(stream_with_context(chunks), content_type=module.MEDIA_TYPE)
    name = _filename(records.project.name, format_name, module.EXTENSION)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
