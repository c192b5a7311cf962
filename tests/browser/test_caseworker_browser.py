"""The whole path in Chromium: referral, search, hold, request, accept, address."""
from __future__ import annotations

import pytest

from ..helpers import PASSWORD
from .conftest import sign_in

pytestmark = pytest.mark.browser


def test_referral_to_placement_on_a_phone(live_server, browser, phone, factory):
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, name="Aspen House", street_address="404 Confidential Test Road",
                        availability={"open_beds": 1, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 2})
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))

    sign_in(phone, live_server, caseworker.email, PASSWORD)
    phone.get_by_role("main").get_by_role("link", name="New referral").click()
    phone.fill("input[name=case_reference]", "MO-2026-7781")
    phone.select_option("select[name=urgency]", "emergency")
    phone.fill("input[name=age]", "14")
    phone.select_option("select[name=gender]", "female")
    phone.select_option("select[name=custody_state]", "MO")
    phone.fill("input[name=place]", "Boone County")
    phone.get_by_role("button", name="Open referral and find beds").click()
    # No request goes without consent on file: this youth cannot consent tonight, so a supervisor approves an override.
    phone.get_by_role("link", name="Referral details").click()
    phone.get_by_text("No consent possible: record an override").click()
    phone.fill("textarea[name=reason]", "Youth asleep on arrival; supervisor approved by phone")
    phone.fill("input[name=approved_by]", "Night supervisor")
    phone.get_by_role("button", name="Record override").click()
    phone.locator("[data-testid=consent-on-file]").wait_for()
    phone.get_by_role("link", name="Find a bed").click()

    candidate = phone.locator(f"[data-testid=candidate-{home.id}]")
    candidate.wait_for()
    assert "Aspen House" in candidate.inner_text()
    assert "404 Confidential Test Road" not in phone.content()
    phone.locator(f"[data-testid=hold-{home.id}]").click()
    phone.locator("[data-testid=active-hold]").wait_for()
    assert "Bed held" in phone.locator(".flash").inner_text()
    phone.locator("[data-testid=active-hold]").get_by_role("button", name="Request placement").click()
    assert phone.locator("[data-testid=referral-status]").inner_text() == "Placement requested"

    operator_page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(operator_page, live_server, operator.email, PASSWORD)
    assert operator_page.locator("[data-testid=notification-badge]").inner_text() == "1"
    operator_page.goto(f"{live_server}/provider/requests")
    operator_page.get_by_role("link", name="MO-2026-7781 → Aspen House").click()
    operator_page.get_by_role("button", name="Accept").click()
    assert "Accepted" in operator_page.locator(".flash").inner_text()
    operator_page.context.close()

    phone.reload()
    assert phone.locator("[data-testid=referral-status]").inner_text() == "Placed"
    assert "404 Confidential Test Road" in phone.locator("[data-testid=address]").inner_text()
    assert phone.locator("[data-testid=notification-badge]").inner_text() == "1"
