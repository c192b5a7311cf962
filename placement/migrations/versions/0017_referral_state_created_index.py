"""index of a state's referrals by opening time, for the coordinator's capacity dashboard
(issue 16), backed by EXPLAIN (ANALYZE, BUFFERS) on a copy of the synthetic national world of
scripts/bench_load.py (50,000 referrals, 5,621 of them in CA) on PostgreSQL 15, for the
largest state (CA), each statement as the dashboard page runs it.

ix_referral_state_created (custody_state, created_at) INCLUDE (id, urgency, case_reference)
    "Requests waiting for an answer" (the state's youths' pending requests) and "Time from
    referral to placement" (the placements of the last 30 days) each hash-joined CA's 5,621
    referrals read from the table: a Bitmap Heap Scan on ix_referral_custody_state_id, 1,222
    buffers. Now an Index Only Scan of this index (44 buffers): waiting requests 2,758 ->
    1,580 buffers, 5.0 -> 2.9 ms; placement time 1,434 -> 256 buffers, 6.7 -> 2.2 ms.
    Unmet need (the dashboard's chart and the report) reads the referrals opened in the
    period: a Bitmap Index Scan of this index on the period (804 of 5,621, 8 buffers)
    instead of every CA referral's row filtered by date: 2,916 -> 2,285 buffers (heap
    blocks 1,205 -> 583), 7.4 -> 2.7 ms. 2.9 MB (ix_referral_custody_state_id: 1.4 MB).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 17:40:00
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_referral_state_created', 'referral', ['custody_state', 'created_at'],
                    postgresql_include=['id', 'urgency', 'case_reference'])


def downgrade() -> None:
    op.drop_index('ix_referral_state_created', table_name='referral')
