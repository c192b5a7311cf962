"""The audit log: every event type with who, when, what and from where; append-only
below the view layer; and the audit readers' page and CSV export."""
from __future__ import annotations

import ast
import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from placement.database import get_session
from placement.models import AuditEvent, Hold, PlacementRequest, Referral, User
from placement.services import accounts, audit_log, booking
from placement.timeutil import clock, utcnow

from ..helpers import HOME_FORM, PASSWORD, REFERRAL_FORM, csrf_token, login, make_referral, post
from .security_world import ACTORS, Cast, audit_since, build_world, last_audit_id, path_for, swept_rules, visitor

IP = "203.0.113.7"  # every scenario's client comes from here (TEST-NET-3)


@dataclass
class Expect:
    action: str
    actor: User | None
    object_type: str
    object_id: int | None


class World(Cast):
    """The cast, with a referral of the caseworker's agency; clients come from IP."""

    def __init__(self, app, factory):
        super().__init__(app, factory)
        self.referral = make_referral(factory, self.caseworker)

    def client(self, user: User | None = None):
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = IP
        if user is not None:
            login(client, user)
        return client

    def request(self, hold: bool = False) -> PlacementRequest:
        """A pending request (and the hold it came from) for the world's referral."""
        if hold:
            now = utcnow()
            self.factory.session.add(Hold(referral_id=self.referral.id, home_id=self.home.id, created_by_id=self.caseworker.id,
                                          places=1, created_at=now, expires_at=now + timedelta(hours=4)))
        request = PlacementRequest(referral_id=self.referral.id, home_id=self.home.id, requested_by_id=self.caseworker.id, places=1)
        self.factory.session.add(request)
        self.factory.session.commit()
        return request


def _attempt(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


# Each scenario sets up, then yields once just before the audited action, then does it.
def s_login(w):
    client = w.client()
    yield
    login(client, w.operator)
    return Expect("login", w.operator, "user", w.operator.id)


def s_login_failed(w):
    client = w.client()
    yield
    _attempt(client, w.operator.email, "not the password at all")
    return Expect("login_failed", w.operator, "user", w.operator.id)


def s_login_failed_unknown(w):
    client = w.client()
    yield
    _attempt(client, "nobody@test.example", "not the password at all")
    return Expect("login_failed", None, "user", None)


def s_account_locked(w):
    client = w.client()
    for _ in range(5):
        _attempt(client, w.operator.email, "not the password at all")
    yield
    _attempt(client, w.operator.email, "not the password at all")
    return Expect("account_locked", w.operator, "user", w.operator.id)


def s_account_unlocked(w):
    w.factory.get(User, w.operator.id)
    locked = w.factory.session.get(User, w.operator.id)
    locked.locked_until, locked.failed_logins = utcnow() + timedelta(minutes=30), 6
    w.factory.session.commit()
    admin = w.client(w.admin)
    yield
    post(admin, f"/admin/users/{w.operator.id}/unlock", token_from="/admin/users")
    return Expect("account_unlocked", w.admin, "user", w.operator.id)


def s_logout(w):
    client = w.client(w.operator)
    yield
    post(client, "/logout", token_from="/provider/homes")
    return Expect("logout", w.operator, "user", w.operator.id)


def s_password_changed(w):
    client = w.client(w.operator)
    yield
    new = "a lamp in the hayloft window"
    post(client, "/account/password", {"current_password": PASSWORD, "new_password": new, "confirm": new})
    return Expect("password_changed", w.operator, "user", w.operator.id)


def s_session_timeout(w):
    client = w.client(w.operator)
    clock.advance(timedelta(minutes=31))
    yield
    client.get("/provider/homes")
    return Expect("session_timeout", w.operator, "user", w.operator.id)


def s_access_denied_page(w):
    client = w.client(w.operator)
    yield
    client.get("/admin/users")
    return Expect("access_denied", w.operator, "page", None)


def s_access_denied_object(w):
    stranger = w.factory.user("caseworker", w.factory.org("agency"))
    client = w.client(stranger)
    yield
    client.get(f"/caseworker/referrals/{w.referral.id}")
    return Expect("access_denied", stranger, "referral", w.referral.id)


def _caseworker_reads(path):
    def scenario(w):
        client = w.client(w.caseworker)
        yield
        client.get(path.format(id=w.referral.id))
        return Expect("referral_viewed", w.caseworker, "referral", w.referral.id)
    return scenario


def s_referral_viewed_by_operator(w):
    request = w.request()
    client = w.client(w.operator)
    yield
    client.get(f"/provider/requests/{request.id}")
    return Expect("referral_viewed", w.operator, "referral", w.referral.id)


def s_referral_listed(w):
    client = w.client(w.caseworker)
    yield
    client.get("/caseworker/referrals")
    return Expect("referral_listed", w.caseworker, "referral", None)


def s_referral_listed_by_operator(w):
    w.request()
    client = w.client(w.operator)
    yield
    client.get("/provider/requests")
    return Expect("referral_listed", w.operator, "referral", None)


def s_referral_created(w):
    client = w.client(w.caseworker)
    yield
    post(client, "/caseworker/referrals/new", REFERRAL_FORM)
    created = w.factory.session.exec(select(Referral).where(Referral.case_reference == REFERRAL_FORM["case_reference"])).one()
    return Expect("referral_created", w.caseworker, "referral", created.id)


def s_referral_updated(w):
    client = w.client(w.caseworker)
    path = f"/caseworker/referrals/{w.referral.id}/edit"
    token = csrf_token(client, path)
    yield
    client.post(path, data={**REFERRAL_FORM, "case_reference": w.referral.case_reference, "age": "16", "csrf_token": token})
    return Expect("referral_updated", w.caseworker, "referral", w.referral.id)


def s_referral_closed(w):
    client = w.client(w.caseworker)
    path = f"/caseworker/referrals/{w.referral.id}"
    token = csrf_token(client, path)
    yield
    client.post(f"{path}/close", data={"reason": "Synthetic: placed with kin", "csrf_token": token})
    return Expect("referral_closed", w.caseworker, "referral", w.referral.id)


def s_hold_created(w):
    client = w.client(w.caseworker)
    path = f"/caseworker/referrals/{w.referral.id}"
    token = csrf_token(client, path)
    yield
    client.post(f"{path}/hold", data={"home_id": w.home.id, "csrf_token": token})
    hold = w.factory.session.exec(select(Hold)).one()
    return Expect("hold_created", w.caseworker, "hold", hold.id)


def s_hold_released(w):
    client = w.client(w.caseworker)
    path = f"/caseworker/referrals/{w.referral.id}"
    post(client, f"{path}/hold", {"home_id": w.home.id}, token_from=path)
    hold = w.factory.session.exec(select(Hold)).one()
    token = csrf_token(client, path)
    yield
    client.post(f"{path}/holds/{hold.id}/release", data={"csrf_token": token})
    return Expect("hold_released", w.caseworker, "hold", hold.id)


def s_placement_requested(w):
    client = w.client(w.caseworker)
    path = f"/caseworker/referrals/{w.referral.id}"
    token = csrf_token(client, path)
    yield
    client.post(f"{path}/request", data={"home_id": w.home.id, "csrf_token": token})
    request = w.factory.session.exec(select(PlacementRequest)).one()
    return Expect("placement_requested", w.caseworker, "placement_request", request.id)


def s_placement_request_withdrawn(w):
    request = w.request()
    client = w.client(w.caseworker)
    path = f"/caseworker/referrals/{w.referral.id}"
    token = csrf_token(client, path)
    yield
    client.post(f"{path}/requests/{request.id}/withdraw", data={"csrf_token": token})
    return Expect("placement_request_withdrawn", w.caseworker, "placement_request", request.id)


def s_placement_accepted(w):
    request = w.request()
    client = w.client(w.operator)
    token = csrf_token(client, f"/provider/requests/{request.id}")
    yield
    client.post(f"/provider/requests/{request.id}/accept", data={"csrf_token": token})
    placement_id = w.factory.session.exec(sa.text("SELECT id FROM placement")).scalar_one()
    return Expect("placement_accepted", w.operator, "placement", placement_id)


def s_placement_declined(w):
    request = w.request()
    client = w.client(w.operator)
    token = csrf_token(client, f"/provider/requests/{request.id}")
    yield
    client.post(f"/provider/requests/{request.id}/decline", data={"reason": "no_staff", "csrf_token": token})
    return Expect("placement_declined", w.operator, "placement_request", request.id)


def s_address_disclosed(w):
    booking.accept(w.factory.session, w.operator, w.request())
    client = w.client(w.caseworker)
    yield
    client.get(f"/caseworker/referrals/{w.referral.id}")
    return Expect("address_disclosed", w.caseworker, "home", w.home.id)


def s_home_created(w):
    client = w.client(w.operator)
    token = csrf_token(client, "/provider/homes/new")
    yield
    client.post("/provider/homes/new", data={**HOME_FORM, "csrf_token": token})
    home_id = w.factory.session.exec(sa.text("SELECT max(id) FROM home")).scalar_one()
    return Expect("home_created", w.operator, "home", home_id)


def s_home_updated(w):
    client = w.client(w.operator)
    path = f"/provider/homes/{w.home.id}/edit"
    token = csrf_token(client, path)
    yield
    client.post(path, data={**HOME_FORM, "name": "Renamed House", "csrf_token": token})
    return Expect("home_updated", w.operator, "home", w.home.id)


def s_availability_updated(w):
    client = w.client(w.operator)
    path = f"/provider/homes/{w.home.id}/availability"
    token = csrf_token(client, path)
    yield
    client.post(path, data={"open_beds": 1, "staff_on_duty": 1, "youth_per_staff": 2, "current_youth": 0, "csrf_token": token})
    return Expect("availability_updated", w.operator, "home", w.home.id)


def s_organisation_created(w):
    client = w.client(w.admin)
    token = csrf_token(client, "/admin/organisations")
    yield
    client.post("/admin/organisations", data={"name": "Audited Agency", "kind": "agency", "state": "KS", "csrf_token": token})
    org_id = w.factory.session.exec(sa.text("SELECT id FROM organisation WHERE name = 'Audited Agency'")).scalar_one()
    return Expect("organisation_created", w.admin, "organisation", org_id)


def _invite(client, w, email="invitee@test.example"):
    return post(client, "/admin/users/invite",
                {"organisation_id": w.caseworker.organisation_id, "email": email, "display_name": "Invitee", "role": "caseworker"})


def s_user_invited(w):
    client = w.client(w.admin)
    yield
    _invite(client, w)
    user = w.factory.session.exec(select(User).where(User.email == "invitee@test.example")).one()
    return Expect("user_invited", w.admin, "user", user.id)


def s_invitation_accepted(w):
    link = _invite(w.client(w.admin), w).get_data(as_text=True).split('data-testid="invite-link">')[1].split("<")[0]
    path = "/invitation/" + link.split("/invitation/", 1)[1]  # the link starts with SAFEBED_BASE_URL
    invitee = w.client()
    token = csrf_token(invitee, path)
    yield
    invitee.post(path, data={"new_password": "swallows under the bridge", "confirm": "swallows under the bridge", "csrf_token": token})
    user = w.factory.session.exec(select(User).where(User.email == "invitee@test.example")).one()
    return Expect("invitation_accepted", user, "user", user.id)


def _set_active(action):
    def scenario(w):
        if action == "activate":
            accounts.set_active(w.factory.session, w.admin, w.factory.session.get(User, w.operator.id), False)
            w.factory.session.commit()
        client = w.client(w.admin)
        token = csrf_token(client, "/admin/users")
        yield
        client.post(f"/admin/users/{w.operator.id}/{action}", data={"csrf_token": token})
        return Expect(f"user_{action}d", w.admin, "user", w.operator.id)
    return scenario


def s_export(w):
    client = w.client(w.admin)
    yield
    with client.get("/admin/audit.csv") as response:
        response.get_data()  # streamed: closing ends the request's transaction
    return Expect("export", w.admin, "audit_event", None)


SCENARIOS = {
    "login": s_login,
    "failed login (wrong password)": s_login_failed,
    "failed login (unknown account)": s_login_failed_unknown,
    "account locked": s_account_locked,
    "account unlocked": s_account_unlocked,
    "logout": s_logout,
    "password changed": s_password_changed,
    "session timeout": s_session_timeout,
    "access denied (page)": s_access_denied_page,
    "access denied (object)": s_access_denied_object,
    "referral read (page)": _caseworker_reads("/caseworker/referrals/{id}"),
    "referral read (bed search)": _caseworker_reads("/caseworker/referrals/{id}/search"),
    "referral read (edit form)": _caseworker_reads("/caseworker/referrals/{id}/edit"),
    "referral read (operator's request)": s_referral_viewed_by_operator,
    "referral list (caseworker)": s_referral_listed,
    "referral list (operator's requests)": s_referral_listed_by_operator,
    "referral created": s_referral_created,
    "referral updated": s_referral_updated,
    "referral closed": s_referral_closed,
    "hold created": s_hold_created,
    "hold released": s_hold_released,
    "placement requested": s_placement_requested,
    "request withdrawn": s_placement_request_withdrawn,
    "placement accepted": s_placement_accepted,
    "placement declined": s_placement_declined,
    "address disclosed": s_address_disclosed,
    "home created": s_home_created,
    "home updated": s_home_updated,
    "availability updated": s_availability_updated,
    "organisation created": s_organisation_created,
    "user invited": s_user_invited,
    "invitation accepted": s_invitation_accepted,
    "user deactivated": _set_active("deactivate"),
    "user activated": _set_active("activate"),
    "export": s_export,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_event_type_records_who_when_what_and_from_where(app, factory, name):
    world = World(app, factory)
    scenario = SCENARIOS[name](world)
    next(scenario)  # set up
    mark = last_audit_id(factory)
    with pytest.raises(StopIteration) as done:
        next(scenario)
    expect: Expect = done.value.value
    events = [e for e in audit_since(factory, mark) if e.action == expect.action]
    assert events, f"no {expect.action!r} event; got {[e.action for e in audit_since(factory, mark)]}"
    event = events[-1]
    who = (expect.actor.id, expect.actor.organisation_id) if expect.actor else (None, None)
    assert (event.actor_id, event.organisation_id) == who
    assert (event.object_type, event.object_id) == (expect.object_type, expect.object_id)
    assert event.ip == IP
    assert abs((utcnow() - event.at).total_seconds()) < 60


def test_every_page_that_shows_a_referral_records_the_read(app, factory):
    """Generic: any GET answer carrying a case reference left its reader's view in the log
    (a referral read or list, or the report page's own view event)."""
    world = build_world(factory)
    references = factory.session.exec(select(Referral.case_reference)).all()
    pattern = re.compile("|".join(re.escape(r) + r"\b" for r in references))
    unaudited = []
    for actor in ACTORS:
        browser = visitor(app, factory, world, actor)
        for rule in swept_rules(app, "GET"):
            mark = last_audit_id(factory)
            body = browser.get(rule, path_for(app, rule, world.ids)).get_data(as_text=True)
            if pattern.search(body) and not any(
                e.action != "access_denied" and e.actor_id is not None for e in audit_since(factory, mark)
            ):
                unaudited.append(f"{rule.endpoint} as {actor}")
    assert not unaudited, "pages showing a referral without auditing the read:\n" + "\n".join(unaudited)


# --- Append-only ---------------------------------------------------------------------------------------


def test_the_application_cannot_update_or_delete_audit_rows(app, factory):
    factory.org("agency")  # writes an organisation_created event
    with app.app_context():
        session = get_session()  # the app's own connection and role, as a view would use them
        for statement in (
            sa.update(AuditEvent).values(detail="rewritten"),
            sa.delete(AuditEvent),
            sa.text("UPDATE audit_event SET actor_id = NULL"),
            sa.text("DELETE FROM audit_event"),
        ):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                session.execute(statement)
            session.rollback()
        event = session.exec(select(AuditEvent)).first()
        event.detail = "rewritten through the ORM"
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            session.commit()
        session.rollback()
        session.delete(session.exec(select(AuditEvent)).first())
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            session.commit()
        session.rollback()
    factory.session.expire_all()
    events = factory.session.exec(select(AuditEvent)).all()
    assert len(events) == 1 and events[0].detail == "agency MO"


PACKAGE = Path(__file__).resolve().parents[2] / "placement"
WRITES_TO_AUDIT = re.compile(r"\b(update|delete)\(\s*AuditEvent\b|(UPDATE|DELETE\s+FROM|TRUNCATE)\s+\"?audit_event", re.IGNORECASE)


def test_no_code_path_offers_to_change_or_delete_audit_rows(app):
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if WRITES_TO_AUDIT.search(line)
    ]
    assert not offenders, f"code that changes audit rows: {offenders}"
    # The audit module's only public function appends.
    tree = ast.parse((PACKAGE / "audit.py").read_text())
    public = [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")]
    assert public == ["record"]
    # Audit routes only read.
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule


# --- Reading the log: the audit page and its CSV -------------------------------------------------------


def _reader(app, factory):
    reader = factory.user("admin", can_view_audit=True, email="reader@test.example")
    client = app.test_client()
    login(client, reader)
    return reader, client


def test_audit_page_filters_by_action_actor_object_and_day(app, factory):
    world = World(app, factory)
    login(world.client(), world.operator)
    world.client(world.caseworker).get(f"/caseworker/referrals/{world.referral.id}")
    _, client = _reader(app, factory)

    def rows(**query):
        response = client.get("/admin/audit", query_string=query)
        assert response.status_code == 200
        return response.get_data(as_text=True).count('data-testid="audit-row"')

    everything = rows()
    assert everything >= 4
    assert rows(action="referral_viewed") == 1
    assert rows(actor_email=world.caseworker.email.split("@")[0]) == 2  # its login and its read
    assert rows(object_type="referral", object_id=world.referral.id) == 1
    today = utcnow().date()
    assert rows(date_from=(today - timedelta(days=1)).isoformat(), date_to=(today + timedelta(days=1)).isoformat()) == everything
    assert rows(date_from=(today + timedelta(days=2)).isoformat()) == 0
    # Reader input is data, not SQL or a pattern.
    assert rows(actor_email="' OR 1=1--") == 0
    assert rows(actor_email="%") == 0 and rows(actor_email="_") == 0
    page = client.get("/admin/audit", query_string={"action": "referral_viewed"}).get_data(as_text=True)
    assert IP in page and world.caseworker.email in page


def test_audit_page_links_to_older_and_newer_events_keeping_the_filter(app, factory):
    reader, client = _reader(app, factory)
    moment = utcnow() - timedelta(hours=2)
    for index in range(audit_log.PAGE_SIZE + 3):  # equal times: the id breaks the tie
        factory.session.add(AuditEvent(actor_id=reader.id, action="search", object_type="referral", object_id=index,
                                       detail="paging", at=moment))
    factory.session.commit()

    def shown(html: str) -> list[str]:
        return re.findall(r"<td>referral #(\d+)</td>", html)

    first = client.get("/admin/audit", query_string={"action": "search"}).get_data(as_text=True)
    assert f"{audit_log.PAGE_SIZE + 3} events" in first and "Newer events" not in first
    assert shown(first) == [str(i) for i in range(audit_log.PAGE_SIZE + 2, 2, -1)]
    older = re.search(r'<a href="([^"]+)" rel="next">Older events</a>', first).group(1).replace("&amp;", "&")
    assert "action=search" in older
    second = client.get(older).get_data(as_text=True)
    assert shown(second) == ["2", "1", "0"] and "Older events" not in second
    newer = re.search(r'<a href="([^"]+)" rel="prev">Newer events</a>', second).group(1).replace("&amp;", "&")
    assert shown(client.get(newer).get_data(as_text=True)) == shown(first)


@pytest.mark.parametrize("query", [
    {"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}, {"date_from": "0001-01-01", "date_to": "9999-12-31"},
])
def test_audit_filter_takes_the_edges_of_the_calendar(app, factory, query):
    _, client = _reader(app, factory)
    response = client.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('data-testid="audit-row"') >= 2  # the reader's user_created and login


@pytest.mark.parametrize("query", [
    {"date_from": "2026-02-30"}, {"date_to": "10000-01-01"}, {"date_from": "-1-01-01"}, {"date_from": "yesterday"},
    {"date_from": "2026-05-02", "date_to": "2026-05-01"}, {"object_id": "-1"}, {"object_id": str(2**31)},
    {"object_id": "1e3"}, {"object_id": "1; DROP TABLE audit_event"}, {"action": "no_such_action"},
])
def test_bad_audit_filters_are_form_errors(app, factory, query):
    _, client = _reader(app, factory)
    response = client.get("/admin/audit", query_string=query)
    assert response.status_code == 422
    assert "Please correct the highlighted filters" in response.get_data(as_text=True)
    with client.get("/admin/audit.csv", query_string=query) as response:
        assert response.status_code == 422


def test_csv_export_is_filtered_escaped_and_itself_audited(app, factory):
    hostile = factory.org("agency", name='=HYPERLINK("http://evil.example","click")')
    worker = factory.user("caseworker", hostile)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = IP
    login(client, worker)
    reader, reader_client = _reader(app, factory)
    with reader_client.get("/admin/audit.csv", query_string={"action": "login"}) as response:
        body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {row["action"] for row in rows} == {"login"}
    mine = next(row for row in rows if row["actor_email"] == worker.email)
    assert mine["organisation"].startswith("'=HYPERLINK")  # shown as text by a spreadsheet
    assert mine["ip"] == IP and mine["at_utc"].endswith("+00:00")
    export = factory.session.exec(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert export.actor_id == reader.id and f"{len(rows)} rows" in export.detail and "action=login" in export.detail


def test_csv_export_sends_every_event_in_chunks_of_whole_lines(app, factory, monkeypatch):
    reader, _ = _reader(app, factory)
    monkeypatch.setattr(audit_log, "CSV_BATCH", 3)
    moment = utcnow() - timedelta(hours=2)
    for index in range(8):  # equal times: the id breaks the tie, newest first
        detail = "two\nlines" if index == 4 else "-1+1" if index == 5 else "chunked"
        factory.session.add(AuditEvent(actor_id=reader.id, action="search", object_type="referral", object_id=index,
                                       detail=detail, at=moment))
    factory.session.commit()
    with app.app_context():
        session = get_session()
        chunks = list(audit_log.export_csv(session, reader, audit_log.make_filter("UTC", action="search")))
    assert len(chunks) == 1 + 3  # the header, then 3 + 3 + 2 events
    assert all(chunk.endswith("\r\n") for chunk in chunks)
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == list(audit_log.CSV_COLUMNS)
    assert [row[5] for row in rows[1:]] == [str(i) for i in range(7, -1, -1)]
    assert rows[1 + 7 - 4][6] == "two\nlines" and rows[1 + 7 - 5][6] == "'-1+1"


# A cell of each kind a spreadsheet or a CSV reader could take wrongly, and its cell in the file,
# written out by hand: the export must give these bytes whichever database writes the lines.
HOSTILE_DETAILS = [
    ("=1+2", "'=1+2"),
    ("+1", "'+1"),
    ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "\"'\rx\""),
    ('say "hi"', '"say ""hi"""'),
    ('"', '""""'),
    ("a,b", '"a,b"'),
    ("two\nlines", '"two\nlines"'),
    ("crlf\r\nend", '"crlf\r\nend"'),
    ('=cmd|" /C calc"!A0,', "\"'=cmd|\"\" /C calc\"\"!A0,\""),
    ("Zoë – 日本 😀", "Zoë – 日本 😀"),
    ("", ""),
    ("x" * 500, "x" * 500),
    (" =not first", " =not first"),
    ("'quoted already", "'quoted already"),
    ("\\back\\slash", "\\back\\slash"),
    ("NULL", "NULL"),
]


def test_csv_export_writes_hostile_cells_to_the_same_bytes_on_every_database(app, factory):
    reader, client = _reader(app, factory)
    evil = factory.org("agency", name='=HYPERLINK("http://evil.example","x")')
    quoted = factory.org("agency", name='Zoë "Home", MO')
    odd = factory.user("caseworker", evil, email="-o'hara%_@test.example")
    plain = factory.user("caseworker", quoted, email="plain@test.example")
    newest = datetime(2026, 3, 4, 23, 59, 59, 999999, tzinfo=timezone.utc)  # the file truncates to the second
    for minute, (detail, _) in enumerate(HOSTILE_DETAILS):
        factory.session.add(AuditEvent(action="probe", detail=detail, at=newest - timedelta(minutes=minute)))
    factory.session.add(AuditEvent(actor_id=odd.id, organisation_id=evil.id, action="probe", object_type="=type",
                                   object_id=-3, detail="d", ip="@ip", at=newest - timedelta(hours=1)))
    factory.session.add(AuditEvent(actor_id=plain.id, organisation_id=quoted.id, action="probe", object_type="referral",
                                   object_id=42, detail="", ip="10.0.0.1", at=newest - timedelta(hours=2)))
    factory.session.commit()
    odd_line = ("2026-03-04T22:59:59+00:00,'-o'hara%_@test.example,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\","
                "probe,'=type,'-3,d,'@ip\r\n")
    expected = (
        "at_utc,actor_email,organisation,action,object_type,object_id,detail,ip\r\n"
        + "".join(f"2026-03-04T23:{59 - minute:02}:59+00:00,,,probe,,,{cell},\r\n"
                  for minute, (_, cell) in enumerate(HOSTILE_DETAILS))
        + odd_line
        + "2026-03-04T21:59:59+00:00,plain@test.example,\"Zoë \"\"Home\"\", MO\",probe,referral,42,,10.0.0.1\r\n"
    )
    with client.get("/admin/audit.csv", query_string={"action": "probe"}) as response:
        assert response.get_data() == expected.encode()
    # The reader's text reaches the database as a parameter: a quote is a quote, % and _ are literal.
    with client.get("/admin/audit.csv", query_string={"action": "probe", "actor_email": "o'hara%_"}) as response:
        assert response.get_data() == (expected.splitlines(keepends=True)[0] + odd_line).encode()
