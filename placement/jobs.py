"""Background jobs: one `submit()` over three queues, chosen by config `JOB_QUEUE_URL`.

  ""            (default) an in-process worker thread. Nothing else to run, so the
                embedded demo works; a job is lost if the process stops (its run then
                stays queued/running and says so on its page).
  "redis://..." RQ on Redis, for production: `safebed worker` runs the worker process,
                so jobs survive a web worker restart and never share its CPU.
  "sync"        run at once in the caller. Tests only: deterministic, no threads.

A job is a module-level function called with plain arguments (ids, not rows), inside
an app context, opening its own database session: it must not borrow the request's.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from flask import Flask, current_app

THREAD_WORKERS = 2  # matcher runs are CPU-bound; more threads would only slow each other
RQ_QUEUE = "safebed"
RQ_JOB_TIMEOUT = 15 * 60  # seconds; well above any matcher time limit
# What an RQ worker calls, named as text: importing it here would tie this module to the app factory.
RQ_ENTRY_POINT = "placement.cli.call_in_app"


def submit(func: Callable, *args) -> None:
    """Run `func(*args)` in the background on the configured queue."""
    app = current_app._get_current_object()
    url = app.config.get("JOB_QUEUE_URL", "")
    if url == "sync":
        func(*args)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        rq_queue(url).enqueue(RQ_ENTRY_POINT, _dotted(func), *args, job_timeout=RQ_JOB_TIMEOUT)
    elif url == "":
        _executor(app).submit(_call_with_context, app, func, *args)
    else:
        raise ValueError(f"JOB_QUEUE_URL must be empty, 'sync' or a redis:// URL, not {url!r}")


def _executor(app: Flask) -> ThreadPoolExecutor:
    executor = app.extensions.get("safebed_jobs")
    if executor is None:
        executor = app.extensions["safebed_jobs"] = ThreadPoolExecutor(
            max_workers=THREAD_WORKERS, thread_name_prefix="safebed-job")
    return executor


def _call_with_context(app: Flask, func: Callable, *args) -> None:
    with app.app_context():
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - a thread's exception would otherwise vanish
            app.logger.exception("background job %s failed", _dotted(func))


def wait_for_idle(app: Flask) -> None:
    """Finish the thread queue's jobs (tests and shutdown); a no-op for other queues."""
    executor = app.extensions.pop("safebed_jobs", None)
    if executor is not None:
        executor.shutdown(wait=True)


def _dotted(func: Callable) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def rq_queue(url: str):
    from redis import Redis
    from rq import Queue

    return Queue(RQ_QUEUE, connection=Redis.from_url(url))
