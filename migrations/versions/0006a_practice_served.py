"""practice_served: the questions the server showed each member in practice, the only ones it grades

Revision ID: 0006a
Revises: 0005
Create Date: 2026-11-27 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006a'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('practice_served',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('daily', 'chapter', 'review', name='practicemode', native_enum=False, length=20), nullable=False),
    sa.Column('served_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['practice_answer.id'], name=op.f('fk_practice_served_answer_id_practice_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_practice_served_question_id_question')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_practice_served_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_served'))
    )
    with op.batch_alter_table('practice_served', schema=None) as batch_op:
        batch_op.create_index('ix_practice_served_user_question', ['user_id', 'question_id', 'mode'], unique=False)


def downgrade():
    with op.batch_alter_table('practice_served', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_served_user_question')
    op.drop_table('practice_served')
