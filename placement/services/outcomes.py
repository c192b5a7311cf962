"""Outcome figures: do placements last, who goes missing, and who is served worse.

Per placement: still in place 7, 30 and 90 days after it began (unknown until
that day comes for a placement still running) and its missing episodes. For
coordinators: stability rates by program and by home type, report deadlines
missed, youths missing more than once, the same rates split by group (the
equity view), and decline and disruption reasons per home.

Small cells: a group with fewer than 5 placements shows no figures, a count
from 1 to 4 is shown as "fewer than 5", and a rate is shown only when at least
5 placements are behind it, so no table points at an individual youth.
"""
from __future__ import annotations

from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, func, select

from solver.eligibility import exclusions

from ..database import read_beside
from ..models import (DECLINE_REASONS, Home, MissingEpisode, MissingReport, Placement,
                      PlacementRequest, Referral, User)
from ..timeutil import utcnow
from ..vocabulary import GENDER_LABELS, PROGRAM_LABELS
from . import lifecycle
from .homes import operator_homes, statuses
from .id_lists import among
from .solver_inputs import solver_home, solver_referral

DAYS = (7, 30, 90)
SMALL_CELL = 5
HIDDEN = "fewer than 5"


class PlacementOutcome(NamedTuple):
    """One placement's outcome (a named tuple: a state has thousands, made on every view)."""

    placement: "PlacementFacts"
    home: "HomeFacts"
    referral: "ReferralFacts"
    in_place: dict[int, bool | None]  # day -> still there (None: that day has not come yet)
    missing_episodes: int  # episodes that ended this placement (0 or 1)


# Each of DAYS as a timedelta, made once: a state's outcomes ask `in_place_at` three times
# per placement, and making timedelta(days=day) each time took 4.3 ms of CPU for CA's 2,265
# placements against 1.6 ms (29 November 2026, in-process, load 2.9).
_SPANS = {day: timedelta(days=day) for day in DAYS}


def in_place_at(placement: Placement, day: int, now: datetime) -> bool | None:
    """Was the youth still in this placement `day` days (one of DAYS) after it began?"""
    mark = placement.started_at + _SPANS[day]
    if placement.ended_at is not None and placement.ended_at < mark:
        return False
    return None if now < mark else True


# What the outcome figures read of a placement, its home and its referral (see EQUITY_SPLITS,
# home_type): a state's placements run to thousands, so these columns are read as plain
# values rather than every column (and JSON list) of each row as a mapped object.
PlacementFacts = namedtuple("PlacementFacts", "id started_at ended_at end_reason disruption_reason request_id")
HomeFacts = namedtuple("HomeFacts", "id name program licensed_beds state")
ReferralFacts = namedtuple("ReferralFacts", "id case_reference gender age cultural_need custody_state icwa_applies")
_FACT_COLUMNS = (
    (PlacementFacts, [getattr(Placement, name) for name in PlacementFacts._fields]),
    (HomeFacts, [getattr(Home, name) for name in HomeFacts._fields]),
    (ReferralFacts, [getattr(Referral, name) for name in ReferralFacts._fields]),
)


def placement_outcomes(session: Session, where, now: datetime | None = None) -> list[PlacementOutcome]:
    """Outcomes of the placements matching the SQL condition `where` (an access scope)."""
    now = now or utcnow()
    scoped = (
        select(Placement.id)
        .join(Home, Home.id == Placement.home_id)
        .join(Referral, Referral.id == Placement.referral_id)
        .where(where)
    )
    columns = [column for _, group in _FACT_COLUMNS for column in group]
    # A placement ends in at most one missing episode (uq_missing_episode_placement): an outer
    # join finds it, where a second select counted episodes over the scope joined again.
    # Through Core, not the ORM's execute, whose per-row loading work plain columns do not need.
    rows = session.connection().execute(
        scoped.with_only_columns(*columns, MissingEpisode.id)
        .outerjoin(MissingEpisode, MissingEpisode.placement_id == Placement.id)
        .order_by(Placement.started_at)
    ).all()
    home_at = len(PlacementFacts._fields)  # where each kind's columns begin in a row
    referral_at = home_at + len(HomeFacts._fields)
    result = []
    for row in rows:
        placement = PlacementFacts._make(row[:home_at])
        result.append(PlacementOutcome(placement, HomeFacts._make(row[home_at:referral_at]),
                                       ReferralFacts._make(row[referral_at:-1]),
                                       {day: in_place_at(placement, day, now) for day in DAYS}, int(row[-1] is not None)))
    return result


@dataclass(frozen=True)
class Rate:
    """A share with small-cell suppression built into its text."""

    numerator: int
    denominator: int

    @property
    def shown(self) -> bool:
        return self.denominator >= SMALL_CELL

    @property
    def percent(self) -> int | None:
        return round(100 * self.numerator / self.denominator) if self.shown else None

    def __str__(self) -> str:
        return f"{self.percent}% of {self.denominator}" if self.shown else HIDDEN if self.denominator else "no data yet"


def count_text(value: int) -> str:
    """A count with small cells hidden (0 is shown: it points at no one)."""
    return HIDDEN if 0 < value < SMALL_CELL else str(value)


@dataclass(frozen=True)
class GroupRow:
    label: str
    placements: int
    stayed: dict[int, Rate]
    ended_missing: Rate

    @property
    def hidden(self) -> bool:
        return self.placements < SMALL_CELL

    @property
    def placements_text(self) -> str:
        return count_text(self.placements)


def _row(label: str, items: list[PlacementOutcome]) -> GroupRow:
    stayed = {}
    for day in DAYS:
        known = [item.in_place[day] for item in items if item.in_place[day] is not None]
        stayed[day] = Rate(sum(known), len(known))
    return GroupRow(label, len(items), stayed, Rate(sum(item.missing_episodes > 0 for item in items), len(items)))


def split(items: list[PlacementOutcome], key: Callable[[PlacementOutcome], str], order: list[str]) -> list[GroupRow]:
    """One row per group, in `order` (groups with no placements are left out)."""
    groups: dict[str, list[PlacementOutcome]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return [_row(label, groups[label]) for label in order if groups.get(label)]


def home_type(home: Home) -> str:
    """The setting: a foster family, or a group home by size (small homes are thought steadier)."""
    if home.program == "therapeutic_foster":
        return "Foster family"
    return "Small group home (up to 6 beds)" if home.licensed_beds <= 6 else "Larger group home (7+ beds)"


HOME_TYPES = ["Foster family", "Small group home (up to 6 beds)", "Larger group home (7+ beds)"]
AGE_BANDS = ["Under 12", "12-14", "15-17", "18-21"]


def age_band(age: int) -> str:
    return AGE_BANDS[0] if age < 12 else AGE_BANDS[1] if age <= 14 else AGE_BANDS[2] if age <= 17 else AGE_BANDS[3]


def _has_need(need: str, yes: str, no: str) -> tuple[Callable[[PlacementOutcome], str], list[str]]:
    return (lambda item: yes if item.referral.cultural_need == need else no), [yes, no]


# (title, group of a placement, groups in display order)
EQUITY_SPLITS = (
    ("Gender", lambda item: GENDER_LABELS[item.referral.gender], list(GENDER_LABELS.values())),
    ("Age band", lambda item: age_band(item.referral.age), AGE_BANDS),
    ("Native youth", *_has_need("native", "Native youth", "Other youth")),
    ("LGBTQ+ need", *_has_need("lgbtq_affirming", "LGBTQ+ affirming care needed", "Other youth")),
)


@dataclass(frozen=True)
class ReportFigures:
    open_episodes: int
    overdue_now: int  # open episodes whose clock is overdue (lifecycle.overdue_now)
    late_reports: int  # reports made after their deadline (lifecycle.made_late)


def report_figures(session: Session, where, now: datetime | None = None) -> ReportFigures:
    """The missing-episode report counts of the episodes matching `where` (an access scope),
    added up by the database: one row leaves it, not every episode and report."""
    now = now or utcnow()

    def reports_made(*late):
        # An index probe per episode of the scope (ix_missing_report_episode_id), not a
        # grouping of the whole country's reports.
        return (select(func.count(MissingReport.id)).where(MissingReport.episode_id == MissingEpisode.id, *late)
                .correlate(MissingEpisode).scalar_subquery())

    # Per episode of the scope: open or not, its deadline, reports made (one per kind at most,
    # uq_missing_report_kind) and reports made late, by the rules the episode's Clock applies.
    episodes = (
        select(MissingEpisode.closed_at.is_(None).label("is_open"), MissingEpisode.reports_due_at.label("due_at"),
               reports_made().label("made"),
               reports_made(lifecycle.made_late(MissingReport.made_at, MissingEpisode.reports_due_at)).label("late"))
        .join(Referral, Referral.id == MissingEpisode.referral_id)
        .join(Home, Home.id == MissingEpisode.home_id)
        .where(where)
        .subquery("episodes")
    )
    is_open = episodes.c.is_open.is_(True)
    overdue = is_open & lifecycle.overdue_now(episodes.c.due_at, now, episodes.c.made)
    open_count, overdue_count, late = session.exec(
        select(func.sum(sa.case((is_open, 1), else_=0)), func.sum(sa.case((overdue, 1), else_=0)),
               func.sum(episodes.c.late))
    ).one()
    return ReportFigures(int(open_count or 0), int(overdue_count or 0), int(late or 0))


def repeat_missing(session: Session, where) -> list[tuple[Referral, int]]:
    """Youths (by case reference) with two or more missing episodes, most episodes first."""
    # Episodes counted per youth first, then only those youths read: grouping the joined
    # referral rows read every referral of the scope in full (a Bitmap Heap Scan of the
    # state's 5,600), where the ids alone come from ix_referral_custody_state_id.
    episodes = (
        select(MissingEpisode.referral_id, func.count(MissingEpisode.id).label("episodes"))
        .join(Referral, Referral.id == MissingEpisode.referral_id)
        .join(Home, Home.id == MissingEpisode.home_id)
        .where(where)
        .group_by(MissingEpisode.referral_id)
        .having(func.count(MissingEpisode.id) >= 2)
        .subquery("episodes")
    )
    rows = session.exec(select(Referral, episodes.c.episodes).join(episodes, episodes.c.referral_id == Referral.id)).all()
    return sorted(rows, key=lambda row: (-row[1], row[0].case_reference))


@dataclass(frozen=True)
class HomeReasons:
    home: Home
    declines: Counter
    disruptions: Counter


def reasons_per_home(session: Session, homes: list[Home]) -> list[HomeReasons]:
    """Decline and disruption reasons counted per home (homes with none are left out), in
    the order of `homes`."""
    ids = [home.id for home in homes]
    if not ids:
        return []
    declines: dict[int, Counter] = defaultdict(Counter)
    for home_id, reason, n in session.exec(
        select(PlacementRequest.home_id, PlacementRequest.decline_reason, func.count(PlacementRequest.id))
        .where(among(PlacementRequest.home_id, ids), PlacementRequest.status == "declined")
        .group_by(PlacementRequest.home_id, PlacementRequest.decline_reason)
    ).all():
        declines[home_id][reason] = n
    disruptions: dict[int, Counter] = defaultdict(Counter)
    for home_id, reason, n in session.exec(
        select(Placement.home_id, Placement.disruption_reason, func.count(Placement.id))
        .where(among(Placement.home_id, ids), Placement.disruption_reason.is_not(None))
        .group_by(Placement.home_id, Placement.disruption_reason)
    ).all():
        disruptions[home_id][reason] = n
    return [HomeReasons(home, declines[home.id], disruptions[home.id]) for home in homes
            if declines.get(home.id) or disruptions.get(home.id)]


def most_declines_first(rows: list[HomeReasons]) -> list[HomeReasons]:
    """The homes that declined or lost the most youths first (a large state lists hundreds:
    a phone shows the first few), ties in the order given."""
    return sorted(rows, key=lambda row: -(row.declines.total() + row.disruptions.total()))


ICWA_STEP_LABELS = {2: "Step 2: foster home approved by the youth's tribe", 3: "Step 3: Indian foster home",
                    4: "Step 4: institution approved by a tribe or Indian-run", None: "Outside the preference order"}


def icwa_by_step(session: Session, items: list[PlacementOutcome]) -> list[GroupRow]:
    """Placements of youths ICWA applies to, by the preference step recorded when the
    placement was requested (small cells hidden like every other row)."""
    icwa = [item for item in items if item.referral.icwa_applies]
    ids = [item.placement.request_id for item in icwa]
    steps = dict(session.exec(select(PlacementRequest.id, PlacementRequest.icwa_step)
                              .where(PlacementRequest.id.in_(ids))).all()) if ids else {}
    return split(icwa, lambda item: ICWA_STEP_LABELS[steps.get(item.placement.request_id)], list(ICWA_STEP_LABELS.values()))


def custody_in(state: str):
    """The coordinator's scope: youths in `state`'s custody, wherever they are placed."""
    return Referral.custody_state == state


def _beside_placements(session: Session, state: str, scope, now: datetime) -> tuple:
    """The outcomes page's figures that do not read the state's placements: the missing-episode
    counts, the youths missing more than once, and each home's declines and disruptions."""
    # The state's homes as (id, name) rows: the reasons table shows only the name.
    homes = list(session.exec(select(Home.id, Home.name).where(Home.state == state).order_by(Home.name)).all())
    return (report_figures(session, scope, now), repeat_missing(session, scope),
            most_declines_first(reasons_per_home(session, homes)))


def coordinator_view(session: Session, state: str) -> dict:
    """Everything the coordinator's outcomes page shows for youths in `state`'s custody."""
    scope = custody_in(state)
    now = utcnow()
    # Read beside the placements, whose thousands of rows (for a large state) the page's own
    # thread works through meanwhile.
    beside = read_beside(session, _beside_placements, state, scope, now)
    items = placement_outcomes(session, scope, now)
    figures = {
        "state": state,
        "now": now,
        "total": _row("All placements", items),
        "by_program": split(items, lambda item: PROGRAM_LABELS[item.home.program], list(PROGRAM_LABELS.values())),
        "by_home_type": split(items, lambda item: home_type(item.home), HOME_TYPES),
        "equity": [(title, split(items, key, order)) for title, key, order in EQUITY_SPLITS],
        "icwa": icwa_by_step(session, items),
        "days": DAYS,
        "decline_labels": DECLINE_REASONS,
    }
    figures["reports"], figures["repeat_missing"], figures["reasons"] = beside.result()
    return figures


# The provider's mirror ------------------------------------------------------------------

@dataclass(frozen=True)
class DeclinedProfile:
    referral: Referral
    declined_at: datetime | None
    reasons_criteria_give: list[str]  # what the published criteria say excludes the youth (empty: they accept them)


@dataclass(frozen=True)
class HomeFeedback:
    home: Home
    reasons: HomeReasons
    mismatches: list[DeclinedProfile]

    @property
    def criteria_accept(self) -> int:
        """'Criteria mismatch' declines of youths the home's own published criteria accept."""
        return sum(not profile.reasons_criteria_give for profile in self.mismatches)


def for_operator(session: Session, operator: User) -> list[HomeFeedback]:
    """Per own home: decline and disruption counts, and each 'criteria mismatch' decline
    set against the home's published criteria (the matcher's own eligibility rules)."""
    homes = operator_homes(session, operator)
    reasons = {row.home.id: row for row in reasons_per_home(session, homes)}
    result = []
    declined_at: dict[int, list] = defaultdict(list)
    if homes:
        for request, referral in session.exec(
            select(PlacementRequest, Referral).join(Referral, Referral.id == PlacementRequest.referral_id)
            .where(PlacementRequest.home_id.in_([home.id for home in homes]),
                   PlacementRequest.decline_reason == "criteria_mismatch")
            .order_by(PlacementRequest.answered_at.desc())
        ).all():
            declined_at[request.home_id].append((request, referral))
    for status in statuses(session, homes):
        home = status.home
        declined = declined_at[home.id]
        profiles = [
            DeclinedProfile(referral, request.answered_at,
                            [e.message for e in exclusions(solver_home(status), solver_referral(referral)) if e.rule != "distance"])
            for request, referral in declined
        ]
        result.append(HomeFeedback(home, reasons.get(home.id, HomeReasons(home, Counter(), Counter())), profiles))
    return result
