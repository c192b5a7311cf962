"""A home's withdrawn offer is an alert (e-mail or webhook), not only a portal message.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 10:40:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD_EVENTS = ('request_new', 'request_answered', 'hold_expiring', 'request_escalated', 'missing_opened', 'report_due',
              'report_overdue', 'figures_stale', 'matcher_done', 'placed_elsewhere', 'arrival_overdue',
              'offer_new', 'offer_answered')
NEW_EVENTS = ('offer_withdrawn',)


def _events(events) -> str:
    return "event IN (" + ", ".join(f"'{e}'" for e in events) + ")"


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _events(OLD_EVENTS + NEW_EVENTS))


def downgrade() -> None:
    op.execute("DELETE FROM outbox_message WHERE event IN ('offer_withdrawn')")
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _events(OLD_EVENTS))
