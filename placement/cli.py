"""The `safebed` command: Flask's CLI plus SafeBed's own commands."""
from __future__ import annotations

import os
import secrets

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlmodel import select

from . import create_app, migrate
from .config import instance_dir
from .database import new_session


def _create_app_for_cli() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app_for_cli)
def main() -> None:
    """SafeBed: safe-home beds, referrals and placements."""


def register_commands(app: Flask) -> None:
    """Commands that need the app context are attached to `app.cli`."""
    app.cli.add_command(db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_org)
    app.cli.add_command(create_user)
    app.cli.add_command(expire_holds)
    app.cli.add_command(flag_overdue)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(set_webhook)


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
    _seed_and_print(seed)


def _seed_and_print(seed: int) -> None:
    from .demo import DEMO_PASSWORD
    from .demo import seed as seed_world

    with new_session() as session:
        demo_accounts = seed_world(session, seed)
    click.echo("Demo accounts (all synthetic), password: " + DEMO_PASSWORD)
    for account in demo_accounts:
        click.echo(f"  {account.role:<11} {account.email:<58} {account.organisation}")


def _demo_secret_key() -> str:
    """A key kept under instance/ so demo sessions survive a restart."""
    path = instance_dir() / "demo_secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


@main.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the database and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create the SQLite demo database, load the demo world and serve the portal."""
    from .serve import PortInUse, bind_server

    # Bind first: a taken port should fail in a second, before minutes of seeding.
    server = None
    if not no_serve:
        try:
            server = bind_server(host, port)
        except PortInUse as error:
            raise click.ClickException(str(error)) from error
    app = create_app({
        "SAFEBED_MODE": "demo", "SECRET_KEY": os.environ.get("SECRET_KEY") or _demo_secret_key(),
        # A short tick so a request's e-mail shows in the console (and the Outbox) within seconds.
        "TICK_SECONDS": float(os.environ.get("SAFEBED_TICK_SECONDS", "15")),
        # Links in the demo's e-mails open this very server, whatever port it was given.
        "BASE_URL": os.environ.get("SAFEBED_BASE_URL") or (f"http://{server.display_host}:{server.port}" if server else ""),
    })
    click.echo(f"Database: {app.config['DATABASE_URL']}")
    with app.app_context():
        click.echo("Preparing the database (migrations)...")
        migrate.upgrade(app.config["SQLALCHEMY_URL"])
        click.echo("Loading the synthetic demo world (the first start takes a few seconds)...")
        _seed_and_print(2026)
    if server is None:
        return
    from . import scheduler

    if scheduler.wanted_in_web_process(app):
        scheduler.start(app)
        click.echo(f"Alerts: e-mails are printed here and kept in the admin's Outbox (every {app.config['TICK_SECONDS']:g} s).")
    server.serve(app)
    click.echo(f"SafeBed is ready at http://{server.display_host}:{server.port}/  (Ctrl+C stops it)")
    server.wait()
    click.echo("SafeBed stopped.")


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
@click.option("--burst", is_flag=True, help="Exit when the queue is empty (no periodic jobs).")
def worker(burst: bool) -> None:
    """Run background jobs (matcher runs) from Redis, and the periodic jobs; needs JOB_QUEUE_URL=redis://..."""
    from rq import SimpleWorker

    from . import scheduler
    from .jobs import RQ_QUEUE, rq_queue

    url = current_app.config["JOB_QUEUE_URL"]
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise click.ClickException("JOB_QUEUE_URL is not a redis:// URL; without Redis, jobs run inside the web process.")
    queue = rq_queue(url)
    # SimpleWorker runs jobs in this process, inside the app context pushed above; a
    # forking worker would hand each job copies of the parent's pooled DB connections.
    click.echo(f"Working on queue {RQ_QUEUE!r} at {url.split('@')[-1]}")
    if not burst and current_app.config["SCHEDULER"] != "off":
        scheduler.start(current_app._get_current_object())
    SimpleWorker([queue], connection=queue.connection).work(burst=burst)


@click.command("scheduler")
@with_appcontext
@click.option("--once", is_flag=True, help="Run the jobs due in this tick, then exit.")
def scheduler_command(once: bool) -> None:
    """Run the periodic jobs (holds, reports, escalations, reminders, outbox delivery) in the foreground."""
    from . import scheduler

    app = current_app._get_current_object()
    if once:
        for name, outcome in scheduler.run_due(app):
            click.echo(f"{name}: {outcome}")
        return
    click.echo(f"Running periodic jobs every {app.config['TICK_SECONDS']:g} s (Ctrl+C to stop)")
    thread = scheduler.SchedulerThread(app)
    thread.run()


@click.command("set-webhook")
@with_appcontext
@click.option("--organisation", "organisation_name", required=True, help="Organisation name")
@click.option("--url", required=True, help="https:// address of the organisation's receiver")
def set_webhook(organisation_name: str, url: str) -> None:
    """Send this organisation's alerts (for users who choose it) as signed webhooks; prints the signing secret once."""
    from .models import Organisation
    from .services import webhooks
    from .services.errors import ServiceError

    with new_session() as session:
        org = session.exec(select(Organisation).where(Organisation.name == organisation_name)).first()
        if org is None:
            raise click.ClickException(f"No organisation named {organisation_name!r}.")
        try:
            _, secret = webhooks.set_endpoint(session, org, url)
        except ServiceError as error:
            raise click.ClickException(error.message) from error
    click.echo(f"Webhook for {org.name}: {url}")
    click.echo(f"Signing secret (shown once; give it to the receiver): {secret}")
