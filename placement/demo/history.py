"""Four months of synthetic placement history for the demo, so the outcome and
equity pages have something to show: placements that lasted, discharges,
transfers (some disrupted by the home), missing-from-care episodes with their
reports (a few late, one overdue now), returns, screenings and re-placements,
and declines (some for "criteria mismatch" a home's own criteria accept).

All of it is made up. It is written as rows with past times (the services
stamp "now"), and only once: its case references carry "-H-", and `add_history`
does nothing when one exists. Availability figures are left as the demo
published them; the history explains outcomes, not tonight's beds.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlmodel import Session, select

from ..models import (
    Hold,
    Home,
    MissingEpisode,
    MissingReport,
    Organisation,
    Placement,
    PlacementRequest,
    Referral,
    ReferralEvent,
    User,
)
from ..services.lifecycle import REPORT_HOURS
from ..timeutil import utcnow

HISTORY_DAYS = 120
PLACEMENTS_PER_STATE = 60
MARK = "-H-"
NEEDS = [None] * 6 + ["native", "native", "lgbtq_affirming", "lgbtq_affirming", "latine"]
COUNTIES = {"MO": ["Jackson", "Greene", "St. Louis City", "Boone"], "KS": ["Sedgwick", "Wyandotte", "Shawnee"],
            "IL": ["Cook", "Peoria", "St. Clair"]}


def history_exists(session: Session) -> bool:
    return session.exec(select(Referral.id).where(Referral.case_reference.contains(MARK))).first() is not None


def add_history(session: Session, rng: random.Random, cities: dict) -> None:
    """Write the history once per database (see the module docstring)."""
    if history_exists(session):
        return
    now = utcnow()
    for state in cities:
        homes = list(session.exec(select(Home).where(Home.state == state).order_by(Home.id)).all())
        caseworkers = list(session.exec(
            select(User).join(Organisation).where(User.role == "caseworker", Organisation.state == state).order_by(User.id)
        ).all())
        operators = {org_id: session.exec(select(User).where(User.organisation_id == org_id, User.role == "operator")).first()
                     for org_id in {home.provider_id for home in homes}}
        if not homes or not caseworkers:
            continue
        _State(session, rng, now, state, homes, caseworkers, operators, cities[state]).run()
    session.commit()


class _State:
    """One state's history: youths placed, and what became of each placement."""

    def __init__(self, session, rng, now, state, homes, caseworkers, operators, cities):
        self.session, self.rng, self.now, self.state = session, rng, now, state
        self.homes, self.caseworkers, self.operators, self.cities = homes, caseworkers, operators, cities
        self.count = 0

    def run(self) -> None:
        # The first caseworker (the demo's sample account) has current residents at the first homes.
        for home in self.homes[:4]:
            referral = self._referral(home, self.caseworkers[0], self.now - timedelta(days=12))
            self._place(referral, home, self.now - timedelta(days=11), allow_end=False)
        for _ in range(PLACEMENTS_PER_STATE):
            home = self.rng.choice(self.homes)
            start = self.now - timedelta(days=self.rng.uniform(3, HISTORY_DAYS))
            referral = self._referral(home, self.rng.choice(self.caseworkers), start - timedelta(days=1))
            if self.rng.random() < 0.25:
                self._decline(referral, start - timedelta(hours=12))
            self._place(referral, home, start)
        self._overdue_now()

    # Rows ------------------------------------------------------------------------------------

    def _referral(self, home: Home, caseworker: User, created: datetime) -> Referral:
        rng = self.rng
        city, county, lat, lon = rng.choice(self.cities)
        self.count += 1
        referral = Referral(
            agency_id=caseworker.organisation_id, created_by_id=caseworker.id,
            case_reference=f"{self.state}{MARK}{self.count:04d}",
            age=rng.randint(max(home.min_age, 11), min(home.max_age, 19)), gender=rng.choice(home.genders),
            urgency=rng.choice(["emergency", "urgent", "planned"]), substance_use="none",
            medical_level=rng.randint(0, home.medical_level), mental_health_level=rng.randint(0, home.mental_health_level),
            language="en", cultural_need=rng.choice(NEEDS), custody_state=self.state, icpc_approved_states=[], programs=[],
            county=county, lat=lat, lon=lon, case_notes="Synthetic demo history; no real person.",
            status="placed", created_at=created, updated_at=created,
        )
        self.session.add(referral)
        self.session.flush()
        self._event(referral, "open", caseworker, created, "referral opened")
        return referral

    def _event(self, referral: Referral, status: str, actor: User | None, at: datetime, note: str) -> None:
        referral.status, referral.updated_at = status, at
        self.session.add(ReferralEvent(referral_id=referral.id, status=status, actor_id=actor.id if actor else None,
                                       note=note, created_at=at))

    def _caseworker(self, referral: Referral) -> User:
        return self.session.get(User, referral.created_by_id)

    def _decline(self, referral: Referral, at: datetime) -> None:
        """A home that turned the youth away first; the first home of the state says 'criteria mismatch'
        about youths its own criteria accept, which its feedback page then shows it."""
        home = self.homes[0] if self.rng.random() < 0.5 else self.rng.choice(self.homes)
        fits = (home.min_age <= referral.age <= home.max_age and referral.gender in home.genders
                and referral.medical_level <= home.medical_level and referral.mental_health_level <= home.mental_health_level)
        reason = "criteria_mismatch" if home is self.homes[0] and fits else self.rng.choice(["no_staff", "no_bed", "safety", "acuity"])
        self.session.add(PlacementRequest(
            referral_id=referral.id, home_id=home.id, requested_by_id=referral.created_by_id, places=1, status="declined",
            decline_reason=reason, answered_by_id=self.operators[home.provider_id].id, answered_at=at, created_at=at - timedelta(hours=1),
        ))

    def _place(self, referral: Referral, home: Home, start: datetime, allow_end: bool = True) -> None:
        caseworker, operator = self._caseworker(referral), self.operators[home.provider_id]
        request = PlacementRequest(referral_id=referral.id, home_id=home.id, requested_by_id=caseworker.id, places=1,
                                   status="accepted", answered_by_id=operator.id, answered_at=start, created_at=start - timedelta(hours=2))
        self.session.add(request)
        self.session.flush()
        placement = Placement(referral_id=referral.id, home_id=home.id, request_id=request.id, places=1, started_at=start)
        self.session.add(placement)
        self.session.flush()
        self._event(referral, "placed", operator, start, f"accepted by home {home.id}")
        if allow_end:
            self._end(referral, home, placement)

    def _end(self, referral: Referral, home: Home, placement: Placement) -> None:
        """Pick how (and whether yet) the placement ends; a home without the care a youth's
        culture asks for sees more runs, which the equity view then shows."""
        rng = self.rng
        unmet_culture = referral.cultural_need and referral.cultural_need not in home.cultural_services
        run_risk = 0.32 if unmet_culture else 0.12
        draw = rng.random()
        if draw < run_risk:
            how, day = "missing", rng.expovariate(1 / 12)
        elif draw < run_risk + 0.25:
            how, day = "discharge", rng.uniform(20, 110)
        elif draw < run_risk + 0.37:
            how, day = "transfer", rng.uniform(5, 60)
        else:
            return
        ended = placement.started_at + timedelta(days=day)
        if ended > self.now - timedelta(hours=1):
            return  # not yet: still in placement
        operator = self.operators[home.provider_id]
        placement.ended_at, placement.end_reason, placement.ended_by_id = ended, how, operator.id
        if how == "missing":
            self._missing(referral, home, placement)
        elif how == "discharge":
            self._event(referral, "closed", operator, ended, f"placement {placement.id} ended: discharge")
        else:
            placement.disruption_reason = rng.choice([None, "no_staff", "safety", "criteria_mismatch"])
            self._event(referral, "open", operator, ended, f"placement {placement.id} ended: transfer")
            self._place(referral, rng.choice(self.homes), min(ended + timedelta(hours=rng.uniform(2, 30)), self.now - timedelta(minutes=30)))

    def _missing(self, referral: Referral, home: Home, placement: Placement) -> None:
        rng, operator = self.rng, self.operators[home.provider_id]
        caseworker = self._caseworker(referral)
        reported = min(placement.ended_at + timedelta(hours=rng.uniform(0.5, 5)), self.now - timedelta(minutes=20))
        episode = MissingEpisode(
            placement_id=placement.id, referral_id=referral.id, home_id=home.id, last_seen_at=placement.ended_at,
            reported_at=reported, reported_by_id=operator.id, reports_due_at=reported + timedelta(hours=REPORT_HOURS),
        )
        self.session.add(episode)
        self.session.flush()
        referral.has_run_before = True
        self._event(referral, "closed", operator, reported, f"youth missing from care (episode {episode.id})")
        for kind, number in (("law_enforcement", f"PD-{rng.randint(10000, 99999)}"), ("ncmec", f"NCMEC-{rng.randint(1000000, 9999999)}")):
            made = reported + timedelta(hours=rng.uniform(0.3, 6) if rng.random() < 0.88 else rng.uniform(26, 40))
            if made < self.now:
                self.session.add(MissingReport(episode_id=episode.id, kind=kind, made_at=made, report_number=number,
                                               made_by=caseworker.display_name, recorded_by_id=caseworker.id, recorded_at=made))
        located = placement.ended_at + timedelta(days=rng.expovariate(1 / 4))
        if located > self.now - timedelta(hours=2) or reported + timedelta(hours=REPORT_HOURS + 16) > self.now:
            # Still missing: the bed is kept for 72 hours from the report.
            kept = Hold(referral_id=referral.id, home_id=home.id, created_by_id=operator.id, places=1,
                        created_at=reported, expires_at=reported + timedelta(hours=72))
            self.session.add(kept)
            self.session.flush()
            episode.bed_hold_id = kept.id
            return
        episode.located_at, episode.located_county = located, rng.choice(COUNTIES[self.state])
        episode.located_by, episode.located_recorded_by_id = rng.choice(["law_enforcement", "law_enforcement", "family", "self", "caseworker"]), caseworker.id
        closed = located + timedelta(hours=rng.uniform(3, 30))
        episode.screening_exploited = rng.choice(["no", "no", "yes", "unsure"])
        episode.screening_health = rng.choice(["none", "routine", "routine", "urgent"])
        episode.screening_services = sorted(rng.sample(["medical", "counseling", "advocate", "forensic_interview", "legal"], 2))
        episode.screened_at = episode.closed_at = min(closed, self.now - timedelta(hours=1))
        episode.screened_by_id = caseworker.id
        # Make sure both reports exist before the episode counts as closed (late if need be).
        for kind in ("law_enforcement", "ncmec"):
            if self.session.exec(select(MissingReport).where(MissingReport.episode_id == episode.id, MissingReport.kind == kind)).first() is None:
                self.session.add(MissingReport(episode_id=episode.id, kind=kind, made_at=episode.closed_at - timedelta(minutes=30),
                                               report_number=f"LATE-{episode.id}-{kind[:2].upper()}", made_by=caseworker.display_name,
                                               recorded_by_id=caseworker.id, recorded_at=episode.closed_at))
        episode.referral_reopened = rng.random() < 0.75
        if episode.referral_reopened:
            self._event(referral, "open", caseworker, episode.closed_at, f"reopened after missing episode {episode.id}")
            again = episode.closed_at + timedelta(hours=rng.uniform(4, 48))
            if again < self.now - timedelta(hours=1):
                crisis = [h for h in self.homes if h.program == "crisis_stabilization"] or self.homes
                self._place(referral, rng.choice(crisis), again)

    def _overdue_now(self) -> None:
        """One current episode whose 24-hour deadline passed with the NCMEC report still outstanding."""
        home = self.homes[1 % len(self.homes)]
        referral = self._referral(home, self.caseworkers[0], self.now - timedelta(days=20))
        start = self.now - timedelta(days=18)
        self._place(referral, home, start, allow_end=False)
        placement = self.session.exec(select(Placement).where(Placement.referral_id == referral.id)).one()
        placement.ended_at, placement.end_reason = self.now - timedelta(hours=31), "missing"
        operator = self.operators[home.provider_id]
        placement.ended_by_id = operator.id
        reported = self.now - timedelta(hours=29)
        kept = Hold(referral_id=referral.id, home_id=home.id, created_by_id=operator.id, places=1,
                    created_at=reported, expires_at=reported + timedelta(hours=72))
        self.session.add(kept)
        self.session.flush()
        episode = MissingEpisode(placement_id=placement.id, referral_id=referral.id, home_id=home.id,
                                 last_seen_at=placement.ended_at, reported_at=reported, reported_by_id=operator.id,
                                 reports_due_at=reported + timedelta(hours=REPORT_HOURS), bed_hold_id=kept.id)
        self.session.add(episode)
        self.session.flush()
        caseworker = self.caseworkers[0]
        self.session.add(MissingReport(episode_id=episode.id, kind="law_enforcement", made_at=reported + timedelta(hours=2),
                                       report_number="PD-20417", made_by=caseworker.display_name, recorded_by_id=caseworker.id,
                                       recorded_at=reported + timedelta(hours=2)))
        referral.has_run_before = True
        self._event(referral, "closed", operator, reported, f"youth missing from care (episode {episode.id})")
