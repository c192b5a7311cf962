"""`safebed demo` as users start it: the console script, as a process, on a real port."""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from .conftest import REPO, fetch, running_demo, stylesheet_url

SAFEBED = Path(sys.executable).with_name("safebed")


def _row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # nosec B608 - fixed names
                for table in ("organisation", "app_user", "home", "referral", "placement")}


def test_demo_serves_login_and_stylesheet_then_restarts_without_duplicates(tmp_path, port):
    instance = tmp_path / "instance"
    with running_demo(SAFEBED, instance, port, cwd=REPO) as portal:
        portal.wait_until_healthy()
        status, kind, page = fetch(portal.base_url + "/login")
        assert status == 200 and "text/html" in kind and "password" in page.lower()
        css_status, css_kind, css = fetch(portal.base_url + stylesheet_url(page))
        assert css_status == 200 and "text/css" in css_kind and len(css) > 1000
        assert portal.stop() == 0
        first_output = portal.output()
    for step in ("Preparing the database", "Loading the synthetic demo world", "SafeBed is ready at http://127.0.0.1:"):
        assert step in first_output
    assert "admin@safebed.example" in first_output and "SafeBed stopped." in first_output
    database = instance / "safebed.sqlite3"
    before = _row_counts(database)
    assert before["home"] >= 40 and before["app_user"] >= 4

    with running_demo(SAFEBED, instance, port, cwd=REPO) as portal:
        portal.wait_until_healthy()
        assert fetch(portal.base_url + "/login")[0] == 200
        assert portal.stop() == 0
    assert _row_counts(database) == before


def test_demo_refuses_a_taken_port_at_once(tmp_path, port):
    with running_demo(SAFEBED, tmp_path / "first", port, cwd=REPO) as first:
        first.wait_until_healthy()
        with running_demo(SAFEBED, tmp_path / "second", port, cwd=REPO) as second:
            assert second.process.wait(timeout=30) != 0
            message = second.output()
        assert f"Port {port} on 127.0.0.1 is already in use" in message
        assert not (tmp_path / "second" / "safebed.sqlite3").exists()  # refused before any work
        assert fetch(first.base_url + "/healthz")[0] == 200
