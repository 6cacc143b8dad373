"""Who may do what. The service layer calls these on every read and write it guards."""

from __future__ import annotations

from .errors import Forbidden
from .models import User

ADMINS = ("admin",)
SUPERVISORS = ("admin", "supervisor")


def require_role(user: User, roles: tuple[str, ...]) -> None:
    if user is None or not user.active or user.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)}")


def require_supervisor(user: User) -> None:
    require_role(user, SUPERVISORS)


def require_admin(user: User) -> None:
    require_role(user, ADMINS)
