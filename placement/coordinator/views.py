"""Coordinator pages: capacity dashboard, matcher runs with review, unmet need, CSV exports,
Needs a bed now (escalations) and response times.

Coordinators see their own state; admins see any state and choose it with `?state=`.
Pages carry aggregates, home names and case references only, never a street
address or case notes.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from solver.instance import US_STATES

from .. import audit
from ..access import coordinator_state, get_escalation, get_matcher_run, roles_required
from ..database import get_session, read_beside
from ..forms.alerts import ResolveEscalationForm
from ..forms.coordinator import ApproveForm, BedImpactForm, PeriodForm, StartRunForm
from ..models import ESCALATION_KINDS
from ..services import bed_impact as bed_impact_service
from ..services import capacity, escalations, matcher_runs, outcomes, unmet_need
from ..services import response_times as response_service
from ..services.tables import Period, csv_lines, local_date, period
from ..timeutil import utcnow
from ..web.actions import perform, submit
from ..web.shortlist import shown_count
from .blueprint import bp

COORDINATOR_ROLES = ("coordinator", "admin")
DEFAULT_PERIOD_DAYS = 30
REPORT_TABLES = ("unmet_by_reason", "unmet_by_area", "unmet_children", "declines")


def _state() -> str:
    return coordinator_state(get_session(), current_user, request.values.get("state"))


def _state_args(state: str) -> dict[str, str]:
    """The query argument that keeps an admin's chosen state across links."""
    return {"state": state} if current_user.role == "admin" else {}


def _viewed(action: str, state: str, detail: str = "") -> None:
    session = get_session()
    audit.record(session, action, "state", None, f"state {state}{detail}", actor=current_user)
    session.commit()


def _period(form: PeriodForm | None = None) -> Period:
    """The form's period, defaulting to the last 30 days in the user's time zone."""
    today = local_date(utcnow(), current_user.timezone)
    last = (form and form.date_to.data) or today
    first = (form and form.date_from.data) or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return period(first, last, current_user.timezone)


def _dashboard(state: str) -> capacity.Dashboard:
    return capacity.dashboard(get_session(), state, current_app.config["STALE_AFTER_HOURS"])


@bp.get("/")
@roles_required(*COORDINATOR_ROLES)
def dashboard():
    state = _state()
    # Unmet need is worked out beside the capacity figures: each waits on the database a lot.
    unmet = read_beside(get_session(), unmet_need.dashboard_figures, state, _period())
    board = _dashboard(state)
    need = unmet.result()
    _viewed("capacity_viewed", state)
    return render_template(
        "coordinator/dashboard.html", board=board, need=need, states=US_STATES, state=state,
        state_args=_state_args(state), tables=[board.tables[key] for key in capacity.DASHBOARD_TABLES],
        missing=outcomes.report_figures(get_session(), outcomes.custody_in(state)), shown=shown_count(),
    )


@bp.get("/unmet-need", endpoint="unmet_need")
@roles_required(*COORDINATOR_ROLES)
def unmet_need_page():
    state = _state()
    form = PeriodForm(request.args)
    if not form.validate():
        return render_template("coordinator/unmet_need.html", form=form, need=None, states=US_STATES, state=state,
                               state_args=_state_args(state), query={}), 422
    need = unmet_need.report(get_session(), state, _period(form))
    form.date_from.data, form.date_to.data = need.period.first_day, need.period.last_day  # show the default period
    _viewed("unmet_need_viewed", state, f", {need.period.describe()}")
    query = {**_state_args(state), "date_from": need.period.first_day.isoformat(), "date_to": need.period.last_day.isoformat()}
    return render_template("coordinator/unmet_need.html", form=form, need=need, states=US_STATES, state=state,
                           state_args=_state_args(state), query=query, tables=[need.tables[k] for k in REPORT_TABLES],
                           shown=shown_count())


@bp.get("/export/<table>.csv")
@roles_required(*COORDINATOR_ROLES)
def export_csv(table: str):
    """Any dashboard or report table as CSV (headers only when it has no rows); audited."""
    state = _state()
    session = get_session()
    if table in capacity.DASHBOARD_TABLES:
        found, span = capacity.table(session, state, current_app.config["STALE_AFTER_HOURS"], table), ""
    elif table in REPORT_TABLES:
        form = PeriodForm(request.args)
        if not form.validate():
            abort(400)
        need = unmet_need.report(session, state, _period(form))
        found, span = need.tables[table], f", {need.period.describe()}"
    elif table == "bed-impact":
        item = get_matcher_run(session, current_user, request.args.get("run", type=int) or abort(404))
        found, span = bed_impact_service.table(session, item), f", run {item.id}"
    else:
        abort(404)
    audit.record(session, "export", "coordinator_report", None,
                 f"{table} CSV, {len(found.rows)} rows, state {state}{span}", actor=current_user)
    session.commit()
    filename = f"safebed-{state}-{table}-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    return Response("".join(csv_lines(found)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/runs")
@roles_required(*COORDINATOR_ROLES)
def runs():
    state = _state()
    session = get_session()
    return render_template("coordinator/runs.html", runs=matcher_runs.runs(session, state), form=StartRunForm(data={"state": state}),
                           states=US_STATES, state=state, state_args=_state_args(state),
                           open_referrals=len(matcher_runs.open_referrals(session, state)), is_lost=matcher_runs.is_lost)


@bp.post("/runs")
@roles_required(*COORDINATOR_ROLES)
def start_run():
    form = StartRunForm()
    if not form.validate_on_submit():
        abort(400)
    state = _state()
    outcome = perform(lambda: matcher_runs.start_run(get_session(), current_user, state, form.time_limit.data),
                      lambda run: f"Matcher run {run.id} started for {state}.")
    if not outcome.done:
        return redirect(url_for("coordinator.runs", **_state_args(state)))
    return redirect(url_for("coordinator.run", run_id=outcome.value.id))


def _run_viewed(item, action: str, detail: str) -> None:
    """Every read of a run is audited (it names the state's children by case reference)."""
    session = get_session()
    audit.record(session, action, "matcher_run", item.id, detail, actor=current_user)
    session.commit()


@bp.get("/runs/<int:run_id>")
@roles_required(*COORDINATOR_ROLES)
def run(run_id: int):
    session = get_session()
    item = get_matcher_run(session, current_user, run_id)
    view = matcher_runs.run_view(session, item)
    _run_viewed(item, "matcher_run_viewed", f"{len(view.proposals)} proposals")
    return render_template("coordinator/run.html", view=view, form=ApproveForm(), lost=matcher_runs.is_lost(item),
                           state=item.state, state_args=_state_args(item.state),
                           shortfall=bed_impact_service.shortfall(item), longer_limit=matcher_runs.longer_limit(item))


@bp.get("/runs/<int:run_id>/beds")
@roles_required(*COORDINATOR_ROLES)
def bed_impact(run_id: int):
    """Where one more bed helps most, from a finished run (worked out on request, in the background)."""
    session = get_session()
    item = get_matcher_run(session, current_user, run_id)
    table = bed_impact_service.table(session, item)
    _run_viewed(item, "bed_impact_viewed", f"{len(table.rows)} homes")
    return render_template("coordinator/bed_impact.html", run=item, table=table, state=item.state,
                           state_args=_state_args(item.state))


@bp.post("/runs/<int:run_id>/beds")
@roles_required(*COORDINATOR_ROLES)
def start_bed_impact(run_id: int):
    session = get_session()
    item = get_matcher_run(session, current_user, run_id)
    if not BedImpactForm().validate_on_submit():
        abort(400)
    perform(lambda: bed_impact_service.start(session, current_user, item))
    return redirect(url_for("coordinator.bed_impact", run_id=item.id))


@bp.post("/runs/<int:run_id>/approve")
@roles_required(*COORDINATOR_ROLES)
def approve(run_id: int):
    session = get_session()
    item = get_matcher_run(session, current_user, run_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    action = perform(lambda: matcher_runs.approve_many(session, current_user, item, form.chosen(), current_app.config["HOLD_HOURS"]))
    if action.done:
        result = action.value
        if result.approved:
            flash(f"Approved {len(result.approved)}: {', '.join(result.approved)}. Each bed is held and its "
                  "placement requested from the home.", "success")
        for case_reference, reason in result.refused:
            flash(f"Not approved, {case_reference}: {reason}", "error")
    return redirect(url_for("coordinator.run", run_id=item.id))


@bp.get("/outcomes", endpoint="outcomes")
@roles_required(*COORDINATOR_ROLES)
def outcomes_page():
    """Placement stability, missing-episode reports and the equity split (aggregates, small cells hidden)."""
    state = _state()
    figures = outcomes.coordinator_view(get_session(), state)
    _viewed("outcomes_viewed", state)
    return render_template("coordinator/outcomes.html", f=figures, states=US_STATES, state=state, state_args=_state_args(state),
                           shown=shown_count())


@bp.get("/needs-a-bed")
@roles_required(*COORDINATOR_ROLES)
def needs_bed():
    """Referrals with no eligible home, unplaced after 4 hours, or escalated."""
    state = _state()
    shown = shown_count()
    found = escalations.needs_a_bed(get_session(), state, current_app.config["STALE_AFTER_HOURS"], shown)
    _viewed("needs_bed_viewed", state, f", {found.total} referrals")
    return render_template("coordinator/needs_bed.html", found=found, shown=shown, state=state, states=US_STATES,
                           state_args=_state_args(state), kinds=ESCALATION_KINDS, form=ResolveEscalationForm(formdata=None),
                           escalate_minutes=int(current_app.config["ESCALATE_MINUTES"]))


@bp.post("/escalations/<int:escalation_id>/resolve")
@roles_required(*COORDINATOR_ROLES)
def resolve_escalation(escalation_id: int):
    session = get_session()
    escalation = get_escalation(session, current_user, escalation_id)
    form = ResolveEscalationForm()
    submit(form, lambda: escalations.resolve(session, current_user, escalation, form.note.data or ""),
           "Marked handled; the caseworker sees your note on the referral.",
           invalid_message="The note is too long (200 characters at most).")
    return redirect(url_for("coordinator.needs_bed", **_state_args(escalation.state)))


@bp.get("/response-times")
@roles_required(*COORDINATOR_ROLES)
def response_times():
    """Share answered within 30 minutes and median minutes to answer, per provider, 7 and 30 days."""
    state = _state()
    figures = response_service.response_times(get_session(), state=state)
    _viewed("response_times_viewed", state)
    return render_template("coordinator/response_times.html", figures=figures, state=state, states=US_STATES)
