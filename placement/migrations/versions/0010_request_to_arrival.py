"""From request to arrival: parallel requests ("placed elsewhere" alerts), consent,
the handoff (escort, departure, arrival) and the intake packet.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_EVENTS = ('request_new', 'request_answered', 'hold_expiring', 'request_escalated', 'missing_opened', 'report_due',
              'report_overdue', 'figures_stale', 'matcher_done')
NEW_EVENTS = ('placed_elsewhere', 'arrival_overdue')


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
        'referral_consent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('youth_assented', sa.Boolean(), nullable=False),
        sa.Column('recipients', sa.String(length=300), nullable=False),
        sa.Column('information', sa.String(length=300), nullable=False),
        _time('signed_at', nullable=True),
        _time('expires_at', nullable=True),
        sa.Column('override_reason', sa.String(length=500), nullable=False),
        sa.Column('approved_by', sa.String(length=120), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        _time('recorded_at'),
        sa.CheckConstraint("kind IN ('release', 'override')", name='ck_referral_consent_kind'),
        sa.CheckConstraint(
            "kind <> 'release' OR (youth_assented AND recipients <> '' AND information <> '' "
            "AND signed_at IS NOT NULL AND expires_at IS NOT NULL AND expires_at > signed_at)",
            name='ck_referral_consent_release'),
        sa.CheckConstraint("kind <> 'override' OR (override_reason <> '' AND approved_by <> '')",
                           name='ck_referral_consent_override'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_referral_consent_referral_id', 'referral_consent', ['referral_id'])

    op.create_table(
        'handoff',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('placement_id', sa.Integer(), nullable=False),
        sa.Column('escort_name', sa.String(length=120), nullable=False),
        _time('departed_at'),
        _time('expected_arrival_at'),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        _time('recorded_at'),
        _time('arrived_at', nullable=True),
        sa.Column('arrival_confirmed_by_id', sa.Integer(), nullable=True),
        _time('overdue_at', nullable=True),
        sa.CheckConstraint("escort_name <> ''", name='ck_handoff_escort'),
        sa.CheckConstraint('expected_arrival_at > departed_at', name='ck_handoff_expected_after_departure'),
        sa.CheckConstraint('arrived_at IS NULL OR arrived_at >= departed_at', name='ck_handoff_arrived_after_departure'),
        sa.ForeignKeyConstraint(['placement_id'], ['placement.id']),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id']),
        sa.ForeignKeyConstraint(['arrival_confirmed_by_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('placement_id', name='uq_handoff_placement'),
    )

    with op.batch_alter_table('home') as batch:
        # Homes before this migration ask for no particular documents.
        batch.add_column(sa.Column('intake_documents', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        'intake_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('key_id', sa.String(length=40), nullable=False),
        sa.Column('nonce', sa.LargeBinary(), nullable=False),
        sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        _time('uploaded_at'),
        sa.CheckConstraint("kind IN ('custody_order', 'medical_consent', 'icpc_100a', 'school_records', 'immunization', "
                           "'insurance')", name='ck_intake_document_kind'),
        sa.CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')", name='ck_intake_document_type'),
        sa.CheckConstraint('size_bytes BETWEEN 1 AND 10485760', name='ck_intake_document_size'),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id']),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_intake_document_referral_id', 'intake_document', ['referral_id'])


def downgrade() -> None:
    op.drop_index('ix_intake_document_referral_id', table_name='intake_document')
    op.drop_table('intake_document')
    with op.batch_alter_table('home') as batch:
        batch.drop_column('intake_documents')
    op.drop_table('handoff')
    op.drop_index('ix_referral_consent_referral_id', table_name='referral_consent')
    op.drop_table('referral_consent')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_constraint('ck_outbox_event', type_='check')
        batch.create_check_constraint('ck_outbox_event', _events(OLD_EVENTS))
