"""Errors the service layer raises; the web layer turns them into JSON 4xx, the CLI into messages."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None, current: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        # For conflicts: the row as it now is, so the page can show it.
        self.current = current

    def to_json(self) -> dict:
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        if self.current is not None:
            body["current"] = self.current
        return body


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class KeyReused(ServiceError):
    """An idempotency key sent again for another request (annotator.services.idempotency)."""

    status = 422


class TooManyAttempts(ServiceError):
    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after  # seconds, for the Retry-After header
