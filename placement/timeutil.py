"""UTC storage, user-time-zone display, and a clock tests can control."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class Clock:
    """The app's source of 'now'. Tests replace `clock.now` to move time."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def reset(self) -> None:
        self._offset = timedelta(0)


clock = Clock()


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return clock.now()


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns aware UTC datetimes.

    SQLite drops the time zone of DateTime(timezone=True); normalising in both
    directions makes comparisons identical on SQLite and PostgreSQL.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def zone(name: str | None, default: str = "America/Chicago") -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def local(value: datetime | None, tz_name: str | None) -> datetime | None:
    return None if value is None else value.astimezone(zone(tz_name))


def format_local(value: datetime | None, tz_name: str | None) -> str:
    """'Nov 23, 21:05 CST' in the user's zone."""
    if value is None:
        return "never"
    return local(value, tz_name).strftime("%b %d, %H:%M %Z")


def format_day(value: date) -> str:
    """'Nov 1, 2026': a calendar day in words, never an ISO string on screen."""
    return f"{value:%b} {value.day}, {value.year}"


def age_hours(value: datetime | None, now: datetime | None = None) -> float | None:
    if value is None:
        return None
    return ((now or utcnow()) - value).total_seconds() / 3600


def humanize_age(value: datetime | None, now: datetime | None = None) -> str:
    """'updated 3 hours ago' style text; 'never updated' when there is no value."""
    if value is None:
        return "never updated"
    seconds = max(0, int(((now or utcnow()) - value).total_seconds()))
    if seconds < 90:
        return "just now"
    minutes = seconds // 60
    if minutes < 90:
        return f"{minutes} minutes ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours ago"
    return f"{hours // 24} days ago"


def from_local(value: datetime | None, tz_name: str | None) -> datetime | None:
    """A wall-clock time the user typed (naive, in their zone) as an aware UTC datetime.

    In the repeated hour when clocks fall back, the first (daylight) reading is meant.
    """
    if value is None:
        return None
    return value.replace(tzinfo=zone(tz_name), fold=0).astimezone(timezone.utc)


def to_local_input(value: datetime | None, tz_name: str | None) -> str:
    """A UTC datetime as the value of an <input type="datetime-local"> in the user's zone."""
    return "" if value is None else local(value, tz_name).strftime("%Y-%m-%dT%H:%M")
