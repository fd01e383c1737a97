"""materials written in the browser: subject, owner, versions, attachments, retirement; the version a reading read

Revision ID: i15m
Revises: i15q
Create Date: 2026-12-06 17:00:00

Expand-only. `material` gains subject_id (server default 1: the built-in 党章, which the shipped notes
belong to), owner_org_id (NULL: built-in), created_by_id, version (server default 1) and retired_at;
`reading` gains version (server default 1: every reading so far read the only version there was). Two new
tables: material_version (each existing material gets its version 1, its current title and text) and
material_attachment. The previous release's inserts of materials and readings keep working: every new
column is nullable or has a server default.
"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i15m'
down_revision = 'i15q'
branch_labels = None
depends_on = None

# Batch mode on SQLite reflects the tables a foreign key names; "user" has an expression index SQLite cannot
# reflect (it is not rebuilt, so the index stays): see i14r.
EXPRESSION_INDEX = "Skipped unsupported reflection of expression-based index"


def upgrade():
    with warnings.catch_warnings(), op.batch_alter_table('material', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('owner_org_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_material_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_material_owner_org_id'), ['owner_org_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_material_subject_id_subject'), 'subject', ['subject_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_material_owner_org_id_organisation'), 'organisation',
                                    ['owner_org_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_material_created_by_id_user'), 'user', ['created_by_id'], ['id'],
                                    ondelete='SET NULL')

    with warnings.catch_warnings(), op.batch_alter_table('reading', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=True))

    op.create_table(
        'material_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('material_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body_md', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_material_version_author_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_material_version_material_id_material'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_material_version')),
        sa.UniqueConstraint('material_id', 'number', name=op.f('uq_material_version_material_id')),
    )
    op.create_index(op.f('ix_material_version_material_id'), 'material_version', ['material_id'], unique=False)

    op.create_table(
        'material_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('material_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('mimetype', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_material_attachment_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['material_id'], ['material.id'],
                                name=op.f('fk_material_attachment_material_id_material'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_material_attachment')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_material_attachment_stored_name')),
    )
    op.create_index(op.f('ix_material_attachment_material_id'), 'material_attachment', ['material_id'], unique=False)

    # Every material so far has one version: what it says now.
    op.execute(
        "INSERT INTO material_version (material_id, number, title, body_md, author_id, created_at) "
        "SELECT id, 1, title, body_md, NULL, updated_at FROM material"
    )


def downgrade():
    op.drop_index(op.f('ix_material_attachment_material_id'), table_name='material_attachment')
    op.drop_table('material_attachment')
    op.drop_index(op.f('ix_material_version_material_id'), table_name='material_version')
    op.drop_table('material_version')
    with warnings.catch_warnings(), op.batch_alter_table('reading', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.drop_column('version')
    with warnings.catch_warnings(), op.batch_alter_table('material', schema=None) as batch_op:
        warnings.filterwarnings("ignore", EXPRESSION_INDEX)
        batch_op.drop_constraint(batch_op.f('fk_material_created_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_material_owner_org_id_organisation'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_material_subject_id_subject'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_material_owner_org_id'))
        batch_op.drop_index(batch_op.f('ix_material_subject_id'))
        batch_op.drop_column('retired_at')
        batch_op.drop_column('version')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('owner_org_id')
        batch_op.drop_column('subject_id')
