"""Error pages and the one JSON error shape: CSRF failures, HTTP errors, unexpected errors."""
from __future__ import annotations

import traceback

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, SecurityError

from ..database import get_session
from ..extensions import login_manager
from .faults import UNREACHABLE_MESSAGE, RetryRead, discard_request_state, install_read_retry, is_connection_failure, should_retry

ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Sign-in needed", "Please sign in."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "The submitted data is too large (forms take at most 1 MB, an attached document 10 MB). Nothing was saved."),
    429: ("Too many attempts", "Too many attempts. Please wait a minute and try again."),
}


def register_errors(app: Flask) -> None:
    """Attach the error handlers to `app`."""
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    install_read_retry(app)


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    """The one error shape of every JSON answer: {"error": {"code", "message", "fields"}}."""
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def csrf_error(error: CSRFError):
    """A form without a valid CSRF token: nothing was saved."""
    if _wants_json():
        return json_error(400, "csrf", error.description)
    message = "This form expired or did not come from SafeBed. Nothing was saved; please try again."
    return render_template("error.html", code=400, title="Form expired", message=message), 400


def http_error(error: HTTPException):
    """Any 4xx/5xx raised on purpose, as a page or as JSON under /api/."""
    code = error.code or 500
    title, message = ERROR_TEXT.get(code, (error.name, error.description or ""))
    # Keep the exception's own headers (Allow on a 405, Retry-After on a 429), not its HTML type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if isinstance(error, SecurityError):
        # A Host that is not SafeBed's (TRUSTED_HOSTS): no page can be built for it (no URL
        # adapter), and nothing of the forged name is echoed back.
        message = "This address is not SafeBed's. Open SafeBed at its usual address."
        if _wants_json():
            return json_error(400, "untrusted_host", message)
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    if _wants_json():
        body, status = json_error(code, error.name.lower().replace(" ", "_"), message)
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


def database_unreachable(error: Exception):
    """A lost database connection: the read is retried once (faults.install_read_retry),
    anything else answers 503, without touching the database again for the page."""
    if should_retry(error):
        raise RetryRead() from error
    first_line = next(iter(str(error).splitlines()), "")
    current_app.logger.error("database unreachable on %s %s: %s: %s", request.method, request.path,
                             type(error).__name__, first_line)
    discard_request_state()
    g.database_unreachable = True  # the page's template globals skip their queries
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    headers = {"Retry-After": "5"}
    if _wants_json():
        body, status = json_error(503, "database_unavailable", UNREACHABLE_MESSAGE)
        return body, status, headers
    return render_template("error.html", code=503, title="Try again in a moment", message=UNREACHABLE_MESSAGE), 503, headers


def unexpected_error(error: Exception):
    """A bug or an outage: logged without personal data, answered with a plain 500."""
    if is_connection_failure(error):
        return database_unreachable(error)
    if current_app.config.get("PROPAGATE_EXCEPTIONS") or current_app.debug:
        raise error
    _log_unexpected(error)
    # The failed transaction must not poison the error page's own queries (the unread badge).
    get_session().rollback()
    if _wants_json():
        return json_error(500, "server_error", "Something went wrong; nothing was saved.")
    message = "Something went wrong on our side; nothing was saved. Please try again."
    return render_template("error.html", code=500, title="Server error", message=message), 500
