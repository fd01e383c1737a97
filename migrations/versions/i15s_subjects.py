"""subjects: the bank as subject -> part -> knowledge point; the 党章 (2022) is the built-in subject

Revision ID: i15s
Revises: i15k
Create Date: 2026-12-06 16:10:00

Expand-only. A `subject` table with the built-in subject as row 1, and `knowledge_point.subject_id`
(server default 1, so the previous release's inserts land in the built-in subject). Parts that an
organisation's import added at the top of the tree move, with everything under them, into a subject
owned by that organisation ("<organisation>题库"): the 党章's parts are 总纲 and its eleven chapters only.
Points an organisation added under a 党章 part stay there. Questions, attempts, tallies and results are
untouched (they hang on points, whose ids do not change).

Names were unique per level across the installation; now per level within a subject. Relaxing a unique
constraint keeps every row the previous release writes valid, so it is an expand step too.
"""
import warnings
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i15s'
down_revision = 'i15k'
branch_labels = None
depends_on = None

BUILTIN_NAME = '中国共产党章程（2022年修订）'  # as models/content.py
# Batch mode on SQLite reflects the tables a foreign key names; "user" has an expression index SQLite cannot
# reflect (it is not rebuilt, so the index stays): see i14r.
EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based index"
BUILTIN_DESCRIPTION = '党的二十大通过的党章：总纲和十一章，按条文和知识点组织。'


def upgrade():
    op.create_table(
        'subject',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), server_default='', nullable=False),
        sa.Column('owner_org_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['owner_org_id'], ['organisation.id'], name=op.f('fk_subject_owner_org_id_organisation')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_subject_created_by_id_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subject')),
    )
    op.create_index(op.f('ix_subject_owner_org_id'), 'subject', ['owner_org_id'], unique=False)
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    if bind.dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)
    subject = sa.table('subject', sa.column('id'), sa.column('name'), sa.column('description'),
                       sa.column('owner_org_id'), sa.column('position'), sa.column('created_at'))
    bind.execute(subject.insert().values(id=1, name=BUILTIN_NAME, description=BUILTIN_DESCRIPTION, position=0,
                                         created_at=now))
    if bind.dialect.name == 'postgresql':
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('subject', 'id'), 1)"))

    with warnings.catch_warnings(), op.batch_alter_table('knowledge_point', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_knowledge_point_subject_id_subject'), 'subject', ['subject_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_knowledge_point_subject_id'), ['subject_id'], unique=False)
        batch_op.drop_constraint('uq_knowledge_point_level', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_knowledge_point_subject_id'), ['subject_id', 'level', 'name'])

    # Organisations' own top-level parts become subjects of those organisations.
    parts = bind.execute(sa.text(
        "SELECT k.id, k.owner_org_id, o.name FROM knowledge_point k JOIN organisation o ON o.id = k.owner_org_id "
        "WHERE k.parent_id IS NULL AND k.level = 'part' ORDER BY k.owner_org_id, k.position, k.id"
    )).all()
    subject_of_owner: dict[int, int] = {}
    for part_id, owner_id, org_name in parts:
        if owner_id not in subject_of_owner:
            bind.execute(subject.insert().values(name=f'{org_name}题库'[:100], description='', owner_org_id=owner_id,
                                                 position=len(subject_of_owner) + 1, created_at=now))
            subject_of_owner[owner_id] = bind.execute(sa.text(
                "SELECT max(id) FROM subject WHERE owner_org_id = :o"), {"o": owner_id}).scalar_one()
        level = [part_id]
        while level:
            bind.execute(sa.text("UPDATE knowledge_point SET subject_id = :s WHERE id IN :ids").bindparams(
                sa.bindparam('ids', expanding=True)), {"s": subject_of_owner[owner_id], "ids": level})
            level = list(bind.execute(sa.text("SELECT id FROM knowledge_point WHERE parent_id IN :ids").bindparams(
                sa.bindparam('ids', expanding=True)), {"ids": level}).scalars())


def downgrade():
    with warnings.catch_warnings(), op.batch_alter_table('knowledge_point', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.drop_constraint(batch_op.f('uq_knowledge_point_subject_id'), type_='unique')
        batch_op.create_unique_constraint('uq_knowledge_point_level', ['level', 'name'])
        batch_op.drop_index(batch_op.f('ix_knowledge_point_subject_id'))
        batch_op.drop_constraint(batch_op.f('fk_knowledge_point_subject_id_subject'), type_='foreignkey')
        batch_op.drop_column('subject_id')
    op.drop_index(op.f('ix_subject_owner_org_id'), table_name='subject')
    op.drop_table('subject')
