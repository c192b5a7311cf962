"""The benchmark's synthetic instances are deterministic and have the documented mix."""
from __future__ import annotations

from solver.bench import SPECS, generate, table
from solver.eligibility import room
from solver.geodata import FIFTY_STATES
from solver.instance import instance_to_json, parse_instance


def test_instances_are_deterministic_and_valid():
    first, second = generate("state"), generate("state")
    assert first == second
    # The generator builds dataclasses directly; the parser must accept them all.
    assert parse_instance(instance_to_json(first)) == first


def test_state_instance_size():
    instance = generate("state")
    assert len(instance.homes) == 60 and len(instance.referrals) == 200
    assert {h.state for h in instance.homes} == {"MO"}
    assert 250 <= sum(h.open_beds for h in instance.homes) <= 350


def test_national_instance_mix():
    instance = generate("national")
    refs = instance.referrals
    assert len(instance.homes) == 1000 and len(refs) == 3000
    assert {h.state for h in instance.homes} == set(FIFTY_STATES)
    assert 9000 <= sum(h.open_beds for h in instance.homes) <= 11000
    share = lambda predicate: sum(map(predicate, refs)) / len(refs)  # noqa: E731
    assert 0.035 <= share(lambda r: bool(r.icpc_approved_states)) <= 0.065
    assert 0.08 <= share(lambda r: r.children_with > 0) <= 0.12
    assert 0.035 <= share(lambda r: r.sibling_group is not None) <= 0.065
    # Staffing binds somewhere: room is below open beds in total.
    assert sum(room(h) for h in instance.homes) < sum(h.open_beds for h in instance.homes)


def test_table_renders_a_row():
    row = {"instance": "state", "homes": 60, "open_beds": 302, "referrals": 200, "runs": 3,
           "seconds": 1.5, "status": "optimal",
           "level_seconds": {"emergency": 0.1, "urgent": 0.2, "planned": 0.3, "icwa": 0.05, "fit": 0.9},
           "level_gaps": {"emergency": 0, "urgent": 1, "planned": 0, "icwa": 0, "fit": 2.5}, "peak_mb": 210,
           "cpsat_placed": {"emergency": 3, "urgent": 2, "planned": 1},
           "greedy_placed": {"emergency": 3, "urgent": 1, "planned": 1}, "cpsat_fit": 10.0,
           "greedy_fit": 9.0, "gap": 0.0, "never_fewer": True, "checker_violations": 0,
           "load_average": 0.5}
    lines = table([row]).splitlines()
    assert len(lines) == 3
    assert ("| state | 60 | 302 | 200 | 1.50 (3 runs) | 0.1/0.2/0.3/0.05/0.9 | optimal | 0/1/0/0/2.5 | 3/2/1 | 3/1/1 |"
            in lines[2])
    assert lines[2].endswith("| 210 | 0.5 |")


def test_dense_instance_is_one_state_with_homes_across_the_border():
    instance = generate("dense")
    assert len(instance.homes) == 300 and len(instance.referrals) == 1000
    assert {r.custody_state for r in instance.referrals} == {"TX"}
    outside = [h for h in instance.homes if h.state != "TX"]
    assert len(outside) == 30 and all(h.accepts_out_of_state for h in outside)
    # Tight: fewer staffed places than youths, and some ICPC approvals reach those homes.
    assert sum(room(h) for h in instance.homes) < len(instance.referrals)
    approved = {s for r in instance.referrals for s in r.icpc_approved_states}
    assert approved & {h.state for h in outside}


def test_generated_instances_carry_protective_rules_and_stay_the_same_without_them():
    from solver.bench import add_protections

    protected, plain = generate("state"), generate("state", protected=False)
    assert [r.id for r in protected.referrals] == [r.id for r in plain.referrals]
    assert any(r.keep_apart for r in protected.referrals) and any(r.keep_away_circles for r in protected.referrals)
    assert any(r.keep_away_homes for r in protected.referrals) and any(r.icwa for r in protected.referrals)
    assert not any(r.keep_apart or r.keep_away_homes or r.icwa for r in plain.referrals)
    assert add_protections(plain, SPECS["state"].seed + 1) == protected
