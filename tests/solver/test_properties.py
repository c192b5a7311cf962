"""Property tests on random small instances (hypothesis):

- every CP-SAT and greedy answer passes the independent checker;
- `is_eligible` agrees with `not exclusions` for any home and referral, and the vectorised
  rules (`failures_among`, `eligible_among`) with both, protective rules and distance
  limits on a home's exact distance included;
- on instances small enough to enumerate, the engine's lexicographic counts and fit equal
  the best found by brute force over every assignment, by CP-SAT and by SCIP;
- the checker catches a deliberately broken answer;
- why-not details worked out on arrays of homes read word for word as by the scalar rules.
"""
from __future__ import annotations

import copy
import dataclasses
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import explain
from solver.checker import check
from solver.eligibility import (
    RULES,
    HomeTable,
    distance_km,
    distances_km,
    eligible_among,
    exclusions,
    exclusions_among,
    failures_among,
    in_keep_away,
    is_eligible,
)
from solver.engine import solve
from solver.explain import explain_unplaced
from solver.fit import fit, fit_points, fit_points_among, fits_among
from solver.greedy import greedy, greedy_pairs
from solver.instance import URGENCIES, Circle, Location
from solver.prepare import component_labels, components, prepare
from solver.result import result_to_json

from .strategies import brute_force, homes, icwa_count, instances, referrals, without_rules

settings.register_profile("solver", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
SOLVER = settings.get_profile("solver")

def lexicographic(result, instance) -> tuple:
    icwa = icwa_count(instance, {a.referral: a.home for a in result.assignments})
    return (*(result.placed[t] for t in URGENCIES), icwa, round(result.fit * 10))


@SOLVER
@given(instances())
def test_cpsat_and_greedy_answers_pass_the_checker(instance):
    cpsat = solve(instance, time_limit=10, workers=1)
    assert check(instance, result_to_json(cpsat)) == []
    assert check(instance, result_to_json(greedy(instance))) == []
    assert cpsat.status == "optimal"
    assert lexicographic(cpsat, instance) >= lexicographic(greedy(instance), instance)
    # The reported levels describe the answer itself, each at its proven bound.
    assert [lv.value for lv in cpsat.levels] == [*(cpsat.placed[t] for t in URGENCIES), icwa_count(instance, {a.referral: a.home for a in cpsat.assignments}), cpsat.fit]
    assert all(lv.bound == lv.value for lv in cpsat.levels)


@settings(SOLVER, max_examples=300)
@given(homes(), referrals())
def test_is_eligible_agrees_with_exclusions(home, referral):
    assert is_eligible(home, referral) == (not exclusions(home, referral))


@settings(SOLVER, max_examples=200)
@given(st.lists(homes(), min_size=1, max_size=6), referrals())
def test_the_vectorised_rules_and_fit_equal_the_scalar_ones(many, referral):
    table = HomeTable(tuple(many))
    everyone = np.arange(len(many))
    eligible = eligible_among(table, referral, everyone).tolist()
    assert eligible == [i for i, h in enumerate(many) if is_eligible(h, referral)]
    wanted = [fit_points(h, referral) for h in many]
    assert fit_points_among(table, referral, everyone).tolist() == wanted
    km_away = distances_km(table, everyone, referral.location)  # given by the caller, as the search does
    assert fit_points_among(table, referral, everyone, km_away).tolist() == wanted


@st.composite
def protected(draw, many):
    """A referral with keep-away homes, circles and keep-apart homes drawn among `many`, and
    limits that often fall exactly on a home's distance (where numpy and math may differ)."""
    referral = draw(referrals())
    ids = [h.id for h in many]
    exact = [distance_km(h.location, referral.location) for h in many]
    limit = draw(st.sampled_from((None, 150.0, *exact)))
    centre = draw(st.sampled_from(many)).location
    radius = draw(st.sampled_from((0.0, 100.0, *(distance_km(h.location, centre) for h in many))))
    return dataclasses.replace(
        referral, max_distance_km=limit,
        keep_away_homes=tuple(draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))),
        keep_apart_homes=tuple(draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))),
        keep_away_circles=tuple(draw(st.lists(st.just(Circle(centre, radius)), max_size=1))))


@settings(SOLVER, max_examples=300)
@given(st.lists(homes(), min_size=1, max_size=8).map(lambda hs: [dataclasses.replace(h, id=f"h{i}") for i, h in enumerate(hs)])
       .flatmap(lambda hs: st.tuples(st.just(hs), st.one_of(referrals(), protected(hs)))))
def test_the_bulk_rules_name_the_same_rules_as_exclusions(drawn):
    """The search sorts every home by `failures_among` (given the distances it has) and words
    only those it shows with `exclusions`: per home, the rules must be the same ones, and
    eligibility (`failures_among` working out the distances) the same."""
    many, referral = drawn
    table = HomeTable(tuple(many))
    everyone = np.arange(len(many))
    failed = failures_among(table, referral, everyone, distances_km(table, everyone, referral.location))
    for j, home in enumerate(many):
        assert [rule for i, rule in enumerate(RULES) if failed[i, j]] == [e.rule for e in exclusions(home, referral)]
    assert eligible_among(table, referral, everyone).tolist() == [i for i, h in enumerate(many) if is_eligible(h, referral)]
    assert failures_among(table, referral, everyone[:0]).shape == (len(RULES), 0)


@settings(SOLVER, max_examples=300)
@given(st.lists(homes(), min_size=1, max_size=8)
       # Repeats: homes alike in every field but their id, whose words the bulk path shares.
       .flatmap(lambda hs: st.lists(st.sampled_from(hs), min_size=len(hs), max_size=2 * len(hs)))
       .map(lambda hs: [dataclasses.replace(h, id=f"h{i}") for i, h in enumerate(hs)])
       .flatmap(lambda hs: st.tuples(st.just(hs), st.one_of(referrals(), protected(hs)))),
       st.randoms(use_true_random=False))
def test_the_bulk_words_equal_the_one_home_rules_word_for_word(drawn, random):
    """The search writes fit reasons and exclusions from the table (`fits_among`,
    `exclusions_among`): for any subset of homes in any order, each home's must be exactly
    `fit`'s and `exclusions`' (same rules, same words, same order)."""
    many, referral = drawn
    table = HomeTable(tuple(many))
    chosen = np.array(random.sample(range(len(many)), random.randint(0, len(many))), dtype=np.int64)
    one_by_one = [fit(many[i], referral) for i in chosen.tolist()]
    assert fits_among(table, referral, chosen) == one_by_one
    # And with the distances given by the caller, as the search does.
    assert fits_among(table, referral, chosen, distances_km(table, chosen, referral.location)) == one_by_one
    worded = exclusions_among(table, referral, chosen, failures_among(table, referral, chosen))
    assert worded == [exclusions(many[i], referral) for i in chosen.tolist()]


@SOLVER
@given(instances(max_homes=3, max_referrals=5))
def test_counts_and_fit_equal_brute_force(instance):
    assert lexicographic(solve(instance, time_limit=10, workers=1), instance) == brute_force(instance)


@SOLVER
@given(instances(max_homes=3, max_referrals=5), st.sampled_from(("scip", "cpsat_after_lp", "scip_after_lp")))
def test_the_large_batch_paths_equal_brute_force_too(instance, path):
    # Large batches get an LP bound, the transportation answer and the dive, then SCIP
    # or (beyond SCIP's cap) CP-SAT on the reduced model; without the LP, SCIP or CP-SAT
    # on the whole: force each path on small ones.
    sizes = {"scip": dict(MIP_PAIRS=1, LP_PAIRS=10**9), "cpsat_after_lp": dict(MIP_PAIRS=10**9, LP_PAIRS=1),
             "scip_after_lp": dict(MIP_PAIRS=1, LP_PAIRS=1)}[path]
    with mock.patch.multiple("solver.engine", **sizes):
        result = solve(instance, time_limit=10, workers=1)
    assert lexicographic(result, instance) == brute_force(instance)
    assert check(instance, result_to_json(result)) == []


@SOLVER
@given(instances(max_homes=4, max_referrals=6))
def test_no_proposal_breaks_a_protective_rule_and_adding_rules_never_places_more(instance):
    """Keep-away areas and keep-apart youths, checked directly on the answer (not only by
    the checker): no placement inside an area or beside a keep-apart youth, and the
    instance without the rules places, tier by tier in order, at least as many youths."""
    result = solve(instance, time_limit=10, workers=1)
    where = {a.referral: a.home for a in result.assignments}
    homes_ = {h.id: h for h in instance.homes}
    for referral in instance.referrals:
        home = homes_.get(where.get(referral.id))
        if home is None:
            continue
        assert home.id not in referral.keep_away_homes and home.id not in referral.keep_apart_homes
        assert not in_keep_away(home, referral)
        for other in referral.keep_apart:
            assert where.get(other) != home.id
    free = solve(without_rules(instance), time_limit=10, workers=1)
    assert tuple(result.placed[t] for t in URGENCIES) <= tuple(free.placed[t] for t in URGENCIES)
    assert result.placed["emergency"] <= free.placed["emergency"]


MUTATIONS = ("drop", "duplicate", "swap_home", "count", "fit", "code")


def mutate(result: dict, how: str) -> dict | None:
    """A copy of `result` broken in one way, or None when `how` cannot apply to it."""
    broken = copy.deepcopy(result)
    if how == "drop":
        entries = broken["assignments"] or broken["unmatched"]
        if not entries:
            return None
        entries.pop()
    elif how == "duplicate":
        if not broken["assignments"]:
            return None
        broken["unmatched"].append({"referral": broken["assignments"][0]["referral"],
                                    "code": "no_capacity", "detail": "copied"})
    elif how == "swap_home":
        if not broken["assignments"]:
            return None
        broken["assignments"][0]["home"] = "no-such-home"
    elif how == "count":
        broken["placed"]["urgent"] += 1
    elif how == "fit":
        broken["fit"] += 0.5
    elif how == "code":
        if not broken["unmatched"]:
            return None
        entry = broken["unmatched"][0]
        entry["code"] = "no_capacity" if entry["code"] == "no_eligible_home" else "no_eligible_home"
    return broken


@SOLVER
@given(instances(), st.sampled_from(MUTATIONS))
def test_checker_catches_broken_answers(instance, how):
    result = result_to_json(solve(instance, time_limit=10, workers=1))
    broken = mutate(result, how)
    if broken is not None:
        assert check(instance, broken) != []


def _connected_pairs(pairs) -> list[frozenset]:
    """The components as sets of pairs, by a plain graph search: the reference."""
    left = set(range(len(pairs)))
    found = []
    while left:
        todo, seen = [left.pop()], set()
        while todo:
            i = todo.pop()
            seen.add(i)
            linked = {j for j in left if pairs[j].unit == pairs[i].unit or pairs[j].home == pairs[i].home}
            left -= linked
            todo.extend(linked)
        found.append(frozenset(pairs[i] for i in seen))
    return found


def _in_order(part) -> list[tuple[int, int]]:
    """A set of pairs as a sortable key (a `Pair` has no order of its own)."""
    return sorted((p.unit, p.home) for p in part)


@given(instances(max_homes=6, max_referrals=10), st.integers(0, len(URGENCIES) - 1))
def test_components_are_the_connected_parts_largest_first_in_input_order(instance, top):
    prepared = prepare(instance)
    pairs = [p for p in prepared.pairs if prepared.units[p.unit].top_tier <= top]
    parts = components(prepared, pairs)
    assert sorted(map(frozenset, (part.pairs for part in parts)), key=_in_order) == \
        sorted(_connected_pairs(pairs), key=_in_order)
    assert [len(part.pairs) for part in parts] == sorted((len(part.pairs) for part in parts), reverse=True)
    for part in parts:
        assert part.pairs == [p for p in pairs if p in part.pairs]
        assert part.units == list(dict.fromkeys(p.unit for p in part.pairs))


@given(st.integers(2, 60), st.randoms(use_true_random=False))
def test_component_labels_reach_the_far_end_of_a_long_chain(length, rng):
    # A path 0 - 1 - ... - (length - 1), its edges in any order: the smallest label has
    # to travel the whole path.
    edges = [(i, i + 1) for i in range(length - 1)]
    rng.shuffle(edges)
    tails, heads = (np.array(side, dtype=np.int64) for side in zip(*edges))
    assert component_labels(tails, heads, length + 1).tolist() == [0] * length + [length]


def _rules_one_pair_at_a_time(prepared, unit, homes_):
    """`explain.unit_failures` by the scalar rules: the reference."""
    named = [{e.rule for r in unit.referrals for e in exclusions(prepared.homes[h], r)} for h in homes_.tolist()]
    return np.array([[rule in rules for rules in named] for rule in RULES], dtype=bool).reshape(len(RULES), len(named))


def _first_by_sorting(approx, exact, count, first=None):
    """`explain._first_by_distance` as a plain sort by the exact distance: the reference."""
    keys = [0] * len(approx) if first is None else first.tolist()
    return sorted(range(len(approx)), key=lambda i: (keys[i], exact(i)))[:count]


SHARED_SPOTS = (Location(38.5, -94.0), Location(38.5, -94.0000001))  # ties and near-ties in distance


@given(instances(max_homes=7, max_referrals=6), st.booleans())
def test_explanations_on_arrays_read_word_for_word_as_one_pair_at_a_time(instance, crowd):
    if crowd:  # homes at one spot or a hair apart: the order of equal distances counts
        instance = dataclasses.replace(instance, homes=tuple(
            dataclasses.replace(h, location=SHARED_SPOTS[i % 2]) for i, h in enumerate(instance.homes)))
    prepared = prepare(instance)
    occupants = {}
    for pair in greedy_pairs(prepared):
        occupants.setdefault(pair.home, []).append(pair.unit)
    on_arrays = [explain_unplaced(prepared, unit, occupants) for unit in prepared.units]
    with mock.patch.object(explain, "unit_failures", _rules_one_pair_at_a_time), \
            mock.patch.object(explain, "_first_by_distance", _first_by_sorting):
        one_at_a_time = [explain_unplaced(prepared, unit, occupants) for unit in prepared.units]
    assert on_arrays == one_at_a_time
