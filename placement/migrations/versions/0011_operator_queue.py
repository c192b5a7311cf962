"""The operator's queue: a home's offer of a bed to a waiting youth, and its alerts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD_EVENTS = ('request_new', 'request_answered', 'hold_expiring', 'request_escalated', 'missing_opened', 'report_due',
              'report_overdue', 'figures_stale', 'matcher_done', 'placed_elsewhere', 'arrival_overdue')
NEW_EVENTS = ('offer_new', 'offer_answered')


def _events(events) -> str:
    return "event IN (" + ", ".join(f"'{e}'" for e in events) + ")"


def _time(name: str, nullable: bool = False) -> sa.Column:
    from placement.timeutil import UTCDateTime

    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _events(OLD_EVENTS + NEW_EVENTS))

    op.create_table(
        'placement_offer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('home_id', sa.Integer(), nullable=False),
        sa.Column('offered_by_id', sa.Integer(), nullable=False),
        sa.Column('places', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        _time('created_at'),
        _time('expires_at'),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        _time('answered_at', nullable=True),
        sa.Column('decline_reason', sa.String(length=32), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')", name='ck_offer_status'),
        sa.CheckConstraint('places >= 1', name='ck_offer_places'),
        sa.CheckConstraint('expires_at > created_at', name='ck_offer_expiry'),
        sa.CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL", name='ck_offer_decline_reason'),
        sa.CheckConstraint("status <> 'accepted' OR request_id IS NOT NULL", name='ck_offer_accepted_request'),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id']),
        sa.ForeignKeyConstraint(['home_id'], ['home.id']),
        sa.ForeignKeyConstraint(['offered_by_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['answered_by_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['request_id'], ['placement_request.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_id', name='uq_offer_request'),
    )
    op.create_index('ix_placement_offer_referral_id', 'placement_offer', ['referral_id'])
    op.create_index('ix_offer_home_status', 'placement_offer', ['home_id', 'status'])


def downgrade() -> None:
    op.drop_index('ix_offer_home_status', table_name='placement_offer')
    op.drop_index('ix_placement_offer_referral_id', table_name='placement_offer')
    op.drop_table('placement_offer')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _events(OLD_EVENTS))
