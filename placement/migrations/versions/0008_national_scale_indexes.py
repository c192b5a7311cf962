"""indexes for national scale (issue 16), each backed by EXPLAIN (ANALYZE) on the
synthetic national world of scripts/bench_load.py (1,000,000 availability updates,
1,000,000 audit events, 5,000 homes) on PostgreSQL 15.

ix_availability_home_id (home_id, id)
    A home's current availability is its log entry with the highest id. Before: the
    largest state's 633 homes took `max(id) ... GROUP BY home_id`, a Parallel Seq Scan
    of all 1,000,000 rows (333,333 per worker), 361 ms. After: one correlated
    `max(id) WHERE home_id = home.id` per home, each an Index Only Scan Backward with
    LIMIT 1 on this index: 633 probes, a few ms. The occupancy chart's "last entry
    before the span" uses it the same way.

(No new index for the audit log's keyset paging: ORDER BY at DESC, id DESC LIMIT 51
from the cursor, WHERE at <= cursor.at AND (at, id) < (cursor.at, cursor.id), is an Index
Scan Backward on the existing ix_audit_event_at reading 52 rows, 0.3 ms at event 500,000,
where OFFSET 500,000 took 1,104 ms.)

ix_audit_event_object (object_type, object_id)
    The filter drop-downs list the distinct object types: before, SELECT DISTINCT read
    the whole table (333 ms; 179 ms for actions on ix_audit_event_action). After: a
    recursive "loose index scan", one probe per distinct value on this index (and on
    ix_audit_event_action for actions). It also serves the "object = referral #N" filter.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 03:20:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_availability_home_id', 'availability_update', ['home_id', 'id'])
    op.create_index('ix_audit_event_object', 'audit_event', ['object_type', 'object_id'])


def downgrade() -> None:
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    op.drop_index('ix_availability_home_id', table_name='availability_update')
