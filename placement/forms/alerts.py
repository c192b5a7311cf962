"""Forms of the alert pages: a user's alert settings, tonight's on-call contact, escalations."""
from __future__ import annotations

from wtforms import EmailField, RadioField, StringField, TimeField
from wtforms.validators import Email, Length, Optional

from ..models import ALERT_CHANNELS, ALERT_EVENTS
from .fields import MultiCheckboxField, SafeBedForm


def minutes_of_day(value) -> int | None:
    """A time of day as minutes after midnight (how quiet hours are stored)."""
    return None if value is None else value.hour * 60 + value.minute


class AlertSettingsForm(SafeBedForm):
    channel = RadioField("How should alerts reach you?", choices=list(ALERT_CHANNELS.items()), default="email")
    events = MultiCheckboxField("Alert me when", choices=list(ALERT_EVENTS.items()))
    quiet_start = TimeField("Quiet from", validators=[Optional()])
    quiet_end = TimeField("Quiet until", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        # Across two optional fields: an empty field's Optional() stops its own validators.
        valid = super().validate(extra_validators)
        start, end = self.quiet_start.data, self.quiet_end.data
        if (start is None) != (end is None):
            self.quiet_end.errors.append("Give both the start and the end of quiet hours, or neither.")
            return False
        if start is not None and start == end:
            self.quiet_end.errors.append("Quiet hours must end at another time than they start.")
            return False
        return valid


class OnCallForm(SafeBedForm):
    """Tonight's intake on-call contact: both fields, or neither (keep the current one)."""

    on_call_name = StringField("On-call contact tonight (name)", validators=[Optional(), Length(max=120)])
    on_call_email = EmailField("On-call e-mail", validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
                               description="Gets new requests and reminders for this home until tomorrow night.")

    def validate(self, extra_validators=None) -> bool:
        # Across two optional fields: an empty field's Optional() stops its own validators.
        valid = super().validate(extra_validators)
        if bool((self.on_call_name.data or "").strip()) != bool((self.on_call_email.data or "").strip()):
            self.on_call_email.errors.append("Give the on-call contact's name and e-mail, or leave both empty.")
            return False
        return valid


class ResolveEscalationForm(SafeBedForm):
    note = StringField("Note for the caseworker (no names)", validators=[Optional(), Length(max=200)])


class AskCoordinatorForm(SafeBedForm):
    """One button ("Ask the coordinator"); its CSRF token protects it."""
