"""Application factory, configuration, health check and response headers."""
from __future__ import annotations

import gc
import sys
import types

import pytest

from placement import create_app
from placement.config import ConfigError


def test_healthz_runs_a_real_query(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/../../nope/\0bad"})
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_missing_secret_key_is_an_error_in_production(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SAFEBED_MODE", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_demo_mode_runs_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": "sqlite://", "SAFEBED_MODE": "demo"})
    assert len(app.config["SECRET_KEY"]) >= 32


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/safebed")
    app = create_app({"TESTING": True, "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_URL"] == "postgresql+psycopg://someone@db.example/safebed"


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unknown_page_is_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_oversized_body_is_refused(client):
    response = client.post("/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_index_redirects_anonymous_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def unfrozen():
    """The test process's objects back under the collector afterwards."""
    yield
    gc.unfreeze()


def test_a_gunicorn_worker_compiles_its_templates_and_freezes_its_start_up_objects(monkeypatch, unfrozen):
    """A full collection walks every object while holding the GIL, stalling each request
    thread of the process (88-124 ms with the app's 200,000 start-up objects): a gunicorn
    worker freezes them once its app is built, so collections walk only what requests make,
    and its first visitors do not wait for their pages' templates to compile."""
    gc.unfreeze()
    config = {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "SCHEDULER": "off"}
    app = create_app(config)
    assert gc.get_freeze_count() == 0 and not app.jinja_env.cache  # not in a test's or a command's process
    monkeypatch.setitem(sys.modules, "gunicorn", types.ModuleType("gunicorn"))
    app = create_app(config)
    assert gc.get_freeze_count() > 10_000
    assert all(gc.is_tracked(item) for item in (app, app.jinja_env))
    assert not any(item is app for item in gc.get_objects())  # frozen: out of the collector's generations
    pages = app.jinja_env.list_templates(filter_func=lambda name: name.endswith(".html"))
    assert "coordinator/dashboard.html" in pages and len(app.jinja_env.cache) >= len(pages)
