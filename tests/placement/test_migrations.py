"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

A model changed without a migration fails here. Alembic's own comparison (the one
`safebed db revision` autogenerates from) covers tables, columns, types,
nullability, indexes, unique constraints and foreign keys. It does not see CHECK
constraints, so those are compared separately: the migrated database against a
database built straight from the models, both reflected by the same server, so
each side's expressions are written the same way.

Server defaults are left out on purpose: migration 0003 gives `placement.end_note`
a server default of '' to fill the rows that existed before it; the model needs none.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from placement import migrate
from placement import models  # noqa: F401 - registers every table on SQLModel.metadata
from placement.database import make_engine

from ..databases import is_postgres, postgres_database_beside


def schema_differences(url: str, metadata: sa.MetaData) -> list:
    """Alembic's differences between the database at `url` and `metadata` (empty when they agree)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    return differences


def check_constraints(url: str) -> dict[str, dict[str, str]]:
    """Every table's CHECK constraints as the server reports them: {table: {name: expression}}."""
    engine = make_engine(url)
    inspector = sa.inspect(engine)
    found = {
        table: {check["name"]: " ".join(check["sqltext"].split()) for check in inspector.get_check_constraints(table)}
        for table in inspector.get_table_names() if table != "alembic_version"
    }
    engine.dispose()
    return found


def database_from(metadata: sa.MetaData, tmp_path, name: str) -> str:
    """A fresh database holding `metadata`'s tables, made without the migrations."""
    url = postgres_database_beside(f"_{name}") if is_postgres() else f"sqlite:///{tmp_path / name}.sqlite3"
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    return url


def drifted_metadata() -> sa.MetaData:
    """The models with one change that no migration makes: a new column, index and CHECK on `home`."""
    metadata = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    home = metadata.tables["home"]
    home.append_column(sa.Column("wheelchair_access", sa.Boolean, nullable=False))
    sa.Index("ix_home_wheelchair", home.c.wheelchair_access)
    home.append_constraint(sa.CheckConstraint("licensed_beds <= 40", name="ck_home_at_most_40_beds"))
    return metadata


def test_migrations_create_every_model_table(template_database):
    engine = make_engine(template_database)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrated_columns_types_indexes_and_keys_match_the_models(template_database):
    assert schema_differences(template_database, SQLModel.metadata) == []


def test_migrated_check_constraints_match_the_models(template_database, tmp_path):
    from_models = database_from(SQLModel.metadata, tmp_path, "models")
    migrated = check_constraints(template_database)
    assert sum(len(checks) for checks in migrated.values()) >= 50  # the models name over fifty
    assert migrated == check_constraints(from_models)


def test_a_model_change_without_a_migration_is_caught(template_database, tmp_path):
    """The comparisons above can fail: a model change no migration made is reported."""
    drifted = drifted_metadata()
    reported = {(difference[0], difference[-1].name) for difference in schema_differences(template_database, drifted)
                if isinstance(difference, tuple)}
    assert {("add_column", "wheelchair_access"), ("add_index", "ix_home_wheelchair")} <= reported
    migrated = check_constraints(template_database)
    drifted_checks = check_constraints(database_from(drifted, tmp_path, "drifted"))
    assert set(drifted_checks["home"]) - set(migrated["home"]) == {"ck_home_at_most_40_beds"}

def test_downgrade_and_upgrade_round_trip(tmp_path, template_database):
    url = postgres_database_beside("_round_trip") if is_postgres() else f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    assert "home" in sa.inspect(engine).get_table_names()
    engine.dispose()
