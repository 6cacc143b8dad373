"""Who may do what, and who acts.

Every service function takes the acting user second: the signed-in User on the web, SYSTEM on
the command line (whoever runs it owns the database). annotator.db's ``writes``/``reads``
check the role the function needs before it runs; functions that annotate also check the
user's own assignment to the document, and every project a supervisor reaches (by its id, or
a document's or an assignment's) is checked for their membership (services.projects).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from ..errors import Forbidden

if TYPE_CHECKING:
    from ..models import User

ADMINS = ("admin",)
SUPERVISORS = ("admin", "supervisor")
ANYONE = ("admin", "supervisor", "annotator")  # any active account


class System:
    """The command line's actor: it may do what an admin may, and the audit log records its
    changes with no user (``id`` None)."""

    id = None
    username = "system"
    role = "admin"
    active = True

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = System()
Actor = Union["User", System]


def require_role(actor: Actor, roles: tuple[str, ...]) -> None:
    if actor is None or not actor.active or actor.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}")


def is_system(actor: Actor) -> bool:
    return actor is SYSTEM


def sees_every_project(actor: Actor) -> bool:
    """Admins (and SYSTEM) see every project; a supervisor only the projects they are a member
    of (annotator.services.projects.sees_project); an annotator only the documents assigned
    to them."""
    return actor.role == "admin"
