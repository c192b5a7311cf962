"""SafeBed's commands on every app's CLI: migrations, demo data, first accounts, housekeeping, the worker.

The `safebed` program itself, which also has `demo`, is `placement.cli`.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlmodel import select

from . import migrate
from .database import new_session


def register_commands(app: Flask) -> None:
    """Commands that need the app context are attached to `app.cli`."""
    app.cli.add_command(db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_org)
    app.cli.add_command(create_user)
    app.cli.add_command(expire_holds)
    app.cli.add_command(flag_overdue)
    app.cli.add_command(worker)


@click.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


@db.command("upgrade")
@with_appcontext
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    migrate.upgrade(current_app.config["SQLALCHEMY_URL"], revision)
    click.echo("Database is up to date.")


@db.command("downgrade")
@with_appcontext
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (for example: base)."""
    migrate.downgrade(current_app.config["SQLALCHEMY_URL"], revision)


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's migration revision."""
    migrate.current(current_app.config["SQLALCHEMY_URL"])


@db.command("revision")
@with_appcontext
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    migrate.revision(current_app.config["SQLALCHEMY_URL"], message)


@click.command("seed-demo")
@with_appcontext
@click.option("--seed", default=2026, show_default=True)
def seed_demo(seed: int) -> None:
    """Load the synthetic demo world (idempotent)."""
    seed_and_print(seed)


def seed_and_print(seed: int) -> None:
    """Load the demo world and print one sample account per role."""
    from .demo import DEMO_PASSWORD
    from .demo import seed as seed_world

    with new_session() as session:
        demo_accounts = seed_world(session, seed)
    click.echo("Demo accounts (all synthetic), password: " + DEMO_PASSWORD)
    for account in demo_accounts:
        click.echo(f"  {account.role:<11} {account.email:<58} {account.organisation}")


@click.command("create-org")
@with_appcontext
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["provider", "agency", "coordinator_office"]), required=True)
@click.option("--state", required=True, help="Two-letter state served, e.g. MO")
def create_org(name: str, kind: str, state: str) -> None:
    """Create an organisation."""
    from .services import accounts
    from .services.errors import ServiceError

    with new_session() as session:
        try:
            org = accounts.create_organisation(session, name, kind, state)
        except ServiceError as error:
            raise click.ClickException(error.message) from error
        session.commit()
        click.echo(f"Created organisation {org.id}: {org.name}")


@click.command("create-user")
@with_appcontext
@click.option("--organisation", "organisation_name", required=True, help="Organisation name")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="")
@click.option("--role", type=click.Choice(["operator", "caseworker", "coordinator", "admin"]), required=True)
@click.option("--audit-access", is_flag=True, help="Admins only: may read the audit log.")
@click.password_option()
def create_user(organisation_name: str, email: str, display_name: str, role: str, audit_access: bool, password: str) -> None:
    """Create a user with a password (prompted)."""
    from .models import Organisation
    from .services import accounts
    from .services.errors import ServiceError

    with new_session() as session:
        org = session.exec(select(Organisation).where(Organisation.name == organisation_name)).first()
        if org is None:
            raise click.ClickException(f"No organisation named {organisation_name!r}.")
        try:
            user = accounts.create_user(session, org, email, display_name, role, password)
        except ServiceError as error:
            raise click.ClickException(error.message) from error
        user.can_view_audit = audit_access and role == "admin"
        session.commit()
        click.echo(f"Created {role} {user.email} in {org.name}")


@click.command("expire-holds")
@with_appcontext
def expire_holds() -> None:
    """Mark expired holds as released and reopen their referrals (tidying only)."""
    from .services.booking import expire_holds as expire

    with new_session() as session:
        click.echo(f"{expire(session)} expired hold(s) tidied.")


@click.command("flag-overdue")
@with_appcontext
def flag_overdue() -> None:
    """Notify caseworkers of missing-youth reports past their 24-hour deadline (once per episode)."""
    from .services.lifecycle import flag_overdue as flag

    with new_session() as session:
        click.echo(f"{flag(session)} missing episode(s) with overdue reports flagged.")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker(burst: bool) -> None:
    """Run background jobs (matcher runs) from Redis; needs JOB_QUEUE_URL=redis://..."""
    from rq import SimpleWorker

    from .jobs import RQ_QUEUE, rq_queue

    url = current_app.config["JOB_QUEUE_URL"]
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise click.ClickException("JOB_QUEUE_URL is not a redis:// URL; without Redis, jobs run inside the web process.")
    queue = rq_queue(url)
    # SimpleWorker runs jobs in this process, inside the app context pushed above; a
    # forking worker would hand each job copies of the parent's pooled DB connections.
    click.echo(f"Working on queue {RQ_QUEUE!r} at {url.split('@')[-1]}")
    SimpleWorker([queue], connection=queue.connection).work(burst=burst)
