"""A database that drops a connection or does not answer: reads retry once, anything else
answers 503 in plain words instead of a 500.

The pool pre-pings every connection it hands out, so a connection that died while idle
is replaced before use. One that dies mid-request (a server restart, a failover, an
administrator terminating backends) fails the statement: an idempotent read (GET, HEAD)
then runs once more from the start on a fresh connection; a write is never repeated
(its transaction was rolled back, so nothing was saved) and answers 503.
"""
from __future__ import annotations

from flask import Flask, g, request
from sqlalchemy import exc

UNREACHABLE_MESSAGE = "SafeBed could not reach its database; nothing was saved. Try again."
RETRIED_METHODS = frozenset({"GET", "HEAD"})


# SQLite's words for a database it cannot reach or use right now (not a bug in a query).
SQLITE_UNREACHABLE = ("unable to open", "database is locked", "disk i/o", "closed database")


def is_connection_failure(error: BaseException) -> bool:
    """A lost or refused database connection, not a bug in a query nor a broken rule.

    PostgreSQL: the pool saw the connection die (`connection_invalidated`), or the driver
    failed below SQL (no SQLSTATE: connecting, reading from the socket), or the server
    said so (SQLSTATE class 08, connection exception; 57P01-57P03, shutting down).
    """
    if isinstance(error, exc.DisconnectionError):
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, (exc.OperationalError, exc.InterfaceError)):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(("08", "57P"))
    if error.orig.__class__.__module__.startswith("sqlite3"):
        return any(words in str(error.orig).lower() for words in SQLITE_UNREACHABLE)
    return True


class RetryRead(Exception):
    """Raised by the error handler to run an idempotent request once more."""


def should_retry(error: BaseException) -> bool:
    return request.method in RETRIED_METHODS and not g.get("database_read_retried") and is_connection_failure(error)


def discard_request_state() -> None:
    """Drop the failed session and the user loaded through it: the retry starts clean."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.rollback()
            session.close()
        except exc.SQLAlchemyError:  # the connection is gone already
            session.invalidate()
    g.pop("_login_user", None)


def install_read_retry(app: Flask) -> None:
    """Wrap the app's dispatch: a read whose database connection dropped runs once more."""
    dispatch = app.full_dispatch_request

    def full_dispatch_request_with_retry():
        try:
            return dispatch()
        except RetryRead:
            app.logger.warning("database connection lost on %s %s; retrying the read once", request.method, request.path)
            discard_request_state()
            g.database_read_retried = True
            return dispatch()

    app.full_dispatch_request = full_dispatch_request_with_retry
