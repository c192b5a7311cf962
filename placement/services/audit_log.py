"""Reading the audit log: the filtered, paginated listing and the CSV export.

Only audit readers reach these functions (see `access.audit_reader_required`).
Reading never changes a row; an export is itself recorded as an `export` event.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Session, func, select

from .. import audit
from ..models import AuditEvent, Organisation, User
from ..timeutil import local, zone
from . import keyset

PAGE_SIZE = 50
COUNT_LIMIT = 10_000  # the page counts matching events up to here, not a million on every view
CSV_COLUMNS = ("at_utc", "actor_email", "organisation", "action", "object_type", "object_id", "detail", "ip")
# A spreadsheet runs a cell that starts with one of these as a formula
# (OWASP "CSV injection"); tab and carriage return are included by OWASP too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_BATCH = 1000  # events fetched, and sent to the client, at a time by the CSV export


@dataclass(frozen=True)
class AuditFilter:
    """What to show. Bounds are UTC instants; `end` is exclusive."""

    action: str = ""
    actor_email: str = ""
    object_type: str = ""
    object_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def describe(self) -> str:
        """The filter in words, for the export's own audit entry."""
        parts = [
            f"action={self.action}" if self.action else "",
            f"actor~{self.actor_email}" if self.actor_email else "",
            f"object={self.object_type or '*'}#{self.object_id if self.object_id is not None else '*'}"
            if self.object_type or self.object_id is not None else "",
            f"from {self.start.isoformat()}" if self.start else "",
            f"before {self.end.isoformat()}" if self.end else "",
        ]
        return ", ".join(p for p in parts if p) or "no filter"


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor_email: str | None
    organisation: str | None

    def local_at(self, tz_name: str) -> str:
        """The event time in the reader's zone, with year and seconds (an audit trail needs both)."""
        return local(self.event.at, tz_name).strftime("%Y-%m-%d %H:%M:%S %Z")


def _local_midnight_utc(day: date, tz_name: str) -> datetime | None:
    """The UTC instant of `day`'s local midnight; None when it falls outside datetime's range."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone(tz_name)).astimezone(timezone.utc)
    except OverflowError:
        return None


def make_filter(
    tz_name: str,
    action: str = "",
    actor_email: str = "",
    object_type: str = "",
    object_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> AuditFilter:
    """Build a filter from a reader's input; dates are whole days in the reader's time zone.

    Days at the edge of the calendar (year 1, year 9999) have no representable
    neighbouring midnight: such a bound is dropped, which is what it means anyway.
    """
    start = _local_midnight_utc(date_from, tz_name) if date_from else None
    end = None
    if date_to and date_to < date.max:
        end = _local_midnight_utc(date_to + timedelta(days=1), tz_name)
    return AuditFilter(
        action=action or "",
        actor_email=(actor_email or "").strip().lower(),
        object_type=object_type or "",
        object_id=object_id,
        start=start,
        end=end,
    )


def _conditions(filters: AuditFilter, upto_id: int | None = None) -> list:
    conditions = [] if upto_id is None else [AuditEvent.id <= upto_id]
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.actor_email:
        # autoescape: % and _ typed by the reader are literal characters, not wildcards.
        conditions.append(User.email.contains(filters.actor_email, autoescape=True))
    if filters.object_type:
        conditions.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        conditions.append(AuditEvent.object_id == filters.object_id)
    if filters.start is not None:
        conditions.append(AuditEvent.at >= filters.start)
    if filters.end is not None:
        conditions.append(AuditEvent.at < filters.end)
    return conditions


def _rows_statement(filters: AuditFilter, upto_id: int | None = None):
    return (
        select(AuditEvent, User.email, Organisation.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
        .where(*_conditions(filters, upto_id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


def count(session: Session, filters: AuditFilter, upto_id: int | None = None) -> int:
    """How many events match (only those up to `upto_id` when given)."""
    statement = (
        select(func.count(AuditEvent.id))
        .select_from(AuditEvent)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(*_conditions(filters, upto_id))
    )
    return session.exec(statement).one()


# Newest first; the event's id names it in the page links.
NEWEST_FIRST = keyset.NewestFirst(AuditEvent.at, AuditEvent.id, row_id=lambda row: row[0].id)


def page(session: Session, filters: AuditFilter, before: int | None = None, after: int | None = None) -> keyset.KeysetPage:
    """One page of matching events as AuditRows, newest first: the newest, or those older
    than event `before`, or those newer than event `after` (an unknown event id shows the
    newest). Matching events are counted up to COUNT_LIMIT."""
    statement = _rows_statement(filters).order_by(None)
    return keyset.page(session, statement, NEWEST_FIRST, PAGE_SIZE, COUNT_LIMIT, before=before, after=after,
                       wrap=lambda row: AuditRow(*row))


def _distinct(session: Session, column: str) -> list[str]:
    """The distinct values of an indexed column, one index probe per value (a "loose index
    scan"), instead of reading a million rows to find a few dozen values."""
    value = getattr(AuditEvent, column)
    found = sa.select(sa.func.min(value).label("value")).cte("found", recursive=True)
    following = sa.select(sa.func.min(value)).where(value > found.c.value).scalar_subquery()
    found = found.union_all(sa.select(following).where(found.c.value.is_not(None)))
    return list(session.execute(sa.select(found.c.value).where(found.c.value.is_not(None))).scalars().all())


def choices(session: Session) -> tuple[list[str], list[str]]:
    """The actions and object types present in the log, for the filter's drop-downs."""
    actions = _distinct(session, "action")
    types = [value for value in _distinct(session, "object_type") if value != ""]
    return actions, types


_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)  # each prefix is one character


def csv_safe(value) -> str:
    """A cell a spreadsheet shows as text: formula-like values get a leading apostrophe."""
    text = "" if value is None else value if type(value) is str else str(value)
    return "'" + text if text[:1] in _FORMULA_FIRST else text


def _sql_csv_safe(column):
    """`csv_safe` as SQL, for the server's COPY: the same rule, from the same prefixes."""
    text = sa.cast(column, sa.Text)  # an integer's digits, as str() gives them
    guarded = sa.case((sa.func.left(text, 1).in_(FORMULA_PREFIXES), "'" + text), else_=text)
    # COPY writes NULL as an empty cell but '' as "", where csv.writer writes an empty cell for both.
    return sa.func.nullif(guarded, "")


def _sql_iso_utc(column):
    """The instant as `isoformat(timespec="seconds")` writes a UTC datetime: seconds truncated."""
    return sa.func.to_char(sa.func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')


def _csv_line(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_safe(cell) for cell in cells])
    return buffer.getvalue()


def export_csv(session: Session, reader: User, filters: AuditFilter) -> Iterator[str]:
    """Record the export, then return the CSV of every matching event, newest first, as
    chunks of whole lines (the header line first).

    The export is a snapshot of the log as it stood when asked for, so the
    row count in its own audit entry is exactly what the file holds. That entry
    is committed before any row is produced: an interrupted download is still
    on record. Rows are streamed in batches rather than loaded at once, because
    the log only grows.
    """
    upto_id = session.exec(select(func.max(AuditEvent.id))).one() or 0
    total = count(session, filters, upto_id)
    audit.record(session, "export", "audit_event", None, f"audit log CSV, {total} rows; {filters.describe()}", actor=reader)
    session.commit()
    return _csv_lines(session, filters, upto_id)


def _csv_lines(session: Session, filters: AuditFilter, upto_id: int) -> Iterator[str]:
    try:
        yield from _csv_rows(session, filters, upto_id)
    finally:
        # The request's teardown ran before the body streamed, and the streamed body gets an
        # application context (and `g`) of its own: end the transaction here, or the
        # connection stays "idle in transaction" holding its locks.
        session.close()


# The cells after the time, in the order of CSV_COLUMNS.
_CSV_CELLS = (User.email, Organisation.name, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
              AuditEvent.detail, AuditEvent.ip)


def _csv_rows(session: Session, filters: AuditFilter, upto_id: int) -> Iterator[str]:
    """The header line, then the matching events' lines in chunks of CSV_BATCH events each.

    A chunk goes out as one write, so the server writes to the client once per batch,
    not once per line. PostgreSQL writes the lines itself; elsewhere Python does, to
    the same bytes.
    """
    yield _csv_line(CSV_COLUMNS)
    statement = _rows_statement(filters, upto_id)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        yield from _copied_lines(connection, statement)
    else:
        yield from _written_lines(connection, statement)


def _written_lines(connection: sa.Connection, statement) -> Iterator[str]:
    """The lines written by Python's csv module, from plain columns fetched in batches through
    a server-side cursor (yield_per): the memory used does not grow with the log."""
    statement = statement.with_only_columns(AuditEvent.at, *_CSV_CELLS)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # Through Core, not the ORM's execute, whose per-row loading work the export does not need.
    rows = connection.execute(statement.execution_options(yield_per=CSV_BATCH))
    for batch in rows.partitions():
        # The time (already UTC: UTCDateTime) starts with digits, never a formula: only the
        # other cells need csv_safe.
        writer.writerows([at.isoformat(timespec="seconds"), *map(csv_safe, cells)] for at, *cells in batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _copied_lines(connection: sa.Connection, statement) -> Iterator[str]:
    """The lines written by PostgreSQL's COPY ... TO STDOUT (FORMAT csv), which streams them.

    Converting and quoting every cell in Python cost more than fetching the rows; with
    COPY the app spends less than half the CPU on a day of the national log
    (docs/performance.md, eighth pass). COPY takes no server-side parameters, so psycopg merges them into the
    statement client-side, each quoted as a literal by libpq (the reader's filter text never
    meets SQLAlchemy's literal rendering).
    """
    statement = statement.with_only_columns(_sql_iso_utc(AuditEvent.at), *map(_sql_csv_safe, _CSV_CELLS))
    sql, params = _driver_statement(statement, connection.dialect)
    driver = connection.connection.driver_connection
    chunk, rows = bytearray(), 0
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
        for line in copy:
            # libpq hands over one row at a time. COPY ends it with "\n"; the file keeps
            # RFC 4180's "\r\n" of csv.writer (a newline inside a quoted cell stays as it is).
            chunk += line[:-1]
            chunk += b"\r\n"
            rows += 1
            if rows == CSV_BATCH:
                yield chunk.decode(driver.info.encoding)
                chunk.clear()
                rows = 0
    if chunk:
        yield chunk.decode(driver.info.encoding)


def _driver_statement(statement, dialect) -> tuple[str, dict]:
    """The statement's SQL for the driver and its parameters, converted by their column
    types (UTCDateTime) as an execution would: for a statement run on a raw cursor."""
    state = statement.compile(dialect=dialect).construct_expanded_state()
    processors = state.processors
    return state.statement, {name: processors[name](value) if name in processors else value
                             for name, value in state.parameters.items()}
