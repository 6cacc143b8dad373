"""Query parameters the pages and downloads share."""

from __future__ import annotations

from flask import request

TRUE = ("1", "true", "on", "yes")


def flag(name: str) -> bool:
    """A yes/no query parameter (``?bom=1``, a checked checkbox): absent means no."""
    return request.args.get(name, "").strip().lower() in TRUE
