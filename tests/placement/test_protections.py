"""Rules that protect a youth (issue 18) in the web app: keep-away areas, keep-apart
youths and ICWA preferences, in search, booking, the matcher's snapshot, the coordinator's
outcomes, the API, and who may see them (the sweep over every page as every role)."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlmodel import select

from placement import gazetteer
from placement.models import AuditEvent, Home, KeepApartLink, KeepAwayArea, Organisation, Placement, PlacementRequest, Referral, Tribe, User
from placement.services import booking, matcher_runs, outcomes, protections
from placement.services.errors import ServiceError
from placement.timeutil import utcnow
from solver.checker import check
from solver.engine import solve
from solver.instance import parse_instance
from solver.result import result_to_json

from ..helpers import api_token, login, make_referral, post
from .access_table import OPERATOR, SECRET_AREA, SECRET_TRIBE, build_world
from .security_world import ACTORS, audit_since, last_audit_id, path_for, swept_rules, visitor

KC = {"county": "Jackson", "city": "Kansas City", "lat": 39.1, "lon": -94.58}
AWAY = "inside an area this youth must stay away from"
APART = "a youth this youth must be kept apart from is placed, held or requested here"


def _world(factory):
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    agency = factory.org("agency", "MO")
    caseworker = factory.user("caseworker", agency)
    columbia = factory.home(provider, name="Columbia House", availability={"open_beds": 3, "staff_on_duty": 3})
    kansas = factory.home(provider, name="Kansas City House", availability={"open_beds": 3, "staff_on_duty": 3}, **KC)
    return operator, caseworker, columbia, kansas


def _available(client, referral) -> str:
    return client.get(f"/caseworker/referrals/{referral.id}/search").get_data(as_text=True)


def _search(factory, referral):
    from placement.services.search import search

    factory.session.expire_all()
    return search(factory.session, factory.get(Referral, referral.id), 24)


# --- slice 1: keep-away areas --------------------------------------------------------------------

def test_keep_away_county_excludes_the_home_in_search_and_booking_naming_no_area(client, factory, login_as):
    operator, caseworker, columbia, kansas = _world(factory)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    response = post(client, f"/caseworker/referrals/{referral.id}/protections/areas",
                    {"kind": "county", "state": "MO", "place": "Jackson County"})
    assert response.status_code == 302
    area = factory.session.exec(select(KeepAwayArea)).one()
    assert (area.kind, area.county, area.label) == ("county", "Jackson", "Jackson County, MO")
    result = _search(factory, referral)
    assert [c.home.id for c in result.available] == [columbia.id]
    excluded = {c.home.id: [e.message for e in c.exclusions] for c in result.excluded}
    assert excluded[kansas.id] == [AWAY]
    page = _available(client, referral)
    assert AWAY in page and "Jackson County" not in page
    factory.session.expire_all()
    with pytest.raises(ServiceError) as refused:
        booking.hold(factory.session, caseworker, factory.get(Referral, referral.id), kansas.id, 4)
    assert AWAY in refused.value.message
    factory.session.rollback()
    assert factory.session.exec(select(AuditEvent).where(AuditEvent.action == "keep_away_added")).one().detail == "1 areas"


def test_keep_away_zip_code_and_radius_resolve_to_the_homes_inside(factory):
    operator, caseworker, columbia, kansas = _world(factory)
    referral = make_referral(factory, caseworker)
    home_zip = gazetteer.zip_of("MO", columbia.lat, columbia.lon)
    protections.add_area(factory.session, caseworker, referral, {
        "kind": "zip", "state": "MO", "county": "Boone", "zip_code": home_zip, "label": home_zip, "lat": 38.95, "lon": -92.33,
        "radius_km": None})
    assert {c.home.id for c in _search(factory, referral).excluded} == {columbia.id}
    other = make_referral(factory, caseworker)
    protections.add_area(factory.session, caseworker, other, {
        "kind": "radius", "state": "MO", "county": "Jackson", "zip_code": "", "label": "within 80 km of Kansas City",
        "lat": 39.1, "lon": -94.58, "radius_km": 80.0})
    assert {c.home.id for c in _search(factory, other).excluded} == {kansas.id}


def test_areas_resolve_to_the_same_homes_as_the_one_rule_home_in_area(factory):
    """solver_fields looks areas up (homes grouped by county, and by ZIP code per state,
    once per call); the homes found must be exactly those `home_in_area` admits."""
    _, caseworker, columbia, kansas = _world(factory)
    boone_too = factory.home(factory.get(Organisation, columbia.provider_id), name="Boone Two", county="BOONE", city="Columbia",
                             lat=38.95, lon=-92.33)
    homes = list(factory.session.exec(select(Home)).all())
    zip_here = gazetteer.zip_of("MO", columbia.lat, columbia.lon)
    areas = [KeepAwayArea(id=i, referral_id=0, created_by_id=caseworker.id, kind=kind, state=state, county=county,
                          zip_code=zip_code, label="x", lat=38.9, lon=-92.3, radius_km=radius)
             for i, (kind, state, county, zip_code, radius) in enumerate([
                 ("county", "MO", "boone", "", None), ("county", "KS", "Boone", "", None), ("county", "MO", "Jackson", "", None),
                 ("zip", "MO", "Boone", zip_here, None), ("zip", "KS", "Boone", zip_here, None), ("zip", "MO", "", "00000", None),
                 ("radius", "MO", "Boone", "", 500.0)])]
    inside = protections._AreaHomes(homes)
    for area in areas:
        assert sorted(inside(area)) == sorted(h.id for h in homes if protections.home_in_area(h, area)), area.kind
    assert sorted(inside(areas[0])) == sorted([columbia.id, boone_too.id])
    assert inside(areas[2]) == [kansas.id]


def test_keep_away_form_refuses_a_city_for_a_county_and_a_radius_without_km(client, factory, login_as):
    _, caseworker, _, _ = _world(factory)
    referral = make_referral(factory, caseworker)
    login_as(caseworker)
    path = f"/caseworker/referrals/{referral.id}/protections/areas"
    city = post(client, path, {"kind": "county", "state": "MO", "place": "Columbia (Boone County), MO"})
    assert city.status_code == 422 and "Pick the county itself" in city.get_data(as_text=True)
    radius = post(client, path, {"kind": "radius", "state": "MO", "place": "Jackson County"})
    assert radius.status_code == 422 and "Give the radius" in radius.get_data(as_text=True)
    assert factory.session.exec(select(KeepAwayArea)).first() is None


def test_matcher_snapshot_carries_keep_away_as_version_2_and_places_nobody_inside(factory):
    _, caseworker, columbia, kansas = _world(factory)
    referral = make_referral(factory, caseworker, county="Jackson", lat=39.1, lon=-94.58)
    protections.add_area(factory.session, caseworker, referral, {
        "kind": "county", "state": "MO", "county": "Boone", "zip_code": "", "label": "Boone County, MO",
        "lat": 38.95, "lon": -92.33, "radius_km": None})
    data = matcher_runs.snapshot(factory.session, "MO")
    assert data["version"] == 2
    assert data["referrals"][0]["keep_away"] == {"homes": [f"h{columbia.id}"], "circles": []}
    instance = parse_instance(data)
    result = result_to_json(solve(instance, time_limit=5, workers=1))
    assert result["assignments"] == [{"referral": f"r{referral.id}", "home": f"h{kansas.id}",
                                      "fit": result["assignments"][0]["fit"], "reasons": result["assignments"][0]["reasons"]}]
    assert check(instance, result) == []


# --- slice 2: keep-apart youths -------------------------------------------------------------------

def test_caseworker_links_own_youths_symmetrically_and_audited(client, factory, login_as):
    _, caseworker, _, _ = _world(factory)
    first, second = make_referral(factory, caseworker), make_referral(factory, caseworker)
    login_as(caseworker)
    assert post(client, f"/caseworker/referrals/{first.id}/protections/links",
                {"case_reference": second.case_reference}).status_code == 302
    other_page = client.get(f"/caseworker/referrals/{second.id}/protections").get_data(as_text=True)
    assert first.case_reference in other_page  # symmetric: the other side shows it too
    added = factory.session.exec(select(AuditEvent).where(AuditEvent.action == "keep_apart_added")).all()
    assert sorted(e.object_id for e in added) == sorted([first.id, second.id])
    assert all(first.case_reference not in e.detail and second.case_reference not in e.detail for e in added)
    again = post(client, f"/caseworker/referrals/{second.id}/protections/links", {"case_reference": first.case_reference})
    assert again.status_code == 409 and len(factory.session.exec(select(KeepApartLink)).all()) == 1


def test_caseworker_cannot_link_another_agencys_case(client, factory, login_as):
    _, caseworker, _, _ = _world(factory)
    stranger = make_referral(factory, factory.user("caseworker", factory.org("agency", "MO")))
    mine = make_referral(factory, caseworker)
    login_as(caseworker)
    refused = post(client, f"/caseworker/referrals/{mine.id}/protections/links", {"case_reference": stranger.case_reference})
    assert refused.status_code == 422 and "Your agency has no referral" in refused.get_data(as_text=True)
    assert factory.session.exec(select(KeepApartLink)).first() is None


def test_search_excludes_a_home_where_a_keep_apart_youth_is_held_requested_or_placed(factory):
    operator, caseworker, columbia, kansas = _world(factory)
    youth, partner = make_referral(factory, caseworker), make_referral(factory, caseworker)
    protections.add_link(factory.session, caseworker, youth, partner)
    assert not _search(factory, youth).excluded
    booking.hold(factory.session, caseworker, factory.get(Referral, partner.id), columbia.id, 4)
    result = _search(factory, youth)
    assert {c.home.id: [e.message for e in c.exclusions] for c in result.excluded} == {columbia.id: [APART]}
    request = booking.request_placement(factory.session, caseworker, factory.get(Referral, partner.id), columbia.id)
    assert [c.home.id for c in _search(factory, youth).excluded] == [columbia.id]
    booking.accept(factory.session, operator, request)
    assert [c.home.id for c in _search(factory, youth).excluded] == [columbia.id]
    assert kansas.id in [c.home.id for c in _search(factory, youth).available]


def test_coordinator_links_across_agencies_and_the_caseworker_never_sees_the_other_case(app, client, factory, login_as):
    _, caseworker, _, _ = _world(factory)
    mine = make_referral(factory, caseworker)
    other_agency = factory.org("agency", "MO")
    theirs = make_referral(factory, factory.user("caseworker", other_agency))
    coordinator = factory.user("coordinator")
    login_as(coordinator)
    linked = post(client, f"/coordinator/referrals/{mine.id}/keep-apart",
                  {"agency_id": str(other_agency.id), "case_reference": theirs.case_reference})
    assert linked.status_code == 302
    link = factory.session.exec(select(KeepApartLink)).one()
    assert link.by_coordinator
    assert theirs.case_reference in client.get(f"/coordinator/referrals/{mine.id}/protections").get_data(as_text=True)
    own = app.test_client()
    login(own, caseworker)
    page = own.get(f"/caseworker/referrals/{mine.id}/protections").get_data(as_text=True)
    assert "1 youth of another agency" in page and theirs.case_reference not in page
    api = app.test_client().get(f"/api/v1/referrals/{mine.id}/protections",
                                headers={"Authorization": f"Bearer {api_token(factory, caseworker)}"})
    assert api.status_code == 200 and api.json["keep_apart"] == [] and api.json["keep_apart_hidden"] == 1
    assert theirs.case_reference not in api.get_data(as_text=True)
    removed = post(own, f"/caseworker/referrals/{mine.id}/protections/links/{link.id}/remove", {})
    assert removed.status_code == 409  # the coordinator's link is the coordinator's to remove


def test_matcher_never_proposes_two_keep_apart_youths_to_one_home(factory):
    provider = factory.org("provider", "MO")
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    home = factory.home(provider, availability={"open_beds": 4, "staff_on_duty": 4})
    first, second = make_referral(factory, caseworker), make_referral(factory, caseworker, urgency="urgent")
    protections.add_link(factory.session, caseworker, first, second)
    data = matcher_runs.snapshot(factory.session, "MO")
    rows = {r["id"]: r for r in data["referrals"]}
    assert rows[f"r{first.id}"]["keep_apart"] == {"referrals": [f"r{second.id}"], "homes": []}
    instance = parse_instance(data)
    result = result_to_json(solve(instance, time_limit=5, workers=1))
    assert [a["referral"] for a in result["assignments"]] == [f"r{first.id}"]
    assert check(instance, result) == []
    assert home.id  # the one home took the emergency youth only


# --- slice 3: ICWA ---------------------------------------------------------------------------------

def _icwa_world(factory):
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    coordinator = factory.user("coordinator")
    tribe = protections.add_tribe(factory.session, coordinator, "Osage Nation")
    plain = factory.home(provider, name="Plain House", availability={"open_beds": 2, "staff_on_duty": 2})
    tribal = factory.home(provider, name="Tribal Foster Home", program="therapeutic_foster", tribal_approvals=[tribe.name],
                          availability={"open_beds": 2, "staff_on_duty": 2}, lat=39.9, lon=-94.0)
    native = factory.home(provider, name="Native Group Home", native_serving=True,
                          availability={"open_beds": 2, "staff_on_duty": 2})
    youth = make_referral(factory, caseworker)
    protections.set_icwa(factory.session, caseworker, youth, {"icwa_applies": True, "tribe": "osage nation",
                                                               "tribal_status": "member", "tribe_notice_on": None,
                                                               "tribe_notice_method": ""})
    return operator, caseworker, coordinator, youth, plain, tribal, native


def test_search_ranks_an_icwa_youths_homes_by_preference_step_and_names_it(client, factory, login_as):
    _, caseworker, _, youth, plain, tribal, native = _icwa_world(factory)
    result = _search(factory, youth)
    assert [(c.home.id, c.icwa_step) for c in result.available] == [(tribal.id, 2), (native.id, 4), (plain.id, None)]
    assert result.first_step == 2
    login_as(caseworker)
    page = _available(client, youth)
    assert "step 2: a foster home licensed or approved by the youth&#39;s tribe" in page
    assert page.index("Tribal Foster Home") < page.index("Native Group Home") < page.index("Plain House")
    assert f'data-testid="good-cause-{plain.id}"' in page and f'data-testid="good-cause-{tribal.id}"' not in page


def test_a_request_below_the_first_step_asks_for_the_good_cause_and_records_it(client, factory, login_as):
    operator, caseworker, _, youth, plain, tribal, _ = _icwa_world(factory)
    login_as(caseworker)
    refused = post(client, f"/caseworker/referrals/{youth.id}/request", {"home_id": plain.id})
    assert refused.status_code == 400 and "good cause" in refused.get_data(as_text=True)  # a refused booking, as elsewhere
    assert factory.session.exec(select(PlacementRequest)).first() is None
    cause = "Youth's tribe asked for placement near the sibling's school"
    assert post(client, f"/caseworker/referrals/{youth.id}/request", {"home_id": plain.id, "good_cause": cause}).status_code == 302
    request = factory.session.exec(select(PlacementRequest)).one()
    assert (request.icwa_step, request.icwa_good_cause) == (None, cause)
    assert not [e for e in factory.session.exec(select(AuditEvent)).all() if cause in e.detail]
    # The home's operator sees the request, never the tribe, the step or the cause.
    home_side = client.application.test_client()
    login(home_side, operator)
    seen = home_side.get(f"/provider/requests/{request.id}").get_data(as_text=True)
    assert "Osage" not in seen and cause not in seen and "ICWA" not in seen


def test_a_request_in_the_first_step_needs_no_good_cause(factory):
    _, caseworker, _, youth, _, tribal, _ = _icwa_world(factory)
    request = booking.request_placement(factory.session, caseworker, factory.get(Referral, youth.id), tribal.id)
    assert (request.icwa_step, request.icwa_good_cause) == (2, "")


def test_tribe_notice_is_recorded_with_date_and_method(client, factory, login_as):
    _, caseworker, _, youth, _, _, _ = _icwa_world(factory)
    login_as(caseworker)
    path = f"/caseworker/referrals/{youth.id}/protections/icwa"
    half = post(client, path, {"icwa_applies": "y", "tribe": "Osage Nation", "tribal_status": "member",
                               "tribe_notice_on": "2026-11-20"})
    assert half.status_code == 422 and "Give both the date" in half.get_data(as_text=True)
    unknown = post(client, path, {"icwa_applies": "y", "tribe": "Not A Listed Tribe", "tribal_status": "member"})
    assert unknown.status_code == 422 and "not on the coordinators" in unknown.get_data(as_text=True)
    saved = post(client, path, {"icwa_applies": "y", "tribe": "Osage Nation", "tribal_status": "member",
                                "tribe_notice_on": "2026-11-20", "tribe_notice_method": "registered_mail"})
    assert saved.status_code == 302
    factory.session.expire_all()
    stored = factory.get(Referral, youth.id)
    assert (stored.tribe_notice_on, stored.tribe_notice_method) == (date(2026, 11, 20), "registered_mail")
    assert "Tribe notified on Nov 20, 2026" in client.get(f"/caseworker/referrals/{youth.id}/protections").get_data(as_text=True)


def test_matcher_follows_the_icwa_order_where_a_home_has_room(factory):
    _, _, _, youth, _, tribal, _ = _icwa_world(factory)
    data = matcher_runs.snapshot(factory.session, "MO")
    assert data["referrals"][0]["icwa"] == {"tribe": "Osage Nation"}
    result = result_to_json(solve(parse_instance(data), time_limit=5, workers=1))
    assert result["assignments"][0]["home"] == f"h{tribal.id}"
    assert [lv["name"] for lv in result["levels"]][3] == "icwa"


def test_outcomes_show_icwa_placements_by_step_with_small_cells_hidden(factory):
    operator, caseworker, _, _, plain, tribal, _ = _icwa_world(factory)
    for i in range(6):
        youth = make_referral(factory, caseworker, icwa_applies=True)
        home = tribal if i < 5 else plain
        request = PlacementRequest(referral_id=youth.id, home_id=home.id, requested_by_id=caseworker.id, places=1,
                                   status="accepted", icwa_step=2 if home is tribal else None,
                                   icwa_good_cause="" if home is tribal else "Synthetic cause")
        factory.session.add(request)
        factory.session.flush()
        factory.session.add(Placement(referral_id=youth.id, home_id=home.id, request_id=request.id, places=1,
                                      started_at=utcnow() - timedelta(days=40)))
    factory.session.commit()
    rows = {row.label: row for row in outcomes.coordinator_view(factory.session, "MO")["icwa"]}
    step2 = rows["Step 2: foster home approved by the youth's tribe"]
    assert step2.placements_text == "5" and not step2.hidden
    outside = rows["Outside the preference order"]
    assert outside.placements_text == "fewer than 5" and outside.hidden


# --- slice 4: confidentiality, over every page as every role ----------------------------------------

def test_protective_data_reaches_only_the_agency_and_coordinators_audited_never_logs(app, factory, caplog):
    """The keep-away area's name and the tribe's name appear only to the referral's own
    caseworker and the state's coordinator, each time with a read in the audit log; never to
    an operator, an admin, another agency or another state, never in a log line or an
    audit detail. (The address sweep's pattern, in test_security.py.)"""
    world = build_world(factory)
    viewers = {actor: visitor(app, factory, world, actor) for actor in ACTORS}
    for role, kind, state in (("operator", "provider", "MO"), ("caseworker", "agency", "MO"), ("coordinator", "coordinator_office", "KS")):
        who = f"a {role} of another organisation"
        world.users[who] = factory.user(role, factory.org(kind, state))
        viewers[who] = visitor(app, factory, world, who)
    allowed = {"caseworker", "coordinator"}
    # The tribe list itself is not youth data: the pages that offer it show every name on it.
    lists = {"provider.new_home", "provider.edit_home", "coordinator.tribes"}
    leaks, seen = [], set()
    with caplog.at_level(logging.DEBUG):
        for who, browser in viewers.items():
            for rule in swept_rules(app, "GET"):
                before = last_audit_id(factory)
                body = browser.get(rule, path_for(app, rule, world.ids)).get_data(as_text=True)
                shown = [s for s in (SECRET_AREA, SECRET_TRIBE) if s in body and not (s == SECRET_TRIBE and rule.endpoint in lists)]
                if not shown:
                    continue
                read = [e for e in audit_since(factory, before) if e.action in ("protections_viewed",)]
                if who in allowed and read:
                    seen.add((who, rule.endpoint))
                else:
                    leaks.append(f"{rule.endpoint} showed {shown} to {who}" + ("" if read else " without a protections_viewed entry"))
    assert not leaks, "\n".join(leaks)
    assert {who for who, _ in seen} == allowed  # the owners do see it, audited
    assert SECRET_AREA not in caplog.text and SECRET_TRIBE not in caplog.text
    details = factory.session.exec(select(AuditEvent.detail)).all()
    assert not [d for d in details if SECRET_AREA in d or SECRET_TRIBE in d]
    assert OPERATOR in viewers and not [leak for leak in leaks if OPERATOR in leak]


def test_api_answers_the_protections_only_to_the_agency_and_validates_bodies(app, factory):
    world = build_world(factory)
    caseworker = world.users["caseworker"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(factory, caseworker)}"}
    referral_id = world.ids["api_referral_id"]
    bad = client.post(f"/api/v1/referrals/{referral_id}/keep-away", json={"kind": "radius", "state": "MO", "place": "64106"},
                      headers=headers)
    assert bad.status_code == 422 and "radius_km" in bad.json["error"]["fields"]
    added = client.post(f"/api/v1/referrals/{referral_id}/keep-away",
                        json={"kind": "radius", "state": "MO", "place": "64106", "radius_km": 50}, headers=headers)
    assert added.status_code == 201 and [a["radius_km"] for a in added.json["keep_away"]] == [80.0, 50.0]
    icwa = client.put(f"/api/v1/referrals/{referral_id}/icwa", json={"icwa_applies": True, "tribe": SECRET_TRIBE,
                                                                       "tribal_status": "eligible"}, headers=headers)
    assert icwa.status_code == 200 and icwa.json["icwa"]["tribe"] == SECRET_TRIBE
    operator_headers = {"Authorization": f"Bearer {api_token(factory, world.users['operator'])}"}
    assert client.get(f"/api/v1/referrals/{referral_id}/protections", headers=operator_headers).status_code == 403
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/referrals/{referral_id}/protections" in spec["paths"]
    assert factory.session.exec(select(Tribe)).one().name == SECRET_TRIBE


def test_the_demo_shows_a_keep_away_county_a_keep_apart_pair_and_an_icwa_youth(client, factory, login_as):
    from placement.demo import DEMO_PASSWORD, seed

    seed(factory.session)
    seed(factory.session)  # a second call adds nothing
    assert len(factory.session.exec(select(KeepAwayArea)).all()) == 1
    assert len(factory.session.exec(select(KeepApartLink)).all()) == 1
    away = factory.session.exec(select(Referral).where(Referral.case_reference == "MO-2026-1000")).one()
    excluded = [c for c in _search(factory, away).excluded if c.home.county == "Jackson"]
    assert excluded and all(AWAY in [e.message for e in c.exclusions] for c in excluded)
    native = factory.session.exec(select(Referral).where(Referral.case_reference == "MO-2026-1002")).one()
    assert native.icwa_applies and native.tribe_notice_method == "registered_mail"
    data = matcher_runs.snapshot(factory.session, "MO")
    rows = {r["id"]: r for r in data["referrals"]}
    assert rows[f"r{native.id}"]["icwa"] == {"tribe": "Osage Nation (demo)"}
    assert any(h.get("tribal_approvals") for h in data["homes"])
    instance = parse_instance(data)
    assert check(instance, result_to_json(solve(instance, time_limit=10, workers=1))) == []
    login_as(factory.get(User, away.created_by_id), password=DEMO_PASSWORD)
    page = client.get(f"/caseworker/referrals/{away.id}/protections").get_data(as_text=True)
    assert "Jackson County, MO" in page and "MO-2026-1001" in page
