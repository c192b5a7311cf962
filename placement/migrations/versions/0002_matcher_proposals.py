"""matcher proposals: each placement a matcher run proposed and the coordinator's decision.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:19:55.883278
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import placement.timeutil


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('matcher_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('home_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('fit', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', placement.timeutil.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status <> 'approved' OR request_id IS NOT NULL", name='ck_matcher_proposal_approved_request'),
    sa.CheckConstraint("status IN ('proposed', 'approved', 'refused')", name='ck_matcher_proposal_status'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['home_id'], ['home.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['placement_request.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['matcher_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'referral_id', name='uq_matcher_proposal_run_referral')
    )
    with op.batch_alter_table('matcher_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matcher_proposal_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matcher_proposal_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('matcher_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matcher_proposal_run_id'))
        batch_op.drop_index(batch_op.f('ix_matcher_proposal_referral_id'))

    op.drop_table('matcher_proposal')
