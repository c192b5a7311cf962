"""Trust, round 2 (issue 17): links from the configured base URL only, a forged Host refused,
production's start-up checks, and the shared login limit across gunicorn workers."""
from __future__ import annotations

import pathlib

import pytest

import placement
from placement import create_app
from placement.config import ConfigError

from ..helpers import login, post

PRODUCTION = {"SECRET_KEY": "p" * 64, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/7"}


@pytest.fixture()
def production_env(monkeypatch):
    for name in ("SAFEBED_MODE", "SAFEBED_BASE_URL", "SAFEBED_SINGLE_PROCESS", "RATELIMIT_STORAGE_URI",
                 "SAFEBED_TRUSTED_HOSTS", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)


# --- SAFEBED_BASE_URL and TRUSTED_HOSTS -----------------------------------------------------------

def test_production_refuses_to_start_without_a_base_url(production_env, database_url):
    with pytest.raises(ConfigError, match="SAFEBED_BASE_URL is not set"):
        create_app({**PRODUCTION, "DATABASE_URL": database_url})
    with pytest.raises(ConfigError, match="SAFEBED_BASE_URL must look like"):
        create_app({**PRODUCTION, "DATABASE_URL": database_url, "BASE_URL": "safebed.example.org"})


def test_production_answers_only_its_own_host(production_env, database_url, monkeypatch):
    monkeypatch.setenv("SAFEBED_TRUSTED_HOSTS", "10.0.0.5")
    app = create_app({**PRODUCTION, "DATABASE_URL": database_url, "BASE_URL": "https://safebed.example.org/"})
    try:
        assert app.config["BASE_URL"] == "https://safebed.example.org"
        assert app.config["TRUSTED_HOSTS"] == ["safebed.example.org", "10.0.0.5"]
        client = app.test_client()
        assert client.get("/healthz", base_url="https://safebed.example.org").status_code == 200
        assert client.get("/healthz", base_url="http://10.0.0.5:8000").status_code == 200  # the load balancer's probe
        forged = client.get("/login", base_url="https://safebed.example.org", headers={"Host": "evil.example"})
        assert forged.status_code == 400
        assert "evil.example" not in forged.get_data(as_text=True)
    finally:
        app.extensions["safebed_engine"].dispose()


def test_a_forged_host_cannot_put_itself_into_an_invitation_link(app, client, factory):
    app.config["BASE_URL"] = "https://safebed.example.org"
    admin = factory.user("admin")
    agency = factory.org("agency")
    login(client, admin)
    data = {"organisation_id": agency.id, "email": "host.probe@test.example", "display_name": "Host Probe", "role": "caseworker"}
    assert client.get("/admin/users/invite", headers={"Host": "evil.example"}).status_code == 400
    refused = client.post("/admin/users/invite", data=data, headers={"Host": "evil.example"})
    assert refused.status_code == 400
    # A trusted local name still builds the link from the base URL, not from the request.
    response = post(client, "/admin/users/invite", data, headers={"Host": "localhost:8123"})
    assert response.status_code == 200
    link = response.get_data(as_text=True).split('data-testid="invite-link">')[1].split("<")[0]
    assert link.startswith("https://safebed.example.org/invitation/")
    assert "localhost" not in link and "evil.example" not in link


def test_the_demo_answers_on_local_names_at_its_port_and_refuses_others(database_url):
    app = create_app({"SAFEBED_MODE": "demo", "DATABASE_URL": database_url, "BASE_URL": "http://127.0.0.1:5017"})
    try:
        client = app.test_client()
        for host in ("127.0.0.1:5017", "localhost:5017", "localhost"):
            assert client.get("/login", headers={"Host": host}).status_code == 200, host
        assert client.get("/login", headers={"Host": "evil.example:5017"}).status_code == 400
    finally:
        app.extensions["safebed_engine"].dispose()


def test_no_absolute_url_is_built_from_the_request():
    """Every absolute link goes through web.links (BASE_URL): none from the Host header."""
    source = pathlib.Path(placement.__file__).parent
    suspects = ("_external=True", "host_url", "url_root", "request.host")
    found = [f"{path.relative_to(source)}: {word}" for path in source.rglob("*.py") for word in suspects
             if word in path.read_text()]
    templates = pathlib.Path(placement.config.asset_dir("templates"))
    found += [f"{path.relative_to(templates)}: {word}" for path in templates.rglob("*.html") for word in suspects
              if word in path.read_text()]
    assert not found, found


# --- Rate-limit storage -----------------------------------------------------------------------------

def test_production_refuses_memory_rate_limits_unless_single_process(production_env, database_url):
    config = {**PRODUCTION, "DATABASE_URL": database_url, "BASE_URL": "https://safebed.example.org"}
    with pytest.raises(ConfigError, match="SAFEBED_SINGLE_PROCESS=1"):
        create_app({**config, "RATELIMIT_STORAGE_URI": "memory://"})
    app = create_app({**config, "RATELIMIT_STORAGE_URI": "memory://", "SINGLE_PROCESS": True})
    app.extensions["safebed_engine"].dispose()
    app = create_app(config)  # redis://: shared by every worker
    app.extensions["safebed_engine"].dispose()


def test_single_process_is_read_from_the_environment(production_env, database_url, monkeypatch):
    monkeypatch.setenv("SAFEBED_SINGLE_PROCESS", "1")
    app = create_app({**PRODUCTION, "DATABASE_URL": database_url, "BASE_URL": "https://safebed.example.org",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    assert app.config["SINGLE_PROCESS"] is True
    app.extensions["safebed_engine"].dispose()


REDIS_DB7 = "redis://127.0.0.1:6379/7"


def test_the_login_limit_holds_across_four_gunicorn_workers_with_the_shared_store(database_url):
    """10 wrong sign-ins a minute per address, counted in Redis: 4 workers do not make it 40.
    Every attempt comes on a new connection, so the workers share the attempts between them."""
    import re

    import redis
    import requests

    from .gunicorn_server import gunicorn

    redis.Redis.from_url(REDIS_DB7).flushdb()
    token_pattern = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
    statuses = []
    with gunicorn(database_url, workers=4, RATELIMIT_STORAGE_URI=REDIS_DB7, SAFEBED_LOGIN_RATE_LIMIT="10 per minute") as base:
        for attempt in range(16):
            browser = requests.Session()
            token = token_pattern.search(browser.get(f"{base}/login", headers={"Connection": "close"}).text).group(1)
            response = browser.post(f"{base}/login", headers={"Connection": "close"}, allow_redirects=False,
                                    data={"email": f"nobody{attempt}@test.example", "password": "wrong password", "csrf_token": token})
            statuses.append(response.status_code)
    redis.Redis.from_url(REDIS_DB7).flushdb()
    assert statuses == [401] * 10 + [429] * 6, statuses
