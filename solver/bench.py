"""The matcher's benchmark: deterministic synthetic instances, CP-SAT against the greedy baseline.

Four instances, each generated from a fixed seed (the same figures on every machine):

  state     60 homes in Missouri (about 300 open beds), 200 referrals
  dense     one state's run: 300 homes (270 in Texas, 30 in its neighbours taking
            out-of-state youth), 1,000 Texan referrals for about 750 open beds
  national  1,000 homes across the 50 states (about 10,000 open beds), 3,000 referrals
  stretch   5,000 homes, 20,000 referrals, same mix as national

Homes and referrals are scattered around real city centres (`geodata`), in proportion to
state population. The mix (national and stretch; state has no out-of-state approvals):
5% of referrals hold ICPC approvals for one or two neighbouring states, 10% are parenting,
5% belong to sibling groups of two or three. Staffing binds in some homes, so their room is
below their open beds. ICPC approvals name the custody state's nearest states. Each
instance also carries the protective rules (instance version 2, `add_protections`): 2% of
referrals kept apart from another of their state, 8% with keep-away areas (home sets and
circles), ICWA for the Native youths and tribal approvals on Native-serving homes.

`run()` solves each instance with CP-SAT and with greedy and reports, per instance, the
median wall time of its runs, each level's time and gap (bound - value), the peak
memory of the process that solved it (each instance is solved in a fresh process, so
its `ru_maxrss` is that instance's alone: interpreter, OR-Tools and the solve), status, youths placed per tier, fit, the gap to CP-SAT's bound and whether
CP-SAT places, tier by tier in order, never fewer youths than greedy (the lexicographic
comparison: the first tier where they differ decides). Both answers are also validated
by the independent checker.
"""
from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import random
import resource
import statistics
import time
from dataclasses import dataclass

from .checker import check
from .eligibility import distance_km
from .engine import solve
from .geodata import CITIES, FIFTY_STATES, POPULATION_M
from .greedy import greedy
from .instance import GENDERS, PROGRAMS, URGENCIES, Circle, Home, Instance, Location, Referral
from .result import LEVELS, Result, result_to_json


@dataclass(frozen=True)
class Spec:
    """The size and mix of one synthetic instance."""

    name: str
    states: tuple[str, ...]
    homes: int
    referrals: int
    mean_open_beds: float
    icpc_share: float  # referrals with out-of-state approvals
    parenting_share: float
    sibling_share: float  # referrals that belong to a sibling group
    seed: int
    runs: int  # timed CP-SAT runs; the median is reported
    neighbour_homes: float = 0.0  # share of homes in the nearest other states, taking out-of-state youth


SPECS = {
    "state": Spec("state", ("MO",), 60, 200, 5.0, 0.0, 0.10, 0.05, 3, runs=3),
    "dense": Spec("dense", ("TX",), 300, 1000, 2.5, 0.05, 0.10, 0.05, 13, runs=3, neighbour_homes=0.1),
    "national": Spec("national", FIFTY_STATES, 1000, 3000, 10.0, 0.05, 0.10, 0.05, 50, runs=3),
    "stretch": Spec("stretch", FIFTY_STATES, 5000, 20000, 10.0, 0.05, 0.10, 0.05, 500, runs=1),
}
INSTANCES = tuple(SPECS)
TIME_LIMITS = {"state": 10.0, "dense": 30.0, "national": 10.0, "stretch": 60.0}  # the targets


# --- generation ----------------------------------------------------------------------------

def _centre(state: str) -> Location:
    cities = CITIES[state]
    return Location(sum(c[1] for c in cities) / len(cities), sum(c[2] for c in cities) / len(cities))


def _neighbours(state: str, count: int) -> list[str]:
    """The `count` states whose centres are nearest this one's."""
    here = _centre(state)
    others = sorted((s for s in FIFTY_STATES if s != state), key=lambda s: distance_km(here, _centre(s)))
    return others[:count]


def _spread(rng: random.Random, states: tuple[str, ...], total: int) -> list[str]:
    """`total` states drawn in proportion to population, every state at least once when possible."""
    weights = [POPULATION_M[s] for s in states]
    picked = list(states) if total >= 2 * len(states) else []
    picked += rng.choices(states, weights=weights, k=total - len(picked))
    rng.shuffle(picked)
    return picked


def _near_city(rng: random.Random, state: str) -> Location:
    _, lat, lon = rng.choice(CITIES[state])
    # Up to about 40 km from the city centre: synthetic, never a real address.
    return Location(round(lat + rng.uniform(-0.35, 0.35), 4),
                    round(lon + rng.uniform(-0.45, 0.45), 4))


def _home(rng: random.Random, index: int, state: str, mean_beds: float, out_of_state: bool | None = None) -> Home:
    program = rng.choices(PROGRAMS, weights=[25, 25, 20, 15, 15])[0]
    open_beds = max(0, round(rng.gauss(mean_beds, mean_beds / 2.5)))
    youth_per_staff = rng.choice((2, 3, 4))
    current_youth = rng.randint(0, max(1, round(mean_beds * 1.5)))
    # Most homes are staffed for their beds; about one in four is short-staffed tonight.
    needed = math.ceil((current_youth + open_beds) / youth_per_staff)
    staff = needed if rng.random() < 0.75 else max(0, needed - rng.randint(1, 3))
    low = rng.choice((10, 12, 12, 13, 14))
    high = rng.choice((17, 17, 18, 21)) if program == "transitional" else rng.choice((16, 17, 17, 18))
    genders = rng.choices((("female",), ("female", "nonbinary"), ("male",), GENDERS),
                          weights=[45, 20, 15, 20])[0]
    return Home(
        id=f"h{index + 1}",
        state=state,
        location=_near_city(rng, state),
        program=program,
        open_beds=open_beds,
        current_youth=current_youth,
        staff_on_duty=staff,
        youth_per_staff=youth_per_staff,
        ages=(low, max(low, high)),
        genders=genders,
        accepts_pregnant=rng.random() < 0.35,
        accepts_parenting=rng.random() < 0.30,
        substance_use_support=rng.choices(("none", "recovery", "detox"), weights=[40, 40, 20])[0],
        medical_level=rng.choices((0, 1, 2, 3), weights=[10, 40, 35, 15])[0],
        mental_health_level=rng.choices((0, 1, 2, 3), weights=[5, 30, 40, 25])[0],
        languages=("en", "es") if rng.random() < 0.3 else ("en",),
        cultural_services=("native",) if rng.random() < 0.1 else (),
        accepts_out_of_state=rng.random() < 0.3 if out_of_state is None else out_of_state,
    )


def _referral(rng: random.Random, index: int, state: str, spec: Spec, group: str | None = None,
              near: Location | None = None) -> Referral:
    location = near or _near_city(rng, state)
    approvals: tuple[str, ...] = ()
    if group is None and rng.random() < spec.icpc_share:
        approvals = tuple(_neighbours(state, rng.choice((1, 2))))
    language = rng.choices(("en", "es", "vi"), weights=[80, 17, 3])[0]
    programs: tuple[str, ...] = ()
    if rng.random() < 0.3:
        programs = tuple(rng.sample(PROGRAMS, rng.choice((1, 2))))
    return Referral(
        id=f"r{index + 1}",
        custody_state=state,
        location=location,
        age=rng.choices(range(10, 21), weights=[2, 4, 8, 10, 12, 12, 12, 10, 6, 3, 2])[0],
        gender=rng.choices(GENDERS, weights=[70, 24, 6])[0],
        urgency=rng.choices(URGENCIES, weights=[25, 35, 40])[0],
        pregnant=rng.random() < 0.05,
        children_with=0 if group or rng.random() >= spec.parenting_share else rng.choice((1, 1, 2)),
        substance_use=rng.choices(("none", "recovery", "active"), weights=[60, 25, 15])[0],
        medical_level=rng.choices((0, 1, 2, 3), weights=[55, 30, 12, 3])[0],
        mental_health_level=rng.choices((0, 1, 2, 3), weights=[30, 35, 25, 10])[0],
        language=language,
        cultural_need="native" if rng.random() < 0.04 else None,
        icpc_approved_states=approvals,
        programs=programs,
        max_distance_km=float(rng.choice((150, 250, 400))) if rng.random() < 0.2 else None,
        sibling_group=group,
        has_run_before=rng.random() < 0.2,
    )


TRIBES = ("Tribe A (synthetic)", "Tribe B (synthetic)", "Tribe C (synthetic)")


def add_protections(instance: Instance, seed: int) -> Instance:
    """The instance with protective rules drawn from their own generator (so the instance
    without them is the same as before): 2% of referrals kept apart from another referral
    of their state, 3% with keep-away homes (a county or ZIP area resolved: 1-3 homes of
    their state), 5% with a keep-away circle of 50-100 km around a city of their state;
    Native youths (`cultural_need`) get ICWA with one of three tribes; homes offering
    Native care are Native-serving, and a third of the foster homes among them are approved
    by a tribe."""
    rng = random.Random(seed)  # nosec B311  # synthetic benchmark data, not security
    homes_by_state: dict[str, list[str]] = {}
    for home in instance.homes:
        homes_by_state.setdefault(home.state, []).append(home.id)
    by_state: dict[str, list[Referral]] = {}
    for referral in instance.referrals:
        by_state.setdefault(referral.custody_state, []).append(referral)
    homes = tuple(
        dataclasses.replace(h, native_serving=True,
                            tribal_approvals=(rng.choice(TRIBES),) if h.program == "therapeutic_foster" and rng.random() < 0.33 else ())
        if "native" in h.cultural_services else h for h in instance.homes)
    referrals = []
    for referral in instance.referrals:
        changes: dict = {}
        peers = [r.id for r in by_state[referral.custody_state]
                 if r.id != referral.id and (referral.sibling_group is None or r.sibling_group != referral.sibling_group)]
        if peers and rng.random() < 0.02:
            changes["keep_apart"] = (rng.choice(peers),)
        local = homes_by_state.get(referral.custody_state, [])
        if local and rng.random() < 0.03:
            changes["keep_away_homes"] = tuple(rng.sample(local, min(len(local), rng.randint(1, 3))))
        if rng.random() < 0.05:
            _, lat, lon = rng.choice(CITIES[referral.custody_state])
            changes["keep_away_circles"] = (Circle(Location(lat, lon), float(rng.choice((50, 80, 100)))),)
        if referral.cultural_need == "native":
            changes["icwa"], changes["tribe"] = True, rng.choice(TRIBES)
        referrals.append(dataclasses.replace(referral, **changes) if changes else referral)
    return Instance(homes=homes, referrals=tuple(referrals))


def generate(name: str, protected: bool = True) -> Instance:
    """The synthetic instance `name` (one of `INSTANCES`), the same on every call; with the
    protective rules of `add_protections` unless `protected` is false."""
    spec = SPECS[name]
    rng = random.Random(spec.seed)  # nosec B311  # synthetic benchmark data, not security
    outside = round(spec.homes * spec.neighbour_homes)
    homes = tuple(_home(rng, i, state, spec.mean_open_beds)
                  for i, state in enumerate(_spread(rng, spec.states, spec.homes - outside)))
    # Homes across the border only matter to the referrals through ICPC approvals.
    border = [s for state in spec.states for s in _neighbours(state, 3)] if outside else []
    homes += tuple(_home(rng, len(homes) + i, rng.choice(border), spec.mean_open_beds, out_of_state=True)
                   for i in range(outside))
    referrals: list[Referral] = []
    states = _spread(rng, spec.states, spec.referrals)
    groups = 0
    while len(referrals) < spec.referrals:
        state = states[len(referrals)]
        left = spec.referrals - len(referrals)
        # Draw groups at the rate that puts `sibling_share` of all referrals in one.
        if left >= 2 and rng.random() < spec.sibling_share / 2.4:
            groups += 1
            size = min(left, rng.choice((2, 2, 3)))
            where = _near_city(rng, state)
            group = f"g{groups}"
            referrals += [_referral(rng, len(referrals) + k, state, spec, group, where) for k in range(size)]
        else:
            referrals.append(_referral(rng, len(referrals), state, spec))
    instance = Instance(homes=homes, referrals=tuple(referrals))
    return add_protections(instance, spec.seed + 1) if protected else instance


# --- running -------------------------------------------------------------------------------

def _tiers(result: Result) -> tuple[int, ...]:
    return tuple(result.placed[t] for t in URGENCIES)


def measure(name: str, workers: int = 2) -> dict:
    """Solve instance `name` with CP-SAT (median time of its runs) and greedy; one table row.

    Runs in the calling process; `run` calls it in a fresh one so that the peak memory
    reported (`ru_maxrss`, the process's high-water mark) belongs to this instance only.
    """
    spec = SPECS[name]
    instance = generate(name)
    load = os.getloadavg()[0]
    runs, walls = [], []
    for _ in range(spec.runs):
        started = time.perf_counter()
        runs.append(solve(instance, TIME_LIMITS[name], workers))
        walls.append(time.perf_counter() - started)
    cpsat = runs[-1]
    baseline = greedy(instance)
    problems = check(instance, result_to_json(cpsat)) + check(instance, result_to_json(baseline))
    return {
        "instance": name,
        "homes": len(instance.homes),
        "open_beds": sum(h.open_beds for h in instance.homes),
        "referrals": len(instance.referrals),
        "time_limit": TIME_LIMITS[name],
        "runs": spec.runs,
        "seconds": round(statistics.median(walls), 2),
        "seconds_each": [round(w, 2) for w in walls],
        "statuses": [r.status for r in runs],
        "status": cpsat.status,
        "level_seconds": {lv.name: round(statistics.median(
            next(x.seconds for x in r.levels if x.name == lv.name) for r in runs), 2) for lv in cpsat.levels},
        "level_gaps": {lv.name: round(lv.bound - lv.value, 1) for lv in cpsat.levels},
        "cpsat_placed": dict(cpsat.placed),
        "greedy_placed": dict(baseline.placed),
        "cpsat_fit": cpsat.fit,
        "greedy_fit": baseline.fit,
        "gap": cpsat.gap,
        "bounds": {lv.name: lv.bound for lv in cpsat.levels},
        # Tuples compare lexicographically: the first tier that differs decides.
        "never_fewer": _tiers(cpsat) >= _tiers(baseline),
        "checker_violations": len(problems),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),  # Linux: KiB
        "load_average": round(load, 2),
    }


def run(names: tuple[str, ...] = INSTANCES, workers: int = 2) -> list[dict]:
    """One row per instance in `names` (see `measure`), each measured in a fresh process."""
    context = multiprocessing.get_context("spawn")
    rows = []
    for name in names:
        with context.Pool(1) as pool:
            rows.append(pool.apply(measure, (name, workers)))
    return rows

def _placed(counts: dict[str, int]) -> str:
    return "/".join(str(counts[t]) for t in URGENCIES)


def _per_level(values: dict[str, float]) -> str:
    return "/".join(f"{values[name]:g}" for name in LEVELS)


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table (placed = emergency/urgent/planned; per level =
    emergency/urgent/planned/fit; level gap = bound - value, fit in score units)."""
    lines = [
        "| instance | homes | open beds | referrals | wall s (median) | level s | status | level gap | "
        "placed CP-SAT | placed greedy | fit CP-SAT | fit greedy | never fewer | checker | peak MB | load |",
        "|" + "---|" * 16,
    ]
    for r in rows:
        lines.append(
            f"| {r['instance']} | {r['homes']} | {r['open_beds']} | {r['referrals']} | "
            f"{r['seconds']:.2f} ({r['runs']} run{'s' if r['runs'] > 1 else ''}) | "
            f"{_per_level(r['level_seconds'])} | {r['status']} | {_per_level(r['level_gaps'])} | "
            f"{_placed(r['cpsat_placed'])} | {_placed(r['greedy_placed'])} | {r['cpsat_fit']:.1f} | "
            f"{r['greedy_fit']:.1f} | {'yes' if r['never_fewer'] else 'NO'} | "
            f"{'ok' if not r['checker_violations'] else str(r['checker_violations']) + ' violations'} | "
            f"{r['peak_mb']} | {r['load_average']:.1f} |")
    return "\n".join(lines)
