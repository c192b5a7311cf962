"""Database faults (issue 17): a read whose connection drops mid-request is retried once;
anything else answers 503 in plain words, never a 500, and nothing is half-saved."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlmodel import func, select

from placement import create_app
from placement.models import Referral
from placement.web.faults import UNREACHABLE_MESSAGE

from ..databases import is_postgres
from ..helpers import REFERRAL_FORM, api_token, bearer, csrf_token, login
from .database_faults import ConnectionDropper, terminate_every_backend_of_the_test_database

API_REFERRAL = {
    "case_reference": "MO-FAULT-1", "urgency": "urgent", "age": 16, "gender": "female", "substance_use": "none",
    "medical_level": 0, "mental_health_level": 0, "language": "en", "custody_state": "MO", "county": "Boone",
    "lat": 38.95, "lon": -92.33,
}


@pytest.fixture()
def dropper(app):
    tool = ConnectionDropper(app.extensions["safebed_engine"])
    yield tool
    tool.remove()


def _referrals(factory) -> int:
    factory.session.expire_all()
    return factory.session.exec(select(func.count()).select_from(Referral)).one()


def test_a_page_read_survives_its_connection_dropping_once(app, client, factory, dropper):
    caseworker = factory.user("caseworker")
    login(client, caseworker)
    dropper.arm(times=1)
    response = client.get("/caseworker/referrals")
    assert dropper.fired == 1
    assert response.status_code == 200
    assert "Referrals" in response.get_data(as_text=True)


def test_a_read_that_loses_its_connection_twice_answers_503_in_plain_words(app, client, factory, dropper):
    caseworker = factory.user("caseworker")
    login(client, caseworker)
    dropper.arm(times=2)
    response = client.get("/caseworker/referrals")
    assert dropper.fired == 2  # retried once, not more
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert UNREACHABLE_MESSAGE in response.get_data(as_text=True)
    assert client.get("/caseworker/referrals").status_code == 200  # the app recovers by itself


def test_an_api_read_is_retried_and_a_second_loss_is_a_503_json_error(app, factory, dropper):
    client = app.test_client()
    headers = bearer(api_token(factory, factory.user("caseworker")))
    dropper.arm(times=1)
    assert client.get("/api/v1/referrals", headers=headers).status_code == 200
    dropper.arm(times=2)
    response = client.get("/api/v1/referrals", headers=headers)
    assert response.status_code == 503
    assert response.get_json()["error"] == {"code": "database_unavailable", "message": UNREACHABLE_MESSAGE, "fields": {}}


def test_a_write_is_never_repeated_answers_503_and_saves_nothing(app, client, factory, dropper):
    caseworker = factory.user("caseworker")
    login(client, caseworker)
    before = _referrals(factory)
    token = csrf_token(client, "/caseworker/referrals/new")
    dropper.arm(times=1, match=r"INSERT INTO referral\b")
    response = client.post("/caseworker/referrals/new", data={**REFERRAL_FORM, "csrf_token": token})
    assert dropper.fired == 1
    assert response.status_code == 503
    assert UNREACHABLE_MESSAGE in response.get_data(as_text=True)
    assert _referrals(factory) == before

    headers = bearer(api_token(factory, caseworker))
    dropper.arm(times=1, match=r"INSERT INTO referral\b")
    response = app.test_client().post("/api/v1/referrals", json=API_REFERRAL, headers=headers)
    assert dropper.fired == 1
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert _referrals(factory) == before
    # Sent again once the database answers, it is saved once.
    assert app.test_client().post("/api/v1/referrals", json=API_REFERRAL, headers=headers).status_code == 201
    assert _referrals(factory) == before + 1


def _unreachable_url(tmp_path) -> str:
    if is_postgres():
        return "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    (tmp_path / "a-folder").mkdir()
    return f"sqlite:///{tmp_path / 'a-folder'}"  # a folder is no database file: "unable to open"


def test_healthz_and_pages_answer_503_when_the_database_does_not_answer(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": _unreachable_url(tmp_path)})
    try:
        client = app.test_client()
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json() == {"status": "error", "database": "unavailable"}
        api = client.get("/api/v1/me", headers=bearer("sbt_whatever"))
        assert api.status_code == 503
        assert api.get_json()["error"]["message"] == UNREACHABLE_MESSAGE
        page = client.post("/login", data={"email": "someone@test.example", "password": "x" * 12,
                                           "csrf_token": csrf_token(client)})
        assert page.status_code == 503
        assert UNREACHABLE_MESSAGE in page.get_data(as_text=True)
    finally:
        app.extensions["safebed_engine"].dispose()


if is_postgres():  # terminating server backends is a PostgreSQL fault; SQLite has none to lose

    def test_gunicorn_answers_no_500_while_its_backends_are_terminated(database_url, factory):
        """4 workers x 2 threads under load while every backend of the test database is
        terminated every 50 ms: reads answer 200 (retried) or 503, writes 201 or 503, never
        a 500, and each 201 saved exactly one referral."""
        from .gunicorn_server import gunicorn

        caseworker = factory.user("caseworker")
        token = api_token(factory, caseworker)
        before = _referrals(factory)
        factory.session.close()
        headers = bearer(token)
        stop = threading.Event()
        killed = []

        def killer():
            while not stop.is_set():
                killed.append(terminate_every_backend_of_the_test_database())
                stop.wait(0.05)

        def call(number: int):
            if number % 5 == 4:
                body = {**API_REFERRAL, "case_reference": f"MO-FAULT-{number}"}
                return "write", requests.post(f"{base}/api/v1/referrals", json=body, headers=headers, timeout=20).status_code
            path = "/api/v1/referrals" if number % 2 else "/api/v1/me"
            return "read", requests.get(f"{base}{path}", headers=headers, timeout=20).status_code

        with gunicorn(database_url, workers=4, threads=2, RATELIMIT_STORAGE_URI="memory://", SAFEBED_SINGLE_PROCESS="1",
                      SAFEBED_API_RATE_LIMIT="100000 per minute") as base:
            thread = threading.Thread(target=killer)
            thread.start()
            try:
                with ThreadPoolExecutor(max_workers=8) as pool:
                    results = list(pool.map(call, range(300)))
            finally:
                stop.set()
                thread.join()
        reads = [status for kind, status in results if kind == "read"]
        writes = [status for kind, status in results if kind == "write"]
        print(f"terminations: {sum(killed)} backends in {len(killed)} sweeps; reads {sorted(set(reads))}: "
              f"{reads.count(200)} x 200, {reads.count(503)} x 503; writes {writes.count(201)} x 201, {writes.count(503)} x 503")
        assert sum(killed) > 0
        assert set(reads) <= {200, 503}, reads
        assert set(writes) <= {201, 503}, writes
        assert reads.count(200) >= len(reads) // 4  # most reads survive a drop by their one retry
        assert _referrals(factory) == before + writes.count(201)


def test_a_bug_in_a_query_is_still_a_500_not_a_database_outage(app, client, factory):
    """Only a lost connection answers 503: a broken query stays a 500 (and is logged as a bug)."""
    import sqlalchemy as sa

    from placement.web.faults import is_connection_failure

    engine = app.extensions["safebed_engine"]
    with engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError) as broken:
            connection.execute(sa.text("SELECT * FROM no_such_table_here"))
    assert not is_connection_failure(broken.value)
    with engine.connect() as connection:
        with pytest.raises(sa.exc.IntegrityError) as refused:
            connection.execute(sa.text("INSERT INTO organisation (id) VALUES (NULL)"))
    assert not is_connection_failure(refused.value)
