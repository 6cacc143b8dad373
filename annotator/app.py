"""The application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as _config
from .db import configure_engine, db
from .logs import init_logging
from .paths import STATIC_DIR, TEMPLATES_DIR


def create_app(config: Mapping[str, Any] | None = None, *, web: bool = True) -> Flask:
    """The application factory. ``config`` overrides settings read from the environment.

    ``web=False`` leaves out the blueprints: the command line's commands need only the
    settings and the database, and start faster without every page's imports.
    """
    overrides = dict(config or {})
    instance = overrides.pop("INSTANCE_PATH", None) or os.environ.get("ANNOTATOR_INSTANCE")
    app = Flask(
        "annotator",
        instance_path=str(Path(instance).resolve()) if instance else None,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
    )
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    if "SQLALCHEMY_DATABASE_URI" in overrides:
        overrides["SQLALCHEMY_DATABASE_URI"] = _config.normalise_database_url(
            overrides["SQLALCHEMY_DATABASE_URI"]
        )
    app.config.update(_config.settings(instance_path) | overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _config.secret_key(instance_path)

    init_logging(app)
    if app.config["BEHIND_HTTPS_PROXY"]:
        # Behind one reverse proxy that terminates HTTPS: trust its X-Forwarded-For/-Proto/
        # -Host (one hop), so the client's address (login throttling, logs) and the scheme
        # (the Secure session cookie, redirects) are the real ones.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, synchronous=app.config["SQLITE_SYNCHRONOUS"])

    if web:
        from .web import init_web

        init_web(app)
    return app
