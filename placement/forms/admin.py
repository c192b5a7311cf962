from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from solver.model import US_STATES

from ..models import ORG_KINDS, ROLES
from .fields import MAX_ID


class InviteForm(FlaskForm):
    organisation_id = SelectField("Organisation", coerce=int)
    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=[(r, r.capitalize()) for r in ROLES])


class OrganisationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField("Kind", choices=[(k, k.replace("_", " ").capitalize()) for k in ORG_KINDS])
    state = SelectField("State served", choices=[(s, s) for s in US_STATES])


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token protects one-button actions."""


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (a GET form changes nothing)."""

    class Meta:
        csrf = False

    action = SelectField("Action", default="")
    actor_email = StringField("Actor e-mail contains", validators=[Optional(), Length(max=254)])
    object_type = SelectField("Object type", default="")
    object_id = IntegerField("Object id", validators=[Optional(), NumberRange(0, MAX_ID)])
    date_from = DateField("From (your time zone)", validators=[Optional()])
    date_to = DateField("To (inclusive)", validators=[Optional()])

    def set_choices(self, actions: list[str], object_types: list[str]) -> None:
        """Offer only values present in the log, so anything else is refused as a bad choice."""
        self.action.choices = [("", "Any action")] + [(a, a) for a in actions]
        self.object_type.choices = [("", "Any type")] + [(t, t) for t in object_types]

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def query_args(self) -> dict[str, str]:
        """The submitted filter values, to carry into page and export links."""
        return {name: field.raw_data[0] for name, field in self._fields.items() if field.raw_data and field.raw_data[0]}
