"""response.seq holds 64-bit numbers: answers are numbered by server time (ms x 1000 + page id)

Two pages of one paper (two tabs, two phones) numbered their answers from the same starting point, so a
later answer could lose to an earlier one. quiz.js now numbers each answer by the server's clock in
milliseconds times 1000 plus a random page id: about 1.8e15, past a 32-bit INTEGER. On PostgreSQL the
change rewrites the response table (run it outside exam hours); SQLite's INTEGER is 64-bit already and
only the declared type changes.

Revision ID: 0008s
Revises: 0007k
Create Date: 2026-12-06 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008s'
down_revision = '0007k'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade():
    # Numbers past 32 bits cannot go back: keep them above the old counters, ordered to ten seconds.
    op.execute("UPDATE response SET seq = 1000000000 + seq / 10000000 WHERE seq > 2147483647")
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
