"""Rules that protect a youth (issue 18): keep-away areas, keep-apart links, ICWA.

Every read and change of them goes through here. They are as confidential as the case
notes: the referral's own agency and the coordinators of its custody state see them
(access through `placement.access.get_referral`, which admits nobody else); operators
never do, and the audit log records each read and change with counts, never an area,
a case reference or a tribe.

The rules themselves live in `solver/` (`eligibility.py`: keep-away, keep-apart homes;
`engine.py`: keep-apart pairs in one run; `icwa.py`: the preference steps):
`solver_fields` turns the rows into the solver referral's fields, for search, booking
and the matcher alike. County and ZIP areas are resolved here to the homes inside
them (a home's county as recorded, its ZIP code as the one whose point lies nearest);
a place + radius goes to the solver as a circle.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from solver.instance import Circle, Location

from .. import audit, gazetteer
from ..models import (
    AREA_KINDS,
    Hold,
    Home,
    KeepApartLink,
    KeepAwayArea,
    Organisation,
    Placement,
    PlacementOffer,
    PlacementRequest,
    Referral,
    Tribe,
    User,
)
from ..timeutil import utcnow
from .errors import Conflict, ServiceError
from .id_lists import among
from .solver_inputs import home_key, referral_key

MAX_AREAS = 20
MAX_LINKS = 20


# --- keep-away areas -----------------------------------------------------------------------

def areas(session: Session, referral: Referral) -> list[KeepAwayArea]:
    return list(session.exec(select(KeepAwayArea).where(KeepAwayArea.referral_id == referral.id)
                             .order_by(KeepAwayArea.id)).all())


def add_area(session: Session, user: User, referral: Referral, values: dict) -> KeepAwayArea:
    """Add an area (values: kind, state, county, zip_code, label, lat, lon, radius_km)."""
    if values["kind"] not in AREA_KINDS:
        raise ServiceError("Choose a county, a ZIP code or a place with a radius.", {"kind": "Choose one."})
    if len(areas(session, referral)) >= MAX_AREAS:
        raise Conflict(f"A referral can hold at most {MAX_AREAS} keep-away areas; remove one first.")
    area = KeepAwayArea(referral_id=referral.id, created_by_id=user.id,
                        **{k: values[k] for k in ("kind", "state", "county", "zip_code", "label", "lat", "lon", "radius_km")})
    session.add(area)
    session.flush()
    audit.record(session, "keep_away_added", "referral", referral.id, f"{len(areas(session, referral))} areas", actor=user)
    session.commit()
    return area


def remove_area(session: Session, user: User, referral: Referral, area: KeepAwayArea) -> None:
    """Remove one of the referral's keep-away areas (the caller found it under `referral`)."""
    session.delete(area)
    session.flush()
    audit.record(session, "keep_away_removed", "referral", referral.id, f"{len(areas(session, referral))} areas", actor=user)
    session.commit()


def home_in_area(home: Home, area: KeepAwayArea) -> bool:
    """A county or ZIP-code area holds the home (a radius is the solver's: a circle)."""
    if area.kind == "county":
        return home.state == area.state and home.county.casefold() == area.county.casefold()
    if area.kind == "zip":
        return home.state == area.state and gazetteer.zip_of(home.state, home.lat, home.lon) == area.zip_code
    return False


# --- keep-apart links ------------------------------------------------------------------------

def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def links(session: Session, referral: Referral) -> list[KeepApartLink]:
    return list(session.exec(select(KeepApartLink).where(
        sa.or_(KeepApartLink.referral_a_id == referral.id, KeepApartLink.referral_b_id == referral.id))
        .order_by(KeepApartLink.id)).all())


def other_side(link: KeepApartLink, referral: Referral) -> int:
    return link.referral_b_id if link.referral_a_id == referral.id else link.referral_a_id


def own_case(session: Session, user: User, case_reference: str) -> Referral:
    """The caseworker's agency's referral with this case reference (the only way a
    caseworker names the other youth)."""
    found = session.exec(select(Referral).where(Referral.agency_id == user.organisation_id,
                                                Referral.case_reference == case_reference.strip())).first()
    if found is None:
        raise ServiceError("Your agency has no referral with this case reference.",
                           {"case_reference": "No referral of your agency has this case reference."})
    return found


def state_case(session: Session, state: str, agency_id: int, case_reference: str) -> Referral:
    """For a coordinator: the referral of a `state` ward with this agency and case reference."""
    found = session.exec(select(Referral).where(Referral.agency_id == agency_id, Referral.custody_state == state,
                                                Referral.case_reference == case_reference.strip())).first()
    if found is None:
        raise ServiceError("That agency has no referral of a ward of this state with this case reference.",
                           {"case_reference": "No such referral in this state."})
    return found


def add_link(session: Session, user: User, referral: Referral, other: Referral) -> KeepApartLink:
    """Link two referrals whose youths must never share a home (symmetric, audited on both)."""
    if other.id == referral.id:
        raise ServiceError("A youth cannot be kept apart from themself.", {"case_reference": "Name another youth."})
    if referral.sibling_group and referral.sibling_group == other.sibling_group and referral.agency_id == other.agency_id:
        raise ServiceError("These youths are one sibling group, placed together; remove the group first.",
                           {"case_reference": "Same sibling group."})
    a, b = _pair(referral.id, other.id)
    if session.exec(select(KeepApartLink.id).where(KeepApartLink.referral_a_id == a, KeepApartLink.referral_b_id == b)).first():
        raise Conflict("These two youths are already kept apart.")
    if len(links(session, referral)) >= MAX_LINKS:
        raise Conflict(f"A referral can hold at most {MAX_LINKS} keep-apart links.")
    link = KeepApartLink(referral_a_id=a, referral_b_id=b, created_by_id=user.id,
                         by_coordinator=user.role in ("coordinator", "admin"))
    session.add(link)
    session.flush()
    for side in (referral.id, other.id):
        audit.record(session, "keep_apart_added", "referral", side, f"link {link.id}", actor=user)
    session.commit()
    return link


def remove_link(session: Session, user: User, referral: Referral, link: KeepApartLink) -> None:
    """Remove a link (the caller found it through `involves`); a caseworker may not
    remove one a coordinator made across agencies."""
    if user.role == "caseworker" and not visible_to_caseworker(session, link, referral):
        raise Conflict("A coordinator made this link; ask them to remove it.")
    for side in (link.referral_a_id, link.referral_b_id):
        audit.record(session, "keep_apart_removed", "referral", side, f"link {link.id}", actor=user)
    session.delete(link)
    session.commit()


def involves(referral: Referral):
    """Whether a keep-apart link has `referral` on either side (for `access.get_referral_part`)."""
    return lambda link: referral.id in (link.referral_a_id, link.referral_b_id)


def visible_to_caseworker(session: Session, link: KeepApartLink, referral: Referral) -> bool:
    """The caseworker sees the other case only when it is their own agency's."""
    other = session.get(Referral, other_side(link, referral))
    return other is not None and other.agency_id == referral.agency_id


# --- ICWA --------------------------------------------------------------------------------------

def tribes(session: Session) -> list[Tribe]:
    return list(session.exec(select(Tribe).order_by(Tribe.name)).all())


def tribe_names(session: Session) -> list[str]:
    return [t.name for t in tribes(session)]


def add_tribe(session: Session, user: User, name: str) -> Tribe:
    name = " ".join(name.split())
    if session.exec(select(Tribe.id).where(sa.func.lower(Tribe.name) == name.lower())).first():
        raise ServiceError("This tribe is already on the list.", {"name": "Already listed."})
    tribe = Tribe(name=name, created_by_id=user.id)
    session.add(tribe)
    session.flush()
    audit.record(session, "tribe_added", "tribe", tribe.id, actor=user)
    session.commit()
    return tribe


def set_icwa(session: Session, user: User, referral: Referral, values: dict) -> Referral:
    """Record whether ICWA applies, the tribe (by its name on the coordinators' list) and
    membership, and the tribe's notice."""
    tribe_id = None
    if values.get("tribe"):
        tribe_id = session.exec(select(Tribe.id).where(sa.func.lower(Tribe.name) == values["tribe"].lower())).first()
        if tribe_id is None:
            raise ServiceError("Pick a tribe from the list.", {"tribe": "This tribe is not on the coordinators' list."})
    errors = {}
    if values["icwa_applies"] and tribe_id is None:
        errors["tribe"] = "Name the tribe: ICWA applies through a tribe."
    if tribe_id is not None and not values["tribal_status"]:
        errors["tribal_status"] = "Say whether the youth is a member or eligible for membership."
    notice_on: date | None = values.get("tribe_notice_on")
    if bool(notice_on) != bool(values.get("tribe_notice_method")):
        errors["tribe_notice_method" if notice_on else "tribe_notice_on"] = "Give both the date and how the notice was sent."
    if notice_on is not None and notice_on > utcnow().date():
        errors["tribe_notice_on"] = "The notice date cannot be in the future."
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    referral.icwa_applies = bool(values["icwa_applies"])
    referral.tribe_id = tribe_id
    referral.tribal_status = values.get("tribal_status") or ""
    referral.tribe_notice_on = notice_on
    referral.tribe_notice_method = values.get("tribe_notice_method") or ""
    referral.updated_at = utcnow()
    session.add(referral)
    audit.record(session, "icwa_updated", "referral", referral.id,
                 f"applies {'yes' if referral.icwa_applies else 'no'}", actor=user)
    session.commit()
    return referral


def tribe_name(session: Session, referral: Referral) -> str | None:
    return session.get(Tribe, referral.tribe_id).name if referral.tribe_id else None


# --- reading them (audited) -----------------------------------------------------------------

@dataclass(frozen=True)
class LinkView:
    link: KeepApartLink
    other: Referral | None  # None: a coordinator's cross-agency link the caseworker may not see
    agency: str


@dataclass(frozen=True)
class Protections:
    referral: Referral
    areas: list[KeepAwayArea]
    links: list[LinkView]
    hidden_links: int  # cross-agency links the viewer sees only as a count
    tribe: str | None


def view(session: Session, user: User, referral: Referral) -> Protections:
    """The referral's protective rules as `user` (its agency's caseworker, or a coordinator
    of its state: the caller got it through `get_referral`) may see them; the read is audited."""
    shown, hidden = [], 0
    for link in links(session, referral):
        other = session.get(Referral, other_side(link, referral))
        if user.role == "caseworker" and other.agency_id != referral.agency_id:
            hidden += 1
            continue
        shown.append(LinkView(link, other, session.get(Organisation, other.agency_id).name))
    found = Protections(referral, areas(session, referral), shown, hidden, tribe_name(session, referral))
    audit.record(session, "protections_viewed", "referral", referral.id,
                 f"{len(found.areas)} areas, {len(shown) + hidden} links, icwa {'yes' if referral.icwa_applies else 'no'}",
                 actor=user)
    session.commit()
    return found


# --- for the solver -----------------------------------------------------------------------------

def linked(session: Session, referral_ids: list[int]) -> dict[int, set[int]]:
    """Referral id -> the referrals it must be kept apart from (both directions)."""
    found: dict[int, set[int]] = {i: set() for i in referral_ids}
    if not referral_ids:
        return found
    rows = session.exec(select(KeepApartLink).where(
        sa.or_(among(KeepApartLink.referral_a_id, referral_ids), among(KeepApartLink.referral_b_id, referral_ids)))).all()
    for link in rows:
        if link.referral_a_id in found:
            found[link.referral_a_id].add(link.referral_b_id)
        if link.referral_b_id in found:
            found[link.referral_b_id].add(link.referral_a_id)
    return found


def _homes_holding(session: Session, referral_ids: set[int]) -> dict[int, set[int]]:
    """Referral id -> homes where it is placed, holds a live bed, has a pending request or a live offer."""
    where: dict[int, set[int]] = {}
    if not referral_ids:
        return where
    now = utcnow()
    ids = list(referral_ids)
    queries = (
        select(Placement.referral_id, Placement.home_id).where(Placement.referral_id.in_(ids), Placement.ended_at.is_(None)),
        select(Hold.referral_id, Hold.home_id).where(Hold.referral_id.in_(ids), Hold.keeps_places(now))
        .union_all(select(PlacementOffer.referral_id, PlacementOffer.home_id).where(
            PlacementOffer.referral_id.in_(ids), PlacementOffer.keeps_places(now))),
        select(PlacementRequest.referral_id, PlacementRequest.home_id).where(
            PlacementRequest.referral_id.in_(ids), PlacementRequest.status == "pending"),
    )
    for query in queries:
        for referral_id, home_id in session.exec(query).all():
            where.setdefault(referral_id, set()).add(home_id)
    return where


class _AreaHomes:
    """The ids of `homes` inside a county or ZIP area (`home_in_area`'s rule), found by
    looking the area up: the homes are grouped by county once, and by ZIP code once per
    state a ZIP area names, however many referrals and areas ask (a matcher run has
    hundreds of referrals; scanning every home for each area was referrals x homes)."""

    def __init__(self, homes):
        self.homes = homes
        self.by_county: dict[tuple[str, str], list[int]] | None = None
        self.by_zip: dict[str, dict[str | None, list[int]]] = {}

    def __call__(self, area: KeepAwayArea) -> list[int]:
        if area.kind == "county":
            if self.by_county is None:
                self.by_county = {}
                for h in self.homes:
                    self.by_county.setdefault((h.state, h.county.casefold()), []).append(h.id)
            return self.by_county.get((area.state, area.county.casefold()), [])
        if area.kind == "zip":
            if area.state not in self.by_zip:
                zips: dict[str | None, list[int]] = {}
                for h in self.homes:
                    if h.state == area.state:
                        zips.setdefault(gazetteer.zip_of(h.state, h.lat, h.lon), []).append(h.id)
                self.by_zip[area.state] = zips
            return self.by_zip[area.state].get(area.zip_code, [])
        return []  # a radius is the solver's: a circle


def solver_fields(session: Session, referrals: list[Referral], homes: list[Home],
                  in_run: set[int] | None = None) -> dict[int, dict]:
    """Referral id -> the solver referral's protective fields, against `homes` (the homes
    the search or the run considers). Keep-apart links to referrals in `in_run` (a matcher
    run's referrals) become pairwise links; every linked youth's current homes become
    excluded homes."""
    ids = [r.id for r in referrals]
    area_rows: dict[int, list[KeepAwayArea]] = {i: [] for i in ids}
    if ids:
        for area in session.exec(select(KeepAwayArea).where(among(KeepAwayArea.referral_id, ids))).all():
            area_rows[area.referral_id].append(area)
    partners = linked(session, ids)
    holding = _homes_holding(session, set().union(*partners.values()) if partners else set())
    home_ids = {h.id for h in homes}
    inside = _AreaHomes(homes)
    # The tribes' names go only into an ICWA youth's record: most searches need none.
    tribe_of = {t.id: t.name for t in tribes(session)} if any(r.icwa_applies for r in referrals) else {}
    fields: dict[int, dict] = {}
    for referral in referrals:
        mine = area_rows[referral.id]
        found: dict = {}
        listed = [home_key(i) for i in sorted(set().union(*(inside(a) for a in mine)))]
        circles = tuple(Circle(Location(a.lat, a.lon), a.radius_km) for a in mine if a.kind == "radius")
        if listed or circles:
            found["keep_away_homes"], found["keep_away_circles"] = tuple(listed), circles
        others = partners[referral.id]
        at = sorted({h for other in others for h in holding.get(other, ()) if h in home_ids})
        if others:
            group = {r.id: r.sibling_group for r in referrals}
            # A run places a sibling group as one: a link inside it (two agencies' groups
            # named alike) cannot hold, and the instance would refuse it.
            found["keep_apart"] = tuple(referral_key(o) for o in sorted(others) if in_run is not None and o in in_run
                                        and not (referral.sibling_group and group.get(o) == referral.sibling_group))
            found["keep_apart_homes"] = tuple(home_key(h) for h in at)
        if referral.icwa_applies:
            found["icwa"], found["tribe"] = True, tribe_of.get(referral.tribe_id)
        fields[referral.id] = found
    return fields


def agencies(session: Session, state: str) -> list[Organisation]:
    """The agencies of `state`: whose youths a coordinator may link."""
    return list(session.exec(select(Organisation).where(Organisation.kind == "agency", Organisation.state == state)
                             .order_by(Organisation.name)).all())


def state_referrals_with_rules(session: Session, user: User, state: str) -> list[tuple[Referral, int, int]]:
    """The state's active referrals with any keep-away area, keep-apart link or ICWA, and
    their counts (the listing is audited, with its count)."""
    active = ("open", "held", "requested", "declined", "placed")
    rows = list(session.exec(select(Referral).where(Referral.custody_state == state, Referral.status.in_(active))
                             .order_by(Referral.case_reference)).all())
    ids = [r.id for r in rows]
    area_counts = dict(session.exec(select(KeepAwayArea.referral_id, sa.func.count()).where(
        KeepAwayArea.referral_id.in_(ids)).group_by(KeepAwayArea.referral_id)).all()) if ids else {}
    partners = linked(session, ids)
    found = []
    for referral in rows:
        n_areas, n_links = area_counts.get(referral.id, 0), len(partners[referral.id])
        if n_areas or n_links or referral.icwa_applies:
            found.append((referral, n_areas, n_links))
    audit.record(session, "protected_referrals_listed", "state", None, f"state {state}, {len(found)} referrals", actor=user)
    session.commit()
    return found
