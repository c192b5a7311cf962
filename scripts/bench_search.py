#!/usr/bin/env python3
"""Benchmark: the caseworker search page's response time.

Prints the median of repeated requests (through the Flask test client, so
server-side time only) on the demo world, then with 2,000 homes in the
referral's reach. Uses a throw-away SQLite file, or DATABASE_URL if set to a
PostgreSQL database you can overwrite.

    python scripts/bench_search.py [--repeat 15] [--profile 25]

--profile N also runs the 2,000-home search under cProfile and prints the N functions
with the most time of their own, to see what dominates before changing anything.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import time

from sqlmodel import Session, select

from bench_app import demo_app, signed_in  # scripts/, beside this file
from placement.models import AvailabilityUpdate, Home, Organisation, Referral, User


def _time_search(client, referral_id: int, repeat: int) -> tuple[float, float, float, int]:
    """Median wall time, median and least CPU time of this thread (ms) per search page, and
    the candidates shown. The CPU time is what the request itself costs: a busy machine
    (other processes queueing for the cores) inflates the wall time, hardly this; the least
    CPU time is the request least disturbed by a neighbour sharing its core."""
    timings, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = client.get(f"/caseworker/referrals/{referral_id}/search")
        timings.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
        assert response.status_code == 200
    shown = response.get_data(as_text=True).count('data-testid="candidate-')
    return statistics.median(timings) * 1000, statistics.median(cpu) * 1000, min(cpu) * 1000, shown


def _add_homes(session: Session, count: int, state: str) -> None:
    rng = random.Random(1)  # nosec B311 - synthetic benchmark data
    provider = session.exec(select(Organisation).where(Organisation.kind == "provider", Organisation.state == state)).first()
    for index in range(count):
        home = Home(provider_id=provider.id, name=f"Bench Home {index}", program=rng.choice(["crisis_stabilization", "short_term", "long_term"]),
                    state=state, county="Boone", city="Columbia", lat=38.9 + rng.uniform(-1, 1), lon=-92.3 + rng.uniform(-1, 1),
                    street_address="1 Bench Lane (synthetic)", licensed_beds=6, min_age=rng.choice([10, 12]), max_age=17,
                    genders=["female", "male", "nonbinary"], substance_use_support="recovery", medical_level=2, mental_health_level=2,
                    languages=["en"], cultural_services=[], accepts_out_of_state=False)
        session.add(home)
        session.flush()
        session.add(AvailabilityUpdate(home_id=home.id, open_beds=2, licensed_beds=6, staff_on_duty=2, youth_per_staff=3, current_youth=3))
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N functions with most own time")
    args = parser.parse_args()
    app, engine = demo_app()
    with Session(engine) as session:
        caseworker, agency = session.exec(
            select(User, Organisation).join(Organisation).where(User.role == "caseworker", Organisation.state == "MO")
        ).first()
        referral = Referral(agency_id=agency.id, created_by_id=caseworker.id, case_reference="MO-BENCH-1", age=15, gender="female",
                            urgency="emergency", custody_state="MO", icpc_approved_states=[], programs=[], county="Boone",
                            lat=38.95, lon=-92.33, language="en")
        session.add(referral)
        session.commit()
        email, referral_id = caseworker.email, referral.id
    client = signed_in(app, email)
    print(f"database: {engine.dialect.name}")
    with Session(engine) as session:
        homes = len(session.exec(select(Home.id)).all())
    _time_search(client, referral_id, 2)  # warm-up: templates compiled, statements cached
    first = _time_search(client, referral_id, args.repeat)
    _report(f"demo world ({homes} homes)", first, args.repeat)
    with Session(engine) as session:
        _add_homes(session, 2000, "MO")
    _time_search(client, referral_id, 2)
    second = _time_search(client, referral_id, args.repeat)
    _report("with 2,000 more homes in MO", second, args.repeat)
    print(f"ratio: {second[0] / first[0]:.1f}x wall, {second[1] / first[1]:.1f}x CPU; "
          f"load average {os.getloadavg()[0]:.2f} (1 min)")
    if args.profile:
        _profile(client, referral_id, args.repeat, args.profile)


def _profile(client, referral_id: int, repeat: int, top: int) -> None:
    """The search under cProfile: the `top` functions by own time, then by cumulative time."""
    profiler = cProfile.Profile()
    profiler.runcall(_time_search, client, referral_id, repeat)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def _report(label: str, figures: tuple[float, float, int], repeat: int) -> None:
    wall, cpu, least_cpu, shown = figures
    print(f"{label}: median {wall:.1f} ms wall, {cpu:.1f} ms CPU (least {least_cpu:.1f}) over {repeat} requests, {shown} candidates shown "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
