"""The wheel as built: installed away from the checkout, it carries and serves every asset."""
from __future__ import annotations

import subprocess  # nosec B404 - builds and installs SafeBed's own wheel
import sys
import venv
import zipfile
from pathlib import Path

from .conftest import REPO, fetch, running_demo, stylesheet_url


def _run(*args: str | Path, cwd: Path) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, capture_output=True, text=True)  # nosec B603


def test_wheel_ships_templates_and_static_and_serves_from_a_fresh_venv(tmp_path, port):
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", dist, REPO, cwd=tmp_path)
    wheel = next(dist.glob("safebed-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "static"):
        expected = {f"placement/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*") if p.is_file()}
        assert expected and expected <= names, f"missing from the wheel: {sorted(expected - names)[:5]}"
    assert any(n.startswith("placement/migrations/versions/") for n in names)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", REPO / "requirements" / "runtime.txt", cwd=tmp_path)
    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_demo(env_dir / "bin" / "safebed", elsewhere / "instance", port, cwd=elsewhere) as portal:
        portal.wait_until_healthy()
        status, _, page = fetch(portal.base_url + "/login")
        assert status == 200 and "password" in page.lower()
        css_status, css_kind, _ = fetch(portal.base_url + stylesheet_url(page))
        assert css_status == 200 and "text/css" in css_kind
        assert portal.stop() == 0
    assert (elsewhere / "instance" / "safebed.sqlite3").is_file()
