"""The admin's Outbox: every alert that left (or is waiting to leave), the dead letters, retry."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import roles_required
from ..database import get_session
from ..forms.admin import ConfirmForm
from ..models import ALERT_EVENTS
from ..services import outbox as outbox_service
from ..timeutil import utcnow
from ..web.actions import submit
from .blueprint import bp

STATUS_LABELS = {"pending": "Waiting", "sending": "Being sent", "sent": "Sent", "dead": "Failed for good"}
TRANSPORT_LABELS = {"smtp": "by e-mail", "webhook": "by webhook", "outbox": "kept here (no mail server)"}


@bp.get("/outbox")
@roles_required("admin")
def outbox():
    session = get_session()
    status = request.args.get("status") if request.args.get("status") in STATUS_LABELS else None
    return render_template(
        "admin/outbox.html", messages=outbox_service.listing(session, status), counts=outbox_service.counts(session),
        status=status, statuses=STATUS_LABELS, transports=TRANSPORT_LABELS, events=ALERT_EVENTS, now=utcnow(),
        runs=outbox_service.recent_runs(session), form=ConfirmForm(), smtp_configured=bool(current_app.config["SMTP_URL"]),
    )


@bp.post("/outbox/<int:message_id>/retry")
@roles_required("admin")
def outbox_retry(message_id: int):
    submit(ConfirmForm(), lambda: outbox_service.retry(get_session(), current_user, message_id),
           "The message is queued again; the next scheduler run sends it.", invalid_message="The form expired; try again.")
    return redirect(url_for("admin.outbox", status="dead"))
