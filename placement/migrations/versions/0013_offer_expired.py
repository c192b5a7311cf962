"""An offer that lapses unanswered is recorded "expired" and both sides are alerted.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 13:30:00
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_OFFER_STATUSES = ('pending', 'accepted', 'declined', 'withdrawn')
OLD_EVENTS = ('request_new', 'request_answered', 'hold_expiring', 'request_escalated', 'missing_opened', 'report_due',
              'report_overdue', 'figures_stale', 'matcher_done', 'placed_elsewhere', 'arrival_overdue',
              'offer_new', 'offer_answered', 'offer_withdrawn')


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _checks(offer_statuses, events) -> None:
    with op.batch_alter_table('placement_offer') as batch:
        batch.drop_constraint('ck_offer_status', type_='check')
        batch.create_check_constraint('ck_offer_status', _in('status', offer_statuses))
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _in('event', events))


def upgrade() -> None:
    _checks(OLD_OFFER_STATUSES + ('expired',), OLD_EVENTS + ('offer_expired',))


def downgrade() -> None:
    # Before this revision a lapsed offer stayed pending and read as expired past its time.
    op.execute("UPDATE placement_offer SET status = 'pending' WHERE status = 'expired'")
    op.execute("DELETE FROM outbox_message WHERE event = 'offer_expired'")
    _checks(OLD_OFFER_STATUSES, OLD_EVENTS)
