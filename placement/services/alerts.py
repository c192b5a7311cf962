"""Who hears about an event, and how.

`alert()` stores the portal notification and queues one outbox message per person
who wants this event outside the portal (e-mail, or their organisation's signed
webhook), plus the home's on-call contact for tonight when there is one. It adds
rows to the caller's session and never commits: the messages are saved in the same
transaction as the event, or not at all. A worker delivers them (services/outbox.py).

Quiet hours hold a message back until they end, except for urgent alerts (an
emergency request, an escalation, a missing youth, a report due or overdue).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, select

from .. import audit
from ..models import (
    ALERT_CHANNELS,
    ALERT_EVENTS,
    AlertMark,
    Home,
    HomeOnCall,
    NotificationPreference,
    Organisation,
    OutboxMessage,
    User,
    WebhookEndpoint,
)
from ..timeutil import utcnow, zone
from . import notifications
from .alert_texts import AlertText
from .errors import ServiceError

ON_CALL_HOURS = 24  # an on-call contact is "tonight's": it lapses a day after it was set


# Preferences ---------------------------------------------------------------------------

def preference_for(session: Session, user: User) -> NotificationPreference:
    """The user's saved preference, or the default (e-mail, every event, no quiet hours) unsaved."""
    saved = session.exec(select(NotificationPreference).where(NotificationPreference.user_id == user.id)).first()
    return saved or NotificationPreference(user_id=user.id, channel="email", events=list(ALERT_EVENTS))


def save_preference(session: Session, user: User, channel: str, events: list[str],
                    quiet_start: int | None, quiet_end: int | None) -> NotificationPreference:
    """Store the user's own choice of channel, events and quiet hours (minutes after midnight, local)."""
    errors = {}
    if channel not in ALERT_CHANNELS:
        errors["channel"] = "choose how to be alerted"
    if any(event not in ALERT_EVENTS for event in events):
        errors["events"] = "choose events from the list"
    if (quiet_start is None) != (quiet_end is None) or (quiet_start is not None and quiet_start == quiet_end):
        errors["quiet_end"] = "give both the start and the end of quiet hours, or neither"
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    preference = preference_for(session, user)
    preference.channel, preference.events = channel, sorted(set(events))
    preference.quiet_start, preference.quiet_end, preference.updated_at = quiet_start, quiet_end, utcnow()
    session.add(preference)
    audit.record(session, "alert_preferences_changed", "app_user", user.id, f"channel {channel}", actor=user)
    session.commit()
    return preference


def quiet_until(preference: NotificationPreference, tz_name: str, now: datetime) -> datetime | None:
    """The end of the user's quiet hours if `now` falls inside them, else None."""
    if preference.quiet_start is None:
        return None
    local_now = now.astimezone(zone(tz_name))
    minute = local_now.hour * 60 + local_now.minute
    start, end = preference.quiet_start, preference.quiet_end
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    ends = local_now.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
    if ends <= local_now:
        ends += timedelta(days=1)
    return ends.astimezone(now.tzinfo)


# On-call contacts and webhook endpoints ---------------------------------------------------

def on_call(session: Session, home: Home, now: datetime | None = None) -> HomeOnCall | None:
    """Tonight's intake on-call contact of the home: the latest one set within a day."""
    since = (now or utcnow()) - timedelta(hours=ON_CALL_HOURS)
    return session.exec(
        select(HomeOnCall).where(HomeOnCall.home_id == home.id, HomeOnCall.set_at > since)
        .order_by(HomeOnCall.set_at.desc(), HomeOnCall.id.desc())
    ).first()


def set_on_call(session: Session, user: User, home: Home, name: str, email: str) -> HomeOnCall:
    """Record tonight's on-call contact (added to the caller's transaction)."""
    contact = HomeOnCall(home_id=home.id, name=name.strip()[:120], email=email.strip()[:254], set_by_id=user.id)
    session.add(contact)
    audit.record(session, "on_call_set", "home", home.id, actor=user)
    return contact


def state_coordinators(session: Session, state: str) -> list[User]:
    """The active coordinators of a state's coordinator offices."""
    return list(session.exec(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .where(Organisation.kind == "coordinator_office", Organisation.state == state,
               User.role == "coordinator", User.is_active.is_(True))
        .order_by(User.id)
    ).all())


def endpoint_for(session: Session, organisation_id: int) -> WebhookEndpoint | None:
    return session.exec(
        select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id, WebhookEndpoint.is_active.is_(True))
    ).first()


# Raising an alert ---------------------------------------------------------------------------

def _queue(session: Session, event: str, channel: str, address: str, text: AlertText, link_path: str, urgent: bool,
           user_id: int | None = None, endpoint_id: int | None = None, not_before: datetime | None = None) -> OutboxMessage:
    message = OutboxMessage(
        message_id=f"{uuid.uuid4().hex}@safebed", event=event, channel=channel, urgent=urgent,
        recipient_user_id=user_id, to_address=address, endpoint_id=endpoint_id,
        subject=text.subject[:200], body=text.body[:1000], link=link_path[:300], next_attempt_at=not_before or utcnow(),
    )
    session.add(message)
    return message


def alert(session: Session, event: str, users: list[User], text: AlertText, link_path: str, *, urgent: bool = False,
          portal_message: str | None = None, on_call_home: Home | None = None) -> list[OutboxMessage]:
    """Notify `users` in the portal and queue their e-mails/webhooks (and the home's on-call contact).

    `portal_message` may say more than `text` (it stays inside SafeBed, behind its access
    rules); `text` and the link are all that leaves. The link is a path here: delivery
    puts the configured base URL in front of it. Nothing is committed here.
    """
    if event not in ALERT_EVENTS:
        raise ValueError(f"unknown alert event {event!r}")
    now = utcnow()
    notifications.notify(session, users, portal_message or text.body, link_path)
    queued, seen = [], set()
    for user in users:
        preference = preference_for(session, user)
        if not user.is_active or preference.channel == "portal" or event not in preference.events:
            continue
        not_before = None if urgent else quiet_until(preference, user.timezone, now)
        endpoint = endpoint_for(session, user.organisation_id) if preference.channel == "webhook" else None
        if endpoint is not None:
            key = ("webhook", endpoint.id, user.id)
            queued.append(_queue(session, event, "webhook", endpoint.url, text, link_path, urgent, user.id, endpoint.id, not_before))
        else:
            # Asked for a webhook their organisation does not have: e-mail rather than silence.
            key = ("email", user.email.lower())
            queued.append(_queue(session, event, "email", user.email, text, link_path, urgent, user.id, not_before=not_before))
        seen.add(key)
    contact = on_call(session, on_call_home, now) if on_call_home is not None else None
    if contact is not None and ("email", contact.email.lower()) not in seen:
        queued.append(_queue(session, event, "email", contact.email, text, link_path, urgent))
    return queued


def raise_once(session: Session, key: str) -> bool:
    """Mark the alert `key` as raised; False if it already was (a scheduled job never repeats one)."""
    if session.get(AlertMark, key) is not None:
        return False
    session.add(AlertMark(key=key))
    return True
