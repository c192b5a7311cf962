#!/usr/bin/env python3
"""Load benchmark: a synthetic national world on PostgreSQL, gunicorn, and a mix of users.

1. Seeds a PostgreSQL database (default `i16_national` on 127.0.0.1) with a generated
   national world: 50 states, 5,000 homes, 300 agencies, 2,000 users, 50,000
   referrals, 1,000,000 audit events, 1,000,000 availability updates and 20,000
   placements at --scale 1 (every count is multiplied by --scale). It runs the Alembic
   migrations first and loads the rows with COPY. Everything is synthetic: no real
   names, addresses or youths. --reuse keeps a database that is already seeded.
2. Starts gunicorn on 127.0.0.1 with the app on that database (SAFEBED_DB_TIMING=1,
   so each response carries the database time and statement count in a header).
3. Drives a mix of caseworkers (list, referral, search, hold/release, request/withdraw),
   operators (homes, availability, requests), coordinators (dashboard, outcomes,
   unmet need, needs a bed, CSV export), audit readers (audit log pages, filtered CSV)
   and API clients (bearer tokens) with N concurrent users, each bounded by a request
   count and the whole run by a time limit, and prints requests/s and p50/p95/p99 per
   page and API operation, errors, and median database time and statements per request.

    python scripts/bench_load.py --scale 0.1 --users 16              # quick run, seeds i16_national
    python scripts/bench_load.py --reuse --users 16 64 --requests 60  # re-use the seeded database
    python scripts/bench_load.py --seed-only                          # only seed

`--compare BEFORE.json AFTER.json` prints two --json runs side by side as a Markdown table.

Also `--measure`: the largest state's dashboard, outcomes, unmet need and matcher
snapshot (server-side, median of 5), and the peak memory of the full audit CSV export.
"""
from __future__ import annotations

import argparse
import gc
import html
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solver.geodata import CITIES, FIFTY_STATES, POPULATION_M  # noqa: E402
from solver.instance import PROGRAMS  # noqa: E402

PASSWORD = "bench-password-not-secret-1"  # nosec B105 - synthetic benchmark accounts
SERVER = "postgresql://postgres@127.0.0.1:5432"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
SEED_MARK = "bench_load_seeded_v2"  # v2: with consents; an older seed is made anew
# Only a database with one of these prefixes is dropped and re-seeded: never a real one.
BENCH_DATABASE_PREFIXES = ("i16_", "safebed_i16_")
ACTIONS = ("referral_viewed", "search", "hold_created", "request_created", "availability_updated", "login",
           "capacity_viewed", "referral_listed", "request_answered", "export", "outcomes_viewed")


# --- the national world ------------------------------------------------------------------

def _counts(scale: float) -> dict[str, int]:
    base = {"homes": 5000, "agencies": 300, "users": 2000, "referrals": 50000, "audit": 1_000_000,
            "availability": 1_000_000, "placements": 20000}
    return {key: max(1, int(value * scale)) for key, value in base.items()}


def _weighted_states(rng: random.Random, n: int) -> list[str]:
    """`n` states drawn in proportion to population (every state at least once when n >= 50)."""
    states = list(FIFTY_STATES)
    weights = [POPULATION_M[s] for s in states]
    drawn = states[:n] if n <= len(states) else states + rng.choices(states, weights, k=n - len(states))
    rng.shuffle(drawn)
    return drawn


def _near(rng: random.Random, state: str) -> tuple[str, float, float]:
    city, lat, lon = rng.choice(CITIES[state])
    return city, round(lat + rng.uniform(-0.4, 0.4), 3), round(lon + rng.uniform(-0.4, 0.4), 3)


def _copy(cur, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def seed(url: str, scale: float, seed_value: int = 16) -> dict:
    """Create the national world in the database at `url` (already migrated and empty)."""
    from placement.passwords import hash_password
    from placement.services.api_tokens import token_hash

    rng = random.Random(seed_value)  # nosec B311 - synthetic data
    counts = _counts(scale)
    password_hash = hash_password(PASSWORD)
    t0 = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        # Organisations: agencies, providers (about 5 homes each), one coordinator office per state, admins.
        orgs, org_id = [], 0
        agencies, providers, offices = [], [], {}
        for state in _weighted_states(rng, counts["agencies"]):
            org_id += 1
            agencies.append((org_id, state))
            orgs.append((org_id, f"Synthetic Agency {org_id:04d} ({state})", "agency", state, NOW))
        home_states = _weighted_states(rng, counts["homes"])
        provider_count = max(50, counts["homes"] // 5)
        provider_states = home_states[:provider_count] if provider_count <= len(home_states) else home_states
        for state in provider_states:
            org_id += 1
            providers.append((org_id, state))
            orgs.append((org_id, f"Synthetic Provider {org_id:04d} ({state})", "provider", state, NOW))
        for state in FIFTY_STATES:
            org_id += 1
            offices[state] = org_id
            orgs.append((org_id, f"Synthetic Coordination Office {state}", "coordinator_office", state, NOW))
        org_id += 1
        admin_org = org_id
        orgs.append((org_id, "Synthetic Platform Team", "coordinator_office", "MO", NOW))
        _copy(cur, "organisation", ("id", "name", "kind", "state", "created_at"), orgs)

        # Users: an operator per provider, caseworkers for every agency, a coordinator per state, admins.
        users, user_id = [], 0
        operators: dict[int, list[int]] = defaultdict(list)
        caseworkers: dict[int, list[int]] = defaultdict(list)
        coordinators: dict[str, int] = {}
        admins = []

        def user(role: str, org: int, can_audit: bool = False) -> int:
            nonlocal user_id
            user_id += 1
            users.append((user_id, f"{role}{user_id:05d}@bench.example", f"Synthetic {role.title()} {user_id}", password_hash,
                          role, org, "America/Chicago", True, can_audit, 0, 1, NOW))
            return user_id

        for org, _ in providers:
            operators[org].append(user("operator", org))
        for state, org in offices.items():
            coordinators[state] = user("coordinator", org)
        for index in range(4):
            admins.append(user("admin", admin_org, can_audit=True))
        remaining = max(len(agencies), counts["users"] - len(users))
        for index in range(remaining):
            org, _ = agencies[index % len(agencies)]
            caseworkers[org].append(user("caseworker", org))
        _copy(cur, "app_user", ("id", "email", "display_name", "password_hash", "role", "organisation_id", "timezone",
                                "is_active", "can_view_audit", "failed_logins", "session_version", "created_at"), users)

        # Homes.
        homes = []
        provider_by_state: dict[str, list[int]] = defaultdict(list)
        for org, state in providers:
            provider_by_state[state].append(org)
        for home_id, state in enumerate(home_states, start=1):
            org = rng.choice(provider_by_state.get(state) or [p for p, _ in providers])
            city, lat, lon = _near(rng, state)
            beds = rng.choice([4, 6, 6, 8, 10, 12])
            min_age = rng.choice([10, 12, 12, 14])
            homes.append((home_id, org, f"Synthetic Home {home_id:05d}", rng.choice(PROGRAMS), state, f"{city} County", city,
                          lat, lon, "1 Synthetic Way (not a real address)", "", beds, min_age, rng.choice([17, 17, 18, 21]),
                          json.dumps(rng.choice([["female"], ["female", "nonbinary"], ["male"], ["female", "male", "nonbinary"]])),
                          rng.random() < 0.2, rng.random() < 0.15, rng.choice(["none", "recovery", "detox"]),
                          rng.randint(0, 3), rng.randint(0, 3), json.dumps(["en"] + (["es"] if rng.random() < 0.3 else [])),
                          json.dumps(["native"] if rng.random() < 0.05 else []), rng.random() < 0.3, rng.random() < 0.97,
                          0, NOW - timedelta(days=400), NOW))
        _copy(cur, "home", ("id", "provider_id", "name", "program", "state", "county", "city", "lat", "lon", "street_address",
                            "contact_phone", "licensed_beds", "min_age", "max_age", "genders", "accepts_pregnant",
                            "accepts_parenting", "substance_use_support", "medical_level", "mental_health_level", "languages",
                            "cultural_services", "accepts_out_of_state", "is_active", "lock_version", "created_at", "updated_at"),
              homes)
        homes_by_state: dict[str, list[tuple]] = defaultdict(list)
        for home in homes:
            homes_by_state[home[4]].append(home)

        # Availability log: spread over 90 days, each home's latest within the last 30 hours (some stale).
        per_home = max(1, counts["availability"] // len(homes))

        def availability_rows():
            row_id = 0
            for home in homes:
                beds = home[11]
                recorder = operators[home[1]][0]
                latest = NOW - timedelta(hours=rng.uniform(0.2, 30))
                step = timedelta(days=90) / per_home
                for k in range(per_home):
                    row_id += 1
                    open_beds = rng.randint(0, beds // 2)
                    youths = rng.randint(0, beds - open_beds)
                    yield (row_id, home[0], open_beds, beds, rng.randint(1, 4), 3, youths, recorder, "",
                           latest - step * (per_home - 1 - k))
        n_avail = _copy(cur, "availability_update", ("id", "home_id", "open_beds", "licensed_beds", "staff_on_duty",
                                                     "youth_per_staff", "current_youth", "recorded_by_id", "note", "recorded_at"),
                        availability_rows())

        # Referrals over the last year; the last weeks' are still open, held or requested.
        referral_rows, referral_info = [], []
        for referral_id in range(1, counts["referrals"] + 1):
            org, state = agencies[rng.randrange(len(agencies))]
            created = NOW - timedelta(days=365 * rng.random() ** 1.3)
            recent = NOW - created < timedelta(days=21)
            status = rng.choice(["open", "open", "held", "requested"]) if recent else rng.choice(["closed", "placed", "placed"])
            _, lat, lon = _near(rng, state)
            icpc = rng.sample(FIFTY_STATES, 1) if rng.random() < 0.1 else []
            referral_rows.append((referral_id, org, rng.choice(caseworkers[org]), f"{state}-{referral_id:06d}", rng.randint(10, 17),
                                  rng.choice(["female", "female", "male", "nonbinary"]), rng.choice(["emergency", "urgent", "planned"]),
                                  rng.random() < 0.05, 0, rng.choice(["none", "none", "recovery", "active"]), rng.randint(0, 2),
                                  rng.randint(0, 2), "en", None, state, json.dumps(icpc),
                                  json.dumps(rng.sample(PROGRAMS, 1) if rng.random() < 0.3 else []), "Synthetic County",
                                  lat, lon, None, None, False, "", status, created, created))
            referral_info.append((referral_id, org, state, created, status))
        _copy(cur, "referral", ("id", "agency_id", "created_by_id", "case_reference", "age", "gender", "urgency", "pregnant",
                                "children_with", "substance_use", "medical_level", "mental_health_level", "language",
                                "cultural_need", "custody_state", "icpc_approved_states", "programs", "county", "lat", "lon",
                                "max_distance_km", "sibling_group", "has_run_before", "case_notes", "status", "created_at",
                                "updated_at"), referral_rows)

        # Requests, placements, holds and missing episodes.
        request_rows, placement_rows, hold_rows, episode_rows = [], [], [], []
        placed = [r for r in referral_info if r[4] == "placed"]
        rng.shuffle(placed)
        request_id = hold_id = placement_id = episode_id = 0
        for referral_id, org, state, created, status in referral_info:
            caseworker = caseworkers[org][0]
            local = homes_by_state.get(state) or homes
            if status in ("closed", "placed", "requested") and rng.random() < 0.35:
                request_id += 1
                home = rng.choice(local)
                answered = created + timedelta(hours=rng.uniform(0.2, 12))
                request_rows.append((request_id, referral_id, home[0], None, caseworker, 1, "declined",
                                     rng.choice(["no_bed", "no_staff", "criteria_mismatch", "safety", "acuity"]), "",
                                     operators[home[1]][0], min(answered, NOW), created))
            if status == "requested":
                request_id += 1
                home = rng.choice(local)
                request_rows.append((request_id, referral_id, home[0], None, caseworker, 1, "pending", None, "", None, None,
                                     created + timedelta(minutes=5)))
            elif status == "held":
                hold_id += 1
                home = rng.choice(local)
                started = NOW - timedelta(hours=rng.uniform(0, 3))
                hold_rows.append((hold_id, referral_id, home[0], caseworker, 1, started, started + timedelta(hours=4), None, ""))
        for referral_id, org, state, created, status in placed[:counts["placements"]]:
            caseworker = caseworkers[org][0]
            home = rng.choice(homes_by_state.get(state) or homes)
            request_id += 1
            started = min(NOW - timedelta(hours=1), created + timedelta(hours=rng.expovariate(1 / 30)))
            request_rows.append((request_id, referral_id, home[0], None, caseworker, 1, "accepted", None, "",
                                 operators[home[1]][0], started, created + timedelta(minutes=10)))
            placement_id += 1
            ended = reason = disruption = None
            if rng.random() < 0.6:
                ended = min(NOW, started + timedelta(days=rng.expovariate(1 / 40)))
                reason = rng.choice(["discharge", "discharge", "transfer", "missing"])
                if reason == "transfer" and rng.random() < 0.5:
                    disruption = rng.choice(["no_staff", "safety", "acuity", "other"])
            placement_rows.append((placement_id, referral_id, home[0], request_id, 1, started, ended, reason or "", None, "",
                                   disruption))
            if reason == "missing":
                episode_id += 1
                seen = ended
                reported = seen + timedelta(minutes=30)
                located = seen + timedelta(days=2) if seen + timedelta(days=2) < NOW else None
                episode_rows.append((episode_id, placement_id, referral_id, home[0], seen, reported, caseworker,
                                     reported + timedelta(hours=24), None, None, located,
                                     "Synthetic County" if located else None, "self" if located else None,
                                     caseworker if located else None, "no" if located else None,
                                     "none" if located else None, json.dumps(["declined"] if located else []),
                                     located, caseworker if located else None, located, False))
        _copy(cur, "placement_request", ("id", "referral_id", "home_id", "hold_id", "requested_by_id", "places", "status",
                                         "decline_reason", "decline_note", "answered_by_id", "answered_at", "created_at"),
              request_rows)
        _copy(cur, "hold", ("id", "referral_id", "home_id", "created_by_id", "places", "created_at", "expires_at",
                            "released_at", "release_reason"), hold_rows)
        _copy(cur, "placement", ("id", "referral_id", "home_id", "request_id", "places", "started_at", "ended_at",
                                 "end_reason", "ended_by_id", "end_note", "disruption_reason"), placement_rows)
        _copy(cur, "missing_episode", ("id", "placement_id", "referral_id", "home_id", "last_seen_at", "reported_at",
                                       "reported_by_id", "reports_due_at", "overdue_notified_at", "bed_hold_id", "located_at",
                                       "located_county", "located_by", "located_recorded_by_id", "screening_exploited",
                                       "screening_health", "screening_services", "screened_at", "screened_by_id", "closed_at",
                                       "referral_reopened"), episode_rows)

        # A release of information for every referral still looking for a bed, so that a
        # placement request goes through as in real use (without one it is refused).
        consent_rows = [(consent_id, referral_id, "release", True, "Synthetic: placing homes", "Synthetic: needs",
                         created, created + timedelta(days=365), "", "", caseworkers[org][0], created)
                        for consent_id, (referral_id, org, _, created, status) in enumerate(
                            (r for r in referral_info if r[4] in ("open", "held", "requested")), start=1)]
        _copy(cur, "referral_consent", ("id", "referral_id", "kind", "youth_assented", "recipients", "information",
                                        "signed_at", "expires_at", "override_reason", "approved_by", "recorded_by_id",
                                        "recorded_at"), consent_rows)

        # The audit log: a year of events by every kind of user.
        user_orgs = [(u[0], u[5]) for u in users]

        def audit_rows():
            for event_id in range(1, counts["audit"] + 1):
                actor, org = user_orgs[rng.randrange(len(user_orgs))]
                yield (event_id, NOW - timedelta(seconds=int(365 * 86400 * (1 - event_id / counts["audit"]))), actor, org,
                       rng.choice(ACTIONS), "referral", rng.randint(1, counts["referrals"]), "synthetic event", "127.0.0.1")
        n_audit = _copy(cur, "audit_event", ("id", "at", "actor_id", "organisation_id", "action", "object_type",
                                             "object_id", "detail", "ip"), audit_rows())

        # API tokens for the load's API clients: "sbt_bench_<user id>" (synthetic, local only).
        token_rows = []
        api_users = [ids[0] for ids in caseworkers.values()][:64] + [ids[0] for ids in operators.values()][:64]
        for token_id, uid in enumerate(api_users, start=1):
            row = users[uid - 1]
            token = f"sbt_bench_{uid}"
            token_rows.append((token_id, uid, "bench", token_hash(token), token[:12], row[4], row[5], NOW,
                               NOW + timedelta(days=365)))
        _copy(cur, "api_token", ("id", "user_id", "name", "token_hash", "prefix", "role", "organisation_id", "created_at",
                                 "expires_at"), token_rows)

        for table in ("organisation", "app_user", "home", "availability_update", "referral", "placement_request", "hold",
                      "placement", "missing_episode", "referral_consent", "audit_event", "api_token"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
        cur.execute(f"CREATE TABLE {SEED_MARK} (scale float, seeded_at timestamptz)")
        cur.execute(f"INSERT INTO {SEED_MARK} VALUES (%s, now())", (scale,))
        conn.commit()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    figures = {"organisations": len(orgs), "users": len(users), "homes": len(homes), "availability": n_avail,
               "referrals": len(referral_rows), "requests": len(request_rows), "placements": len(placement_rows),
               "holds": len(hold_rows), "missing episodes": len(episode_rows), "consents": len(consent_rows), "audit events": n_audit,
               "seconds": round(time.perf_counter() - t0, 1)}
    return figures


def prepare_database(name: str, scale: float, reuse: bool) -> str:
    from placement import migrate

    url = f"{SERVER}/{name}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and reuse:
            with psycopg.connect(url) as db:
                seeded = db.execute("SELECT to_regclass(%s)", (SEED_MARK,)).fetchone()[0]
            if seeded:
                migrate.upgrade(url)  # a new migration (indexes) applies to the seeded data
                print(f"re-using the seeded database {name}")
                return url
        if not name.startswith(BENCH_DATABASE_PREFIXES):
            raise SystemExit(f"the benchmark database's name must start with one of {', '.join(BENCH_DATABASE_PREFIXES)}")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate.upgrade(url)
    print(f"seeding {name} at scale {scale} ...", flush=True)
    print("seeded:", seed(url, scale), flush=True)
    return url


# --- the server ----------------------------------------------------------------------------

def start_server(url: str, port: int, workers: int, threads: int, keep_alive: float = 2) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-load-secret", "SAFEBED_MODE": "production",
           "SAFEBED_SCHEDULER": "off", "SAFEBED_SECURE_COOKIES": "0", "SAFEBED_DB_TIMING": "1",
           "SAFEBED_LOGIN_RATE_LIMIT": "100000 per minute", "SAFEBED_API_RATE_LIMIT": "100000 per minute",
           "SAFEBED_INSTANCE_PATH": "/tmp/i16-bench-instance",
           # Links are built from it, and requests for any other host are refused.
           "SAFEBED_BASE_URL": f"http://127.0.0.1:{port}",
           # The limits above are lifted, so per-process counters (memory://) change nothing here.
           "SAFEBED_SINGLE_PROCESS": "1"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
         "--keep-alive", str(math.ceil(keep_alive)), "--log-level", "warning", "placement:create_app()"],
        env=env, cwd=str(ROOT), start_new_session=True,
    )
    for _ in range(120):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(process)
    raise SystemExit("gunicorn did not answer /healthz")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


# --- the users -----------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.db: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.app_wall: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.codes: dict[str, set] = defaultdict(set)

    def add(self, op: str, seconds: float, response: requests.Response | None, ok: bool, failure: str = "") -> None:
        """One request's time; a refusal is counted with its status, or with `failure`
        (the client's exception) when no answer came."""
        with self.lock:
            self.times[op].append(seconds)
            if not ok:
                self.errors[op] += 1
                self.codes[op].add(response.status_code if response is not None else f"no answer: {failure}")
            header = response.headers.get("X-SafeBed-DB") if response is not None else None
            if header:
                ms, count, *cpu_and_wall = header.split(";")
                self.db[op].append(float(ms))
                self.statements[op].append(int(count))
                if cpu_and_wall:
                    self.cpu[op].append(float(cpu_and_wall[0]))
                if len(cpu_and_wall) > 1:
                    self.app_wall[op].append(float(cpu_and_wall[1]))


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', text)
    return found.group(1) if found else ""


class VirtualUser:
    """One signed-in person (or API client) repeating a role's journey."""

    def __init__(self, base: str, recorder: Recorder, rng: random.Random):
        self.base, self.recorder, self.rng = base, recorder, rng
        self.http = requests.Session()
        self.csrf = ""

    def call(self, op: str, method: str, path: str, expect=(200,), **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base + path, timeout=60, allow_redirects=False, **kwargs)
            if op.endswith(".csv"):
                for _ in response.iter_content(65536):
                    pass
        except requests.RequestException as error:
            self.recorder.add(op, time.perf_counter() - started, None, False, failure=type(error).__name__)
            return None
        self.recorder.add(op, time.perf_counter() - started, response, response.status_code in expect)
        if "text/html" in response.headers.get("Content-Type", ""):
            self.csrf = _csrf(response.text) or self.csrf
        return response

    def choose(self, roll: float, menu: list[tuple[float, tuple[str, str] | Callable[[], object]]]) -> None:
        """One step of a journey: the first entry of `menu` whose cumulative share exceeds
        `roll` (a number in [0, 1)): an (operation, path) to GET, or a function to call."""
        for share, action in menu:
            if roll < share:
                if callable(action):
                    action()
                else:
                    self.call(action[0], "GET", action[1])
                return

    def sign_in(self, email: str) -> None:
        page = self.http.get(self.base + "/login", timeout=60)
        self.call("POST /login", "POST", "/login", expect=(302,),
                  data={"email": email, "password": PASSWORD, "csrf_token": _csrf(page.text)})
        self.csrf = _csrf(self.http.get(self.base + "/", timeout=60).text)  # the signed-in session's form token


def _older_link(response: requests.Response | None, path: str) -> str | None:
    """The link (rel="next") to the next, older page of a list paged by keyset at `path`."""
    found = re.search(rf'href="({re.escape(path)}\?[^"]+)" rel="next"', response.text if response is not None else "")
    return html.unescape(found.group(1)) if found else None


class Caseworker(VirtualUser):
    def __init__(self, *args, email: str, referrals: list[int], homes: list[int]):
        super().__init__(*args)
        self.email, self.referrals, self.homes = email, referrals, homes
        self.older_link = None

    def step(self) -> None:
        referral = self.rng.choice(self.referrals)
        at = f"/caseworker/referrals/{referral}"
        self.choose(self.rng.random(), [
            (0.15, self._referral_list),
            (0.3, lambda: self._referral_list(older=True)),
            (0.5, ("GET caseworker/referral", at)),
            (0.85, ("GET caseworker/search", f"{at}/search")),
            # Hold a bed found by the search and release it again, or request it and withdraw.
            (0.95, lambda: self._book_then_undo(referral, "hold", "holds", "release")),
            (1.0, lambda: self._book_then_undo(referral, "request", "requests", "withdraw")),
        ])

    def _referral_list(self, older: bool = False) -> None:
        """The referral list's first page, or the page its last "Older referrals" link named."""
        if older and self.older_link:
            response = self.call("GET caseworker/referrals (older page)", "GET", self.older_link)
        else:
            response = self.call("GET caseworker/referrals", "GET", "/caseworker/referrals")
        self.older_link = _older_link(response, "/caseworker/referrals")

    def _book_then_undo(self, referral: int, action: str, kind: str, undo: str) -> None:
        """Book a home the search offers (`action`), then undo it with the form the referral
        page shows for it (`kind`/<id>/`undo`). A refusal of the booking is a race, not an error."""
        home = self._eligible_home(referral)
        if home is None:
            return
        response = self.call(f"POST caseworker/{action}", "POST", f"/caseworker/referrals/{referral}/{action}",
                             expect=(302, 400, 409), data={"home_id": home, "csrf_token": self.csrf})
        if response is not None and response.status_code == 302:
            page = self.call("GET caseworker/referral", "GET", f"/caseworker/referrals/{referral}")
            found = re.search(rf"/caseworker/referrals/{referral}/{kind}/(\d+)/{undo}", page.text if page else "")
            if found:
                self.call(f"POST caseworker/{undo}", "POST", found.group(0), expect=(302,), data={"csrf_token": self.csrf})

    def _eligible_home(self, referral: int) -> int | None:
        """A home the search offers this referral (a refusal after that is a race, not an error)."""
        page = self.call("GET caseworker/search", "GET", f"/caseworker/referrals/{referral}/search")
        found = re.findall(r'name="home_id" value="(\d+)"', page.text if page is not None else "")
        return int(self.rng.choice(found)) if found else None


class Operator(VirtualUser):
    def __init__(self, *args, email: str, homes: list[int]):
        super().__init__(*args)
        self.email, self.homes = email, homes

    def step(self) -> None:
        home = self.rng.choice(self.homes)
        self.choose(self.rng.random(), [
            (0.3, ("GET provider/homes", "/provider/homes")),
            (0.5, ("GET provider/home", f"/provider/homes/{home}")),
            (0.7, lambda: self._update_availability(home)),
            (1.0, ("GET provider/requests", "/provider/requests")),
        ])

    def _update_availability(self, home: int) -> None:
        self.call("GET provider/availability", "GET", f"/provider/homes/{home}/availability")
        self.call("POST provider/availability", "POST", f"/provider/homes/{home}/availability", expect=(302, 422),
                  data={"open_beds": 1, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 1, "note": "",
                        "csrf_token": self.csrf})


class Coordinator(VirtualUser):
    def __init__(self, *args, email: str):
        super().__init__(*args)
        self.email = email

    def step(self) -> None:
        self.choose(self.rng.random(), [
            (0.35, ("GET coordinator/dashboard", "/coordinator/")),
            (0.55, ("GET coordinator/outcomes", "/coordinator/outcomes")),
            (0.75, ("GET coordinator/unmet-need", "/coordinator/unmet-need")),
            (0.9, ("GET coordinator/needs-a-bed", "/coordinator/needs-a-bed")),
            (1.0, ("GET coordinator/export/capacity.csv", "/coordinator/export/capacity.csv")),
        ])


class AuditReader(VirtualUser):
    def __init__(self, *args, email: str):
        super().__init__(*args)
        self.email = email
        self.next_link = None

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.4 or self.next_link is None:
            response = self.call("GET admin/audit", "GET", "/admin/audit")
        elif roll < 0.8:
            response = self.call("GET admin/audit (next page)", "GET", self.next_link)
        else:
            day = (NOW - timedelta(days=self.rng.randint(2, 300))).date().isoformat()
            self.call("GET admin/audit.csv (one day)", "GET", f"/admin/audit.csv?date_from={day}&date_to={day}")
            return
        self.next_link = _older_link(response, "/admin/audit")


class ApiClient(VirtualUser):
    def __init__(self, *args, token: str, role: str, referrals: list[int], homes: list[int]):
        super().__init__(*args)
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.role, self.referrals, self.homes = role, referrals, homes

    def sign_in(self, email: str) -> None:
        pass

    def step(self) -> None:
        roll = self.rng.random()
        if self.role == "caseworker":
            referral = self.rng.choice(self.referrals)
            self.choose(roll, [
                (0.25, ("API GET /referrals", "/api/v1/referrals")),
                (0.5, ("API GET /referrals/<id>", f"/api/v1/referrals/{referral}")),
                (1.0, ("API GET /referrals/<id>/search", f"/api/v1/referrals/{referral}/search")),
            ])
            return
        home = self.rng.choice(self.homes)
        self.choose(roll, [
            (0.3, ("API GET /homes", "/api/v1/homes")),
            (0.5, ("API GET /homes/<id>/availability", f"/api/v1/homes/{home}/availability")),
            (0.75, lambda: self.call("API POST /homes/<id>/availability", "POST", f"/api/v1/homes/{home}/availability",
                                     expect=(200, 201),
                                     json={"open_beds": 1, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 1})),
            (1.0, ("API GET /requests", "/api/v1/requests")),
        ])


def _population(url: str, base: str, recorder: Recorder, users: int, rng: random.Random) -> list[VirtualUser]:
    """`users` virtual users: 40% caseworkers, 15% operators, 15% coordinators, 5% audit readers, 25% API clients."""
    people = []
    with psycopg.connect(url) as conn:
        largest = conn.execute("SELECT state FROM home GROUP BY state ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        cw = conn.execute(
            "SELECT u.id, u.email, u.organisation_id, o.state FROM app_user u JOIN organisation o ON o.id = u.organisation_id "
            "WHERE u.role = 'caseworker' AND EXISTS (SELECT 1 FROM api_token t WHERE t.user_id = u.id) ORDER BY u.id").fetchall()
        ops = conn.execute(
            "SELECT u.id, u.email, u.organisation_id FROM app_user u WHERE u.role = 'operator' "
            "AND EXISTS (SELECT 1 FROM api_token t WHERE t.user_id = u.id) ORDER BY u.id").fetchall()
        coordinators = conn.execute(
            "SELECT u.email, o.state FROM app_user u JOIN organisation o ON o.id = u.organisation_id "
            "WHERE u.role = 'coordinator' ORDER BY (o.state = %s) DESC, u.id", (largest,)).fetchall()
        readers = [row[0] for row in conn.execute("SELECT email FROM app_user WHERE can_view_audit ORDER BY id")]

        def open_referrals(org: int) -> list[int]:
            return [r[0] for r in conn.execute(
                "SELECT id FROM referral WHERE agency_id = %s AND status IN ('open', 'held', 'requested') ORDER BY id",
                (org,))] or [r[0] for r in conn.execute("SELECT id FROM referral WHERE agency_id = %s LIMIT 20", (org,))]

        def state_homes(state: str) -> list[int]:
            return [r[0] for r in conn.execute("SELECT id FROM home WHERE state = %s AND is_active LIMIT 50", (state,))]

        def own_homes(org: int) -> list[int]:
            return [r[0] for r in conn.execute("SELECT id FROM home WHERE provider_id = %s", (org,))]

        shares = (("caseworker", 0.40), ("operator", 0.15), ("coordinator", 0.15), ("reader", 0.05), ("api", 0.25))
        plan = [kind for kind, share in shares for _ in range(max(1, round(users * share)))][:users]
        while len(plan) < users:
            plan.append("caseworker")
        cw_index = op_index = co_index = api_index = 0
        for kind in plan:
            child_rng = random.Random(rng.random())  # nosec B311
            if kind == "caseworker":
                uid, email, org, state = cw[cw_index % len(cw)]
                cw_index += 1
                people.append(Caseworker(base, recorder, child_rng, email=email, referrals=open_referrals(org), homes=state_homes(state)))
            elif kind == "operator":
                uid, email, org = ops[op_index % len(ops)]
                op_index += 1
                people.append(Operator(base, recorder, child_rng, email=email, homes=own_homes(org) or state_homes("MO")))
            elif kind == "coordinator":
                email, _ = coordinators[co_index % max(1, min(len(coordinators), 3))]  # the largest states
                co_index += 1
                people.append(Coordinator(base, recorder, child_rng, email=email))
            elif kind == "reader":
                people.append(AuditReader(base, recorder, child_rng, email=readers[0]))
            else:
                if api_index % 2 == 0:
                    uid, email, org, state = cw[-1 - (api_index // 2) % len(cw)]
                    people.append(ApiClient(base, recorder, child_rng, token=f"sbt_bench_{uid}", role="caseworker",
                                            referrals=open_referrals(org), homes=[]))
                else:
                    uid, email, org = ops[-1 - (api_index // 2) % len(ops)]
                    people.append(ApiClient(base, recorder, child_rng, token=f"sbt_bench_{uid}", role="operator",
                                            referrals=[], homes=own_homes(org) or state_homes("MO")))
                api_index += 1
    return people


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _together(people: list[VirtualUser], act: Callable[[VirtualUser], None]) -> None:
    """`act` for every user at once, one thread each; returns when all are done."""
    threads = [threading.Thread(target=act, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_load(url: str, port: int, users: int, per_user: int, seconds: float, think: float = 0.0,
             warmup: int = 0) -> dict:
    base = f"http://127.0.0.1:{port}"
    recorder = Recorder()
    rng = random.Random(users)  # nosec B311
    people = _population(url, base, recorder, users, rng)
    sign_ins = Recorder()
    for person in people:  # sign in first (Argon2id: deliberately slow), timed separately
        person.recorder = sign_ins
        person.sign_in(getattr(person, "email", ""))
    # Unrecorded steps first, all users at once: each gunicorn worker compiles its templates
    # and opens its database connections on its first requests, a cost paid once per process.
    scratch = Recorder()
    for person in people:
        person.recorder = scratch
    _together(people, lambda person: [person.step() for _ in range(warmup)])
    for person in people:
        person.recorder = recorder
    # The generator's own objects (the population, sessions, the warm-up's responses) out of
    # its collector for good: a full collection walked them with every user's thread stopped
    # (54 ms, twice a run), and that pause was counted in the requests then under way.
    gc.collect()
    gc.freeze()
    load_before = os.getloadavg()
    deadline = time.monotonic() + seconds
    started = time.perf_counter()

    def journey(person: VirtualUser) -> None:
        # Each person is somewhere in their own pause when the clock starts, as in the steady
        # state: started all at once, the 16 first requests queued behind each other and made
        # the slowest requests of a rare operation (its p95 over 4 to 9 requests).
        if think:
            time.sleep(think * person.rng.uniform(0, 1.5))
        for _ in range(per_user):
            if time.monotonic() > deadline:
                return
            person.step()
            if think:  # a person reads the page before the next click: uniform over [0.5, 1.5] x think
                time.sleep(think * person.rng.uniform(0.5, 1.5))

    _together(people, journey)
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()
    total = sum(len(v) for v in recorder.times.values())
    pace = f"pausing {think:g} s on average between requests" if think else "requests back to back"
    pace += f", after {warmup} unrecorded steps each" if warmup else ", from a cold server"
    print(f"\n== {users} concurrent users, {pace}: {total} requests in {elapsed:.1f} s = {total / elapsed:.1f} requests/s; "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min) ==")
    print(f"{'operation':44} {'n':>5} {'req/s':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'err':>4} {'db ms p50':>9} "
          f"{'db stmts':>8} {'cpu ms':>7} {'app p95':>7}")
    table = {}
    for op in sorted(recorder.times):
        times = [t * 1000 for t in recorder.times[op]]
        db = recorder.db.get(op) or [0.0]
        statements = recorder.statements.get(op) or [0]
        row = {"n": len(times), "rps": len(times) / elapsed, "p50": _percentile(times, 0.5), "p95": _percentile(times, 0.95),
               "p99": _percentile(times, 0.99), "errors": recorder.errors.get(op, 0), "db_p50": statistics.median(db),
               "statements": statistics.median(statements), "cpu_p50": statistics.median(recorder.cpu.get(op) or [0.0]),
               "app_p95": _percentile(recorder.app_wall.get(op) or [0.0], 0.95)}
        table[op] = row
        print(f"{op:44} {row['n']:5d} {row['rps']:6.1f} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f} "
              f"{row['errors']:4d} {row['db_p50']:9.1f} {row['statements']:8.0f} {row['cpu_p50']:7.1f} {row['app_p95']:7.1f}"
              + (f"  (status {sorted(map(str, recorder.codes[op]))})" if row["errors"] else ""))
    logins = [t * 1000 for t in sign_ins.times.get("POST /login", [])]
    if logins:
        print(f"(sign-in before the run: {len(logins)} users, median {statistics.median(logins):.0f} ms, "
              f"db {statistics.median(sign_ins.db.get('POST /login') or [0]):.1f} ms, "
              f"errors {sign_ins.errors.get('POST /login', 0)})")
    return {"users": users, "think": think, "warmup": warmup, "requests": total, "seconds": elapsed, "rps": total / elapsed, "load": [load_before, load_after],
            "ops": table}


# --- the server-side measures of the largest state ------------------------------------------

def measure(url: str) -> None:
    """The largest state's dashboard, outcomes, unmet need and matcher snapshot (server time,
    no HTTP), and the peak memory of exporting the whole audit log as CSV."""
    from sqlmodel import Session

    from placement import create_app
    from placement.services import capacity, matcher_runs, outcomes, unmet_need
    from placement.services.tables import period

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SAFEBED_MODE": "demo", "SCHEDULER": "off"})
    engine = app.extensions["safebed_engine"]
    with psycopg.connect(url) as conn:
        state, homes = conn.execute("SELECT state, count(*) FROM home GROUP BY state ORDER BY count(*) DESC LIMIT 1").fetchone()
    print(f"\n== the largest state: {state} ({homes} homes); median of 5, load average {os.getloadavg()[0]:.2f} ==")
    today = NOW.date()
    jobs = {
        "capacity.dashboard": lambda s: capacity.dashboard(s, state, 24),
        "unmet_need.report (30 days)": lambda s: unmet_need.report(s, state, period(today - timedelta(days=29), today, "UTC")),
        "outcomes.report_figures": lambda s: outcomes.report_figures(s, outcomes.custody_in(state)),
        "outcomes.coordinator_view": lambda s: outcomes.coordinator_view(s, state),
        "matcher_runs.snapshot": lambda s: matcher_runs.snapshot(s, state),
    }
    with app.app_context():
        for name, job in jobs.items():
            timings, cpu = [], []
            for _ in range(5):
                with Session(engine) as session:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    job(session)
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
            # CPU time of this process: what the app itself spends, whatever the machine's load.
            print(f"{name:32} median {statistics.median(timings):8.1f} ms  (min {min(timings):.1f}); "
                  f"app CPU median {statistics.median(cpu):.1f} ms")
    # The whole log as CSV, in a child process so its peak memory (ru_maxrss) is its own.
    code = (
        "import resource, sys, time\n"
        "from sqlmodel import Session, select\n"
        "from placement import create_app\n"
        "from placement.models import User\n"
        "from placement.services import audit_log\n"
        "def rss():\n"
        "    with open('/proc/self/status') as f:\n"
        "        return next(int(l.split()[1]) for l in f if l.startswith('VmRSS'))\n"
        f"app = create_app({{'DATABASE_URL': {url!r}, 'SECRET_KEY': 'bench', 'SAFEBED_MODE': 'demo', 'SCHEDULER': 'off'}})\n"
        "with app.app_context():\n"
        "    session = Session(app.extensions['safebed_engine'])\n"
        "    reader = session.exec(select(User).where(User.can_view_audit)).first()\n"
        "    start = peak = rss()\n"
        "    started = time.perf_counter(); rows = size = 0\n"
        "    for chunk in audit_log.export_csv(session, reader, audit_log.AuditFilter()):\n"
        "        rows += chunk.count('\\r\\n'); size += len(chunk)\n"
        "        peak = max(peak, rss())\n"
        "    peak = max(peak, rss())\n"
        "    print(f'audit CSV export: {rows - 1} rows, {size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s; '\n"
        "          f'resident memory {start / 1024:.0f} MB before, peak {peak / 1024:.0f} MB during the export '\n"
        "          f'(+{(peak - start) / 1024:.0f} MB)')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), check=True)


def compare(before_path: str, after_path: str) -> None:
    """Print a Markdown table of two --json files: p50/p95 and database time per operation, per run size."""
    before, after = (json.loads(Path(path).read_text()) for path in (before_path, after_path))
    for old in before:
        new = next((run for run in after if run["users"] == old["users"]), None)
        if new is None:
            continue
        print(f"\n### {old['users']} concurrent users\n")
        print(f"Before: {old['rps']:.1f} requests/s, load average {old['load'][0][0]:.2f} -> {old['load'][1][0]:.2f}. "
              f"After: {new['rps']:.1f} requests/s, load average {new['load'][0][0]:.2f} -> {new['load'][1][0]:.2f}.\n")
        print("| operation | p50 before | p50 after | p95 before | p95 after | p99 after | errors before / after "
              "| db ms (p50) before | db ms after | statements before | after | app CPU ms (p50) before | after |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for op in sorted(set(old["ops"]) | set(new["ops"])):
            a, b = old["ops"].get(op), new["ops"].get(op)
            cell = lambda row, key, fmt="{:.0f}": fmt.format(row[key]) if row else "-"  # noqa: E731
            print(f"| {op} | {cell(a, 'p50')} | {cell(b, 'p50')} | {cell(a, 'p95')} | {cell(b, 'p95')} | {cell(b, 'p99')} "
                  f"| {cell(a, 'errors')} / {cell(b, 'errors')} | {cell(a, 'db_p50', '{:.1f}')} | {cell(b, 'db_p50', '{:.1f}')} "
                  f"| {cell(a, 'statements')} | {cell(b, 'statements')} "
                  f"| {cell(a, 'cpu_p50', '{:.1f}') if a and 'cpu_p50' in a else '-'} "
                  f"| {cell(b, 'cpu_p50', '{:.1f}') if b and 'cpu_p50' in b else '-'} |")


def main() -> None:
    if sys.argv[1:2] == ["--compare"]:
        compare(*sys.argv[2:4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="i16_national", help="database name on 127.0.0.1 (must start with i16_ or safebed_i16_)")
    parser.add_argument("--scale", type=float, default=1.0, help="size of the world (1 = national; 0.1 for a quick run)")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it is already seeded")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--measure", action="store_true", help="also time the largest state's reports and the audit CSV's memory")
    parser.add_argument("--users", type=int, nargs="+", default=[16, 64], help="concurrent users per run")
    parser.add_argument("--requests", type=int, default=40, help="requests per user and run (upper bound)")
    parser.add_argument("--seconds", type=float, default=120, help="time limit per run")
    parser.add_argument("--warmup", type=int, default=5,
                        help="unrecorded steps per user before the measured run (0: measure from a cold server)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a user pauses between requests (0: back to back, a stress test)")
    parser.add_argument("--port", type=int, default=5016)
    # 8 processes of 2 threads, as the README runs production: threads of one process share its
    # GIL, and with 4 of 4 a coordinator's page stalled the other requests of its process
    # (docs/performance.md, eighth pass).
    parser.add_argument("--workers", type=int, default=8, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn process")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    url = prepare_database(args.database, args.scale, args.reuse)
    if args.seed_only:
        return
    if args.measure:
        measure(url)
    results = []
    # Idle connections are kept open longer than a user's longest pause (1.5 x think): else the
    # server may close one just as the client sends on it, which a browser retries unseen and
    # this client counts as an error.
    server = start_server(url, args.port, args.workers, args.threads, keep_alive=max(2.0, 1.5 * args.think + 1))
    try:
        for users in args.users:
            results.append(run_load(url, args.port, users, args.requests, args.seconds, args.think, args.warmup))
    finally:
        stop_server(server)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
