"""Report tables: what a coordinator page shows and exports as CSV, in one shape.

Every table on the dashboard and the unmet-need report is a `Table`, so the page
and its CSV export can never disagree, and an empty period still exports its headers.
Cells hold aggregates, case references, home names and places, never a street
address or case notes.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..timeutil import format_day
from .audit_log import csv_safe


@dataclass(frozen=True)
class Table:
    """One report table: its CSV key, title, column headers and rows of plain cells."""

    key: str  # names the table in its CSV export URL
    title: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)


def _csv_cell(cell):
    """A moment is written in UTC with its offset; pages show it in the reader's zone."""
    return cell.astimezone(timezone.utc).isoformat(timespec="minutes") if isinstance(cell, datetime) else cell


def csv_lines(table: Table) -> Iterator[str]:
    """The table as CSV lines, headers first; spreadsheet formulas are defused."""
    for cells in (table.columns, *table.rows):
        buffer = io.StringIO()
        csv.writer(buffer).writerow([csv_safe(_csv_cell(cell)) for cell in cells])
        yield buffer.getvalue()


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, from whole days in the user's time zone."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"{format_day(self.first_day)} to {format_day(self.last_day)}"


def _zone(tz_name: str):
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def local_date(moment: datetime, tz_name: str) -> date:
    """The calendar day `moment` falls on in the user's time zone."""
    return moment.astimezone(_zone(tz_name)).date()


def period(first_day: date, last_day: date, tz_name: str) -> Period:
    """The days from `first_day` to `last_day` (inclusive) as UTC instants."""
    tz = _zone(tz_name)
    start = datetime.combine(first_day, time.min, tz).astimezone(timezone.utc)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tz).astimezone(timezone.utc)
    return Period(first_day, last_day, start, end)


def median(values: list[float]) -> float | None:
    """The middle value (mean of the two middle ones for an even count); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def hours_between(earlier: datetime, later: datetime) -> float:
    """Elapsed hours from `earlier` to `later`."""
    return (later - earlier).total_seconds() / 3600
