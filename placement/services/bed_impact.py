"""How good a matcher run is, and where one more bed would help most.

Two readings of a finished run for the coordinator:

- `shortfall`: for a run the solver did not prove best, per tier, how many more youths
  might still be placeable (the proven bound minus the youths placed). A longer run can
  find them or prove they cannot be.
- `where_beds_help`: the solver's bed-impact answer (`solver.impact.bed_impact`): for the
  homes where one more staffed bed, or one more staff member on duty, would place the
  most youths tonight (most urgent first), how many and which (case references only).
  It re-solves the run's snapshot, so it runs as a background job and its answer is
  stored on the run (`MatcherRun.impact`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlmodel import Session, select

from solver.impact import bed_impact
from solver.instance import URGENCIES, parse_instance

from .. import audit, jobs
from ..database import new_session
from ..models import Home, MatcherRun, Referral, User
from .errors import ServiceError
from .solver_inputs import parse_key
from .tables import Table

TOP = 10  # homes listed
CHANGE_TEXT = {"bed": "one more staffed bed", "staff": "one more staff member on duty"}


@dataclass(frozen=True)
class Shortfall:
    """One tier of a run not proven best: placed, and at most how many more might be."""

    tier: str
    placed: int
    more: int

    @property
    def words(self) -> str:
        youths = "youth" if self.more == 1 else "youths"
        return (f"{self.placed} {self.tier} placed; up to {self.more} more {self.tier} {youths} "
                "might still be placeable")


def shortfall(run: MatcherRun) -> list[Shortfall]:
    """Per tier with a gap, for a finished run not proven best; empty when proven."""
    result = run.result or {}
    if result.get("status") != "feasible":
        return []
    levels = {level["name"]: level for level in result.get("levels", [])}
    found = []
    for tier in URGENCIES:
        level = levels.get(tier)
        if level is not None and level["bound"] > level["value"]:
            found.append(Shortfall(tier, int(level["value"]), int(level["bound"] - level["value"])))
    return found


def start(session: Session, user: User, run: MatcherRun) -> None:
    """Queue the bed-impact job for a finished run (once; a second request waits for it)."""
    if run.status != "done" or not run.result:
        raise ServiceError("The run has not finished: where one more bed helps can only be worked out "
                           "from a finished run.")
    if run.impact and run.impact.get("status") == "working":
        return
    run.impact = {"status": "working"}
    session.add(run)
    audit.record(session, "bed_impact_started", "matcher_run", run.id, f"state {run.state}", actor=user)
    session.commit()
    jobs.submit(execute, run.id)


def execute(run_id: int) -> None:
    """The background job: re-solve the run's snapshot per home and store the best `TOP`."""
    config = current_app.config
    with new_session() as session:
        run = session.get(MatcherRun, run_id)
        if run is None or not run.result:
            return
        try:
            report = bed_impact(parse_instance(run.instance), run.result, run.time_limit,
                                config["MATCHER_WORKERS"], top=TOP)
            impacts = [i for i in report.impacts if any(i.key)][:TOP]
            run.impact = {
                "status": "done", "complete": report.complete, "seconds": round(report.seconds, 1),
                "homes": [{"home": i.home, "change": i.change, "places": i.places, "gained": i.gained,
                           "serves": list(i.serves), "proven": i.proven} for i in impacts],
            }
        except Exception as error:  # noqa: BLE001 - the page must say it failed, whatever the cause
            current_app.logger.exception("bed impact for run %s failed", run_id)
            run.impact = {"status": "failed", "error": f"{type(error).__name__}: {error}"[:500]}
        session.add(run)
        session.commit()


def table(session: Session, run: MatcherRun) -> Table:
    """The stored answer as a report table (the page and its CSV): case references only."""
    columns = ("Rank", "Home", "Change", "Places added", "More emergency", "More urgent", "More planned",
               "Youths it would place")
    homes_found = (run.impact or {}).get("homes", [])
    home_ids = {parse_key(item["home"]) for item in homes_found}
    referral_ids = {parse_key(key) for item in homes_found for key in item["serves"]}
    homes = {h.id: h for h in session.exec(select(Home).where(Home.id.in_(home_ids))).all()} if home_ids else {}
    cases = ({r.id: r.case_reference for r in session.exec(select(Referral).where(Referral.id.in_(referral_ids))).all()}
             if referral_ids else {})
    rows = []
    for rank, item in enumerate(homes_found, start=1):
        home = homes.get(parse_key(item["home"]))
        name = f"{home.name} ({home.city}, {home.state})" if home else item["home"]
        served = ", ".join(cases.get(parse_key(key), key) for key in item["serves"])
        rows.append((rank, name, CHANGE_TEXT[item["change"]], item["places"],
                     *(item["gained"][t] for t in URGENCIES), served))
    return Table("bed-impact", "Where one more bed helps most", columns, rows)
