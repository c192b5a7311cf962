"""Absolute links (invitations, e-mails, webhooks) start with the configured SAFEBED_BASE_URL,
never with the request's Host header: a forged Host must not end up in a link an admin sends."""
from __future__ import annotations

from flask import current_app, url_for


def absolute_url(endpoint: str, **values) -> str:
    """`url_for(endpoint, **values)` as an absolute link under BASE_URL."""
    return absolute_link(url_for(endpoint, **values))


def absolute_link(path: str) -> str:
    """A site path ("/caseworker/referrals/3") as an absolute link under BASE_URL."""
    return current_app.config["BASE_URL"] + path
