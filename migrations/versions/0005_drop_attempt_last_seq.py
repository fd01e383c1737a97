"""drop attempt.last_seq: the highest stored response seq is the attempt's last seq

A save now writes one row (the response) with one statement that re-checks the attempt is still in
progress; the attempt's highest seq is read from its responses (max(response.seq)) when needed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('last_seq')


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seq', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE attempt SET last_seq = coalesce((SELECT max(response.seq) FROM response "
               "WHERE response.attempt_id = attempt.id), 0)")
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.alter_column('last_seq', server_default=None)
