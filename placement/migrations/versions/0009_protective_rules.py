"""protective rules (issue 18): keep-away areas, keep-apart links, the coordinators' tribe
list, ICWA fields on referrals, tribal approvals on homes, and the ICWA step and good
cause on placement requests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 03:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import placement.timeutil


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_UTC = placement.timeutil.UTCDateTime(timezone=True)
_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('tribe',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', _STR(length=120), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('keep_away_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('kind', _STR(length=8), nullable=False),
    sa.Column('state', _STR(length=2), nullable=False),
    sa.Column('county', _STR(length=80), nullable=False),
    sa.Column('zip_code', _STR(length=5), nullable=False),
    sa.Column('label', _STR(length=160), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('radius_km', sa.Float(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.CheckConstraint("kind IN ('county', 'zip', 'radius')", name='ck_keep_away_kind'),
    sa.CheckConstraint("(kind = 'radius') = (radius_km IS NOT NULL)", name='ck_keep_away_radius_kind'),
    sa.CheckConstraint('radius_km IS NULL OR (radius_km > 0 AND radius_km <= 1000)', name='ck_keep_away_radius'),
    sa.CheckConstraint("kind <> 'zip' OR zip_code <> ''", name='ck_keep_away_zip'),
    sa.CheckConstraint('lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180', name='ck_keep_away_coordinates'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('keep_away_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_keep_away_area_referral_id'), ['referral_id'], unique=False)
    op.create_table('keep_apart_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_a_id', sa.Integer(), nullable=False),
    sa.Column('referral_b_id', sa.Integer(), nullable=False),
    sa.Column('by_coordinator', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.CheckConstraint('referral_a_id < referral_b_id', name='ck_keep_apart_order'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['referral_a_id'], ['referral.id'], ),
    sa.ForeignKeyConstraint(['referral_b_id'], ['referral.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('referral_a_id', 'referral_b_id', name='uq_keep_apart_pair')
    )
    with op.batch_alter_table('keep_apart_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_keep_apart_link_referral_a_id'), ['referral_a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_keep_apart_link_referral_b_id'), ['referral_b_id'], unique=False)
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('icwa_applies', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('tribe_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tribal_status', _STR(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('tribe_notice_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('tribe_notice_method', _STR(length=24), nullable=False, server_default=''))
        batch_op.create_foreign_key('fk_referral_tribe_id', 'tribe', ['tribe_id'], ['id'])
        batch_op.create_check_constraint('ck_referral_tribal_status', "tribal_status IN ('', 'member', 'eligible')")
        batch_op.create_check_constraint(
            'ck_referral_notice_method',
            "tribe_notice_method IN ('', 'registered_mail', 'certified_mail', 'hand_delivered', 'other')")
    with op.batch_alter_table('home', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tribal_approvals', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('native_serving', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('placement_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('icwa_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('icwa_good_cause', _STR(length=500), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('placement_request', schema=None) as batch_op:
        batch_op.drop_column('icwa_good_cause')
        batch_op.drop_column('icwa_step')
    with op.batch_alter_table('home', schema=None) as batch_op:
        batch_op.drop_column('native_serving')
        batch_op.drop_column('tribal_approvals')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint('ck_referral_notice_method', type_='check')
        batch_op.drop_constraint('ck_referral_tribal_status', type_='check')
        batch_op.drop_constraint('fk_referral_tribe_id', type_='foreignkey')
        batch_op.drop_column('tribe_notice_method')
        batch_op.drop_column('tribe_notice_on')
        batch_op.drop_column('tribal_status')
        batch_op.drop_column('tribe_id')
        batch_op.drop_column('icwa_applies')
    with op.batch_alter_table('keep_apart_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_keep_apart_link_referral_b_id'))
        batch_op.drop_index(batch_op.f('ix_keep_apart_link_referral_a_id'))
    op.drop_table('keep_apart_link')
    with op.batch_alter_table('keep_away_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_keep_away_area_referral_id'))
    op.drop_table('keep_away_area')
    op.drop_table('tribe')
