"""Bad input: every malformed instance is refused with the field named (solver/instance.py)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from solver.instance import InstanceError, instance_to_json, parse_instance

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "instance.json"


@pytest.fixture()
def data() -> dict:
    return json.loads(EXAMPLE.read_text())


def refused(data: dict) -> InstanceError:
    with pytest.raises(InstanceError) as caught:
        parse_instance(data)
    return caught.value


def test_example_parses_and_round_trips(data):
    instance = parse_instance(data)
    assert len(instance.homes) == 3 and len(instance.referrals) == 7
    assert parse_instance(instance_to_json(instance)) == instance


def test_empty_instance_is_valid():
    instance = parse_instance({"version": 1, "homes": [], "referrals": []})
    assert instance.homes == () and instance.referrals == ()


@pytest.mark.parametrize("path, value, field", [
    (("homes", 0, "program"), "boot_camp", "homes[0].program"),
    (("homes", 0, "genders", 0), "other", "homes[0].genders[0]"),
    (("homes", 0, "substance_use_support"), "some", "homes[0].substance_use_support"),
    (("referrals", 1, "urgency"), "asap", "referrals[1].urgency"),
    (("referrals", 1, "substance_use"), "detox", "referrals[1].substance_use"),
    (("referrals", 1, "custody_state"), "XX", "referrals[1].custody_state"),
    (("referrals", 1, "programs", 0), "camp", "referrals[1].programs[0]"),
])
def test_unknown_enum_values(data, path, value, field):
    data["referrals"][1]["programs"] = ["long_term"]
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    error = refused(data)
    assert error.field == field
    assert repr(value) in error.message


@pytest.mark.parametrize("section, key, value", [
    ("homes", "open_beds", -1), ("homes", "current_youth", -2), ("homes", "staff_on_duty", -1),
    ("referrals", "children_with", -1), ("referrals", "medical_level", -1),
])
def test_negative_numbers(data, section, key, value):
    data[section][0][key] = value
    error = refused(data)
    assert error.field == f"{section}[0].{key}"
    assert "negative" in error.message


@pytest.mark.parametrize("section, key, value, field", [
    ("referrals", "age", 22, "referrals[0].age"),
    ("referrals", "age", -1, "referrals[0].age"),
    ("homes", "ages", [12, 40], "homes[0].ages[1]"),
    ("homes", "ages", [17, 12], "homes[0].ages"),
    ("homes", "ages", [12], "homes[0].ages"),
    ("homes", "medical_level", 4, "homes[0].medical_level"),
    ("homes", "youth_per_staff", 0, "homes[0].youth_per_staff"),
    ("referrals", "location", {"lat": 91, "lon": 0}, "referrals[0].location.lat"),
    ("referrals", "max_distance_km", -5, "referrals[0].max_distance_km"),
])
def test_out_of_range(data, section, key, value, field):
    data[section][0][key] = value
    assert refused(data).field == field


@pytest.mark.parametrize("section, key, value, field", [
    ("homes", "open_beds", True, "homes[0].open_beds"),      # a Boolean is not a count
    ("homes", "open_beds", 2.5, "homes[0].open_beds"),
    ("referrals", "pregnant", "no", "referrals[0].pregnant"),
    ("referrals", "id", "  ", "referrals[0].id"),
    ("referrals", "language", 7, "referrals[0].language"),
])
def test_wrong_types(data, section, key, value, field):
    data[section][0][key] = value
    assert refused(data).field == field


def test_duplicate_ids(data):
    data["homes"][1]["id"] = data["homes"][0]["id"]
    error = refused(data)
    assert (error.field, "duplicate" in error.message) == ("homes[1].id", True)
    data = copy.deepcopy(data)
    data["homes"][1]["id"] = "unique"
    data["referrals"][3]["id"] = "r1"
    assert refused(data).field == "referrals[3].id"


def test_sibling_group_across_custody_states(data):
    data["referrals"][3]["custody_state"] = "KS"  # r3 and r4 are sibling group g1
    error = refused(data)
    assert error.field == "referrals[3].sibling_group"
    assert "MO" in error.message and "KS" in error.message


def test_missing_and_unknown_fields(data):
    broken = copy.deepcopy(data)
    del broken["homes"][2]["staff_on_duty"]
    assert refused(broken).field == "homes[2].staff_on_duty"
    broken = copy.deepcopy(data)
    broken["referrals"][0]["max_distance"] = 50  # a misspelt optional field must not be ignored
    error = refused(broken)
    assert (error.field, error.message) == ("referrals[0].max_distance", "is not a known field")


def test_optional_referral_fields_default(data):
    for key in ("cultural_need", "max_distance_km", "sibling_group"):
        del data["referrals"][0][key]
    referral = parse_instance(data).referrals[0]
    assert (referral.cultural_need, referral.max_distance_km, referral.sibling_group) == (None, None, None)


@pytest.mark.parametrize("document, field", [
    ([], "instance"), ({"version": 3, "homes": [], "referrals": []}, "version"),
    ({"version": 1, "homes": {}, "referrals": []}, "homes"), ({"version": 1, "homes": []}, "referrals"),
])
def test_top_level_shape(document, field):
    assert refused(document).field == field
