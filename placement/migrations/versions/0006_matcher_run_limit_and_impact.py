"""matcher runs: each run's own time limit (a coordinator may re-run with a longer one)
and the stored answer of "where one more bed helps most".

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 00:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matcher_run') as batch:
        # Runs before this migration ran with the default limit of 20 seconds.
        batch.add_column(sa.Column('time_limit', sa.Float(), nullable=False, server_default='20'))
        batch.add_column(sa.Column('impact', sa.JSON(), nullable=True))
        batch.create_check_constraint('ck_matcher_run_time_limit', 'time_limit > 0')


def downgrade() -> None:
    with op.batch_alter_table('matcher_run') as batch:
        batch.drop_constraint('ck_matcher_run_time_limit', type_='check')
        batch.drop_column('impact')
        batch.drop_column('time_limit')
