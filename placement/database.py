"""Engine, per-request sessions, and the booking lock.

The app uses plain SQLModel sessions: one per request, stored on `flask.g`,
committed explicitly by service functions and rolled back at teardown if
anything was left open.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Generic, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session


def make_engine(url: str) -> Engine:
    """Create the engine with the per-dialect settings the app relies on.

    `hide_parameters`: a database error's message otherwise quotes the statement's
    values, and a failed write to `home` would put its street address into the log.
    """
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless asked on every connection; WAL lets
    # readers proceed while a booking transaction writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask) -> None:
    app.extensions["safebed_engine"] = make_engine(app.config["SQLALCHEMY_URL"])
    app.teardown_appcontext(_close_session)
    if os.environ.get("SAFEBED_DB_TIMING") == "1":
        enable_db_timing(app)


# Database time per request (scripts/bench_load.py): off unless SAFEBED_DB_TIMING=1 ------

DB_TIME_HEADER = "X-SafeBed-DB"  # "<database ms>;<statements>;<app CPU ms>;<app wall ms>"


def enable_db_timing(app: Flask) -> None:
    """Time every statement the request's code runs and report the sum in a response header.

    For benchmarks only: the header tells a load generator how much of a response's
    time the database took and how many statements it ran.
    """
    engine = app.extensions["safebed_engine"]
    event.listen(engine, "before_cursor_execute", _statement_started)
    event.listen(engine, "after_cursor_execute", _statement_finished)

    @app.before_request
    def _cpu_started():
        g.cpu_started = time.thread_time()
        g.wall_started = time.perf_counter()

    @app.after_request
    def _db_time_header(response):
        spent = g.get("db_time", 0.0)
        # The request thread's own CPU time: what the app spent, whatever the machine's load.
        cpu = time.thread_time() - g.get("cpu_started", time.thread_time())
        # The request's wall time inside the app (a streamed body not included): set
        # against the client's time, it tells queueing outside the app from waits inside.
        wall = time.perf_counter() - g.get("wall_started", time.perf_counter())
        response.headers[DB_TIME_HEADER] = (f"{spent * 1000:.2f};{g.get('db_statements', 0)};{cpu * 1000:.2f};"
                                            f"{wall * 1000:.2f}")
        return response


def _statement_started(_conn, _cursor, _statement, _parameters, context, _executemany) -> None:
    context._safebed_started = time.perf_counter()


def _statement_finished(_conn, _cursor, _statement, _parameters, context, _executemany) -> None:
    if has_app_context():
        g.db_time = g.get("db_time", 0.0) + time.perf_counter() - context._safebed_started
        g.db_statements = g.get("db_statements", 0) + 1


def get_engine() -> Engine:
    return current_app.extensions["safebed_engine"]


def get_session() -> Session:
    """The request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.rollback()
            session.close()
        except sa.exc.SQLAlchemyError:
            # The connection died after the answer was made (a restart, a terminated
            # backend): there is nothing left to roll back; drop it from the pool.
            session.invalidate()


@contextmanager
def new_session():
    """A session outside a request (CLI, background jobs)."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


T = TypeVar("T")

# The threads of `read_beside`, shared by every app of the process and started on first
# use (so none exists in a process that forks workers). Four: a page runs one or two side
# reads, and a gunicorn process serves two requests at a time (README).
_side_readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="safebed-side-read")


class SideRead(Generic[T]):
    """A read running beside the caller (see `read_beside`)."""

    def __init__(self, future):
        self._future = future

    def result(self) -> T:
        """The read's answer, once it is done (its error, raised here, if it failed). Its
        statements join the caller's database time (`enable_db_timing`)."""
        value, spent, statements = self._future.result()
        if has_app_context() and statements:
            g.db_time = g.get("db_time", 0.0) + spent
            g.db_statements = g.get("db_statements", 0) + statements
        return value


def read_beside(session: Session, work: Callable[..., T], *args) -> SideRead[T]:
    """Start `work(side_session, *args)` on another thread, with a session of its own on
    `session`'s database, and return it at once.

    A page made of independent reports (the capacity dashboard) spends much of its time
    waiting for PostgreSQL: while a report's statements run there, the page's own thread
    works on the next report, instead of waiting for each in turn. The side session sees
    what is committed, never the caller's pending changes: for reads only. Rows it returns
    as mapped objects are detached: only the attributes it loaded can be read. A side read
    starts no side reads of its own (they could wait for threads busy waiting for them).
    """
    engine = session.get_bind()
    app = current_app._get_current_object() if has_app_context() else None

    def run():
        # The app's context, for `work` and for the side's share of the request's database time.
        with app.app_context() if app is not None else nullcontext(), Session(engine, expire_on_commit=False) as side:
            value = work(side, *args)
            if app is None:
                return value, 0.0, 0
            return value, g.get("db_time", 0.0), g.get("db_statements", 0)

    return SideRead(_side_readers.submit(run))


def check_database(session: Session) -> None:
    """Raise if the database does not answer a real query."""
    session.exec(sa.select(sa.literal(1))).one()
