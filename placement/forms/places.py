"""The place picker's field: county, city or ZIP code, resolved by the offline gazetteer."""
from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from .. import gazetteer

PLACE_HINT = "A county, city or ZIP code, e.g. Boone County, Columbia or 65201. Pick from the list or use your location."


def place_field(label: str, hint: str = PLACE_HINT) -> StringField:
    """A text field for a place; the form's `resolve_place` turns it into a gazetteer Place."""
    return StringField(label, validators=[DataRequired("Enter a county, city or ZIP code."), Length(max=120)], description=hint)


def resolve_place(field, state: str, need_city: bool = False) -> gazetteer.Place:
    """The one place `field`'s text names in `state` (a ZIP code or ', XX' may name another).

    Raises ValidationError saying what to do: nothing found, several found (named), or
    a county where a city is needed.
    """
    found = gazetteer.find(field.data or "", state or "")
    if not found:
        raise ValidationError(f"No county, city or ZIP code \u201c{field.data}\u201d in {state}. Check the spelling or pick from the list.")
    if len(found) > 1:
        raise ValidationError("Several places match: " + "; ".join(p.label for p in found[:5]) + ". Pick one of them.")
    place = found[0]
    if need_city and not place.city:
        raise ValidationError("Pick a city or ZIP code: caseworkers see the home's city.")
    return place


def place_label(county: str, state: str, lat: float, lon: float) -> str:
    """What the picker shows for a stored place: the nearest city if it lies in the stored
    county, else the county in `state`."""
    near = gazetteer.nearest(lat, lon)
    if near is not None and near.county == county:
        return near.label
    return gazetteer.Place(state, county, lat, lon).label


class PlaceFormMixin:
    """For a form with a `place` field: resolves it in the state chosen in
    `place_state_field` on validation; `place_values()` gives county, city, state, lat and
    lon. An edited record's place (`kept_place`, the same keys) stays as it is while the
    field is left as shown, so saving an untouched form moves nothing."""

    place_state_field = "state"
    place_needs_city = False
    kept_place: dict | None = None
    found_place: gazetteer.Place | None = None

    def validate_place(self, field) -> None:
        if self.kept_place is None or field.data != field.object_data:
            state = getattr(self, self.place_state_field).data
            self.found_place = resolve_place(field, state, self.place_needs_city)

    def place_choices(self) -> tuple[str, ...]:
        """The picker's list: every county and city of the state chosen in the form."""
        return gazetteer.labels(getattr(self, self.place_state_field).data or "")

    def place_values(self) -> dict:
        found = self.found_place
        if found is None:
            return dict(self.kept_place)
        # About 1 km: as precise as a place needs to be, and no more.
        return {"county": found.county, "city": found.city, "state": found.state, "lat": round(found.lat, 2), "lon": round(found.lon, 2)}
