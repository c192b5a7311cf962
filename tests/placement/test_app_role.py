"""Least privilege (issue 17, migration 0007): on PostgreSQL the application role may add to
the append-only tables but not rewrite or empty them; the app runs fully under it."""
from __future__ import annotations

import importlib.util

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from placement import create_app, migrate
from placement.database import make_engine

from ..databases import TEST_DATABASE_URL, is_postgres
from ..helpers import REFERRAL_FORM, login, post

APPEND_ONLY = ("audit_event", "availability_update", "home_on_call")


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0007", migrate.MIGRATIONS_DIR / "versions" / "0007_application_role.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(url: str, step) -> None:
    engine = make_engine(url)
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        step()
    engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_the_role_migration_can_run_again_and_changes_no_table(template_database):
    """Idempotent on both databases (on SQLite it does nothing at all)."""
    migration = _migration()
    before = _tables(template_database)
    _run(template_database, migration.upgrade)
    _run(template_database, migration.upgrade)
    assert _tables(template_database) == before
    if is_postgres():
        engine = make_engine(template_database)
        with engine.connect() as connection:
            role = migration.application_role(connection)
            assert connection.execute(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar_one() == 1
        engine.dispose()


if is_postgres():  # roles and privileges are PostgreSQL's; SQLite has neither

    def _role(url: str) -> str:
        engine = make_engine(url)
        with engine.connect() as connection:
            role = _migration().application_role(connection)
        engine.dispose()
        return role

    @pytest.mark.parametrize("statement", [
        "TRUNCATE {table}", "DELETE FROM {table}", "UPDATE {table} SET id = id",
    ])
    @pytest.mark.parametrize("table", APPEND_ONLY)
    def test_the_application_role_cannot_rewrite_an_append_only_table(database_url, statement, table):
        role = _role(database_url)
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            connection.execute(sa.text(f'SET ROLE "{role}"'))
            assert connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0  # it may read
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                connection.execute(sa.text(statement.format(table=table)))
            connection.rollback()
        engine.dispose()

    def test_the_application_role_truncates_nothing_and_changes_no_schema(database_url):
        role = _role(database_url)
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            connection.execute(sa.text(f'SET ROLE "{role}"'))
            for statement in ("TRUNCATE referral", "DROP TABLE referral", "ALTER TABLE home ADD COLUMN x int",
                              "CREATE TABLE sneaky (id int)"):
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner"):
                    connection.execute(sa.text(statement))
                connection.rollback()
                connection.execute(sa.text(f'SET ROLE "{role}"'))
        engine.dispose()

    def test_the_app_runs_with_a_login_role_that_is_a_member_of_the_application_role(database_url, factory):
        """The README's recipe: a login role in the application role. Sign-in, a new referral (audit
        rows, availability reads) and the audit page all work; the append-only tables stay intact."""
        role = _role(database_url)
        login_role = f"{role[:55]}_login"
        admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"""
                DO $$ BEGIN
                    CREATE ROLE "{login_role}" LOGIN;
                EXCEPTION WHEN duplicate_object THEN NULL;
                END $$"""))
            connection.execute(sa.text(f'GRANT "{role}" TO "{login_role}"'))
        admin.dispose()
        caseworker = factory.user("caseworker")
        base, name = TEST_DATABASE_URL.rsplit("/", 1)
        as_app = base.replace("postgres@", f"{login_role}@") + "/" + name
        app = create_app({"TESTING": True, "SECRET_KEY": "role-test", "DATABASE_URL": as_app, "JOB_QUEUE_URL": "sync"})
        try:
            client = app.test_client()
            login(client, caseworker)
            response = post(client, "/caseworker/referrals/new", {**REFERRAL_FORM, "case_reference": "MO-ROLE-1"})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
            assert client.get("/caseworker/referrals").status_code == 200
            with app.extensions["safebed_engine"].connect() as connection:
                assert connection.execute(sa.text("SELECT current_user")).scalar_one() == login_role
                assert connection.execute(sa.text("SELECT count(*) FROM audit_event")).scalar_one() > 0
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                    connection.execute(sa.text("TRUNCATE audit_event"))
        finally:
            app.extensions["safebed_engine"].dispose()
