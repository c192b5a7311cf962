"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL
points at a server (scripts/test runs it both ways). Schemas are built with
the real Alembic migrations, once per session; each test then starts from an
empty copy (SQLite: a copied file; PostgreSQL: TRUNCATE).
"""
from __future__ import annotations

import os
import re
import shutil

import pytest
import sqlalchemy as sa

from placement import create_app, migrate
from placement.config import normalise_database_url
from placement.timeutil import clock

from .helpers import Factory

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def is_postgres() -> bool:
    return TEST_DATABASE_URL.startswith("postgres")


def recreate_postgres_database(url: str) -> str:
    """Drop and create the test database named in `url`; return its SQLAlchemy URL."""
    url = normalise_database_url(url)
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


@pytest.fixture(scope="session")
def template_database(tmp_path_factory) -> str:
    """A migrated, empty database: the starting point of every test."""
    if is_postgres():
        url = recreate_postgres_database(TEST_DATABASE_URL)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture()
def database_url(template_database, tmp_path) -> str:
    if is_postgres():
        engine = sa.create_engine(template_database)
        with engine.begin() as connection:
            tables = connection.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            ).scalars().all()
            connection.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template_database
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(re.sub(r"^sqlite:///", "", template_database), path)
    return f"sqlite:///{path}"


@pytest.fixture()
def app_config(database_url) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "JOB_QUEUE_URL": "sync",  # background jobs run in the caller: deterministic, no stray threads
    }


@pytest.fixture()
def app(app_config):
    application = create_app(app_config)
    yield application
    clock.reset()
    application.extensions["safebed_engine"].dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def factory(app) -> Factory:
    """Builds organisations, users and homes straight into the test database."""
    builder = Factory(app)
    yield builder
    builder.session.close()
