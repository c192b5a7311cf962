"""the occupancy chart's covering index (issue 16)

ix_availability_home_time_id (home_id, recorded_at, id) INCLUDE (licensed_beds, current_youth,
open_beds) on PostgreSQL (SQLite: the three keys), replacing ix_availability_home_time
(home_id, recorded_at), its prefix.

The capacity dashboard's occupancy chart (capacity._occupancy_table) sums, at each of the
last 14 days' ends, each home's latest availability entry: every entry of the span with the
time of the home's next one (LEAD). Backed by EXPLAIN (ANALYZE, BUFFERS) on a copy of the
synthetic national world of scripts/bench_load.py (1,000,000 availability updates, 5,000
homes) on PostgreSQL 15, for the largest state (CA, 624 active homes, 19,441 entries):

    before (0014, the statement over the whole state): each home's last entry before the span
    by its newest id (an index probe, then the row by the primary key: 4,570 buffers), the
    span's 18,820 entries by a Bitmap Heap Scan on ix_availability_home_time (2,713 buffers),
    then a Sort of all 19,444 rows for the window: 7,289-7,304 buffers.
    after (this index, the statement one home at a time by a lateral join): the last entry
    before the span and the span's entries both by an Index Only Scan of this index (Heap
    Fetches: 0; 1,873 + 1,973 buffers), a window over each home's ~31 entries, no sort of
    the whole state: 4,000-4,006 buffers.

Time of the statement (medians of 15, psql, no EXPLAIN, load 1.5-2.7): 25.5-26.8 -> 17.6-18.4
ms; through the app (medians of 7, load 1.2-1.3): 28.4-30.5 -> 18.6 ms, and the dashboard's
database time 49.9-52.3 -> 39.1-39.5 ms. The home's availability history (homes.history,
ORDER BY recorded_at DESC, id DESC LIMIT 100) now reads in the index's order: an Index Scan
Backward of 7 buffers instead of an Incremental Sort over ix_availability_home_time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 17:00:00
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_availability_home_time_id', 'availability_update', ['home_id', 'recorded_at', 'id'],
                    postgresql_include=['licensed_beds', 'current_youth', 'open_beds'])
    op.drop_index('ix_availability_home_time', table_name='availability_update')


def downgrade() -> None:
    op.create_index('ix_availability_home_time', 'availability_update', ['home_id', 'recorded_at'])
    op.drop_index('ix_availability_home_time_id', table_name='availability_update')
