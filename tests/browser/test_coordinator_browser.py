"""A coordinator on a phone in Chromium: the dashboard's charts draw, the matcher runs and approves,
and a long "Needs a bed now" list shows 25 first with a "Show all" link."""
from __future__ import annotations

from datetime import timedelta

import pytest

from placement.models import AvailabilityUpdate
from placement.timeutil import utcnow

from ..helpers import PASSWORD, make_referral
from .axe import axe_violations, describe
from .conftest import PHONE, sign_in

pytestmark = pytest.mark.browser

# Pixels of a chart's canvas that are not fully transparent: 0 means nothing was drawn.
PAINTED = """canvas => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { painted++; } }
  return painted;
}"""


@pytest.fixture()
def coordinator_world(factory):
    provider = factory.org("provider", "MO")
    factory.user("operator", provider)
    home = factory.home(provider, name="Aspen House", street_address="404 Confidential Test Road")
    factory.home(provider, name="Birch House", program="long_term", street_address="405 Confidential Test Road",
                 availability={"open_beds": 3, "staff_on_duty": 1, "youth_per_staff": 2, "current_youth": 1})
    factory.session.add(AvailabilityUpdate(home_id=home.id, open_beds=3, licensed_beds=6, staff_on_duty=2, youth_per_staff=3,
                                           current_youth=2, recorded_at=utcnow() - timedelta(days=3)))
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    make_referral(factory, caseworker, case_reference="MO-PHONE-1")
    make_referral(factory, caseworker, case_reference="MO-PHONE-2", substance_use="active")
    factory.session.commit()
    return factory.user("coordinator", factory.org("coordinator_office", "MO"))


def test_dashboard_charts_render_on_a_phone(live_server, browser, coordinator_world):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, live_server, coordinator_world.email, PASSWORD)
    page.goto(f"{live_server}/coordinator/")
    for key in ("capacity", "occupancy", "unmet"):
        canvas = page.locator(f"[data-testid=chart-{key}][data-drawn=true]")
        canvas.wait_for()
        box = canvas.bounding_box()
        assert box["width"] > 200 and box["height"] > 150, (key, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"], (key, box)
        assert canvas.evaluate(PAINTED) > 1000, key
    # Nothing spills sideways on a 390 px screen, and the strict CSP refused nothing.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    assert not problems, problems
    assert "404 Confidential Test Road" not in page.content()
    context.close()


def test_run_the_matcher_and_approve_on_a_phone(live_server, phone, coordinator_world):
    sign_in(phone, live_server, coordinator_world.email, PASSWORD)
    phone.get_by_role("navigation").get_by_role("link", name="Matcher").click()
    phone.get_by_role("button", name="Run the matcher for MO").click()
    status = phone.locator("[data-testid=run-status]")
    status.wait_for()
    assert status.get_attribute("data-status") == "done"
    assert phone.locator("[data-testid=proposed-count]").inner_text() == "1"
    assert "MO-PHONE-2" in phone.locator("[data-testid=unmatched]").inner_text()
    phone.get_by_role("button", name="Approve", exact=True).click()
    assert "Approved 1: MO-PHONE-1" in phone.locator(".flash").first.inner_text()
    assert "bed held and placement requested" in phone.content()
    phone.get_by_role("navigation").get_by_role("link", name="Unmet need").click()
    phone.locator("[data-testid=chart-unmet][data-drawn=true]").wait_for()
    assert "Active substance use" in phone.locator("[data-testid=table-unmet_by_reason]").inner_text()


def test_needs_a_bed_shows_25_first_and_show_all_by_keyboard_on_a_phone(live_server, phone, factory, coordinator_world):
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    for number in range(25):  # with MO-PHONE-2 (active substance use, no detox home): 26 youths
        make_referral(factory, caseworker, case_reference=f"MO-YOUNG-{number}", age=8)  # no home takes an 8-year-old
    factory.session.commit()
    sign_in(phone, live_server, coordinator_world.email, PASSWORD)
    phone.goto(f"{live_server}/coordinator/needs-a-bed")
    cards = phone.locator("[data-testid=needs-bed] > li.card")
    assert cards.count() == 25
    more = phone.locator("[data-testid=needs-bed-more]")
    assert more.inner_text().startswith("The 25 most urgent of 26 youths are shown.")
    assert describe("needs-a-bed, first 25", axe_violations(phone, live_server)) == []
    more.get_by_role("link", name="Show all 26").focus()
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/coordinator/needs-a-bed?all=1")
    assert cards.count() == 26 and more.count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
