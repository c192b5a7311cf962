"""Forms operators fill in: a home's profile and tonight's availability."""
from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from solver.instance import US_STATES

from ..models import DECLINE_REASONS, INTAKE_DOCUMENT_KINDS
from ..vocabulary import (
    CULTURAL_SERVICE_LABELS,
    GENDER_LABELS,
    LANGUAGE_LABELS,
    LEVEL_LABELS,
    PROGRAM_LABELS,
    SUBSTANCE_SUPPORT_LABELS,
    choices,
)
from .alerts import OnCallForm
from .fields import MAX_ID, MultiCheckboxField, SafeBedForm
from .places import PlaceFormMixin, place_field

WHOLE = "Enter a whole number."


class HomeForm(PlaceFormMixin, SafeBedForm):
    place_needs_city = True

    name = StringField("Home name", validators=[DataRequired(), Length(max=120)])
    program = SelectField("Program type", choices=choices(PROGRAM_LABELS))
    state = SelectField("State", choices=[(s, s) for s in US_STATES])
    place = place_field("Where is the home?", "Its city or ZIP code, e.g. Columbia or 65201: caseworkers see the city and county, never the address.")
    street_address = StringField(
        "Street address (confidential)", validators=[DataRequired(), Length(max=200)],
        description="Shown only to your staff and to the caseworker of a placement you accepted.",
    )
    contact_phone = StringField("Intake phone", validators=[Optional(), Length(max=40), Regexp(r"^[0-9+() .-]*$", message="Use digits, spaces and + ( ) - only.")])
    licensed_beds = IntegerField("Licensed beds", validators=[NumberRange(0, 500)], render_kw={"inputmode": "numeric"})
    min_age = IntegerField("Youngest age accepted", validators=[NumberRange(0, 21, "Ages run from 0 to 21.")])
    max_age = IntegerField("Oldest age accepted", validators=[NumberRange(0, 21, "Ages run from 0 to 21.")])
    genders = MultiCheckboxField("Genders served", choices=choices(GENDER_LABELS))
    accepts_pregnant = BooleanField("Accepts pregnant youth")
    accepts_parenting = BooleanField("Accepts parenting youth with their child")
    substance_use_support = SelectField("Substance-use support", choices=choices(SUBSTANCE_SUPPORT_LABELS))
    medical_level = SelectField("Highest medical need served", choices=choices(LEVEL_LABELS), coerce=int)
    mental_health_level = SelectField("Highest mental-health acuity served", choices=choices(LEVEL_LABELS), coerce=int)
    languages = MultiCheckboxField("Languages spoken by staff", choices=choices(LANGUAGE_LABELS))
    cultural_services = MultiCheckboxField("Culturally specific care", choices=choices(CULTURAL_SERVICE_LABELS))
    accepts_out_of_state = BooleanField("Accepts out-of-state youth with ICPC approval")
    # ICWA: the choices are the coordinators' tribe list, set by the view (`set_tribes`).
    tribal_approvals = MultiCheckboxField("Licensed or approved by these tribes (ICWA)", choices=[])
    native_serving = BooleanField("Native-serving home (an Indian foster home, or run by an Indian organisation)")
    intake_documents = MultiCheckboxField("Documents we need at intake (the caseworker's checklist)",
                                          choices=list(INTAKE_DOCUMENT_KINDS.items()))
    is_active = BooleanField("Accepting referrals (uncheck to pause the home)", default=True)

    def set_tribes(self, names: list[str]) -> "HomeForm":
        """Offer the coordinators' tribe list (and any tribe the home already names)."""
        kept = [n for n in (self.tribal_approvals.data or []) if n not in names]
        self.tribal_approvals.choices = [(n, n) for n in [*names, *kept]]
        return self

    def values(self) -> dict:
        """The validated values, normalised for the service layer."""
        data = {name: field.data for name, field in self._fields.items() if name not in ("csrf_token", "place")}
        data["tribal_approvals"] = list(data.get("tribal_approvals") or [])
        for text in ("name", "street_address", "contact_phone"):
            data[text] = (data[text] or "").strip()
        data.update(self.place_values())  # county, city, state, lat, lon: derived, never typed
        return data


class AvailabilityForm(SafeBedForm):
    open_beds = IntegerField("Open beds tonight", validators=[NumberRange(0, 500, "Enter 0 or more.")], render_kw={"inputmode": "numeric"})
    staff_on_duty = IntegerField("Staff on duty", validators=[NumberRange(0, 200, "Enter 0 or more.")], render_kw={"inputmode": "numeric"})
    youth_per_staff = IntegerField("Youths per staff member", validators=[NumberRange(1, 50, "At least 1.")], render_kw={"inputmode": "numeric"})
    current_youth = IntegerField("Youths in the home now", validators=[NumberRange(0, 500, "Enter 0 or more.")], render_kw={"inputmode": "numeric"})
    note = StringField("Note for your team (optional)", validators=[Optional(), Length(max=200)])


class TonightForm(AvailabilityForm, OnCallForm):
    """The "Update tonight" page: the figures, and who is on call for intake tonight."""


class OfferForm(SafeBedForm):
    """Offer a bed at one of the operator's homes to a youth in the queue."""

    home_id = IntegerField("Home", validators=[DataRequired(), NumberRange(1, MAX_ID)])


class DeclineForm(SafeBedForm):
    reason = SelectField("Reason", choices=list(DECLINE_REASONS.items()))
    note = StringField("Note (optional, no names)", validators=[Optional(), Length(max=300)])
