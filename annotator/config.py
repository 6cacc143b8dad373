"""Settings, read from the environment (ANNOTATOR_*) unless create_app() is given them; the
command line reads them here too, without Flask."""

from __future__ import annotations

import math
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .db import Database

SECRET_KEY_FILE = "secret_key"
SQLITE_FILE = "annotator.sqlite3"
# The import limits' defaults, also annotator.ingest's: defined here so that reading the
# settings does not load the HTML parser and the segmenter.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# The annotation page of a longer document is too slow to use (a 28,000-sentence book was).
DEFAULT_MAX_SENTENCES = 2000
# One upload request of the project page is read and stored while its server thread waits;
# a larger collection is for `annotator import`, which has no such limit.
DEFAULT_MAX_DOCUMENTS_PER_UPLOAD = 1000
DEFAULT_SESSION_IDLE_HOURS = 12
DEFAULT_SESSION_MAX_DAYS = 7


def default_instance_path() -> Path:
    """Where the SQLite file and the generated key live unless ANNOTATOR_INSTANCE says: as
    Flask would put the instance folder, ``instance/`` beside the package in a checkout or an
    editable install, ``<prefix>/var/annotator-instance`` in an installed one."""
    package = Path(__file__).resolve().parent
    if {"site-packages", "dist-packages"} & set(package.parts):
        return Path(sys.prefix, "var", "annotator-instance")
    return package.parent / "instance"


def load(overrides: Mapping[str, Any] | None = None) -> dict:
    """Every setting: the environment's (ANNOTATOR_*) overridden by ``overrides`` (create_app's
    mapping), with INSTANCE_PATH (made if missing) and SECRET_KEY filled in."""
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_PATH", None) or os.environ.get("ANNOTATOR_INSTANCE")
                    or default_instance_path()).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    if "SQLALCHEMY_DATABASE_URI" in overrides:
        overrides["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(overrides["SQLALCHEMY_DATABASE_URI"])
    values = settings(instance) | overrides | {"INSTANCE_PATH": str(instance)}
    # A CSRF token lives as long as a login session may (annotators keep a page open all
    # day), and no longer: it dies with its session (cleared on login and logout) or then.
    values.setdefault("WTF_CSRF_TIME_LIMIT", round(values["SESSION_MAX_DAYS"] * 24 * 3600))
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = secret_key(instance)
    return values


def database(values: Mapping[str, Any]) -> Database:
    """The database the settings name."""
    return Database(values["SQLALCHEMY_DATABASE_URI"], synchronous=values["SQLITE_SYNCHRONOUS"],
                    engine_options=values["SQLALCHEMY_ENGINE_OPTIONS"])


def database_url(instance_path: Path) -> str:
    url = os.environ.get("ANNOTATOR_DATABASE_URL") or f"sqlite:///{instance_path / SQLITE_FILE}"
    return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    """Accept the plain postgres:// spellings and route them to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_key(instance_path: Path) -> str:
    """The environment's key, else one generated once and kept in the instance folder.

    Created with O_EXCL so that several server processes starting together agree on one key.
    """
    if key := os.environ.get("ANNOTATOR_SECRET_KEY"):
        return key
    path = instance_path / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def settings(instance_path: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        # Recover from a restarted PostgreSQL without restarting the app.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLITE_SYNCHRONOUS": os.environ.get("ANNOTATOR_SQLITE_SYNCHRONOUS", "NORMAL").upper(),
        "MAX_IMPORT_BYTES": int(os.environ.get("ANNOTATOR_MAX_IMPORT_BYTES", DEFAULT_MAX_BYTES)),
        # The most sentences a document may have, on every import from files and uploads.
        "MAX_SENTENCES": int(os.environ.get("ANNOTATOR_MAX_SENTENCES", DEFAULT_MAX_SENTENCES)),
        # The most documents one upload request of the project page may hold, over all its files.
        "MAX_DOCUMENTS_PER_UPLOAD": int(os.environ.get("ANNOTATOR_MAX_DOCUMENTS_PER_UPLOAD",
                                                       DEFAULT_MAX_DOCUMENTS_PER_UPLOAD)),
        # The largest JSON request body the API reads (413 above it).
        "API_MAX_BYTES": int(os.environ.get("ANNOTATOR_API_MAX_BYTES", 1024 * 1024)),
        # A login session ends after this long unused, and after this long in any case.
        "SESSION_IDLE_HOURS": _positive("ANNOTATOR_SESSION_IDLE_HOURS", DEFAULT_SESSION_IDLE_HOURS),
        "SESSION_MAX_DAYS": _positive("ANNOTATOR_SESSION_MAX_DAYS", DEFAULT_SESSION_MAX_DAYS),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # Served over HTTPS through a reverse proxy (docs/administration.md): session cookies
        # only over HTTPS, and the proxy's forwarded headers trusted.
        "BEHIND_HTTPS_PROXY": _https(),
        "SESSION_COOKIE_SECURE": _https(),
    }


def _positive(name: str, default: float) -> float:
    text = os.environ.get(name, str(default))
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a number above 0, not {text!r}")
    return value


def _https() -> bool:
    return os.environ.get("ANNOTATOR_BEHIND_HTTPS_PROXY", "").strip().lower() in ("1", "true", "yes")
