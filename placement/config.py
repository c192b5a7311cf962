"""Configuration read from environment variables.

`load_config()` is the one place the app reads the environment; tests and the
demo pass overrides to `create_app(config)` instead of patching os.environ.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def running_from_checkout() -> bool:
    """True when the package is imported from a source checkout (editable install)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "templates").is_dir()


def asset_dir(name: str) -> Path:
    """Where `templates` or `static` live: the checkout's top-level folder, or the copy
    that the wheel carries inside the package (setup.py puts it there)."""
    if running_from_checkout():
        return PROJECT_ROOT / name
    return PACKAGE_DIR / name


def instance_dir() -> Path:
    """The demo's SQLite file and key: `instance/` of the checkout, or of the current
    folder when SafeBed runs from an installed wheel (never inside site-packages)."""
    override = os.environ.get("SAFEBED_INSTANCE_PATH")
    if override:
        return Path(override).resolve()
    return (PROJECT_ROOT if running_from_checkout() else Path.cwd()) / "instance"


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unsafe or incomplete."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, then apply `overrides`.

    A missing SECRET_KEY is an error unless the app runs in demo or test mode,
    where a per-process random key is acceptable (sessions need not survive a
    restart there).
    """
    env = os.environ
    config: dict = {
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance_dir() / 'safebed.sqlite3'}",
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SAFEBED_MODE": env.get("SAFEBED_MODE", "production"),  # production | demo | test
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Set when production really runs as one process (one gunicorn worker): then the
        # per-process memory:// rate-limit counters are the whole truth.
        "SINGLE_PROCESS": _bool(env.get("SAFEBED_SINGLE_PROCESS")),
        "JOB_QUEUE_URL": env.get("JOB_QUEUE_URL", ""),  # empty: in-process worker thread
        "MATCHER_TIME_LIMIT": float(env.get("SAFEBED_MATCHER_SECONDS", "20")),  # per run, seconds
        "MATCHER_WORKERS": int(env.get("SAFEBED_MATCHER_WORKERS", "4")),  # CP-SAT threads per run
        "HOLD_HOURS": float(env.get("SAFEBED_HOLD_HOURS", "4")),
        # Requests that may wait at once for one referral; the first home to accept wins.
        "PARALLEL_REQUESTS": int(env.get("SAFEBED_PARALLEL_REQUESTS", "3")),
        # Minutes after the expected arrival before a youth in transit is flagged as not arrived.
        "ARRIVAL_GRACE_MINUTES": float(env.get("SAFEBED_ARRIVAL_GRACE_MINUTES", "60")),
        # How long a missing youth's bed is kept before it returns to availability.
        "BED_KEEP_HOURS": float(env.get("SAFEBED_BED_KEEP_HOURS", "72")),
        "STALE_AFTER_HOURS": float(env.get("SAFEBED_STALE_AFTER_HOURS", "24")),
        "IDLE_TIMEOUT": timedelta(minutes=int(env.get("SAFEBED_IDLE_MINUTES", "30"))),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),  # absolute session limit
        "LOGIN_LOCKOUT_ATTEMPTS": 6,
        "LOGIN_LOCKOUT": timedelta(minutes=30),
        "LOGIN_RATE_LIMIT": env.get("SAFEBED_LOGIN_RATE_LIMIT", "10 per minute"),
        "API_RATE_LIMIT": env.get("SAFEBED_API_RATE_LIMIT", "120 per minute"),  # per API token
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SAFEBED_SECURE_COOKIES"), default=True),
        "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
        "PROXY_HOPS": int(env.get("SAFEBED_PROXY_HOPS", "0")),
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,  # a long night shift form must not expire mid-edit
        "DEFAULT_TIMEZONE": env.get("SAFEBED_DEFAULT_TIMEZONE", "America/Chicago"),
        # Alerts. Links in e-mails and webhooks start with BASE_URL, never the request's Host.
        "BASE_URL": env.get("SAFEBED_BASE_URL", ""),
        "SMTP_URL": env.get("SMTP_URL", ""),  # empty: e-mails stay in the outbox (printed in the demo)
        "SMTP_FROM": env.get("SMTP_FROM", "SafeBed <alerts@safebed.invalid>"),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", "20")),
        "WEBHOOK_TIMEOUT": float(env.get("SAFEBED_WEBHOOK_TIMEOUT", "10")),
        "ESCALATE_MINUTES": float(env.get("SAFEBED_ESCALATE_MINUTES", "30")),
        "STALE_REMIND_HOURS": float(env.get("SAFEBED_STALE_REMIND_HOURS", "20")),
        "SCHEDULER": env.get("SAFEBED_SCHEDULER", "auto"),  # auto | on | off
        "TICK_SECONDS": float(env.get("SAFEBED_TICK_SECONDS", "60")),
        "OUTBOX_LEASE_SECONDS": float(env.get("SAFEBED_OUTBOX_LEASE_SECONDS", "300")),
        "OUTBOX_RETRY_SECONDS": float(env.get("SAFEBED_OUTBOX_RETRY_SECONDS", "60")),
        "OUTBOX_MAX_ATTEMPTS": int(env.get("SAFEBED_OUTBOX_MAX_ATTEMPTS", "8")),
        # Intake-packet document keys: "id:base64-32-bytes,id2:..."; the first seals new documents,
        # every one opens documents sealed under it (rotation). Empty: a generated demo/test key.
        "DOCUMENT_KEYS": env.get("SAFEBED_DOCUMENT_KEYS", ""),
    }
    if overrides:
        config.update(overrides)
    mode = config["SAFEBED_MODE"]
    if config.get("TESTING"):
        mode = config["SAFEBED_MODE"] = "test"
    if mode not in {"production", "demo", "test"}:
        raise ConfigError(f"SAFEBED_MODE must be production, demo or test, not {mode!r}")
    if not config.get("SECRET_KEY"):
        if mode == "production":
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or run `safebed demo` for the demo."
            )
        config["SECRET_KEY"] = os.urandom(32).hex()
    if mode == "production" and _bool(env.get("FLASK_DEBUG")):
        # Debug mode shows tracebacks and, under `flask run`, an interactive
        # debugger that executes code: never with real records.
        raise ConfigError("FLASK_DEBUG (or --debug) is on in production mode. Unset it, or use SAFEBED_MODE=demo.")
    if config["SCHEDULER"] not in {"auto", "on", "off"}:
        raise ConfigError(f"SAFEBED_SCHEDULER must be auto, on or off, not {config['SCHEDULER']!r}")
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    if mode == "production" and not config["BASE_URL"]:
        raise ConfigError(
            "SAFEBED_BASE_URL is not set. Set it to the address people use to open SafeBed, "
            "e.g. SAFEBED_BASE_URL=https://safebed.example.org: invitation links and alert links are built "
            "from it (never from the request's Host header), and requests for any other host are refused."
        )
    if mode != "production":
        config["BASE_URL"] = config["BASE_URL"] or "http://127.0.0.1:5000"
        # Demo and tests are served over plain http on localhost.
        config["SESSION_COOKIE_SECURE"] = _bool(env.get("SAFEBED_SECURE_COOKIES"), default=False) and mode != "test"
    if mode == "production" and config["RATELIMIT_STORAGE_URI"].startswith("memory://") and not config["SINGLE_PROCESS"]:
        raise ConfigError(
            "RATELIMIT_STORAGE_URI is memory://, which counts sign-in attempts per process: with several "
            "workers the login limit multiplies. Set RATELIMIT_STORAGE_URI=redis://host:6379/0 (shared by every "
            "worker), or SAFEBED_SINGLE_PROCESS=1 if SafeBed really runs as a single process."
        )
    config["TRUSTED_HOSTS"] = trusted_hosts(config, mode, env.get("SAFEBED_TRUSTED_HOSTS", ""))
    config["SQLALCHEMY_URL"] = normalise_database_url(config["DATABASE_URL"])
    return config


LOCAL_HOSTS = ("127.0.0.1", "localhost")  # werkzeug 3.1 cannot match an IPv6 literal


def base_url_host(base_url: str) -> str:
    """The host name of SAFEBED_BASE_URL (no scheme, port or path)."""
    parsed = urlsplit(base_url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ConfigError(f"SAFEBED_BASE_URL must look like https://safebed.example.org, not {base_url!r}")
    return parsed.hostname


def trusted_hosts(config: dict, mode: str, extra: str) -> list[str]:
    """Flask's TRUSTED_HOSTS: the base URL's host (a request naming another Host gets 400,
    so no link can be built from a forged one), plus SAFEBED_TRUSTED_HOSTS (comma-separated,
    e.g. the address a load balancer's health check uses). The demo and the tests also
    answer on this machine's own names, whatever the port."""
    hosts = [base_url_host(config["BASE_URL"])]
    hosts += [host.strip() for host in extra.split(",") if host.strip()]
    if mode != "production":
        hosts += LOCAL_HOSTS
    return list(dict.fromkeys(hosts))


def normalise_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
