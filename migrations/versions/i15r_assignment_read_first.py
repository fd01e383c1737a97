"""assignment.read_first: "read these materials, then take this quiz"

Revision ID: i15r
Revises: i15m
Create Date: 2026-12-07 10:00:00

Expand-only: a boolean with a server default (false), so every existing assignment and every insert of the
previous release keeps today's behaviour (the quiz may be started before the materials are read).
"""
import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i15r'
down_revision = 'i15m'
branch_labels = None
depends_on = None

# Rebuilding "assignment" on SQLite (downgrade) reflects "user", whose expression index it cannot reflect
# (it is not rebuilt, so the index stays): see i14r.
EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based index"


def upgrade():
    # A plain ADD COLUMN (no batch): SQLite adds it in place.
    op.add_column('assignment', sa.Column('read_first', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with warnings.catch_warnings(), op.batch_alter_table('assignment', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.drop_column('read_first')
