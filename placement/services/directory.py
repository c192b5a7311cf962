"""The provider directory in Open Referral HSDS form, for state 211 directories.

One HSDS organization per provider, one service and one location per active home.
A safe home's location is confidential (treated like a shelter's under VAWA): a
location carries county, city and state and a position rounded to 0.1 degree
(about 10 km), never the street address, phone or exact coordinates, and its name
says only where it is, so the export cannot tie a home's name to a place finer
than its city.
"""
from __future__ import annotations

from sqlmodel import Session, select

from .. import audit
from ..models import Home, Organisation, User
from ..timeutil import utcnow
from ..vocabulary import CULTURAL_SERVICE_LABELS, GENDER_LABELS, LANGUAGE_LABELS, PROGRAM_LABELS, SUBSTANCE_SUPPORT_LABELS

HSDS_VERSION = "3.0"
POSITION_DECIMALS = 1


def _eligibility(home: Home) -> str:
    genders = ", ".join(GENDER_LABELS.get(g, g).lower() for g in home.genders)
    parts = [f"Youth aged {home.min_age} to {home.max_age}", f"genders: {genders}"]
    if home.accepts_pregnant:
        parts.append("pregnant youth accepted")
    if home.accepts_parenting:
        parts.append("parenting youth with their child accepted")
    parts.append(SUBSTANCE_SUPPORT_LABELS.get(home.substance_use_support, home.substance_use_support).lower())
    if home.cultural_services:
        parts.append("culturally specific care: " + ", ".join(CULTURAL_SERVICE_LABELS.get(c, c) for c in home.cultural_services))
    parts.append("out-of-state youth with ICPC approval accepted" if home.accepts_out_of_state else f"youth in {home.state} custody only")
    return "; ".join(parts) + ". Referral by a child-welfare caseworker only."


def export(session: Session, user: User) -> dict:
    """Every active home as HSDS organizations, services, locations and service_at_locations (audited)."""
    rows = session.exec(
        select(Home, Organisation).join(Organisation, Organisation.id == Home.provider_id)
        .where(Home.is_active.is_(True)).order_by(Organisation.name, Home.name)
    ).all()
    organizations, services, locations, links = {}, [], [], []
    for home, provider in rows:
        org_id, service_id, location_id = f"org-{provider.id}", f"service-{home.id}", f"location-{home.id}"
        organizations[org_id] = {
            "id": org_id, "name": provider.name,
            "description": f"Safe-home provider for youth who survived trafficking ({provider.state}).",
        }
        services.append({
            "id": service_id, "organization_id": org_id, "name": home.name,
            "description": PROGRAM_LABELS.get(home.program, home.program),
            "status": "active",
            "eligibility_description": _eligibility(home),
            "minimum_age": home.min_age, "maximum_age": home.max_age,
            "languages": [{"id": f"{service_id}-lang-{code}", "service_id": service_id,
                           "name": LANGUAGE_LABELS.get(code, code), "code": code} for code in home.languages],
            "application_process": "Through a child-welfare agency caseworker on SafeBed.",
        })
        locations.append({
            "id": location_id, "organization_id": org_id,
            "name": f"Confidential location, {home.city} ({home.county} County), {home.state}",
            "location_type": "physical",
            "latitude": round(home.lat, POSITION_DECIMALS), "longitude": round(home.lon, POSITION_DECIMALS),
            "addresses": [{"id": f"{location_id}-address", "location_id": location_id, "address_type": "physical",
                           "city": home.city, "region": f"{home.county} County", "state_province": home.state,
                           "country": "US"}],
        })
        links.append({"id": f"{service_id}-at-{location_id}", "service_id": service_id, "location_id": location_id})
    audit.record(session, "directory_exported", "home", None, f"hsds, {len(services)} services", actor=user)
    session.commit()
    return {
        "hsds_version": HSDS_VERSION, "generated_at": utcnow().isoformat(),
        "organizations": list(organizations.values()), "services": services,
        "locations": locations, "service_at_locations": links,
    }
