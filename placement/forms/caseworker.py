"""The referral form: a youth's needs, never their name."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from solver.model import US_STATES

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
from .fields import MAX_ID, MultiCheckboxField, finite

STATE_CHOICES = [(s, s) for s in US_STATES]


def _state_list(_form, field) -> None:
    codes = [code.strip().upper() for code in (field.data or "").replace(";", ",").split(",") if code.strip()]
    unknown = [code for code in codes if code not in US_STATES]
    if unknown:
        raise ValidationError(f"Unknown state code: {', '.join(unknown)}. Use two-letter codes like KS, IL.")
    field.data = sorted(set(codes))


class ReferralForm(FlaskForm):
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
    county = StringField("Current county", validators=[DataRequired(), Length(max=80)])
    lat = FloatField("Current latitude (approximate)", validators=[DataRequired(), finite, NumberRange(-90, 90)], render_kw={"inputmode": "decimal"})
    lon = FloatField("Current longitude (approximate)", validators=[DataRequired(), finite, NumberRange(-180, 180)], render_kw={"inputmode": "decimal"})
    max_distance_km = FloatField("Farthest acceptable distance in km (optional)", validators=[Optional(), finite, NumberRange(1, 5000)])
    sibling_group = StringField(
        "Sibling group (optional)", validators=[Optional(), Length(max=40), Regexp(r"^[A-Za-z0-9/_.-]*$", message="No spaces.")],
        description="The same code on siblings' referrals asks for them to be placed together.",
    )
    case_notes = TextAreaField("Case notes (your agency only)", validators=[Optional(), Length(max=2000)])

    def values(self) -> dict:
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        data["case_reference"] = data["case_reference"].strip()
        data["cultural_need"] = data["cultural_need"] or None
        data["sibling_group"] = (data["sibling_group"] or "").strip() or None
        data["county"] = data["county"].strip()
        data["case_notes"] = (data["case_notes"] or "").strip()
        data["lat"], data["lon"] = round(data["lat"], 2), round(data["lon"], 2)
        return data


class CloseForm(FlaskForm):
    reason = StringField("Why close it?", validators=[DataRequired(), Length(max=200)])


class HomeChoiceForm(FlaskForm):
    """Hold or request a bed at one home (the home id comes from the search result)."""

    home_id = IntegerField(validators=[DataRequired(), NumberRange(1, MAX_ID)])

