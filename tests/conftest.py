"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL
points at a server (scripts/test runs it both ways). Schemas are built with
the real Alembic migrations, once per session; each test then starts from an
empty copy (SQLite: a copied file; PostgreSQL: TRUNCATE).
"""
from __future__ import annotations

import re
import shutil

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from placement import create_app, migrate
from placement.models import User
from placement.timeutil import clock

from .databases import TEST_DATABASE_URL, is_postgres, recreate_postgres_database
from .helpers import PASSWORD, Factory, login

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
def runner(app):
    """Runs `safebed` commands against the test app: `runner.invoke(args=["seed-demo"])`."""
    return app.test_cli_runner()


@pytest.fixture()
def login_as(client):
    """Signs a test client in through the real sign-in form and returns it.

    `login_as(user)` signs in the test's `client`; `login_as(user, other)` another
    client (a second device or a second role); `password=` for a user created with another.
    """

    def sign_in(user: User, on: FlaskClient | None = None, password: str = PASSWORD) -> FlaskClient:
        target = client if on is None else on
        login(target, user, password)
        return target

    return sign_in


@pytest.fixture()
def factory(app) -> Factory:
    """Builds organisations, users and homes straight into the test database."""
    builder = Factory(app)
    yield builder
    builder.session.close()
