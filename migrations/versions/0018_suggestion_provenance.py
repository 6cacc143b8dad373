"""provenance of annotators' work: spans and attributions typed or accepted from a suggestion,
and every accepted or rejected suggestion (issue 19)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

spans.origin and attributions.origin ("typed" | "accepted" | "accepted_edited"), the suggestion
accepted (a foreign key set to NULL when a later run deletes it) and its suggester, version and
score copied; the table suggestion_decisions. Every existing span and attribution keeps NULL:
made before provenance was recorded.
"""


from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_PROVENANCE = ('suggestion_score', 'suggester_version', 'suggester', 'suggestion_id', 'origin')


def _provenance_columns() -> list[sa.Column]:
    return [
        sa.Column('origin', sa.String(length=20), nullable=True),
        sa.Column('suggestion_id', sa.Integer(), nullable=True),
        sa.Column('suggester', sa.String(length=64), nullable=True),
        sa.Column('suggester_version', sa.String(length=64), nullable=True),
        sa.Column('suggestion_score', sa.Double(), nullable=True),
    ]


def upgrade() -> None:
    for table in ('spans', 'attributions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _provenance_columns():
                batch_op.add_column(column)
            batch_op.create_foreign_key(op.f(f'fk_{table}_suggestion_id_suggestions'), 'suggestions',
                                        ['suggestion_id'], ['id'], ondelete='SET NULL')
    op.create_table('suggestion_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=True),
    sa.Column('suggester', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('layer', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("decision IN ('accepted', 'rejected')", name=op.f('ck_suggestion_decisions_decision')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_suggestion_decisions_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_decisions_suggestion_id_suggestions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_suggestion_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_decisions'))
    )
    op.create_index('ix_suggestion_decisions_document_id_user_id', 'suggestion_decisions', ['document_id', 'user_id'])
    # One decision per annotator and suggestion still stored; those of deleted suggestions are many.
    op.create_index('uq_suggestion_decisions_user_id_suggestion_id', 'suggestion_decisions', ['user_id', 'suggestion_id'],
                    unique=True, sqlite_where=sa.text('suggestion_id IS NOT NULL'),
                    postgresql_where=sa.text('suggestion_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('uq_suggestion_decisions_user_id_suggestion_id', table_name='suggestion_decisions')
    op.drop_index('ix_suggestion_decisions_document_id_user_id', table_name='suggestion_decisions')
    op.drop_table('suggestion_decisions')
    for table in ('attributions', 'spans'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'fk_{table}_suggestion_id_suggestions'), type_='foreignkey')
            for column in _PROVENANCE:
                batch_op.drop_column(column)
