"""The offline maps draw under the strict CSP: the caseworker's search and the coordinator's capacity page."""
from __future__ import annotations

import pytest

from ..helpers import PASSWORD, make_referral
from .conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_search_map_shows_the_youth_the_homes_and_rings_without_the_address(live_server, browser, factory):
    provider = factory.org("provider", "MO")
    home = factory.home(provider, name="Aspen House", lat=38.9517, lon=-92.3341, street_address="404 Confidential Test Road")
    factory.home(provider, name="Full House", city="Kansas City", county="Jackson", lat=39.0997, lon=-94.5786,
                 availability={"open_beds": 0})
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    referral = make_referral(factory, caseworker)
    page = browser.new_context(**PHONE).new_page()
    problems = _watch(page)
    sign_in(page, live_server, caseworker.email, PASSWORD)
    page.goto(f"{live_server}/caseworker/referrals/{referral.id}/search")
    drawn = page.locator("[data-testid=map-search][data-drawn=true]")
    drawn.wait_for()
    assert drawn.locator("path[data-county]").count() == 115  # Missouri's counties and St. Louis city
    assert drawn.locator("[data-kind=youth]").count() == 1
    assert drawn.locator("[data-kind=available]").count() == 1 and drawn.locator("[data-kind=full]").count() == 1
    assert drawn.locator("circle[stroke-dasharray]").count() == 3
    assert "Aspen House" in drawn.locator("[data-kind=available] title").text_content()
    # A home's point is rounded to about 10 km: the exact coordinates never reach the page.
    assert str(home.lat) not in page.content() and "404 Confidential" not in page.content()
    box = drawn.bounding_box()
    assert box["width"] <= PHONE["viewport"]["width"]
    assert not problems, problems
    page.context.close()


def test_capacity_map_colours_counties_by_open_beds(live_server, browser, factory):
    provider = factory.org("provider", "MO")
    factory.home(provider, county="Boone", availability={"open_beds": 3, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 0})
    coordinator = factory.user("coordinator", factory.org("coordinator_office", "MO"))
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    problems = _watch(page)
    sign_in(page, live_server, coordinator.email, PASSWORD)
    page.goto(f"{live_server}/coordinator/")
    drawn = page.locator("[data-testid=map-capacity][data-drawn=true]")
    drawn.wait_for()
    boone = drawn.locator("path[data-county=Boone]")
    assert boone.get_attribute("fill") != "#f1f3f6"
    assert "Boone County: 3 open beds" in boone.locator("title").text_content()
    assert drawn.locator("path[data-county=Jackson]").get_attribute("fill") == "#f1f3f6"
    assert not problems, problems
    page.context.close()
