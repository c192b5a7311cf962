"""Forms for the rules that protect a youth: keep-away areas, keep-apart youths, ICWA."""
from __future__ import annotations

from wtforms import BooleanField, DateField, FloatField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .. import gazetteer
from ..models import AREA_KINDS, NOTICE_METHODS, TRIBAL_STATUSES
from .caseworker import STATE_CHOICES
from .fields import SafeBedForm, finite, within_years

AREA_HINT = ("A county (Jackson County), a ZIP code (64106), or for a radius a city or county to measure from. "
             "Pick from the list; only your agency and the coordinators ever see it.")


class KeepAwayForm(SafeBedForm):
    """One area the youth must stay away from, picked by name like every place in SafeBed."""

    kind = SelectField("Kind of area", choices=list(AREA_KINDS.items()), default="county")
    state = SelectField("State", choices=STATE_CHOICES)
    place = StringField("County, ZIP code or place", validators=[DataRequired("Enter a county, ZIP code or place."), Length(max=120)],
                        description=AREA_HINT)
    radius_km = FloatField("Radius in km (for an area around a place)", validators=[Optional(), finite, NumberRange(1, 1000, "Between 1 and 1000 km.")],
                           render_kw={"inputmode": "decimal"})
    found: gazetteer.Place | None = None

    def validate_place(self, field) -> None:
        matches = gazetteer.find(field.data or "", self.state.data or "")
        if not matches:
            raise ValidationError(f"No county, city or ZIP code \u201c{field.data}\u201d in {self.state.data}. Check the spelling or pick from the list.")
        if len(matches) > 1:
            raise ValidationError("Several places match: " + "; ".join(p.label for p in matches[:5]) + ". Pick one of them.")
        place = matches[0]
        if self.kind.data == "zip" and not place.zip_code:
            raise ValidationError("Enter a five-digit ZIP code for a ZIP-code area.")
        if self.kind.data == "county" and (place.city or place.zip_code):
            raise ValidationError(f"Pick the county itself, e.g. {place.county_label}.")
        self.found = place

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Optional() ends the radius field's own checks when it is empty: say it here.
        if self.kind.data == "radius" and self.radius_km.data is None and not self.radius_km.errors:
            self.radius_km.errors = [*self.radius_km.errors, "Give the radius in km around the place."]
            valid = False
        return valid

    def values(self) -> dict:
        place = self.found
        radius = self.radius_km.data if self.kind.data == "radius" else None
        label = place.label if radius is None else f"within {radius:g} km of {place.label}"
        return {"kind": self.kind.data, "state": place.state, "county": place.county, "zip_code": place.zip_code or "",
                "label": label, "lat": round(place.lat, 2), "lon": round(place.lon, 2), "radius_km": radius}


class KeepApartForm(SafeBedForm):
    """Another youth of the caseworker's own agency, named by case reference."""

    case_reference = StringField("Case reference of the youth to keep apart", validators=[DataRequired(), Length(3, 40)],
                                 description="A referral of your own agency. A coordinator can link youths across agencies.")


class CoordinatorLinkForm(SafeBedForm):
    """A coordinator's link to a youth of any agency in the state."""

    agency_id = SelectField("Agency of the other youth", coerce=int)
    case_reference = StringField("Case reference of the other youth", validators=[DataRequired(), Length(3, 40)],
                                 description="The caseworker of this referral will see that a link exists, never the other case.")


class IcwaForm(SafeBedForm):
    """ICWA: whether it applies, the tribe, membership, and the notice to the tribe."""

    icwa_applies = BooleanField("The Indian Child Welfare Act applies")
    tribe = StringField("Tribe", validators=[Optional(), Length(max=120)],
                        description="From the list the coordinators keep (start typing). Ask a coordinator to add a missing tribe.")
    tribal_status = SelectField("Membership", choices=[("", "Not known")] + list(TRIBAL_STATUSES.items()), default="")
    tribe_notice_on = DateField("Tribe notified on", validators=[Optional(), within_years])
    tribe_notice_method = SelectField("How the notice was sent", choices=[("", "Not sent yet")] + list(NOTICE_METHODS.items()), default="")

    def values(self) -> dict:
        return {"icwa_applies": bool(self.icwa_applies.data), "tribe": (self.tribe.data or "").strip(),
                "tribal_status": self.tribal_status.data or "", "tribe_notice_on": self.tribe_notice_on.data,
                "tribe_notice_method": self.tribe_notice_method.data or ""}


class TribeForm(SafeBedForm):
    name = StringField("Tribe's name", validators=[DataRequired(), Length(3, 120)],
                       description="As the tribe names itself, e.g. Osage Nation.")
