"""Logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..app import db
from ..services import users
from ..errors import TooManyAttempts
from . import LOGIN_TOKEN, session_lifetimes

bp = Blueprint("auth", __name__)


def _printable(_form, field) -> None:
    """No account has a name with control characters (users.create_user refuses them), and
    PostgreSQL cannot even compare a name holding NUL."""
    if field.data and not field.data.isprintable():
        raise ValidationError("may only have printable characters.")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=users.USERNAME_MAX), _printable])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str:
    """Only redirect to a path on this site, never to another host."""
    # A backslash too: browsers read "/\\host" as "//host".
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not urlsplit(target).netloc:
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            signed_in = users.log_in(db.session, None, form.username.data, form.password.data,
                                     request.remote_addr or "", session_lifetimes())
        except TooManyAttempts as error:
            flash(error.message, "error")
            return render_template("login.html", form=form), error.status, {"Retry-After": str(error.retry_after)}
        if signed_in is None:
            flash("Wrong username or password, or the account is deactivated.", "error")
            return render_template("login.html", form=form), 401
        user, token = signed_in
        # A fresh session on login: nothing an attacker planted before survives (fixation),
        # and the CSRF token of the session before is not this one's.
        session.clear()
        session[LOGIN_TOKEN] = token
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    if form.is_submitted():  # and invalid: the form again, saying why, as the other forms do
        for item in form:
            for error in item.errors:
                flash(f"{item.label.text}: {error}", "error")
        return render_template("login.html", form=form), 400
    return render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    users.log_out(db.session, current_user)  # server-side: a copy of the cookie is worth nothing now
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
