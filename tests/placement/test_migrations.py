"""Migrations build the schema the models describe, from an empty database."""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from placement import migrate
from placement.database import make_engine

from ..conftest import is_postgres


def test_migrations_create_every_model_table(template_database):
    engine = make_engine(template_database)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_and_upgrade_round_trip(tmp_path, template_database):
    if is_postgres():
        from ..conftest import TEST_DATABASE_URL, recreate_postgres_database

        url = recreate_postgres_database(TEST_DATABASE_URL.rsplit("/", 1)[0] + "/safebed_migration_test")
    else:
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    assert "home" in sa.inspect(engine).get_table_names()
    engine.dispose()
