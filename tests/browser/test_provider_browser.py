"""An operator on a phone updates tonight's beds in real Chromium."""
from __future__ import annotations

import pytest
from sqlmodel import select

from placement.models import AvailabilityUpdate

from ..helpers import PASSWORD
from .conftest import sign_in

pytestmark = pytest.mark.browser


def test_operator_updates_tonights_beds_on_a_phone(live_server, phone, factory):
    provider = factory.org("provider")
    operator = factory.user("operator", provider)
    home = factory.home(provider, name="Juniper House", licensed_beds=6,
                        availability={"open_beds": 1, "staff_on_duty": 1, "youth_per_staff": 3, "current_youth": 2})

    sign_in(phone, live_server, operator.email, PASSWORD)
    phone.wait_for_url(f"{live_server}/provider/homes")
    card = phone.locator(f"[data-testid=home-{home.id}]")
    assert card.locator("[data-testid=open-beds]").inner_text() == "1"
    # The page fits a phone: nothing wider than the viewport.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    card.get_by_role("link", name="Update tonight").click()
    phone.fill("input[name=open_beds]", "3")
    phone.fill("input[name=staff_on_duty]", "2")
    phone.fill("input[name=youth_per_staff]", "2")
    phone.fill("input[name=current_youth]", "2")
    hint = phone.locator("[data-staffing-hint]").inner_text()
    assert "you can take 2 more tonight (staffing, not beds, is the limit)" in hint
    phone.get_by_role("button", name="Publish").click()

    phone.wait_for_url(f"{live_server}/provider/homes")
    assert "it can take 2 more" in phone.locator(".flash").inner_text()
    assert card.locator("[data-testid=open-beds]").inner_text() == "3"
    assert "Staffing limits this home to 2 more youths tonight" in card.inner_text()
    latest = factory.session.exec(
        select(AvailabilityUpdate).where(AvailabilityUpdate.home_id == home.id).order_by(AvailabilityUpdate.id.desc())
    ).first()
    assert (latest.open_beds, latest.staff_on_duty, latest.recorded_by_id) == (3, 2, operator.id)
