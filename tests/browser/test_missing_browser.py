"""An operator on a phone reports a placed youth missing and sees the 24-hour report clock."""
from __future__ import annotations

from datetime import timedelta

import pytest

from placement.timeutil import format_local, utcnow

from ..helpers import PASSWORD
from ..placement.lifecycle_world import episode_of, local, make_world
from .conftest import sign_in

pytestmark = pytest.mark.browser


def test_operator_reports_a_youth_missing_on_a_phone_and_sees_the_clock(live_server, phone, factory):
    world = make_world(factory)
    sign_in(phone, live_server, world.operator.email, PASSWORD)
    phone.wait_for_url(f"{live_server}/provider/homes")

    phone.goto(f"{live_server}/provider/placements")
    phone.get_by_role("link", name=world.referral.case_reference).click()
    phone.wait_for_url(f"{live_server}/provider/placements/{world.placement.id}")
    form = phone.locator("[data-testid=missing-form]")
    form.locator("input[name=last_seen_at]").fill(local(utcnow() - timedelta(hours=3)))
    form.get_by_role("button", name="Report missing").click()

    phone.wait_for_url(f"{live_server}/provider/placements/{world.placement.id}")
    assert "24-hour report clock has started" in phone.locator(".flash").inner_text()
    clock = phone.locator("[data-testid=report-clock]")
    assert clock.is_visible()
    text = clock.locator("[data-testid=clock-text]").inner_text()
    assert text in ("23 h 59 min left", "24 h 00 min left")
    episode = episode_of(factory, world)
    assert clock.locator("[data-testid=clock-due]").inner_text() == format_local(episode.reports_due_at, "America/Chicago")
    assert "Law enforcement: not yet made" in clock.inner_text() and "NCMEC: not yet made" in clock.inner_text()
    assert "kept for this youth until" in phone.locator("[data-testid=kept-bed]").inner_text()
    # The clock and the form fit a phone: nothing wider than the viewport.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
