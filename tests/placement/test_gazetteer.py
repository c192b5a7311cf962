"""The offline gazetteer: counties, cities and ZIP codes become places with coordinates."""
from __future__ import annotations

import pytest

from placement import gazetteer
from solver.eligibility import distance_km
from solver.instance import Location

COLUMBIA_MO = Location(38.95, -92.33)


def test_a_zip_code_is_a_place_in_its_own_state_whatever_the_default():
    [place] = gazetteer.find("65201", "AL")
    assert (place.state, place.county, place.city, place.zip_code) == ("MO", "Boone", "Columbia", "65201")
    assert distance_km(Location(place.lat, place.lon), COLUMBIA_MO) < 10
    assert place.label == "65201 Columbia (Boone County), MO"


@pytest.mark.parametrize("text", ["Boone", "boone county", "Boone County, MO", "  BOONE  "])
def test_a_county_by_name_with_or_without_the_word_county(text):
    [place] = gazetteer.find(text, "MO")
    assert (place.state, place.county, place.city) == ("MO", "Boone", None)
    assert place.label == "Boone County, MO"
    assert distance_km(Location(place.lat, place.lon), COLUMBIA_MO) < 40


def test_the_state_a_label_names_wins_over_the_default_state():
    [place] = gazetteer.find("Jackson County, MO", "AL")
    assert place.state == "MO" and place.county == "Jackson"
    [alabama] = gazetteer.find("Jackson County", "AL")
    assert alabama.state == "AL" and distance_km(Location(alabama.lat, alabama.lon), Location(place.lat, place.lon)) > 500


def test_a_picker_label_comes_back_as_the_same_place():
    for label in gazetteer.labels("MO")[:40] + ("Columbia (Boone County), MO", "St. Louis City, MO"):
        found = gazetteer.find(label, "KS")
        assert len(found) == 1 and found[0].label == label, label


def test_a_prefix_suggests_and_nonsense_finds_nothing():
    suggestions = gazetteer.find("Colum", "MO")
    assert suggestions and all(p.label.startswith("Colum") for p in suggestions)
    assert len(gazetteer.find("C", "MO")) == gazetteer.SUGGESTIONS
    assert gazetteer.find("Atlantis", "MO") == []
    assert gazetteer.find("", "MO") == []
    assert gazetteer.find("00000", "MO") == []
    assert gazetteer.labels("not a state") == ()


def test_a_phone_position_becomes_the_nearest_city_and_the_ocean_nothing():
    place = gazetteer.nearest(38.951, -92.334)
    assert (place.city, place.county, place.state) == ("Columbia", "Boone", "MO")
    assert gazetteer.nearest(0.0, 0.0) is None
