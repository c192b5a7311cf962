"""alerts: the outbox of e-mails and webhooks, notification preferences, homes'
on-call contacts, organisations' webhook endpoints, escalations, and the scheduler's
job claims and run log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 23:52:31
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import placement.timeutil


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_UTC = placement.timeutil.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('scheduler_job',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('last_tick', sa.BigInteger(), nullable=False),
    sa.Column('running_until', _UTC, nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('scheduler_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('tick', sa.BigInteger(), nullable=False),
    sa.Column('process', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('started_at', _UTC, nullable=False),
    sa.Column('finished_at', _UTC, nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduler_run', schema=None) as batch_op:
        batch_op.create_index('ix_scheduler_run_job_tick', ['job', 'tick'], unique=False)

    op.create_table('webhook_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.CheckConstraint("url LIKE 'http%'", name='ck_webhook_endpoint_url'),
    sa.CheckConstraint('length(secret) >= 32', name='ck_webhook_endpoint_secret'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organisation_id', name='uq_webhook_endpoint_organisation')
    )
    op.create_table('home_on_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('home_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('set_at', _UTC, nullable=False),
    sa.CheckConstraint("name <> '' AND email <> ''", name='ck_home_on_call_contact'),
    sa.ForeignKeyConstraint(['home_id'], ['home.id'], ),
    sa.ForeignKeyConstraint(['set_by_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('home_on_call', schema=None) as batch_op:
        batch_op.create_index('ix_home_on_call_home_time', ['home_id', 'set_at'], unique=False)

    op.create_table('notification_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('quiet_start', sa.Integer(), nullable=True),
    sa.Column('quiet_end', sa.Integer(), nullable=True),
    sa.Column('updated_at', _UTC, nullable=False),
    sa.CheckConstraint("channel IN ('email', 'webhook', 'portal')", name='ck_notification_preference_channel'),
    sa.CheckConstraint('(quiet_start IS NULL AND quiet_end IS NULL) OR (quiet_start BETWEEN 0 AND 1439 AND quiet_end BETWEEN 0 AND 1439 AND quiet_start <> quiet_end)', name='ck_notification_preference_quiet'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', name='uq_notification_preference_user')
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('recipient_user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', _UTC, nullable=False),
    sa.Column('lease_until', _UTC, nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('transport', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('sent_at', _UTC, nullable=True),
    sa.CheckConstraint("channel <> 'webhook' OR endpoint_id IS NOT NULL", name='ck_outbox_webhook_endpoint'),
    sa.CheckConstraint("channel IN ('email', 'webhook')", name='ck_outbox_channel'),
    sa.CheckConstraint("event IN ('request_new', 'request_answered', 'hold_expiring', 'request_escalated', 'missing_opened', 'report_due', 'report_overdue', 'figures_stale', 'matcher_done')", name='ck_outbox_event'),
    sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name='ck_outbox_sent_at'),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'dead')", name='ck_outbox_status'),
    sa.CheckConstraint('attempts >= 0', name='ck_outbox_attempts'),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], ),
    sa.ForeignKeyConstraint(['recipient_user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', name='uq_outbox_message_id')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_recipient_user_id'), ['recipient_user_id'], unique=False)

    op.create_table('alert_mark',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('resolved_at', _UTC, nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.CheckConstraint("kind <> 'unanswered' OR request_id IS NOT NULL", name='ck_escalation_unanswered_request'),
    sa.CheckConstraint("kind IN ('unanswered', 'no_eligible_home', 'unplaced')", name='ck_escalation_kind'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['placement_request.id'], ),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', name='uq_escalation_request')
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index('ix_escalation_open', ['state', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_referral_id'), ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_referral_id'))
        batch_op.drop_index('ix_escalation_open')

    op.drop_table('escalation')
    op.drop_table('alert_mark')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_recipient_user_id'))
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox_message')
    op.drop_table('notification_preference')
    with op.batch_alter_table('home_on_call', schema=None) as batch_op:
        batch_op.drop_index('ix_home_on_call_home_time')

    op.drop_table('home_on_call')
    op.drop_table('webhook_endpoint')
    with op.batch_alter_table('scheduler_run', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduler_run_job_tick')

    op.drop_table('scheduler_run')
    op.drop_table('scheduler_job')
