"""Supervisor and admin pages: projects, document uploads, users, one's own account.

Views parse the request, call a service function (which checks the role) and render.
Every POST carries the CSRF token, checked app-wide by CSRFProtect.
"""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from .. import documents, permissions, projects, users
from ..codebook import CodebookError
from ..db import db
from ..errors import Forbidden, NotFound, ServiceError
from ..ingest import EncodingNeeded, IngestError, check_encoding
from ..models import ROLES

bp = Blueprint("admin", __name__)

# One upload request may carry this many files of the largest importable size.
UPLOAD_FILES = 20
# Any other form of the app (a codebook is at most projects.CODEBOOK_MAX_BYTES).
FORM_MAX_BYTES = 2 * 1024 * 1024
# The longest uploaded file name kept, in messages and a document's metadata.
UPLOAD_NAME_MAX = 200


class NewProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=projects.NAME_MAX)])
    codebook = FileField("Codebook file (optional)")


def _known_encoding(_form, field) -> None:
    try:
        check_encoding(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class UploadForm(FlaskForm):
    files = MultipleFileField("Files (.txt, .html, .htm, .jsonl)")
    # Empty: each file's own encoding (UTF-8, a byte-order mark, an HTML page's charset).
    encoding = StringField("Encoding", validators=[Optional(), Length(max=40), _known_encoding])


class NewUserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=users.USERNAME_MAX)])
    role = SelectField("Role", choices=list(ROLES), default="annotator")


class AccountForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=users.MIN_PASSWORD_LENGTH, max=1024)],
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two new passwords differ.")],
    )


def _upload_limit() -> int:
    """The largest upload request: MAX_CONTENT_LENGTH when the app sets it, else UPLOAD_FILES
    files of the largest importable size (and room for the form around them)."""
    configured = current_app.config.get("MAX_CONTENT_LENGTH")
    return configured or UPLOAD_FILES * current_app.config["MAX_IMPORT_BYTES"] + 64 * 1024


@bp.app_url_value_preprocessor
def _limit_request_size(endpoint, _values):
    """Cap the request body of every form of the app (logging in too) before anything reads
    it: this runs before the before_request hooks, where the CSRF check parses the form.
    MAX_CONTENT_LENGTH, when set, wins. The API sets its own, smaller, limit after this."""
    if endpoint == "admin.upload":
        request.max_content_length = _upload_limit()
    else:
        request.max_content_length = current_app.config.get("MAX_CONTENT_LENGTH") or FORM_MAX_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    message = (
        f"The request was over the {_megabytes(request.max_content_length)} allowed at once "
        "and nothing was imported: upload fewer or smaller files at a time."
    )
    if request.endpoint == "admin.upload":
        flash(message, "error")
        return redirect(url_for(".project", **request.view_args))
    return render_template("error.html", status=413, message=message), 413


def _megabytes(size: int | None) -> str:
    return f"{(size or 0) / (1024 * 1024):.1f} MB"


def _expected_problem(error: ServiceError) -> None:
    """Let 403 and 404 reach the error page; anything else is shown on the page it came from."""
    if isinstance(error, (Forbidden, NotFound)):
        raise error
    db.session.rollback()


def _add_error(form: FlaskForm, error: ServiceError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    (field.errors if field is not None else form.form_errors).append(error.message)


def _password_page(user, password: str, *, created: bool):
    """A generated password, shown in this response only: not flashed (the session cookie is
    readable), not logged, not cached."""
    response = make_response(render_template("admin/password.html", user=user, password=password, created=created))
    response.headers["Cache-Control"] = "no-store"
    return response


# Projects.


@bp.get("/projects", endpoint="projects")
@login_required
def project_list():
    rows = projects.list_projects(db.session, current_user)
    return render_template("admin/projects.html", projects=rows)


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new_project():
    permissions.require_admin(current_user)
    form = NewProjectForm()
    problems = []
    if form.validate_on_submit():
        try:
            codebook = None
            if form.codebook.data and form.codebook.data.filename:
                upload = form.codebook.data
                codebook = projects.codebook_from_upload(upload.filename, upload.read())
            project = projects.new_project(db.session, current_user, form.name.data, codebook)
        except CodebookError as error:
            problems = error.problems
        except ServiceError as error:
            _expected_problem(error)
            _add_error(form, error)
        else:
            db.session.commit()
            flash(f"Project {project.name!r} created with codebook {project.codebook['name']!r} "
                  f"version {project.codebook_version}.")
            return redirect(url_for(".project", project_id=project.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/new_project.html", form=form, problems=problems), status


@bp.get("/projects/<int:project_id>")
@login_required
def project(project_id: int):
    return _project_page(project_id)


def _project_page(project_id: int, results: list[documents.UploadResult] | None = None,
                  form: UploadForm | None = None, status: int = 200):
    project = projects.project_by_id(db.session, current_user, project_id)
    rows = projects.project_documents(db.session, current_user, project_id)
    page = render_template(
        "admin/project.html",
        project=project,
        documents=rows,
        form=form or UploadForm(),
        results=results,
        max_bytes=current_app.config["MAX_IMPORT_BYTES"],
        max_sentences=current_app.config["MAX_SENTENCES"],
        upload_limit=_upload_limit(),
        megabytes=_megabytes,
        upload_problem=_upload_problem,
    )
    return page, status


def _upload_problem(error: IngestError) -> str:
    """An import problem as the upload page words it: an encoding is given in the form."""
    return error.message("in the Encoding field") if isinstance(error, EncodingNeeded) else str(error)


def _upload_name(filename: str) -> str:
    """The base name the browser sent, printable, for messages and metadata; never a path."""
    base = PurePath(filename.replace("\\", "/")).name
    return "".join(char for char in base if char.isprintable()).strip()[-UPLOAD_NAME_MAX:] or "upload"


@bp.post("/projects/<int:project_id>/documents")
@login_required
def upload(project_id: int):
    projects.project_by_id(db.session, current_user, project_id)  # 403/404 before reading files
    form = UploadForm()
    if not form.validate():
        return _project_page(project_id, form=form, status=400)
    files = [file for file in request.files.getlist("files") if file.filename]
    if not files:
        flash("Choose one or more files to upload.", "error")
        return redirect(url_for(".project", project_id=project_id))
    results = documents.import_uploads(
        db.session,
        current_user,
        project_id,
        ((_upload_name(file.filename), file.read()) for file in files),
        max_bytes=current_app.config["MAX_IMPORT_BYTES"],
        max_sentences=current_app.config["MAX_SENTENCES"],
        encoding=(form.encoding.data or "").strip() or None,
    )
    return _project_page(project_id, results, form)


# Users.


@bp.get("/users", endpoint="users")
@login_required
def user_list():
    return _users_page(NewUserForm())


def _users_page(form: NewUserForm, status: int = 200):
    accounts = users.list_users(db.session, current_user)
    return render_template("admin/users.html", users=accounts, form=form, roles=ROLES), status


@bp.post("/users")
@login_required
def create_user():
    permissions.require_admin(current_user)
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, password = users.add_user(db.session, current_user, form.username.data, form.role.data)
        except ServiceError as error:
            _expected_problem(error)
            _add_error(form, error)
        else:
            db.session.commit()
            return _password_page(user, password, created=True)
    return _users_page(form, 400)


def _user_action(action, user_id: int, *args, done: str):
    """Run a user service; flash ``done`` (a template of {username} and {role}) or the problem."""
    try:
        user = action(db.session, current_user, user_id, *args)
    except ServiceError as error:
        _expected_problem(error)
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done.format(username=user.username, role=user.role))
    # An admin who just demoted themself may no longer see the list.
    return redirect(url_for(".users") if current_user.role == "admin" else url_for("pages.home"))


@bp.post("/users/<int:user_id>/role")
@login_required
def set_role(user_id: int):
    role = request.form.get("role", "")
    return _user_action(users.set_role, user_id, role, done="{username} is now {role}.")


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int):
    return _user_action(users.deactivate_user, user_id, done="{username} is deactivated and can no longer log in.")


@bp.post("/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    return _user_action(users.reactivate, user_id, done="{username} is active again and can log in.")


@bp.post("/users/<int:user_id>/password")
@login_required
def reset_password(user_id: int):
    user, password = users.reset_password(db.session, current_user, user_id)
    db.session.commit()
    return _password_page(user, password, created=False)


# One's own account.


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            users.change_password(db.session, current_user, form.current_password.data, form.new_password.data)
        except ServiceError as error:
            _expected_problem(error)
            _add_error(form, error)
        else:
            db.session.commit()
            flash("Your password was changed.")
            return redirect(url_for(".account"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/account.html", form=form, min_length=users.MIN_PASSWORD_LENGTH), status
