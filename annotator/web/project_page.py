"""The project page (templates/admin/project.html): its documents, the upload form and the
export forms. Rendered by the project view, after an upload, and after a refused export
(with the options the export was sent and why it was refused)."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import exporters
from ..app import db
from ..ingest import EncodingNeeded, IngestError, check_encoding
from ..services import projects
from . import megabytes, upload_limit
from .params import page_number


def _known_encoding(_form, field) -> None:
    try:
        check_encoding(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class UploadForm(FlaskForm):
    files = MultipleFileField("Files (.txt, .html, .htm, .jsonl)")
    # Empty: each file's own encoding (UTF-8, a byte-order mark, an HTML page's charset).
    encoding = StringField("Encoding", validators=[Optional(), Length(max=40), _known_encoding])


def _upload_problem(error: IngestError) -> str:
    """An import problem as the upload page words it: an encoding is given in the form."""
    return error.message("in the Encoding field") if isinstance(error, EncodingNeeded) else str(error)


def project_page(project_id: int, *, results: list | None = None, form: UploadForm | None = None,
                 status: int = 200, export_sent: dict | None = None, export_problem: str | None = None):
    project = projects.get_project(db.session, current_user, project_id)
    rows = projects.project_documents(db.session, current_user, project_id, page_number())
    page = render_template(
        "admin/project.html",
        project=project,
        documents=rows,
        form=form or UploadForm(),
        results=results,
        max_bytes=current_app.config["MAX_IMPORT_BYTES"],
        max_sentences=current_app.config["MAX_SENTENCES"],
        upload_limit=upload_limit(),
        megabytes=megabytes,
        upload_problem=_upload_problem,
        export_formats=list(exporters.FORMATS),
        export_sent=export_sent or {},
        export_problem=export_problem,
    )
    return page, status
