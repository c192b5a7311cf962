#!/usr/bin/env python3
"""Benchmark: the operator's queue page ("Waiting youths") response time.

Prints the median of repeated requests (through the Flask test client, so server-side
time only) as the demo's Harbor Light operator, on the demo world and then with
`--youths` more waiting MO youths with consent on file (600: about the largest state's
open referrals in the national load world). Uses a throw-away SQLite file, or
DATABASE_URL if set to a PostgreSQL database you can overwrite.

    python scripts/bench_queue.py [--repeat 15] [--youths 600]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import timedelta

from sqlmodel import Session, select

from bench_app import demo_app, signed_in  # scripts/, beside this file
from placement.demo.queue import QUEUE_OPERATOR
from placement.models import Organisation, Referral, ReferralConsent, User
from placement.timeutil import utcnow


def _time_queue(client, repeat: int) -> tuple[float, int]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get("/provider/queue?all=1")  # every waiting youth, not the phone's first 25
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(timings) * 1000, response.get_data(as_text=True).count('data-testid="queue-')


def _add_youths(session: Session, count: int) -> None:
    rng = random.Random(1)  # nosec B311 - synthetic benchmark data
    caseworker, agency = session.exec(
        select(User, Organisation).join(Organisation).where(User.role == "caseworker", Organisation.state == "MO")).first()
    now = utcnow()
    for index in range(count):
        referral = Referral(agency_id=agency.id, created_by_id=caseworker.id, case_reference=f"MO-BENCH-{index}",
                            age=rng.randint(11, 17), gender=rng.choice(["female", "female", "male", "nonbinary"]),
                            urgency=rng.choice(["emergency", "urgent", "planned"]), custody_state="MO", icpc_approved_states=[],
                            programs=[], county="Boone", lat=38.95 + rng.uniform(-1, 1), lon=-92.33 + rng.uniform(-1, 1),
                            language="en", mental_health_level=rng.randint(0, 2))
        session.add(referral)
        session.flush()
        session.add(ReferralConsent(referral_id=referral.id, kind="release", youth_assented=True, recipients="Bench intake staff",
                                    information="Bench needs", signed_at=now - timedelta(hours=1),
                                    expires_at=now + timedelta(days=30), recorded_by_id=caseworker.id))
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--youths", type=int, default=600)
    args = parser.parse_args()
    app, engine = demo_app()
    client = signed_in(app, QUEUE_OPERATOR)
    print(f"database: {engine.dialect.name}; load average {os.getloadavg()[0]:.2f}")
    median, shown = _time_queue(client, args.repeat)
    print(f"demo world: median {median:.1f} ms over {args.repeat} requests, {shown} youths shown")
    with Session(engine) as session:
        _add_youths(session, args.youths)
    median, shown = _time_queue(client, args.repeat)
    print(f"with {args.youths:,} more waiting MO youths: median {median:.1f} ms over {args.repeat} requests, {shown} youths shown; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
