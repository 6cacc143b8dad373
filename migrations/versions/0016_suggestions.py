"""suggestions: the spans suggesters propose, stored per document (issue 19)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

A new table only (annotator.models.StoredSuggestion); nothing existing changes.
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('suggester', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('layer', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('group', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('0 <= start AND start < "end"', name=op.f('ck_suggestions_offsets')),
    sa.CheckConstraint('0 <= score AND score <= 1', name=op.f('ck_suggestions_score')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_suggestions_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions')),
    sa.UniqueConstraint('document_id', 'suggester', 'version', 'layer', 'label', 'start', 'end',
                        name=op.f('uq_suggestions_document_id_suggester_version_layer_label_start_end'))
    )


def downgrade() -> None:
    op.drop_table('suggestions')
