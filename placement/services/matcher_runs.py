"""Matcher runs: a coordinator's statewide proposal of placements, and its review.

A run takes a snapshot of the state's open referrals and of every home they may be
placed in (the state's own, and out-of-state homes that take youth with ICPC
approval for their state), stores it as the solver's instance JSON, solves it in a
background job (`placement.jobs`) and stores the result JSON next to it. Each
proposed placement becomes a `MatcherProposal` row ranked by urgency, then fit.

Approving a proposal goes through the caseworker flow's own booking functions (a
hold, then a placement request), so the no-double-booking lock decides every race.
A proposal whose snapshot no longer holds (the referral changed or moved on, the
home stopped taking referrals, the bed was taken) is refused with the reason,
never forced.
"""
from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlmodel import Session, func, select

from solver.engine import result_to_json, solve
from solver.instance import URGENCIES, Instance, instance_to_json, parse_instance, referral_to_json

from .. import audit, jobs
from ..database import new_session
from ..models import Hold, Home, MatcherProposal, MatcherRun, Organisation, PlacementRequest, Referral, User
from ..timeutil import utcnow
from . import alert_texts, alerts, booking, notifications, protections
from .errors import Conflict, ServiceError
from .homes import statuses
from .solver_inputs import home_key, parse_key, referral_key, solver_home, solver_referral

# Referrals a run tries to place: nobody is booking a bed for them right now.
MATCHABLE_STATUSES = ("open", "declined", "held")  # "held" only once the hold has lapsed
RUNS_LISTED = 20
SOLVING, SOLVED = 40, 95  # progress (%) when CP-SAT starts, and the most its time can show
PROGRESS_EVERY = 1.0  # seconds between progress updates while solving
LOST_AFTER = timedelta(minutes=5)  # beyond the time limit: the job was lost (process restarted)
LONGEST_LIMIT = 300.0  # seconds: the longest run a coordinator may ask for
LONGER = 3  # a re-run of a run not proven best gets this many times its limit
UNMATCHED_TEXT = {
    "no_eligible_home": "No eligible home",
    "no_capacity": "Eligible homes full",
}


# --- the snapshot ------------------------------------------------------------------------

def open_referrals(session: Session, state: str) -> list[Referral]:
    """The state's referrals waiting for a bed: open or declined, or held with the hold lapsed."""
    rows = list(session.exec(
        select(Referral).where(Referral.custody_state == state, Referral.status.in_(MATCHABLE_STATUSES))
        .order_by(Referral.id)
    ).all())
    held = [r.id for r in rows if r.status == "held"]
    live = set(session.exec(
        select(Hold.referral_id).where(Hold.referral_id.in_(held), Hold.keeps_places(utcnow()))
    ).all()) if held else set()
    return [r for r in rows if r.id not in live]


def _reach(state: str, icpc_states: set[str]):
    """Active homes in `state`, and in `icpc_states` those that take out-of-state youth (SQL)."""
    reach = Home.state == state
    if icpc_states - {state}:
        reach = reach | (Home.state.in_(icpc_states - {state}) & Home.accepts_out_of_state.is_(True))
    return Home.is_active.is_(True) & reach


def _homes_query(state: str, icpc_states: set[str]):
    """Active homes in `state`, and in `icpc_states` those that take out-of-state youth."""
    return select(Home).where(_reach(state, icpc_states))


def snapshot(session: Session, state: str) -> dict:
    """The run's input: the state's open referrals and the homes they may reach, as instance JSON."""
    referrals = open_referrals(session, state)
    icpc = {s for r in referrals for s in r.icpc_approved_states}
    homes = list(session.exec(_homes_query(state, icpc).order_by(Home.id)).all())
    # Keep-away areas, keep-apart links (pairwise within the run) and ICWA: instance version 2.
    rules = protections.solver_fields(session, referrals, homes, in_run={r.id for r in referrals})
    instance = Instance(
        homes=tuple(solver_home(status) for status in statuses(session, homes, _reach(state, icpc))),
        referrals=tuple(solver_referral(r, rules[r.id]) for r in referrals),
    )
    return instance_to_json(instance)


# --- starting and running ----------------------------------------------------------------

def _in_progress(session: Session, state: str) -> MatcherRun | None:
    # Each run has its own limit, so "lost" is decided per run (`is_lost`).
    recent = utcnow() - timedelta(seconds=LONGEST_LIMIT) - LOST_AFTER
    working = session.exec(
        select(MatcherRun).where(MatcherRun.state == state, MatcherRun.status.in_(("queued", "running")),
                                 MatcherRun.created_at > recent)
    ).all()
    return next((run for run in working if not is_lost(run)), None)


def start_run(session: Session, user: User, state: str, time_limit: float | None = None) -> MatcherRun:
    """Queue a matcher run for `state` (with the configured time limit, or `time_limit`
    seconds, at most `LONGEST_LIMIT`); refuse clearly when there is nothing to match."""
    referrals = open_referrals(session, state)
    if not referrals:
        raise ServiceError(f"There are no open referrals in {state} to match: every referral is placed, "
                           "closed, or already held or requested. Nothing was run.")
    icpc = {s for r in referrals for s in r.icpc_approved_states}
    homes = session.exec(select(func.count()).select_from(_homes_query(state, icpc).subquery())).one()
    if not homes:
        raise ServiceError(f"No home in {state} (or out-of-state home taking its ICPC-approved youth) is taking "
                           "referrals, so the matcher has nowhere to place anyone. Nothing was run.")
    if _in_progress(session, state) is not None:
        raise Conflict(f"A matcher run for {state} is already in progress; wait for it to finish.")
    limit = min(LONGEST_LIMIT, time_limit or current_app.config["MATCHER_TIME_LIMIT"])
    run = MatcherRun(state=state, started_by_id=user.id, time_limit=limit)
    session.add(run)
    session.flush()
    audit.record(session, "matcher_run_started", "matcher_run", run.id,
                 f"state {state}, {len(referrals)} open referrals, time limit {limit:g} s", actor=user)
    session.commit()
    jobs.submit(execute_run, run.id)
    return run


def _set(session: Session, run: MatcherRun, **values) -> None:
    for key, value in values.items():
        setattr(run, key, value)
    session.add(run)
    session.commit()


@contextmanager
def _progress_ticker(run_id: int, time_limit: float):
    """While CP-SAT works, move the run's progress with the time spent against its limit.

    CP-SAT reports nothing along the way, and the time limit bounds the solve, so the
    elapsed share of it is an honest measure of how long is left at most.
    """
    app = current_app._get_current_object()
    stop = threading.Event()

    def tick() -> None:
        started = time.monotonic()
        with app.app_context():
            while not stop.wait(PROGRESS_EVERY):
                share = min(1.0, (time.monotonic() - started) / time_limit)
                with new_session() as session:
                    session.execute(sa.update(MatcherRun).where(MatcherRun.id == run_id, MatcherRun.status == "running")
                                    .values(progress=SOLVING + int((SOLVED - SOLVING) * share)))
                    session.commit()

    thread = threading.Thread(target=tick, name=f"matcher-run-{run_id}-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def execute_run(run_id: int) -> None:
    """The background job: snapshot, solve and store one run (progress on the way)."""
    config = current_app.config
    with new_session() as session:
        run = session.get(MatcherRun, run_id)
        if run is None or run.status != "queued":
            return
        _set(session, run, status="running", progress=10)
        try:
            data = snapshot(session, run.state)
            _set(session, run, instance=data, progress=SOLVING)
            with _progress_ticker(run_id, run.time_limit):
                result = solve(parse_instance(data), run.time_limit, config["MATCHER_WORKERS"])
            _store(session, run, result_to_json(result))
        except Exception as error:  # noqa: BLE001 - the run page must say it failed, whatever the cause
            session.rollback()
            current_app.logger.exception("matcher run %s failed", run_id)
            _set(session, session.get(MatcherRun, run_id), status="failed",
                 error=f"{type(error).__name__}: {error}"[:500], finished_at=utcnow())


def _store(session: Session, run: MatcherRun, result: dict) -> None:
    """Save the result JSON and one proposal per assignment, ranked by urgency, then fit."""
    urgency = {r["id"]: r["urgency"] for r in run.instance["referrals"]}
    ranked = sorted(result["assignments"], key=lambda a: (URGENCIES.index(urgency[a["referral"]]), -a["fit"], a["referral"]))
    for rank, assignment in enumerate(ranked, start=1):
        session.add(MatcherProposal(
            run_id=run.id, referral_id=parse_key(assignment["referral"]), home_id=parse_key(assignment["home"]),
            rank=rank, fit=assignment["fit"], reasons=assignment["reasons"],
        ))
    run.result, run.status, run.progress, run.finished_at = result, "done", 100, utcnow()
    session.add(run)
    audit.record(session, "matcher_run_finished", "matcher_run", run.id,
                 f"{len(ranked)} proposed, {len(result['unmatched'])} unmatched, {result['status']}")
    starter = session.get(User, run.started_by_id)
    alerts.alert(session, "matcher_done", [starter] if starter.is_active else [], alert_texts.matcher_done(run.state, len(ranked)),
                 f"/coordinator/runs/{run.id}")
    session.commit()


# --- reading ----------------------------------------------------------------------------

def runs(session: Session, state: str) -> list[MatcherRun]:
    """The state's latest runs, newest first."""
    return list(session.exec(
        select(MatcherRun).where(MatcherRun.state == state).order_by(MatcherRun.id.desc()).limit(RUNS_LISTED)
    ).all())


def longer_limit(run: MatcherRun) -> float:
    """The time limit offered for a re-run of `run` when it was not proven best."""
    return min(LONGEST_LIMIT, run.time_limit * LONGER)


def is_lost(run: MatcherRun) -> bool:
    """A queued or running run far past its time limit: its job died with its process."""
    limit = timedelta(seconds=run.time_limit) + LOST_AFTER
    return run.status in ("queued", "running") and utcnow() - run.created_at > limit


@dataclass(frozen=True)
class ProposalRow:
    proposal: MatcherProposal
    referral: Referral
    home: Home
    provider: str


@dataclass(frozen=True)
class UnmatchedRow:
    case_reference: str
    urgency: str
    code: str
    detail: str


@dataclass(frozen=True)
class RunView:
    run: MatcherRun
    proposals: list[ProposalRow]
    unmatched: list[UnmatchedRow]
    homes_in_snapshot: int
    referrals_in_snapshot: int


KEY = re.compile(r"\b([hr])(\d+)\b")


def _humanize(detail: str, names: dict[str, str]) -> str:
    """Replace the solver's keys (h12, r7) in a detail with home names and case references."""
    return KEY.sub(lambda m: names.get(m.group(0), m.group(0)), detail)


def run_view(session: Session, run: MatcherRun) -> RunView:
    """The run page's content: ranked proposals and every unmatched child with the reason."""
    rows = session.exec(
        select(MatcherProposal, Referral, Home, Organisation.name)
        .join(Referral, Referral.id == MatcherProposal.referral_id)
        .join(Home, Home.id == MatcherProposal.home_id)
        .join(Organisation, Organisation.id == Home.provider_id)
        .where(MatcherProposal.run_id == run.id).order_by(MatcherProposal.rank)
    ).all()
    proposals = [ProposalRow(*row) for row in rows]
    unmatched: list[UnmatchedRow] = []
    instance = run.instance or {"homes": [], "referrals": []}
    if run.result:
        home_ids = [parse_key(h["id"]) for h in instance["homes"]]
        referral_ids = [parse_key(r["id"]) for r in instance["referrals"]]
        names = {home_key(h.id): f"{h.name} ({h.city}, {h.state})"
                 for h in session.exec(select(Home).where(Home.id.in_(home_ids))).all()}
        referrals = {referral_key(r.id): r for r in session.exec(select(Referral).where(Referral.id.in_(referral_ids))).all()}
        names.update({key: r.case_reference for key, r in referrals.items()})
        urgency = {r["id"]: r["urgency"] for r in instance["referrals"]}
        order = {u: i for i, u in enumerate(URGENCIES)}
        for item in sorted(run.result["unmatched"], key=lambda u: (order[urgency[u["referral"]]], u["referral"])):
            unmatched.append(UnmatchedRow(
                names.get(item["referral"], item["referral"]), urgency[item["referral"]],
                UNMATCHED_TEXT.get(item["code"], item["code"]), _humanize(item["detail"], names),
            ))
    return RunView(run, proposals, unmatched, len(instance["homes"]), len(instance["referrals"]))


# --- approving --------------------------------------------------------------------------

def _snapshot_problem(session: Session, run: MatcherRun, referral: Referral, home: Home) -> str | None:
    """Why the run's snapshot no longer holds for this proposal, or None if it does."""
    if run.status != "done":
        return "This run has not finished."
    status = booking.effective_status(session, referral)
    if status not in ("open", "declined"):
        return f"Referral {referral.case_reference} is {status} now (it was open when the run took its snapshot)."
    then = next((r for r in run.instance["referrals"] if r["id"] == referral_key(referral.id)), None)
    now = referral_to_json(solver_referral(referral))
    if then is None:
        return f"Referral {referral.case_reference} was not in this run's snapshot."
    changed = sorted(key for key in now if now[key] != then.get(key))
    if changed:
        return (f"Referral {referral.case_reference} changed since the run ({', '.join(changed)}); "
                "start a new run for an up-to-date proposal.")
    if not home.is_active:
        return f"{home.name} is no longer taking referrals."
    return None


def _claim(session: Session, proposal: MatcherProposal, user: User) -> None:
    """Mark the proposal as being decided by `user`, or refuse if someone else got there first.

    A conditional UPDATE, so two coordinators approving the same proposal at once
    cannot both book it (nor record two different outcomes).
    """
    session.commit()
    claimed = session.execute(
        sa.update(MatcherProposal)
        .where(MatcherProposal.id == proposal.id, MatcherProposal.status == "proposed",
               MatcherProposal.decided_by_id.is_(None))
        .values(decided_by_id=user.id, decided_at=utcnow())
    ).rowcount
    session.commit()
    session.refresh(proposal)
    if claimed != 1:
        raise Conflict(f"This proposal was already {proposal.status if proposal.status != 'proposed' else 'being decided'}.")


def _decide(session: Session, proposal: MatcherProposal, user: User, status: str, reason: str = "",
            request_id: int | None = None) -> None:
    proposal.status, proposal.reason, proposal.request_id = status, reason[:300], request_id
    proposal.decided_by_id, proposal.decided_at = user.id, utcnow()
    session.add(proposal)
    audit.record(session, f"matcher_proposal_{status}", "matcher_proposal", proposal.id,
                 f"run {proposal.run_id} referral {proposal.referral_id} home {proposal.home_id}", actor=user)
    session.commit()


def approve(session: Session, user: User, proposal: MatcherProposal, hold_hours: float) -> PlacementRequest:
    """Book the proposal through the caseworker flow: hold the bed, then request the placement.

    Raises `Conflict` with the reason when the proposal is refused; the refusal is
    recorded on the proposal.
    """
    _claim(session, proposal, user)
    run = session.get(MatcherRun, proposal.run_id)
    referral = session.get(Referral, proposal.referral_id)
    home = session.get(Home, proposal.home_id)
    try:
        problem = _snapshot_problem(session, run, referral, home)
        if problem is not None:
            raise Conflict(problem)
        held = booking.hold(session, user, referral, home.id, hold_hours)
        try:
            request = booking.request_placement(session, user, referral, home.id)
        except ServiceError:
            session.rollback()
            booking.release_hold(session, user, referral, held)
            raise
    except ServiceError as error:
        session.rollback()
        _decide(session, proposal, user, "refused", error.message)
        raise Conflict(error.message) from error
    except Exception:
        session.rollback()  # an unexpected failure: leave the proposal open for another try
        session.execute(sa.update(MatcherProposal).where(MatcherProposal.id == proposal.id)
                        .values(decided_by_id=None, decided_at=None))
        session.commit()
        raise
    caseworker = session.get(User, referral.created_by_id)
    notifications.notify(session, [caseworker],
                         f"A coordinator requested a placement for {referral.case_reference} at {home.name} (matcher run {run.id}).",
                         f"/caseworker/referrals/{referral.id}")
    _decide(session, proposal, user, "approved", request_id=request.id)
    return request


@dataclass(frozen=True)
class BulkOutcome:
    approved: list[str]  # case references
    refused: list[tuple[str, str]]  # case reference, reason


def approve_many(session: Session, user: User, run: MatcherRun, proposal_ids: list[int] | None, hold_hours: float) -> BulkOutcome:
    """Approve the run's chosen proposals (None: every open one) in rank order, each on its own."""
    query = select(MatcherProposal, Referral.case_reference).join(Referral, Referral.id == MatcherProposal.referral_id).where(
        MatcherProposal.run_id == run.id, MatcherProposal.status == "proposed")
    if proposal_ids is not None:
        query = query.where(MatcherProposal.id.in_(proposal_ids))
    chosen = session.exec(query.order_by(MatcherProposal.rank)).all()
    if not chosen:
        raise ServiceError("Choose at least one proposal that is still open.")
    approved, refused = [], []
    for proposal, case_reference in chosen:
        try:
            approve(session, user, proposal, hold_hours)
        except Conflict as error:
            refused.append((case_reference, error.message))
        else:
            approved.append(case_reference)
    return BulkOutcome(approved, refused)
