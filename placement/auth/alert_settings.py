"""Each user's own alert settings: events, channel and quiet hours."""
from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..alert_forms import AlertSettingsForm, minutes_of_day
from ..database import get_session
from ..forms import apply_service_errors
from ..services import alerts
from ..services.errors import ServiceError
from .views import bp


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
    if form.validate_on_submit():
        try:
            alerts.save_preference(session, user, form.channel.data, form.events.data or [],
                                   minutes_of_day(form.quiet_start.data), minutes_of_day(form.quiet_end.data))
        except ServiceError as error:
            session.rollback()
            apply_service_errors(form, error.fields)
            flash(error.message, "error")
        else:
            flash("Your alert settings are saved.", "success")
            return redirect(url_for("auth.alert_settings"))
    elif form.is_submitted():
        flash("Please correct the highlighted fields.", "error")
    return render_template("auth/alert_settings.html", form=form), 422 if form.errors else 200
