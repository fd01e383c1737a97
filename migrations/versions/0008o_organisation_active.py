"""organisations can be disabled; more kinds of organisation

`organisation.active`: a disabled organisation (with everything beneath it) keeps its members and
their history, but they no longer count in any figure. Every existing organisation stays active.

The kinds 党工委, 机关党委, 联合党支部 and 临时党支部 are new values of the same VARCHAR(20) column
(a non-native enum without a CHECK constraint): no schema change.

Revision ID: 0008o
Revises: i13b
Create Date: 2026-12-10 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008o'
down_revision = 'i13b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    # An older release knows only the four original kinds: the new ones fold into the nearest of them.
    op.execute("UPDATE organisation SET kind = 'committee' WHERE kind IN ('working_committee', 'organ_committee')")
    op.execute("UPDATE organisation SET kind = 'branch' WHERE kind IN ('joint_branch', 'temporary_branch')")
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('active')
