"""a phone number may belong to more than one account (no unique constraint; an index for logins)

Revision ID: 0006g
Revises: 0006d
Create Date: 2026-12-06 08:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006g'
down_revision = '0006d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_user_phone', type_='unique')
        batch_op.create_index('ix_user_phone', ['phone'], unique=False)


def downgrade():
    # Shared phones cannot come back under a unique constraint: all but each phone's first account lose it.
    op.execute('UPDATE "user" SET phone = NULL WHERE phone IS NOT NULL AND id <> '
               '(SELECT min(u.id) FROM "user" AS u WHERE u.phone = "user".phone)')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index('ix_user_phone')
        batch_op.create_unique_constraint('uq_user_phone', ['phone'])
