"""The database schema as SQLModel classes.

Constraints live here (CHECKs, unique keys, foreign keys) so the database
refuses impossible states even if a code path forgets a rule. Enumerations are
stored as short strings guarded by CHECK constraints, which migrate the same way
on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from solver.instance import GENDERS, PROGRAMS, SUBSTANCE_SUPPORT, SUBSTANCE_USE, URGENCIES

from .timeutil import UTCDateTime, utcnow

ORG_KINDS = ("provider", "agency", "coordinator_office")
ROLES = ("operator", "caseworker", "coordinator", "admin")
REFERRAL_STATUSES = ("open", "held", "requested", "placed", "declined", "closed")
WAITING_STATUSES = ("open", "held", "requested", "declined")  # a referral still looking for a bed
REQUEST_STATUSES = ("pending", "accepted", "declined", "withdrawn")
DECLINE_REASONS = {
    "criteria_mismatch": "Does not meet our intake criteria",
    "no_staff": "Not enough staff on shift",
    "no_bed": "No bed available after all",
    "safety": "Safety concern (e.g. known exploiter connection)",
    "acuity": "Needs exceed the care we can give",
    "other": "Other",
}
MATCHER_RUN_STATUSES = ("queued", "running", "done", "failed")
# Issue 18: protective rules and ICWA.
TRIBAL_STATUSES = {"member": "Enrolled member", "eligible": "Eligible for membership"}
NOTICE_METHODS = {"registered_mail": "Registered mail, return receipt requested", "certified_mail": "Certified mail",
                  "hand_delivered": "Hand delivered", "other": "Other (say how in the case notes)"}
AREA_KINDS = {"county": "A county", "zip": "A ZIP code", "radius": "Around a place"}


def _in(column: str, values) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _time(nullable: bool = False, **kwargs) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, **kwargs)


def _json(nullable: bool = False) -> sa.Column:
    return sa.Column(sa.JSON(), nullable=nullable)


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (sa.CheckConstraint(_in("kind", ORG_KINDS), name="ck_organisation_kind"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=24)
    state: str = Field(max_length=2)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="ck_user_role"),
        sa.CheckConstraint("failed_logins >= 0", name="ck_user_failed_logins"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    timezone: str = Field(default="America/Chicago", max_length=64)
    is_active: bool = Field(default=True)
    can_view_audit: bool = Field(default=False)
    failed_logins: int = Field(default=0)
    locked_until: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    # Bumped on logout, password change and deactivation: every older session dies.
    session_version: int = Field(default=1)
    last_login_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())

    # Flask-Login protocol. The id carries the session version so that logout,
    # a password change or deactivation invalidates every copy of an old cookie.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class Invitation(SQLModel, table=True):
    """A one-time link an admin gives a new user to set their own password."""

    __tablename__ = "invitation"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_by_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    expires_at: datetime = Field(sa_column=_time())
    used_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


class Home(SQLModel, table=True):
    __tablename__ = "home"
    __table_args__ = (
        sa.UniqueConstraint("provider_id", "name", name="uq_home_provider_name"),
        sa.CheckConstraint(_in("program", PROGRAMS), name="ck_home_program"),
        sa.CheckConstraint("licensed_beds >= 0", name="ck_home_licensed_beds"),
        sa.CheckConstraint("min_age >= 0 AND max_age <= 21 AND min_age <= max_age", name="ck_home_ages"),
        sa.CheckConstraint(_in("substance_use_support", SUBSTANCE_SUPPORT), name="ck_home_substance"),
        sa.CheckConstraint("medical_level BETWEEN 0 AND 3", name="ck_home_medical"),
        sa.CheckConstraint("mental_health_level BETWEEN 0 AND 3", name="ck_home_mental_health"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_home_coordinates"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    program: str = Field(max_length=32)
    state: str = Field(max_length=2, index=True)
    county: str = Field(max_length=80)
    city: str = Field(max_length=80)
    # Coarse (about 1 km) coordinates only; the street address is the secret.
    lat: float
    lon: float
    street_address: str = Field(max_length=200)
    contact_phone: str = Field(default="", max_length=40)
    licensed_beds: int
    min_age: int
    max_age: int
    genders: list = Field(sa_column=_json())
    accepts_pregnant: bool = Field(default=False)
    accepts_parenting: bool = Field(default=False)
    substance_use_support: str = Field(default="none", max_length=16)
    medical_level: int = Field(default=0)
    mental_health_level: int = Field(default=0)
    languages: list = Field(sa_column=_json())
    cultural_services: list = Field(sa_column=_json())
    # The intake packet this home asks for (INTAKE_DOCUMENT_KINDS), shown to caseworkers who request it.
    intake_documents: list = Field(default_factory=list, sa_column=_json())
    accepts_out_of_state: bool = Field(default=False)
    # ICWA (issue 18): tribes (names from the coordinators' list) that license or approve
    # the home, and whether it is Native-serving (an Indian foster home, or run by an
    # Indian organisation). Home data, not youth data: the operator maintains it.
    tribal_approvals: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False, server_default="[]"))
    native_serving: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false()))
    is_active: bool = Field(default=True)
    # Incremented by every booking transaction: the UPDATE is the row lock that
    # serialises holds, requests and accepts on one home (works on SQLite too).
    lock_version: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class AvailabilityUpdate(SQLModel, table=True):
    """Append-only log; a home's current availability is its latest row."""

    __tablename__ = "availability_update"
    __table_args__ = (
        sa.CheckConstraint("open_beds >= 0", name="ck_availability_open_beds"),
        sa.CheckConstraint("open_beds <= licensed_beds", name="ck_availability_open_le_licensed"),
        sa.CheckConstraint("staff_on_duty >= 0", name="ck_availability_staff"),
        sa.CheckConstraint("youth_per_staff >= 1", name="ck_availability_ratio"),
        sa.CheckConstraint("current_youth >= 0", name="ck_availability_current_youth"),
        # A home's entries in time order with the occupancy chart's figures, from the index
        # alone on PostgreSQL (migration 0015).
        sa.Index("ix_availability_home_time_id", "home_id", "recorded_at", "id",
                 postgresql_include=["licensed_beds", "current_youth", "open_beds"]),
        # The latest entry per home, and the last before a moment from the index alone (migration 0014).
        sa.Index("ix_availability_home_id_time", "home_id", "id", "recorded_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    home_id: int = Field(foreign_key="home.id")
    open_beds: int
    licensed_beds: int  # snapshot, so the CHECK above can compare within the row
    staff_on_duty: int
    youth_per_staff: int
    current_youth: int
    recorded_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    note: str = Field(default="", max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class Referral(SQLModel, table=True):
    __tablename__ = "referral"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "case_reference", name="uq_referral_case_reference"),
        sa.CheckConstraint("age BETWEEN 0 AND 21", name="ck_referral_age"),
        sa.CheckConstraint(_in("gender", GENDERS), name="ck_referral_gender"),
        sa.CheckConstraint(_in("urgency", URGENCIES), name="ck_referral_urgency"),
        sa.CheckConstraint(_in("substance_use", SUBSTANCE_USE), name="ck_referral_substance"),
        sa.CheckConstraint("children_with BETWEEN 0 AND 6", name="ck_referral_children_with"),
        sa.CheckConstraint("medical_level BETWEEN 0 AND 3", name="ck_referral_medical"),
        sa.CheckConstraint("mental_health_level BETWEEN 0 AND 3", name="ck_referral_mental_health"),
        sa.CheckConstraint("max_distance_km IS NULL OR max_distance_km > 0", name="ck_referral_distance"),
        sa.CheckConstraint(_in("status", REFERRAL_STATUSES), name="ck_referral_status"),
        # A state's referrals; with the id, a join on them reads the index alone (migration 0014).
        sa.Index("ix_referral_custody_state_id", "custody_state", "id"),
        # A state's referrals still waiting for a bed, oldest first, with the urgency that
        # orders "Needs a bed now" (migration 0016): counted and ranked from the index alone.
        sa.Index("ix_referral_waiting", "custody_state", "created_at", "id", postgresql_include=["urgency"],
                 postgresql_where=sa.text(_in("status", WAITING_STATUSES)),
                 sqlite_where=sa.text(_in("status", WAITING_STATUSES))),
        # A state's referrals by opening time, with what the capacity dashboard's waiting and
        # placement-time tables read of each: those tables join the index alone, and unmet
        # need reads only the period's referrals (migration 0017).
        sa.Index("ix_referral_state_created", "custody_state", "created_at",
                 postgresql_include=["id", "urgency", "case_reference"]),
        sa.CheckConstraint(_in("tribal_status", ("", *TRIBAL_STATUSES)), name="ck_referral_tribal_status"),
        sa.CheckConstraint(_in("tribe_notice_method", ("", *NOTICE_METHODS)), name="ck_referral_notice_method"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int = Field(foreign_key="app_user.id")
    case_reference: str = Field(max_length=40)
    age: int
    gender: str = Field(max_length=16)
    urgency: str = Field(max_length=16)
    pregnant: bool = Field(default=False)
    children_with: int = Field(default=0)
    substance_use: str = Field(default="none", max_length=16)
    medical_level: int = Field(default=0)
    mental_health_level: int = Field(default=0)
    language: str = Field(default="en", max_length=8)
    cultural_need: Optional[str] = Field(default=None, max_length=32)
    custody_state: str = Field(max_length=2)
    icpc_approved_states: list = Field(sa_column=_json())
    programs: list = Field(sa_column=_json())
    county: str = Field(max_length=80)
    lat: float
    lon: float
    max_distance_km: Optional[float] = None
    sibling_group: Optional[str] = Field(default=None, max_length=40)
    has_run_before: bool = Field(default=False)
    case_notes: str = Field(default="", max_length=2000)
    status: str = Field(default="open", max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    # ICWA (issue 18): confidential like the case notes (the agency and coordinators only).
    icwa_applies: bool = Field(default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false()))
    tribe_id: Optional[int] = Field(default=None, foreign_key="tribe.id")
    tribal_status: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    tribe_notice_on: Optional[date] = Field(default=None, sa_column=sa.Column(sa.Date(), nullable=True))
    tribe_notice_method: str = Field(default="", max_length=24, sa_column_kwargs={"server_default": ""})


class Tribe(SQLModel, table=True):
    """A tribe on the coordinators' list: what a referral's membership and a home's
    tribal approval name."""

    __tablename__ = "tribe"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    created_by_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class KeepAwayArea(SQLModel, table=True):
    """An area a youth must stay away from: a county, a ZIP code, or a place and a radius.
    Shown only to the referral's agency and coordinators."""

    __tablename__ = "keep_away_area"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", AREA_KINDS), name="ck_keep_away_kind"),
        sa.CheckConstraint("(kind = 'radius') = (radius_km IS NOT NULL)", name="ck_keep_away_radius_kind"),
        sa.CheckConstraint("radius_km IS NULL OR (radius_km > 0 AND radius_km <= 1000)", name="ck_keep_away_radius"),
        sa.CheckConstraint("kind <> 'zip' OR zip_code <> ''", name="ck_keep_away_zip"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_keep_away_coordinates"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=8)
    state: str = Field(max_length=2)
    county: str = Field(default="", max_length=80)
    zip_code: str = Field(default="", max_length=5)
    label: str = Field(max_length=160)
    lat: float
    lon: float
    radius_km: Optional[float] = None
    created_by_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class KeepApartLink(SQLModel, table=True):
    """Two referrals whose youths must never share a home. Symmetric: stored once with
    the lower id first. `by_coordinator` links may cross agencies; the caseworkers then
    see that a link exists, never the other case."""

    __tablename__ = "keep_apart_link"
    __table_args__ = (
        sa.UniqueConstraint("referral_a_id", "referral_b_id", name="uq_keep_apart_pair"),
        sa.CheckConstraint("referral_a_id < referral_b_id", name="ck_keep_apart_order"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_a_id: int = Field(foreign_key="referral.id", index=True)
    referral_b_id: int = Field(foreign_key="referral.id", index=True)
    by_coordinator: bool = Field(default=False)
    created_by_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class ReferralEvent(SQLModel, table=True):
    """Status history of a referral: who moved it where, and when."""

    __tablename__ = "referral_event"
    __table_args__ = (sa.CheckConstraint(_in("status", REFERRAL_STATUSES), name="ck_referral_event_status"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    status: str = Field(max_length=16)
    actor_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    note: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class Hold(SQLModel, table=True):
    """A bed reserved for a referral; active while unreleased and unexpired."""

    __tablename__ = "hold"
    __table_args__ = (
        sa.CheckConstraint("places >= 1", name="ck_hold_places"),
        sa.CheckConstraint("expires_at > created_at", name="ck_hold_expiry"),
        sa.Index("ix_hold_home_active", "home_id", "released_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    home_id: int = Field(foreign_key="home.id")
    created_by_id: int = Field(foreign_key="app_user.id")
    places: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    expires_at: datetime = Field(sa_column=_time())
    released_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    release_reason: str = Field(default="", max_length=32)

    @classmethod
    def keeps_places(cls, now: datetime):
        """SQL condition for a hold still keeping its places: unreleased and unexpired
        (expiry is read at read time; the sweep only records it afterwards)."""
        return cls.released_at.is_(None) & (cls.expires_at > now)

    def is_live(self, now: datetime) -> bool:
        """The same rule as `keeps_places`, for a hold already loaded."""
        return self.released_at is None and self.expires_at > now


class PlacementRequest(SQLModel, table=True):
    __tablename__ = "placement_request"
    __table_args__ = (
        sa.CheckConstraint(_in("status", REQUEST_STATUSES), name="ck_request_status"),
        sa.CheckConstraint("places >= 1", name="ck_request_places"),
        sa.CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL", name="ck_request_decline_reason"
        ),
        # The places pending requests reserve, per home (migration 0014): a search reads them
        # for every home in reach, and the table keeps every request ever made.
        sa.Index("ix_request_pending_home", "home_id", "places", postgresql_where=sa.text("status = 'pending'"),
                 sqlite_where=sa.text("status = 'pending'")),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    home_id: int = Field(foreign_key="home.id", index=True)
    hold_id: Optional[int] = Field(default=None, foreign_key="hold.id")
    requested_by_id: int = Field(foreign_key="app_user.id")
    places: int
    status: str = Field(default="pending", max_length=16)
    decline_reason: Optional[str] = Field(default=None, max_length=32)
    decline_note: str = Field(default="", max_length=300)
    answered_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    answered_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    # ICWA (issue 18): the preference step the home met (None: outside the order, or the
    # Act does not apply) and the good cause recorded for a placement outside the first
    # step available. Never shown to the home.
    icwa_step: Optional[int] = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True))
    icwa_good_cause: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})


# The operator's queue (issue 19): a home offers a bed to a waiting youth; the caseworker answers.
OFFER_STATUSES = ("pending", "accepted", "declined", "withdrawn", "expired")
OFFER_DECLINE_REASONS = {
    "placing_elsewhere": "Placing the youth in another home",
    "too_far": "Too far from the youth's family, school or services",
    "not_a_fit": "Not the right program for this youth",
    "other": "Other",
}


class PlacementOffer(SQLModel, table=True):
    """A home's offer of a bed to a youth waiting in its operators' queue.

    While pending and unexpired it reserves its places like a hold (expiry is read-time;
    the scheduler's `expire_offers` job later records "expired" and tells both sides).
    The caseworker accepts it (an accepted `request_id` then carries the placement) or
    declines it with a reason; a placement elsewhere withdraws it.
    """

    __tablename__ = "placement_offer"
    __table_args__ = (
        sa.CheckConstraint(_in("status", OFFER_STATUSES), name="ck_offer_status"),
        sa.CheckConstraint("places >= 1", name="ck_offer_places"),
        sa.CheckConstraint("expires_at > created_at", name="ck_offer_expiry"),
        sa.CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL", name="ck_offer_decline_reason"),
        sa.CheckConstraint("status <> 'accepted' OR request_id IS NOT NULL", name="ck_offer_accepted_request"),
        sa.UniqueConstraint("request_id", name="uq_offer_request"),
        sa.Index("ix_offer_home_status", "home_id", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    home_id: int = Field(foreign_key="home.id")
    offered_by_id: int = Field(foreign_key="app_user.id")
    places: int
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    expires_at: datetime = Field(sa_column=_time())
    answered_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    answered_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    decline_reason: Optional[str] = Field(default=None, max_length=32)
    request_id: Optional[int] = Field(default=None, foreign_key="placement_request.id")

    @classmethod
    def keeps_places(cls, now: datetime):
        """SQL condition for an offer still keeping its places: pending and not yet expired
        (expiry is read at read time, like a hold's)."""
        return (cls.status == "pending") & (cls.expires_at > now)


PLACEMENT_END_REASONS = {
    "discharge": "Planned discharge",
    "transfer": "Transfer to another placement",
    "missing": "Missing from care",
}
# Why a home ended a placement it could not keep (a disruption): the decline
# reasons that describe the home's side, counted per home with its declines.
DISRUPTION_REASONS = ("criteria_mismatch", "no_staff", "safety", "acuity", "other")


class Placement(SQLModel, table=True):
    __tablename__ = "placement"
    __table_args__ = (
        sa.UniqueConstraint("request_id", name="uq_placement_request"),
        sa.CheckConstraint("places >= 1", name="ck_placement_places"),
        sa.CheckConstraint(_in("end_reason", ("", *PLACEMENT_END_REASONS)), name="ck_placement_end_reason"),
        sa.CheckConstraint(
            "(ended_at IS NULL AND end_reason = '') OR (ended_at IS NOT NULL AND end_reason <> '')",
            name="ck_placement_ended",
        ),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ck_placement_end_after_start"),
        sa.CheckConstraint(
            "disruption_reason IS NULL OR (end_reason = 'transfer' AND "
            + _in("disruption_reason", DISRUPTION_REASONS) + ")",
            name="ck_placement_disruption",
        ),
        # The few placements a disruption ended (migration 0014).
        sa.Index("ix_placement_disrupted", "home_id", postgresql_where=sa.text("disruption_reason IS NOT NULL"),
                 sqlite_where=sa.text("disruption_reason IS NOT NULL")),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    home_id: int = Field(foreign_key="home.id", index=True)
    request_id: int = Field(foreign_key="placement_request.id")
    places: int
    started_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    ended_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    end_reason: str = Field(default="", max_length=32)
    ended_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    end_note: str = Field(default="", max_length=300)
    disruption_reason: Optional[str] = Field(default=None, max_length=32)


MISSING_REPORT_KINDS = {"law_enforcement": "Law enforcement", "ncmec": "NCMEC"}
LOCATED_BY = {
    "law_enforcement": "Law enforcement",
    "caseworker": "Caseworker or agency staff",
    "home": "The home's staff",
    "family": "Family or kin",
    "self": "Youth returned on their own",
    "other": "Someone else",
}
SCREENING_EXPLOITED = {"yes": "Yes", "no": "No", "unsure": "Unsure / disclosed concerns"}
SCREENING_HEALTH = {"none": "No health needs", "routine": "Routine care needed", "urgent": "Urgent care needed"}
SCREENING_SERVICES = {
    "medical": "Medical exam",
    "counseling": "Trauma counseling",
    "advocate": "Victim advocate",
    "forensic_interview": "Forensic interview",
    "legal": "Legal services",
    "declined": "Youth declined all services",
}


class MissingEpisode(SQLModel, table=True):
    """A youth missing from a placement: the 24-hour report clock, the kept bed, the return.

    Times are UTC; `reports_due_at` is stored (not derived at read time) so the
    deadline never moves with a time-zone rule or a configuration change.
    """

    __tablename__ = "missing_episode"
    __table_args__ = (
        sa.UniqueConstraint("placement_id", name="uq_missing_episode_placement"),
        sa.CheckConstraint("last_seen_at <= reported_at", name="ck_missing_seen_before_report"),
        sa.CheckConstraint("reports_due_at > reported_at", name="ck_missing_due_after_report"),
        sa.CheckConstraint(
            "(located_at IS NULL AND located_county IS NULL AND located_by IS NULL) OR "
            "(located_at IS NOT NULL AND located_county IS NOT NULL AND located_by IS NOT NULL)",
            name="ck_missing_located_complete",
        ),
        sa.CheckConstraint("located_at IS NULL OR located_at >= last_seen_at", name="ck_missing_located_after_seen"),
        sa.CheckConstraint("located_by IS NULL OR " + _in("located_by", LOCATED_BY), name="ck_missing_located_by"),
        sa.CheckConstraint(
            "(screened_at IS NULL AND screening_exploited IS NULL AND screening_health IS NULL) OR "
            "(screened_at IS NOT NULL AND screening_exploited IS NOT NULL AND screening_health IS NOT NULL "
            "AND located_at IS NOT NULL)",
            name="ck_missing_screening_complete",
        ),
        sa.CheckConstraint(
            "screening_exploited IS NULL OR " + _in("screening_exploited", SCREENING_EXPLOITED),
            name="ck_missing_screening_exploited",
        ),
        sa.CheckConstraint(
            "screening_health IS NULL OR " + _in("screening_health", SCREENING_HEALTH), name="ck_missing_screening_health"
        ),
        sa.CheckConstraint("closed_at IS NULL OR screened_at IS NOT NULL", name="ck_missing_closed_screened"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    placement_id: int = Field(foreign_key="placement.id")
    referral_id: int = Field(foreign_key="referral.id", index=True)
    home_id: int = Field(foreign_key="home.id", index=True)
    last_seen_at: datetime = Field(sa_column=_time())
    reported_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    reported_by_id: int = Field(foreign_key="app_user.id")
    reports_due_at: datetime = Field(sa_column=_time())
    overdue_notified_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    # The bed kept for the youth is an ordinary hold: it expires by itself at read time.
    bed_hold_id: Optional[int] = Field(default=None, foreign_key="hold.id")
    located_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    located_county: Optional[str] = Field(default=None, max_length=80)  # county only, never an address
    located_by: Optional[str] = Field(default=None, max_length=24)
    located_recorded_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    screening_exploited: Optional[str] = Field(default=None, max_length=16)
    screening_health: Optional[str] = Field(default=None, max_length=16)
    screening_services: list = Field(default_factory=list, sa_column=_json())
    screened_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    screened_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    closed_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    referral_reopened: bool = Field(default=False)


class MissingReport(SQLModel, table=True):
    """One of the two reports a missing episode requires (law enforcement, NCMEC)."""

    __tablename__ = "missing_report"
    __table_args__ = (
        sa.UniqueConstraint("episode_id", "kind", name="uq_missing_report_kind"),
        sa.CheckConstraint(_in("kind", MISSING_REPORT_KINDS), name="ck_missing_report_kind"),
        sa.CheckConstraint("report_number <> ''", name="ck_missing_report_number"),
        sa.CheckConstraint("made_by <> ''", name="ck_missing_report_made_by"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="missing_episode.id", index=True)
    kind: str = Field(max_length=16)
    made_at: datetime = Field(sa_column=_time())
    report_number: str = Field(max_length=60)
    made_by: str = Field(max_length=120)  # the person who made the report (may differ from who records it)
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class Notification(SQLModel, table=True):
    """An in-portal message for one user (e-mail/SMS adapters plug in at notify())."""

    __tablename__ = "notification"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    message: str = Field(max_length=300)
    link: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    read_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


class AuditEvent(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_at", "at"),
        # The object filter and its drop-down of object types (migration 0008).
        sa.Index("ix_audit_event_object", "object_type", "object_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_time())
    actor_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    organisation_id: Optional[int] = Field(default=None, foreign_key="organisation.id")
    action: str = Field(max_length=40, index=True)
    object_type: str = Field(default="", max_length=40)
    object_id: Optional[int] = None
    detail: str = Field(default="", max_length=500)
    ip: str = Field(default="", max_length=64)


class MatcherRun(SQLModel, table=True):
    __tablename__ = "matcher_run"
    __table_args__ = (
        sa.CheckConstraint(_in("status", MATCHER_RUN_STATUSES), name="ck_matcher_run_status"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="ck_matcher_run_progress"),
        sa.CheckConstraint("time_limit > 0", name="ck_matcher_run_time_limit"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    state: str = Field(max_length=2, index=True)
    started_by_id: int = Field(foreign_key="app_user.id")
    status: str = Field(default="queued", max_length=16)
    progress: int = Field(default=0)
    instance: Optional[dict] = Field(default=None, sa_column=_json(nullable=True))
    result: Optional[dict] = Field(default=None, sa_column=_json(nullable=True))
    time_limit: float = Field(default=20.0, sa_column=sa.Column(sa.Float(), nullable=False, server_default="20"))
    # "Where one more bed helps most" for this run: {"status": "working" | "done" | "failed", ...}
    impact: Optional[dict] = Field(default=None, sa_column=_json(nullable=True))
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    finished_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


MATCHER_PROPOSAL_STATUSES = ("proposed", "approved", "refused")


class MatcherProposal(SQLModel, table=True):
    """One placement a matcher run proposed, and the coordinator's decision on it.

    Kept as rows (not only inside the run's result JSON) so that each decision is
    recorded once, with who made it and the hold/request it became or why it was refused.
    """

    __tablename__ = "matcher_proposal"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "referral_id", name="uq_matcher_proposal_run_referral"),
        sa.CheckConstraint(_in("status", MATCHER_PROPOSAL_STATUSES), name="ck_matcher_proposal_status"),
        sa.CheckConstraint(
            "status <> 'approved' OR request_id IS NOT NULL", name="ck_matcher_proposal_approved_request"
        ),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="matcher_run.id", index=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    home_id: int = Field(foreign_key="home.id")
    rank: int  # position by urgency, then fit: the order the run page shows
    fit: float
    reasons: list = Field(sa_column=_json())
    status: str = Field(default="proposed", max_length=16)
    reason: str = Field(default="", max_length=300)  # why it was refused
    request_id: Optional[int] = Field(default=None, foreign_key="placement_request.id")
    decided_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    decided_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


class ApiToken(SQLModel, table=True):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once.

    It acts as its user, and only while the user keeps the role and organisation the
    token was made for (`role`, `organisation_id`) and stays active.
    """

    __tablename__ = "api_token"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="ck_api_token_role"),
        sa.CheckConstraint("expires_at > created_at", name="ck_api_token_expiry"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    prefix: str = Field(max_length=12)  # the first characters, so a user can tell tokens apart
    role: str = Field(max_length=16)
    organisation_id: int = Field(foreign_key="organisation.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    expires_at: datetime = Field(sa_column=_time())
    last_used_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    revoked_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


class IdempotencyRecord(SQLModel, table=True):
    """The answer to a POST sent with an Idempotency-Key, replayed when the same key comes again.

    A row without `status_code` is a request still being processed.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("user_id", "endpoint", "key", name="uq_idempotency_user_endpoint_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    endpoint: str = Field(max_length=200)  # method and path, e.g. "POST /api/v1/referrals/7/holds"
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: Optional[int] = None
    response: Optional[dict] = Field(default=None, sa_column=_json(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


# Alerts: what leaves SafeBed by e-mail or webhook, who gets it, and the scheduler ---------

ALERT_EVENTS = {
    "request_new": "A new placement request for one of your homes",
    "request_answered": "A home answered your placement request",
    "hold_expiring": "A bed you hold expires in 30 minutes",
    "request_escalated": "A placement request went unanswered",
    "missing_opened": "A youth went missing from care",
    "report_due": "A missing-youth report is due within 4 hours",
    "report_overdue": "A missing-youth report is overdue",
    "figures_stale": "A home's figures are older than 20 hours",
    "matcher_done": "A matcher run finished",
    "placed_elsewhere": "A youth you were asked to take was placed elsewhere",
    "arrival_overdue": "A youth in transit has not arrived",
    "offer_new": "A home offered a bed to one of your youths",
    "offer_answered": "A caseworker answered your home's offer of a bed",
    "offer_withdrawn": "A home withdrew its offer of a bed to one of your youths",
    "offer_expired": "An offer of a bed expired before the caseworker answered",
}
ALERT_CHANNELS = {"email": "E-mail", "webhook": "My organisation's webhook", "portal": "Only inside SafeBed"}
OUTBOX_CHANNELS = ("email", "webhook")
OUTBOX_STATUSES = ("pending", "sending", "sent", "dead")
ESCALATION_KINDS = {
    "unanswered": "Request unanswered",
    "no_eligible_home": "No eligible home",
    "unplaced": "Unplaced after 4 hours",
}


class NotificationPreference(SQLModel, table=True):
    """How one user wants alerts outside the portal; no row means e-mail, every event, no quiet hours.

    Quiet hours are minutes after midnight in the user's own time zone; emergencies ignore them.
    """

    __tablename__ = "notification_preference"
    __table_args__ = (
        sa.UniqueConstraint("user_id", name="uq_notification_preference_user"),
        sa.CheckConstraint(_in("channel", ALERT_CHANNELS), name="ck_notification_preference_channel"),
        sa.CheckConstraint(
            "(quiet_start IS NULL AND quiet_end IS NULL) OR "
            "(quiet_start BETWEEN 0 AND 1439 AND quiet_end BETWEEN 0 AND 1439 AND quiet_start <> quiet_end)",
            name="ck_notification_preference_quiet",
        ),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    channel: str = Field(default="email", max_length=16)
    events: list = Field(sa_column=_json())
    quiet_start: Optional[int] = None
    quiet_end: Optional[int] = None
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class HomeOnCall(SQLModel, table=True):
    """Tonight's intake on-call contact of a home (append-only; the latest row within a day counts)."""

    __tablename__ = "home_on_call"
    __table_args__ = (
        sa.CheckConstraint("name <> '' AND email <> ''", name="ck_home_on_call_contact"),
        sa.Index("ix_home_on_call_home_time", "home_id", "set_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    home_id: int = Field(foreign_key="home.id")
    name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    set_by_id: int = Field(foreign_key="app_user.id")
    set_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class WebhookEndpoint(SQLModel, table=True):
    """An organisation's receiving system (on-call, case management) for signed alert webhooks."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", name="uq_webhook_endpoint_organisation"),
        sa.CheckConstraint("url LIKE 'http%'", name="ck_webhook_endpoint_url"),
        sa.CheckConstraint("length(secret) >= 32", name="ck_webhook_endpoint_secret"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    url: str = Field(max_length=500)
    # The HMAC key: kept in clear because signing needs it; shown once, never in a page afterwards.
    secret: str = Field(max_length=128)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class OutboxMessage(SQLModel, table=True):
    """One alert to one address, queued in the transaction of the event that caused it.

    `message_id` is fixed when queued and sent with every attempt (Message-ID header,
    webhook id), so a receiver can drop the duplicate an at-least-once retry may cause.
    The text holds no child data (see placement.services.alert_texts).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.UniqueConstraint("message_id", name="uq_outbox_message_id"),
        sa.CheckConstraint(_in("event", ALERT_EVENTS), name="ck_outbox_event"),
        sa.CheckConstraint(_in("channel", OUTBOX_CHANNELS), name="ck_outbox_channel"),
        sa.CheckConstraint(_in("status", OUTBOX_STATUSES), name="ck_outbox_status"),
        sa.CheckConstraint("attempts >= 0", name="ck_outbox_attempts"),
        sa.CheckConstraint("channel <> 'webhook' OR endpoint_id IS NOT NULL", name="ck_outbox_webhook_endpoint"),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="ck_outbox_sent_at"),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=80)
    event: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    urgent: bool = Field(default=False)
    recipient_user_id: Optional[int] = Field(default=None, foreign_key="app_user.id", index=True)
    to_address: str = Field(max_length=500)  # an e-mail address, or the webhook's URL
    endpoint_id: Optional[int] = Field(default=None, foreign_key="webhook_endpoint.id")
    subject: str = Field(max_length=200)
    body: str = Field(max_length=1000)
    link: str = Field(max_length=300)  # a path; delivery puts the configured BASE_URL in front
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    # While `sending`, the worker that claimed it owns it until this time; after it, the
    # message is claimed again (the worker died mid-delivery) and re-sent with the same id.
    lease_until: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    last_error: str = Field(default="", max_length=300)
    transport: str = Field(default="", max_length=16)  # smtp, webhook, console
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    sent_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


class AlertMark(SQLModel, table=True):
    """An alert a scheduled job already raised (e.g. "hold_expiring:17"): each is raised once."""

    __tablename__ = "alert_mark"

    key: str = Field(max_length=120, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class Escalation(SQLModel, table=True):
    """A referral put before the state's coordinators: unanswered request, no eligible home, or unplaced."""

    __tablename__ = "escalation"
    __table_args__ = (
        sa.UniqueConstraint("request_id", name="uq_escalation_request"),
        sa.CheckConstraint(_in("kind", ESCALATION_KINDS), name="ck_escalation_kind"),
        sa.CheckConstraint("kind <> 'unanswered' OR request_id IS NOT NULL", name="ck_escalation_unanswered_request"),
        sa.Index("ix_escalation_open", "state", "resolved_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    request_id: Optional[int] = Field(default=None, foreign_key="placement_request.id")
    state: str = Field(max_length=2)  # the custody state whose coordinators see it
    kind: str = Field(max_length=24)
    # The rules that excluded every home (for "no eligible home"), as shown to the caseworker.
    reasons: list = Field(default_factory=list, sa_column=_json())
    created_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    resolved_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    resolved_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    resolution: str = Field(default="", max_length=200)


class SchedulerJob(SQLModel, table=True):
    """One periodic job. A process runs tick N only if it moves `last_tick` to N first:
    a conditional UPDATE that PostgreSQL row-locks and SQLite serialises, so exactly one
    process in the fleet wins each tick."""

    __tablename__ = "scheduler_job"

    name: str = Field(max_length=40, primary_key=True)
    last_tick: int = Field(default=0, sa_column=sa.Column(sa.BigInteger(), nullable=False))
    running_until: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


class SchedulerRun(SQLModel, table=True):
    """What a job did on one tick, and which process ran it (shown on the Outbox page)."""

    __tablename__ = "scheduler_run"
    __table_args__ = (sa.Index("ix_scheduler_run_job_tick", "job", "tick"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    tick: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    process: str = Field(max_length=80)
    started_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    finished_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    outcome: str = Field(default="", max_length=200)


# From request to arrival: consent, the handoff, the intake packet ------------------------

CONSENT_KINDS = {
    "release": "The youth's assent and a signed release of information",
    "override": "Override: no consent, with the reason and who approved it",
}


class ReferralConsent(SQLModel, table=True):
    """The youth's assent and release of information for one referral, or an approved override.

    A request cannot be sent without one in force (a release not yet expired, or an override).
    Rows are never changed: a new release or override is a new row; the latest in force counts.
    """

    __tablename__ = "referral_consent"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", CONSENT_KINDS), name="ck_referral_consent_kind"),
        sa.CheckConstraint(
            "kind <> 'release' OR (youth_assented AND recipients <> '' AND information <> '' "
            "AND signed_at IS NOT NULL AND expires_at IS NOT NULL AND expires_at > signed_at)",
            name="ck_referral_consent_release",
        ),
        sa.CheckConstraint("kind <> 'override' OR (override_reason <> '' AND approved_by <> '')",
                           name="ck_referral_consent_override"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=16)
    youth_assented: bool = Field(default=False)
    recipients: str = Field(default="", max_length=300)  # who may receive the information
    information: str = Field(default="", max_length=300)  # what may be released
    signed_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    expires_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    override_reason: str = Field(default="", max_length=500)
    approved_by: str = Field(default="", max_length=120)  # the supervisor who approved the override
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class Handoff(SQLModel, table=True):
    """The trip from acceptance to arrival: who escorts the youth (an agency staff member,
    never the youth's name), when they left, when they should arrive, and the home's
    confirmation. An arrival not confirmed in time is flagged once (`overdue_at`)."""

    __tablename__ = "handoff"
    __table_args__ = (
        sa.UniqueConstraint("placement_id", name="uq_handoff_placement"),
        sa.CheckConstraint("escort_name <> ''", name="ck_handoff_escort"),
        sa.CheckConstraint("expected_arrival_at > departed_at", name="ck_handoff_expected_after_departure"),
        sa.CheckConstraint("arrived_at IS NULL OR arrived_at >= departed_at", name="ck_handoff_arrived_after_departure"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    placement_id: int = Field(foreign_key="placement.id")
    escort_name: str = Field(max_length=120)
    departed_at: datetime = Field(sa_column=_time())
    expected_arrival_at: datetime = Field(sa_column=_time())
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    arrived_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))
    arrival_confirmed_by_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    overdue_at: Optional[datetime] = Field(default=None, sa_column=_time(nullable=True))


INTAKE_DOCUMENT_KINDS = {
    "custody_order": "Custody order",
    "medical_consent": "Medical consent",
    "icpc_100a": "ICPC 100A approval",
    "school_records": "School records",
    "immunization": "Immunization record",
    "insurance": "Medicaid or insurance card",
}
DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024


class IntakeDocument(SQLModel, table=True):
    """One document of a referral's intake packet, sealed with AES-GCM (placement.sealing).

    Only its kind, type, size, expiry and key id are in clear; the file itself (and its
    original name) is the ciphertext's business. Released to the home's operators only
    once the home accepted the youth, like the street address.
    """

    __tablename__ = "intake_document"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", INTAKE_DOCUMENT_KINDS), name="ck_intake_document_kind"),
        sa.CheckConstraint(_in("content_type", DOCUMENT_TYPES), name="ck_intake_document_type"),
        sa.CheckConstraint(f"size_bytes BETWEEN 1 AND {DOCUMENT_MAX_BYTES}", name="ck_intake_document_size"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=32)
    content_type: str = Field(max_length=32)
    size_bytes: int
    expires_on: Optional[date] = Field(default=None, sa_column=sa.Column(sa.Date(), nullable=True))
    key_id: str = Field(max_length=40)
    nonce: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    ciphertext: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    uploaded_by_id: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=_time())
