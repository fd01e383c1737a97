"""member numbers are found whatever their case (an index on upper(member_no)); a question report keeps
the option texts in the order the member saw them

SQLite cannot reflect an expression index: a later batch migration that rebuilds the "user" table on
SQLite must drop ix_user_member_no_upper before and create it again after (SQLAlchemy warns when it
reflects the table, and the rebuilt table would lack the index).

Revision ID: i14p
Revises: 0008o
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14p'
down_revision = '0008o'
branch_labels = None
depends_on = None


def upgrade():
    # An expression index: CREATE INDEX .. (upper(member_no)) on SQLite (3.9+) and PostgreSQL alike.
    op.create_index('ix_user_member_no_upper', 'user', [sa.text('upper(member_no)')], unique=False)
    with op.batch_alter_table('question_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown_options', sa.JSON(), nullable=True))


def downgrade():
    op.drop_index('ix_user_member_no_upper', table_name='user')
    with op.batch_alter_table('question_report', schema=None) as batch_op:
        batch_op.drop_column('shown_options')
