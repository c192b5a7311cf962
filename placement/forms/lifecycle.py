"""Forms for the end of a placement and for missing-from-care episodes.

Operators and caseworkers share the ending and missing forms; the report,
return and screening forms are the caseworker's. Times are typed in the user's
own zone (`datetime-local`) and converted to UTC with `timeutil.from_local`.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..models import (
    DECLINE_REASONS,
    DISRUPTION_REASONS,
    LOCATED_BY,
    MISSING_REPORT_KINDS,
    PLACEMENT_END_REASONS,
    SCREENING_EXPLOITED,
    SCREENING_HEALTH,
    SCREENING_SERVICES,
)
from .fields import MultiCheckboxField, within_years

TIME_FORMAT = "%Y-%m-%dT%H:%M"
TIME_MESSAGE = "Enter a date and time."


def _when(label: str, required: bool = True) -> DateTimeLocalField:
    validators = [DataRequired(TIME_MESSAGE)] if required else [Optional()]
    return DateTimeLocalField(label, format=TIME_FORMAT, validators=[*validators, within_years])


class EndPlacementForm(FlaskForm):
    reason = SelectField("How did the placement end?", choices=[(k, v) for k, v in PLACEMENT_END_REASONS.items() if k != "missing"])
    ended_at = _when("When (leave empty for now)", required=False)
    disruption_reason = SelectField(
        "If the home asked for the transfer, why?",
        choices=[("", "Not a disruption")] + [(k, DECLINE_REASONS[k]) for k in DISRUPTION_REASONS], default="",
    )
    note = StringField("Note (optional, no names)", validators=[Optional(), Length(max=300)])


class MissingForm(FlaskForm):
    last_seen_at = _when("Last seen (your local time)")


class ReportForm(FlaskForm):
    kind = SelectField("Report to", choices=list(MISSING_REPORT_KINDS.items()))
    made_at = _when("Reported at (your local time)")
    report_number = StringField("Report or case number", validators=[DataRequired("Enter the number you were given."), Length(max=60)])
    made_by = StringField("Made by (name and role)", validators=[DataRequired("Say who made the report."), Length(max=120)])


class LocatedForm(FlaskForm):
    located_at = _when("Located at (your local time)")
    located_county = StringField("County where located (county only)", validators=[DataRequired("Enter the county."), Length(max=80)])
    located_by = SelectField("Located by", choices=list(LOCATED_BY.items()))


class ScreeningForm(FlaskForm):
    """Every answer is required; the service refuses an incomplete screening with field messages."""

    exploited = SelectField("Was the youth exploited while missing?", choices=[("", "Choose…")] + list(SCREENING_EXPLOITED.items()), default="")
    health = SelectField("Health needs on return", choices=[("", "Choose…")] + list(SCREENING_HEALTH.items()), default="")
    services = MultiCheckboxField("Services offered", choices=list(SCREENING_SERVICES.items()))
    reopen = BooleanField("Reopen the referral with urgency raised (the youth needs a placement)", default=True)
