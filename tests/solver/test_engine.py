"""The CP-SAT matcher on crafted instances: each hard rule, the lexicographic objective,
unmatched explanations, components and the greedy baseline (solver/engine.py, greedy.py)."""
from __future__ import annotations

import platform
import threading
import time
from unittest import mock

import pytest

from solver.bench import generate
from solver.checker import check
from solver.engine import (Lookahead, _glibc_malloc_trim, level_parts, lp_bound, objective_levels, pack_components,
                           release_freed_memory, solve)
from solver.fit import fit
from solver.greedy import greedy, greedy_pairs
from solver.instance import Location
from solver.lp import lp_relaxation
from solver.prepare import components, prepare
from solver.result import result_to_json
from solver.split_flow import relaxed_bound

from .factories import home, instance, referral


def placements(result) -> dict[str, str]:
    return {a.referral: a.home for a in result.assignments}


def unmatched(result) -> dict[str, tuple[str, str]]:
    return {u.referral: (u.code, u.detail) for u in result.unmatched}


def solved(inst, **kwargs):
    result = solve(inst, time_limit=10, workers=1, **kwargs)
    assert check(inst, result_to_json(result)) == []
    return result


def test_empty_instance_is_a_well_defined_empty_answer():
    result = solved(instance())
    assert result_to_json(result) | {"solve_seconds": 0} == {
        "status": "optimal", "assignments": [], "unmatched": [],
        "placed": {"emergency": 0, "urgent": 0, "planned": 0}, "fit": 0.0, "solve_seconds": 0,
        "levels": [{"name": n, "value": 0, "bound": 0} for n in ("emergency", "urgent", "planned", "icwa")]
        + [{"name": "fit", "value": 0.0, "bound": 0.0}],
        "gap": 0.0, "components": 0,
    }


def test_referrals_without_homes_are_all_explained():
    result = solved(instance(referrals=[referral("r1"), referral("r2")]))
    assert unmatched(result).keys() == {"r1", "r2"}
    assert {code for code, _ in unmatched(result).values()} == {"no_eligible_home"}


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        solve(instance(), time_limit=0)
    with pytest.raises(ValueError):
        solve(instance(), workers=0)


def test_open_beds_bound_places():
    inst = instance([home(open_beds=1, staff_on_duty=5)], [referral("r1"), referral("r2")])
    result = solved(inst)
    assert result.placed["emergency"] == 1
    assert [code for code, _ in unmatched(result).values()] == ["no_capacity"]


def test_staffing_bounds_places_despite_open_beds():
    # 4 open beds, but 2 staff x 2 youths each = 4 and 3 youths are already there: room for 1.
    inst = instance([home(open_beds=4, current_youth=3, staff_on_duty=2, youth_per_staff=2)],
                    [referral("r1"), referral("r2"), referral("r3")])
    result = solved(inst)
    assert len(result.assignments) == 1
    assert all("filled by" in detail for _, detail in unmatched(result).values())


def test_parenting_youth_takes_a_place_per_child():
    h = home(open_beds=2, staff_on_duty=5, accepts_parenting=True)
    result = solved(instance([h], [referral("r1", children_with=2)]))
    code, detail = unmatched(result)["r1"]
    assert code == "no_capacity" and "needs 3 places (youth and 2 children)" in detail
    result = solved(instance([h], [referral("r1", children_with=1)]))
    assert placements(result) == {"r1": "h1"}


def test_sibling_group_placed_together():
    homes = [home("h1", open_beds=1, staff_on_duty=5), home("h2", open_beds=2, staff_on_duty=5)]
    refs = [referral("r1", sibling_group="g"), referral("r2", sibling_group="g")]
    assert placements(solved(instance(homes, refs))) == {"r1": "h2", "r2": "h2"}


def test_sibling_group_none_placed_when_no_home_takes_all():
    homes = [home("h1", open_beds=1, staff_on_duty=5), home("h2", open_beds=1, staff_on_duty=5)]
    refs = [referral("r1", sibling_group="g"), referral("r2", sibling_group="g")]
    result = solved(instance(homes, refs))
    assert result.assignments == ()
    code, detail = unmatched(result)["r1"]
    assert code == "no_capacity" and detail.startswith("sibling group g (r1, r2): needs 2 places in one home")


def test_sibling_group_needs_a_home_eligible_for_every_member():
    homes = [home("h1", open_beds=3, staff_on_duty=5, genders=("female",))]
    refs = [referral("r1", sibling_group="g"), referral("r2", sibling_group="g", gender="male")]
    result = solved(instance(homes, refs))
    assert result.assignments == ()
    assert unmatched(result)["r1"][0] == "no_eligible_home"
    assert "r2: serves female youth; youth is male" in unmatched(result)["r1"][1]


def test_jurisdiction_out_of_state_needs_approval_and_acceptance():
    ks = home("ks", state="KS", accepts_out_of_state=True, staff_on_duty=5)
    approved = referral("r1", icpc_approved_states=("KS",))
    not_approved = referral("r2")
    result = solved(instance([ks], [approved, not_approved]))
    assert placements(result) == {"r1": "ks"}
    code, detail = unmatched(result)["r2"]
    assert code == "no_eligible_home"
    assert detail == "no home in MO (nearest: ks in KS, no ICPC approval)"


def test_ineligible_home_is_never_used():
    inst = instance([home(accepts_pregnant=False, open_beds=5, staff_on_duty=5)],
                    [referral("r1", pregnant=True)])
    assert solved(inst).assignments == ()


def test_lexicographic_tie_break_never_costs_a_higher_tier_a_place():
    # h1 fits the planned youths far better (language, distance, program), and two of
    # them would fill it; the emergency youth can only go to h1. Fit must not win.
    near = Location(38.95, -92.33)
    h1 = home("h1", location=near, program="long_term", open_beds=2, staff_on_duty=5, languages=("en", "es"))
    emergency = referral("e", urgency="emergency", language="vi", location=Location(36.0, -90.0))
    planned = [referral(f"p{i}", urgency="planned", language="es", location=near, programs=("long_term",))
               for i in (1, 2)]
    result = solved(instance([h1], [emergency, *planned]))
    assert "e" in placements(result)
    assert result.placed == {"emergency": 1, "urgent": 0, "planned": 1}
    # Fit alone would take both planned youths: it is higher than what was chosen.
    assert 2 * fit(h1, planned[0]).score > result.fit


def test_more_urgent_placed_first_then_count_within_tier():
    # One bed: an emergency beats two urgent; two beds: both urgent beat a planned one.
    inst = instance([home(open_beds=1, staff_on_duty=5)],
                    [referral("u1", urgency="urgent"), referral("e1", urgency="emergency")])
    assert placements(solved(inst)) == {"e1": "h1"}
    inst = instance([home(open_beds=2, staff_on_duty=5, accepts_parenting=True)],
                    [referral("u1", urgency="urgent"), referral("u2", urgency="urgent"),
                     referral("p1", urgency="planned")])
    assert set(placements(solved(inst))) == {"u1", "u2"}


def test_cpsat_beats_greedy_where_first_fit_blocks():
    # Greedy gives e1 its best fit home h1 (the only home e2 can use); CP-SAT moves e1.
    h1 = home("h1", open_beds=1, staff_on_duty=5, languages=("en",))
    h2 = home("h2", open_beds=1, staff_on_duty=5, languages=("es",), location=Location(30.0, -90.0),
              state="MO")
    e1 = referral("e1", language="en")
    e2 = referral("e2", language="en", age=17, max_distance_km=400)
    inst = instance([h1, h2], [e1, e2])
    assert greedy(inst).placed["emergency"] == 1
    assert solved(inst).placed["emergency"] == 2


def test_fit_is_maximised_after_counts():
    near, far = Location(39.0, -94.6), Location(36.5, -90.5)
    homes = [home("near", location=near, staff_on_duty=5), home("far", location=far, staff_on_duty=5)]
    result = solved(instance(homes, [referral("r1", location=near)]))
    assert placements(result) == {"r1": "near"}


def test_no_capacity_detail_names_who_filled_the_home():
    inst = instance([home(open_beds=1, staff_on_duty=5)],
                    [referral("e1", urgency="emergency"), referral("p1", urgency="planned")])
    code, detail = unmatched(solved(inst))["p1"]
    assert (code, detail) == ("no_capacity", "eligible: h1 (filled by e1, more urgent)")


def test_no_capacity_detail_for_a_home_without_room():
    inst = instance([home(open_beds=0), home("h2", open_beds=3, staff_on_duty=0)], [referral("r1")])
    code, detail = unmatched(solved(inst))["r1"]
    assert code == "no_capacity"
    assert detail == ("eligible: h1 (no room: 0 open beds), "
                      "h2 (no room: staffing allows no more youths)")


def test_no_eligible_home_names_the_common_rule_and_closest_homes():
    homes = [home("h1", substance_use_support="none"), home("h2", substance_use_support="recovery")]
    code, detail = unmatched(solved(instance(homes, [referral("r1", substance_use="active")])))["r1"]
    assert code == "no_eligible_home"
    assert detail.startswith("no home in MO serves active substance use; closest: h")
    assert "youth has active substance use and needs detox" in detail


def test_no_eligible_home_with_different_reasons_per_home():
    homes = [home("h1", ages=(16, 17)), home("h2", genders=("male",))]
    code, detail = unmatched(solved(instance(homes, [referral("r1", age=14)])))["r1"]
    assert code == "no_eligible_home"
    assert detail.startswith("none of the 2 homes in MO is eligible; closest: ")
    assert "accepts ages 16-17; youth is 14" in detail and "serves male youth" in detail


def test_components_are_solved_independently():
    homes = [home("mo", staff_on_duty=5), home("ks", state="KS", staff_on_duty=5)]
    refs = [referral("r1"), referral("r2", custody_state="KS")]
    result = solved(instance(homes, refs))
    assert placements(result) == {"r1": "mo", "r2": "ks"}
    assert result.components == 2


def test_time_limit_still_returns_a_valid_answer():
    homes = [home(f"h{i}", open_beds=2, staff_on_duty=5) for i in range(20)]
    refs = [referral(f"r{i}", urgency=("emergency", "urgent", "planned")[i % 3]) for i in range(60)]
    inst = instance(homes, refs)
    result = solve(inst, time_limit=0.001, workers=1)
    assert check(inst, result_to_json(result)) == []
    assert result.status in ("optimal", "feasible")
    # Never worse than greedy, tier by tier, even when stopped early.
    ordered = lambda r: tuple(r.placed[t] for t in ("emergency", "urgent", "planned"))  # noqa: E731
    assert ordered(result) >= ordered(greedy(inst))


def test_lp_bound_rounds_the_relaxation_down():
    # Two parenting youths (2 places each) and a home with room for 3: the LP places
    # one and a half of them, the bound is 1, the integer optimum.
    parenting = dict(children_with=1, pregnant=False)
    inst = instance([home(accepts_parenting=True, open_beds=3, staff_on_duty=3, current_youth=3)],
                    [referral("r1", **parenting), referral("r2", **parenting)])
    prepared = prepare(inst)
    levels = objective_levels(prepared, prepared.pairs)
    assert [prepared.units[p.unit].size for p in prepared.pairs] == [2, 2]
    assert lp_bound(prepared, prepared.pairs, levels, [], 0, 5.0) == 1
    assert solved(inst).status == "optimal"


def test_levels_split_where_only_a_lower_tier_links_states():
    # The planned youth's ICPC approval joins the MO and KS graphs; the emergency level
    # sees two components, and holding each one's count keeps the answer optimal.
    homes = [home("mo", staff_on_duty=5, accepts_out_of_state=True),
             home("ks", state="KS", staff_on_duty=5, accepts_out_of_state=True)]
    refs = [referral("r1"), referral("r2", custody_state="KS"),
            referral("r3", urgency="planned", icpc_approved_states=("KS",))]
    inst = instance(homes, refs)
    prepared = prepare(inst)
    emergency = [p for p in prepared.pairs if prepared.units[p.unit].top_tier == 0]
    assert len(components(prepared, emergency)) == 2
    assert len(components(prepared)) == 1
    result = solved(inst)
    assert result.status == "optimal"
    assert result.placed == {"emergency": 2, "urgent": 0, "planned": 1}
    assert check(inst, result_to_json(result)) == []


@pytest.mark.parametrize("gap, mip_pairs", [(0.0, 1), (0.002, 1), (0.1, 1), (0.1, 10**9)])
def test_the_searches_after_the_lp_reach_the_optimum_of_the_default_path(gap, mip_pairs):
    """Reduced-cost fixing, and at the fit level first the optimistic guess (the optimum
    within `gap` of the LP bound: 0 is always wrong where the bound is not reached, 0.1
    mostly right), by SCIP or CP-SAT, prove the same lexicographic optimum. Forced on the
    benchmark's state instance by leaving out the flow's answer, which proves it otherwise."""
    inst = generate("state")
    expected = solve(inst, time_limit=20, workers=1)
    calls = []

    def no_flow(*args):
        calls.append(args[4])

    with mock.patch.multiple("solver.engine", MIP_PAIRS=mip_pairs, LP_PAIRS=1, OPTIMISTIC_GAP=gap,
                             offer_transport=no_flow):
        result = solve(inst, time_limit=20, workers=1)
    assert 4 in calls  # the fit level went through the LP
    assert result.status == expected.status == "optimal"
    assert [level.value for level in result.levels] == [level.value for level in expected.levels]
    assert check(inst, result_to_json(result)) == []


def test_the_lookahead_lps_change_nothing_but_are_used():
    """With a spare worker the LPs of the levels ahead are solved early (`Lookahead`),
    each with the level above held at its bound; a level takes one only with the floors
    it assumed, so the answer is the one a single worker finds. Forced on the benchmark's
    state instance (one batch per level) by giving every batch an LP, and every search to
    SCIP (CP-SAT on two workers may pick another of tied answers)."""
    inst = generate("state")
    used = []
    relaxation = Lookahead.relaxation

    def spy(self, k, batch, floors):
        found = relaxation(self, k, batch, floors)
        used.append((k, found is not None))
        return found

    with mock.patch.multiple("solver.engine", LP_PAIRS=1, MIP_PAIRS=1):
        alone = solve(inst, time_limit=20, workers=1)
        with mock.patch.object(Lookahead, "relaxation", spy):
            ahead = solve(inst, time_limit=20, workers=2)
    assert any(found for _, found in used)  # some level took its LP from the lookahead
    assert ahead.status == alone.status == "optimal"
    assert result_to_json(ahead)["assignments"] == result_to_json(alone)["assignments"]
    assert [level.value for level in ahead.levels] == [level.value for level in alone.levels]


def test_a_starved_lookahead_costs_neither_the_answer_nor_the_time_limit():
    """On a busy machine the lookahead's lowest-priority thread may hardly run: a level
    waits for its LP only `LOOKAHEAD_PATIENCE` seconds, then solves the same LP itself,
    and the call returns without waiting for the lookahead. Forced here by a lookahead
    whose every LP blocks until the test releases it."""
    inst = generate("state")
    release, ended = threading.Event(), threading.Event()
    released = []

    def starved_solve(self, k, floors):
        released.append(release.wait(60))  # False: the call waited for it until then
        ended.set()
        return None

    with mock.patch.multiple("solver.engine", LP_PAIRS=1, MIP_PAIRS=1, LOOKAHEAD_PATIENCE=0.05):
        alone = solve(inst, time_limit=20, workers=1)
        with mock.patch.object(Lookahead, "_solve", starved_solve):
            starved = solve(inst, time_limit=20, workers=2)
            release.set()
    assert ended.wait(60)
    assert released == [True]  # one LP was started ahead, and the call returned before it ended
    assert starved.status == alone.status == "optimal"
    assert result_to_json(starved)["assignments"] == result_to_json(alone)["assignments"]


def test_a_lookahead_lp_is_not_taken_with_other_floors():
    """A level whose floors differ from the ones assumed (the level above did not reach
    its bound) solves its own LP."""
    prepared = prepare(generate("state"))
    batches = [pack_components(level_parts(prepared, k)[0]) for k in range(2)]
    assert [len(b) for b in batches] == [1, 1]
    lookahead = Lookahead(prepared, batches, time.perf_counter() + 20)
    try:
        with mock.patch.multiple("solver.engine", LP_PAIRS=1):
            lookahead.start(1, [5])
        assert lookahead.relaxation(1, batches[1][0], [5]) is not None
        assert lookahead.relaxation(1, batches[1][0], [4]) is None
        assert lookahead.relaxation(0, batches[0][0], []) is None  # never started
    finally:
        lookahead.close()


def test_each_tiers_graph_and_greedys_order_are_computed_once_as_they_would_be_each_time():
    prepared = prepare(generate("state"))
    for t, graph in enumerate(prepared.graphs):
        pairs = [p for p in prepared.pairs if prepared.units[p.unit].top_tier <= t]
        assert graph == components(prepared, pairs)
    assert prepared.graphs[-1] == components(prepared)
    assert prepared.graphs[0] != prepared.graphs[-1]  # fewer pairs at the first tier
    assert prepared.preferences is prepared.preferences
    assert greedy_pairs(prepared) == greedy_pairs(prepared, list(reversed(prepared.pairs)))


def _tiers_placed(result) -> tuple[int, ...]:
    return tuple(result.placed[t] for t in ("emergency", "urgent", "planned"))


@pytest.mark.parametrize("cap", ["SEARCH_MAX_PAIRS", "LP_MAX_PAIRS"])
def test_batches_above_the_memory_caps_get_no_search_or_no_lp_and_keep_a_valid_answer(cap):
    """Above SEARCH_MAX_PAIRS a batch gets no branch and bound, above LP_MAX_PAIRS no LP
    (on the stretch instance they took the run past 1 GB) but, at the tier levels, the
    same LP as a flow (`solver.split_flow`); it keeps the flow's answer,
    checker-valid, never behind greedy, with bounds at or above the values. Forced on the
    benchmark's state instance by caps of one pair, every batch given an LP otherwise and
    the flow's answer left out (it proves the instance alone)."""
    inst = generate("state")
    calls = []

    def record(name, then=None):
        def called(*args, **kwargs):
            calls.append(name)
            return then(*args, **kwargs) if then else None
        return called

    with mock.patch.multiple("solver.engine", LP_PAIRS=1, offer_transport=record("flow"),
                             run_cpsat=record("cpsat"), run_mip=record("mip"),
                             lp_relaxation=record("lp", lp_relaxation),
                             relaxed_bound=record("split", relaxed_bound), **{cap: 1}):
        result = solve(inst, time_limit=20, workers=1)
    assert "flow" in calls
    if cap == "SEARCH_MAX_PAIRS":
        assert "lp" in calls and "split" not in calls and "cpsat" not in calls and "mip" not in calls
    else:
        assert "lp" not in calls and "split" in calls
        assert "cpsat" in calls or "mip" in calls  # searched without an LP
    assert check(inst, result_to_json(result)) == []
    assert _tiers_placed(result) >= _tiers_placed(greedy(inst))
    assert all(level.bound >= level.value for level in result.levels)


def test_each_level_hands_freed_memory_back():
    inst = generate("state")
    with mock.patch("solver.engine.release_freed_memory") as release:
        result = solve(inst, time_limit=20, workers=1)
    assert release.call_count == len(result.levels) == 5
    release_freed_memory()  # the real one: glibc's malloc_trim here, nothing elsewhere
    assert (_glibc_malloc_trim() is not None) == (platform.libc_ver()[0] == "glibc")


def test_a_pair_has_no_dict():
    """757,015 pairs on the stretch instance: slots save 36 MB."""
    assert not hasattr(prepare(generate("state")).pairs[0], "__dict__")
