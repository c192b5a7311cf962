"""Engine, per-request sessions, and the booking lock.

The app uses plain SQLModel sessions: one per request, stored on `flask.g`,
committed explicitly by service functions and rolled back at teardown if
anything was left open.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g
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


def check_database(session: Session) -> None:
    """Raise if the database does not answer a real query."""
    session.exec(sa.select(sa.literal(1))).one()
