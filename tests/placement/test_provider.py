"""Provider portal: own homes only, validated forms, the availability log."""
from __future__ import annotations

from sqlmodel import select

from placement.models import AuditEvent, AvailabilityUpdate, Home

from ..helpers import HOME_FORM, post


def _operator(factory):
    provider = factory.org("provider")
    return provider, factory.user("operator", provider)


def test_operator_creates_a_home(client, factory, login_as):
    provider, operator = _operator(factory)
    login_as(operator)
    response = post(client, "/provider/homes/new", HOME_FORM)
    assert response.status_code == 302
    home = factory.session.exec(select(Home).where(Home.provider_id == provider.id)).one()
    assert (home.name, home.min_age, home.max_age, home.genders) == ("Cedar House", 12, 17, ["female", "nonbinary"])
    # The place picked, never typed coordinates: the city's point, about 1 km precise.
    assert (home.county, home.city, home.state, home.lat, home.lon) == ("Boone", "Columbia", "MO", 38.97, -92.32)
    assert home.cultural_services == ["lgbtq_affirming"] and home.accepts_pregnant and not home.accepts_parenting


def test_extra_fields_are_ignored(client, factory, login_as):
    provider, operator = _operator(factory)
    other = factory.org("provider")
    login_as(operator)
    post(client, "/provider/homes/new", {**HOME_FORM, "provider_id": other.id, "id": 999, "lock_version": 50})
    home = factory.session.exec(select(Home)).one()
    assert home.provider_id == provider.id and home.id != 999 and home.lock_version == 0


def test_home_form_errors_per_field_and_nothing_saved(client, factory, login_as):
    _, operator = _operator(factory)
    login_as(operator)
    bad = {**HOME_FORM, "min_age": "16", "max_age": "12", "licensed_beds": "-1", "place": "Boone County", "genders": []}
    response = post(client, "/provider/homes/new", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Pick a city or ZIP code" in html
    assert "Number must be between 0 and 500." in html
    assert factory.session.exec(select(Home)).first() is None


def test_age_range_and_genders_checked_by_service(client, factory, login_as):
    _, operator = _operator(factory)
    login_as(operator)
    response = post(client, "/provider/homes/new", {**HOME_FORM, "min_age": "16", "max_age": "12", "genders": []})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "oldest age must be at least the youngest" in html
    assert "at least one gender" in html
    assert factory.session.exec(select(Home)).first() is None


def test_numbers_out_of_range_refused(client, factory, login_as):
    _, operator = _operator(factory)
    login_as(operator)
    for field, value in [("max_age", "200"), ("min_age", "-1"), ("licensed_beds", str(2**31)), ("licensed_beds", "1.5"), ("licensed_beds", "1e9")]:
        response = post(client, "/provider/homes/new", {**HOME_FORM, field: value})
        assert response.status_code == 422, (field, value)
    assert factory.session.exec(select(Home)).first() is None


def test_provider_text_is_escaped(client, factory, login_as):
    provider, operator = _operator(factory)
    login_as(operator)
    post(client, "/provider/homes/new", {**HOME_FORM, "name": "<script>alert(1)</script>", "city": "<img src=x onerror=alert(1)>"})
    html = client.get("/provider/homes").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html


def test_list_shows_only_own_homes_with_age(client, factory, login_as):
    provider, operator = _operator(factory)
    mine = factory.home(provider, name="Mine House")
    factory.home(factory.org("provider"), name="Someone Else House")
    login_as(operator)
    html = client.get("/provider/homes").get_data(as_text=True)
    assert "Mine House" in html and "Someone Else House" not in html
    assert "updated just now" in html
    assert f'data-testid="home-{mine.id}"' in html


def test_other_organisations_home_is_404_and_audited(client, factory, login_as):
    _, operator = _operator(factory)
    foreign = factory.home(factory.org("provider"))
    login_as(operator)
    for path in (f"/provider/homes/{foreign.id}", f"/provider/homes/{foreign.id}/edit", f"/provider/homes/{foreign.id}/availability"):
        assert client.get(path).status_code == 404
    response = post(client, f"/provider/homes/{foreign.id}/availability", {"open_beds": 0, "staff_on_duty": 1, "youth_per_staff": 1, "current_youth": 0}, token_from="/provider/homes")
    assert response.status_code == 404
    assert factory.session.exec(select(AvailabilityUpdate).where(AvailabilityUpdate.home_id == foreign.id)).all().__len__() == 1
    denied = factory.session.exec(select(AuditEvent).where(AuditEvent.action == "access_denied")).all()
    assert len(denied) == 4


def test_non_operator_gets_403(client, factory, login_as):
    home = factory.home(factory.org("provider"))
    for role in ("caseworker", "coordinator", "admin"):
        c = client.application.test_client()
        login_as(factory.user(role), c)
        assert c.get("/provider/homes").status_code == 403
        assert c.get(f"/provider/homes/{home.id}").status_code == 403


def test_anonymous_redirected_to_login(client, factory):
    home = factory.home(factory.org("provider"))
    response = client.get(f"/provider/homes/{home.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_update_availability_appends_to_log(client, factory, login_as):
    provider, operator = _operator(factory)
    home = factory.home(provider, availability={"open_beds": 1, "staff_on_duty": 1, "youth_per_staff": 3, "current_youth": 2})
    login_as(operator)
    response = post(client, f"/provider/homes/{home.id}/availability", {"open_beds": 3, "staff_on_duty": 2, "youth_per_staff": 2, "current_youth": 2})
    assert response.status_code == 302
    rows = factory.session.exec(select(AvailabilityUpdate).where(AvailabilityUpdate.home_id == home.id).order_by(AvailabilityUpdate.id)).all()
    assert [r.open_beds for r in rows] == [1, 3]
    assert rows[-1].recorded_by_id == operator.id
    # 2 staff x 2 youths = 4; 2 in the home: room for 2 although 3 beds are open
    html = client.get("/provider/homes").get_data(as_text=True)
    assert "Staffing limits this home to 2 more youths tonight" in html
    history = client.get(f"/provider/homes/{home.id}").get_data(as_text=True)
    assert history.count("<tr><td>") == 2


def test_open_beds_cannot_exceed_licensed(client, factory, login_as):
    provider, operator = _operator(factory)
    home = factory.home(provider, licensed_beds=4)
    login_as(operator)
    response = post(client, f"/provider/homes/{home.id}/availability", {"open_beds": 5, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 0})
    assert response.status_code == 422
    assert "cannot exceed the home&#39;s 4 licensed beds" in response.get_data(as_text=True)
    assert len(factory.session.exec(select(AvailabilityUpdate).where(AvailabilityUpdate.home_id == home.id)).all()) == 1


def test_availability_bad_numbers(client, factory, login_as):
    provider, operator = _operator(factory)
    home = factory.home(provider)
    login_as(operator)
    for data in ({"open_beds": -1, "staff_on_duty": 1, "youth_per_staff": 1, "current_youth": 0},
                 {"open_beds": 1, "staff_on_duty": 1, "youth_per_staff": 0, "current_youth": 0},
                 {"open_beds": "abc", "staff_on_duty": 1, "youth_per_staff": 1, "current_youth": 0}):
        assert post(client, f"/provider/homes/{home.id}/availability", data).status_code == 422


def test_edit_home_keeps_licensed_beds_above_open(client, factory, login_as):
    provider, operator = _operator(factory)
    home = factory.home(provider, licensed_beds=6, availability={"open_beds": 3, "current_youth": 1})
    login_as(operator)
    form = {**HOME_FORM, "licensed_beds": "2"}
    response = post(client, f"/provider/homes/{home.id}/edit", form)
    assert response.status_code == 422
    assert factory.get(Home, home.id).licensed_beds == 6
    ok = post(client, f"/provider/homes/{home.id}/edit", {**HOME_FORM, "name": "Renamed House"})
    assert ok.status_code == 302 and factory.get(Home, home.id).name == "Renamed House"
    detail = factory.session.exec(select(AuditEvent.detail).where(AuditEvent.action == "home_updated")).one()
    assert "77 Hidden Test Way" not in detail and "street_address" in detail


def test_operator_sees_own_address(client, factory, login_as):
    provider, operator = _operator(factory)
    home = factory.home(provider)
    login_as(operator)
    assert home.street_address in client.get(f"/provider/homes/{home.id}").get_data(as_text=True)
