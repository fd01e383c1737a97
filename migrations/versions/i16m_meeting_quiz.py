"""meeting quizzes: meetings, their questions, guests, attendance and answers

Revision ID: i16m
Revises: i14l
Create Date: 2026-12-06 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i16m'
down_revision = 'i14l'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'meeting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.Enum('general', 'lecture', 'theme_day', 'group', 'other', name='meetingkind',
                                  native_enum=False, length=20), nullable=False),
        sa.Column('code', sa.String(length=8), nullable=True),
        sa.Column('seconds', sa.Integer(), nullable=False),
        sa.Column('current', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_meeting_created_by_id_user'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_meeting_org_id_organisation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
        sa.UniqueConstraint('code', name=op.f('uq_meeting_code')),
    )
    op.create_index(op.f('ix_meeting_org_id'), 'meeting', ['org_id'], unique=False)
    op.create_table(
        'meeting_question',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_question_meeting_id_meeting'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_meeting_question_question_id_question')),
        sa.PrimaryKeyConstraint('meeting_id', 'position', name=op.f('pk_meeting_question')),
    )
    op.create_table(
        'meeting_guest',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_guest_meeting_id_meeting'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_guest_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id', 'user_id', name=op.f('pk_meeting_guest')),
    )
    op.create_table(
        'meeting_attendance',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('guest', sa.Boolean(), nullable=False),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_attendance_meeting_id_meeting'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_meeting_attendance_org_id_organisation')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_attendance_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id', 'user_id', name=op.f('pk_meeting_attendance')),
    )
    op.create_index(op.f('ix_meeting_attendance_user_id'), 'meeting_attendance', ['user_id'], unique=False)
    op.create_table(
        'meeting_answer',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('point_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('answer', sa.JSON(), nullable=False),
        sa.Column('is_correct', sa.Boolean(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_answer_meeting_id_meeting'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_meeting_answer_org_id_organisation')),
        sa.ForeignKeyConstraint(['point_id'], ['knowledge_point.id'], name=op.f('fk_meeting_answer_point_id_knowledge_point')),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_meeting_answer_question_id_question')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_meeting_answer_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id', 'position', 'user_id', name=op.f('pk_meeting_answer')),
    )
    op.create_index('ix_meeting_answer_point_org', 'meeting_answer', ['point_id', 'org_id'], unique=False)


def downgrade():
    op.drop_index('ix_meeting_answer_point_org', table_name='meeting_answer')
    op.drop_table('meeting_answer')
    op.drop_index(op.f('ix_meeting_attendance_user_id'), table_name='meeting_attendance')
    op.drop_table('meeting_attendance')
    op.drop_table('meeting_guest')
    op.drop_table('meeting_question')
    op.drop_index(op.f('ix_meeting_org_id'), table_name='meeting')
    op.drop_table('meeting')
