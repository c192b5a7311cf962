"""Fifty caseworkers racing for the last bed through a real multi-process server.

Runs gunicorn (4 worker processes x 4 threads) against the test database, on
SQLite and on PostgreSQL, and fires simultaneous holds, then simultaneous
accepts, at a home with one open bed.
"""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlmodel import select

from placement.models import Hold, Placement, PlacementRequest

from ..helpers import PASSWORD, make_referral
from .gunicorn_server import gunicorn

ATTEMPTS = 50
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture()
def server(database_url):
    """gunicorn with 4 workers x 4 threads, in demo mode with a login limit no race reaches."""
    with gunicorn(database_url, workers=4, threads=4, SAFEBED_MODE="demo", SECRET_KEY="concurrency-test-secret",
                  SAFEBED_LOGIN_RATE_LIMIT="10000 per minute") as base:
        yield base


def _signed_in(base: str, email: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    token = TOKEN.search(session.get(f"{base}/login").text).group(1)
    response = session.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, allow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    token = TOKEN.search(session.get(f"{base}/notifications").text).group(1)
    return session, token


def _fire(calls) -> tuple[list[int], float]:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        statuses = list(pool.map(run, calls))
    return statuses, time.perf_counter() - started


def test_fifty_simultaneous_holds_and_accepts_on_the_last_bed(server, factory):
    provider = factory.org("provider")
    operator = factory.user("operator", provider)
    home = factory.home(provider, availability={"open_beds": 1, "staff_on_duty": 3, "youth_per_staff": 3, "current_youth": 2})
    agency = factory.org("agency")
    workers = [factory.user("caseworker", agency) for _ in range(5)]
    referrals = [make_referral(factory, workers[i % 5]) for i in range(ATTEMPTS)]
    sessions = {w.id: _signed_in(server, w.email) for w in workers}

    def hold(referral):
        session, token = sessions[referral.created_by_id]
        return lambda: session.post(f"{server}/caseworker/referrals/{referral.id}/hold",
                                    data={"home_id": home.id, "csrf_token": token}, allow_redirects=False).status_code

    statuses, seconds = _fire([hold(r) for r in referrals])
    print(f"\nholds: {ATTEMPTS} attempts, {statuses.count(302)} succeeded, {statuses.count(409)} refused, {seconds:.2f} s")
    assert statuses.count(302) == 1, statuses
    assert statuses.count(409) == ATTEMPTS - 1, statuses
    winner = factory.session.exec(select(Hold)).one()

    session, token = sessions[next(r.created_by_id for r in referrals if r.id == winner.referral_id)]
    response = session.post(f"{server}/caseworker/referrals/{winner.referral_id}/request",
                            data={"home_id": home.id, "csrf_token": token}, allow_redirects=False)
    assert response.status_code == 302
    request = factory.session.exec(select(PlacementRequest)).one()

    operators = [_signed_in(server, operator.email) for _ in range(5)]

    def accept(i):
        op_session, op_token = operators[i % 5]
        return lambda: op_session.post(f"{server}/provider/requests/{request.id}/accept",
                                       data={"csrf_token": op_token}, allow_redirects=False).headers.get("Location", "")

    locations, seconds = _fire([accept(i) for i in range(ATTEMPTS)])
    accepted = sum(location.endswith("/provider/requests") for location in locations)
    print(f"accepts: {ATTEMPTS} attempts, {accepted} succeeded, {seconds:.2f} s")
    assert accepted == 1, locations
    factory.session.expire_all()
    assert len(factory.session.exec(select(Placement)).all()) == 1
    assert factory.session.exec(select(PlacementRequest)).one().status == "accepted"


def test_accepts_racing_at_three_homes_for_one_referral_make_one_placement(server, factory):
    """Parallel requests: three homes' operators (five devices each) accept the same youth at once."""
    from placement.models import Referral

    from .arrival_world import three_homes

    world = three_homes(factory)
    requests_ = [PlacementRequest(referral_id=world.referral.id, home_id=home.id, requested_by_id=world.caseworker.id, places=1)
                 for home in world.homes]
    factory.session.add_all(requests_)
    world.referral.status = "requested"
    factory.session.add(world.referral)
    factory.session.commit()
    devices = [[_signed_in(server, operator.email) for _ in range(5)] for operator in world.operators]

    def accept(i):
        home_index = i % 3
        op_session, op_token = devices[home_index][i // 3]
        return lambda: op_session.post(f"{server}/provider/requests/{requests_[home_index].id}/accept",
                                       data={"csrf_token": op_token}, allow_redirects=False).headers.get("Location", "")

    locations, seconds = _fire([accept(i) for i in range(15)])
    accepted = sum(location.endswith("/provider/requests") for location in locations)
    print(f"\naccepts at three homes: 15 attempts, {accepted} succeeded, {seconds:.2f} s")
    assert accepted == 1, locations
    factory.session.expire_all()
    placements = factory.session.exec(select(Placement)).all()
    assert len(placements) == 1
    statuses = sorted(r.status for r in factory.session.exec(select(PlacementRequest)).all())
    assert statuses == ["accepted", "withdrawn", "withdrawn"]
    assert factory.session.get(Referral, world.referral.id).status == "placed"


def test_an_operators_offer_racing_a_caseworkers_request_for_the_last_bed(server, factory):
    """The operator's queue: five devices offer the home's last bed to one youth while five
    devices of another youth's caseworker request it; exactly one of them gets the bed."""
    from placement.models import PlacementOffer

    provider = factory.org("provider")
    operator = factory.user("operator", provider)
    home = factory.home(provider, availability={"open_beds": 1, "staff_on_duty": 3, "youth_per_staff": 3, "current_youth": 2})
    caseworker = factory.user("caseworker", factory.org("agency"))
    requested, offered = make_referral(factory, caseworker), make_referral(factory, caseworker)
    operators = [_signed_in(server, operator.email) for _ in range(5)]
    caseworkers = [_signed_in(server, caseworker.email) for _ in range(5)]

    def offer(i):
        session, token = operators[i]
        return lambda: session.post(f"{server}/provider/queue/{offered.id}/offer", data={"home_id": home.id, "csrf_token": token},
                                    allow_redirects=False).status_code

    def request(i):
        session, token = caseworkers[i]
        return lambda: session.post(f"{server}/caseworker/referrals/{requested.id}/request",
                                    data={"home_id": home.id, "csrf_token": token}, allow_redirects=False).status_code

    statuses, seconds = _fire([call(i) for i in range(5) for call in (offer, request)])
    print(f"\noffers racing requests: 10 attempts, {statuses.count(302)} succeeded, {statuses.count(409)} refused, {seconds:.2f} s")
    assert statuses.count(302) == 1, statuses
    assert statuses.count(409) == 9, statuses
    factory.session.expire_all()
    pending = factory.session.exec(select(PlacementRequest).where(PlacementRequest.status == "pending")).all()
    live = factory.session.exec(select(PlacementOffer).where(PlacementOffer.status == "pending")).all()
    assert len(pending) + len(live) == 1
