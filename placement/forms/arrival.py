"""Forms from request to arrival: consent, the handoff and the intake packet (caseworkers,
operators, and the API through `placement.api.bodies`). Times are typed in the user's own
zone (`datetime-local`) and converted to UTC with `timeutil.from_local`."""
from __future__ import annotations

import re

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

from ..models import INTAKE_DOCUMENT_KINDS
from .fields import SafeBedForm, within_years
from .lifecycle import _when


class ConsentReleaseForm(SafeBedForm):
    youth_assented = BooleanField("The youth assents to the placement search and to sharing this information")
    recipients = StringField("Who may receive it (e.g. the accepting home's intake staff)",
                             validators=[DataRequired("Say who may receive the information."), Length(max=300)])
    information = StringField("What may be released (e.g. needs, custody order, medical consent)",
                              validators=[DataRequired("Say what may be released."), Length(max=300)])
    signed_at = _when("Signed at (your local time)")
    expires_at = _when("Expires at (your local time)")


class ConsentOverrideForm(SafeBedForm):
    reason = TextAreaField("Why the request must go without consent",
                           validators=[DataRequired("Say why the request must go without consent."), Length(max=500)])
    approved_by = StringField("Approved by (supervisor's name and role)",
                              validators=[DataRequired("Name the supervisor who approved the override."), Length(max=120)])


class DepartureForm(SafeBedForm):
    escort_name = StringField("Escort (the agency staff member's name, never the youth's)",
                              validators=[DataRequired("Name the staff member escorting the youth."), Length(max=120)])
    departed_at = _when("Departed at (your local time)")
    expected_arrival_at = _when("Expected arrival (your local time)")


class ArrivedForm(SafeBedForm):
    arrived_at = _when("Arrived at (leave empty for now)", required=False)


class MissedArrivalForm(SafeBedForm):
    """One tap: the missing episode starts at the departure time."""

    note = StringField("Note (optional, no names)", validators=[Optional(), Length(max=200)])


class DocumentForm(SafeBedForm):
    """One intake-packet document; the type is checked by content in the service."""

    kind = SelectField("What is it?", choices=list(INTAKE_DOCUMENT_KINDS.items()))
    expires_on = DateField("Expires on (optional)", validators=[Optional(), within_years])
    file = FileField("File (PDF, JPEG or PNG, up to 10 MB)", validators=[FileRequired("Choose a file to attach.")])


BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class Base64Field(Field):
    """A file's bytes as base64 text. Not prose, so the shared 1,000-character text rule does
    not apply; only the base64 alphabet passes (which refuses every control character)."""

    widget = TextInput()

    def _value(self) -> str:
        return ""

    def process_formdata(self, valuelist):
        self.data = valuelist[0] if valuelist else None

    def pre_validate(self, form):
        if self.data and not BASE64.fullmatch(self.data):
            raise ValidationError("Send the file's content as base64 (A-Z, a-z, 0-9, + and /).")


class DocumentBody(SafeBedForm):
    """The API's document upload: the file as base64 in JSON (the page posts a multipart file)."""

    kind = SelectField("What is it?", choices=list(INTAKE_DOCUMENT_KINDS.items()))
    expires_on = DateField("Expires on (optional)", validators=[Optional(), within_years])
    content_base64 = Base64Field("The file (PDF, JPEG or PNG, up to 10 MB), base64-encoded",
                                 validators=[DataRequired("Send the file's content."), Length(max=14_000_000)])
