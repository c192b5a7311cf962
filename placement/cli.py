"""The `safebed` program: Flask's CLI with SafeBed's commands, `safebed demo`, and the
entry point an RQ worker calls for each background job.

These are the process entry points, so this module stands above the app factory.
"""
from __future__ import annotations

import importlib
import os
import secrets

import click
from flask import Flask, has_app_context
from flask.cli import FlaskGroup

from . import create_app, migrate
from .commands import seed_and_print
from .config import instance_dir


def _create_app_for_cli() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app_for_cli)
def main() -> None:
    """SafeBed: safe-home beds, referrals and placements."""


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
        seed_and_print(2026)
    if server is None:
        return
    from . import scheduler

    if scheduler.wanted_in_web_process(app):
        scheduler.start(app)
        click.echo(f"Alerts: e-mails are printed here and kept in the admin's Outbox (every {app.config['TICK_SECONDS']:g} s).")
    from .warm_start import warm_start

    warm_start(app)
    server.serve(app)
    click.echo(f"SafeBed is ready at http://{server.display_host}:{server.port}/  (Ctrl+C stops it)")
    server.wait()
    click.echo("SafeBed stopped.")


def call_in_app(dotted: str, *args) -> None:
    """RQ's entry point (`jobs.RQ_ENTRY_POINT`): import the job by name and run it inside an app context.

    `safebed worker` already pushes one; a bare `rq worker` gets an app built from
    the environment, like the web processes.
    """
    module, name = dotted.split(":")
    func = getattr(importlib.import_module(module), name)
    if has_app_context():
        func(*args)
        return
    with create_app().app_context():
        func(*args)
