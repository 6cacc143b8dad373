"""The web layer: thin Flask blueprints that parse requests, call services and render."""

from __future__ import annotations

import datetime as dt

from flask import Flask, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, ValidationError

from ..app import db
from ..direction import BIDI_CONTROLS, bidi_controls_isolated, isolate, text_direction
from ..errors import ServiceError
from ..models import ID_MAX, User
from ..services import users
from .figures import number

login_manager = LoginManager()
csrf = CSRFProtect()

# One upload request may carry this many files of the largest importable size.
UPLOAD_FILES = 20
# The forms that upload files to import (documents; annotations), limited by upload_limit().
UPLOAD_ENDPOINTS = ("admin.upload", "admin.upload_annotations")
# Any other form of the app (a codebook is at most projects.CODEBOOK_MAX_BYTES).
FORM_MAX_BYTES = 2 * 1024 * 1024


# The key of Flask's (signed) session cookie holding the login session's token
# (annotator.services.users): the token, not the user id Flask-Login keeps beside it, says who
# is signed in, and only while the server keeps the session.
LOGIN_TOKEN = "login_token"


def session_lifetimes() -> users.Lifetimes:
    return users.Lifetimes(idle=dt.timedelta(hours=current_app.config["SESSION_IDLE_HOURS"]),
                           absolute=dt.timedelta(days=current_app.config["SESSION_MAX_DAYS"]))


@login_manager.user_loader
def _load_user(_user_id: str) -> User | None:
    token = flask_session.get(LOGIN_TOKEN)
    if not isinstance(token, str):
        return None
    # An API call that changes something reads its user in the transaction of its write.
    writing = request.path.startswith("/api/") and request.method not in ("GET", "HEAD", "OPTIONS")
    return users.signed_in(db.session, token, session_lifetimes(), writing=writing)


@login_manager.unauthorized_handler
def _unauthorized():
    from flask import redirect, url_for

    if _wants_json():
        return jsonify(error="authentication required"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _wants_json() -> bool:
    return request.path.startswith("/api/")


# Nothing runs or loads unless it comes from this site: no inline script, no other hosts.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id past ID_MAX is not found (404) without asking the
    database, which cannot compare it. (Raised here: werkzeug would answer a ValidationError
    with 405 when the path has a rule for another method.)"""

    def to_python(self, value: str) -> int:
        try:
            number = super().to_python(value)
        except ValidationError:  # more digits than Python converts
            number = None
        if number is None or number > ID_MAX:
            raise NotFound()
        return number


def _isolated(text) -> Markup:
    """The ``isolate`` filter: ``text`` isolated (direction.isolate; with bidirectional controls
    in it, closed as ``finalize`` closes them), escaped and marked safe, so that ``finalize``
    does not isolate it a second time."""
    value = str(text)
    return escape(bidi_controls_isolated(value) if BIDI_CONTROLS.search(value) else isolate(value))


def upload_limit() -> int:
    """The largest upload request: MAX_CONTENT_LENGTH when the app sets it, else UPLOAD_FILES
    files of the largest importable size (and room for the form around them)."""
    from flask import current_app

    configured = current_app.config.get("MAX_CONTENT_LENGTH")
    return configured or UPLOAD_FILES * current_app.config["MAX_IMPORT_BYTES"] + 64 * 1024


def megabytes(size: int | None) -> str:
    return f"{(size or 0) / (1024 * 1024):.1f} MB"


def init_web(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before the routes are added
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.jinja_env.globals.update(number=number, text_direction=text_direction)
    app.jinja_env.finalize = bidi_controls_isolated  # before any template is compiled
    app.jinja_env.filters["isolate"] = _isolated

    @app.url_value_preprocessor
    def _limit_request_size(endpoint, _values):
        """Cap the request body of every form of the app (logging in too) before anything
        reads it: this runs before the before_request hooks, where the CSRF check parses the
        form. MAX_CONTENT_LENGTH, when set, wins. The API sets its own, smaller, limit."""
        if endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = upload_limit()
        else:
            request.max_content_length = app.config.get("MAX_CONTENT_LENGTH") or FORM_MAX_BYTES

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge):
        if request.blueprint != "admin":
            return _http_error(error)
        message = (
            f"The request was over the {megabytes(request.max_content_length)} allowed at once "
            "and nothing was imported: upload fewer or smaller files at a time."
        )
        if request.endpoint in UPLOAD_ENDPOINTS:
            flash(message, "error")
            return redirect(url_for("admin.project", **request.view_args))
        return render_template("error.html", status=413, message=message), 413

    # Registered before CSRFProtect's check, so that a logged-out page learns it must log in
    # again (401) rather than that its token is stale (400).
    @app.before_request
    def _api_requires_login():
        if request.path.startswith("/api/"):
            # The page saves one item at a time: nothing it sends comes near this.
            request.max_content_length = app.config["API_MAX_BYTES"]
            if not current_user.is_authenticated:
                return jsonify(error="authentication required"), 401
        return None

    csrf.init_app(app)

    @app.before_request
    def _no_nul_characters():
        # No name, id or text the app looks up or keeps may hold NUL (PostgreSQL cannot store
        # or compare one): refused here once for every path, query and form. JSON bodies are
        # checked by the service (annotations.free_text); file contents by the importer.
        fields = (request.args, request.form)
        if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                        for values in fields for key, value in values.items(multi=True)):
            abort(400, "NUL characters are not allowed in a request's address or form fields.")
        return None

    from . import adjudicate, admin, api, auth, entities, exports, health, pages, profiles, report, supervise

    for blueprint in (health.bp, auth.bp, pages.bp, api.bp, admin.bp, supervise.bp, report.bp, profiles.bp, exports.bp,
                      adjudicate.bp, entities.bp):
        app.register_blueprint(blueprint)

    @app.after_request
    def _security_headers(response):
        response.headers.update(SECURITY_HEADERS)
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        if _wants_json():
            return jsonify(error.to_json()), error.status
        return render_template("error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        # The database is down or restarting (PostgreSQL), or busy past the wait (SQLite):
        # nothing was saved, and the page's save queue retries a 5xx until it goes through.
        # The pool checks connections before use (pool_pre_ping), so once the database is
        # back the next request works without restarting the app.
        app.logger.warning("database unavailable for %s %s: %s", request.method, request.path, error.orig)
        message = "The database cannot be reached at the moment; nothing was saved. Try again shortly."
        if _wants_json():
            return jsonify(error=message), 503, {"Retry-After": "2"}
        return render_template("error.html", status=503, message=message), 503, {"Retry-After": "2"}

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        if _wants_json():
            return jsonify(error=f"CSRF check failed: {error.description}"), 400
        return error

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if _wants_json():
            return jsonify(error=error.description), error.code
        return render_template("error.html", status=error.code, message=error.description), error.code
