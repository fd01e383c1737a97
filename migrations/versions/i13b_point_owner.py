"""knowledge_point.owner_org_id: the organisation whose import created a part, article or point (NULL: built-in)

Revision ID: i13b
Revises: 0008s
Create Date: 2026-12-10 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i13b'
down_revision = '0008s'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('knowledge_point', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_org_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_knowledge_point_owner_org_id', ['owner_org_id'], unique=False)
        batch_op.create_foreign_key('fk_knowledge_point_owner_org_id_organisation', 'organisation',
                                    ['owner_org_id'], ['id'])


def downgrade():
    with op.batch_alter_table('knowledge_point', schema=None) as batch_op:
        batch_op.drop_constraint('fk_knowledge_point_owner_org_id_organisation', type_='foreignkey')
        batch_op.drop_index('ix_knowledge_point_owner_org_id')
        batch_op.drop_column('owner_org_id')
