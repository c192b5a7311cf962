"""The database itself refuses impossible states."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from placement.models import AuditEvent, AvailabilityUpdate, Home, Organisation, Referral


def _refused(factory, statement_or_row):
    session = factory.session
    with pytest.raises((IntegrityError, DBAPIError)):
        if isinstance(statement_or_row, sa.sql.Executable):
            session.execute(statement_or_row)
        else:
            session.add(statement_or_row)
        session.flush()
    session.rollback()


@pytest.mark.parametrize("field,value", [
    ("licensed_beds", -1), ("min_age", -1), ("max_age", 22), ("medical_level", 4),
    ("mental_health_level", -1), ("program", "boarding_school"), ("substance_use_support", "maybe"), ("lat", 91.0),
])
def test_home_checks(factory, field, value):
    home = factory.home(factory.org("provider"))
    _refused(factory, sa.update(Home).where(Home.id == home.id).values({field: value}))


def test_home_min_age_above_max_refused(factory):
    home = factory.home(factory.org("provider"))
    _refused(factory, sa.update(Home).where(Home.id == home.id).values(min_age=18, max_age=12))


def test_home_name_unique_per_provider(factory):
    provider = factory.org("provider")
    factory.home(provider, name="Twin House")
    factory.home(factory.org("provider"), name="Twin House")  # another provider may reuse it
    with pytest.raises(IntegrityError):
        factory.home(provider, name="Twin House")
    factory.session.rollback()


def test_home_needs_existing_provider(factory):
    _refused(factory, Home(provider_id=9999, name="x", program="short_term", state="MO", county="c", city="c", lat=1, lon=1,
                           street_address="s", licensed_beds=1, min_age=1, max_age=2, genders=["male"], languages=["en"], cultural_services=[]))


@pytest.mark.parametrize("figures", [
    dict(open_beds=-1), dict(open_beds=7), dict(staff_on_duty=-1), dict(youth_per_staff=0), dict(current_youth=-1),
])
def test_availability_checks(factory, figures):
    home = factory.home(factory.org("provider"), licensed_beds=6, availability=False)
    row = dict(open_beds=1, staff_on_duty=1, youth_per_staff=1, current_youth=0, licensed_beds=6, home_id=home.id)
    row.update(figures)
    _refused(factory, AvailabilityUpdate(**row))


@pytest.mark.parametrize("table", [AvailabilityUpdate, AuditEvent])
def test_append_only_tables_refuse_update_and_delete(factory, table):
    factory.home(factory.org("provider"))  # writes an availability row and audit rows
    _refused(factory, sa.update(table).values(id=table.id))
    _refused(factory, sa.delete(table))


def test_organisation_kind_and_unique_name(factory):
    _refused(factory, Organisation(name="Weird", kind="church", state="MO"))
    factory.org("agency", name="Same Name")
    _refused(factory, Organisation(name="Same Name", kind="agency", state="KS"))


@pytest.mark.parametrize("field,value", [("age", 22), ("age", -1), ("urgency", "whenever"), ("status", "lost"), ("children_with", -1), ("max_distance_km", 0)])
def test_referral_checks(factory, field, value):
    agency = factory.org("agency")
    worker = factory.user("caseworker", agency)
    row = dict(agency_id=agency.id, created_by_id=worker.id, case_reference=f"C-{field}", age=15, gender="female",
               urgency="urgent", custody_state="MO", icpc_approved_states=[], programs=[], county="Boone", lat=38.9, lon=-92.3)
    row[field] = value
    _refused(factory, Referral(**row))
