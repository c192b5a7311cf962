"""The matcher's data: homes, referrals and instances, and their JSON form (versions 1 and 2).

Version 2 adds the protective rules (docs/matcher.md): per referral `keep_away` (homes
inside county/ZIP areas, resolved before solving, and point + radius circles),
`keep_apart` (referral ids never proposed to one home, and homes where such a youth
already is) and `icwa` (the tribe, when the Indian Child Welfare Act applies); per home
`tribal_approvals` and `native_serving`. Version 1 instances still load unchanged.

Everything here is a frozen dataclass so that an instance can be shared between
threads and used as a dictionary key. `parse_instance` is the only way in from
JSON: it checks every field and raises `InstanceError` naming the first bad one,
so the solver never has to defend against malformed data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

VERSION = 2
VERSIONS = (1, 2)

PROGRAMS = ("crisis_stabilization", "short_term", "long_term", "transitional", "therapeutic_foster")
GENDERS = ("female", "male", "nonbinary")
URGENCIES = ("emergency", "urgent", "planned")  # most urgent first: the objective's order
SUBSTANCE_SUPPORT = ("none", "recovery", "detox")  # what a home offers
SUBSTANCE_USE = ("none", "recovery", "active")  # what a youth needs
LEVELS = (0, 1, 2, 3)  # medical and mental-health acuity, 0 = none
MIN_AGE, MAX_AGE = 0, 21
US_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
)


class InstanceError(ValueError):
    """A malformed instance. `field` is a path such as ``referrals[3].age``."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True)
class Circle:
    """A keep-away area given as a point and a radius: every home within it is excluded."""

    location: Location
    radius_km: float


@dataclass(frozen=True)
class Home:
    """One licensed site and tonight's availability."""

    id: str
    state: str
    location: Location
    program: str
    open_beds: int
    current_youth: int
    staff_on_duty: int
    youth_per_staff: int
    ages: tuple[int, int]
    genders: tuple[str, ...]
    accepts_pregnant: bool
    accepts_parenting: bool
    substance_use_support: str
    medical_level: int
    mental_health_level: int
    languages: tuple[str, ...]
    cultural_services: tuple[str, ...]
    accepts_out_of_state: bool
    # Version 2 (ICWA): tribes that license or approve the home, and whether it is a
    # Native-serving home (an Indian foster home, or run by an Indian organisation).
    tribal_approvals: tuple[str, ...] = ()
    native_serving: bool = False


@dataclass(frozen=True)
class Referral:
    """A caseworker's request to place one youth (and any children living with them)."""

    id: str
    custody_state: str
    location: Location
    age: int
    gender: str
    urgency: str
    pregnant: bool
    children_with: int
    substance_use: str
    medical_level: int
    mental_health_level: int
    language: str
    cultural_need: str | None
    icpc_approved_states: tuple[str, ...]
    programs: tuple[str, ...]
    max_distance_km: float | None
    sibling_group: str | None
    # A youth who ran from care before: fit prefers crisis stabilization homes.
    has_run_before: bool = False
    # Version 2: the protective rules (see the module docstring).
    keep_away_homes: tuple[str, ...] = ()
    keep_away_circles: tuple[Circle, ...] = ()
    keep_apart: tuple[str, ...] = ()
    keep_apart_homes: tuple[str, ...] = ()
    icwa: bool = False
    tribe: str | None = None


@dataclass(frozen=True)
class Instance:
    homes: tuple[Home, ...]
    referrals: tuple[Referral, ...]


HOME_FIELDS = (
    "id", "state", "location", "program", "open_beds", "current_youth", "staff_on_duty",
    "youth_per_staff", "ages", "genders", "accepts_pregnant", "accepts_parenting",
    "substance_use_support", "medical_level", "mental_health_level", "languages",
    "cultural_services", "accepts_out_of_state",
)
REFERRAL_FIELDS = (
    "id", "custody_state", "location", "age", "gender", "urgency", "pregnant", "children_with",
    "substance_use", "medical_level", "mental_health_level", "language", "icpc_approved_states",
    "programs",
)
REFERRAL_OPTIONAL = {"cultural_need": None, "max_distance_km": None, "sibling_group": None,
                     "has_run_before": False}
# Optional in version 2 only: a version-1 instance naming them is refused as before.
HOME_OPTIONAL_V2 = {"tribal_approvals": [], "native_serving": False}
REFERRAL_OPTIONAL_V2 = {"keep_away": None, "keep_apart": None, "icwa": None}
MAX_RADIUS_KM = 1000.0


# --- parsing -------------------------------------------------------------------------------

def _object(value: Any, field: str, required: tuple[str, ...], optional=()) -> dict:
    """Check that `value` is an object with every required key and no unknown key.

    Unknown keys are refused rather than ignored: a misspelt ``max_distance_km`` would
    otherwise silently drop a hard constraint.
    """
    if not isinstance(value, dict):
        raise InstanceError(field or "instance", "must be an object")
    for key in required:
        if key not in value:
            raise InstanceError(f"{field}.{key}" if field else key, "is required")
    for key in value:
        if key not in required and key not in optional:
            raise InstanceError(f"{field}.{key}" if field else str(key), "is not a known field")
    return value


def _int(value: Any, field: str, low: int = 0, high: int | None = None) -> int:
    # bool is an int subclass in Python; `true` is never a valid count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InstanceError(field, "must be a whole number")
    if value < low:
        raise InstanceError(field, "must not be negative" if low == 0 else f"must be at least {low}")
    if high is not None and value > high:
        raise InstanceError(field, f"must be between {low} and {high}")
    return value


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InstanceError(field, "must be a number")
    if not low <= value <= high:
        raise InstanceError(field, f"must be between {low:g} and {high:g}")
    return float(value)


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InstanceError(field, "must be true or false")
    return value


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InstanceError(field, "must be a non-empty string")
    return value


def _choice(value: Any, field: str, choices: tuple) -> Any:
    if isinstance(value, bool) or value not in choices:
        shown = ", ".join(str(c) for c in choices)
        raise InstanceError(field, f"{value!r} is not one of {shown}")
    return value


def _list(value: Any, field: str, item, allow_empty: bool = True) -> tuple:
    if not isinstance(value, list):
        raise InstanceError(field, "must be a list")
    if not value and not allow_empty:
        raise InstanceError(field, "must not be empty")
    items = tuple(item(v, f"{field}[{i}]") for i, v in enumerate(value))
    if len(set(items)) != len(items):
        raise InstanceError(field, "has a duplicate value")
    return items


def _location(value: Any, field: str) -> Location:
    _object(value, field, ("lat", "lon"))
    return Location(_number(value["lat"], f"{field}.lat", -90, 90),
                    _number(value["lon"], f"{field}.lon", -180, 180))


def _state(value: Any, field: str) -> str:
    return _choice(value, field, US_STATES)


def _level(value: Any, field: str) -> int:
    return _int(value, field, 0, LEVELS[-1])


def parse_home(data: Any, field: str = "home", version: int = VERSION) -> Home:
    """Build a `Home` from its JSON object, raising `InstanceError` on any bad field."""
    d = _object(data, field, HOME_FIELDS, HOME_OPTIONAL_V2 if version >= 2 else ())
    d = {**HOME_OPTIONAL_V2, **d}
    f = lambda key: f"{field}.{key}"  # noqa: E731 - a field-path shorthand
    ages = d["ages"]
    if not isinstance(ages, list) or len(ages) != 2:
        raise InstanceError(f("ages"), "must be a list [youngest, oldest]")
    low = _int(ages[0], f("ages") + "[0]", MIN_AGE, MAX_AGE)
    high = _int(ages[1], f("ages") + "[1]", MIN_AGE, MAX_AGE)
    if low > high:
        raise InstanceError(f("ages"), f"youngest age {low} is above oldest age {high}")
    return Home(
        id=_text(d["id"], f("id")),
        state=_state(d["state"], f("state")),
        location=_location(d["location"], f("location")),
        program=_choice(d["program"], f("program"), PROGRAMS),
        open_beds=_int(d["open_beds"], f("open_beds")),
        current_youth=_int(d["current_youth"], f("current_youth")),
        staff_on_duty=_int(d["staff_on_duty"], f("staff_on_duty")),
        youth_per_staff=_int(d["youth_per_staff"], f("youth_per_staff"), 1),
        ages=(low, high),
        genders=_list(d["genders"], f("genders"), lambda v, p: _choice(v, p, GENDERS), allow_empty=False),
        accepts_pregnant=_bool(d["accepts_pregnant"], f("accepts_pregnant")),
        accepts_parenting=_bool(d["accepts_parenting"], f("accepts_parenting")),
        substance_use_support=_choice(d["substance_use_support"], f("substance_use_support"),
                                      SUBSTANCE_SUPPORT),
        medical_level=_level(d["medical_level"], f("medical_level")),
        mental_health_level=_level(d["mental_health_level"], f("mental_health_level")),
        languages=_list(d["languages"], f("languages"), _text),
        cultural_services=_list(d["cultural_services"], f("cultural_services"), _text),
        accepts_out_of_state=_bool(d["accepts_out_of_state"], f("accepts_out_of_state")),
        tribal_approvals=_list(d["tribal_approvals"], f("tribal_approvals"), _text),
        native_serving=_bool(d["native_serving"], f("native_serving")),
    )


def _circle(value: Any, field: str) -> Circle:
    _object(value, field, ("lat", "lon", "radius_km"))
    return Circle(Location(_number(value["lat"], f"{field}.lat", -90, 90), _number(value["lon"], f"{field}.lon", -180, 180)),
                  _number(value["radius_km"], f"{field}.radius_km", 0, MAX_RADIUS_KM))


def _protections(d: dict, f) -> dict:
    """The version-2 fields of a referral as dataclass keyword arguments."""
    found: dict = {}
    if d["keep_away"] is not None:
        away = _object(d["keep_away"], f("keep_away"), (), ("homes", "circles"))
        found["keep_away_homes"] = _list(away.get("homes", []), f("keep_away") + ".homes", _text)
        found["keep_away_circles"] = _list(away.get("circles", []), f("keep_away") + ".circles", _circle)
    if d["keep_apart"] is not None:
        apart = _object(d["keep_apart"], f("keep_apart"), (), ("referrals", "homes"))
        found["keep_apart"] = _list(apart.get("referrals", []), f("keep_apart") + ".referrals", _text)
        found["keep_apart_homes"] = _list(apart.get("homes", []), f("keep_apart") + ".homes", _text)
    if d["icwa"] is not None:
        icwa = _object(d["icwa"], f("icwa"), ("tribe",))
        found["icwa"] = True
        found["tribe"] = None if icwa["tribe"] is None else _text(icwa["tribe"], f("icwa") + ".tribe")
    return found


def parse_referral(data: Any, field: str = "referral", version: int = VERSION) -> Referral:
    """Build a `Referral` from its JSON object, raising `InstanceError` on any bad field."""
    d = _object(data, field, REFERRAL_FIELDS, {**REFERRAL_OPTIONAL, **(REFERRAL_OPTIONAL_V2 if version >= 2 else {})})
    d = {**REFERRAL_OPTIONAL, **REFERRAL_OPTIONAL_V2, **d}
    f = lambda key: f"{field}.{key}"  # noqa: E731 - a field-path shorthand
    max_distance = d["max_distance_km"]
    if max_distance is not None:
        max_distance = _number(max_distance, f("max_distance_km"), 0, 50_000)
    return Referral(
        id=_text(d["id"], f("id")),
        custody_state=_state(d["custody_state"], f("custody_state")),
        location=_location(d["location"], f("location")),
        age=_int(d["age"], f("age"), MIN_AGE, MAX_AGE),
        gender=_choice(d["gender"], f("gender"), GENDERS),
        urgency=_choice(d["urgency"], f("urgency"), URGENCIES),
        pregnant=_bool(d["pregnant"], f("pregnant")),
        children_with=_int(d["children_with"], f("children_with")),
        substance_use=_choice(d["substance_use"], f("substance_use"), SUBSTANCE_USE),
        medical_level=_level(d["medical_level"], f("medical_level")),
        mental_health_level=_level(d["mental_health_level"], f("mental_health_level")),
        language=_text(d["language"], f("language")),
        cultural_need=None if d["cultural_need"] is None else _text(d["cultural_need"], f("cultural_need")),
        icpc_approved_states=_list(d["icpc_approved_states"], f("icpc_approved_states"), _state),
        programs=_list(d["programs"], f("programs"), lambda v, p: _choice(v, p, PROGRAMS)),
        max_distance_km=max_distance,
        sibling_group=None if d["sibling_group"] is None else _text(d["sibling_group"], f("sibling_group")),
        has_run_before=_bool(d["has_run_before"], f("has_run_before")),
        **_protections(d, f),
    )


def parse_instance(data: Any) -> Instance:
    """Check a version-1 or version-2 instance and build it; raise `InstanceError` naming the bad field.

    Beyond each field's own rules: home ids are unique, referral ids are unique, and all
    referrals of one sibling group share a custody state (they are placed together, so
    they must fall under one jurisdiction). In version 2, every home and referral id a
    protective rule names exists, a referral is never kept apart from itself or from its
    own sibling group (they are placed together).
    """
    _object(data, "", ("version", "homes", "referrals"))
    version = data["version"]
    if isinstance(version, bool) or version not in VERSIONS:
        raise InstanceError("version", "must be 1 or 2")
    for key in ("homes", "referrals"):
        if not isinstance(data[key], list):
            raise InstanceError(key, "must be a list")
    homes = tuple(parse_home(h, f"homes[{i}]", version) for i, h in enumerate(data["homes"]))
    referrals = tuple(parse_referral(r, f"referrals[{i}]", version) for i, r in enumerate(data["referrals"]))
    _check_unique(homes, "homes")
    _check_unique(referrals, "referrals")
    _check_protections(homes, referrals)
    group_state: dict[str, str] = {}
    for i, referral in enumerate(referrals):
        group = referral.sibling_group
        if group is None:
            continue
        state = group_state.setdefault(group, referral.custody_state)
        if state != referral.custody_state:
            raise InstanceError(
                f"referrals[{i}].sibling_group",
                f"sibling group {group!r} spans custody states {state} and {referral.custody_state}",
            )
    return Instance(homes=homes, referrals=referrals)


def _check_protections(homes: tuple[Home, ...], referrals: tuple[Referral, ...]) -> None:
    home_ids = {h.id for h in homes}
    group_of = {r.id: r.sibling_group for r in referrals}
    for i, referral in enumerate(referrals):
        for name, ids in (("keep_away.homes", referral.keep_away_homes), ("keep_apart.homes", referral.keep_apart_homes)):
            for j, hid in enumerate(ids):
                if hid not in home_ids:
                    raise InstanceError(f"referrals[{i}].{name}[{j}]", f"no home {hid!r}")
        for j, rid in enumerate(referral.keep_apart):
            where = f"referrals[{i}].keep_apart.referrals[{j}]"
            if rid not in group_of:
                raise InstanceError(where, f"no referral {rid!r}")
            if rid == referral.id:
                raise InstanceError(where, "a referral cannot be kept apart from itself")
            if referral.sibling_group is not None and group_of[rid] == referral.sibling_group:
                raise InstanceError(where, f"{rid!r} is in the same sibling group, placed together")


def _check_unique(items: tuple, key: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise InstanceError(f"{key}[{i}].id", f"duplicate id {item.id!r}")
        seen.add(item.id)


# --- JSON out ------------------------------------------------------------------------------

def _location_json(location: Location) -> dict:
    return {"lat": location.lat, "lon": location.lon}


def home_to_json(home: Home) -> dict:
    """The JSON object for a home (the inverse of `parse_home`)."""
    data = {name: getattr(home, name) for name in HOME_FIELDS}
    data["location"] = _location_json(home.location)
    for name in ("ages", "genders", "languages", "cultural_services"):
        data[name] = list(data[name])
    if home.tribal_approvals or home.native_serving:
        data["tribal_approvals"] = list(home.tribal_approvals)
        data["native_serving"] = home.native_serving
    return data


def referral_to_json(referral: Referral) -> dict:
    """The JSON object for a referral (the inverse of `parse_referral`)."""
    data = {name: getattr(referral, name) for name in (*REFERRAL_FIELDS, *REFERRAL_OPTIONAL)}
    data["location"] = _location_json(referral.location)
    for name in ("icpc_approved_states", "programs"):
        data[name] = list(data[name])
    if referral.keep_away_homes or referral.keep_away_circles:
        data["keep_away"] = {"homes": list(referral.keep_away_homes),
                             "circles": [{**_location_json(c.location), "radius_km": c.radius_km}
                                         for c in referral.keep_away_circles]}
    if referral.keep_apart or referral.keep_apart_homes:
        data["keep_apart"] = {"referrals": list(referral.keep_apart), "homes": list(referral.keep_apart_homes)}
    if referral.icwa:
        data["icwa"] = {"tribe": referral.tribe}
    return data


def uses_version_2(instance: Instance) -> bool:
    """True when the instance holds any version-2 field (a protective rule or tribal data)."""
    return any(len(home_to_json(h)) > len(HOME_FIELDS) for h in instance.homes) or any(
        r.keep_away_homes or r.keep_away_circles or r.keep_apart or r.keep_apart_homes or r.icwa
        for r in instance.referrals)


def instance_to_json(instance: Instance) -> dict:
    """The JSON form of an instance (version 1 when it uses nothing of version 2, so old
    readers keep working); `parse_instance` reads it back unchanged."""
    return {
        "version": VERSION if uses_version_2(instance) else 1,
        "homes": [home_to_json(h) for h in instance.homes],
        "referrals": [referral_to_json(r) for r in instance.referrals],
    }
