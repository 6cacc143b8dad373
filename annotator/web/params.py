"""What requests carry, read the one way every page, download and API endpoint shares."""

from __future__ import annotations

import re

from flask import request

from ..errors import ServiceError
from ..models import ID_MAX

TRUE = ("1", "true", "on", "yes")


def flag(name: str) -> bool:
    """A yes/no query parameter (``?bom=1``, a checked checkbox): absent means no."""
    return request.args.get(name, "").strip().lower() in TRUE


def whole_number(name: str, raw: str) -> int:
    """A whole number the database can compare (ids, counts, a seed, a page): within ±ID_MAX."""
    try:
        value = int(raw)
    except ValueError:  # not a number, or more digits than Python converts
        value = None
    if value is None or abs(value) > ID_MAX:
        raise ServiceError(f"{name.replace('_', ' ')} must be a whole number from -{ID_MAX} to {ID_MAX}",
                           field=name)
    return value


def page_number() -> int:
    """The page of a listing asked for (``?page=N``, 1 when absent; the service refuses numbers below 1)."""
    raw = request.args.get("page", "").strip()
    return whole_number("page", raw) if raw else 1


def form_page() -> int | None:
    """The page of the listing a form was sent from (its hidden ``page`` field, see
    templates/_pagination.html), to go back to; None: the first."""
    raw = request.form.get("page", "").strip()
    return whole_number("page", raw) if raw else None


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` header, None when not sent (the service checks it)."""
    return request.headers.get("Idempotency-Key")


def json_body() -> dict:
    """The request's JSON object (an API call's body); anything else is a 400, and so is a key
    or a string value anywhere in it holding a lone surrogate (JSON's ``"\\ud800"`` escapes
    decode to one): it is no text, and no database can store it."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON decoder goes
        raise ServiceError("the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ServiceError("the request body must be a JSON object")
    if (path := _lone_surrogate_at(data)) is not None:
        raise ServiceError(f"{path} is not valid text: it holds a lone surrogate (U+D800 to U+DFFF)", field=path)
    return data


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate_at(data: dict) -> str | None:
    """The path (``comment``, ``parts[0].role``) of the first key or string of ``data`` holding a
    lone surrogate, the surrogate written as an escape; None if there is none. Walked without
    recursion: the decoder nests deeper than Python recurses."""
    pending: list[tuple[str, object]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key in value:
                if _SURROGATE.search(key):
                    return _escaped(f"{path}.{key}" if path else key)
            pending += reversed([(f"{path}.{key}" if path else key, item) for key, item in value.items()])
        elif isinstance(value, list):
            pending += reversed([(f"{path}[{index}]", item) for index, item in enumerate(value)])
    return None


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
