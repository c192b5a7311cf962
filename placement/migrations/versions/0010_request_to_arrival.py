"""From request to arrival: parallel requests ("placed elsewhere" alerts), consent,
the handoff (escort, departure, arrival) and the intake packet.

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-29 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_EVENTS = ('request_new', 'request_answered', 'hold_expiring', 'request_escalated', 'missing_opened', 'report_due',
              'report_overdue', 'figures_stale', 'matcher_done')
NEW_EVENTS = ('placed_elsewhere', 'arrival_overdue')


def _events(events) -> str:
    return "event IN (" + ", ".join(f"'{e}'" for e in events) + ")"


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _events(OLD_EVENTS + NEW_EVENTS))


def downgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _events(OLD_EVENTS))
