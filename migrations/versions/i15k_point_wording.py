"""a knowledge point named in the Constitution's own words: 党员不得谋求私利和特权 (Article 2 says 谋求)

Revision ID: i15k
Revises: i16m
Create Date: 2026-12-06 15:00:00

Points are matched to the bank's files by name, so the row is renamed here, with the files: its
questions, tallies and study notes stay attached. Expand-only (a value, no schema).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i15k'
down_revision = 'i16m'
branch_labels = None
depends_on = None

OLD, NEW = '党员不得谋取私利和特权', '党员不得谋求私利和特权'
_RENAME = sa.text(
    "UPDATE knowledge_point SET name = :new WHERE level = 'point' AND name = :old "
    "AND NOT EXISTS (SELECT 1 FROM knowledge_point k WHERE k.level = 'point' AND k.name = :new)"
)


def upgrade():
    op.get_bind().execute(_RENAME, {"old": OLD, "new": NEW})


def downgrade():
    op.get_bind().execute(_RENAME, {"old": NEW, "new": OLD})
