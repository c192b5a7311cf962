"""Small builders for solver tests: a home and a referral that fit each other by default."""
from __future__ import annotations

import dataclasses

from solver.instance import Home, Instance, Location, Referral

COLUMBIA = Location(38.95, -92.33)  # Columbia, MO
KANSAS_CITY = Location(39.10, -94.58)


def home(id: str = "h1", **changes) -> Home:
    """A Missouri crisis home with room for 2 that accepts the default referral."""
    base = Home(
        id=id, state="MO", location=COLUMBIA, program="crisis_stabilization", open_beds=2,
        current_youth=2, staff_on_duty=2, youth_per_staff=2, ages=(12, 17), genders=("female",),
        accepts_pregnant=False, accepts_parenting=False, substance_use_support="none",
        medical_level=1, mental_health_level=2, languages=("en",), cultural_services=(),
        accepts_out_of_state=False,
    )
    return dataclasses.replace(base, **changes)


def referral(id: str = "r1", **changes) -> Referral:
    """A 15-year-old Missouri ward, emergency, who fits `home()`."""
    base = Referral(
        id=id, custody_state="MO", location=KANSAS_CITY, age=15, gender="female",
        urgency="emergency", pregnant=False, children_with=0, substance_use="none",
        medical_level=0, mental_health_level=1, language="en", cultural_need=None,
        icpc_approved_states=(), programs=(), max_distance_km=None, sibling_group=None,
    )
    return dataclasses.replace(base, **changes)


def instance(homes=(), referrals=()) -> Instance:
    return Instance(homes=tuple(homes), referrals=tuple(referrals))
