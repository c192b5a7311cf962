"""Delivering the outbox: at-least-once, idempotent per message id, with a dead-letter view.

A message is claimed by one conditional UPDATE (pending and due, or `sending` with
an expired lease) committed before anything is sent, so two workers never send it at
once. Delivered, it becomes `sent`. A worker killed between sending and recording
leaves it `sending`; when its lease runs out the next delivery run claims and sends it
again under the same message id (Message-ID / SafeBed-Webhook-Id), which is what lets
the receiver drop the copy. A failure is retried with doubling waits; a permanent one,
or the last attempt, makes it `dead` until an admin retries it.

Without `SMTP_URL`, e-mails are kept in the outbox (transport `outbox`) for the Outbox
page, and printed to the console in `safebed demo`.
"""
from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlmodel import Session, func, select

from .. import audit
from ..delivery import DeliveryError
from ..delivery.smtp import send_email
from ..delivery.webhook import post_webhook
from ..models import OUTBOX_STATUSES, OutboxMessage, SchedulerRun, User, WebhookEndpoint
from ..timeutil import utcnow
from .alert_texts import with_link
from .errors import Conflict, NotFound

MAX_BACKOFF = timedelta(hours=6)
# Fields a webhook carries: the alert's words and link, nothing about the child.
WEBHOOK_FIELDS = ("id", "event", "created_at", "urgent", "subject", "text", "link", "recipient")


def absolute_link(message: OutboxMessage) -> str:
    """The configured base URL and the message's path: never the Host of any request."""
    return current_app.config["BASE_URL"] + message.link


def delivered_text(message: OutboxMessage) -> str:
    return with_link(message.body, absolute_link(message))


def webhook_payload(message: OutboxMessage, recipient_email: str | None) -> dict:
    return {
        "id": message.message_id,
        "event": message.event,
        "created_at": message.created_at.isoformat(),
        "urgent": message.urgent,
        "subject": message.subject,
        "text": delivered_text(message),
        "link": absolute_link(message),
        "recipient": recipient_email,
    }


def _due_ids(session: Session, now, limit: int) -> list[int]:
    due = sa.or_(
        sa.and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        sa.and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
    )
    return list(session.exec(select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)).all())


def claim(session: Session, message_pk: int, lease_seconds: float) -> bool:
    """Take the message for one delivery attempt; False if another worker has it or it is not due."""
    now = utcnow()
    claimed = session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_pk,
            sa.or_(
                sa.and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                sa.and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
            ),
        )
        .values(status="sending", lease_until=now + timedelta(seconds=lease_seconds), attempts=OutboxMessage.attempts + 1)
    ).rowcount == 1
    session.commit()
    return claimed


def _send(session: Session, message: OutboxMessage) -> str:
    """Carry one message; return the transport used. Raises DeliveryError."""
    config = current_app.config
    if message.channel == "webhook":
        endpoint = session.get(WebhookEndpoint, message.endpoint_id)
        if endpoint is None or not endpoint.is_active:
            raise DeliveryError("the organisation's webhook was removed", permanent=True)
        recipient = session.get(User, message.recipient_user_id) if message.recipient_user_id else None
        post_webhook(endpoint.url, endpoint.secret, webhook_payload(message, recipient.email if recipient else None),
                     message.message_id, config["WEBHOOK_TIMEOUT"])
        return "webhook"
    if not config["SMTP_URL"]:
        if config["SAFEBED_MODE"] == "demo":
            print(f"[outbox] e-mail to {message.to_address}\n  Subject: {message.subject}\n  {delivered_text(message)}", flush=True)
        return "outbox"
    send_email(config["SMTP_URL"], config["SMTP_FROM"], message.to_address, message.subject, delivered_text(message),
               message.message_id, config["SMTP_TIMEOUT"])
    return "smtp"


def _record_failure(message: OutboxMessage, error: DeliveryError, now) -> None:
    config = current_app.config
    message.last_error = str(error)[:300]
    message.lease_until = None
    if error.permanent or message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        message.status = "dead"
        return
    wait = timedelta(seconds=config["OUTBOX_RETRY_SECONDS"] * 2 ** (message.attempts - 1))
    message.status, message.next_attempt_at = "pending", now + min(wait, MAX_BACKOFF)


def deliver_one(session: Session, message_pk: int) -> str | None:
    """Claim and deliver one message; returns its new status, or None if it was not claimable."""
    if not claim(session, message_pk, current_app.config["OUTBOX_LEASE_SECONDS"]):
        return None
    message = session.get(OutboxMessage, message_pk)
    session.refresh(message)
    try:
        message.transport = _send(session, message)
    except DeliveryError as error:
        _record_failure(message, error, utcnow())
    else:
        message.status, message.sent_at, message.lease_until, message.last_error = "sent", utcnow(), None, ""
    session.add(message)
    session.commit()
    return message.status


def deliver_due(session: Session, budget_seconds: float | None = None, batch: int = 100) -> str:
    """Deliver every due message, within `budget_seconds` (default: most of a scheduler tick)."""
    budget = budget_seconds if budget_seconds is not None else current_app.config["TICK_SECONDS"] * 0.8
    started = time.monotonic()
    outcome: dict[str, int] = {}
    while time.monotonic() - started < budget:
        ids = _due_ids(session, utcnow(), batch)
        session.commit()
        if not ids:
            break
        for message_pk in ids:
            status = deliver_one(session, message_pk)
            if status is not None:
                outcome[status] = outcome.get(status, 0) + 1
            if time.monotonic() - started >= budget:
                break
    return ", ".join(f"{count} {status}" for status, count in sorted(outcome.items())) or "nothing due"


# The admin's Outbox page -------------------------------------------------------------------

def listing(session: Session, status: str | None = None, limit: int = 200) -> list[OutboxMessage]:
    """Newest messages first, optionally of one status (the dead-letter view is status `dead`)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status in OUTBOX_STATUSES:
        query = query.where(OutboxMessage.status == status)
    return list(session.exec(query).all())


def counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)).all()
    found = dict(rows)
    return {status: int(found.get(status, 0)) for status in OUTBOX_STATUSES}


def recent_runs(session: Session, limit: int = 30) -> list[SchedulerRun]:
    """The scheduler's latest job runs (which process ran what, with what outcome)."""
    return list(session.exec(select(SchedulerRun).order_by(SchedulerRun.id.desc()).limit(limit)).all())


def retry(session: Session, admin: User, message_pk: int) -> OutboxMessage:
    """Put a dead message back in the queue, with a fresh set of attempts."""
    message = session.get(OutboxMessage, message_pk)
    if message is None:
        raise NotFound("No such message.")
    moved = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_pk, OutboxMessage.status == "dead")
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), last_error="")
    ).rowcount
    if not moved:
        session.rollback()
        raise Conflict("Only a message that failed for good can be retried; this one was not.")
    audit.record(session, "outbox_retried", "outbox_message", message_pk, actor=admin)
    session.commit()
    session.refresh(message)
    return message
