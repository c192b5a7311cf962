"""WCAG 2.2 AA with axe-core: every page as every role, on a phone and a desktop, and
every form re-rendered with its errors, under the real Content-Security-Policy.

The pages come from the URL map and the access sweep's table (tests/placement/
test_access_sweep.py), so a page added later is checked without anyone listing it.
"""
from __future__ import annotations

import pytest

from placement.models import Placement

from ..helpers import PASSWORD
from ..placement.access_table import (
    ACTORS,
    ADMIN,
    ALLOWED,
    ANONYMOUS,
    AUDITOR,
    CASEWORKER,
    COORDINATOR,
    OPERATOR,
    TABLE,
    actor_user,
    build_world,
)
from .axe import axe_violations, describe
from .conftest import PHONE, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
# Not HTML pages: CSV downloads, the health check, the place picker's JSON lookups (and the JSON API).
NOT_PAGES = {"healthz", "coordinator.export_csv", "admin.audit_csv", "places.suggest", "places.near",
             "caseworker.download_document", "provider.download_document"}  # intake documents: attachments


def _pages(app, actor: str, ids: dict) -> list[str]:
    """Every HTML page (GET) the access table lets `actor` open, with the world's ids."""
    adapter = app.url_map.bind("localhost")
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint in NOT_PAGES or rule.rule.startswith("/api/") or "GET" not in rule.methods:
            continue
        row = TABLE[rule.endpoint]
        if row.expect[actor] != ALLOWED:
            continue
        paths.append(adapter.build(rule.endpoint, {name: ids[row.args.get(name, name)] for name in rule.arguments}))
    return sorted(set(paths)) + ["/no-such-page"]


def _watch(page) -> list[str]:
    """Collect console errors (a refused script or style shows up here) and page errors."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("actor", ACTORS)
def test_every_page_has_no_axe_violations(live_server, browser, factory, app, actor, size):
    world = build_world(factory)
    context = browser.new_context(**VIEWPORTS[size])
    page = context.new_page()
    problems = _watch(page)
    if actor != ANONYMOUS:
        sign_in(page, live_server, actor_user(factory, world, actor).email, PASSWORD)
        page.wait_for_load_state()
    failures, visited = [], 0
    for path in _pages(app, actor, world.ids):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("load")
        failures += describe(f"{path} as {actor} ({size})", axe_violations(page, live_server))
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > VIEWPORTS[size]["viewport"]["width"]:
            failures.append(f"{path} as {actor} ({size}): {width} px wide, scrolls sideways")
        visited += 1
    context.close()
    assert visited >= 2
    assert not failures, "\n".join(failures)
    # The Content-Security-Policy refused nothing, axe included (it came from static/).
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def _clear_and_submit(form) -> None:
    """Empty every typed field of `form` and submit it: the server answers with errors."""
    for field in form.locator("input[type=text], input[type=number], input[type=email], input[type=password],"
                              " input[type=datetime-local], input[type=date], input:not([type]), textarea").all():
        if field.is_visible():
            field.fill("")
    form.locator("button[type=submit]").first.click()


def _error_forms(factory, world) -> list[tuple[str, str, str]]:
    """(actor, path, form selector) for every form a user fills in."""
    ids = world.ids
    placed = factory.get(Placement, ids["placement_id"])
    return [
        (ANONYMOUS, "/login", "main form"),
        (ANONYMOUS, f"/invitation/{ids['token']}", "main form"),
        (OPERATOR, "/account/password", "main form"),
        (OPERATOR, "/account/tokens", "main form"),
        (ADMIN, "/admin/users/invite", "main form"),
        (ADMIN, "/admin/organisations", "main form"),
        (AUDITOR, "/admin/audit?object_id=x&date_from=2026-02-30", None),
        (COORDINATOR, "/coordinator/unmet-need?date_from=2026-02-30", None),
        (CASEWORKER, "/caseworker/referrals/new", "main form"),
        (CASEWORKER, f"/caseworker/referrals/{ids['referral_id']}/edit", "main form"),
        (CASEWORKER, f"/caseworker/referrals/{placed.referral_id}", "[data-testid=missing-form] form"),
        (CASEWORKER, f"/caseworker/missing/{ids['episode_id']}", "[data-testid=report-form] form"),
        (CASEWORKER, f"/caseworker/missing/{ids['episode_id']}", "[data-testid=located-form] form"),
        (OPERATOR, "/provider/homes/new", "main form"),
        (OPERATOR, f"/provider/homes/{ids['home_id']}/edit", "main form"),
        (OPERATOR, f"/provider/homes/{ids['home_id']}/availability", "main form"),
        (OPERATOR, f"/provider/placements/{ids['placement_id']}", "[data-testid=missing-form] form"),
        (CASEWORKER, f"/caseworker/referrals/{ids['placed_referral_id']}", "[data-testid=handoff] form"),
    ]


@pytest.mark.parametrize("size", VIEWPORTS)
def test_every_form_with_errors_has_no_axe_violations_and_says_so(live_server, browser, factory, size):
    world = build_world(factory)
    contexts, failures = {}, []
    for actor, path, selector in _error_forms(factory, world):
        if actor not in contexts:
            contexts[actor] = browser.new_context(**VIEWPORTS[size]).new_page()
            if actor != ANONYMOUS:
                sign_in(contexts[actor], live_server, actor_user(factory, world, actor).email, PASSWORD)
                contexts[actor].wait_for_load_state()
        page = contexts[actor]
        page.goto(f"{live_server}{path}")
        if selector:
            _clear_and_submit(page.locator(selector).first)
        page.wait_for_load_state("load")
        where = f"{path} [{selector}] as {actor} ({size})"
        summary = page.locator("#error-summary")
        if not summary.count():
            failures.append(f"{where}: no error summary")
        else:
            if not page.evaluate("document.activeElement && document.activeElement.id === 'error-summary'"):
                failures.append(f"{where}: focus is not on the error summary")
            if not page.title().startswith("Error: "):
                failures.append(f"{where}: the title does not say there is an error ({page.title()!r})")
        failures += describe(where, axe_violations(page, live_server))
    for page in contexts.values():
        page.context.close()
    assert not failures, "\n".join(failures)
