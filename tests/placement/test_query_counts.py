"""No page runs more SQL statements because it shows more rows (no N+1 queries).

Every GET page and API read in the access table is requested by an actor allowed to
see it, in the access table's world grown by N and then by 2N more rows of every kind
the pages list (homes with their availability log, referrals that are held, requested,
placed and missing, escalations, matcher runs, audit events, outbox messages,
notifications). The statements each request runs are counted with an engine event;
a page whose count grows with the rows it shows fails, naming the page and both counts.
"""
from __future__ import annotations

import html
import re
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from placement.database import make_engine
from placement.models import (
    AuditEvent,
    AvailabilityUpdate,
    Escalation,
    Hold,
    MatcherRun,
    MissingEpisode,
    MissingReport,
    Notification,
    Organisation,
    OutboxMessage,
    Placement,
    PlacementRequest,
)
from placement.services import audit_log, paged_lists
from placement.timeutil import utcnow

from ..helpers import api_token, login, make_referral
from .access_table import ACTORS, ALLOWED, ANONYMOUS, TABLE, actor_user, build_world

N = 3
# Pages that are not pages: files, the sign-in form, the OpenAPI document, place lookups, health.
NOT_COUNTED = {"healthz", "auth.login", "auth.accept_invitation", "api.openapi", "places.suggest", "places.near"}


def _grow(factory, world, n: int) -> None:
    """Add `n` rows of every kind the world's pages list, in the world's organisations and state."""
    session = factory.session
    operator, caseworker = world.users["operator"], world.users["caseworker"]
    provider = session.get(Organisation, operator.organisation_id)
    now = utcnow()
    for index in range(n):
        home = factory.home(provider, licensed_beds=10,
                            availability={"open_beds": 6, "staff_on_duty": 4, "youth_per_staff": 3, "current_youth": 2})
        session.add(AvailabilityUpdate(home_id=home.id, open_beds=5, licensed_beds=10, staff_on_duty=4, youth_per_staff=3,
                                       current_youth=2, recorded_at=now - timedelta(days=3)))
        held = make_referral(factory, caseworker, status="held")
        session.add(Hold(referral_id=held.id, home_id=home.id, created_by_id=caseworker.id, places=1, created_at=now,
                         expires_at=now + timedelta(hours=4)))
        requested = make_referral(factory, caseworker, status="requested")
        pending = PlacementRequest(referral_id=requested.id, home_id=home.id, requested_by_id=caseworker.id, places=1)
        declined = PlacementRequest(referral_id=requested.id, home_id=home.id, requested_by_id=caseworker.id, places=1,
                                    status="declined", decline_reason="no_staff", answered_at=now, answered_by_id=operator.id)
        placed = make_referral(factory, caseworker, status="placed")
        accepted = PlacementRequest(referral_id=placed.id, home_id=home.id, requested_by_id=caseworker.id, places=1,
                                    status="accepted", answered_at=now, answered_by_id=operator.id)
        missing = make_referral(factory, caseworker, status="placed")
        gone = PlacementRequest(referral_id=missing.id, home_id=home.id, requested_by_id=caseworker.id, places=1,
                                status="accepted", answered_at=now, answered_by_id=operator.id)
        session.add_all([pending, declined, accepted, gone])
        session.flush()
        session.add(Placement(referral_id=placed.id, home_id=home.id, request_id=accepted.id, places=1,
                              started_at=now - timedelta(days=40)))
        ended = Placement(referral_id=missing.id, home_id=home.id, request_id=gone.id, places=1,
                          started_at=now - timedelta(days=10), ended_at=now - timedelta(hours=5), end_reason="missing")
        session.add(ended)
        session.flush()
        episode = MissingEpisode(placement_id=ended.id, referral_id=missing.id, home_id=home.id,
                                 last_seen_at=now - timedelta(hours=5), reported_at=now - timedelta(hours=4),
                                 reported_by_id=caseworker.id, reports_due_at=now + timedelta(hours=20))
        session.add(episode)
        session.flush()
        session.add(MissingReport(episode_id=episode.id, kind="ncmec", made_at=now - timedelta(hours=3),
                                  report_number=f"NCMEC-{episode.id}", made_by="Test", recorded_by_id=caseworker.id))
        session.add(Escalation(referral_id=requested.id, request_id=pending.id, state="MO", kind="unanswered"))
        session.add(MatcherRun(state="MO", started_by_id=caseworker.id, status="done", progress=100, finished_at=now,
                               instance={"homes": [], "referrals": []},
                               result={"status": "OPTIMAL", "assignments": [], "unmatched": []}))
        session.add(OutboxMessage(message_id=f"count-{held.id}@safebed", event="request_new", channel="email",
                                  to_address=operator.email, subject="SafeBed: test", body="Test.", link="/", status="dead"))
        for user in (operator, caseworker):
            session.add(Notification(user_id=user.id, message="Test notification", link="/"))
        session.add(AuditEvent(actor_id=caseworker.id, organisation_id=caseworker.organisation_id, action="referral_viewed",
                               object_type="referral", object_id=held.id, detail="test"))
        session.commit()


def _pages(app) -> list[tuple[str, str]]:
    """(endpoint, actor) for every GET page and API read, with the first actor allowed in."""
    pages = []
    for rule in app.url_map.iter_rules():
        row = TABLE.get(rule.endpoint)
        if row is None or "GET" not in rule.methods or rule.endpoint in NOT_COUNTED:
            continue
        actor = next((a for a in ACTORS if a != ANONYMOUS and row.expect[a] == ALLOWED), None)
        if actor is not None:
            pages.append((rule.endpoint, actor))
    return sorted(pages)


def _counts(app, factory, world, pages, clients) -> dict[str, int]:
    engine = app.extensions["safebed_engine"]
    statements = []
    counter = lambda *_args: statements.append(1)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", counter)
    counts = {}
    try:
        for endpoint, actor in pages:
            rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
            row = TABLE[endpoint]
            values = {name: world.ids[row.args.get(name, name)] for name in rule.arguments}
            path = app.url_map.bind("localhost").build(endpoint, values)
            client, token = clients[actor]
            headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
            client.get(path, headers=headers).get_data()  # once to settle per-session writes
            statements.clear()
            response = client.get(path, headers=headers)
            response.get_data()  # a streamed body runs its queries while it is read
            assert response.status_code < 400, f"{endpoint} as {actor}: HTTP {response.status_code}"
            counts[endpoint] = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    return counts


def test_statements_per_page_do_not_grow_with_the_rows_shown(app, factory):
    world = build_world(factory)
    pages = _pages(app)
    assert len(pages) > 30, "the access table's pages were not found"
    clients = {}
    for actor in {actor for _, actor in pages}:
        client = app.test_client()
        user = actor_user(factory, world, actor)
        login(client, user)
        clients[actor] = (client, api_token(factory, user))
    _grow(factory, world, N)
    few = _counts(app, factory, world, pages, clients)
    _grow(factory, world, 2 * N)
    many = _counts(app, factory, world, pages, clients)
    grown = [f"{endpoint}: {few[endpoint]} statements with {N} rows of each kind, {many[endpoint]} with {3 * N}"
             for endpoint in few if many[endpoint] > few[endpoint]]
    assert not grown, "statements grow with the rows shown (N+1 queries):\n" + "\n".join(grown)


def test_embedded_sqlite_uses_wal_and_waits_for_a_busy_lock(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with Session(engine) as session:
            journal = session.execute(sa.text("PRAGMA journal_mode")).scalar_one()
            busy = session.execute(sa.text("PRAGMA busy_timeout")).scalar_one()
            foreign_keys = session.execute(sa.text("PRAGMA foreign_keys")).scalar_one()
    finally:
        engine.dispose()
    assert journal.lower() == "wal"
    assert busy >= 5000
    assert foreign_keys == 1


# --- Lists paged by keyset: an older page costs what the first does, however long the list ---------


def _statements(app, client, path: str) -> int:
    engine = app.extensions["safebed_engine"]
    statements = []
    counter = lambda *_args: statements.append(1)  # noqa: E731
    client.get(path).get_data()  # once to settle per-session writes
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(path)
        response.get_data()
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    return len(statements)


def _older_path(client, path: str) -> str:
    found = re.search(r'<a href="([^"]+)" rel="next">Older', client.get(path).get_data(as_text=True))
    assert found, f"{path} shows no link to older rows"
    return html.unescape(found.group(1))


def _newer_path(client, path: str) -> str:
    found = re.search(r'<a href="([^"]+)" rel="prev">Newer', client.get(path).get_data(as_text=True))
    assert found, f"{path} shows no link to newer rows"
    return html.unescape(found.group(1))


def _grow_lists(factory, caseworker, operator, home, pages: int) -> None:
    """`pages` pages' worth of referrals, answered requests and audit events."""
    session = factory.session
    for _ in range(pages * paged_lists.PAGE_SIZE):
        referral = make_referral(factory, caseworker, consent=False)
        session.add(PlacementRequest(referral_id=referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1,
                                     status="declined", decline_reason="no_staff", answered_at=utcnow(),
                                     answered_by_id=operator.id))
    session.add_all([AuditEvent(actor_id=caseworker.id, action="search", object_type="referral", detail="count")
                     for _ in range(pages * audit_log.PAGE_SIZE)])
    session.commit()


def test_keyset_list_pages_run_as_many_statements_with_more_rows(app, factory):
    provider = factory.org("provider", "MO")
    operator, home = factory.user("operator", provider), factory.home(provider)
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    reader = factory.user("admin", can_view_audit=True)
    clients = {}
    for user in (caseworker, operator, reader):
        clients[user.role] = app.test_client()
        login(clients[user.role], user)
    lists = [("caseworker", "/caseworker/referrals?status=open"), ("operator", "/provider/requests?status=declined"),
             ("admin", "/admin/audit?action=search")]

    def counts() -> dict[str, int]:
        found = {}
        for role, path in lists:
            client = clients[role]
            older = _older_path(client, path)
            found[path] = _statements(app, client, path)
            found[f"{path} (older page)"] = _statements(app, client, older)
            found[f"{path} (newer page)"] = _statements(app, client, _newer_path(client, older))
        return found

    _grow_lists(factory, caseworker, operator, home, 2)
    few = counts()
    _grow_lists(factory, caseworker, operator, home, 4)
    many = counts()
    grown = [f"{page}: {few[page]} statements, then {many[page]}" for page in few if many[page] > few[page]]
    assert not grown, "statements grow with the rows listed:\n" + "\n".join(grown)

