"""knowledge points can be retired: gone from lists and forms, their questions stay on the papers that hold them

Revision ID: i15q
Revises: i15s
Create Date: 2026-12-06 17:00:00

Expand-only: one nullable column. The previous release never reads it; every node it writes is live.
"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i15q'
down_revision = 'i15s'
branch_labels = None
depends_on = None

# Batch mode on SQLite reflects the tables a foreign key names; "user" has an expression index SQLite cannot
# reflect (it is not rebuilt, so the index stays): see i14r.
EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based index"


def upgrade():
    with warnings.catch_warnings(), op.batch_alter_table('knowledge_point', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with warnings.catch_warnings(), op.batch_alter_table('knowledge_point', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.drop_column('retired_at')
