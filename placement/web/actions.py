"""The one way a page runs an action: call a service; on a refusal change nothing and say why.

`perform` runs the service call. If the service raises `ServiceError`, the
session is rolled back, the service's per-field messages land on the form and
its message is flashed; otherwise the success message is flashed. `submit`
first validates the form. Either returns an `Outcome`, and the view only
chooses what to show next.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import flash

from ..database import get_session
from ..services.errors import ServiceError

CORRECT_FIELDS = "Please correct the highlighted fields."

# A success message: fixed text, or made from what the service returned.
Success = str | Callable[[Any], str] | None


@dataclass(frozen=True)
class Outcome:
    """What became of a page action: `done` with the service's `value`, or refused
    (`error`), or never run because the form was not valid (`invalid`)."""

    done: bool
    value: Any = None
    error: ServiceError | None = None
    invalid: bool = False

    @property
    def status(self) -> int:
        """The status to show the page again with: 422 for an invalid form or a plain
        refusal, a refusal's own status otherwise (409 when the world changed)."""
        if self.error is not None:
            return 422 if self.error.status == 400 else self.error.status
        return 422 if self.invalid else 200


def perform(action: Callable[[], Any], success: Success = None, *, form=None,
            commit: bool = False, tell: bool = True) -> Outcome:
    """Run `action()`; flash `success` when it returns, or handle its refusal.

    `commit` commits after the action (for services that leave it to the caller);
    `tell=False` keeps a refusal's message off the page when the form's field
    messages already say it all.
    """
    session = get_session()
    try:
        value = action()
        if commit:
            session.commit()
    except ServiceError as error:
        session.rollback()
        if form is not None:
            apply_service_errors(form, error.fields)
        if tell:
            flash(error.message, "error")
        return Outcome(done=False, error=error)
    if success is not None:
        flash(success(value) if callable(success) else success, "success")
    return Outcome(done=True, value=value)


def submit(form, action: Callable[[], Any], success: Success = None, *, invalid_message: str | None = None,
           **options) -> Outcome:
    """`perform` once `form` was submitted and is valid; a submitted form that is not
    valid flashes `invalid_message` (when given). `options` go to `perform`."""
    if form.validate_on_submit():
        return perform(action, success, form=form, **options)
    submitted = form.is_submitted()
    if submitted and invalid_message:
        flash(invalid_message, "error")
    return Outcome(done=False, invalid=submitted)


def form_status(form) -> int:
    """A form page's status: 422 while the form shows errors, else 200."""
    return 422 if form.errors else 200


def apply_service_errors(form, fields: dict[str, str]) -> None:
    """Attach a service's per-field messages to the form so the page shows them."""
    for name, message in fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
