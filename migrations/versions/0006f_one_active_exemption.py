"""one active exemption per member and assignment (a partial unique index)

Duplicates left by double taps are revoked first, keeping the earliest, so the index can be built.

Revision ID: 0006f
Revises: 0006a
Create Date: 2026-12-06 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006f'
down_revision = '0006a'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE exemption SET revoked_at = created_at, revoked_by_id = created_by_id "
        "WHERE revoked_at IS NULL AND EXISTS (SELECT 1 FROM exemption AS e WHERE e.assignment_id = exemption.assignment_id "
        "AND e.user_id = exemption.user_id AND e.revoked_at IS NULL AND e.id < exemption.id)"
    )
    op.create_index('uq_exemption_active', 'exemption', ['assignment_id', 'user_id'], unique=True,
                    sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))


def downgrade():
    op.drop_index('uq_exemption_active', table_name='exemption',
                  sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
