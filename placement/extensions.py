"""Every Flask extension is created and initialised here."""
from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from . import database

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def init_extensions(app: Flask) -> None:
    database.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    if app.config.get("SAFEBED_MODE") == "production" and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        # Memory counters are per process: n gunicorn workers would allow n times the login limit.
        app.logger.warning("Login rate limits are counted per process; set RATELIMIT_STORAGE_URI=redis://... for several workers.")


def client_ip() -> str:
    return request.remote_addr or ""
