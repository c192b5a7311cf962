"""A state's capacity for the coordinator dashboard: beds, staffed room, occupancy,
stale availability, requests waiting and time to placement.

Only aggregates, home names, places and case references leave this module: the
coordinator sees where the state is short, not where a home is.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, func, select

from ..database import read_beside
from ..models import AvailabilityUpdate, Home, Organisation, Placement, PlacementRequest, Referral, User
from ..timeutil import UTCDateTime, utcnow
from ..vocabulary import PROGRAM_LABELS, URGENCY_LABELS
from .homes import HomeStatus, statuses
from .solver_inputs import read_rows
from .tables import Table, hours_between, median

OCCUPANCY_DAYS = 14  # the occupancy chart's span
PLACEMENT_WINDOWS = (7, 30)  # days, for the median time from referral to placement
OPERATOR_CONTACTS = 2  # operator e-mails listed per stale home
# The dashboard's tables in page order; each is exported as CSV by its key.
DASHBOARD_TABLES = ("capacity", "capacity_by_program", "stale", "waiting", "placement_time", "occupancy")


@dataclass(frozen=True)
class Totals:
    homes: int
    licensed_beds: int
    open_beds: int
    room: int
    youths: int

    @property
    def occupancy(self) -> float | None:
        """Youths in homes per licensed bed, in percent."""
        return round(100 * self.youths / self.licensed_beds, 1) if self.licensed_beds else None


@dataclass(frozen=True)
class Dashboard:
    state: str
    totals: Totals
    tables: dict[str, Table]
    charts: dict[str, dict]  # chart data, embedded in the page as JSON
    generated_at: datetime


def _percent(part: int, whole: int) -> float | str:
    return round(100 * part / whole, 1) if whole else ""


def _in_state(state: str):
    """The dashboard's homes: the state's active homes."""
    return (Home.state == state) & Home.is_active.is_(True)


# The home columns the dashboard shows or needs for a home's status (HomeStatus.room reads
# is_active): read as plain rows, as the whole Home (with its five JSON lists) cost a third
# of the dashboard for the largest state.
DASHBOARD_HOME_COLUMNS = (Home.id, Home.provider_id, Home.name, Home.program, Home.county, Home.city,
                          Home.licensed_beds, Home.is_active, Organisation.name.label("provider_name"))


def _state_homes(session: Session, state: str) -> list:
    """The state's active homes (rows of DASHBOARD_HOME_COLUMNS), by county and name."""
    return read_rows(session, select(*DASHBOARD_HOME_COLUMNS)
                     .join(Organisation, Organisation.id == Home.provider_id)
                     .where(_in_state(state))
                     .order_by(Home.county, Home.name))


def _capacity_tables(home_statuses: list[HomeStatus]) -> tuple[Table, Table, Totals]:
    """Beds and staffed room by program and county, and by program alone."""
    by_area: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    by_program: dict[str, list[int]] = {p: [0, 0, 0, 0, 0] for p in PROGRAM_LABELS}
    for s in home_statuses:
        youths = s.latest.current_youth if s.latest else 0
        figures = (1, s.home.licensed_beds, s.open_beds, s.room, youths)
        for bucket in (by_area[(s.home.program, s.home.county)], by_program[s.home.program]):
            for i, value in enumerate(figures):
                bucket[i] += value
    columns = ("Homes", "Licensed beds", "Open beds", "Staffed room", "Youths in homes", "Occupancy %")
    area_rows = [
        (PROGRAM_LABELS[program], county, *f, _percent(f[4], f[1]))
        for (program, county), f in sorted(by_area.items(), key=lambda item: (PROGRAM_LABELS[item[0][0]], item[0][1]))
    ]
    program_rows = [(PROGRAM_LABELS[p], *f, _percent(f[4], f[1])) for p, f in by_program.items()]
    totals = Totals(*(sum(f[i] for f in by_program.values()) for i in range(5)))
    return (
        Table("capacity", "Capacity by program type and county", ("Program type", "County", *columns), area_rows),
        Table("capacity_by_program", "Capacity by program type", ("Program type", *columns), program_rows),
        totals,
    )


def _operator_contacts(session: Session, provider_ids: set[int]) -> dict[int, str]:
    if not provider_ids:
        return {}
    # Two columns, not each operator as a mapped object: a large state's stale homes have
    # hundreds of providers.
    rows = session.exec(
        select(User.organisation_id, User.email)
        .where(User.organisation_id.in_(provider_ids), User.role == "operator", User.is_active.is_(True))
        .order_by(User.id)
    ).all()
    emails: dict[int, list[str]] = defaultdict(list)
    for organisation_id, email in rows:
        emails[organisation_id].append(email)
    return {org: ", ".join(found[:OPERATOR_CONTACTS]) for org, found in emails.items()}


def _stale_table(session: Session, home_statuses: list[HomeStatus], providers: dict[int, str],
                 stale_after_hours: float, now: datetime) -> Table:
    stale = [s for s in home_statuses if s.is_stale(stale_after_hours, now)]
    contacts = _operator_contacts(session, {s.home.provider_id for s in stale})
    stale.sort(key=lambda s: -(s.age_hours(now) or float("inf")))
    rows = [
        (s.home.name, PROGRAM_LABELS[s.home.program], s.home.county, s.home.city, providers[s.home.id],
         contacts.get(s.home.provider_id, ""),
         "never" if s.updated_at is None else round(s.age_hours(now), 1))
        for s in stale
    ]
    return Table(
        "stale", f"Availability older than {stale_after_hours:g} hours",
        ("Home", "Program type", "County", "City", "Operator", "Operator contact", "Hours since update"), rows,
    )


def _waiting_table(session: Session, state: str, now: datetime) -> Table:
    """Pending requests for the state's youths or at the state's homes, oldest first."""
    # Two selects, not one with OR across the referral's and the home's state: with the OR,
    # PostgreSQL hash-joined every referral of the country (a Seq Scan) before filtering.
    columns = (Referral.case_reference, Referral.urgency, Home.name, Home.state, Home.county, PlacementRequest.created_at)
    pending = (select(*columns).join(Referral, Referral.id == PlacementRequest.referral_id)
               .join(Home, Home.id == PlacementRequest.home_id).where(PlacementRequest.status == "pending"))
    both = sa.union_all(pending.where(Referral.custody_state == state),
                        pending.where(Home.state == state, Referral.custody_state != state)).subquery()
    rows = session.exec(select(*both.c).order_by(both.c.created_at)).all()
    return Table(
        "waiting", "Requests waiting for an answer",
        ("Case reference", "Urgency", "Home", "Home state", "County", "Requested", "Hours waiting"),
        [(reference, URGENCY_LABELS[urgency], name, home_state, county, created_at,
          round(hours_between(created_at, now), 1))
         for reference, urgency, name, home_state, county, created_at in rows],
    )


def _placement_time_table(session: Session, state: str, now: datetime) -> Table:
    """Median hours from a referral's opening to its placement, over recent windows."""
    longest = now - timedelta(days=max(PLACEMENT_WINDOWS))
    rows = session.exec(
        select(Placement.started_at, Referral.created_at)
        .join(Referral, Referral.id == Placement.referral_id)
        .where(Referral.custody_state == state, Placement.started_at >= longest)
    ).all()
    table_rows = []
    for days in PLACEMENT_WINDOWS:
        since = now - timedelta(days=days)
        hours = [hours_between(opened, started) for started, opened in rows if started >= since]
        middle = median(hours)
        table_rows.append((f"Last {days} days", len(hours), "" if middle is None else round(middle, 1)))
    return Table("placement_time", "Time from referral to placement",
                 ("Window", "Placements", "Median hours"), table_rows)


def _first_point_at_or_after(moment, points: list[datetime]):
    """The number of the first of `points` (in time order) at or after `moment`; len(points)
    when none is, or `moment` is NULL (an entry no later one replaced)."""
    return sa.case(*((moment <= sa.literal(point, UTCDateTime()), number) for number, point in enumerate(points)),
                   else_=len(points))


# What the occupancy chart reads of each log entry.
_OCCUPANCY_COLUMNS = (AvailabilityUpdate.id, AvailabilityUpdate.home_id, AvailabilityUpdate.recorded_at,
                      AvailabilityUpdate.licensed_beds, AvailabilityUpdate.current_youth, AvailabilityUpdate.open_beds)


def _span_log(session: Session, where, start: datetime):
    """The log entries of the homes matching `where` that are current at some moment from
    `start` on: each home's last entry before `start` and its entries since, each with
    `until`, the time of the home's next entry (NULL for its latest), in the home's order
    of (recorded_at, id)."""
    if session.get_bind().dialect.name == "postgresql":
        # One home at a time (a lateral join): its entries come from the covering
        # ix_availability_home_time_id alone (migration 0015) and the window sorts the home's
        # ~31 entries; over the whole state at once, PostgreSQL read the rows from the table
        # and sorted the largest state's 19,400 entries together.
        home = select(Home.id).where(where).subquery("chosen")
        of_home = AvailabilityUpdate.home_id == home.c.id
        entries = sa.union_all(
            select(*_OCCUPANCY_COLUMNS).where(of_home, AvailabilityUpdate.recorded_at < start)
            .order_by(AvailabilityUpdate.recorded_at.desc(), AvailabilityUpdate.id.desc()).limit(1).correlate(home),
            select(*_OCCUPANCY_COLUMNS).where(of_home, AvailabilityUpdate.recorded_at >= start).correlate(home),
        ).subquery("entries")
        until = func.lead(entries.c.recorded_at).over(order_by=(entries.c.recorded_at, entries.c.id))
        log = select(entries, until.label("until")).lateral("log")
        return select(log).select_from(home).join(log, sa.true()).subquery("span_log")
    # SQLite has no lateral join: the last entry before the span by one index probe per
    # home, the span's entries, and the window over them all.
    before = (
        select(AvailabilityUpdate.id)
        .where(AvailabilityUpdate.home_id == Home.id, AvailabilityUpdate.recorded_at < start)
        .order_by(AvailabilityUpdate.recorded_at.desc(), AvailabilityUpdate.id.desc()).limit(1)
        .correlate(Home).scalar_subquery()
    )
    entries = sa.union_all(
        select(*_OCCUPANCY_COLUMNS).select_from(Home).join(AvailabilityUpdate, AvailabilityUpdate.id == before).where(where),
        select(*_OCCUPANCY_COLUMNS).where(AvailabilityUpdate.home_id.in_(select(Home.id).where(where)),
                                          AvailabilityUpdate.recorded_at >= start),
    ).subquery("entries")
    until = func.lead(entries.c.recorded_at).over(partition_by=entries.c.home_id,
                                                  order_by=(entries.c.recorded_at, entries.c.id))
    return select(entries, until.label("until")).subquery("span_log")


def _occupancy_table(session: Session, where, now: datetime, days: int = OCCUPANCY_DAYS) -> Table:
    """Occupancy at the end of each of the last `days` days, from the availability log of
    the homes matching the SQL condition `where`.

    Each home counts with its latest log entry (by time, then id) at that moment, as the
    dashboard would have shown it then. The database adds it up: each entry is current
    from its own time until the home's next entry, and counts at the points in that
    interval, so only a few rows leave the database.
    """
    start = now - timedelta(days=days)
    points = [now - timedelta(days=back) for back in range(days, -1, -1)]
    log = _span_log(session, where, start)
    # An entry counts at the points from the first at or after its own time up to, not
    # including, the first at or after the home's next entry. Grouping the log by those
    # two point numbers leaves a few rows to spread over the points here; joining every
    # entry to every point made PostgreSQL compare 19,000 entries with each point.
    first = _first_point_at_or_after(log.c.recorded_at, points).label("first")
    last = _first_point_at_or_after(log.c.until, points).label("last")
    spans = session.exec(
        select(first, last, func.count(log.c.home_id), func.sum(log.c.licensed_beds),
               func.sum(log.c.current_youth), func.sum(log.c.open_beds))
        .group_by(first, last)
    ).all()
    sums: dict[datetime, tuple] = {}
    for first_point, last_point, *figures in spans:
        for point in points[first_point:last_point]:
            sums[point] = tuple(map(sum, zip(sums.get(point, (0, 0, 0, 0)), (int(v or 0) for v in figures))))
    table_rows = []
    for point in points:
        reporting, licensed, youths, open_beds = (int(value or 0) for value in sums.get(point, (0, 0, 0, 0)))
        table_rows.append((point.date(), reporting, licensed, youths, open_beds, _percent(youths, licensed)))
    return Table("occupancy", f"Occupancy over the last {days} days (from the availability log)",
                 ("Day (UTC)", "Homes reporting", "Licensed beds", "Youths in homes", "Open beds", "Occupancy %"),
                 table_rows)


def _tables(session: Session, state: str, stale_after_hours: float, now: datetime, keys) -> tuple[dict[str, Table], Totals | None]:
    """The dashboard tables named in `keys` (of DASHBOARD_TABLES), each worked out only when
    asked for, and the state's totals when a capacity table was."""
    wanted, found, totals = set(keys), {}, None
    # The occupancy chart's statement is the dashboard's longest, and nearly all database
    # time: it runs beside the other tables.
    occupancy = read_beside(session, _occupancy_table, _in_state(state), now) if "occupancy" in wanted else None
    if "waiting" in wanted:
        found["waiting"] = _waiting_table(session, state, now)
    if "placement_time" in wanted:
        found["placement_time"] = _placement_time_table(session, state, now)
    if wanted & {"capacity", "capacity_by_program", "stale"}:
        homes = _state_homes(session, state)
        home_statuses = statuses(session, homes, _in_state(state))
        found["capacity"], found["capacity_by_program"], totals = _capacity_tables(home_statuses)
        if "stale" in wanted:
            providers = {home.id: home.provider_name for home in homes}
            found["stale"] = _stale_table(session, home_statuses, providers, stale_after_hours, now)
    if occupancy is not None:
        found["occupancy"] = occupancy.result()
    return {key: found[key] for key in keys}, totals


def table(session: Session, state: str, stale_after_hours: float, key: str) -> Table:
    """The dashboard's table `key` (one of DASHBOARD_TABLES) for `state`, as `dashboard` has
    it, without working out the others (a CSV export holds one table)."""
    return _tables(session, state, stale_after_hours, utcnow(), (key,))[0][key]


def dashboard(session: Session, state: str, stale_after_hours: float) -> Dashboard:
    """Every figure of the capacity dashboard for `state`, tables and chart data."""
    now = utcnow()
    tables, totals = _tables(session, state, stale_after_hours, now, DASHBOARD_TABLES)
    by_program, occupancy = tables["capacity_by_program"], tables["occupancy"]
    charts = {
        "capacity": {
            "type": "bar",
            "horizontal": True,  # program names read across a phone, not rotated
            "labels": [row[0] for row in by_program.rows],
            "series": [
                {"label": "Open beds", "data": [row[3] for row in by_program.rows]},
                {"label": "Staffed room", "data": [row[4] for row in by_program.rows]},
            ],
        },
        "occupancy": {
            "type": "line",
            "labels": [f"{row[0]:%b} {row[0].day}" for row in occupancy.rows],  # "Nov 28" fits a phone's axis
            "series": [{"label": "Occupancy %", "data": [row[5] if row[5] != "" else None for row in occupancy.rows]}],
            "max": 100,
        },
    }
    return Dashboard(state, totals, tables, charts, now)
