"""The place picker's lookups (JSON for static/js/places.js): a state's counties and
cities, the places a typed text names, and the place nearest a phone's position.

Read-only lookups in the offline gazetteer: no database, nothing about any youth or home.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from . import gazetteer
from .access import roles_required
from .database import get_session
from .models import Organisation

bp = Blueprint("places", __name__, url_prefix="/places")
PICKER_ROLES = ("caseworker", "operator")


@bp.get("/")
@roles_required(*PICKER_ROLES)
def suggest():
    """`?state=MO` lists the state's counties and cities; `&q=colu` narrows them."""
    state = request.args.get("state", "")[:2].upper()
    text = request.args.get("q", "")[:80]
    found = [place.label for place in gazetteer.find(text, state)] if text.strip() else list(gazetteer.labels(state))
    return jsonify(places=found)


@bp.get("/near/<float(signed=True):lat>/<float(signed=True):lon>")
@roles_required(*PICKER_ROLES)
def near(lat: float, lon: float):
    """The city nearest a phone's position ("use my location"); 404 when none is near."""
    place = gazetteer.nearest(lat, lon) if abs(lat) <= 90 and abs(lon) <= 180 else None
    if place is None:
        abort(404)
    return jsonify(place=place.label, state=place.state)


def own_state() -> str:
    """The signed-in user's organisation's state: where a new referral's or home's place
    is looked for first."""
    return get_session().get(Organisation, current_user.organisation_id).state
