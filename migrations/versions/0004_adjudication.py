"""adjudication: the queue, gold provenance, per-project proposal settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite has both since 3.35): batch mode would copy the projects
    # table, and dropping the old copy would cascade to every document.
    op.add_column('projects', sa.Column(
        'adjudication', sa.JSON(), nullable=False,
        server_default=sa.text('\'{"min_agree": 2, "matching": "exact"}\''),
    ))
    op.create_table('adjudications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('adjudicator_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("status IN ('in_progress', 'adjudicated')", name=op.f('ck_adjudications_status')),
    sa.ForeignKeyConstraint(['adjudicator_id'], ['users.id'], name=op.f('fk_adjudications_adjudicator_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_adjudications_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjudications')),
    sa.UniqueConstraint('document_id', name=op.f('uq_adjudications_document_id'))
    )
    op.create_table('gold_provenance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('agreed', sa.JSON(), nullable=False),
    sa.Column('adjudicator_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("entity_type IN ('span', 'sentence_label', 'attribution')", name=op.f('ck_gold_provenance_entity_type')),
    sa.CheckConstraint("method IN ('auto', 'accepted', 'edited', 'added')", name=op.f('ck_gold_provenance_method')),
    sa.ForeignKeyConstraint(['adjudicator_id'], ['users.id'], name=op.f('fk_gold_provenance_adjudicator_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gold_provenance')),
    sa.UniqueConstraint('entity_type', 'entity_id', name=op.f('uq_gold_provenance_entity_type_entity_id'))
    )


def downgrade() -> None:
    op.drop_table('gold_provenance')
    op.drop_table('adjudications')
    op.drop_column('projects', 'adjudication')
