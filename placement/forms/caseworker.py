"""The referral form: a youth's needs, never their name."""
from __future__ import annotations

from wtforms import BooleanField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from solver.instance import US_STATES

from ..models import OFFER_DECLINE_REASONS
from ..vocabulary import (
    CULTURAL_SERVICE_LABELS,
    GENDER_LABELS,
    LANGUAGE_LABELS,
    LEVEL_LABELS,
    PROGRAM_LABELS,
    SUBSTANCE_USE_LABELS,
    URGENCY_LABELS,
    choices,
)
from ..services.steering import SORT_LABELS, Steering
from .fields import MAX_ID, MultiCheckboxField, SafeBedForm, finite
from .places import PlaceFormMixin, place_field

STATE_CHOICES = [(s, s) for s in US_STATES]


def state_codes(text: str | None) -> list[str]:
    """'ks; il , KS' -> ['IL', 'KS']: the two-letter codes a list field holds."""
    return sorted({code.strip().upper() for code in (text or "").replace(";", ",").split(",") if code.strip()})


def _state_list(_form, field) -> None:
    # The field keeps the text as typed (a list in it would come back as "[]" after an error).
    unknown = [code for code in state_codes(field.data) if code not in US_STATES]
    if unknown:
        raise ValidationError(f"Unknown state code: {', '.join(unknown)}. Use two-letter codes like KS, IL.")


class ReferralFields(SafeBedForm):
    """A youth's needs and jurisdiction: what the page form and the API body share."""

    case_reference = StringField(
        "Case reference",
        validators=[DataRequired(), Length(3, 40), Regexp(r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$", message="Letters, digits and - / _ . only; no spaces.")],
        description="Your agency's case number. Never the youth's name.",
    )
    urgency = SelectField("Urgency", choices=choices(URGENCY_LABELS))
    age = IntegerField("Age", validators=[NumberRange(0, 21, "Ages run from 0 to 21.")], render_kw={"inputmode": "numeric"})
    gender = SelectField("Gender", choices=choices(GENDER_LABELS))
    pregnant = BooleanField("Pregnant")
    children_with = IntegerField("Children placed with the youth", default=0, validators=[NumberRange(0, 6, "Between 0 and 6.")], render_kw={"inputmode": "numeric"})
    substance_use = SelectField("Substance use", choices=choices(SUBSTANCE_USE_LABELS))
    medical_level = SelectField("Medical needs", choices=choices(LEVEL_LABELS), coerce=int)
    mental_health_level = SelectField("Mental-health acuity", choices=choices(LEVEL_LABELS), coerce=int)
    language = SelectField("Preferred language", choices=choices(LANGUAGE_LABELS))
    cultural_need = SelectField("Culturally specific care needed", choices=[("", "None")] + choices(CULTURAL_SERVICE_LABELS))
    has_run_before = BooleanField("Has run from a placement before")
    custody_state = SelectField("Custody state", choices=STATE_CHOICES)
    icpc_approved_states = StringField(
        "ICPC-approved other states", validators=[_state_list],
        description="Comma-separated codes, e.g. KS, IL. Leave empty if none.",
    )
    programs = MultiCheckboxField("Acceptable programs (none ticked: any)", choices=choices(PROGRAM_LABELS))
    max_distance_km = FloatField("Farthest acceptable distance in km (optional)", validators=[Optional(), finite, NumberRange(1, 5000)])
    sibling_group = StringField(
        "Sibling group (optional)", validators=[Optional(), Length(max=40), Regexp(r"^[A-Za-z0-9/_.-]*$", message="No spaces.")],
        description="The same code on siblings' referrals asks for them to be placed together.",
    )
    case_notes = TextAreaField("Case notes (your agency only)", validators=[Optional(), Length(max=2000)])

    def values(self) -> dict:
        """The validated values, normalised for the service layer (the location comes from `location()`)."""
        data = {name: field.data for name, field in self._fields.items() if name not in ("csrf_token", "place")}
        data.update(self.location())
        data["icpc_approved_states"] = state_codes(data["icpc_approved_states"])
        data["case_reference"] = data["case_reference"].strip()
        data["cultural_need"] = data["cultural_need"] or None
        data["sibling_group"] = (data["sibling_group"] or "").strip() or None
        data["case_notes"] = (data["case_notes"] or "").strip()
        return data

    def location(self) -> dict:
        raise NotImplementedError


class ReferralForm(PlaceFormMixin, ReferralFields):
    """The caseworker's page: the youth's place is picked (county, city or ZIP code), its
    coordinates derived, never typed."""

    place = place_field("Where is the youth now?")
    place_state_field = "custody_state"

    def location(self) -> dict:
        place = self.place_values()
        return {"county": place["county"], "lat": place["lat"], "lon": place["lon"]}


class ReferralBody(ReferralFields):
    """The API's referral body: integrations send the county and coarse coordinates."""

    county = StringField("Current county", validators=[DataRequired(), Length(max=80)])
    lat = FloatField("Current latitude (approximate)", validators=[DataRequired(), finite, NumberRange(-90, 90)])
    lon = FloatField("Current longitude (approximate)", validators=[DataRequired(), finite, NumberRange(-180, 180)])

    def location(self) -> dict:
        return {"county": self.county.data.strip(), "lat": round(self.lat.data, 2), "lon": round(self.lon.data, 2)}


class CloseForm(SafeBedForm):
    reason = StringField("Why close it?", validators=[DataRequired(), Length(max=200)])


class HomeChoiceForm(SafeBedForm):
    """Hold or request a bed at one home (the home id comes from the search result)."""

    home_id = IntegerField(validators=[DataRequired(), NumberRange(1, MAX_ID)])
    good_cause = TextAreaField("ICWA good cause (only for a home below the first preference step with room)",
                               validators=[Optional(), Length(max=500)])


class OfferAcceptForm(SafeBedForm):
    """Accept a home's offer of a bed (an ICWA youth below the first preference step needs the good cause)."""

    good_cause = TextAreaField("ICWA good cause (only for a home below the first preference step with room)",
                               validators=[Optional(), Length(max=500)])


class OfferDeclineForm(SafeBedForm):
    """Decline a home's offer of a bed, with a reason the home is told."""

    reason = SelectField("Reason", choices=list(OFFER_DECLINE_REASONS.items()))


class SearchSteerForm(SafeBedForm):
    """The bed search's order and filters: a GET form that changes nothing (no CSRF token)."""

    class Meta:
        csrf = False

    sort = SelectField("Order", choices=list(SORT_LABELS.items()), default="best")
    program = SelectField("Program", choices=[("", "Any program")] + choices(PROGRAM_LABELS), default="")
    within_km = IntegerField("Within (km)", validators=[Optional(), NumberRange(1, 5000, "Between 1 and 5000 km.")],
                             render_kw={"inputmode": "numeric"})
    open_now = BooleanField("Only homes with room tonight")

    def steering(self) -> Steering:
        """The choices as a Steering (call after validate(): invalid choices are the defaults)."""
        if self.errors:
            return Steering()
        return Steering(self.sort.data, self.program.data or None, bool(self.open_now.data), self.within_km.data)

