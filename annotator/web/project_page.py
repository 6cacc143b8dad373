"""The project page (templates/admin/project.html): its documents, its members (the supervisors
who see it; an admin's forms add and remove them), the upload form and the export forms.
Rendered by the project view, after an upload, and after a refused export (with the options
the export was sent and why it was refused)."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import exporters
from ..app import db
from ..ingest import EncodingNeeded, IngestError, check_encoding, check_language
from ..ingest.language import LANGUAGE_NAMES, LANGUAGE_TAG_MAX
from ..services import projects
from . import megabytes, upload_limit
from .params import page_number


def _accepted_by(check):
    """A field validator: ``check`` (check_encoding, check_language) must accept the value."""

    def validate(_form, field) -> None:
        try:
            check(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    return validate


class UploadForm(FlaskForm):
    files = MultipleFileField("Files (.txt, .html, .htm, .jsonl)")
    # Empty: each file's own encoding (UTF-8, a byte-order mark, an HTML page's charset).
    encoding = StringField("Encoding", validators=[Optional(), Length(max=40), _accepted_by(check_encoding)])
    # Empty: each article's own language (declared, else detected from its script).
    language = StringField("Language", validators=[Optional(), Length(max=LANGUAGE_TAG_MAX), _accepted_by(check_language)])


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
        members=projects.project_members(db.session, current_user, project_id),
        form=form or UploadForm(),
        results=results,
        max_bytes=current_app.config["MAX_IMPORT_BYTES"],
        max_sentences=current_app.config["MAX_SENTENCES"],
        max_documents=current_app.config["MAX_DOCUMENTS_PER_UPLOAD"],
        upload_limit=upload_limit(),
        megabytes=megabytes,
        upload_problem=_upload_problem,
        language_names=LANGUAGE_NAMES,
        codebook_languages=projects.project_codebook(project).languages,
        export_formats=list(exporters.FORMATS),
        export_sent=export_sent or {},
        export_problem=export_problem,
    )
    return page, status
