"""A placed youth for the placement-lifecycle tests: the world, and the steps they share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from placement.models import Home, MissingEpisode, Placement, Referral, User
from placement.services import booking
from placement.timeutil import clock, to_local_input

from ..helpers import make_referral, post

TZ = "America/Chicago"  # the test users' zone (the model's default)


def local(value: datetime) -> str:
    return to_local_input(value, TZ)


@dataclass
class World:
    operator: User
    caseworker: User
    home: Home
    referral: Referral
    placement: Placement


def place(factory, caseworker: User, home: Home, operator: User, **referral_fields) -> tuple[Referral, Placement]:
    """A referral placed at `home` through the real booking services."""
    referral = make_referral(factory, caseworker, **referral_fields)
    request = booking.request_placement(factory.session, caseworker, referral, home.id)
    placement = booking.accept(factory.session, operator, request)
    return referral, placement


def make_world(factory, **referral_fields) -> World:
    provider = factory.org("provider", "MO")
    operator = factory.user("operator", provider)
    home = factory.home(provider, availability={"open_beds": 2, "staff_on_duty": 2, "youth_per_staff": 3, "current_youth": 2})
    caseworker = factory.user("caseworker", factory.org("agency", "MO"))
    clock.advance(-timedelta(days=2))  # placed two days ago, so "last seen" can lie in the past
    referral, placement = place(factory, caseworker, home, operator, **referral_fields)
    clock.advance(timedelta(days=2))
    return World(operator, caseworker, home, referral, placement)


def report_missing(client, w: World, last_seen: datetime, side: str = "provider"):
    return post(client, f"/{side}/placements/{w.placement.id}/missing", {"last_seen_at": local(last_seen)},
                token_from="/account/password")


def episode_of(factory, w: World) -> MissingEpisode:
    factory.session.expire_all()
    return factory.session.exec(select(MissingEpisode).where(MissingEpisode.placement_id == w.placement.id)).one()
