"""The project page (templates/admin/project.html): its documents, its members (the supervisors
who see it; an admin's forms add and remove them), the upload forms (documents; annotations
in another tool's format) and the export forms. Rendered by the project view, after an
upload, and after a refused export (with the options the export was sent and why it was
refused)."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import exporters
from ..app import db
from ..ingest import EncodingNeeded, IngestError, check_encoding, check_language
from ..ingest.annotations import FORMATS as ANNOTATION_FORMATS
from ..ingest.language import LANGUAGE_NAMES, LANGUAGE_TAG_MAX
from ..services import projects, users
from ..services.imports import AnnotationImport
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


# What the annotation upload takes in each format (docs/interop.md, "Importing annotations").
ANNOTATION_FORMAT_HINTS = {
    "jsonl": ("This project's JSONL", "one document per line with its annotations, as the JSONL export writes it."),
    "doccano": ("doccano JSONL", "one document per line, its labels [start, end, label]; labels through the mapping "
                                 "file's [labels]."),
    "labelstudio": ("Label Studio JSON", "the JSON export of a labelling project; labels, relations and choices "
                                         "through the mapping file."),
    "brat": ("brat standoff (.zip)", "a zip of NAME.txt and NAME.ann files (NAME_<annotator>.ann for several "
                                     "annotators of one text), side by side or in separate folders, with at most "
                                     "one metadata table (.tsv or .csv) naming the files."),
    "conll": ("CoNLL / BIO", "a token and its tag per line, a blank line between sentences, -DOCSTART- between "
                             "documents; one span layer, the text rebuilt from the tokens."),
    "techniques": ("Technique span files (.zip)", "a zip of SemEval-2020 Task 11 files: article<ID>.txt texts and "
                                                  "*.labels lines <ID>, technique, start, end (tab separated)."),
    "sentence-csv": ("Sentence labels (CSV)", "a row per sentence and annotator: sentence, annotator and a column "
                                              "per sentence layer; sentences are matched to the project's documents "
                                              "by their text, so upload the articles first."),
}


class AnnotationUploadForm(FlaskForm):
    """Annotations made in another tool, checked whole and imported all or nothing (the
    command line's import-annotations)."""

    format = SelectField("Format", choices=[SelectChoice(name, ANNOTATION_FORMAT_HINTS[name][0])
                                            for name in ANNOTATION_FORMATS])
    file = FileField("File", validators=[FileRequired("Choose the file (or the .zip) to import.")])
    mapping = FileField("Mapping file (optional, .toml or .json)")
    annotator = StringField("Annotator", validators=[Optional(), Length(max=users.USERNAME_MAX)])
    replace = BooleanField("Replace an annotator's earlier annotations of a document")


def _upload_problem(error: IngestError) -> str:
    """An import problem as the upload page words it: an encoding is given in the form."""
    return error.message("in the Encoding field") if isinstance(error, EncodingNeeded) else str(error)


def project_page(project_id: int, *, results: list | None = None, form: UploadForm | None = None,
                 status: int = 200, export_sent: dict | None = None, export_problem: str | None = None,
                 annotation_form: AnnotationUploadForm | None = None,
                 annotation_problems: list[IngestError] | None = None,
                 annotation_import: AnnotationImport | None = None):
    """``annotation_problems``: why an annotation upload wrote nothing, every problem;
    ``annotation_import``: what one wrote."""
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
        annotation_form=annotation_form or AnnotationUploadForm(),
        annotation_format_hints=ANNOTATION_FORMAT_HINTS,
        annotation_problems=annotation_problems,
        annotation_import=annotation_import,
    )
    return page, status
