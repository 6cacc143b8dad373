"""Stable pseudonyms for annotators in everything that leaves the instance (exports, report
downloads): the same person has the same pseudonym in every download of a project, and it
cannot be traced back to the account without the instance's secret key."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(secret_key: str, project_id: int, user_id: int) -> str:
    """"a-" and 10 hex digits of HMAC-SHA256(secret key, "project:user")."""
    digest = hmac.new(secret_key.encode(), f"{project_id}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return "a-" + digest[:10]
