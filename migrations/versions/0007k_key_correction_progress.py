"""key corrections regrade in batches: when the regrade finished, and how far it got

A correction now changes the key, then regrades the papers in short batches, each committed on its own
(SQLite's write lock is never held for long). `finished_at` is set by the last batch; `progress`
records how far an unfinished regrade got, so it can be resumed. Corrections logged before were
regraded in one transaction: they are finished when they were made.

Revision ID: 0007k
Revises: 0007p
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007k'
down_revision = '0007p'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('key_correction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('progress', sa.JSON(), nullable=True))
    op.execute("UPDATE key_correction SET finished_at = created_at")


def downgrade():
    with op.batch_alter_table('key_correction', schema=None) as batch_op:
        batch_op.drop_column('progress')
        batch_op.drop_column('finished_at')
