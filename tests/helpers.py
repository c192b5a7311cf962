"""Test data builders and client helpers (all data synthetic)."""
from __future__ import annotations

import itertools
import re

from flask import Flask
from sqlmodel import Session

from placement.models import AvailabilityUpdate, Home, Organisation, User
from placement.services import accounts

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


class Factory:
    """Creates rows through a session of its own, committed immediately."""

    def __init__(self, app: Flask):
        self.app = app
        self.session = Session(app.extensions["safebed_engine"], expire_on_commit=False)

    def org(self, kind: str = "provider", state: str = "MO", name: str | None = None) -> Organisation:
        org = accounts.create_organisation(self.session, name or f"Test {kind} {next(_counter)}", kind, state)
        self.session.commit()
        return org

    def user(self, role: str, organisation: Organisation | None = None, email: str | None = None, **fields) -> User:
        kind = accounts.ROLE_ORG_KIND.get(role, "coordinator_office")
        organisation = organisation or self.org(kind)
        user = accounts.create_user(
            self.session, organisation, email or f"{role}{next(_counter)}@test.example", f"Test {role}", role, PASSWORD
        )
        for key, value in fields.items():
            setattr(user, key, value)
        self.session.commit()
        return user

    def home(self, provider: Organisation, availability: dict | None = None, **fields) -> Home:
        values = dict(
            name=f"Test Home {next(_counter)}", program="crisis_stabilization", state=provider.state,
            county="Boone", city="Columbia", lat=38.95, lon=-92.33,
            street_address="12 Secret Test Lane", contact_phone="555-0100", licensed_beds=6,
            min_age=12, max_age=17, genders=["female", "nonbinary"], accepts_pregnant=True,
            accepts_parenting=False, substance_use_support="recovery", medical_level=1,
            mental_health_level=2, languages=["en", "es"], cultural_services=[], accepts_out_of_state=False,
        )
        values.update(fields)
        home = Home(provider_id=provider.id, **values)
        self.session.add(home)
        self.session.flush()
        if availability is not False:
            figures = dict(open_beds=2, staff_on_duty=2, youth_per_staff=3, current_youth=3)
            figures.update(availability or {})
            self.session.add(AvailabilityUpdate(home_id=home.id, licensed_beds=home.licensed_beds, **figures))
        self.session.commit()
        return home

    def get(self, model, ident):
        self.session.expire_all()
        return self.session.get(model, ident)


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = CSRF_META.search(html) or CSRF_INPUT.search(html)
    assert match, f"no CSRF token on {path}"
    return next(group for group in match.groups() if group)


def login(client, user: User, password: str = PASSWORD):
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def post(client, path: str, data: dict | None = None, token_from: str | None = None, **kwargs):
    """POST a form with a valid CSRF token taken from `token_from` (default: the same page)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, token_from or path)
    return client.post(path, data=payload, **kwargs)


REFERRAL_FORM = {
    "case_reference": "MO-2026-0001", "urgency": "emergency", "age": "15", "gender": "female",
    "children_with": "0", "substance_use": "none", "medical_level": "0", "mental_health_level": "1",
    "language": "en", "cultural_need": "", "custody_state": "MO", "icpc_approved_states": "",
    "place": "Boone County, MO", "max_distance_km": "", "sibling_group": "",
    "case_notes": "Synthetic note: recovered at a truck stop.",
}


# A home profile as the provider's form posts it (synthetic).
HOME_FORM = {
    "name": "Cedar House", "program": "crisis_stabilization", "state": "MO",
    "place": "Columbia (Boone County), MO", "street_address": "77 Hidden Test Way",
    "contact_phone": "555-0101", "licensed_beds": "6", "min_age": "12", "max_age": "17",
    "genders": ["female", "nonbinary"], "accepts_pregnant": "y", "substance_use_support": "recovery",
    "medical_level": "1", "mental_health_level": "2", "languages": ["en", "es"],
    "cultural_services": ["lgbtq_affirming"], "is_active": "y",
}


def make_referral(factory: Factory, caseworker: User, consent: bool = True, **fields):
    """A referral row for `caseworker`'s agency (synthetic), with a release of information on
    file unless `consent=False` (a request cannot be sent without one)."""
    from placement.models import Referral, ReferralEvent

    values = dict(
        case_reference=f"MO-T-{next(_counter)}", age=15, gender="female", urgency="emergency", custody_state="MO",
        icpc_approved_states=[], programs=[], county="Boone", lat=38.95, lon=-92.33, language="en",
        mental_health_level=1, case_notes="Synthetic case note",
    )
    values.update(fields)
    referral = Referral(agency_id=caseworker.organisation_id, created_by_id=caseworker.id, **values)
    factory.session.add(referral)
    factory.session.flush()
    factory.session.add(ReferralEvent(referral_id=referral.id, status="open", actor_id=caseworker.id))
    if consent:
        add_consent(factory, referral, caseworker)
    factory.session.commit()
    return referral


def add_consent(factory: Factory, referral, caseworker: User):
    """A signed release of information for `referral`, in force for 30 days (synthetic)."""
    from datetime import timedelta

    from placement.models import ReferralConsent
    from placement.timeutil import utcnow

    now = utcnow()
    row = ReferralConsent(referral_id=referral.id, kind="release", youth_assented=True,
                          recipients="The accepting home's intake staff", information="Needs, custody order, medical consent",
                          signed_at=now - timedelta(hours=1), expires_at=now + timedelta(days=30), recorded_by_id=caseworker.id)
    factory.session.add(row)
    factory.session.commit()
    return row


def api_token(factory: Factory, user: User, days: int = 90) -> str:
    """A personal API token for `user`, made through the service as the token page does."""
    from placement.services import api_tokens

    _, secret = api_tokens.create(factory.session, user, "test integration", days)
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
