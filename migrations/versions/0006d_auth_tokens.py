"""device sessions (logout that ends something), shared rate-limit counters, no per-account lock

Each login becomes a device_session row holding the digests of its session key and remember-me token,
so logging out (or out of every device) ends it on the server. rate_counter holds the rate limits'
fixed-window counters when no Redis is configured, so every server process counts the same. The
per-account lock (user.failed_logins, user.locked_until), which anyone could aim at a chosen member,
gives way to counters per (login name, address), per address and per login name (services/auth/login.py).

Existing sessions and Flask-Login remember-me cookies name no device: everyone logs in once again.

Revision ID: 0006d
Revises: 0006b
Create Date: 2026-12-06 06:42:46.051883

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006d'
down_revision = '0006b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('locked_until')

    op.create_table('rate_counter',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rate_counter'))
    )
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counter_expires_at'), ['expires_at'], unique=False)

    op.create_table('device_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('remember_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_device_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_session')),
    sa.UniqueConstraint('key_hash', 'user_id', name=op.f('uq_device_session_key_hash')),
    sa.UniqueConstraint('remember_hash', name=op.f('uq_device_session_remember_hash'))
    )
    with op.batch_alter_table('device_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('device_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_session_user_id'))
    op.drop_table('device_session')

    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_counter_expires_at'))
    op.drop_table('rate_counter')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('failed_logins', server_default=None)
