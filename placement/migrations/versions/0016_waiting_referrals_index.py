"""index of the referrals still waiting for a bed, for "Needs a bed now" (issue 16), backed by
EXPLAIN (ANALYZE, BUFFERS) on a copy of the synthetic national world of
scripts/bench_load.py (50,000 referrals, 5,621 of them in CA, 614 of those waiting) on
PostgreSQL 15, for the largest state (CA).

ix_referral_waiting (custody_state, created_at, id) INCLUDE (urgency)
        WHERE status IN ('open', 'held', 'requested', 'declined')
    "Needs a bed now" counts the state's escalated or overdue waiting referrals, takes
    the first 25 of them in urgency order (ids first, then those 25 rows) and reads the
    ones made in the last four hours (escalations.needs_a_bed). Before: each statement a
    BitmapAnd of ix_referral_status and ix_referral_custody_state_id and a Bitmap Heap
    Scan of the 614 waiting referrals' rows among the state's 5,621: count 512 buffers
    2.29 ms, first 25 593 buffers 2.66 ms, recent 512 buffers 2.15 ms (7.1 ms, 1,617
    buffers). After: Index Only Scans of this index (Heap Fetches: 1) for the count (7
    buffers, 0.41 ms) and the first 25 ids (top-N heapsort of 599 entries, then 25 rows by
    primary key: 88 buffers, 0.81 ms), and an Index Scan on created_at for the recent ones
    (17 buffers, 0.14 ms): 1.4 ms and 112 buffers in all (medians of 5, load 6). Only
    waiting referrals are in it (about 5% of all): 288 kB.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 17:05:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    waiting = sa.text("status IN ('open', 'held', 'requested', 'declined')")  # models.WAITING_STATUSES
    op.create_index('ix_referral_waiting', 'referral', ['custody_state', 'created_at', 'id'],
                    postgresql_include=['urgency'], postgresql_where=waiting, sqlite_where=waiting)


def downgrade() -> None:
    op.drop_index('ix_referral_waiting', table_name='referral')
