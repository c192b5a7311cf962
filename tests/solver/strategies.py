"""Hypothesis strategies for small random instances, and the brute-force optimum the
engine is checked against (shared by the property tests)."""
from __future__ import annotations

import dataclasses
import itertools

from hypothesis import strategies as st

from solver.eligibility import is_eligible, room
from solver.fit import fit
from solver.icwa import preference_step, rank
from solver.instance import GENDERS, PROGRAMS, URGENCIES, Circle, Home, Instance, Location, Referral

STATES = ("MO", "KS")

locations = st.builds(Location, st.floats(37.0, 40.0), st.floats(-97.0, -90.0))
levels = st.integers(0, 3)
TRIBES = ("Osage Nation", "Cherokee Nation")


@st.composite
def homes(draw, index: int = 0) -> Home:
    low = draw(st.integers(10, 17))
    return Home(
        id=f"h{index}", state=draw(st.sampled_from(STATES)), location=draw(locations),
        program=draw(st.sampled_from(PROGRAMS)), open_beds=draw(st.integers(0, 3)),
        current_youth=draw(st.integers(0, 4)), staff_on_duty=draw(st.integers(0, 3)),
        youth_per_staff=draw(st.integers(1, 3)), ages=(low, draw(st.integers(low, 21))),
        genders=tuple(draw(st.lists(st.sampled_from(GENDERS), min_size=1, max_size=3, unique=True))),
        accepts_pregnant=draw(st.booleans()), accepts_parenting=draw(st.booleans()),
        substance_use_support=draw(st.sampled_from(("none", "recovery", "detox"))),
        medical_level=draw(levels), mental_health_level=draw(levels),
        languages=tuple(draw(st.lists(st.sampled_from(("en", "es")), min_size=1, unique=True))),
        cultural_services=tuple(draw(st.lists(st.just("native"), max_size=1))),
        accepts_out_of_state=draw(st.booleans()),
        tribal_approvals=tuple(draw(st.lists(st.sampled_from(TRIBES), max_size=1))),
        native_serving=draw(st.booleans()),
    )


@st.composite
def referrals(draw, index: int = 0, state: str | None = None, group: str | None = None) -> Referral:
    return Referral(
        id=f"r{index}", custody_state=state or draw(st.sampled_from(STATES)), location=draw(locations),
        age=draw(st.integers(10, 19)), gender=draw(st.sampled_from(GENDERS)),
        urgency=draw(st.sampled_from(URGENCIES)), pregnant=draw(st.booleans()),
        children_with=draw(st.sampled_from((0, 0, 0, 1, 2))),
        substance_use=draw(st.sampled_from(("none", "recovery", "active"))),
        medical_level=draw(st.integers(0, 2)), mental_health_level=draw(st.integers(0, 2)),
        language=draw(st.sampled_from(("en", "es"))),
        cultural_need=draw(st.sampled_from((None, None, "native"))),
        icpc_approved_states=tuple(draw(st.lists(st.sampled_from(STATES), max_size=2, unique=True))),
        programs=tuple(draw(st.lists(st.sampled_from(PROGRAMS), max_size=2, unique=True))),
        max_distance_km=draw(st.sampled_from((None, None, 150.0, 400.0))),
        sibling_group=group, has_run_before=draw(st.booleans()),
        icwa=(icwa := draw(st.sampled_from((False, False, True)))),
        tribe=draw(st.sampled_from((None, *TRIBES))) if icwa else None,
    )


@st.composite
def instances(draw, max_homes: int = 4, max_referrals: int = 8) -> Instance:
    n_homes = draw(st.integers(0, max_homes))
    n_referrals = draw(st.integers(0, max_referrals))
    # A few referrals form sibling groups; a group shares one custody state.
    groups = draw(st.lists(st.sampled_from((None, None, None, "g1", "g2")), min_size=n_referrals,
                           max_size=n_referrals))
    group_state = {g: draw(st.sampled_from(STATES)) for g in ("g1", "g2")}
    drawn = Instance(
        homes=tuple(draw(homes(i)) for i in range(n_homes)),
        referrals=tuple(draw(referrals(i, group_state.get(g), g)) for i, g in enumerate(groups)),
    )
    return draw(protected(drawn)) if draw(st.booleans()) else drawn


@st.composite
def protected(draw, instance: Instance) -> Instance:
    """`instance` with protective rules drawn on it: keep-apart links (never inside a
    sibling group), keep-away homes and circles, and homes a keep-apart youth is at."""
    home_ids = [h.id for h in instance.homes]
    changed = []
    for referral in instance.referrals:
        others = [r.id for r in instance.referrals if r.id != referral.id
                  and (referral.sibling_group is None or r.sibling_group != referral.sibling_group)]
        apart = tuple(draw(st.lists(st.sampled_from(others), max_size=2, unique=True))) if others and draw(st.booleans()) else ()
        away = tuple(draw(st.lists(st.sampled_from(home_ids), max_size=2, unique=True))) if home_ids else ()
        at = tuple(draw(st.lists(st.sampled_from(home_ids), max_size=1))) if home_ids else ()
        circles = tuple(draw(st.lists(st.builds(Circle, locations, st.sampled_from((50.0, 150.0))), max_size=1)))
        changed.append(dataclasses.replace(referral, keep_apart=apart, keep_away_homes=away, keep_apart_homes=at,
                                           keep_away_circles=circles))
    return Instance(instance.homes, tuple(changed))


def without_rules(instance: Instance) -> Instance:
    """The same instance with every keep-away and keep-apart rule removed."""
    return Instance(instance.homes, tuple(
        dataclasses.replace(r, keep_apart=(), keep_away_homes=(), keep_apart_homes=(), keep_away_circles=())
        for r in instance.referrals))


def _icwa_best(instance: Instance) -> dict[str, int]:
    """Per ICWA referral: the best step (ranked) among homes eligible for its whole sibling
    group with room for it, by the contract's definition of the ICWA level."""
    group: dict[str, list[Referral]] = {}
    for r in instance.referrals:
        group.setdefault(r.sibling_group or r.id, []).append(r)
    best = {}
    for r in instance.referrals:
        members = group[r.sibling_group or r.id]
        size = sum(1 + m.children_with for m in members)
        options = [h for h in instance.homes if room(h) >= size and all(is_eligible(h, m) for m in members)]
        best[r.id] = min((rank(preference_step(h, r)) for h in options), default=rank(None))
    return best


def icwa_count(instance: Instance, where: dict[str, str]) -> int:
    """ICWA youths an answer (referral id -> home id) places in their best available step."""
    homes_ = {h.id: h for h in instance.homes}
    best = _icwa_best(instance)
    return sum(1 for r in instance.referrals if r.icwa and r.id in where and best[r.id] != rank(None)
               and rank(preference_step(homes_[where[r.id]], r)) == best[r.id])


def brute_force(instance: Instance) -> tuple:
    """The lexicographically best (emergency, urgent, planned, ICWA youths in their best
    available step, fit points) over every assignment of each referral to a home or to
    nobody, checking the rules directly (keep-apart links on either side included)."""
    options = [[None] + [h for h in instance.homes if is_eligible(h, r)] for r in instance.referrals]
    links = [(r.id, other) for r in instance.referrals for other in r.keep_apart]
    icwa_best = _icwa_best(instance)
    best = (0, 0, 0, 0, 0)
    for choice in itertools.product(*options):
        where = {r.id: h for r, h in zip(instance.referrals, choice)}
        groups: dict[str, set] = {}
        for r in instance.referrals:
            if r.sibling_group is not None:
                groups.setdefault(r.sibling_group, set()).add(where[r.id] and where[r.id].id)
        if any(len(homes_) > 1 for homes_ in groups.values()):
            continue
        if any(where[a] is not None and where[a] is where[b] for a, b in links):
            continue
        taken: dict[str, int] = {}
        for r, h in zip(instance.referrals, choice):
            if h is not None:
                taken[h.id] = taken.get(h.id, 0) + 1 + r.children_with
        if any(taken.get(h.id, 0) > min(h.open_beds, h.staff_on_duty * h.youth_per_staff - h.current_youth)
               for h in instance.homes if h.id in taken):
            continue
        counts = [sum(1 for r, h in zip(instance.referrals, choice) if h and r.urgency == t) for t in URGENCIES]
        points = sum(fit(h, r).points for r, h in zip(instance.referrals, choice) if h)
        icwa = sum(1 for r, h in zip(instance.referrals, choice)
                   if h and r.icwa and icwa_best[r.id] != rank(None) and rank(preference_step(h, r)) == icwa_best[r.id])
        best = max(best, (*counts, icwa, points))
    return best
