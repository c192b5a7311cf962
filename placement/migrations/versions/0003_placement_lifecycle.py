"""placement lifecycle: how placements end, missing-from-care episodes and their reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import placement.timeutil


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_UTC = placement.timeutil.UTCDateTime(timezone=True)
_PLACEMENT_CHECKS = {
    'ck_placement_end_reason': "end_reason IN ('', 'discharge', 'transfer', 'missing')",
    'ck_placement_ended': "(ended_at IS NULL AND end_reason = '') OR (ended_at IS NOT NULL AND end_reason <> '')",
    'ck_placement_end_after_start': "ended_at IS NULL OR ended_at >= started_at",
    'ck_placement_disruption': (
        "disruption_reason IS NULL OR (end_reason = 'transfer' AND "
        "disruption_reason IN ('criteria_mismatch', 'no_staff', 'safety', 'acuity', 'other'))"
    ),
}


def upgrade() -> None:
    # Batch mode: SQLite recreates the table (nothing references placement yet);
    # PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('end_note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('disruption_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_foreign_key('fk_placement_ended_by', 'app_user', ['ended_by_id'], ['id'])
        for name, condition in _PLACEMENT_CHECKS.items():
            batch_op.create_check_constraint(name, condition)

    op.create_table('missing_episode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('placement_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('home_id', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', _UTC, nullable=False),
    sa.Column('reported_at', _UTC, nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('reports_due_at', _UTC, nullable=False),
    sa.Column('overdue_notified_at', _UTC, nullable=True),
    sa.Column('bed_hold_id', sa.Integer(), nullable=True),
    sa.Column('located_at', _UTC, nullable=True),
    sa.Column('located_county', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('located_by', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('located_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('screening_exploited', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('screening_health', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('screening_services', sa.JSON(), nullable=False),
    sa.Column('screened_at', _UTC, nullable=True),
    sa.Column('screened_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', _UTC, nullable=True),
    sa.Column('referral_reopened', sa.Boolean(), nullable=False),
    sa.CheckConstraint('last_seen_at <= reported_at', name='ck_missing_seen_before_report'),
    sa.CheckConstraint('reports_due_at > reported_at', name='ck_missing_due_after_report'),
    sa.CheckConstraint(
        '(located_at IS NULL AND located_county IS NULL AND located_by IS NULL) OR '
        '(located_at IS NOT NULL AND located_county IS NOT NULL AND located_by IS NOT NULL)',
        name='ck_missing_located_complete'),
    sa.CheckConstraint('located_at IS NULL OR located_at >= last_seen_at', name='ck_missing_located_after_seen'),
    sa.CheckConstraint(
        "located_by IS NULL OR located_by IN ('law_enforcement', 'caseworker', 'home', 'family', 'self', 'other')",
        name='ck_missing_located_by'),
    sa.CheckConstraint(
        '(screened_at IS NULL AND screening_exploited IS NULL AND screening_health IS NULL) OR '
        '(screened_at IS NOT NULL AND screening_exploited IS NOT NULL AND screening_health IS NOT NULL '
        'AND located_at IS NOT NULL)',
        name='ck_missing_screening_complete'),
    sa.CheckConstraint(
        "screening_exploited IS NULL OR screening_exploited IN ('yes', 'no', 'unsure')",
        name='ck_missing_screening_exploited'),
    sa.CheckConstraint(
        "screening_health IS NULL OR screening_health IN ('none', 'routine', 'urgent')",
        name='ck_missing_screening_health'),
    sa.CheckConstraint('closed_at IS NULL OR screened_at IS NOT NULL', name='ck_missing_closed_screened'),
    sa.ForeignKeyConstraint(['placement_id'], ['placement.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.ForeignKeyConstraint(['home_id'], ['home.id'], ),
    sa.ForeignKeyConstraint(['reported_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['bed_hold_id'], ['hold.id'], ),
    sa.ForeignKeyConstraint(['located_recorded_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['screened_by_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('placement_id', name='uq_missing_episode_placement')
    )
    with op.batch_alter_table('missing_episode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missing_episode_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_missing_episode_home_id'), ['home_id'], unique=False)

    op.create_table('missing_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('made_at', _UTC, nullable=False),
    sa.Column('report_number', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('made_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', _UTC, nullable=False),
    sa.CheckConstraint("kind IN ('law_enforcement', 'ncmec')", name='ck_missing_report_kind'),
    sa.CheckConstraint("report_number <> ''", name='ck_missing_report_number'),
    sa.CheckConstraint("made_by <> ''", name='ck_missing_report_made_by'),
    sa.ForeignKeyConstraint(['episode_id'], ['missing_episode.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('episode_id', 'kind', name='uq_missing_report_kind')
    )
    with op.batch_alter_table('missing_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missing_report_episode_id'), ['episode_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('missing_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missing_report_episode_id'))
    op.drop_table('missing_report')
    with op.batch_alter_table('missing_episode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missing_episode_home_id'))
        batch_op.drop_index(batch_op.f('ix_missing_episode_referral_id'))
    op.drop_table('missing_episode')
    with op.batch_alter_table('placement', schema=None) as batch_op:
        for name in _PLACEMENT_CHECKS:
            batch_op.drop_constraint(name, type_='check')
        batch_op.drop_constraint('fk_placement_ended_by', type_='foreignkey')
        batch_op.drop_column('disruption_reason')
        batch_op.drop_column('end_note')
        batch_op.drop_column('ended_by_id')
