"""Rows to solver inputs: the only place the web app builds solver dataclasses.

Search and matcher runs both go through here, so eligibility and fit are
computed by `solver/` in exactly one way.
"""
from __future__ import annotations

import json
from collections import defaultdict, namedtuple
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from solver.eligibility import TABLE_FIELDS, HomeTable
from solver.instance import Home as SolverHome
from solver.instance import Location
from solver.instance import Referral as SolverReferral

from ..models import Home, Referral
from .homes import HomeStatus


def home_key(home_id: int) -> str:
    """The solver's id for a home row."""
    return f"h{home_id}"


def referral_key(referral_id: int) -> str:
    """The solver's id for a referral row."""
    return f"r{referral_id}"


def parse_key(key: str) -> int:
    """The row id inside a solver id (`home_key` or `referral_key`)."""
    return int(key[1:])


def solver_home(status: HomeStatus) -> SolverHome:
    """The home as the matcher sees it: tonight's figures net of live holds and requests."""
    home: Home = status.home
    latest = status.latest
    return SolverHome(
        id=home_key(home.id),
        state=home.state,
        location=Location(home.lat, home.lon),
        program=home.program,
        open_beds=status.open_beds if home.is_active else 0,
        current_youth=status.current_youth,
        staff_on_duty=latest.staff_on_duty if latest else 0,
        youth_per_staff=latest.youth_per_staff if latest else 1,
        ages=(home.min_age, home.max_age),
        genders=tuple(home.genders),
        accepts_pregnant=home.accepts_pregnant,
        accepts_parenting=home.accepts_parenting,
        substance_use_support=home.substance_use_support,
        medical_level=home.medical_level,
        mental_health_level=home.mental_health_level,
        languages=tuple(home.languages),
        cultural_services=tuple(home.cultural_services),
        accepts_out_of_state=home.accepts_out_of_state,
        tribal_approvals=tuple(home.tribal_approvals or ()),
        native_serving=home.native_serving,
    )


# The home columns `solver_home` reads: selecting only these (as plain rows) is enough for
# the eligibility rules, which never look at availability (capacity is not a rule).
ELIGIBILITY_COLUMNS = (
    Home.id, Home.state, Home.lat, Home.lon, Home.program, Home.is_active, Home.min_age, Home.max_age, Home.genders,
    Home.accepts_pregnant, Home.accepts_parenting, Home.substance_use_support, Home.medical_level,
    Home.mental_health_level, Home.languages, Home.cultural_services, Home.accepts_out_of_state,
    Home.tribal_approvals, Home.native_serving,
    Home.county,  # keep-away areas by county (services.protections.home_in_area)
)


@lru_cache(maxsize=4096)
def _json_list(text: str | None) -> tuple:
    return tuple(json.loads(text)) if text else ()


@lru_cache(maxsize=32)
def _row_type(names: tuple[str, ...]):
    return namedtuple("HomeRow", names)


def read_rows(session: Session, statement) -> list:
    """The rows of a select of plain columns (such as ELIGIBILITY_COLUMNS), as named tuples.

    For the thousands of homes a search or report reads: a JSON list column is fetched as
    its text and each distinct text decoded once (homes share a handful of gender, language
    and service lists), giving a tuple; a named tuple's fields read faster than a result
    row's, and solver_home reads twenty per home.
    """
    columns = list(statement.selected_columns)
    lists = [i for i, c in enumerate(columns) if isinstance(c.type, sa.JSON)]
    texts = statement.with_only_columns(
        *(sa.cast(c, sa.Text).label(c.key) if i in lists else c for i, c in enumerate(columns)),
        maintain_column_froms=True)
    make = _row_type(tuple(c.key for c in columns))._make
    found = []
    # Core, not the ORM's exec: plain columns need none of its per-row loading work, which
    # cost a fifth of a 2,000-home search.
    for row in session.connection().execute(texts).all():
        values = list(row)
        for i in lists:
            values[i] = _json_list(values[i])
        found.append(make(values))
    return found


def eligibility_home(row) -> SolverHome:
    """A home row of ELIGIBILITY_COLUMNS as the eligibility rules see it: no availability
    (open beds and staffing are zero), for asking who may go where, never who fits tonight."""
    return solver_home(HomeStatus(row, None, 0))


# The referral columns solver_referral reads: a report that builds solver referrals from
# plain rows (unmet_need) selects these, so a rule's new field is read wherever it is used.
REFERRAL_ELIGIBILITY_COLUMNS = (
    Referral.id, Referral.custody_state, Referral.lat, Referral.lon, Referral.age, Referral.gender,
    Referral.urgency, Referral.pregnant, Referral.children_with, Referral.substance_use, Referral.medical_level,
    Referral.mental_health_level, Referral.language, Referral.cultural_need, Referral.icpc_approved_states,
    Referral.programs, Referral.max_distance_km, Referral.sibling_group, Referral.has_run_before,
)


def solver_referral(referral: Referral, protections: dict | None = None) -> SolverReferral:
    """The referral as the matcher sees it. `protections` (from
    `services.protections.solver_fields`) adds its keep-away, keep-apart and ICWA fields;
    without it the referral carries none (what an operator's view may be built from)."""
    return SolverReferral(
        id=referral_key(referral.id),
        custody_state=referral.custody_state,
        location=Location(referral.lat, referral.lon),
        age=referral.age,
        gender=referral.gender,
        urgency=referral.urgency,
        pregnant=referral.pregnant,
        children_with=referral.children_with,
        substance_use=referral.substance_use,
        medical_level=referral.medical_level,
        mental_health_level=referral.mental_health_level,
        language=referral.language,
        cultural_need=referral.cultural_need,
        icpc_approved_states=tuple(referral.icpc_approved_states),
        programs=tuple(referral.programs),
        max_distance_km=referral.max_distance_km,
        sibling_group=referral.sibling_group,
        has_run_before=referral.has_run_before,
        **(protections or {}),
    )


class SolverHomes:
    """Home i of `rows` as the solver sees it (`make(row)`), made when first indexed and kept:
    the bulk rules look at one only at a rounding boundary, a scan that stops at the first
    eligible home reads a few of thousands, and a reason is worded only for a child no home
    accepts."""

    def __init__(self, rows: list, make: Callable[[Any], SolverHome]):
        self._rows, self._make = rows, make
        self._made: list[SolverHome | None] = [None] * len(rows)

    def __getitem__(self, i) -> SolverHome:
        home = self._made[i]
        if home is None:
            home = self._made[i] = self._make(self._rows[i])
        return home

    def __len__(self) -> int:
        return len(self._rows)


def home_table(rows: list, homes: SolverHomes) -> HomeTable:
    """The rules' columns of the homes in `rows` (of ELIGIBILITY_COLUMNS), read straight
    from the rows' columns: the same values `solver_home` and `eligibility_home` give
    each home, without a solver home per row."""
    columns = dict(zip(rows[0]._fields, zip(*rows))) if rows else defaultdict(tuple)
    return HomeTable.from_columns(
        homes, ids=[home_key(i) for i in columns["id"]], min_age=columns["min_age"],
        max_age=columns["max_age"], lat=columns["lat"], lon=columns["lon"],
        **{name: columns[name] for name in TABLE_FIELDS})
