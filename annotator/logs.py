"""Structured logs: one JSON object per line on standard error, for a log collector to parse.

Each record carries its time, level, logger and message, and, inside a request, the method,
path, remote address and user id (of the user the request loaded, if it did: logging never
touches the database); an exception comes with its type and traceback (in the log only: the
answer to the client never holds one).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback

from flask import Flask, g, has_request_context, request
from sqlalchemy import inspect


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry |= {"method": request.method, "path": request.path, "remote_addr": request.remote_addr,
                      "user_id": _user_id()}
        if record.exc_info:
            kind, error, trace = record.exc_info
            entry |= {"exception": kind.__name__, "error": str(error),
                      "traceback": "".join(traceback.format_exception(kind, error, trace))}
        return json.dumps(entry, ensure_ascii=False, default=str)


def _user_id() -> int | None:
    """The id of the user the request has signed in, if it has loaded one already, read without
    the database: loading the user, or reading an attribute a rollback expired, would query
    it, and the log is written when a request failed, its transaction perhaps broken
    (PendingRollbackError) or the database down."""
    user = g.get("_login_user")  # Flask-Login's user of this request, once loaded
    state = inspect(user, raiseerr=False) if user is not None else None  # None: anonymous
    identity = state.identity if state is not None else None  # the primary key, kept through expiry
    return identity[0] if identity else None


def init_logging(app: Flask) -> None:
    """The app's log as JSON lines on standard error (replacing Flask's default handler)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    app.logger.propagate = False
