"""Structured logs: one JSON object per line on standard error, for a log collector to parse.

Each record carries its time, level, logger and message, and, inside a request, the method,
path, remote address and user id; an exception comes with its type and traceback (in the log
only: the answer to the client never holds one).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback

from flask import Flask, has_request_context, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            from flask_login import current_user

            entry |= {"method": request.method, "path": request.path, "remote_addr": request.remote_addr,
                      "user_id": current_user.get_id() if current_user and current_user.is_authenticated else None}
        if record.exc_info:
            kind, error, trace = record.exc_info
            entry |= {"exception": kind.__name__, "error": str(error),
                      "traceback": "".join(traceback.format_exception(kind, error, trace))}
        return json.dumps(entry, ensure_ascii=False, default=str)


def init_logging(app: Flask) -> None:
    """The app's log as JSON lines on standard error (replacing Flask's default handler)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    app.logger.propagate = False
