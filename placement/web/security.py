"""Security of every request: response headers, who the session's user is, session
time limits, URL ids that no database column can hold, and hostile text in query
strings and JSON bodies (form fields get the same rule from `forms.text`)."""
from __future__ import annotations

import json

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

from .. import audit, timeutil
from ..database import get_session
from ..extensions import login_manager
from ..forms.fields import MAX_ID
from ..forms.text import DEFAULT_MAX_LENGTH, too_long_message, unstorable_character, unstorable_message
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
    app.before_request(refuse_unstorable_input)
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


MAX_JSON_DEPTH = 32


class UnstorableInput(Exception):
    """A query string or JSON body holds text no SafeBed field may hold."""

    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where
        self.message = message


def _check_text(where: str, text: str, multiline: bool = True) -> None:
    character = unstorable_character(text, multiline)
    if character is not None:
        raise UnstorableInput(where, unstorable_message(character))


# Request headers whose values the app reads or stores (bearer token, idempotency key, the
# proxy's client address and scheme under PROXY_HOPS, the CSRF header): capped in length as
# well. (Referer is only compared by the CSRF check, and may be a long same-origin URL.)
READ_HEADERS = ("Authorization", "Idempotency-Key", "X-CSRFToken", "X-CSRF-Token", "X-Forwarded-For",
                "X-Forwarded-Proto")
HEADER_CONTROLS = frozenset(chr(code) for code in (*range(0x20), 0x7F)) - {"\t"}


def _check_headers() -> None:
    """No header value holds a C0 control (tab aside, as HTTP allows it) or DEL; the headers
    the app reads are also capped in length. WSGI gives header values as Latin-1, so
    characters from U+0080 up are UTF-8 bytes of ordinary text and are left alone."""
    for name, value in request.headers.items():
        character = next((c for c in value if c in HEADER_CONTROLS), None)
        if character is not None:
            raise UnstorableInput(name, unstorable_message(character))
    for name in READ_HEADERS:
        if len(request.headers.get(name, "")) > DEFAULT_MAX_LENGTH:
            raise UnstorableInput(name, too_long_message())


def _check_json(value, where: str = "body", depth: int = 0) -> None:
    """Every key and string of a parsed JSON body, at most MAX_JSON_DEPTH levels deep."""
    if depth > MAX_JSON_DEPTH:
        raise UnstorableInput("body", f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    if isinstance(value, str):
        _check_text(where, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(where, key)
            _check_json(item, key if depth == 0 else where, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, where, depth + 1)


def _parsed_json_body():
    """The JSON body, parsed once (Flask keeps it for the view); None when it is not JSON.
    A body too deep for Python's parser is refused here instead of becoming a 500."""
    if not request.is_json:
        return None
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except RecursionError as error:
        raise UnstorableInput("body", f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.") from error
    except ValueError:
        return None  # not JSON after all: the view answers that in its own words


def refuse_unstorable_input():
    """The shared rule (`forms.text`) applied before any view to what no form checks:
    request headers, query-string keys and values (single-line), and every key and string
    of a JSON body (the form then holds a single-line field to one line). Refused with
    422 (JSON under /api/) or a 400 page; nothing reaches a query."""
    try:
        _check_headers()
        for key, value in request.args.items(multi=True):
            _check_text(key, key, multiline=False)
            _check_text(key, value, multiline=False)
            if len(key) + len(value) > DEFAULT_MAX_LENGTH:
                raise UnstorableInput(key[:40], too_long_message())
        _check_json(_parsed_json_body())
    except UnstorableInput as refused:
        if request.path.startswith("/api/"):
            from .errors import json_error

            return json_error(422, "validation_failed", "Please correct the fields named in `fields`.",
                              {refused.where: refused.message})
        abort(400, description=refused.message)
    return None


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
