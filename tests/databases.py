"""Which database the suite runs on, and making a fresh PostgreSQL database beside it."""
from __future__ import annotations

import os

import sqlalchemy as sa

from placement.config import normalise_database_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def is_postgres() -> bool:
    """Whether this run is on PostgreSQL (TEST_DATABASE_URL set), not SQLite."""
    return TEST_DATABASE_URL.startswith("postgres")


def recreate_postgres_database(url: str) -> str:
    """Drop and create the database named in `url`; return its SQLAlchemy URL."""
    url = normalise_database_url(url)
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def postgres_database_beside(suffix: str) -> str:
    """A fresh PostgreSQL database named after the test database plus `suffix`, so
    suites run side by side (each with its own TEST_DATABASE_URL) never share one."""
    base, name = TEST_DATABASE_URL.rsplit("/", 1)
    return recreate_postgres_database(f"{base}/{name}{suffix}")
