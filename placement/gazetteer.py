"""Places, not coordinates: US counties, cities and ZIP codes with their coordinates.

The data ships inside the `zipcodes` wheel (ZIP, city, county, state, latitude and
longitude for every US ZIP code): nothing is fetched at run time. A county's or a
city's point is the mean of its ZIP codes' points, which is as precise as a
referral's location needs to be (they are rounded to about 1 km anyway).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

from solver.eligibility import distance_km
from solver.instance import US_STATES, Location

# Military ZIP codes (APO/FPO) have no county and no place a youth could be in.
_KINDS = {"STANDARD", "PO BOX", "UNIQUE"}
_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_STATE_SUFFIX = re.compile(r"^(.*?)[,\s]+([A-Za-z]{2})\s*$")
SUGGESTIONS = 8


@dataclass(frozen=True)
class Place:
    """A county, a city or a ZIP code in one state, with its point."""

    state: str
    county: str  # without the word "County" ("Boone"); parishes and boroughs keep theirs
    lat: float
    lon: float
    city: str | None = None
    zip_code: str | None = None

    @property
    def county_label(self) -> str:
        return self.county if _has_county_word(self.county) else f"{self.county} County"

    @property
    def label(self) -> str:
        """What the picker shows and accepts back: 'Columbia (Boone County), MO'."""
        if self.zip_code:
            return f"{self.zip_code} {self.city} ({self.county_label}), {self.state}"
        if self.city:
            return f"{self.city} ({self.county_label}), {self.state}"
        return f"{self.county_label}, {self.state}"


def _has_county_word(name: str) -> bool:
    return bool(re.search(r"\b(County|Parish|Borough|Census Area|Municipality|city|City)$", name))


def _short_county(name: str) -> str:
    return name[: -len(" County")] if name.endswith(" County") else name


def _key(text: str) -> str:
    """Case, dots and repeated spaces do not matter: 'st. louis' finds 'St Louis'."""
    return re.sub(r"\s+", " ", text.replace(".", "").strip()).casefold()


def _mean(points: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


@dataclass(frozen=True)
class _StateIndex:
    zips: dict[str, Place]
    counties: dict[str, Place]  # key: _key of the county name, with and without "County"
    cities: dict[str, list[Place]]  # key: _key of the city name; one Place per county it lies in
    labels: tuple[str, ...]  # every county and city label, sorted: the picker's list


@lru_cache(maxsize=1)
def _rows_by_state() -> dict[str, list[dict]]:
    """Every ZIP code row, grouped by state: read once per process (about 1.5 s)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in zipcodes.list_all():
        grouped[row["state"]].append(row)
    return grouped


@lru_cache(maxsize=64)
def _index(state: str) -> _StateIndex:
    zips: dict[str, Place] = {}
    county_points: dict[str, list[tuple[float, float]]] = {}
    city_points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row in _rows_by_state().get(state, []):
        if row["zip_code_type"] not in _KINDS or not row["county"] or not row["lat"]:
            continue
        point = (float(row["lat"]), float(row["long"]))
        county = _short_county(row["county"])
        zips[row["zip_code"]] = Place(state, county, *point, city=row["city"], zip_code=row["zip_code"])
        county_points.setdefault(county, []).append(point)
        city_points.setdefault((row["city"], county), []).append(point)
    counties: dict[str, Place] = {}
    for county, points in county_points.items():
        place = Place(state, county, *_mean(points))
        counties[_key(county)] = counties[_key(place.county_label)] = place
    cities: dict[str, list[Place]] = {}
    for (city, county), points in city_points.items():
        cities.setdefault(_key(city), []).append(Place(state, county, *_mean(points), city=city))
    labels = sorted({p.label for p in counties.values()} | {p.label for ps in cities.values() for p in ps})
    return _StateIndex(zips, counties, cities, tuple(labels))


def labels(state: str) -> tuple[str, ...]:
    """Every county and city of `state` as the picker lists them."""
    return _index(state.upper()).labels if len(state) == 2 else ()


def find(text: str, state: str) -> list[Place]:
    """The places `text` names: a ZIP code (any state), or a county or city of `state`
    (or of the state a trailing ', XX' names), or a label this module made.

    One result means the text is settled; several mean it is ambiguous (a city in two
    counties); none means unknown. Exact names win over prefixes.
    """
    text = (text or "").strip()
    match = _ZIP.match(text)
    if match:
        code = match.group(1)
        rows = zipcodes.matching(code)
        return [p for p in (_index(r["state"]).zips.get(code) for r in rows) if p]
    suffix = _STATE_SUFFIX.match(text)
    if suffix and suffix.group(2).upper() in US_STATES:
        text, state = suffix.group(1), suffix.group(2).upper()
    index = _index(state.upper())
    labelled = re.match(r"^(.*?) \((.*)\)$", text)  # "Columbia (Boone County)"
    if labelled:
        city, county = _key(labelled.group(1)), _key(labelled.group(2))
        return [p for p in index.cities.get(city, []) if _key(p.county_label) == county or _key(p.county) == county]
    key = _key(text)
    if not key:
        return []
    if key in index.counties:
        return [index.counties[key]]
    if key in index.cities:
        return sorted(index.cities[key], key=lambda p: p.label)
    found = {p for k, p in index.counties.items() if k.startswith(key)}
    found |= {p for k, ps in index.cities.items() if k.startswith(key) for p in ps}
    return sorted(found, key=lambda p: p.label)[:SUGGESTIONS]


def nearest(lat: float, lon: float) -> Place | None:
    """The city (with its county) whose ZIP code lies nearest to a point: what "use my
    location" turns a phone's position into. None when nothing is within 50 km."""
    rows = zipcodes.filter_by_coordinates(lat, lon, 31.0)  # 31 miles = 50 km
    here = Location(lat, lon)
    best = min(rows, key=lambda r: distance_km(here, Location(float(r["lat"]), float(r["long"]))), default=None)
    if best is None or best["zip_code_type"] not in _KINDS or not best["county"]:
        return None
    county = _short_county(best["county"])
    return next((p for p in _index(best["state"]).cities.get(_key(best["city"]), []) if p.county == county), None)



@lru_cache(maxsize=64)
def _zip_points(state: str) -> tuple[tuple[str, ...], "object", "object"]:
    import numpy as np

    zips = _index(state).zips
    codes = tuple(sorted(zips))
    return codes, np.array([zips[c].lat for c in codes]), np.array([zips[c].lon for c in codes])


def zip_of(state: str, lat: float, lon: float) -> str | None:
    """The ZIP code of `state` whose point lies nearest (`lat`, `lon`): which ZIP-code area a
    home (known by its coarse point) falls in, for a youth's keep-away ZIP codes. None when
    the state has no ZIP codes."""
    import numpy as np

    codes, lats, lons = _zip_points(state.upper())
    if not codes:
        return None
    # Nearest by an equirectangular distance: exact enough to rank points this close.
    dx = (lons - lon) * np.cos(np.radians(lat))
    return codes[int(np.argmin(dx * dx + (lats - lat) ** 2))]
