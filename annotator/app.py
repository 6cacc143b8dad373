"""The application factory, and the database handle of a request (``db``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as _config
from .logs import init_logging
from .paths import STATIC_DIR, TEMPLATES_DIR

_DATABASE = "annotator.database"


def create_app(config: Mapping[str, Any] | None = None, *, web: bool = True) -> Flask:
    """The application factory. ``config`` overrides settings read from the environment.

    ``web=False`` leaves out the blueprints (serving pages needs them, tests of the database
    alone do not).
    """
    values = _config.load(config)
    app = Flask("annotator", instance_path=values["INSTANCE_PATH"], template_folder=str(TEMPLATES_DIR),
                static_folder=str(STATIC_DIR))
    app.config.update(values)

    init_logging(app)
    if app.config["BEHIND_HTTPS_PROXY"]:
        # Behind one reverse proxy that terminates HTTPS: trust its X-Forwarded-For/-Proto/
        # -Host (one hop), so the client's address (login throttling, logs) and the scheme
        # (the Secure session cookie, redirects) are the real ones.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.extensions[_DATABASE] = _config.database(values)
    app.teardown_appcontext(_close_session)

    if web:
        from .web import init_web

        init_web(app)
    return app


def _close_session(_error: BaseException | None) -> None:
    # Closed but kept in g: a streamed response (stream_with_context) pushes this same app
    # context again while it reads, and its second teardown must close the session again.
    session = g.get("db_session")
    if session is not None:
        session.close()


class AppDatabase:
    """The current app's database: ``db.session`` is the session of the request (or app
    context), opened on first use and closed when it ends; ``db.engine`` its engine."""

    @property
    def engine(self) -> Engine:
        return current_app.extensions[_DATABASE].engine

    def reachable(self) -> bool:
        return current_app.extensions[_DATABASE].reachable()

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions[_DATABASE].session()
        return g.db_session


db = AppDatabase()
