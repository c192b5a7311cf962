"""App CPU of the coordinator's "Needs a bed now" and "Unmet need" pages for the largest
state, in-process (Flask test client, no HTTP), signed in as one of its coordinators.

    python scripts/bench_coordinator_pages.py postgresql+psycopg://postgres@127.0.0.1:5432/<seeded db> [runs]

Prints, per page, the median and minimum process CPU time of a request, the page size and
the load average. Run it with another checkout first on PYTHONPATH to compare code.
"""
from __future__ import annotations

import os
import re
import statistics
import sys
import time

import psycopg
from sqlmodel import Session, select

from placement import create_app
from placement.models import Organisation, User

PASSWORD = "bench-password-not-secret-1"  # nosec B105 - bench_load.py's synthetic accounts
PAGES = ("/coordinator/needs-a-bed", "/coordinator/needs-a-bed?all=1", "/coordinator/unmet-need",
         "/coordinator/unmet-need?all=1")


def main(url: str, runs: int) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SAFEBED_MODE": "demo", "SCHEDULER": "off"})
    app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain HTTP
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        state = conn.execute("SELECT state FROM home GROUP BY state ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    with Session(app.extensions["safebed_engine"]) as session:
        coordinator = session.exec(select(User).join(Organisation, Organisation.id == User.organisation_id)
                                   .where(User.role == "coordinator", Organisation.state == state,
                                          User.is_active.is_(True))).first()
        email = coordinator.email
    client = app.test_client()
    form = client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', form).group(1)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    print(f"{state}: median of {runs} (first request dropped); {sys.modules['placement'].__file__}")
    for page in PAGES:
        client.get(page)
        cpu, size = [], 0
        for _ in range(runs):
            started = time.process_time()
            answer = client.get(page)
            cpu.append((time.process_time() - started) * 1000)
            assert answer.status_code == 200, (page, answer.status_code, answer.location)
            size = len(answer.data)
        print(f"{page:36} app CPU median {statistics.median(cpu):7.1f} ms (min {min(cpu):6.1f}); "
              f"{size / 1024:6.0f} KB; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7)
