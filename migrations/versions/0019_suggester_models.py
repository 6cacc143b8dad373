"""suggester_models: the trained models of learned suggesters, per project (issue 19)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08

A new table only (annotator.models.SuggesterModel); nothing existing changes. A partial unique
index keeps at most one enabled model per project and suggester.
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suggester_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('suggester', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('model', sa.LargeBinary(), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('trained_by', sa.Integer(), nullable=True),
    sa.Column('documents', sa.Integer(), nullable=False),
    sa.Column('sentences', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_suggester_models_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trained_by'], ['users.id'], name=op.f('fk_suggester_models_trained_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggester_models')),
    sa.UniqueConstraint('project_id', 'suggester', 'version', name=op.f('uq_suggester_models_project_id_suggester_version'))
    )
    op.create_index('uq_suggester_models_project_id_suggester_enabled', 'suggester_models', ['project_id', 'suggester'],
                    unique=True, sqlite_where=sa.text('enabled'), postgresql_where=sa.text('enabled'))


def downgrade() -> None:
    op.drop_index('uq_suggester_models_project_id_suggester_enabled', table_name='suggester_models')
    op.drop_table('suggester_models')
