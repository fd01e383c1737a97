"""assignment.withdrawn_at / withdrawn_by_id: an assignment withdrawn before anyone started it

Rebuilding "assignment" on SQLite reflects "user" (the new foreign key), whose expression index
ix_user_member_no_upper SQLite cannot reflect; "user" itself is not rebuilt, so its index stays and
the reflection's warning is silenced here.

Revision ID: i14r
Revises: i14p
Create Date: 2026-12-06 13:30:00

"""
import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i14r'
down_revision = 'i14p'
branch_labels = None
depends_on = None

EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based index"


def upgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        with op.batch_alter_table('assignment', schema=None) as batch_op:
            batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key('fk_assignment_withdrawn_by_id_user', 'user', ['withdrawn_by_id'], ['id'],
                                        ondelete='SET NULL')


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        with op.batch_alter_table('assignment', schema=None) as batch_op:
            batch_op.drop_constraint('fk_assignment_withdrawn_by_id_user', type_='foreignkey')
            batch_op.drop_column('withdrawn_by_id')
            batch_op.drop_column('withdrawn_at')
