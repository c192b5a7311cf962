"""Form building blocks shared by every audience's forms."""
from __future__ import annotations

import math

from wtforms import SelectMultipleField, widgets
from wtforms.validators import ValidationError


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; easier to tap on a phone than a multi-select."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def finite(_form, field) -> None:
    """Refuse NaN and infinity, which NumberRange lets through."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError("Enter a real number.")


def apply_service_errors(form, fields: dict[str, str]) -> None:
    """Attach a service's per-field messages to the form so the page shows them."""
    for name, message in fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
