"""What the pages' forms share: run the change, say what happened (or why not), go back."""

from __future__ import annotations

from flask import flash, redirect
from flask_wtf import FlaskForm

from ..errors import Forbidden, NotFound, ServiceError


def finish_form(back: str, action, message) -> object:
    """Run a form's change (a service call, which commits), flash what happened or why not,
    and go back. 403 and 404 go to the error page."""
    try:
        result = action()
        flash(message(result) if callable(message) else message, "info")
    except (Forbidden, NotFound):
        raise
    except ServiceError as error:
        flash(error.message, "error")
    return redirect(back)


def expected_problem(error: ServiceError) -> None:
    """Let 403 and 404 reach the error page; anything else is shown on the page it came from."""
    if isinstance(error, (Forbidden, NotFound)):
        raise error


def add_error(form: FlaskForm, error: ServiceError) -> None:
    """The service's complaint beside the field it names (else at the top of the form)."""
    field = getattr(form, error.field, None) if error.field else None
    (field.errors if field is not None else form.form_errors).append(error.message)
