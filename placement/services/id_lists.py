"""Conditions on a list of row ids, for the pages that ask about hundreds of rows at once."""
from __future__ import annotations

import sqlalchemy as sa


def among(column, ids: list[int]):
    """`column IN ids`, the ids written into the statement rather than bound one by one.

    psycopg rewrites a statement's placeholders on every execution and caches that only for
    short statements: with hundreds of bound ids (a state's waiting referrals) that rewrite
    cost 3 ms per statement, more than the query. Ids are integers, so writing them inline
    is safe; SQLAlchemy still caches the statement's compiled form.
    """
    return column.in_(sa.bindparam(None, [int(i) for i in ids], expanding=True, literal_execute=True))
