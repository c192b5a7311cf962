"""scripts/audit_dependencies.py: what it audits, and how it turns pip-audit's report into an exit status."""
from __future__ import annotations

import json
import runpy
import subprocess
from pathlib import Path

import pytest

SCRIPT = runpy.run_path(str(Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"))


def test_audits_the_runtime_closure_at_installed_versions():
    from importlib import metadata

    pins = SCRIPT["runtime_closure"]()
    assert pins["flask"] == metadata.version("flask")
    assert {"werkzeug", "jinja2", "sqlalchemy", "argon2-cffi"} <= pins.keys()  # pulled in indirectly too
    assert "safebed" not in pins and "pytest" not in pins  # not the project itself, not the test extras


def _fake_pip_audit(monkeypatch, dependencies):
    def run(command, **kwargs):
        pinned = Path(command[command.index("--requirement") + 1]).read_text()
        assert "flask==" in pinned
        return subprocess.CompletedProcess(command, 0, json.dumps({"dependencies": dependencies, "fixes": []}), "")

    monkeypatch.setattr(subprocess, "run", run)


@pytest.mark.parametrize("dependencies,required,status", [
    ([{"name": "flask", "version": "3.1.2", "vulns": []}], None, 0),
    ([{"name": "flask", "version": "3.1.2", "vulns": [{"id": "GHSA-test", "fix_versions": ["3.1.3"], "aliases": []}]}], None, 1),
    ([{"name": "flask", "skip_reason": "Dependency not found on PyPI"}], None, 0),
    ([{"name": "flask", "skip_reason": "Dependency not found on PyPI"}], "1", 2),
])
def test_exit_status_follows_the_report(monkeypatch, capsys, dependencies, required, status):
    _fake_pip_audit(monkeypatch, dependencies)
    if required:
        monkeypatch.setenv("SAFEBED_REQUIRE_PIP_AUDIT", required)
    else:
        monkeypatch.delenv("SAFEBED_REQUIRE_PIP_AUDIT", raising=False)
    assert SCRIPT["main"]() == status
    out = capsys.readouterr().out
    assert ("VULNERABLE flask 3.1.2: GHSA-test" in out) == (status == 1)
    assert ("NOT AUDITED" in out) == ("skip_reason" in dependencies[0])
