"""practice_answer.question_key and one first try per member and question key (a partial unique index)

The key is copied from each answer's question revision. Extra first tries left by two pages answering
at once are turned into later tries, keeping the earliest, so the index can be built.

Revision ID: 0007p
Revises: 0006g
Create Date: 2026-12-06 12:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007p'
down_revision = '0006g'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practice_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question_key', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE practice_answer SET question_key = (SELECT question.key FROM question WHERE question.id = practice_answer.question_id)"
    )
    op.execute(
        "UPDATE practice_answer SET first_try = false WHERE first_try AND EXISTS (SELECT 1 FROM practice_answer AS p "
        "WHERE p.user_id = practice_answer.user_id AND p.question_key = practice_answer.question_key AND p.first_try "
        "AND p.id < practice_answer.id)"
    )
    with op.batch_alter_table('practice_answer', schema=None) as batch_op:
        batch_op.alter_column('question_key', existing_type=sa.String(length=64), nullable=False)
    op.create_index('uq_practice_answer_first_try', 'practice_answer', ['user_id', 'question_key'], unique=True,
                    sqlite_where=sa.text('first_try'), postgresql_where=sa.text('first_try'))


def downgrade():
    op.drop_index('uq_practice_answer_first_try', table_name='practice_answer',
                  sqlite_where=sa.text('first_try'), postgresql_where=sa.text('first_try'))
    with op.batch_alter_table('practice_answer', schema=None) as batch_op:
        batch_op.drop_column('question_key')
