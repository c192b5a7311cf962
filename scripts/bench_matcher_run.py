#!/usr/bin/env python3
"""Benchmark: a coordinator's matcher run from start to stored result.

Times `matcher_runs.start_run` with the job queue in "sync" mode, so one call is the
whole run: the open-referral and home counts, the snapshot (rows to instance JSON),
the CP-SAT solve, and storing the result and ranked proposals. Reports the median of
`--repeat` runs over the demo state (MO) and over a generated state (TX) with 300
homes and 1,000 referrals. Uses a throw-away SQLite file, or DATABASE_URL if set to a
PostgreSQL database you can overwrite.

    python scripts/bench_matcher_run.py [--repeat 3] [--time-limit 20] [--workers 4]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

from sqlmodel import Session, select

from placement import create_app, migrate
from placement.demo import seed
from placement.models import AvailabilityUpdate, Home, MatcherRun, Referral, User
from placement.services import accounts, matcher_runs
from solver.geodata import CITIES

PROGRAMS = ["crisis_stabilization", "short_term", "long_term", "transitional", "therapeutic_foster"]


def _generate_state(session: Session, state: str, homes: int, referrals: int) -> User:
    """A synthetic state: `homes` homes around its cities and `referrals` open referrals; returns its coordinator."""
    rng = random.Random(5)  # nosec B311 - synthetic benchmark data
    cities = CITIES[state]
    providers = []
    for n in range(homes // 10):
        provider = accounts.create_organisation(session, f"Bench Provider {state} {n}", "provider", state)
        providers.append((provider, accounts.create_user(session, provider, f"op{n}.{state.lower()}@bench.example", "Op", "operator", "bench-password-long")))
    agency = accounts.create_organisation(session, f"Bench Agency {state}", "agency", state)
    caseworker = accounts.create_user(session, agency, f"cw.{state.lower()}@bench.example", "CW", "caseworker", "bench-password-long")
    office = accounts.create_organisation(session, f"Bench Office {state}", "coordinator_office", state)
    coordinator = accounts.create_user(session, office, f"co.{state.lower()}@bench.example", "Co", "coordinator", "bench-password-long")
    session.flush()
    for n in range(homes):
        provider, operator = providers[n % len(providers)]
        city, lat, lon = rng.choice(cities)
        licensed = rng.randint(3, 10)
        home = Home(
            provider_id=provider.id, name=f"Bench Home {n}", program=rng.choice(PROGRAMS), state=state, county=city,
            city=city, lat=round(lat + rng.uniform(-0.3, 0.3), 2), lon=round(lon + rng.uniform(-0.3, 0.3), 2),
            street_address="1 Bench Lane (synthetic)", licensed_beds=licensed, min_age=rng.choice([10, 12, 14]),
            max_age=rng.choice([17, 18, 21]), genders=rng.choice([["female"], ["female", "nonbinary"], ["female", "male", "nonbinary"], ["male"]]),
            accepts_pregnant=rng.random() < 0.4, accepts_parenting=rng.random() < 0.25,
            substance_use_support=rng.choice(["none", "recovery", "recovery", "detox"]), medical_level=rng.randint(0, 3),
            mental_health_level=rng.randint(1, 3), languages=["en"] + (["es"] if rng.random() < 0.4 else []),
            cultural_services=[], accepts_out_of_state=False,
        )
        session.add(home)
        session.flush()
        current = rng.randint(0, licensed - 1)
        session.add(AvailabilityUpdate(home_id=home.id, open_beds=rng.randint(0, licensed - current), licensed_beds=licensed,
                                       staff_on_duty=rng.randint(1, 3), youth_per_staff=rng.choice([2, 3, 4]),
                                       current_youth=current, recorded_by_id=operator.id))
    for n in range(referrals):
        city, lat, lon = rng.choice(cities)
        session.add(Referral(
            agency_id=agency.id, created_by_id=caseworker.id, case_reference=f"{state}-BENCH-{n}",
            age=rng.choice([12, 13, 14, 15, 16, 17, 19]), gender=rng.choice(["female", "female", "male", "nonbinary"]),
            urgency=rng.choice(["emergency", "urgent", "urgent", "planned"]), pregnant=rng.random() < 0.08,
            children_with=1 if rng.random() < 0.08 else 0, substance_use=rng.choice(["none", "none", "recovery", "active"]),
            medical_level=rng.choice([0, 0, 1, 2]), mental_health_level=rng.choice([0, 1, 2, 3]),
            language=rng.choice(["en", "en", "es"]), custody_state=state, icpc_approved_states=[], programs=[],
            county=city, lat=round(lat + rng.uniform(-0.3, 0.3), 2), lon=round(lon + rng.uniform(-0.3, 0.3), 2),
            has_run_before=rng.random() < 0.3,
        ))
    session.commit()
    return coordinator


def _time_runs(app, user_id: int, state: str, repeat: int) -> dict:
    engine = app.extensions["safebed_engine"]
    timings, overheads, last = [], [], None
    for _ in range(repeat):
        with app.test_request_context(), Session(engine, expire_on_commit=False) as session:
            user = session.get(User, user_id)
            started = time.perf_counter()
            run = matcher_runs.start_run(session, user, state)
            timings.append(time.perf_counter() - started)
            last = session.get(MatcherRun, run.id)
            session.refresh(last)
            assert last.status == "done", last.error
            overheads.append(timings[-1] - last.result["solve_seconds"])
    return {
        "median_s": statistics.median(timings), "runs_s": timings, "solve_s": last.result["solve_seconds"],
        "overhead_s": statistics.median(overheads),
        "status": last.result["status"], "homes": len(last.instance["homes"]), "referrals": len(last.instance["referrals"]),
        "proposed": len(last.result["assignments"]), "unmatched": len(last.result["unmatched"]),
    }


def _report(name: str, figures: dict) -> None:
    runs = ", ".join(f"{t:.2f}" for t in figures["runs_s"])
    print(f"{name}: {figures['homes']} homes, {figures['referrals']} referrals -> median {figures['median_s']:.2f} s "
          f"(runs {runs} s; snapshot + store {figures['overhead_s']:.2f} s; last solve {figures['solve_s']:.2f} s, "
          f"{figures['status']}; "
          f"{figures['proposed']} proposed, {figures['unmatched']} unmatched)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per run (default: the app's, 20)")
    parser.add_argument("--workers", type=int, default=None, help="CP-SAT threads (default: the app's, 4)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    migrate.upgrade(url)
    config = {"DATABASE_URL": url, "SAFEBED_MODE": "demo", "SECRET_KEY": "bench", "JOB_QUEUE_URL": "sync"}
    if args.time_limit:
        config["MATCHER_TIME_LIMIT"] = args.time_limit
    if args.workers:
        config["MATCHER_WORKERS"] = args.workers
    app = create_app(config)
    print(f"time limit {app.config['MATCHER_TIME_LIMIT']:g} s, {app.config['MATCHER_WORKERS']} CP-SAT workers, "
          f"{os.cpu_count()} CPUs, {url.split(':')[0]}")
    with Session(app.extensions["safebed_engine"], expire_on_commit=False) as session:
        seed(session)
        demo_coordinator = session.exec(select(User).where(User.email == "coordinator.mo@safebed.example")).one().id
        generated_coordinator = _generate_state(session, "TX", homes=300, referrals=1000).id
    _report("demo state MO", _time_runs(app, demo_coordinator, "MO", args.repeat))
    _report("generated state TX", _time_runs(app, generated_coordinator, "TX", args.repeat))


if __name__ == "__main__":
    main()
