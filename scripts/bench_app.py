"""What the page benchmarks share: a throw-away SafeBed on the demo world, and a signed-in
test client (server-side time only: no network, no browser).

The database is a fresh SQLite file, or DATABASE_URL if set to a PostgreSQL database you
can overwrite.
"""
from __future__ import annotations

import os
import tempfile

from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session

from placement import create_app, migrate
from placement.demo import DEMO_PASSWORD, seed


def demo_app() -> tuple[Flask, Engine]:
    """The app on a migrated database holding the demo world; sign-in is not rate limited."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SAFEBED_MODE": "demo", "SECRET_KEY": "bench", "LOGIN_RATE_LIMIT": "1000 per minute"})
    engine = app.extensions["safebed_engine"]
    with Session(engine) as session:
        seed(session)
    return app, engine


def signed_in(app: Flask, email: str):
    """A test client signed in as the demo account `email`."""
    client = app.test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    return client
