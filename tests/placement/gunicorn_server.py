"""A real gunicorn serving the test database on 127.0.0.1 (helpers for the tests that need
several worker processes; not a test module)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, workers: int = 4, threads: int = 1, **environment: str):
    """Yield the base URL of gunicorn running `placement:create_app()` in production mode
    (over plain http on 127.0.0.1, so cookies are not marked Secure); stop it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "gunicorn-test-secret", "SAFEBED_MODE": "production",
        "SAFEBED_BASE_URL": base, "SAFEBED_SECURE_COOKIES": "0", "SAFEBED_SCHEDULER": "off", "JOB_QUEUE_URL": "",
        **environment,
    }
    env.pop("FLASK_DEBUG", None)
    # The log goes to a file: a pipe nobody reads fills up and blocks the workers.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         # Tests sign devices in, then race them: gunicorn's 2-second keep-alive would close
         # those idle connections first, and a POST on a closed connection is reset, not retried.
         "--keep-alive", "120", "placement:create_app()"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                pytest.fail("gunicorn did not start: " + log.read().decode()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
