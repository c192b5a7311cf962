"""the occupancy chart's covering index (issue 16)

ix_availability_home_time_id (home_id, recorded_at, id) INCLUDE (licensed_beds, current_youth,
open_beds) on PostgreSQL, replacing ix_availability_home_time (home_id, recorded_at), its prefix.

FIGURES

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
