"""What the pages' forms share: run the change, commit, say what happened, go back."""

from __future__ import annotations

from flask import flash, redirect

from ..db import db
from ..errors import Forbidden, NotFound, ServiceError


def finish_form(back: str, action, message) -> object:
    """Run a form's change, commit, flash what happened (or why not) and go back."""
    try:
        result = action()
        db.session.commit()
        flash(message(result) if callable(message) else message, "info")
    except (Forbidden, NotFound):
        raise
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(back)
