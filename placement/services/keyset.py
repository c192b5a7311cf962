"""Keyset paging for lists shown newest first: the audit log, the caseworker's referrals,
the operator's answered requests.

A page is named by the row it follows ("older than row 812"), not by its number: the
database seeks to that row's (time, id) through an index and reads one page, so a page
deep in a million rows costs what the first one does (OFFSET would read every row before
it). The matching rows are counted only up to a bound, for the same reason, and not at
all for a list that shows no count (an API page).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, func, select


@dataclass(frozen=True)
class NewestFirst:
    """A list's order: newest `at` first, ties broken by `id`, the column that names a row
    in the page links; `row_id` reads that id from a row as the statement returns it."""

    at: sa.ColumnElement
    id: sa.ColumnElement
    row_id: Callable[[object], int]


@dataclass(frozen=True)
class KeysetPage:
    """One page of a list. `newer` and `older` are the row ids the neighbouring pages start
    from (None at either end); `total` counts matching rows up to `count_limit` + 1, or is
    None when the list was paged without a count."""

    rows: list
    total: int | None
    count_limit: int | None
    newer: int | None = None
    older: int | None = None

    def count_text(self, noun: str, plural: str | None = None) -> str:
        """"1 referral", "42 referrals", or "More than 1,000 referrals" past the count's bound."""
        if self.total is None:
            raise ValueError("this page was read without a count")
        plural = plural or f"{noun}s"
        if self.total > self.count_limit:
            return f"More than {self.count_limit:,} {plural}"
        return f"{self.total:,} {noun if self.total == 1 else plural}"


def bounded_count(session: Session, statement, order: NewestFirst, limit: int) -> int:
    """The rows `statement` matches, counting no further than `limit` + 1."""
    matching = statement.with_only_columns(order.id).order_by(None).limit(limit + 1)
    return session.exec(select(func.count()).select_from(matching.subquery())).one()


def page(
    session: Session,
    statement,
    order: NewestFirst,
    size: int,
    count_limit: int | None,
    before: int | None = None,
    after: int | None = None,
    wrap: Callable[[object], object] | None = None,
) -> KeysetPage:
    """One page of `statement`'s rows, newest first: the newest, or those older than row
    `before`, or those newer than row `after`. The cursor row is looked up through
    `statement` itself, so an id outside the list (unknown, filtered out, or out of the
    reader's scope) shows the newest page and reveals nothing about that row. `wrap`, when
    given, turns each row as the statement returns it into the row the page shows. With
    `count_limit` None the matching rows are not counted."""
    cursor_id = before if before is not None else after
    cursor = None
    if cursor_id is not None:
        # execute, not exec: a one-entity statement's exec would return only the first column.
        cursor = session.execute(
            statement.with_only_columns(order.at, order.id).order_by(None).where(order.id == cursor_id)
        ).first()
    key = sa.tuple_(order.at, order.id)
    newest_first = statement.order_by(order.at.desc(), order.id.desc())
    if cursor is None:
        found = list(session.exec(newest_first.limit(size + 1)).all())
        rows, newer_left, older_left = found[:size], False, len(found) > size
    elif before is not None:
        # The plain `at <=` beside the row comparison lets every database use the time index.
        older = newest_first.where(order.at <= cursor[0], key < sa.tuple_(*cursor))
        found = list(session.exec(older.limit(size + 1)).all())
        rows, newer_left, older_left = found[:size], True, len(found) > size
    else:
        newer = statement.order_by(order.at, order.id).where(order.at >= cursor[0], key > sa.tuple_(*cursor))
        found = list(session.exec(newer.limit(size + 1)).all())
        rows, newer_left, older_left = list(reversed(found[:size])), len(found) > size, True
    return KeysetPage(
        [wrap(row) for row in rows] if wrap else rows,
        None if count_limit is None else bounded_count(session, statement, order, count_limit), count_limit,
        newer=order.row_id(rows[0]) if rows and newer_left else None,
        older=order.row_id(rows[-1]) if rows and older_left else None,
    )
