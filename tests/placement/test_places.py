"""The place picker's JSON lookups: signed-in caseworkers and operators only, gazetteer only."""
from __future__ import annotations

from ..helpers import login


def test_a_state_lists_its_counties_and_cities_and_text_narrows_them(client, factory):
    login(client, factory.user("caseworker"))
    places = client.get("/places/?state=MO").get_json()["places"]
    assert "Boone County, MO" in places and "Columbia (Boone County), MO" in places and len(places) > 1000
    narrowed = client.get("/places/?state=MO&q=colum").get_json()["places"]
    assert narrowed and all(label.startswith("Colum") for label in narrowed)
    assert client.get("/places/?state=ZZ").get_json()["places"] == []
    assert client.get("/places/?state=MO&q=%27%20OR%201%3D1--").get_json()["places"] == []


def test_a_position_becomes_the_nearest_city_and_the_sea_a_404(client, factory):
    login(client, factory.user("operator"))
    answer = client.get("/places/near/38.951/-92.334")
    assert answer.status_code == 200 and answer.get_json() == {"place": "Columbia (Boone County), MO", "state": "MO"}
    assert client.get("/places/near/0.0/0.0").status_code == 404
    assert client.get("/places/near/95.0/0.0").status_code == 404
    assert client.get("/places/near/north/0.0").status_code == 404


def test_coordinators_and_strangers_get_nothing(client, factory):
    assert client.get("/places/?state=MO").status_code == 302
    login(client, factory.user("coordinator"))
    assert client.get("/places/?state=MO").status_code == 403
