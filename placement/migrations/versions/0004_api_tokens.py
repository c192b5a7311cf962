"""api tokens and idempotency records: personal API tokens (stored hashed) and the
stored answers of POSTs sent with an Idempotency-Key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import placement.timeutil


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_UTC = placement.timeutil.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('expires_at', _UTC, nullable=False),
    sa.Column('last_used_at', _UTC, nullable=True),
    sa.Column('revoked_at', _UTC, nullable=True),
    sa.CheckConstraint("role IN ('operator', 'caseworker', 'coordinator', 'admin')", name='ck_api_token_role'),
    sa.CheckConstraint('expires_at > created_at', name='ck_api_token_expiry'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'endpoint', 'key', name='uq_idempotency_user_endpoint_key')
    )


def downgrade() -> None:
    op.drop_table('idempotency_record')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
