"""Alerts across real processes: a worker killed mid-delivery, and one run per tick in a fleet.

Runs `safebed scheduler`, `safebed worker` (RQ on Redis) and gunicorn as separate
processes against the test database, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import redis
import requests
from sqlmodel import select

from placement import scheduler
from placement.models import OutboxMessage, SchedulerRun
from placement.services import alert_texts, alerts, webhooks

from ..helpers import make_referral
from .alert_receivers import SmtpReceiver, WebhookReceiver, free_port, payloads, start_smtp, start_webhook

SAFEBED = [sys.executable, "-c", "from placement.cli import main; main()"]
REDIS_URL = os.environ.get("SAFEBED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _env(database_url: str, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "alert-process-test", "SAFEBED_MODE": "demo",
            "SAFEBED_TICK_SECONDS": "1", "SAFEBED_OUTBOX_LEASE_SECONDS": "2", "PYTHONUNBUFFERED": "1", **extra}


def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.stdout.read().decode(errors="replace")[-3000:]


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture()
def world(app, factory):
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, name="Willow House 1")
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    make_referral(factory, caseworker, case_reference="MO-LEAK-4242")
    return {"operator": operator, "home": home, "provider": provider}


def _queue_one(app, factory, world) -> OutboxMessage:
    with app.app_context():
        [message] = alerts.alert(factory.session, "request_new", [world["operator"]],
                                 alert_texts.request_new("Willow House 1", "urgent"), "/provider/requests/1")
        factory.session.commit()
    return message


def _status(factory, message: OutboxMessage) -> OutboxMessage:
    return factory.get(OutboxMessage, message.id)


def _kill_mid_delivery_then_restart(factory, message, env, receiver) -> None:
    """Start a worker, kill -9 it while the receiver holds its first delivery, start another."""
    first = _start([*SAFEBED, "scheduler"], env)
    try:
        assert receiver.received.wait(60), _stop(first)
        os.killpg(first.pid, signal.SIGKILL)  # mid-delivery: sent, but the answer never came back
        first.wait(timeout=10)
    finally:
        _stop(first)
    killed = _status(factory, message)
    assert (killed.status, killed.attempts) == ("sending", 1)
    second = _start([*SAFEBED, "scheduler"], env)
    try:
        _wait_for(lambda: _status(factory, message).status == "sent", 60, "the restarted worker to deliver")
    finally:
        output = _stop(second)
    delivered = _status(factory, message)
    assert (delivered.status, delivered.attempts) == ("sent", 2), output


def test_an_email_survives_a_worker_killed_mid_delivery(app, factory, world, database_url):
    receiver = SmtpReceiver(hang_first=True)
    controller, port = start_smtp(receiver)
    try:
        message = _queue_one(app, factory, world)
        env = _env(database_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
        _kill_mid_delivery_then_restart(factory, message, env, receiver)
    finally:
        receiver.release.set()
        controller.stop()
    # Never lost; the copy the receiver saw twice is recognisably the same message.
    assert [mail["Message-ID"] for mail in receiver.messages] == [f"<{message.message_id}>"] * 2
    assert all("MO-LEAK-4242" not in mail.as_string() for mail in receiver.messages)


def test_a_webhook_survives_a_worker_killed_mid_delivery(app, factory, world, database_url):
    receiver = WebhookReceiver(hang_first=True)
    server, url = start_webhook(receiver)
    try:
        webhooks.set_endpoint(factory.session, world["provider"], url)
        with app.app_context():
            alerts.save_preference(factory.session, world["operator"], "webhook", ["request_new"], None, None)
        message = _queue_one(app, factory, world)
        _kill_mid_delivery_then_restart(factory, message, _env(database_url), receiver)
    finally:
        receiver.release.set()
        server.shutdown()
    assert [headers["safebed-webhook-id"] for headers, _ in receiver.requests] == [message.message_id] * 2
    assert [payload["id"] for payload in payloads(receiver)] == [message.message_id] * 2


def test_two_web_processes_and_two_workers_run_each_job_once_per_tick(app, factory, world, database_url):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL} (set SAFEBED_TEST_REDIS_URL)")
    port = free_port()
    env = _env(database_url, JOB_QUEUE_URL=REDIS_URL, SAFEBED_SCHEDULER="on")
    fleet = [
        _start([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                "placement:create_app()"], env),
        _start([*SAFEBED, "worker"], env),
        _start([*SAFEBED, "worker"], env),
    ]
    outputs = []
    try:
        _wait_for(lambda: _healthy(port), 60, "gunicorn")
        _wait_for(lambda: len(_ticks(factory)) >= 8, 90, "eight ticks")
    finally:
        outputs = [_stop(process) for process in fleet]
    runs = factory.session.exec(select(SchedulerRun.job, SchedulerRun.tick, SchedulerRun.process)).all()
    twice = [key for key, count in Counter((job, tick) for job, tick, _ in runs).items() if count > 1]
    assert twice == [], outputs
    ticks = _ticks(factory)
    processes = {process for _, _, process in runs}
    print(f"\n{len(runs)} job runs over {len(ticks)} ticks by {len(processes)} processes; none twice")
    per_job = Counter(job for job, _, _ in runs)
    assert all(per_job[job] >= 3 for job in scheduler.JOBS), per_job  # the fleet kept every job going


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _ticks(factory) -> set[int]:
    factory.session.expire_all()
    ticks = set(factory.session.exec(select(SchedulerRun.tick)).all())
    factory.session.commit()
    return ticks
