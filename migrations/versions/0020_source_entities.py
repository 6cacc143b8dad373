"""sources as entities: a project's registry of sources, their aliases, and the entity a SOURCE
span mentions (issue 20)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-09

The tables source_entities and source_entity_aliases (annotator.models.SourceEntity,
SourceEntityAlias), and spans.entity_id, a foreign key set to NULL if its entity goes (only with
its project: the app never deletes an entity, a merged one keeps its row). Every existing span
keeps NULL: not linked. On SQLite spans is rebuilt in batch mode (annotator.migrate runs
migrations with foreign keys off, so the rows referring to spans stay).
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('source_entities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=400), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=True),
    sa.Column('affiliation', sa.String(length=200), nullable=True),
    sa.Column('anonymity', sa.String(length=64), nullable=True),
    sa.Column('wikidata_id', sa.String(length=16), nullable=True),
    sa.Column('gender', sa.String(length=20), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("gender IN ('female', 'male', 'non_binary')", name=op.f('ck_source_entities_gender')),
    sa.CheckConstraint('merged_into_id <> id', name=op.f('ck_source_entities_merged_into')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_source_entities_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['source_entities.id'], name=op.f('fk_source_entities_merged_into_id_source_entities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_source_entities_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_entities')),
    sa.UniqueConstraint('project_id', 'name_key', name=op.f('uq_source_entities_project_id_name_key'))
    )
    op.create_table('source_entity_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('alias_key', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['source_entities.id'], name=op.f('fk_source_entity_aliases_entity_id_source_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_source_entity_aliases_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_entity_aliases')),
    sa.UniqueConstraint('project_id', 'alias_key', name=op.f('uq_source_entity_aliases_project_id_alias_key'))
    )
    op.create_index('ix_source_entity_aliases_entity_id', 'source_entity_aliases', ['entity_id'])
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entity_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_spans_entity_id_source_entities'), 'source_entities',
                                    ['entity_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_spans_entity_id', ['entity_id'])


def downgrade() -> None:
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.drop_index('ix_spans_entity_id')
        batch_op.drop_constraint(op.f('fk_spans_entity_id_source_entities'), type_='foreignkey')
        batch_op.drop_column('entity_id')
    op.drop_index('ix_source_entity_aliases_entity_id', table_name='source_entity_aliases')
    op.drop_table('source_entity_aliases')
    op.drop_table('source_entities')
