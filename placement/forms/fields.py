"""Form building blocks shared by every audience's forms."""
from __future__ import annotations

import math

from wtforms import SelectMultipleField, widgets
from wtforms.validators import ValidationError

# Ids are 32-bit INTEGER columns on PostgreSQL: larger numbers in a URL or a
# form are refused before they reach a query.
MAX_ID = 2**31 - 1


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; easier to tap on a phone than a multi-select."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def finite(_form, field) -> None:
    """Refuse NaN and infinity, which NumberRange lets through."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError("Enter a real number.")


FIRST_YEAR, LAST_YEAR = 1900, 2100


def within_years(_form, field) -> None:
    """Refuse dates and times far in the past or future: besides meaning nothing here,
    year 1 or 9999 overflows when shifted between a user's time zone and UTC (a 500)."""
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")

