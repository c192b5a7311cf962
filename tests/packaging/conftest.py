"""Helpers for tests that run SafeBed the way users do: console scripts as processes."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess  # nosec B404 - the tests start SafeBed's own commands
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str, str]:
    """GET `url`: (status, content type, body)."""
    with urllib.request.urlopen(url, timeout=10) as answer:  # nosec B310 - localhost only
        return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode("utf-8", "replace")


class Portal:
    """A running `safebed demo` process."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}"

    def wait_until_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"safebed demo exited with {self.process.returncode}:\n{self.output()}")
            try:
                if fetch(self.base_url + "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise AssertionError("safebed demo never answered /healthz")

    def stop(self) -> int:
        """Ctrl+C, as a user would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def output(self) -> str:
        if self.process.poll() is None:
            return ""
        return self.process.stdout.read() if self.process.stdout else ""


@contextmanager
def running_demo(safebed: Path, instance: Path, port: int, cwd: Path):
    """Start `safebed demo --port PORT` with its files under `instance`; stop it after."""
    env = {**os.environ, "SAFEBED_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1"}
    for name in ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "JOB_QUEUE_URL"):
        env.pop(name, None)
    process = subprocess.Popen(  # nosec B603 - fixed arguments
        [str(safebed), "demo", "--port", str(port)], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    portal = Portal(process, port)
    try:
        yield portal
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def stylesheet_url(login_page: str) -> str:
    match = re.search(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', login_page) or \
        re.search(r'<link[^>]+href="([^"]+\.css[^"]*)"', login_page)
    assert match, "the login page links no stylesheet"
    return match.group(1)


@pytest.fixture()
def port() -> int:
    return free_port()
