"""Where one more bed helps most (solver/impact.py): exact against brute-force re-solves."""
from __future__ import annotations

import dataclasses
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.eligibility import room
from solver.engine import solve
from solver.greedy import greedy
from solver.impact import (CHANGES, TierLPs, _base_answer, _extra_places, _gain_bound, _new_pairs, _placed_pairs,
                           _prices, _tighter_tier, _touched, at_least_the_run, bed_impact, with_change)
from solver.instance import URGENCIES
from solver.prepare import Pair, components, prepare
from solver.result import result_to_json

from .factories import home, instance, referral
from .strategies import brute_force, instances

IMPACT = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tiers(inst) -> tuple[int, ...]:
    return brute_force(inst)[:len(URGENCIES)]


def changed(inst, home_id: str, change: str):
    homes = tuple(with_change(h, change) if h.id == home_id else h for h in inst.homes)
    return dataclasses.replace(inst, homes=homes)


def assert_exact(inst, report) -> None:
    base = tiers(inst)
    seen = {(i.home, i.change) for i in report.impacts}
    assert seen == {(h.id, c) for h in inst.homes for c in CHANGES}
    assert len(report.impacts) == 2 * len(inst.homes)
    urgency = {r.id: r.urgency for r in inst.referrals}
    for impact in report.impacts:
        assert impact.proven
        after = tiers(changed(inst, impact.home, impact.change))
        assert impact.key == tuple(a - b for a, b in zip(after, base)), impact
        # It names youths of the tiers that gain, at least as many as they gain.
        assert all(impact.gained[urgency[r]] > 0 for r in impact.serves)
        for tier, gain in impact.gained.items():
            assert sum(urgency[r] == tier for r in impact.serves) >= gain
    keys = [i.key for i in report.impacts]
    assert keys == sorted(keys, reverse=True)


@IMPACT
@given(instances(max_homes=3, max_referrals=5))
def test_every_home_and_change_equals_a_brute_force_re_solve(inst):
    result = result_to_json(solve(inst, time_limit=10, workers=1))
    report = bed_impact(inst, result, time_limit=30, workers=1)
    assert report.complete
    assert_exact(inst, report)


@IMPACT
@given(instances(max_homes=3, max_referrals=5))
def test_gains_are_measured_from_the_optimum_even_after_a_run_that_was_not_proven(inst):
    # Greedy's answer says "feasible": the components are solved again before comparing.
    report = bed_impact(inst, result_to_json(greedy(inst)), time_limit=30, workers=1)
    assert_exact(inst, report)


def test_a_bed_in_a_full_home_serves_the_youth_left_out():
    full = home("harbor", open_beds=1, current_youth=0, staff_on_duty=2)
    far = home("ozark", ages=(16, 17), open_beds=3)
    inst = instance([full, far], [referral("r1"), referral("r2", urgency="urgent")])
    result = result_to_json(solve(inst, time_limit=10, workers=1))
    assert [u["referral"] for u in result["unmatched"]] == ["r2"]
    report = bed_impact(inst, result, time_limit=10, workers=1)
    best = report.impacts[0]
    assert (best.home, best.change, best.places) == ("harbor", "bed", 1)
    assert best.gained == {"emergency": 0, "urgent": 1, "planned": 0}
    assert best.serves == ("r2",)
    # Staff do not help where beds bind: room stays min(1 bed, 3 x 2 - 0) = 1.
    staff = next(i for i in report.impacts if (i.home, i.change) == ("harbor", "staff"))
    assert staff.places == 0 and staff.key == (0, 0, 0)


def test_with_change_adds_exactly_one_staffed_place():
    short = home(open_beds=4, current_youth=3, staff_on_duty=2, youth_per_staff=2)  # staffing binds: room 1
    assert room(short) == 1
    assert room(with_change(short, "bed")) == 2
    assert room(with_change(short, "staff")) == 3


def test_top_stops_once_the_best_are_exact():
    # harbor (full) is the only home for a second emergency youth; ozark (full, 16-17
    # only) the only one for an urgent youth. One more bed in harbor is worth more than
    # any bed in ozark can be (its LP price bounds it to urgent youths), so with top=1
    # ozark is never solved again.
    harbor = home("harbor", open_beds=1, current_youth=0)
    ozark = home("ozark", ages=(16, 17), open_beds=1, current_youth=0)
    refs = [referral("r1"), referral("r2", age=13), referral("r3", age=16, urgency="urgent"),
            referral("r4", age=17, urgency="urgent")]
    inst = instance([harbor, ozark], refs)
    result = result_to_json(solve(inst, time_limit=10, workers=1))
    everything = bed_impact(inst, result, time_limit=10, workers=1)
    best = bed_impact(inst, result, time_limit=10, workers=1, top=1)
    found = {(i.home, i.change): i.key for i in everything.impacts}
    assert found[("harbor", "bed")] == (1, 0, 0) and found[("ozark", "bed")] == (0, 1, 0)
    assert best.complete and (best.impacts[0].home, best.impacts[0].key) == ("harbor", (1, 0, 0))
    assert ("ozark", "bed") not in {(i.home, i.change) for i in best.impacts}


@IMPACT
@given(instances(max_homes=4, max_referrals=6), st.integers(1, 3))
def test_the_best_top_are_the_brute_force_best(inst, top):
    """With `top`, the bounds tightened by re-solved LPs may skip changes: the best `top`
    gains reported still equal the brute-force best `top`, each exact."""
    result = result_to_json(solve(inst, time_limit=10, workers=1))
    report = bed_impact(inst, result, time_limit=30, workers=1, top=top)
    assert report.complete
    base = tiers(inst)
    truth = sorted((tuple(a - b for a, b in zip(tiers(changed(inst, h.id, c)), base)) for h in inst.homes
                    for c in CHANGES), reverse=True)
    for impact in report.impacts:
        assert impact.key == tuple(a - b for a, b in zip(tiers(changed(inst, impact.home, impact.change)), base))
    assert [i.key for i in report.impacts[:top]] == truth[:top]


def test_a_cut_off_re_solve_never_reports_a_loss():
    run = [Pair(0, 0, 10)]
    worse = [Pair(1, 0, 5)]
    # Fewer urgent youths for one more planned youth is a loss; the run's answer stands.
    assert at_least_the_run(worse, [0, 3, 5], run, [0, 4, 2]) == (run, [0, 4, 2])
    # A better answer (more urgent youths, whatever the lower tiers do) is kept.
    assert at_least_the_run(worse, [0, 5, 0], run, [0, 4, 2]) == (worse, [0, 5, 0])


def solved_tiers(inst) -> tuple[int, ...]:
    result = solve(inst, time_limit=30, workers=1)
    assert result.status == "optimal"
    return tuple(level.value for level in result.levels[:len(URGENCIES)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_homes=6, max_referrals=16), st.integers(1, 3))
def test_the_best_top_on_larger_instances_are_the_best_of_full_re_solves(inst, top):
    """Instances too large for brute force, against the matcher re-solving each changed
    instance from scratch: the bounds that skip changes (prices, tightened LPs) never
    skip one of the best `top`, and every gain reported is exact."""
    result = result_to_json(solve(inst, time_limit=30, workers=1))
    report = bed_impact(inst, result, time_limit=60, workers=1, top=top)
    assert report.complete
    base = solved_tiers(inst)
    truth = {(h.id, c): tuple(a - b for a, b in zip(solved_tiers(changed(inst, h.id, c)), base))
             for h in inst.homes for c in CHANGES}
    for impact in report.impacts:
        assert impact.proven and impact.key == truth[(impact.home, impact.change)], impact
    assert [i.key for i in report.impacts[:top]] == sorted(truth.values(), reverse=True)[:top]


def change_bounds(inst, result) -> dict[tuple[str, str], list[tuple[float, ...]]]:
    """Each change's gain bounds: from the run's LP prices (`_gain_bound`), then with one
    more tier after another from its LP re-solved (`_tighter_tier`), for the changes
    that touch one component (the others are never bounded), set up as `bed_impact` does."""
    prepared = prepare(inst)
    placed = _placed_pairs(prepared, result)
    parts = components(prepared)
    part_of_home = {pair.home: i for i, part in enumerate(parts) for pair in part.pairs}
    part_of_unit = {u: i for i, part in enumerate(parts) for u in part.units}
    deadline = time.perf_counter() + 60
    base, lps, prices, bounds = {}, {}, {}, {}
    for h, target in enumerate(prepared.homes):
        for change in CHANGES:
            places = _extra_places(target, change)
            new_pairs = _new_pairs(prepared, h, prepared.rooms[h] + places)
            touched = _touched(part_of_home, part_of_unit, h, new_pairs)
            if places <= 0 or len(touched) != 1:
                continue
            part = touched.pop()
            if part not in base:
                base[part] = _base_answer(prepared, parts[part], placed, result, deadline, 1)
                lps[part] = TierLPs(prepared, parts[part].pairs)
                prices[part] = _prices(lps[part], base[part][1], deadline)
            found = [_gain_bound(prices[part], base[part][1], h, places, new_pairs, prepared)]
            for tight in range(len(URGENCIES)):
                found.append(_tighter_tier(prepared, part_of_home, part_of_unit, base, lps, prices, h, places,
                                           new_pairs, found[-1], tight, deadline))
            bounds[(target.id, change)] = found
    return bounds


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_homes=6, max_referrals=16))
def test_every_price_bound_and_tightened_bound_is_at_least_the_true_gain(inst):
    """The bounds that let `top` skip a change, against the gain of a full re-solve of the
    changed instance: a bound below the gain (lexicographically) would silently drop a
    change from the best `top`."""
    result = result_to_json(solve(inst, time_limit=30, workers=1))
    base = solved_tiers(inst)
    for (home_id, change), found in change_bounds(inst, result).items():
        gain = tuple(a - b for a, b in zip(solved_tiers(changed(inst, home_id, change)), base))
        for bound in found:
            assert bound is not None and gain <= bound, (home_id, change, gain, found)
