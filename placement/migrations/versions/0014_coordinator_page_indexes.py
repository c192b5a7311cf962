"""indexes for the coordinator's dashboard and outcomes pages and the bed search (issue 16), each backed by
EXPLAIN (ANALYZE, BUFFERS) on a copy of the synthetic national world of
scripts/bench_load.py (1,000,000 availability updates, 37,533 requests, 20,000
placements, 5,000 homes) on PostgreSQL 15, for the largest state (CA, 633 homes).

ix_request_pending_home (home_id, places) WHERE status = 'pending'
    Every search sums the places pending requests reserve at each home in reach
    (homes.reserved_places), and the dashboard's "requests waiting" table and every home
    status read the pending requests too: 1,345 of 37,541. Before: a Seq Scan of the
    whole request history each time (36,196 rows removed by the filter, 480 buffers,
    2.5-5 ms), three per dashboard. After: an Index Only Scan of 6 buffers; the search's
    reserved places 4.0 -> 1.0 ms (0.9 ms from the client, and still this plan once
    psycopg prepares the statement), the waiting table's statement 10.6 -> 8.7 ms (the
    rest is the state's referrals).

ix_availability_home_id_time (home_id, id, recorded_at), replacing ix_availability_home_id (home_id, id)
    The occupancy chart's "each home's last entry before the span" is max(id) per home
    WHERE recorded_at < the span's start. Before: an Index Scan Backward on
    (home_id, id) that read each entry from the table to test its time (30 rows
    removed by the filter per home, 2,674 buffers, 13 ms for 624 homes). After: an
    Index Only Scan Backward on this index (Heap Fetches: 0), 7.4 ms for the 624;
    the occupancy statement 78 -> 36 ms (its sort and window are the rest). A
    home's latest entry (max(id), for search and statuses) uses it as it used the
    old index, which it makes redundant.

ix_placement_disrupted (home_id) WHERE disruption_reason IS NOT NULL
    The outcomes page's disruption reasons per home: 170 of 20,000 placements.
    Before: a Seq Scan of every placement (19,830 removed by the filter), 8.0 ms.
    After: a Bitmap Index Scan of this partial index, 0.5 ms.

ix_referral_custody_state_id (custody_state, id), replacing ix_referral_custody_state (custody_state)
    Most coordinator statements join the state's referrals (5,621 of 50,000 for CA)
    and many need only their ids. Before: a Bitmap Heap Scan of those referrals' rows
    (3-9 ms, in the missing-report figures, shown on the dashboard and the outcomes
    page, and the repeat-missing table). After: an Index Only Scan of this index, 0.5
    ms; the missing-report figures statement 16.3 -> 2.5 ms (same load). The old index
    is its prefix, so the statements that read the rows plan as before.

Together, in alternating before/after runs at load average 11 (medians of EXPLAIN
(ANALYZE, TIMING OFF) per statement, this revision with repeat_missing's reshaping): the
capacity dashboard's statements 160 -> 87 ms, the outcomes page's 65 -> 40 ms. Timed
through the app instead (cursor execute to rows fetched, medians of 14, load 6.6), the
gain is smaller: dashboard 110.7 -> 101.5 ms of database time (the occupancy statement,
55 -> 51 ms, is most of what is left), outcomes page 63.9 -> 51.8 ms, missing-report
figures 10.0 -> 3.1 ms.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 14:15:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
DISRUPTED = sa.text("disruption_reason IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_request_pending_home', 'placement_request', ['home_id', 'places'],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index('ix_availability_home_id_time', 'availability_update', ['home_id', 'id', 'recorded_at'])
    op.drop_index('ix_availability_home_id', table_name='availability_update')
    op.create_index('ix_placement_disrupted', 'placement', ['home_id'],
                    postgresql_where=DISRUPTED, sqlite_where=DISRUPTED)
    op.create_index('ix_referral_custody_state_id', 'referral', ['custody_state', 'id'])
    op.drop_index('ix_referral_custody_state', table_name='referral')


def downgrade() -> None:
    op.create_index('ix_referral_custody_state', 'referral', ['custody_state'])
    op.drop_index('ix_referral_custody_state_id', table_name='referral')
    op.drop_index('ix_placement_disrupted', table_name='placement')
    op.create_index('ix_availability_home_id', 'availability_update', ['home_id', 'id'])
    op.drop_index('ix_availability_home_id_time', table_name='availability_update')
    op.drop_index('ix_request_pending_home', table_name='placement_request')
