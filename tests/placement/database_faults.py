"""Dropping the app's database connections on purpose (helpers for the fault tests; not a test module).

On PostgreSQL the app's backend is terminated by the server (pg_terminate_backend, waiting
until it is gone), as an administrator, a restart or a failover would; on SQLite the open
database connection is closed under the app. Either way the next statement finds its
connection dead, exactly as it would mid-request.
"""
from __future__ import annotations

import re

import psycopg
from sqlalchemy import event

from ..databases import TEST_DATABASE_URL, is_postgres


def terminate_backend(pid: int) -> None:
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]


def terminate_every_backend_of_the_test_database() -> int:
    """Terminate every other connection to the test database; how many there were."""
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    return len(rows)


class ConnectionDropper:
    """Kills the app's connection just before its next statement (matching `match`), `times` times."""

    def __init__(self, engine):
        self.engine = engine
        self.remaining = 0
        self.fired = 0
        self.match: re.Pattern | None = None
        event.listen(engine, "before_cursor_execute", self._before)

    def arm(self, times: int = 1, match: str | None = None) -> None:
        self.remaining, self.fired = times, 0
        self.match = re.compile(match, re.IGNORECASE) if match else None

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)

    def _before(self, connection, _cursor, statement, *_args) -> None:
        if self.remaining <= 0 or (self.match and not self.match.search(statement)):
            return
        self.remaining -= 1
        self.fired += 1
        dbapi_connection = connection.connection.dbapi_connection
        if is_postgres():
            terminate_backend(dbapi_connection.info.backend_pid)
        else:
            dbapi_connection.close()
