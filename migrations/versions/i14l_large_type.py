"""大字模式: a member's choice of large type, kept on their account

Revision ID: i14l
Revises: i14r
Create Date: 2026-12-06 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14l'
down_revision = 'i14r'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch): SQLite adds it in place, and the table keeps its expression index.
    op.add_column('user', sa.Column('large_type', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    # SQLite drops a column by rebuilding the table, which loses the expression index it cannot reflect
    # (see i14p): drop it before and create it again after.
    op.drop_index('ix_user_member_no_upper', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('large_type')
    op.create_index('ix_user_member_no_upper', 'user', [sa.text('upper(member_no)')], unique=False)
