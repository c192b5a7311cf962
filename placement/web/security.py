"""Security of every request: response headers, who the session's user is, session
time limits, and URL ids that no database column can hold."""
from __future__ import annotations

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

from .. import audit, timeutil
from ..database import get_session
from ..extensions import login_manager
from ..forms.fields import MAX_ID
from ..models import User

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every URL: a number beyond the 32-bit INTEGER id columns is a
    plain 404, not a database error (SQLite overflows past 2**63 with a 500)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID, signed: bool = False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)


def register_security(app: Flask) -> None:
    """Install the id converter (before any blueprint: rules pick their converters
    when they are added), the session limits and the security headers."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(enforce_session_timeouts)
    app.after_request(security_headers)


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """Resolve the session's user, refusing stale session versions and disabled accounts.

    Never under /api/: the API takes bearer tokens only (placement.api.auth), so a
    browser's cookie cannot be ridden by a cross-site request to it.
    """
    if request.path.startswith("/api/"):
        return None
    try:
        user_id, version = (int(part) for part in user_key.split(":", 1))
    except ValueError:
        return None
    user = get_session().get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def enforce_session_timeouts():
    """Idle and absolute session limits, checked on every request (API tokens have their own expiry)."""
    if request.path.startswith("/api/") or not current_user.is_authenticated:
        return None
    now = timeutil.utcnow().timestamp()
    last_seen = session.get("last_seen", now)
    started = session.get("login_at", now)
    idle = current_app.config["IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if now - last_seen > idle or now - started > absolute:
        db = get_session()
        audit.record(db, "session_timeout", "user", current_user.id)
        db.commit()
        logout_user()
        session.clear()
        flash("You were signed out after a period of inactivity. Please sign in again.", "warning")
        return redirect(url_for("auth.login", next=request.path))
    session["last_seen"] = now
    return None


def security_headers(response):
    """Headers on every answer: CSP, no framing, no sniffing, no caching of signed-in pages."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Not "no-referrer": over HTTPS Flask-WTF refuses a POST without a same-origin
    # Referer, so every form would fail in production. "same-origin" still sends
    # nothing (no case ids in URLs) to any other site.
    headers.setdefault("Referrer-Policy", "same-origin")
    # Geolocation for SafeBed's own pages only: the place picker's "Use my location".
    headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
    if current_app.config["SAFEBED_MODE"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user.is_authenticated or request.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    return response
