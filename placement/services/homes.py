"""Homes and their availability log, as operators publish them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, func, select

from solver.eligibility import staffed_room

from .. import audit
from ..models import AvailabilityUpdate, Hold, Home, PlacementOffer, PlacementRequest, User
from ..timeutil import age_hours, utcnow
from . import alerts
from .errors import ServiceError

HOME_FIELDS = (
    "name", "program", "state", "county", "city", "lat", "lon", "street_address", "contact_phone",
    "licensed_beds", "min_age", "max_age", "genders", "accepts_pregnant", "accepts_parenting",
    "substance_use_support", "medical_level", "mental_health_level", "languages",
    "cultural_services", "accepts_out_of_state", "is_active", "tribal_approvals", "native_serving",
    "intake_documents",
)


class Latest(NamedTuple):
    """A home's latest availability log entry, as read for a status (a plain value, not a
    mapped row: a search reads thousands of them, and nothing changes them; a named tuple
    is made several times faster than a frozen dataclass)."""

    id: int
    home_id: int
    open_beds: int
    licensed_beds: int
    staff_on_duty: int
    youth_per_staff: int
    current_youth: int
    recorded_by_id: int | None
    note: str
    recorded_at: datetime


_LATEST_COLUMNS = tuple(getattr(AvailabilityUpdate, name) for name in Latest._fields)


@dataclass(frozen=True)
class HomeStatus:
    """A home's current availability: its latest log entry minus live holds and requests."""

    home: Home
    latest: Latest | None
    reserved_places: int  # places under an active hold or a pending request

    @property
    def updated_at(self) -> datetime | None:
        return self.latest.recorded_at if self.latest else None

    @property
    def open_beds(self) -> int:
        return max(0, (self.latest.open_beds if self.latest else 0) - self.reserved_places)

    @property
    def staffed_capacity(self) -> int:
        """Youths the staff on duty can care for in total."""
        return self.latest.staff_on_duty * self.latest.youth_per_staff if self.latest else 0

    @property
    def current_youth(self) -> int:
        return (self.latest.current_youth if self.latest else 0) + self.reserved_places

    @property
    def room(self) -> int:
        """Places the home can take now: beds and staffing must both allow it."""
        return room_now(self.latest, self.reserved_places, self.home.is_active)

    @property
    def staff_limited(self) -> bool:
        return self.room < self.open_beds

    def age_hours(self, now: datetime | None = None) -> float | None:
        return age_hours(self.updated_at, now)

    def is_stale(self, stale_after_hours: float, now: datetime | None = None) -> bool:
        return is_stale(self.updated_at, stale_after_hours, now)


def room_now(latest: Latest | None, reserved_places: int, active: bool) -> int:
    """Places a home can take now (`HomeStatus.room`), from its latest entry and the places
    reserved: for callers that hold thousands of homes as rows, not statuses."""
    if latest is None or not active:
        return 0
    return _room(latest, reserved_places)


def rooms_now(latest, reserved_places: list[int], active: list[bool]) -> list[int]:
    """`room_now` of many homes at once, in columns: `latest` (a named tuple, such as the
    search's `Figures`) holds one sequence per figure (`open_beds`, `staff_on_duty`,
    `youth_per_staff`, `current_youth`; None for a home that never published), the other
    arguments one value per home. For the thousands of homes of a search: the same rule
    (`_room`) on arrays."""
    if not reserved_places:
        return []
    published = np.array([beds is not None for beds in latest.open_beds]) & np.array(active, bool)
    columns = latest._replace(**{name: np.array([value or 0 for value in getattr(latest, name)], np.int64)
                                 for name in _ROOM_FIGURES})
    room = _room(columns, np.array(reserved_places, np.int64), np.minimum, np.maximum)
    return np.where(published, room, 0).tolist()


_ROOM_FIGURES = ("open_beds", "current_youth", "staff_on_duty", "youth_per_staff")  # what `_room` reads


def _room(figures, reserved_places, fewer=min, more=max):
    """The one rule of `room_now` and `rooms_now`: the staffed room (`staffed_room`) with the
    places reserved taken from the open beds and counted among the youths. `figures` is a
    home's latest entry, or columns of many homes' with numpy's minimum and maximum."""
    return staffed_room(figures.open_beds - reserved_places, figures.current_youth + reserved_places,
                        figures.staff_on_duty, figures.youth_per_staff, fewer, more)


def is_stale(updated_at: datetime | None, stale_after_hours: float, now: datetime | None = None) -> bool:
    """Figures last updated at `updated_at` are too old to trust without a call (or none)."""
    age = age_hours(updated_at, now)
    return age is None or age > stale_after_hours


def _selected(home_ids: list[int], where):
    """The homes asked about, as a condition on a home id column's values: the caller's own
    SQL condition on Home when given (thousands of ids as bound values cost more to send and
    plan than the query itself), else the ids."""
    return select(Home.id).where(where) if where is not None else home_ids


def _newest_entry():
    """Per home (correlated to Home): the id of its latest availability entry. One index
    probe per home (ix_availability_home_id_time, migrations 0008 and 0014): the log holds hundreds of
    rows per home, and grouping them all to find each maximum read every one."""
    return select(func.max(AvailabilityUpdate.id)).where(AvailabilityUpdate.home_id == Home.id).correlate(Home).scalar_subquery()


def with_latest(session: Session, statement, columns=_LATEST_COLUMNS):
    """`statement` (a select of Home columns) with `columns` of each home's latest
    availability entry joined on, each labelled `latest_<name>` (all None for a home that
    never published): one query for homes and their figures, in the shape that suits the
    database of `session`.

    On PostgreSQL the entry is read by a lateral join, one backward index scan per home
    that reads the entry where it finds it: joining on the newest id found it twice, by the
    index and again by the primary key. EXPLAIN (ANALYZE, BUFFERS) for the 624 homes of the
    national benchmark's largest state: 4,539 buffers and 12.3 ms joined on the newest id,
    2,666 buffers and 6.9 ms lateral (medians of 9). SQLite has no lateral join; there the
    newest id is its one index probe per home."""
    if session.get_bind().dialect.name == "postgresql":
        return _with_latest_lateral(statement, columns)
    return _with_latest_by_newest_id(statement, columns)


def _with_latest_lateral(statement, columns):
    latest = (select(*columns).where(AvailabilityUpdate.home_id == Home.id)
              .order_by(AvailabilityUpdate.id.desc()).limit(1).lateral("latest"))
    return (statement.add_columns(*(latest.c[column.key].label(f"latest_{column.key}") for column in columns))
            .outerjoin(latest, sa.true()))


def _with_latest_by_newest_id(statement, columns):
    return (statement.add_columns(*(column.label(f"latest_{column.key}") for column in columns))
            .outerjoin(AvailabilityUpdate, AvailabilityUpdate.id == _newest_entry()))


def _latest_rows(session: Session, home_ids: list[int], where=None) -> dict[int, Latest]:
    if not home_ids:
        return {}
    newest = _newest_entry()
    rows = session.exec(
        select(*_LATEST_COLUMNS).select_from(Home).join(AvailabilityUpdate, AvailabilityUpdate.id == newest)
        .where(where if where is not None else Home.id.in_(home_ids))
    ).all()
    return {row.home_id: Latest._make(row) for row in rows}


def reserved_places(session: Session, home_ids: list[int], now: datetime, where=None) -> dict[int, int]:
    """Places under live holds and offers plus pending requests (a request ends its hold)."""
    if not home_ids:
        return {}
    # One statement: a home's pending offer of a bed reserves its places like a hold, until
    # it expires; a pending request holds its places (a request ends its hold).
    live = sa.union_all(
        select(Hold.home_id.label("home_id"), Hold.places.label("places"))
        .where(Hold.home_id.in_(_selected(home_ids, where)), Hold.keeps_places(now)),
        select(PlacementOffer.home_id.label("home_id"), PlacementOffer.places.label("places"))
        .where(PlacementOffer.home_id.in_(_selected(home_ids, where)), PlacementOffer.keeps_places(now)),
        select(PlacementRequest.home_id.label("home_id"), PlacementRequest.places.label("places"))
        .where(PlacementRequest.home_id.in_(_selected(home_ids, where)), PlacementRequest.status == "pending"),
    ).subquery()
    rows = session.exec(select(live.c.home_id, func.sum(live.c.places)).group_by(live.c.home_id)).all()
    return {home_id: int(places or 0) for home_id, places in rows}


def statuses(session: Session, homes: list[Home], where=None) -> list[HomeStatus]:
    """Current availability for many homes in three queries.

    `where`: the SQL condition on Home that selected `homes` (all of them, and perhaps
    more), for callers that load homes by state: the queries then select by it.
    """
    ids = [home.id for home in homes]
    latest = _latest_rows(session, ids, where)
    reserved = reserved_places(session, ids, utcnow(), where)
    return [HomeStatus(home, latest.get(home.id), reserved.get(home.id, 0)) for home in homes]


def status(session: Session, home: Home) -> HomeStatus:
    return statuses(session, [home])[0]


def operator_homes(session: Session, user: User) -> list[Home]:
    return list(session.exec(select(Home).where(Home.provider_id == user.organisation_id).order_by(Home.name)).all())


def _validate_home(values: dict) -> None:
    errors = {}
    if values["min_age"] > values["max_age"]:
        errors["max_age"] = "The oldest age must be at least the youngest age."
    if not values["genders"]:
        errors["genders"] = "Choose at least one gender the home serves."
    if not values["languages"]:
        errors["languages"] = "List at least one language spoken by staff."
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)


def create_home(session: Session, user: User, values: dict) -> Home:
    """Create a home for the operator's own provider organisation."""
    _validate_home(values)
    _check_unique_name(session, user.organisation_id, values["name"], None)
    home = Home(provider_id=user.organisation_id, **{k: values[k] for k in HOME_FIELDS if k in values})
    session.add(home)
    session.flush()
    audit.record(session, "home_created", "home", home.id, actor=user)
    session.commit()
    return home


def update_home(session: Session, user: User, home: Home, values: dict) -> Home:
    _validate_home(values)
    _check_unique_name(session, home.provider_id, values["name"], home.id)
    latest = status(session, home).latest
    if latest is not None and values["licensed_beds"] < latest.open_beds:
        raise ServiceError(
            "Licensed beds cannot be fewer than tonight's open beds.",
            {"licensed_beds": f"{latest.open_beds} beds are open tonight; update availability first."},
        )
    changed = sorted(k for k in HOME_FIELDS if k in values and getattr(home, k) != values[k])
    for key in changed:
        setattr(home, key, values[key])
    home.updated_at = utcnow()
    session.add(home)
    # Field names only: the address itself never goes into the log.
    audit.record(session, "home_updated", "home", home.id, "changed: " + ", ".join(changed), actor=user)
    session.commit()
    return home


def _check_unique_name(session: Session, provider_id: int, name: str, home_id: int | None) -> None:
    clash = session.exec(
        select(Home.id).where(Home.provider_id == provider_id, Home.name == name, Home.id != (home_id or -1))
    ).first()
    if clash is not None:
        raise ServiceError("You already have a home with this name.", {"name": "already used by another of your homes"})


def lock_home(session: Session, home_id: int) -> None:
    """Take the home's write lock for the rest of the transaction.

    An UPDATE is the lock on both databases: PostgreSQL row-locks the home, and
    on SQLite it is the first write, so the transaction takes the database's
    write lock here (waiting up to the busy timeout) instead of failing later
    with "database is locked" on a read-then-write upgrade.
    """
    session.commit()  # end any read transaction so the lock is the first statement
    session.execute(sa.update(Home).where(Home.id == home_id).values(lock_version=Home.lock_version + 1))


def capacity_problems(
    licensed_beds: int, open_beds: int, current_youth: int, previous: Latest | AvailabilityUpdate | None = None,
) -> dict[str, str]:
    """Per-field messages for figures the licence cannot hold. Too many youths plus open
    beds is said on the figure the operator changed (open beds unless only the youths
    changed), not on the one they left alone."""
    errors = {}
    if open_beds > licensed_beds:
        errors["open_beds"] = f"Open beds cannot exceed the home's {licensed_beds} licensed beds."
    elif current_youth + open_beds > licensed_beds:
        only_youths_changed = previous is not None and previous.open_beds == open_beds and previous.current_youth != current_youth
        errors["current_youth" if only_youths_changed else "open_beds"] = (
            f"Youths in the home plus open beds ({current_youth} + {open_beds}) exceed the {licensed_beds} licensed beds."
        )
    return errors


def record_availability(
    session: Session,
    user: User | None,
    home: Home,
    open_beds: int,
    staff_on_duty: int,
    youth_per_staff: int,
    current_youth: int,
    note: str = "",
    on_call: tuple[str, str] | None = None,
) -> AvailabilityUpdate:
    """Append tonight's figures to the home's availability log, with tonight's on-call contact (name, e-mail) if given."""
    errors = capacity_problems(home.licensed_beds, open_beds, current_youth, status(session, home).latest)
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    lock_home(session, home.id)
    entry = AvailabilityUpdate(
        home_id=home.id,
        open_beds=open_beds,
        licensed_beds=home.licensed_beds,
        staff_on_duty=staff_on_duty,
        youth_per_staff=youth_per_staff,
        current_youth=current_youth,
        recorded_by_id=user.id if user else None,
        note=note,
    )
    session.add(entry)
    if on_call is not None:
        alerts.set_on_call(session, user, home, *on_call)
    audit.record(
        session, "availability_updated", "home", home.id,
        f"open {open_beds}, staff {staff_on_duty}, ratio {youth_per_staff}, youths {current_youth}", actor=user,
    )
    session.commit()
    return entry


def history(session: Session, home: Home, limit: int = 100) -> list[AvailabilityUpdate]:
    return list(
        session.exec(
            select(AvailabilityUpdate)
            .where(AvailabilityUpdate.home_id == home.id)
            .order_by(AvailabilityUpdate.recorded_at.desc(), AvailabilityUpdate.id.desc())
            .limit(limit)
        ).all()
    )
