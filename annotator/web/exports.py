"""Export downloads for supervisors: the same streams as `annotator export`.

Thin: ``annotator.services.exports`` checks the role and the parameters and reads the records;
``annotator.exporters`` renders them. Both check everything before the response starts, so
a refused download is never a broken file: it is the project page again, with the export
form filled in as it was sent and the reason beside it.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_login import current_user, login_required

from .. import exporters
from ..app import db
from ..errors import Forbidden, ServiceError
from ..services import exports
from .params import flag
from .project_page import project_page

bp = Blueprint("exports", __name__)


def _options() -> dict:
    """The export options of the request, as the form names them."""
    names = [name.strip() for value in request.args.getlist("annotators") for name in value.split(",")]
    return {
        "annotators": [name for name in names if name] or None,
        "usernames": flag("usernames"),
        "gold": flag("gold"),
        "layer": request.args.get("layer", "").strip() or None,
        "bom": flag("bom"),
    }


def _filename(project_name: str, format_name: str, extension: str) -> str:
    """ASCII letters, digits, dots, dashes and underscores only: safe in the header."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", project_name).strip("-.") or "project"
    return f"{stem}-{format_name}.{extension}"


@bp.get("/projects/<int:project_id>/export/<format_name>", endpoint="download")
@login_required
def download(project_id: int, format_name: str):
    options = _options()
    try:
        records = exports.document_records(  # checks the role first
            db.session, current_user, project_id, secret_key=current_app.config["SECRET_KEY"],
            annotators=options["annotators"], usernames=options["usernames"], gold=options["gold"],
        )
        module = exporters.exporter(format_name)
        chunks = exporters.stream(format_name, records, records.codebook, layer=options["layer"], bom=options["bom"])
    except Forbidden:  # no project page for whoever may not export
        raise
    except ServiceError as error:
        # The project page checks the project (a missing one is its 404 page).
        return project_page(project_id, status=error.status,
                            export_sent=options | {"annotators": ", ".join(options["annotators"] or ())},
                            export_problem=f"The {format_name} export was not made: {error.message}")
    response = Response(stream_with_context(chunks), content_type=module.MEDIA_TYPE)
    name = _filename(records.project.name, format_name, module.EXTENSION)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
