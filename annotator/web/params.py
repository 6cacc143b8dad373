"""What requests carry, read the one way every page, download and API endpoint shares."""

from __future__ import annotations

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


def json_body() -> dict:
    """The request's JSON object (an API call's body); anything else is a 400."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON decoder goes
        raise ServiceError("the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ServiceError("the request body must be a JSON object")
    return data
