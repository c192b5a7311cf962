"""Coordinator forms: the state (admins), the report period, runs and approvals."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import NumberRange, Optional, ValidationError

from solver.model import US_STATES

from .fields import MAX_ID, within_years

STATE_CHOICES = [(s, s) for s in US_STATES]
MAX_PERIOD_DAYS = 3 * 366


class PeriodForm(FlaskForm):
    """The unmet-need report's period, from the query string (a GET form changes nothing)."""

    class Meta:
        csrf = False

    date_from = DateField("From", validators=[Optional(), within_years])
    date_to = DateField("To (inclusive)", validators=[Optional(), within_years])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data:
            if field.data < self.date_from.data:
                raise ValidationError("The end date is before the start date.")
            if (field.data - self.date_from.data).days > MAX_PERIOD_DAYS:
                raise ValidationError("Choose a period of at most three years.")


class StartRunForm(FlaskForm):
    """Start a matcher run; the state is the coordinator's own (admins choose one)."""

    state = SelectField("State", choices=STATE_CHOICES, validators=[Optional()], validate_choice=False)


class ApproveForm(FlaskForm):
    """Approve one proposal (`only`), the ticked ones, or every open one (`scope=all`)."""

    only = IntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    proposal_ids = SelectMultipleField(coerce=int, validate_choice=False)
    scope = SelectField(choices=[("selected", "selected"), ("all", "all")], default="selected", validate_choice=False)

    def validate_proposal_ids(self, field) -> None:
        if any(not 1 <= value <= MAX_ID for value in field.data or []):
            raise ValidationError("Unknown proposal.")

    def chosen(self) -> list[int] | None:
        """The proposal ids to approve; None means every open proposal of the run."""
        if self.only.data:
            return [self.only.data]
        if self.scope.data == "all":
            return None
        return list(self.proposal_ids.data or [])
