"""SafeBed web application: `create_app(config)` builds the Flask app."""
from __future__ import annotations

import sys

from flask import Flask

from .config import asset_dir, instance_dir, load_config


def create_app(config: dict | None = None) -> Flask:
    """Application factory. `config` overrides values read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
        instance_path=str(instance_dir()),
    )
    app.config.update(load_config(config))
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a proxy, the client's address (audit log, per-address login limit)
        # and https come from its headers; trusted for that many hops, never more.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .caseworker import bp as caseworker_bp
    from .coordinator import bp as coordinator_bp
    from .extensions import init_extensions
    from .places import bp as places_bp
    from .provider import bp as provider_bp
    from .web import register_web

    init_extensions(app)
    register_web(app)  # first: it installs the URL converters the blueprints' rules use
    for blueprint in (auth_bp, admin_bp, provider_bp, caseworker_bp, coordinator_bp, places_bp, api_bp):
        app.register_blueprint(blueprint)

    from .commands import register_commands

    register_commands(app)
    from . import scheduler

    # A gunicorn worker is a web process: it runs the periodic jobs itself unless a Redis
    # worker does (SAFEBED_SCHEDULER=auto), and serves requests from here on. `safebed demo`
    # does both for itself.
    if "gunicorn" in sys.modules:
        from .warm_start import warm_start

        if scheduler.wanted_in_web_process(app):
            scheduler.start(app)
        warm_start(app)
    return app

