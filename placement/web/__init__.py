"""What every page shares: the home and health routes, security, errors, template helpers.

`register_web(app)` wires it all before the blueprints are registered;
`actions` is the one way a page runs a service call.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, redirect, url_for
from flask_login import current_user

from ..database import check_database, get_session
from .errors import register_errors
from .security import register_security
from .templates import register_template_helpers

HOME_ENDPOINT_BY_ROLE = {
    "operator": "provider.homes",
    "caseworker": "caseworker.referrals_list",
    "coordinator": "coordinator.dashboard",
    "admin": "admin.users",
}


def register_web(app: Flask) -> None:
    """Install the shared routes, hooks, error handlers and template helpers on `app`."""
    register_security(app)
    app.add_url_rule("/", "index", index)
    app.add_url_rule("/healthz", "healthz", healthz)
    register_template_helpers(app)
    register_errors(app)


def index():
    """Send a visitor to sign-in, and a signed-in user to their role's first page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    endpoint = HOME_ENDPOINT_BY_ROLE.get(current_user.role)
    if endpoint not in current_app.view_functions:
        # A role whose pages are not built yet lands on its notifications, not on a 500.
        endpoint = "auth.notifications_page"
    return redirect(url_for(endpoint))


def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        check_database(get_session())
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
