"""The synthetic demo world: invented organisations, homes and people.

Every name, address and case reference here is made up. The world is
deterministic for a given seed so demo screenshots and tests agree.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from ..models import AvailabilityUpdate, Home, Organisation, Referral, ReferralEvent, User
from ..services import accounts
from ..timeutil import utcnow
from . import arrival
from .history import add_history
from .protections import add_protections
from .queue import staff_for_queue

# The published demo password (synthetic accounts only).
DEMO_PASSWORD = "safebed-demo-night-shift"  # nosec B105
ADMIN_ORG = "SafeBed Administration (demo)"

# (city, county, lat, lon) per state: real cities, rounded coordinates.
CITIES = {
    "MO": [
        ("Kansas City", "Jackson", 39.10, -94.58), ("St. Louis", "St. Louis City", 38.63, -90.20),
        ("Springfield", "Greene", 37.21, -93.29), ("Columbia", "Boone", 38.95, -92.33),
        ("Joplin", "Jasper", 37.08, -94.51), ("Cape Girardeau", "Cape Girardeau", 37.31, -89.52),
        ("Jefferson City", "Cole", 38.58, -92.17), ("St. Joseph", "Buchanan", 39.77, -94.85),
    ],
    "KS": [
        ("Wichita", "Sedgwick", 37.69, -97.34), ("Topeka", "Shawnee", 39.05, -95.68),
        ("Kansas City", "Wyandotte", 39.11, -94.63), ("Lawrence", "Douglas", 38.97, -95.24),
        ("Overland Park", "Johnson", 38.98, -94.67), ("Salina", "Saline", 38.84, -97.61),
    ],
    "IL": [
        ("Chicago", "Cook", 41.88, -87.63), ("Springfield", "Sangamon", 39.78, -89.65),
        ("Peoria", "Peoria", 40.69, -89.59), ("Rockford", "Winnebago", 42.27, -89.09),
        ("Champaign", "Champaign", 40.12, -88.24), ("East St. Louis", "St. Clair", 38.62, -90.15),
    ],
}
PROVIDERS = {
    "MO": ["Harbor Light Youth Homes", "Prairie Dawn Safe Homes", "Riverbend Recovery Houses",
           "Ozark Haven Network", "Gateway Hope Families"],
    "KS": ["Sunflower Shelter Collective", "Flint Hills Youth Care", "Kaw Valley Safe Place", "Plains Lantern Homes"],
    "IL": ["Lakeshore Refuge Homes", "Prairie State Healing Homes", "Illinois River Youth Havens", "Northwind Family Homes"],
}
AGENCIES = {
    "MO": ["Western Missouri Children's Services (demo)", "Eastern Missouri Youth Agency (demo)"],
    "KS": ["Sedgwick Area Family Services (demo)", "Northeast Kansas Child Welfare (demo)"],
    "IL": ["Cook County Youth Protection (demo)", "Central Illinois Family Agency (demo)"],
}
STATE_NAMES = {"MO": "Missouri", "KS": "Kansas", "IL": "Illinois"}
PROGRAMS = ["crisis_stabilization", "short_term", "long_term", "transitional", "therapeutic_foster"]
HOME_WORDS = ["Cedar", "Willow", "Maple", "Lantern", "Harbor", "Meadow", "Juniper", "Aspen", "Bluebird", "Sparrow", "Birch", "Clover"]
STREETS = ["Quiet Elm", "Hidden Oak", "Lilac", "Orchard", "Prairie Rose", "Stonebridge", "Fox Run", "Hollow Creek"]
CULTURE = ["native", "lgbtq_affirming", "latine", "black_youth", "refugee_immigrant"]


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    organisation: str


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower().replace(" (demo)", "")).strip("-").replace("--", "-")


def demo_exists(session: Session) -> bool:
    return session.exec(select(Organisation).where(Organisation.name == ADMIN_ORG)).first() is not None


def seed(session: Session, seed: int = 2026) -> list[DemoAccount]:
    """Create the demo world once; a second call changes nothing. Returns the sample accounts."""
    if not demo_exists(session):
        # Synthetic data, not security: a seeded, repeatable generator is the point.
        _build(session, random.Random(seed), random.Random(seed + 2))  # nosec B311
        session.commit()
        arrival.add_handoffs(session)  # a youth in transit and a missed arrival (no random numbers)
    # Placement history (outcomes, missing episodes) is added once, also to a demo built before it existed.
    add_history(session, random.Random(seed + 1), CITIES)  # nosec B311
    # Keep-away, keep-apart and ICWA examples (issue 18), likewise added once.
    add_protections(session)
    # The operator's queue (issue 19): Harbor Light's operator sees youths waiting.
    staff_for_queue(session)
    return sample_accounts(session)


def sample_accounts(session: Session) -> list[DemoAccount]:
    rows = session.exec(select(User, Organisation).join(Organisation).order_by(User.id)).all()
    first: dict[str, DemoAccount] = {}
    for user, org in rows:
        first.setdefault(user.role, DemoAccount(user.role, user.email, org.name))
    return [first[r] for r in ("operator", "caseworker", "coordinator", "admin") if r in first]


def _user(session: Session, org: Organisation, email: str, name: str, role: str) -> User:
    return accounts.create_user(session, org, email, name, role, DEMO_PASSWORD)


def _build(session: Session, rng: random.Random, history: random.Random) -> None:
    admin_org = accounts.create_organisation(session, ADMIN_ORG, "coordinator_office", "MO")
    _user(session, admin_org, "admin@safebed.example", "Avery Admin (demo)", "admin").can_view_audit = True
    for state, providers in PROVIDERS.items():
        office = accounts.create_organisation(session, f"{STATE_NAMES[state]} Placement Coordination (demo)", "coordinator_office", state)
        _user(session, office, f"coordinator.{state.lower()}@safebed.example", f"{state} Coordinator (demo)", "coordinator")
        for agency_name in AGENCIES[state]:
            agency = accounts.create_organisation(session, agency_name, "agency", state)
            for n in (1, 2):
                _user(session, agency, f"caseworker{n}.{_slug(' '.join(agency_name.split()[:2]))}@safebed.example", f"Caseworker {n}, {agency_name}", "caseworker")
        for provider_name in providers:
            provider = accounts.create_organisation(session, provider_name, "provider", state)
            operator = _user(session, provider, f"operator.{_slug(provider_name)}@safebed.example", f"Operator, {provider_name}", "operator")
            for index in range(rng.randint(3, 4)):
                _home(session, rng, history, provider, operator, state, index)
    _referrals(session, rng)


def _referrals(session: Session, rng: random.Random) -> None:
    """Open referrals per agency, some of them hard to place (the unmet need)."""
    caseworkers = session.exec(
        select(User, Organisation).join(Organisation).where(User.role == "caseworker").order_by(User.id)
    ).all()
    for number, (caseworker, agency) in enumerate(caseworkers):
        if number % 2:  # the first caseworker of each agency carries the open cases
            continue
        for case in range(3):
            city, county, lat, lon = rng.choice(CITIES[agency.state])
            age = rng.choice([12, 13, 14, 14, 15, 16, 17, 19])
            referral = Referral(
                agency_id=agency.id, created_by_id=caseworker.id,
                case_reference=f"{agency.state}-2026-{1000 + number * 10 + case}",
                age=age, gender=rng.choice(["female", "female", "female", "male", "nonbinary"]),
                urgency=rng.choice(["emergency", "urgent", "urgent", "planned"]),
                pregnant=rng.random() < 0.1, children_with=1 if rng.random() < 0.1 else 0,
                substance_use=rng.choice(["none", "none", "recovery", "active"]),
                medical_level=rng.choice([0, 0, 1, 2]), mental_health_level=rng.choice([0, 1, 2, 3]),
                language=rng.choice(["en", "en", "en", "es"]),
                cultural_need=rng.choice([None, None, None, "native", "lgbtq_affirming"]),
                custody_state=agency.state,
                icpc_approved_states=[rng.choice([s for s in CITIES if s != agency.state])] if rng.random() < 0.2 else [],
                programs=[], county=county, lat=lat, lon=lon,
                has_run_before=rng.random() < 0.3,
                case_notes="Synthetic demo case; no real person.",
            )
            session.add(referral)
            session.flush()
            session.add(ReferralEvent(referral_id=referral.id, status="open", actor_id=caseworker.id, note="referral opened"))
            arrival.add_consent(session, referral, caseworker)


def _home(session: Session, rng: random.Random, history: random.Random, provider: Organisation, operator: User,
          state: str, index: int) -> None:
    city, county, lat, lon = rng.choice(CITIES[state])
    program = PROGRAMS[(provider.id + index) % len(PROGRAMS)]
    licensed = {"crisis_stabilization": 6, "short_term": 8, "long_term": 10, "transitional": 8, "therapeutic_foster": 3}[program]
    licensed = max(2, licensed + rng.randint(-2, 3))
    min_age = rng.choice([10, 11, 12, 12, 13, 14, 16]) if program != "transitional" else 16
    max_age = 21 if program == "transitional" else rng.choice([17, 17, 17, 18])
    genders = rng.choice([["female"], ["female"], ["female", "nonbinary"], ["male"], ["female", "male", "nonbinary"]])
    home = Home(
        provider_id=provider.id,
        name=f"{rng.choice(HOME_WORDS)} House {index + 1}",
        program=program,
        state=state,
        county=county,
        city=city,
        lat=round(lat + rng.uniform(-0.05, 0.05), 2),
        lon=round(lon + rng.uniform(-0.05, 0.05), 2),
        street_address=f"{rng.randint(100, 9899)} {rng.choice(STREETS)} Lane (synthetic)",
        contact_phone=f"555-01{rng.randint(10, 99)}",
        licensed_beds=licensed,
        min_age=min(min_age, max_age),
        max_age=max_age,
        genders=genders,
        accepts_pregnant=rng.random() < 0.4,
        accepts_parenting=rng.random() < 0.25,
        substance_use_support=rng.choice(["none", "recovery", "recovery", "detox"] if program == "crisis_stabilization" else ["none", "none", "recovery"]),
        medical_level=rng.choice([0, 1, 1, 2, 3]),
        mental_health_level=rng.choice([1, 2, 2, 3]),
        languages=["en"] + (["es"] if rng.random() < 0.45 else []) + (["vi"] if rng.random() < 0.1 else []),
        cultural_services=sorted(set(rng.sample(CULTURE, rng.choice([0, 0, 1, 1, 2])))),
        accepts_out_of_state=rng.random() < 0.3,
    )
    session.add(home)
    session.flush()
    now = utcnow()
    last = rng.choice([0.5, 1, 2, 3, 5, 8, 12, 20, 30, 50])  # hours ago; the oldest are stale
    # Two weeks of older nightly figures for the coordinator's occupancy chart. Drawn from
    # their own generator, so the world the main one builds is the same with or without them.
    for days_ago in range(14, 2, -1):
        current = history.randint(0, licensed - 1)
        session.add(AvailabilityUpdate(
            home_id=home.id, open_beds=history.randint(0, licensed - current), licensed_beds=licensed,
            staff_on_duty=history.randint(1, 3), youth_per_staff=history.choice([2, 3, 4]), current_youth=current,
            recorded_by_id=operator.id, recorded_at=now - timedelta(days=days_ago, hours=last),
        ))
    for hours_ago in (last + 48, last + 24, last):
        staff = rng.randint(1, 3)
        ratio = rng.choice([2, 3, 4])
        current = rng.randint(0, licensed - 1)
        session.add(
            AvailabilityUpdate(
                home_id=home.id,
                open_beds=rng.randint(0, licensed - current),
                licensed_beds=licensed,
                staff_on_duty=staff,
                youth_per_staff=ratio,
                current_youth=current,
                recorded_by_id=operator.id,
                recorded_at=now - timedelta(hours=hours_ago),
            )
        )
