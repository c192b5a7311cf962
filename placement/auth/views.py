"""Sign in, sign out, password change, and accepting an invitation."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import audit
from ..access import get_own_api_token
from ..database import get_session
from ..extensions import limiter
from ..forms.auth import ApiTokenForm, ChangePasswordForm, LoginForm, NewPasswordForm
from ..services import accounts, api_tokens, notifications
from ..services.errors import ServiceError
from ..timeutil import utcnow
from ..web.actions import form_status, perform, submit
from .blueprint import bp


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _submitted_account() -> str:
    return "login-account:" + accounts.normalise_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])  # per address
@limiter.limit(_login_rate_limit, methods=["POST"], key_func=_submitted_account)  # per account
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    if form.validate_on_submit():
        config = current_app.config
        user = accounts.authenticate(
            get_session(), form.email.data, form.password.data,
            config["LOGIN_LOCKOUT_ATTEMPTS"], config["LOGIN_LOCKOUT"],
        )
        if user is not None:
            session.clear()  # a fresh session at sign-in: no fixation
            login_user(user)
            session.permanent = True
            session["login_at"] = session["last_seen"] = utcnow().timestamp()
            return redirect(_safe_next(request.args.get("next")))
        flash(accounts.SIGN_IN_FAILED, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    db = get_session()
    user = current_user._get_current_object()
    accounts.end_sessions(db, user)
    audit.record(db, "logout", "user", user.id, actor=user)
    db.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if submit(form, lambda: accounts.change_password(get_session(), user, form.current_password.data, form.new_password.data),
              "Your password was changed. Other devices have been signed out.", commit=True).done:
        login_user(user)  # the old session version is dead; keep this browser signed in
        return redirect(url_for("index"))
    return render_template("auth/change_password.html", form=form), form_status(form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def accept_invitation(token: str):
    db = get_session()
    try:
        invitation = accounts.find_invitation(db, token)
    except ServiceError as error:
        return render_template("error.html", code=404, title="Invitation not valid", message=error.message), 404
    form = NewPasswordForm()
    # The password's field message says it all: no second copy at the top of the page.
    if submit(form, lambda: accounts.accept_invitation(db, token, form.new_password.data),
              "Your password is set. Please sign in.", commit=True, tell=False).done:
        return redirect(url_for("auth.login"))
    return render_template("auth/invitation.html", form=form, invitation=invitation), form_status(form)


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications_page():
    db = get_session()
    user = current_user._get_current_object()
    if request.method == "POST":
        notifications.mark_all_read(db, user)
        return redirect(url_for("auth.notifications_page"))
    return render_template("auth/notifications.html", items=notifications.recent(db, user))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens_page():
    """Personal API tokens: create one (its text is shown once, on this answer only) or see the active ones."""
    db = get_session()
    user = current_user._get_current_object()
    form = ApiTokenForm()
    created = None
    outcome = submit(form, lambda: api_tokens.create(db, user, form.name.data, form.days.data))
    if outcome.done:
        created = outcome.value  # (token, secret)
        form = ApiTokenForm(formdata=None)
    status = 201 if created else (422 if form.errors else 200)
    return render_template("auth/api_tokens.html", form=form, tokens=api_tokens.active(db, user), created=created), status


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    db = get_session()
    user = current_user._get_current_object()
    token = get_own_api_token(db, user, token_id)
    perform(lambda: api_tokens.revoke(db, user, token), "The token was revoked; integrations using it are refused from now on.")
    return redirect(url_for("auth.api_tokens_page"))
