"""Wiring shared by every page: blueprints, sign-in state, headers, errors, filters."""
from __future__ import annotations

import traceback

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import audit, template_filters, timeutil
from .database import check_database, get_session
from .extensions import login_manager
from .forms import MAX_ID
from .models import User
from .services import notifications

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

HOME_ENDPOINT_BY_ROLE = {
    "operator": "provider.homes",
    "caseworker": "caseworker.referrals_list",
    "coordinator": "coordinator.dashboard",
    "admin": "admin.users",
}


# The navigation bar per role; links appear once their feature's blueprint is registered.
NAV_LINKS = {
    "operator": [("provider.homes", "My homes"), ("provider.requests", "Requests"), ("provider.placements", "Placed")],
    "caseworker": [("caseworker.referrals_list", "Referrals"), ("caseworker.new_referral", "New referral"), ("caseworker.missing_list", "Missing")],
    "coordinator": [("coordinator.dashboard", "Capacity"), ("coordinator.runs", "Matcher"), ("coordinator.unmet_need", "Unmet need"), ("coordinator.outcomes", "Outcomes")],
    "admin": [("admin.users", "Accounts"), ("admin.organisations", "Organisations"), ("admin.audit_log", "Audit log")],
}


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every URL: a number beyond the 32-bit INTEGER id columns is a
    plain 404, not a database error (SQLite overflows past 2**63 with a 500)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID, signed: bool = False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)


def register_web(app: Flask) -> None:
    # Before any blueprint: rules pick their converters when they are added.
    app.url_map.converters["int"] = DatabaseIdConverter
    from .admin.views import bp as admin_bp
    from .auth.views import bp as auth_bp
    from .caseworker.views import bp as caseworker_bp
    from .coordinator.views import bp as coordinator_bp
    from .provider.views import bp as provider_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(provider_bp)
    app.register_blueprint(caseworker_bp)
    app.register_blueprint(coordinator_bp)
    from .places import bp as places_bp

    app.register_blueprint(places_bp)
    from .api.views import bp as api_bp

    app.register_blueprint(api_bp)

    app.add_url_rule("/", "index", index)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.before_request(enforce_session_timeouts)
    app.after_request(security_headers)
    app.context_processor(template_globals)
    app.jinja_env.filters["localtime"] = lambda value: timeutil.format_local(value, _user_timezone(app))
    app.jinja_env.filters["ago"] = timeutil.humanize_age
    template_filters.register(app.jinja_env)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)


def _user_timezone(app: Flask) -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return app.config["DEFAULT_TIMEZONE"]


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


def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    from flask import current_app

    endpoint = HOME_ENDPOINT_BY_ROLE.get(current_user.role)
    if endpoint not in current_app.view_functions:
        # A role whose pages are not built yet lands on its notifications, not on a 500.
        endpoint = "auth.notifications_page"
    return redirect(url_for(endpoint))


def healthz():
    try:
        check_database(get_session())
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


def enforce_session_timeouts():
    """Idle and absolute session limits, checked on every request (API tokens have their own expiry)."""
    if request.path.startswith("/api/") or not current_user.is_authenticated:
        return None
    from flask import current_app

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
    from flask import current_app

    if current_app.config["SAFEBED_MODE"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user.is_authenticated or request.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    return response


def template_globals():
    unread = 0
    if current_user.is_authenticated:
        unread = notifications.unread_count(get_session(), current_user)
    links = []
    if current_user.is_authenticated:
        from flask import current_app

        links = [(e, label) for e, label in NAV_LINKS.get(current_user.role, []) if e in current_app.view_functions]
    return {"unread_notifications": unread, "nav_links": links, "now": timeutil.utcnow()}


def _json_error(status: int, code: str, message: str, fields: dict | None = None):
    """The one error shape of every JSON answer: {"error": {"code", "message", "fields"}}."""
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def csrf_error(error: CSRFError):
    if _wants_json():
        return _json_error(400, "csrf", error.description)
    message = "This form expired or did not come from SafeBed. Nothing was saved; please try again."
    return render_template("error.html", code=400, title="Form expired", message=message), 400


ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Sign-in needed", "Please sign in."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "The submitted data is too large (forms take at most 1 MB). Nothing was saved."),
    429: ("Too many attempts", "Too many attempts. Please wait a minute and try again."),
}


def http_error(error: HTTPException):
    code = error.code or 500
    title, message = ERROR_TEXT.get(code, (error.name, error.description or ""))
    # Keep the exception's own headers (Allow on a 405, Retry-After on a 429), not its HTML type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if _wants_json():
        body, status = _json_error(code, error.name.lower().replace(" ", "_"), message)
        return body, status, headers
    return render_template("error.html", code=code, title=title, message=message), code, headers


def _log_unexpected(error: Exception) -> None:
    """Log an unhandled error with its stack. A database error's message is cut to its
    first line: PostgreSQL's DETAIL line quotes the failing row, street address included."""
    if not isinstance(error, SQLAlchemyError):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return
    first_line = next(iter(str(error).splitlines()), "")
    stack = "".join(traceback.format_tb(error.__traceback__))
    current_app.logger.error(
        "unhandled error on %s %s: %s: %s\nTraceback (most recent call last):\n%s",
        request.method, request.path, type(error).__name__, first_line, stack,
    )


def unexpected_error(error: Exception):
    from flask import current_app

    if current_app.config.get("PROPAGATE_EXCEPTIONS") or current_app.debug:
        raise error
    _log_unexpected(error)
    # The failed transaction must not poison the error page's own queries (the unread badge).
    get_session().rollback()
    if _wants_json():
        return _json_error(500, "server_error", "Something went wrong; nothing was saved.")
    message = "Something went wrong on our side; nothing was saved. Please try again."
    return render_template("error.html", code=500, title="Server error", message=message), 500

