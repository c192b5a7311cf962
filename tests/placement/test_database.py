"""placement.database: reads beside a request (`read_beside`)."""
from __future__ import annotations

import threading

import pytest
from flask import g
from sqlmodel import select

from placement.database import enable_db_timing, read_beside
from placement.models import Home


def _homes_seen(session, caller_session):
    """What a side read reports of itself: its thread, whether it got the caller's
    session, and the names of the homes it can see."""
    names = session.exec(select(Home.name).order_by(Home.id)).all()
    return threading.get_ident(), session is caller_session, names


def test_a_side_read_runs_on_another_thread_with_its_own_session_and_sees_only_committed_rows(factory):
    provider = factory.org("provider", "MO")
    factory.home(provider, name="Committed Name", availability=False)
    home = factory.home(provider, name="Second Home", availability=False)
    home.name = "Pending Name"  # written, not committed
    factory.session.add(home)
    factory.session.flush()

    thread, same_session, names = read_beside(factory.session, _homes_seen, factory.session).result()

    assert thread != threading.get_ident()
    assert not same_session
    assert names == ["Committed Name", "Second Home"]  # not the caller's pending change
    assert factory.session.exec(select(Home.name).where(Home.id == home.id)).one() == "Pending Name"
    factory.session.rollback()


def _fails(_session):
    raise LookupError("the side read failed")


def test_a_side_reads_error_is_raised_where_its_answer_is_taken(factory):
    side = read_beside(factory.session, _fails)
    with pytest.raises(LookupError, match="the side read failed"):
        side.result()


def test_a_side_reads_statements_count_in_the_requests_database_time(app, factory):
    """bench_load.py's database time per request includes what the request ran beside."""
    enable_db_timing(app)
    factory.home(factory.org("provider", "MO"), name="Only Home", availability=False)
    with app.test_request_context("/"):
        assert read_beside(factory.session, _homes_seen, None).result()[2] == ["Only Home"]
        assert g.db_statements == 1
        assert g.db_time > 0
