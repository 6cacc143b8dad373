"""Supervisor and admin pages: projects, their members, document and annotation uploads, users,
one's own account.

Views parse the request, call a service function (which checks the role) and render.
Every POST carries the CSRF token, checked app-wide by CSRFProtect.
"""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..app import db
from ..codebook import CodebookError
from ..errors import ServiceError
from ..ingest import IngestError
from ..ingest.annotations import load_mapping, read_annotation_file
from ..models import ROLES
from ..services import imports, projects, users
from .forms import add_error, expected_problem, finish_form
from .params import form_page, page_number, whole_number
from .project_page import AnnotationUploadForm, UploadForm, project_page

bp = Blueprint("admin", __name__)

# The longest uploaded file name kept, in messages and a document's metadata.
UPLOAD_NAME_MAX = 200


class NewProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=projects.NAME_MAX)])
    codebook = FileField("Codebook file (optional)")


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
    users.require_admin(db.session, current_user)
    form = NewProjectForm()
    problems = []
    if form.validate_on_submit():
        try:
            codebook = None
            if form.codebook.data and form.codebook.data.filename:
                upload = form.codebook.data
                codebook = projects.codebook_from_upload(upload.filename, upload.read())
            project = projects.create_project(db.session, current_user, form.name.data, codebook)
        except CodebookError as error:
            problems = error.problems
        except ServiceError as error:
            expected_problem(error)
            add_error(form, error)
        else:
            flash(f"Project {project.name!r} created with codebook {project.codebook['name']!r} "
                  f"version {project.codebook_version}.")
            return redirect(url_for(".project", project_id=project.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/new_project.html", form=form, problems=problems), status


@bp.get("/projects/<int:project_id>")
@login_required
def project(project_id: int):
    return project_page(project_id)


def _upload_name(filename: str) -> str:
    """The base name the browser sent, printable, for messages and metadata; never a path."""
    base = PurePath(filename.replace("\\", "/")).name
    return "".join(char for char in base if char.isprintable()).strip()[-UPLOAD_NAME_MAX:] or "upload"


@bp.post("/projects/<int:project_id>/documents")
@login_required
def upload(project_id: int):
    projects.get_project(db.session, current_user, project_id)  # 403/404 before reading files
    form = UploadForm()
    if not form.validate():
        return project_page(project_id, form=form, status=400)
    files = [file for file in request.files.getlist("files") if file.filename]
    if not files:
        flash("Choose one or more files to upload.", "error")
        return redirect(url_for(".project", project_id=project_id))
    results = imports.import_uploads(
        db.session,
        current_user,
        project_id,
        ((_upload_name(file.filename), file.read()) for file in files),
        max_bytes=current_app.config["MAX_IMPORT_BYTES"],
        max_sentences=current_app.config["MAX_SENTENCES"],
        max_documents=current_app.config["MAX_DOCUMENTS_PER_UPLOAD"],
        encoding=(form.encoding.data or "").strip() or None,
        language=(form.language.data or "").strip() or None,
    )
    return project_page(project_id, results=results, form=form)


@bp.post("/projects/<int:project_id>/annotations")
@login_required
def upload_annotations(project_id: int):
    """Annotations in another tool's format, read and checked whole, then imported in one
    transaction; on any problem nothing is written and every problem is listed."""
    project = projects.get_project(db.session, current_user, project_id)  # 403/404 before reading files
    form = AnnotationUploadForm()
    if not form.validate():
        return project_page(project_id, annotation_form=form, status=400)
    mapping = None
    if form.mapping.data and form.mapping.data.filename:
        mapping = load_mapping(_upload_name(form.mapping.data.filename), form.mapping.data.read())
        if isinstance(mapping, list):
            return project_page(project_id, annotation_form=form, annotation_problems=mapping, status=400)
    source = _upload_name(form.file.data.filename)
    read = read_annotation_file(form.file.data.read(), form.format.data, mapping,
                                codebook=projects.project_codebook(project),
                                annotator=(form.annotator.data or "").strip() or None, name=source)
    try:
        summary = imports.import_annotations(
            db.session, current_user, project_id, [item for item in read if not isinstance(item, IngestError)],
            source=source, replace=form.replace.data,
            read_problems=[item for item in read if isinstance(item, IngestError)],
        )
    except imports.ImportRejected as rejected:
        return project_page(project_id, annotation_form=form, annotation_problems=rejected.problems, status=400)
    except ServiceError as error:
        expected_problem(error)
        return project_page(project_id, annotation_form=form, annotation_problems=[IngestError(source, error.message)],
                            status=400)
    return project_page(project_id, annotation_form=form, annotation_import=summary)


@bp.post("/projects/<int:project_id>/codebook-language")
@login_required
def codebook_language(project_id: int):
    """The language the project's annotators see the codebook in (empty: as written)."""
    return finish_form(
        url_for(".project", project_id=project_id, _anchor="codebook-language"),
        lambda: projects.set_codebook_language(db.session, current_user, project_id, request.form.get("language", "")),
        lambda project: f"Annotators now see the codebook in {project.codebook_language or 'its own wording'}.",
    )


# A project's members: the supervisors who see it (admins see every project).


def _member_form(project_id: int, change, message):
    """Add or remove the supervisor the form names (``user``, an id); back to the members."""
    users.require_admin(db.session, current_user)  # 403 before the form is read
    back = url_for(".project", project_id=project_id, _anchor="members")
    return finish_form(back, lambda: change(whole_number("user", request.form.get("user", "").strip())), message)


@bp.post("/projects/<int:project_id>/members")
@login_required
def add_member(project_id: int):
    return _member_form(
        project_id, lambda user_id: projects.add_members(db.session, current_user, project_id, [user_id]),
        lambda added: f"{added[0].username} is now a member of this project." if added else "Already a member.",
    )


@bp.post("/projects/<int:project_id>/members/remove")
@login_required
def remove_member(project_id: int):
    return _member_form(
        project_id, lambda user_id: projects.remove_member(db.session, current_user, project_id, user_id),
        lambda user: f"{user.username} is no longer a member of this project.",
    )


# Users.


@bp.get("/users", endpoint="users")
@login_required
def user_list():
    return _users_page(NewUserForm())


def _users_page(form: NewUserForm, status: int = 200):
    accounts = users.list_users(db.session, current_user, page_number())
    return render_template("admin/users.html", users=accounts, form=form, roles=ROLES), status


@bp.post("/users")
@login_required
def create_user():
    users.require_admin(db.session, current_user)
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, password = users.add_user(db.session, current_user, form.username.data, form.role.data)
        except ServiceError as error:
            expected_problem(error)
            add_error(form, error)
        else:
            return _password_page(user, password, created=True)
    return _users_page(form, 400)


def _user_action(action, user_id: int, *args, done: str):
    """Run a user service; flash ``done`` (a template of {username} and {role}) or the problem;
    back to the page of the list the form was on."""
    back = form_page()
    try:
        user = action(db.session, current_user, user_id, *args)
    except ServiceError as error:
        expected_problem(error)
        flash(error.message, "error")
    else:
        flash(done.format(username=user.username, role=user.role))
    # An admin who just demoted themself may no longer see the list.
    return redirect(url_for(".users", page=back) if current_user.role == "admin" else url_for("pages.home"))


@bp.post("/users/<int:user_id>/role")
@login_required
def set_role(user_id: int):
    role = request.form.get("role", "")
    return _user_action(users.set_role, user_id, role, done="{username} is now {role}.")


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int):
    return _user_action(users.deactivate, user_id, done="{username} is deactivated and can no longer log in.")


@bp.post("/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    return _user_action(users.reactivate, user_id, done="{username} is active again and can log in.")


@bp.post("/users/<int:user_id>/password")
@login_required
def reset_password(user_id: int):
    user, password = users.set_password(db.session, current_user, user_id)
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
            expected_problem(error)
            add_error(form, error)
        else:
            flash("Your password was changed.")
            return redirect(url_for(".account"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/account.html", form=form, min_length=users.MIN_PASSWORD_LENGTH), status
