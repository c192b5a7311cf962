"""What every template may use: the navigation bar, the unread badge, and the
`localtime` and `ago` filters that show UTC times in the user's own zone."""
from __future__ import annotations

from flask import Flask, current_app, g
from flask_login import current_user

from .. import template_filters, timeutil
from ..database import get_session
from ..services import booking, notifications

# The navigation bar per role; links appear once their feature's blueprint is registered.
NAV_LINKS = {
    "operator": [("provider.homes", "My homes"), ("provider.requests", "Requests"), ("provider.queue", "Waiting youths"),
                 ("provider.placements", "Placed"), ("provider.response_times", "Response times")],
    "caseworker": [("caseworker.referrals_list", "Referrals"), ("caseworker.new_referral", "New referral"), ("caseworker.missing_list", "Missing")],
    "coordinator": [("coordinator.dashboard", "Capacity"), ("coordinator.needs_bed", "Needs a bed now"), ("coordinator.runs", "Matcher"),
                    ("coordinator.unmet_need", "Unmet need"), ("coordinator.outcomes", "Outcomes"),
                    ("coordinator.response_times", "Response times"), ("coordinator.protected_referrals", "Protected youths"),
                    ("coordinator.tribes", "Tribes")],
    # Admins open the coordinator pages for any state, so the pages are in their navigation too.
    "admin": [("admin.users", "Accounts"), ("admin.organisations", "Organisations"), ("admin.outbox", "Outbox"),
              ("admin.audit_log", "Audit log"), ("coordinator.dashboard", "Capacity"), ("coordinator.needs_bed", "Needs a bed now"),
              ("coordinator.runs", "Matcher"), ("coordinator.unmet_need", "Unmet need"), ("coordinator.outcomes", "Outcomes"),
              ("coordinator.response_times", "Response times"), ("coordinator.tribes", "Tribes")],
}


def register_template_helpers(app: Flask) -> None:
    """Add the template globals and the time filters to `app`'s Jinja environment."""
    app.context_processor(template_globals)
    app.before_request(_forget_user_timezone)
    app.jinja_env.filters["localtime"] = lambda value: timeutil.format_local(value, _user_timezone(app))
    app.jinja_env.filters["ago"] = timeutil.humanize_age
    template_filters.register(app.jinja_env)


def _forget_user_timezone() -> None:
    """An app context (a test's, a job's) can span several requests and users: each request
    looks the zone up afresh."""
    g.pop("user_timezone", None)


def _user_timezone(app: Flask) -> str:
    """The zone times show in, looked up once per request (a page formats hundreds of times)."""
    if "user_timezone" not in g:
        g.user_timezone = current_user.timezone if current_user and current_user.is_authenticated else app.config["DEFAULT_TIMEZONE"]
    return g.user_timezone


def template_globals() -> dict:
    """The unread-notification count, the role's navigation links, an operator's waiting
    requests (counted beside "Requests") and the current time."""
    unread = waiting = 0
    if current_user.is_authenticated and not g.get("database_unreachable"):
        unread = notifications.unread_count(get_session(), current_user)
        if current_user.role == "operator":
            waiting = booking.pending_request_count(get_session(), current_user)
    links = []
    if current_user.is_authenticated:
        links = [(e, label) for e, label in NAV_LINKS.get(current_user.role, []) if e in current_app.view_functions]
    return {"unread_notifications": unread, "waiting_requests": waiting, "nav_links": links, "now": timeutil.utcnow()}
