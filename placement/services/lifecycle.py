"""How placements end: discharge, transfer, and missing-from-care episodes.

A placement ends once. Ending it gives the places back to the home's
availability log (the same append-only rows an operator's update writes), so
search and the matcher see the bed again at once.

A missing-from-care episode ends the placement at the time the youth was last
seen, starts the 24-hour clock for the two reports federal law requires (law
enforcement and NCMEC, due 24 real hours after the episode is recorded: all
times are UTC, so a daylight-saving change neither adds nor removes an hour),
and keeps the youth's bed as an ordinary hold for `BED_KEEP_HOURS`: it lapses by
itself at read time, or the operator releases it. The episode closes only when
both reports are recorded, the youth has been located (county only) and the
return-to-care trafficking screening is complete; closing can reopen the
referral with urgency raised and `has_run_before` set, which the matcher's fit
rewards with crisis-stabilization homes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from solver.instance import URGENCIES

from .. import audit
from ..models import (
    DISRUPTION_REASONS,
    LOCATED_BY,
    MISSING_REPORT_KINDS,
    SCREENING_EXPLOITED,
    SCREENING_HEALTH,
    SCREENING_SERVICES,
    AvailabilityUpdate,
    Hold,
    Home,
    MissingEpisode,
    MissingReport,
    Placement,
    PlacementRequest,
    Referral,
    User,
)
from ..timeutil import utcnow
from . import alert_texts, alerts, notifications
from .errors import Conflict, ServiceError
from .homes import lock_home, status
from .referrals import set_status

REPORT_HOURS = 24  # federal law: report a child missing from care within 24 hours
PLANNED_ENDS = ("discharge", "transfer")


# Reading ---------------------------------------------------------------------------

# The report rules, written with comparison and `&` only so that each reads the same on
# Python values (a Clock) and on SQL columns (outcomes.report_figures counts them in the
# database): one definition for both.

def overdue_now(due_at, now, reports_made):
    """An episode's reports are overdue: its deadline has passed and fewer than all the
    required reports are made (`reports_made`: how many kinds are)."""
    return (due_at < now) & (reports_made < len(MISSING_REPORT_KINDS))


def made_late(made_at, due_at):
    """A report made after its episode's deadline."""
    return made_at > due_at


@dataclass(frozen=True)
class Clock:
    """The 24-hour report clock of one episode at `now`."""

    due_at: datetime
    now: datetime
    made: dict[str, MissingReport]  # kind -> report

    @property
    def outstanding(self) -> list[str]:
        return [kind for kind in MISSING_REPORT_KINDS if kind not in self.made]

    @property
    def seconds_left(self) -> int:
        return int((self.due_at - self.now).total_seconds())

    @property
    def late(self) -> list[str]:
        """Kinds reported after the deadline."""
        return [kind for kind, report in self.made.items() if made_late(report.made_at, self.due_at)]

    @property
    def is_overdue(self) -> bool:
        """The deadline has passed with a report still outstanding."""
        return overdue_now(self.due_at, self.now, len(self.made))

    @property
    def overdue(self) -> list[str]:
        """Kinds not reported by the deadline: outstanding past it, or made late."""
        late, missing = self.late, self.outstanding if self.is_overdue else []
        return [kind for kind in MISSING_REPORT_KINDS if kind in late or kind in missing]

    @property
    def text(self) -> str:
        """'13 h 05 min left' / 'overdue by 2 h 10 min' / 'both reports made'."""
        if not self.outstanding:
            return "both reports made"
        seconds = abs(self.seconds_left)
        hours, minutes = seconds // 3600, seconds % 3600 // 60
        span = f"{hours} h {minutes:02d} min"
        return f"{span} left" if self.seconds_left >= 0 else f"overdue by {span}"


def clock_for(session: Session, episode: MissingEpisode, now: datetime | None = None) -> Clock:
    reports = session.exec(select(MissingReport).where(MissingReport.episode_id == episode.id)).all()
    return Clock(episode.reports_due_at, now or utcnow(), {report.kind: report for report in reports})


def clocks_for(session: Session, episodes: list[MissingEpisode], now: datetime | None = None) -> dict[int, Clock]:
    """`clock_for` of many episodes in one query: episode id -> clock."""
    now = now or utcnow()
    made: dict[int, dict] = {episode.id: {} for episode in episodes}
    if made:
        for report in session.exec(select(MissingReport).where(MissingReport.episode_id.in_(list(made)))).all():
            made[report.episode_id][report.kind] = report
    return {episode.id: Clock(episode.reports_due_at, now, made[episode.id]) for episode in episodes}


def kept_bed(session: Session, episode: MissingEpisode, now: datetime | None = None) -> Hold | None:
    """The hold keeping the youth's bed, while it is still live."""
    if episode.bed_hold_id is None:
        return None
    held = session.get(Hold, episode.bed_hold_id)
    if not held.is_live(now or utcnow()):
        return None
    return held


@dataclass(frozen=True)
class EpisodeView:
    episode: MissingEpisode
    referral: Referral
    home: Home
    clock: Clock
    kept: Hold | None


def view(session: Session, episode: MissingEpisode) -> EpisodeView:
    return EpisodeView(
        episode, session.get(Referral, episode.referral_id), session.get(Home, episode.home_id),
        clock_for(session, episode), kept_bed(session, episode),
    )


def episodes(session: Session, where, open_only: bool = False) -> list[EpisodeView]:
    """Episodes matching the SQL condition `where` (an access scope), newest first."""
    query = (
        select(MissingEpisode, Referral, Home)
        .join(Referral, Referral.id == MissingEpisode.referral_id)
        .join(Home, Home.id == MissingEpisode.home_id)
        .where(where)
    )
    if open_only:
        query = query.where(MissingEpisode.closed_at.is_(None))
    rows = session.exec(query.order_by(MissingEpisode.reported_at.desc())).all()
    found = [episode for episode, _, _ in rows]
    now = utcnow()
    clocks = clocks_for(session, found, now)
    hold_ids = [episode.bed_hold_id for episode in found if episode.bed_hold_id is not None]
    live = {hold.id: hold for hold in session.exec(
        select(Hold).where(Hold.id.in_(hold_ids), Hold.keeps_places(now))
    ).all()} if hold_ids else {}
    return [EpisodeView(episode, referral, home, clocks[episode.id], live.get(episode.bed_hold_id))
            for episode, referral, home in rows]


def placements_at_homes(session: Session, operator: User) -> list[tuple[Placement, Home, Referral]]:
    """Placements at the operator's homes: current ones first, then the last 50 ended."""
    rows = session.exec(
        select(Placement, Home, Referral)
        .join(Home, Home.id == Placement.home_id)
        .join(Referral, Referral.id == Placement.referral_id)
        .where(Home.provider_id == operator.organisation_id)
        .order_by(Placement.ended_at.is_not(None), Placement.started_at.desc())
        .limit(200)
    ).all()
    return list(rows)


def episode_for_placement(session: Session, placement: Placement) -> MissingEpisode | None:
    return session.exec(select(MissingEpisode).where(MissingEpisode.placement_id == placement.id)).first()


# Ending a placement ------------------------------------------------------------------

def _check_time(value: datetime | None, field: str, label: str, earliest: datetime, earliest_label: str) -> datetime:
    """A user-entered moment: given, not in the future, not before `earliest`.

    Users type and see whole minutes, so both bounds are compared to the minute: the
    minute `earliest` is shown as is allowed, and so is the current minute (a phone's
    clock a few seconds ahead of the server's is not "the future").
    """
    if value is None:
        raise ServiceError(f"Enter {label}.", {field: "required"})
    if value > _minute(utcnow()) + timedelta(minutes=1):
        raise ServiceError(f"{label.capitalize()} cannot be in the future.", {field: "in the future"})
    if value < _minute(earliest):
        raise ServiceError(f"{label.capitalize()} cannot be before {earliest_label}.", {field: f"before {earliest_label}"})
    # Within the start's own minute: the start itself (an ending never precedes its start).
    return max(value, earliest)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _lock_open_placement(session: Session, placement: Placement) -> None:
    lock_home(session, placement.home_id)
    session.refresh(placement)
    if placement.ended_at is not None:
        raise Conflict("This placement has already ended; nothing was changed.")


def _give_places_back(session: Session, user: User, home: Home, places: int, note: str) -> None:
    """Append an availability row with the youth's places open again (the caller holds the home lock)."""
    latest = status(session, home).latest
    if latest is None:
        return
    open_beds = min(home.licensed_beds, latest.open_beds + places)
    current = max(0, latest.current_youth - places)
    session.add(AvailabilityUpdate(
        home_id=home.id, open_beds=open_beds, licensed_beds=home.licensed_beds,
        staff_on_duty=latest.staff_on_duty, youth_per_staff=latest.youth_per_staff,
        current_youth=min(current, home.licensed_beds - open_beds), recorded_by_id=user.id, note=note[:200],
    ))


def responsible_caseworkers(session: Session, referral: Referral, placement: Placement | None) -> list[User]:
    """Who hears about the youth: the referral's author and whoever requested the placement."""
    ids = {referral.created_by_id}
    if placement is not None:
        ids.add(session.get(PlacementRequest, placement.request_id).requested_by_id)
    return [user for user in (session.get(User, i) for i in sorted(ids)) if user.is_active]


def _tell_other_side(session: Session, user: User, home: Home, referral: Referral, placement: Placement, message: str, link_for) -> None:
    """Notify the side that did not act: the home's operators or the caseworkers."""
    if user.role == "operator":
        notifications.notify(session, responsible_caseworkers(session, referral, placement), message, link_for("caseworker"))
    else:
        notifications.notify(session, notifications.organisation_users(session, home.provider_id, "operator"), message,
                             link_for("operator"))


def end_placement(session: Session, user: User, placement: Placement, reason: str, ended_at: datetime | None,
                  note: str = "", disruption_reason: str | None = None) -> None:
    """Record a planned discharge or a transfer; the places go back to the home's availability."""
    if reason not in PLANNED_ENDS:
        raise ServiceError("Choose discharge or transfer (report a missing youth with the missing form).", {"reason": "unknown"})
    if disruption_reason and (reason != "transfer" or disruption_reason not in DISRUPTION_REASONS):
        raise ServiceError("A disruption reason goes with a transfer the home asked for.", {"disruption_reason": "not allowed"})
    _lock_open_placement(session, placement)
    ended_at = _check_time(ended_at, "ended_at", "the end time", placement.started_at, "the placement began")
    placement.ended_at, placement.end_reason, placement.ended_by_id = ended_at, reason, user.id
    placement.end_note, placement.disruption_reason = note[:300], disruption_reason or None
    session.add(placement)
    home = session.get(Home, placement.home_id)
    referral = session.get(Referral, placement.referral_id)
    _give_places_back(session, user, home, placement.places, f"placement {placement.id} ended: {reason}")
    # A transfer means the youth needs another bed; a discharge means they need none.
    set_status(session, referral, "open" if reason == "transfer" else "closed", user, f"placement {placement.id} ended: {reason}")
    audit.record(session, "placement_ended", "placement", placement.id,
                 f"{reason}{' (' + disruption_reason + ')' if disruption_reason else ''}", actor=user)
    _tell_other_side(session, user, home, referral, placement,
                     f"{home.name}: placement of {referral.case_reference} ended ({reason}).",
                     lambda role: f"/caseworker/referrals/{referral.id}" if role == "caseworker" else f"/provider/placements/{placement.id}")
    session.commit()


def report_missing(session: Session, user: User, placement: Placement, last_seen_at: datetime | None, keep_hours: float) -> MissingEpisode:
    """Open a missing-from-care episode: end the placement, start the report clock, keep the bed."""
    _lock_open_placement(session, placement)
    last_seen_at = _check_time(last_seen_at, "last_seen_at", "the time last seen", placement.started_at, "the placement began")
    now = utcnow()
    home = session.get(Home, placement.home_id)
    referral = session.get(Referral, placement.referral_id)
    placement.ended_at, placement.end_reason, placement.ended_by_id = last_seen_at, "missing", user.id
    session.add(placement)
    _give_places_back(session, user, home, placement.places, f"youth missing from placement {placement.id}; bed kept")
    kept = None
    if keep_hours > 0:
        # The freed places are immediately re-reserved for the youth: a hold that lapses by itself.
        kept = Hold(referral_id=referral.id, home_id=home.id, created_by_id=user.id, places=placement.places,
                    created_at=now, expires_at=now + timedelta(hours=keep_hours))
        session.add(kept)
        session.flush()
    episode = MissingEpisode(
        placement_id=placement.id, referral_id=referral.id, home_id=home.id, last_seen_at=last_seen_at,
        reported_at=now, reported_by_id=user.id, reports_due_at=now + timedelta(hours=REPORT_HOURS),
        bed_hold_id=kept.id if kept else None,
    )
    session.add(episode)
    session.flush()
    referral.has_run_before = True
    set_status(session, referral, "closed", user, f"youth missing from care (episode {episode.id})")
    audit.record(session, "missing_reported", "missing_episode", episode.id, f"placement {placement.id}", actor=user)
    message = f"MISSING: {referral.case_reference} from {home.name}. Report to law enforcement and NCMEC within 24 hours."
    alerts.alert(session, "missing_opened", responsible_caseworkers(session, referral, placement), alert_texts.missing_opened(home.name),
                 f"/caseworker/missing/{episode.id}", urgent=True, portal_message=message)
    if user.role != "operator":
        alerts.alert(session, "missing_opened", notifications.organisation_users(session, home.provider_id, "operator"),
                     alert_texts.missing_opened(home.name), f"/provider/placements/{placement.id}", urgent=True,
                     portal_message=f"{referral.case_reference} reported missing from {home.name}.")
    session.commit()
    return episode


def release_kept_bed(session: Session, user: User, episode: MissingEpisode) -> None:
    """The operator gives the kept bed back to availability before the keeping period ends."""
    held = kept_bed(session, episode)
    if held is None:
        raise Conflict("No bed is being kept for this youth any more; nothing was changed.")
    lock_home(session, held.home_id)
    session.refresh(held)
    held.released_at, held.release_reason = utcnow(), "released_by_home"
    session.add(held)
    audit.record(session, "kept_bed_released", "missing_episode", episode.id, f"hold {held.id}", actor=user)
    session.commit()


# The episode's records -------------------------------------------------------------------

def _open_episode(session: Session, episode: MissingEpisode) -> None:
    session.refresh(episode)
    if episode.closed_at is not None:
        raise Conflict("This episode is closed; nothing was changed.")


def record_report(session: Session, user: User, episode: MissingEpisode, kind: str, made_at: datetime | None,
                  report_number: str, made_by: str) -> MissingReport:
    """Record one of the two required reports (time, report number, who made it)."""
    _open_episode(session, episode)
    errors = {}
    if kind not in MISSING_REPORT_KINDS:
        errors["kind"] = "choose law enforcement or NCMEC"
    if not report_number.strip():
        errors["report_number"] = "enter the report or case number you were given"
    if not made_by.strip():
        errors["made_by"] = "say who made the report"
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    made_at = _check_time(made_at, "made_at", "the report time", episode.last_seen_at, "the youth was last seen")
    if clock_for(session, episode).made.get(kind) is not None:
        raise Conflict(f"The {MISSING_REPORT_KINDS[kind]} report is already recorded; nothing was changed.")
    report = MissingReport(episode_id=episode.id, kind=kind, made_at=made_at, report_number=report_number.strip()[:60],
                           made_by=made_by.strip()[:120], recorded_by_id=user.id)
    session.add(report)
    session.flush()
    audit.record(session, "missing_report_recorded", "missing_episode", episode.id, f"{kind}", actor=user)
    session.commit()
    return report


def record_located(session: Session, user: User, episode: MissingEpisode, located_at: datetime | None,
                   county: str, located_by: str) -> None:
    """The youth is located: when, which county (never an address), found by whom."""
    _open_episode(session, episode)
    if episode.located_at is not None:
        raise Conflict("The return is already recorded; nothing was changed.")
    errors = {}
    if not county.strip():
        errors["located_county"] = "enter the county only"
    if located_by not in LOCATED_BY:
        errors["located_by"] = "choose who located the youth"
    if errors:
        raise ServiceError("Please correct the highlighted fields.", errors)
    located_at = _check_time(located_at, "located_at", "the time located", episode.last_seen_at, "the youth was last seen")
    episode.located_at, episode.located_county = located_at, county.strip()[:80]
    episode.located_by, episode.located_recorded_by_id = located_by, user.id
    session.add(episode)
    audit.record(session, "missing_located", "missing_episode", episode.id, f"by {located_by}", actor=user)
    session.commit()


def _raised(urgency: str) -> str:
    """One step more urgent (URGENCIES runs most urgent first)."""
    return URGENCIES[max(0, URGENCIES.index(urgency) - 1)]


def record_screening(session: Session, user: User, episode: MissingEpisode, exploited: str | None, health: str | None,
                     services: list[str], reopen: bool) -> None:
    """Record the return-to-care trafficking screening and close the episode.

    Refused (nothing changed) until the youth is located and both reports are
    recorded, or when an answer is missing. With `reopen`, the referral is open
    again with urgency raised one step; a bed still kept at the home stays held
    for it, so the caseworker can request the same home back.
    """
    _open_episode(session, episode)
    errors = {}
    if exploited not in SCREENING_EXPLOITED:
        errors["exploited"] = "answer whether the youth was exploited while missing"
    if health not in SCREENING_HEALTH:
        errors["health"] = "answer the health-needs question"
    if not services or any(service not in SCREENING_SERVICES for service in services):
        errors["services"] = "tick the services offered (or that the youth declined all)"
    if errors:
        raise ServiceError("The screening is incomplete: answer every question.", errors)
    if episode.located_at is None:
        raise Conflict("Record where and when the youth was located before the screening.")
    outstanding = clock_for(session, episode).outstanding
    if outstanding:
        names = " and ".join(MISSING_REPORT_KINDS[kind] for kind in outstanding)
        raise Conflict(f"Record the {names} report before closing the episode.")
    now = utcnow()
    episode.screening_exploited, episode.screening_health, episode.screening_services = exploited, health, sorted(set(services))
    episode.screened_at, episode.screened_by_id, episode.closed_at = now, user.id, now
    episode.referral_reopened = reopen
    session.add(episode)
    referral = session.get(Referral, episode.referral_id)
    if reopen:
        referral.urgency = _raised(referral.urgency)
        referral.has_run_before = True
        held = kept_bed(session, episode, now)
        set_status(session, referral, "held" if held else "open", user,
                   f"reopened after missing episode {episode.id}; urgency {referral.urgency}")
    audit.record(session, "missing_episode_closed", "missing_episode", episode.id,
                 f"screened; reopened {'yes' if reopen else 'no'}", actor=user)
    session.commit()


def flag_overdue(session: Session) -> int:
    """Notify caseworkers once per open episode whose report deadline passed unmet; returns how many."""
    now = utcnow()
    due = session.exec(
        select(MissingEpisode).where(
            MissingEpisode.closed_at.is_(None), MissingEpisode.overdue_notified_at.is_(None),
            MissingEpisode.reports_due_at < now,
        )
    ).all()
    flagged = 0
    clocks = clocks_for(session, list(due), now)
    for episode in due:
        clock = clocks[episode.id]
        if not clock.is_overdue:
            continue
        referral = session.get(Referral, episode.referral_id)
        names = " and ".join(MISSING_REPORT_KINDS[kind] for kind in clock.outstanding)
        alerts.alert(
            session, "report_overdue", responsible_caseworkers(session, referral, session.get(Placement, episode.placement_id)),
            alert_texts.report_overdue(), f"/caseworker/missing/{episode.id}", urgent=True,
            portal_message=f"OVERDUE: the {names} report for missing youth {referral.case_reference} "
                           "was due 24 hours after the episode was recorded.",
        )
        episode.overdue_notified_at = now
        session.add(episode)
        audit.record(session, "missing_report_overdue", "missing_episode", episode.id, names)
        flagged += 1
    session.commit()
    return flagged
