"""Alerts that leave SafeBed: queued with the event, delivered to a real SMTP server and a
real webhook receiver on 127.0.0.1, retried, dead-lettered, and raised by the scheduler once."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from placement import scheduler
from placement.delivery.webhook import verify_signature
from placement.models import (
    ALERT_EVENTS,
    AlertMark,
    AvailabilityUpdate,
    Escalation,
    Notification,
    NotificationPreference,
    OutboxMessage,
    SchedulerRun,
    WebhookEndpoint,
)
from placement.services import alert_jobs, alert_texts, alerts, booking, lifecycle, outbox, webhooks
from placement.timeutil import clock, utcnow, zone

from ..helpers import make_referral
from .alert_receivers import SmtpReceiver, WebhookReceiver, payloads, self_signed_certificate, start_smtp, start_webhook

BASE = "https://safebed.example.org"
# What a leak would look like: every one of these is in the test referral or home.
SECRETS = ("MO-LEAK-4242", "Synthetic secret note", "12 Secret Test Lane", "555-0100", "truck stop")


@pytest.fixture()
def world(app, factory):
    app.config["BASE_URL"] = BASE
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, name="Willow House 1")
    agency = factory.org("agency", "MO")
    caseworker = factory.user("caseworker", agency)
    coordinator = factory.user("coordinator", factory.org("coordinator_office", "MO"))
    referral = make_referral(factory, caseworker, case_reference="MO-LEAK-4242", age=15,
                             case_notes="Synthetic secret note: recovered at a truck stop.")
    return {"operator": operator, "home": home, "caseworker": caseworker, "coordinator": coordinator,
            "referral": referral, "provider": provider, "agency": agency}


@pytest.fixture()
def smtp():
    receiver = SmtpReceiver(credentials=("alerts", "s3cret pass"))
    controller, port = start_smtp(receiver)
    receiver.url = f"smtp://alerts:s3cret%20pass@127.0.0.1:{port}"
    yield receiver
    receiver.release.set()
    controller.stop()


@pytest.fixture()
def hook():
    receiver = WebhookReceiver()
    server, url = start_webhook(receiver)
    receiver.url = url
    yield receiver
    receiver.release.set()
    server.shutdown()


def _new_request_alert(app, factory, world):
    with app.app_context():
        queued = alerts.alert(factory.session, "request_new", [world["operator"]],
                              alert_texts.request_new(world["home"].name, world["referral"].urgency), "/provider/requests/1",
                              portal_message=f"New placement request for {world['home'].name} ({world['referral'].case_reference}).")
        factory.session.commit()
    return queued


def _deliver(app, factory):
    with app.app_context():
        return outbox.deliver_due(factory.session, budget_seconds=30)


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_an_alert_is_saved_with_its_event_or_not_at_all(app, factory, world):
    with app.app_context():
        alerts.alert(factory.session, "request_new", [world["operator"]], alert_texts.request_new("Willow House 1", "urgent"),
                     "/provider/requests/1")
        factory.session.rollback()  # the event failed: its alert must go with it
    assert factory.session.exec(select(OutboxMessage)).all() == []
    assert factory.session.exec(select(Notification)).all() == []
    _new_request_alert(app, factory, world)
    message = factory.session.exec(select(OutboxMessage)).one()
    assert (message.status, message.channel, message.to_address) == ("pending", "email", world["operator"].email)
    # The portal keeps its fuller message; only the plain sentence is queued to leave.
    assert "MO-LEAK-4242" in factory.session.exec(select(Notification.message)).one()
    _no_secrets(message.subject + message.body + message.link)


def test_email_reaches_a_real_smtp_server_with_auth_and_says_only_the_allowed_words(app, factory, world, smtp):
    app.config["SMTP_URL"] = smtp.url
    app.config["SMTP_FROM"] = "SafeBed alerts <alerts@safebed.example.org>"
    [queued] = _new_request_alert(app, factory, world)
    with app.test_request_context("/", base_url="http://attacker.example"):  # a forged Host changes nothing
        assert outbox.deliver_due(factory.session, budget_seconds=30) == "1 sent"
    [mail] = smtp.messages
    assert smtp.envelopes == [("alerts@safebed.example.org", [world["operator"].email])]
    assert mail["To"] == world["operator"].email
    assert mail["From"] == "SafeBed alerts <alerts@safebed.example.org>"
    assert mail["Subject"] == "SafeBed: placement request waiting (emergency)"
    assert mail["Message-ID"] == f"<{queued.message_id}>"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_payload(decode=True).decode().strip()
    assert body == ("A placement request is waiting at Willow House 1 (emergency). "
                    f"Open SafeBed: {BASE}/provider/requests/1")
    _no_secrets(mail.as_string())
    assert "attacker.example" not in mail.as_string()
    sent = factory.get(OutboxMessage, queued.id)
    assert (sent.status, sent.transport, sent.attempts) == ("sent", "smtp", 1)


@pytest.mark.parametrize("scheme, tls", [("smtp+starttls", "starttls"), ("smtps", "implicit")])
def test_email_over_starttls_and_tls_with_auth(app, factory, world, tmp_path, scheme, tls):
    cert = self_signed_certificate(tmp_path)
    receiver = SmtpReceiver(credentials=("alerts", "s3cret"))
    controller, port = start_smtp(receiver, tls=tls, cert=cert)
    try:
        app.config["SMTP_URL"] = f"{scheme}://alerts:s3cret@127.0.0.1:{port}?ca={cert[0]}"
        [queued] = _new_request_alert(app, factory, world)
        assert _deliver(app, factory) == "1 sent"
        app.config["SMTP_URL"] = f"{scheme}://alerts:s3cret@127.0.0.1:{port}"  # an untrusted certificate
        [refused] = _new_request_alert(app, factory, world)
        assert _deliver(app, factory) == "1 pending"
    finally:
        controller.stop()
    assert [mail["Message-ID"] for mail in receiver.messages] == [f"<{queued.message_id}>"]
    assert "SSLCertVerificationError" in factory.get(OutboxMessage, refused.id).last_error


def test_starttls_is_required_not_hoped_for(app, factory, world, smtp):
    app.config["SMTP_URL"] = smtp.url.replace("smtp://", "smtp+starttls://")  # this server offers no STARTTLS
    [queued] = _new_request_alert(app, factory, world)
    _deliver(app, factory)
    assert smtp.messages == [] and factory.get(OutboxMessage, queued.id).status != "sent"


def test_wrong_smtp_password_is_a_dead_letter_not_a_silent_loss(app, factory, world, smtp):
    app.config["SMTP_URL"] = smtp.url.replace("s3cret%20pass", "wrong")
    [queued] = _new_request_alert(app, factory, world)
    assert _deliver(app, factory) == "1 dead"
    dead = factory.get(OutboxMessage, queued.id)
    assert dead.status == "dead" and "535" in dead.last_error and smtp.messages == []
    admin = factory.user("admin")
    with app.app_context():
        outbox.retry(factory.session, admin, queued.id)
        app.config["SMTP_URL"] = smtp.url
        assert outbox.deliver_due(factory.session, budget_seconds=30) == "1 sent"
    assert [m["Message-ID"] for m in smtp.messages] == [f"<{queued.message_id}>"]


def test_signed_webhook_carries_the_allowed_fields_only(app, factory, world, hook):
    endpoint, secret = webhooks.set_endpoint(factory.session, world["provider"], hook.url)
    with app.app_context():
        alerts.save_preference(factory.session, world["operator"], "webhook", ["request_new"], None, None)
    [queued] = _new_request_alert(app, factory, world)
    assert queued.channel == "webhook" and queued.endpoint_id == endpoint.id
    assert _deliver(app, factory) == "1 sent"
    [(headers, body)] = hook.requests
    assert headers["content-type"] == "application/json"
    assert headers["safebed-webhook-id"] == queued.message_id
    assert verify_signature(secret, headers["safebed-timestamp"], body, headers["safebed-signature"])
    assert not verify_signature("another secret" * 3, headers["safebed-timestamp"], body, headers["safebed-signature"])
    assert not verify_signature(secret, headers["safebed-timestamp"], body + b" ", headers["safebed-signature"])
    [payload] = payloads(hook)
    assert set(payload) == set(outbox.WEBHOOK_FIELDS)
    assert payload["id"] == queued.message_id and payload["event"] == "request_new"
    assert payload["link"] == f"{BASE}/provider/requests/1" and payload["recipient"] == world["operator"].email
    assert payload["text"] == f"A placement request is waiting at Willow House 1 (emergency). Open SafeBed: {BASE}/provider/requests/1"
    _no_secrets(body.decode())


def test_webhook_failures_retry_with_doubling_waits_under_the_same_id(app, factory, world, hook):
    app.config["OUTBOX_RETRY_SECONDS"] = 60
    hook.statuses = [500, 503]
    webhooks.set_endpoint(factory.session, world["provider"], hook.url)
    with app.app_context():
        alerts.save_preference(factory.session, world["operator"], "webhook", ["request_new"], None, None)
    [queued] = _new_request_alert(app, factory, world)
    assert _deliver(app, factory) == "1 pending"
    first = factory.get(OutboxMessage, queued.id)
    assert first.attempts == 1 and first.next_attempt_at - utcnow() > timedelta(seconds=55)
    assert _deliver(app, factory) == "nothing due"  # not before its time
    clock.advance(timedelta(seconds=61))
    assert _deliver(app, factory) == "1 pending"
    second = factory.get(OutboxMessage, queued.id)
    assert second.attempts == 2 and second.next_attempt_at - utcnow() > timedelta(seconds=115)
    clock.advance(timedelta(seconds=121))
    assert _deliver(app, factory) == "1 sent"
    assert [headers["safebed-webhook-id"] for headers, _ in hook.requests] == [queued.message_id] * 3


def test_a_refusing_webhook_goes_to_the_dead_letters_and_an_admin_retries_it(app, factory, world, hook):
    hook.statuses = [410]
    webhooks.set_endpoint(factory.session, world["provider"], hook.url)
    with app.app_context():
        alerts.save_preference(factory.session, world["operator"], "webhook", ["request_new"], None, None)
    [queued] = _new_request_alert(app, factory, world)
    assert _deliver(app, factory) == "1 dead"
    with app.app_context():
        assert [m.id for m in outbox.listing(factory.session, "dead")] == [queued.id]
        assert outbox.counts(factory.session)["dead"] == 1
        admin = factory.user("admin")
        outbox.retry(factory.session, admin, queued.id)
        with pytest.raises(outbox.Conflict):
            outbox.retry(factory.session, admin, queued.id)  # it is pending now, not dead
    assert _deliver(app, factory) == "1 sent"
    assert len(hook.requests) == 2


def test_without_smtp_the_email_stays_in_the_outbox(app, factory, world):
    app.config["SMTP_URL"] = ""
    [queued] = _new_request_alert(app, factory, world)
    assert _deliver(app, factory) == "1 sent"
    assert factory.get(OutboxMessage, queued.id).transport == "outbox"


def test_preferences_choose_events_and_channel(app, factory, world):
    with app.app_context():
        alerts.save_preference(factory.session, world["operator"], "email", ["matcher_done"], None, None)
        assert _new_request_alert(app, factory, world) == []
        alerts.save_preference(factory.session, world["operator"], "portal", ["request_new"], None, None)
        assert _new_request_alert(app, factory, world) == []
    # The portal message is stored whatever the preference.
    assert len(factory.session.exec(select(Notification).where(Notification.user_id == world["operator"].id)).all()) == 2


def _at_local(hour: int, minute: int = 0) -> None:
    """Move the app's clock to the next hour:minute in the test users' zone."""
    tz = zone("America/Chicago")
    now = utcnow().astimezone(tz)
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    clock.advance(target - now)


def test_quiet_hours_hold_back_everything_but_urgent_alerts(app, factory, world):
    with app.app_context():
        alerts.save_preference(factory.session, world["operator"], "email", ["request_new", "figures_stale"], 22 * 60, 6 * 60)
        _at_local(23, 30)
        [held] = alerts.alert(factory.session, "figures_stale", [world["operator"]], alert_texts.figures_stale("Willow House 1", 21), "/x")
        [urgent] = alerts.alert(factory.session, "request_new", [world["operator"]],
                                alert_texts.request_new("Willow House 1", "emergency"), "/y", urgent=True)
        factory.session.commit()
    wakes = held.next_attempt_at.astimezone(zone("America/Chicago"))
    assert (wakes.hour, wakes.minute) == (6, 0) and timedelta(hours=6) < held.next_attempt_at - utcnow() <= timedelta(hours=7)
    assert abs((urgent.next_attempt_at - utcnow()).total_seconds()) < 5
    assert _deliver(app, factory) == "1 sent"


def test_quiet_hours_must_have_both_ends(app, factory, world):
    with app.app_context(), pytest.raises(alerts.ServiceError):
        alerts.save_preference(factory.session, world["operator"], "email", [], 22 * 60, None)


def test_tonights_on_call_contact_is_alerted_for_a_day(app, factory, world):
    with app.app_context():
        alerts.set_on_call(factory.session, world["operator"], world["home"], "Night lead", "oncall@willow.example")
        factory.session.commit()
        text = alert_texts.request_new("Willow House 1", "urgent")
        sent = alerts.alert(factory.session, "request_new", [world["operator"]], text, "/p", on_call_home=world["home"])
        assert sorted(m.to_address for m in sent) == sorted([world["operator"].email, "oncall@willow.example"])
        clock.advance(timedelta(hours=25))
        assert [m.to_address for m in alerts.alert(factory.session, "request_new", [world["operator"]], text, "/p",
                                                    on_call_home=world["home"])] == [world["operator"].email]


# --- The scheduler and its jobs ---------------------------------------------------------------

def test_each_job_runs_once_per_tick(app, factory, world):
    first = scheduler.run_due(app, tick=1000)
    assert [name for name, _ in first] == list(scheduler.JOBS)
    assert scheduler.run_due(app, tick=1000) == []  # the same tick again: every job already claimed
    assert scheduler.run_due(app, tick=999) == []  # an old tick never runs again
    assert [name for name, _ in scheduler.run_due(app, tick=1001)] == list(scheduler.JOBS)
    runs = factory.session.exec(select(SchedulerRun.job, SchedulerRun.tick)).all()
    assert sorted(runs) == sorted([(name, tick) for name in scheduler.JOBS for tick in (1000, 1001)])


def test_a_job_still_running_is_not_started_again(app, factory, world):
    with app.app_context():
        scheduler.run_due(app, tick=5)
        assert scheduler.claim(factory.session, "deliver_outbox", 6, lease_seconds=600)
        assert not scheduler.claim(factory.session, "deliver_outbox", 7, lease_seconds=600)  # tick 6 holds the lease


def test_an_unanswered_request_escalates_once_to_the_coordinator_and_caseworker(app, factory, world):
    app.config["ESCALATE_MINUTES"] = 5
    request = booking.request_placement(factory.session, world["caseworker"], world["referral"], world["home"].id)
    with app.app_context():
        assert alert_jobs.escalate_unanswered(factory.session) == "0 requests escalated"
        clock.advance(timedelta(minutes=6))
        assert alert_jobs.escalate_unanswered(factory.session) == "1 requests escalated"
        assert alert_jobs.escalate_unanswered(factory.session) == "0 requests escalated"
    escalation = factory.session.exec(select(Escalation)).one()
    assert (escalation.request_id, escalation.kind, escalation.state) == (request.id, "unanswered", "MO")
    messages = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "request_escalated")).all()
    assert sorted(m.to_address for m in messages) == sorted([world["caseworker"].email, world["coordinator"].email])
    assert all(m.urgent for m in messages)
    for message in messages:
        assert message.body == alert_texts.request_escalated("Willow House 1", "emergency", 5).body


def test_a_hold_about_to_lapse_warns_its_caseworker_once(app, factory, world):
    booking.hold(factory.session, world["caseworker"], world["referral"], world["home"].id, hours=4)
    with app.app_context():
        assert alert_jobs.warn_expiring_holds(factory.session) == "0 holds about to expire"
        clock.advance(timedelta(hours=3, minutes=35))
        assert alert_jobs.warn_expiring_holds(factory.session) == "1 holds about to expire"
        assert alert_jobs.warn_expiring_holds(factory.session) == "0 holds about to expire"
    [message] = factory.session.exec(select(OutboxMessage)).all()
    assert (message.event, message.to_address) == ("hold_expiring", world["caseworker"].email)
    assert message.link == f"/caseworker/referrals/{world['referral'].id}"


def test_stale_figures_remind_the_operators_once_per_set_of_figures(app, factory, world):
    with app.app_context():
        clock.advance(timedelta(hours=21))
        assert alert_jobs.remind_stale_figures(factory.session) == "1 homes reminded"
        assert alert_jobs.remind_stale_figures(factory.session) == "0 homes reminded"
    [message] = factory.session.exec(select(OutboxMessage)).all()
    assert message.link == f"/provider/homes/{world['home'].id}/availability"
    assert message.body == "The figures for Willow House 1 are 21 hours old. Update them in one tap."
    assert factory.session.get(AlertMark, f"figures_stale:{world['home'].id}:{_latest_figures(factory, world).id}")


def _latest_figures(factory, world):
    return factory.session.exec(select(AvailabilityUpdate).where(AvailabilityUpdate.home_id == world["home"].id)
                                .order_by(AvailabilityUpdate.id.desc())).first()


def test_reports_due_within_four_hours_are_flagged_once(app, factory, world):
    clock.advance(-timedelta(days=1))
    request = booking.request_placement(factory.session, world["caseworker"], world["referral"], world["home"].id)
    placement = booking.accept(factory.session, world["operator"], request)
    clock.advance(timedelta(days=1))
    lifecycle.report_missing(factory.session, world["operator"], placement, utcnow() - timedelta(hours=1), keep_hours=0)
    with app.app_context():
        assert alert_jobs.flag_reports(factory.session).startswith("0 reports due soon")
        clock.advance(timedelta(hours=20, minutes=30))
        assert alert_jobs.flag_reports(factory.session).startswith("1 reports due soon")
        assert alert_jobs.flag_reports(factory.session).startswith("0 reports due soon")
        clock.advance(timedelta(hours=4))
        assert alert_jobs.flag_reports(factory.session) == "0 reports due soon, 1 overdue"
    [due] = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "report_due")).all()
    assert due.urgent and due.to_address == world["caseworker"].email
    assert due.body == "A missing-youth report is due within 4 hours and is not recorded yet."


@pytest.mark.parametrize("event", ["request_new", "figures_stale", "request_escalated", "hold_expiring", "report_due"])
def test_every_message_matches_its_template_and_nothing_else(app, factory, world, event):
    """A whole-text match per event: no field can ride along beyond the template's own."""
    templates = {
        "request_new": r"A placement request is waiting at Willow House 1 \((emergency|urgent|planned)\)\.",
        "figures_stale": r"The figures for Willow House 1 are \d+ hours old\. Update them in one tap\.",
        "request_escalated": r"A placement request \(\w+\) at Willow House 1 has had no answer for \d+ minutes\. "
                             r"Other eligible homes with room are listed on the referral\.",
        "hold_expiring": r"Your bed hold at Willow House 1 expires in 30 minutes\. Request the placement or release the hold\.",
        "report_due": r"A missing-youth report is due within \d+ hours and is not recorded yet\.",
    }
    make = {
        "request_new": lambda: alert_texts.request_new("Willow House 1", "urgent"),
        "figures_stale": lambda: alert_texts.figures_stale("Willow House 1", 21),
        "request_escalated": lambda: alert_texts.request_escalated("Willow House 1", "emergency", 30),
        "hold_expiring": lambda: alert_texts.hold_expiring("Willow House 1"),
        "report_due": lambda: alert_texts.report_due(4),
    }
    text = make[event]()
    assert re.fullmatch(templates[event], text.body)
    _no_secrets(text.subject + text.body)


def test_the_default_preference_is_email_for_every_event(app, factory, world):
    with app.app_context():
        preference = alerts.preference_for(factory.session, world["operator"])
    assert preference.id is None and preference.channel == "email"
    assert set(preference.events) == set(ALERT_EVENTS)
    assert factory.session.exec(select(NotificationPreference)).all() == []


def test_quiet_until_spans_midnight():
    preference = NotificationPreference(user_id=1, channel="email", events=[], quiet_start=22 * 60, quiet_end=6 * 60)
    tz = "America/Chicago"
    late = datetime(2026, 11, 28, 23, 15, tzinfo=zone(tz)).astimezone(timezone.utc)
    early = datetime(2026, 11, 29, 5, 59, tzinfo=zone(tz)).astimezone(timezone.utc)
    day = datetime(2026, 11, 29, 6, 0, tzinfo=zone(tz)).astimezone(timezone.utc)
    assert alerts.quiet_until(preference, tz, late) == day
    assert alerts.quiet_until(preference, tz, early) == day
    assert alerts.quiet_until(preference, tz, day) is None


def test_scheduler_once_and_set_webhook_commands(app, factory, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-webhook", "--organisation", world["provider"].name, "--url", "ftp://x.example/"])
    assert result.exit_code != 0 and "https://" in result.output
    result = runner.invoke(args=["set-webhook", "--organisation", world["provider"].name, "--url", "https://oncall.example/hook"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"Signing secret \(shown once; give it to the receiver\): ([0-9a-f]{64})", result.output).group(1)
    endpoint = factory.session.exec(select(WebhookEndpoint)).one()
    assert (endpoint.secret, endpoint.url, endpoint.organisation_id) == (secret, "https://oncall.example/hook", world["provider"].id)
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == list(scheduler.JOBS)
    assert runner.invoke(args=["scheduler", "--once"]).output == ""  # the same tick: nothing left to run


# --- Events raised by the services ------------------------------------------------------------

def test_a_request_alerts_the_operators_and_on_call_and_its_answer_alerts_the_caseworker(app, factory, world):
    with app.app_context():
        alerts.set_on_call(factory.session, world["operator"], world["home"], "Night lead", "oncall@willow.example")
        factory.session.commit()
    request = booking.request_placement(factory.session, world["caseworker"], world["referral"], world["home"].id)
    new = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "request_new")).all()
    assert sorted(m.to_address for m in new) == sorted([world["operator"].email, "oncall@willow.example"])
    assert all(m.urgent and m.link == f"/provider/requests/{request.id}" for m in new)  # an emergency referral
    assert new[0].body == "A placement request is waiting at Willow House 1 (emergency)."
    app.config["ESCALATE_MINUTES"] = 1
    clock.advance(timedelta(minutes=2))
    with app.app_context():
        alert_jobs.escalate_unanswered(factory.session)
    booking.accept(factory.session, world["operator"], request)
    [answer] = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "request_answered")).all()
    assert (answer.to_address, answer.body) == (world["caseworker"].email, "Willow House 1 accepted your placement request.")
    escalation = factory.session.exec(select(Escalation)).one()
    assert escalation.resolved_at is not None and escalation.resolution == "Willow House 1 accepted the request."
    for message in factory.session.exec(select(OutboxMessage)).all():
        _no_secrets(message.subject + message.body + message.link)


def test_a_missing_youth_is_an_urgent_alert_to_the_caseworker(app, factory, world):
    request = booking.request_placement(factory.session, world["caseworker"], world["referral"], world["home"].id)
    clock.advance(timedelta(hours=1))
    placement = booking.accept(factory.session, world["operator"], request)
    lifecycle.report_missing(factory.session, world["operator"], placement, utcnow(), keep_hours=0)
    [missing] = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "missing_opened")).all()
    assert missing.urgent and missing.to_address == world["caseworker"].email
    assert missing.body == ("A youth was reported missing from Willow House 1. "
                            "Reports to law enforcement and NCMEC are due within 24 hours.")


def test_a_finished_matcher_run_alerts_the_coordinator_who_started_it(app, factory, world):
    from placement.models import MatcherRun
    from placement.services import matcher_runs

    app.config["MATCHER_TIME_LIMIT"] = 2
    run = MatcherRun(state="MO", started_by_id=world["coordinator"].id)
    factory.session.add(run)
    factory.session.commit()
    with app.app_context():
        matcher_runs.execute_run(run.id)
    [message] = factory.session.exec(select(OutboxMessage).where(OutboxMessage.event == "matcher_done")).all()
    assert (message.to_address, message.link) == (world["coordinator"].email, f"/coordinator/runs/{run.id}")
    assert re.fullmatch(r"The matcher run for MO finished with \d+ proposed placements\.", message.body)
