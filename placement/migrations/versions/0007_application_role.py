"""least privilege on PostgreSQL: an application role that cannot rewrite the append-only tables.

The role (NOLOGIN; the login role the app connects with is made a member of it, see the
README's production recipe) may read and write every table, but on the append-only
tables (the audit log, the availability log, the on-call log) it may only SELECT and
INSERT: no UPDATE, DELETE or TRUNCATE, whatever the triggers do. It truncates nothing
anywhere and changes no schema. Tables made by later migrations get the same read/write
rights by default privileges; a later append-only table must REVOKE UPDATE, DELETE itself.

Roles belong to the whole server, not one database, so the role is named after the
database (`<database>_app`, e.g. `safebed_app` for the database `safebed`; or
SAFEBED_APP_ROLE), and creating it is idempotent: a second database on the same server
gets its own role, and running this again changes nothing. When the role running the
migration may not create roles, the migration says so in the log and carries on: an
administrator then runs the statements printed there (docs/operations in the README).

On SQLite this migration does nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 03:50:00
"""
import logging
import os
import re

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("audit_event", "availability_update", "home_on_call")
log = logging.getLogger("alembic.runtime.migration")


def application_role(connection) -> str:
    """`SAFEBED_APP_ROLE`, or the database's name followed by `_app` (63 characters at most)."""
    name = os.environ.get("SAFEBED_APP_ROLE") or connection.execute(sa.text("SELECT current_database()")).scalar_one() + "_app"
    name = name.lower()[:63]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise RuntimeError(f"SAFEBED_APP_ROLE must be letters, digits and underscores, not {name!r}")
    return name


def _grant_statements(role: str, tables: list[str]) -> list[str]:
    append_only = [t for t in tables if t in APPEND_ONLY_TABLES]
    read_write = [t for t in tables if t not in APPEND_ONLY_TABLES and t != "alembic_version"]
    quoted = lambda names: ", ".join(f'"{name}"' for name in names)  # noqa: E731
    statements = [
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON {quoted(read_write)} TO "{role}"',
        f'GRANT SELECT, INSERT ON {quoted(append_only)} TO "{role}"',
        f'GRANT SELECT ON "alembic_version" TO "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO "{role}"',
    ]
    return statements


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    role = application_role(connection)
    may_create = connection.execute(sa.text(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar_one()
    exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    tables = connection.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
    grants = _grant_statements(role, sorted(tables))
    if not exists and not may_create:
        log.warning("The role running the migrations may not create roles, so the application role %s was not made. "
                    "An administrator can make it with:\n  CREATE ROLE \"%s\" NOLOGIN;\n  %s;",
                    role, role, ";\n  ".join(grants))
        return
    if not exists:
        # Another database's migration may create the same name at the same moment: tolerate it.
        op.execute(f"""
            DO $$ BEGIN
                CREATE ROLE "{role}" NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$""")
    for statement in grants:
        op.execute(statement)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    role = application_role(connection)
    if not connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first():
        return
    # Only this database's grants go; the role itself stays when another database still uses it.
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM "{role}"')
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM "{role}"')
    op.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
    op.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}"')
    op.execute(f'REVOKE ALL ON SCHEMA public FROM "{role}"')
