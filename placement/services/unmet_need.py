"""Unmet need: the children a state could not place promptly, and why.

A child counts when their referral (custody in the state, opened in the period)
was not placed within `WAIT_HOURS`: still waiting, closed unplaced, or placed late.
Each is grouped by the rule that excludes them from every home they may be placed
in, judged by `solver.eligibility` against the homes as they are now, so the
report names the kind of home the state lacks ("active substance use: no
detox-capable home in MO"). A child some home accepts waited for room instead.
Declines are counted by the operator's reason.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlmodel import Session, func, select

import numpy as np

from solver.eligibility import RULES, HomeTable, eligible_among, failures_among, is_eligible
from solver.instance import Referral as SolverReferral

from ..models import DECLINE_REASONS, Home, Placement, PlacementRequest, Referral
from ..timeutil import utcnow
from ..vocabulary import GENDER_LABELS, PROGRAM_LABELS, URGENCY_LABELS
from .solver_inputs import (ELIGIBILITY_COLUMNS, REFERRAL_ELIGIBILITY_COLUMNS, SolverHomes, eligibility_home, home_table,
                            read_rows, solver_referral)
from .tables import Period, Table, hours_between

WAIT_HOURS = 24  # a child not placed within a day of the referral waited
CAPACITY = "capacity"

# What a rule that excludes every home says about the state's homes.
RULE_TEXT = {
    "age": "age", "gender": "gender", "pregnant": "pregnancy", "parenting": "parenting",
    "substance_use": "substance use", "medical": "medical needs", "mental_health": "mental-health acuity",
    "program": "program type", "distance": "distance", "jurisdiction": "jurisdiction (ICPC)",
}


@dataclass(frozen=True)
class Reason:
    key: str
    label: str


@dataclass(frozen=True)
class UnmetNeed:
    state: str
    period: Period
    tables: dict[str, Table]
    charts: dict[str, dict]


def _age_band(age: int) -> str:
    for low, high in ((0, 11), (12, 14), (15, 17), (18, 21)):
        if low <= age <= high:
            return f"{low}-{high}"
    return str(age)


def _rule_reason(rule: str, referral: SolverReferral, area: str) -> Reason:
    """The group a child falls in when `rule` excludes every home they may go to."""
    if rule == "age":
        band = _age_band(referral.age)
        return Reason(f"age:{band}", f"Age {band}: no home in {area} accepts this age")
    if rule == "gender":
        return Reason(f"gender:{referral.gender}", f"{GENDER_LABELS[referral.gender]} youth: no home in {area} serves them")
    if rule == "pregnant":
        return Reason(rule, f"Pregnant youth: no home in {area} accepts them")
    if rule == "parenting":
        return Reason(rule, f"Parenting youth: 0 homes in {area} accept them")
    if rule == "substance_use":
        if referral.substance_use == "active":
            return Reason("substance_use:active", f"Active substance use: no detox-capable home in {area}")
        return Reason("substance_use:recovery", f"In recovery: no home with recovery support in {area}")
    if rule == "medical":
        return Reason(f"medical:{referral.medical_level}", f"Medical level {referral.medical_level}: no home in {area} serves it")
    if rule == "mental_health":
        level = referral.mental_health_level
        return Reason(f"mental_health:{level}", f"Mental-health level {level}: no home in {area} serves it")
    if rule == "program":
        wanted = " or ".join(PROGRAM_LABELS[p].lower() for p in referral.programs)
        return Reason(f"program:{','.join(referral.programs)}", f"Program asked for ({wanted}): no such home in {area}")
    if rule == "distance":
        return Reason(rule, f"Distance limit: no home in {area} near enough")
    return Reason(rule, f"Jurisdiction: no home in {area} may take them (ICPC)")


def exclusion_reason(referral: SolverReferral, failed: np.ndarray) -> Reason:
    """Why `referral` found no place among the active homes of its reachable states, from
    which rules exclude it from each (`failed`: `failures_among`'s rows, a column per home)."""
    area = referral.custody_state
    if not failed.shape[1]:
        return Reason("no_home", f"No home in {area} or its ICPC-approved states")
    if not failed.any(axis=0).all():
        return Reason(CAPACITY, "Eligible homes had no room")
    everywhere = failed.all(axis=1)
    if everywhere.any():  # the first such rule in RULES order
        return _rule_reason(RULES[int(np.argmax(everywhere))], referral, area)
    most = RULES[int(np.argmax(failed.sum(axis=1)))]  # ties: the first in RULES order
    return Reason(f"combined:{most}", f"No home fits every need (most often missing: {RULE_TEXT[most]})")


def _program_label(referral: Referral) -> str:
    return " / ".join(PROGRAM_LABELS[p] for p in referral.programs) or "Any program"


def _declines(session: Session, state: str, period: Period) -> Table:
    rows = session.exec(
        select(PlacementRequest.decline_reason, func.count(PlacementRequest.id))
        .join(Referral, Referral.id == PlacementRequest.referral_id)
        .where(PlacementRequest.status == "declined", Referral.custody_state == state,
               PlacementRequest.answered_at >= period.start, PlacementRequest.answered_at < period.end)
        .group_by(PlacementRequest.decline_reason)
    ).all()
    total = sum(count for _, count in rows)
    ordered = sorted(rows, key=lambda row: (-row[1], row[0]))
    return Table("declines", "Declines by reason", ("Reason", "Declines", "Share %"),
                 [(DECLINE_REASONS.get(reason, reason), count, round(100 * count / total, 1)) for reason, count in ordered])


# The referral columns the report reads: the eligibility rules' (solver_referral) and the
# children table's. Plain rows, not Referral objects: the ORM's per-row work was a fifth
# of the report for the largest state.
REFERRAL_COLUMNS = (*REFERRAL_ELIGIBILITY_COLUMNS, Referral.case_reference, Referral.status, Referral.created_at,
                    Referral.county)


@dataclass(frozen=True)
class UnmetChild:
    referral: tuple  # a row of REFERRAL_COLUMNS
    outcome: str
    hours_waited: float
    reason: Reason


def _waiting(session: Session, state: str, period: Period) -> list[tuple]:
    """The referrals (custody in `state`, opened in `period`) not placed within WAIT_HOURS,
    oldest first: (row of REFERRAL_COLUMNS, first placement's start or None, hours waited)."""
    now = utcnow()
    # Each referral's first placement by an index probe per referral, not a grouping of the
    # whole country's placements.
    placed_at = (select(func.min(Placement.started_at)).where(Placement.referral_id == Referral.id)
                 .correlate(Referral).scalar_subquery().label("placed_at"))
    rows = read_rows(session, select(*REFERRAL_COLUMNS, placed_at)
                     .where(Referral.custody_state == state, Referral.created_at >= period.start,
                            Referral.created_at < period.end)
                     .order_by(Referral.created_at))
    waiting = []
    for row in rows:
        waited = hours_between(row.created_at, row.placed_at or now)
        if row.placed_at is None or waited > WAIT_HOURS:
            waiting.append((row, row.placed_at, waited))
    return waiting


WITNESSES = 16  # homes that accepted an earlier child, tried first for the next one


class _Acceptance:
    """Whether some home of a table accepts a child, by the rules of `is_eligible`.

    Most children of a state are accepted by one of a few broad homes: the homes that
    accepted earlier children (witnesses, most recent success first) are tried one by one
    with `is_eligible`, which stops at a home's first failing rule; only a child none of
    them accepts is tested against all its candidates at once (`eligible_among`). For the
    largest state this left 30 of 760 children to the bulk test (1.7 ms instead of 28 ms).
    """

    def __init__(self, table: HomeTable | None):
        self.table, self.witnesses = table, []

    def accepts(self, referral: SolverReferral, candidates: np.ndarray) -> bool:
        """Some home of `candidates` (rows of the table) accepts `referral`. A witness
        accepted by `is_eligible` is always in reach: the jurisdiction rule is one of them."""
        for number, home in enumerate(self.witnesses):
            if is_eligible(home, referral):
                self.witnesses.insert(0, self.witnesses.pop(number))
                return True
        found = eligible_among(self.table, referral, candidates)
        if found.size:
            self.witnesses.insert(0, self.table.homes[int(found[0])])
            del self.witnesses[WITNESSES:]
        return bool(found.size)


def _homes_table(session: Session, where) -> tuple[HomeTable, dict[str, np.ndarray]]:
    """The active homes matching the SQL condition `where` (rows of ELIGIBILITY_COLUMNS)
    as a table for the bulk rules, and each state's row numbers in it."""
    rows = read_rows(session, select(*ELIGIBILITY_COLUMNS).where(Home.is_active.is_(True) & where))
    numbers: dict[str, list[int]] = defaultdict(list)
    for number, row in enumerate(rows):
        numbers[row.state].append(number)
    return (home_table(rows, SolverHomes(rows, eligibility_home)),
            {home_state: np.array(found) for home_state, found in numbers.items()})


def _unmet_children(session: Session, state: str, period: Period) -> list[UnmetChild]:
    """Each child of `state` who waited or could not be placed in `period`, with the reason."""
    waiting = [(referral, placed_at, waited, solver_referral(referral))
               for referral, placed_at, waited in _waiting(session, state, period)]
    if not waiting:
        return []
    # First the state's own homes, which accept almost every child. Only for a child none of
    # them accepts are its ICPC-approved states' homes read: those that take out-of-state youth
    # may accept it, and the others (refused by the jurisdiction rule) name the reason.
    own, own_rows = _homes_table(session, Home.state == state)
    own_candidates = own_rows.get(state, np.arange(0))
    own_acceptance = _Acceptance(own)
    refused = [child for child in waiting if not own_acceptance.accepts(child[3], own_candidates)]
    elsewhere = {s for *_, wanted in refused for s in wanted.icpc_approved_states} - {state}
    other, other_rows = _homes_table(session, Home.state.in_(elsewhere)) if elsewhere else (None, {})
    other_acceptance = _Acceptance(other)
    in_reach: dict[tuple[str, ...], np.ndarray] = {}
    reasons = {}
    for referral, _, _, wanted in refused:
        reach = tuple(sorted(set(wanted.icpc_approved_states) - {state}))
        if reach and reach not in in_reach:
            in_reach[reach] = np.concatenate([other_rows.get(s, np.arange(0)) for s in reach])
        if reach and other_acceptance.accepts(wanted, in_reach[reach]):
            continue
        failed = failures_among(own, wanted, own_candidates)
        if reach:
            failed = np.concatenate([failed, failures_among(other, wanted, in_reach[reach])], axis=1)
        reasons[referral.id] = exclusion_reason(wanted, failed)
    children = []
    for referral, placed_at, waited, wanted in waiting:
        reason = reasons.get(referral.id) or Reason(CAPACITY, "Eligible homes had no room")
        if placed_at is not None:
            outcome = "placed after a wait"
        elif referral.status == "closed":
            outcome = "closed unplaced"
        else:
            outcome = "still waiting"
        children.append(UnmetChild(referral, outcome, waited, reason))
    return children


def _summary(children: list[UnmetChild]) -> tuple[Table, Table, dict]:
    """The by-reason and by-area tables of `children`, and the chart of the reasons."""
    by_reason, by_area = {}, Counter()
    for child in children:
        counts = by_reason.setdefault(child.reason, Counter())
        counts["children"] += 1
        counts[child.outcome] += 1
        counts["emergency"] += child.referral.urgency == "emergency"
        by_area[(child.referral.county, _program_label(child.referral), child.reason.label)] += 1
    reason_rows = [
        (reason.label, c["children"], c["still waiting"], c["placed after a wait"], c["closed unplaced"], c["emergency"])
        for reason, c in sorted(by_reason.items(), key=lambda item: (-item[1]["children"], item[0].label))
    ]
    chart = {"type": "bar", "horizontal": True, "labels": [row[0] for row in reason_rows],
             "series": [{"label": "Children", "data": [row[1] for row in reason_rows]}]}
    return (
        Table("unmet_by_reason", "Children who waited or could not be placed, by excluding rule",
              ("Reason", "Children", "Still waiting", "Placed after a wait", "Closed unplaced", "Emergency"),
              reason_rows),
        Table("unmet_by_area", "By county and program type",
              ("County", "Program type asked for", "Reason", "Children"),
              [(*key, count) for key, count in sorted(by_area.items())]),
        chart,
    )


def dashboard_figures(session: Session, state: str, period: Period) -> UnmetNeed:
    """What the capacity dashboard shows of `report`: the reasons chart and the by-area
    table, the same figures, without the children's table and the declines."""
    _, by_area, chart = _summary(_unmet_children(session, state, period))
    return UnmetNeed(state, period, {by_area.key: by_area}, {"unmet": chart})


def report(session: Session, state: str, period: Period) -> UnmetNeed:
    """The unmet-need tables and chart for `state` over `period`."""
    children = _unmet_children(session, state, period)
    by_reason, by_area, chart = _summary(children)
    children_table = Table(
        "unmet_children", "Children (case references)",
        ("Case reference", "County", "Urgency", "Age", "Opened", "Outcome", "Hours waited", "Reason"),
        [(c.referral.case_reference, c.referral.county, URGENCY_LABELS[c.referral.urgency], c.referral.age,
          c.referral.created_at, c.outcome, round(c.hours_waited, 1), c.reason.label) for c in children])
    tables = {table.key: table for table in (by_reason, by_area, children_table, _declines(session, state, period))}
    return UnmetNeed(state, period, tables, {"unmet": chart})
