"""Periodic jobs that run once per tick across every process, without anyone opening a page.

Time is cut into ticks of `TICK_SECONDS` (tick N starts at N x TICK_SECONDS after the
Unix epoch). Every process that runs the scheduler (the web processes on the embedded
default, `safebed worker` with Redis, or `safebed scheduler`) wakes at each tick and
tries to claim each job for it with one conditional UPDATE on the job's row:

    UPDATE scheduler_job SET last_tick = N, running_until = now + lease
    WHERE name = :job AND last_tick < N AND (running_until IS NULL OR running_until < now)

PostgreSQL row-locks the row, so a second process waits, re-reads `last_tick = N` and
updates nothing; SQLite runs one writer at a time with the same effect. The process
whose UPDATE touched the row runs the job; the others skip it. `running_until` keeps a
slow run from overlapping the next tick's; if its process dies, the lease lapses and a
later tick runs the job again (every job catches up on whatever became due).
"""
from __future__ import annotations

import os
import random
import socket
import threading
from datetime import timedelta
from typing import Callable

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .database import new_session
from .models import SchedulerJob, SchedulerRun
from .services import alert_jobs, outbox
from .timeutil import utcnow

# In order: tidy and raise alerts first, deliver last, so an alert raised in a tick leaves in it.
JOBS: dict[str, Callable[[Session], str]] = {
    "expire_holds": alert_jobs.expire_holds,
    "expire_offers": alert_jobs.expire_offers,
    "warn_expiring_holds": alert_jobs.warn_expiring_holds,
    "flag_reports": alert_jobs.flag_reports,
    "escalate_unanswered": alert_jobs.escalate_unanswered,
    "remind_stale_figures": alert_jobs.remind_stale_figures,
    "flag_missed_arrivals": alert_jobs.flag_missed_arrivals,
    "deliver_outbox": outbox.deliver_due,
}
RUN_LOG_DAYS = 7


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def current_tick(interval: float) -> int:
    return int(utcnow().timestamp() // interval)


def _ensure_jobs(session: Session) -> None:
    known = set(session.exec(select(SchedulerJob.name)).all())
    for name in JOBS:
        if name in known:
            continue
        session.add(SchedulerJob(name=name, last_tick=0))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another process created it first


def claim(session: Session, name: str, tick: int, lease_seconds: float) -> bool:
    """Take job `name` for `tick`; True for exactly one caller per tick."""
    now = utcnow()
    won = session.execute(
        sa.update(SchedulerJob)
        .where(SchedulerJob.name == name, SchedulerJob.last_tick < tick,
               sa.or_(SchedulerJob.running_until.is_(None), SchedulerJob.running_until < now))
        .values(last_tick=tick, running_until=now + timedelta(seconds=lease_seconds))
    ).rowcount == 1
    session.commit()
    return won


def _finish(session: Session, name: str, run: SchedulerRun, outcome: str) -> None:
    run.finished_at, run.outcome = utcnow(), outcome[:200]
    session.add(run)
    session.execute(sa.update(SchedulerJob).where(SchedulerJob.name == name).values(running_until=None))
    session.commit()


def run_due(app: Flask, tick: int | None = None) -> list[tuple[str, str]]:
    """Run, in this process, every job no other process has claimed for this tick."""
    interval = app.config["TICK_SECONDS"]
    tick = current_tick(interval) if tick is None else tick
    ran = []
    with app.app_context(), new_session() as session:
        _ensure_jobs(session)
        for name, job in JOBS.items():
            # Five ticks: far longer than a normal run (delivery stops at 80% of a tick), short
            # enough that a job whose process died resumes soon. Should a slow run outlast it, an
            # overlapping delivery is still safe: each message has its own claim.
            if not claim(session, name, tick, lease_seconds=interval * 5):
                continue
            run = SchedulerRun(job=name, tick=tick, process=process_name())
            session.add(run)
            session.commit()
            try:
                outcome = job(session)
            except Exception as error:  # noqa: BLE001 - one failing job must not stop the others
                session.rollback()
                app.logger.exception("scheduled job %s failed", name)
                outcome = f"failed: {type(error).__name__}"
            _finish(session, name, run, outcome)
            ran.append((name, outcome))
        if ran:
            session.execute(sa.delete(SchedulerRun).where(SchedulerRun.started_at < utcnow() - timedelta(days=RUN_LOG_DAYS)))
            session.commit()
    return ran


class SchedulerThread(threading.Thread):
    """Wakes at every tick boundary (plus a little jitter) and runs the due jobs."""

    def __init__(self, app: Flask):
        super().__init__(name="safebed-scheduler", daemon=True)
        self.app = app
        self.stopping = threading.Event()

    def run(self) -> None:
        interval = self.app.config["TICK_SECONDS"]
        while not self.stopping.is_set():
            try:
                run_due(self.app)
            except Exception:  # noqa: BLE001 - e.g. the database restarting: try again next tick
                self.app.logger.exception("scheduler tick failed")
            now = utcnow().timestamp()
            # Jitter spreads the processes' claims; it is not needed for correctness.
            pause = interval - now % interval + random.uniform(0, min(1.0, interval / 10))  # nosec B311
            self.stopping.wait(pause)

    def stop(self) -> None:
        self.stopping.set()


def start(app: Flask) -> SchedulerThread:
    """Run the scheduler in a daemon thread of this process (once per app)."""
    thread = app.extensions.get("safebed_scheduler")
    if thread is None:
        thread = app.extensions["safebed_scheduler"] = SchedulerThread(app)
        thread.start()
    return thread


def wanted_in_web_process(app: Flask) -> bool:
    """`auto`: the web process runs the scheduler when there is no Redis worker to do it."""
    setting = app.config["SCHEDULER"]
    if setting == "auto":
        return not app.config.get("JOB_QUEUE_URL") and app.config["SAFEBED_MODE"] != "test"
    return setting == "on"
