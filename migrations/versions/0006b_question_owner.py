"""question owners, and key corrections that record what they changed and can be reverted

Every question gets an owner: an organisation (its organisers edit it, its subtree uses it) or NULL,
the built-in bank that only admins edit. Existing questions all become built-in: the shipped bank is
built-in, and nothing recorded who imported the other questions (no import log; `question.source`
holds only a file name), so there is nobody to give them to. An admin hands them to an organisation
with `flask questions owner --org CODE KEY...` (or `--source FILE`).

Revision ID: 0006b
Revises: 0006f
Create Date: 2026-11-27 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006b'
down_revision = '0006f'
branch_labels = None
depends_on = None

COUNTS = ("members", "scores_changed", "passes_changed")


def upgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_org_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_question_owner_org_id'), ['owner_org_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_question_owner_org_id_organisation'), 'organisation',
                                    ['owner_org_id'], ['id'])

    with op.batch_alter_table('key_correction', schema=None) as batch_op:
        for name in COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('orgs', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('reverts_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_key_correction_reverts_id_key_correction'), 'key_correction',
                                    ['reverts_id'], ['id'])
    with op.batch_alter_table('key_correction', schema=None) as batch_op:
        for name in (*COUNTS, 'orgs'):
            batch_op.alter_column(name, server_default=None)


def downgrade():
    with op.batch_alter_table('key_correction', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_key_correction_reverts_id_key_correction'), type_='foreignkey')
        batch_op.drop_column('reverts_id')
        for name in ('orgs', *COUNTS):
            batch_op.drop_column(name)

    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_question_owner_org_id_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_question_owner_org_id'))
        batch_op.drop_column('owner_org_id')
