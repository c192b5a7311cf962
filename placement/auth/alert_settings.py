"""Each user's own alert settings: events, channel and quiet hours."""
from __future__ import annotations

from datetime import time

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from ..database import get_session
from ..forms.alerts import AlertSettingsForm, minutes_of_day
from ..services import alerts
from ..web.actions import CORRECT_FIELDS, form_status, submit
from .blueprint import bp


def _clock(minutes: int | None) -> time | None:
    return None if minutes is None else time(minutes // 60, minutes % 60)


@bp.route("/account/alerts", methods=["GET", "POST"])
@login_required
def alert_settings():
    session = get_session()
    user = current_user._get_current_object()
    saved = alerts.preference_for(session, user)
    form = AlertSettingsForm(data={"channel": saved.channel, "events": saved.events,
                                   "quiet_start": _clock(saved.quiet_start), "quiet_end": _clock(saved.quiet_end)})
    if submit(form, lambda: alerts.save_preference(session, user, form.channel.data, form.events.data or [],
                                                   minutes_of_day(form.quiet_start.data), minutes_of_day(form.quiet_end.data)),
              "Your alert settings are saved.", invalid_message=CORRECT_FIELDS).done:
        return redirect(url_for("auth.alert_settings"))
    return render_template("auth/alert_settings.html", form=form), form_status(form)
