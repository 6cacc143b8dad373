"""documents.identity_hash: the same text with different metadata is two documents; gold
provenance "imported" (issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

A document was unique by (project, content hash); it is now unique by (project, identity
hash), the hash of its content hash, outlet, url and publication date
(annotator.models.document_identity, whose formula at this revision is copied here so the
migration stays what it was). Existing documents, already unique by text, stay unique.
"""

import hashlib

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

METHODS_BEFORE = "method IN ('auto', 'accepted', 'edited', 'added')"
METHODS_AFTER = "method IN ('auto', 'accepted', 'edited', 'added', 'imported')"


def _identity(content_hash, outlet, url, published) -> str:
    key = "\x00".join((content_hash, outlet or "", url or "", str(published) if published else ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def upgrade() -> None:
    op.add_column('documents', sa.Column('identity_hash', sa.String(length=64), nullable=True))
    documents = sa.table('documents', sa.column('id', sa.Integer), sa.column('content_hash', sa.String),
                         sa.column('outlet', sa.String), sa.column('url', sa.Text), sa.column('published', sa.Date),
                         sa.column('identity_hash', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(documents.c.id, documents.c.content_hash, documents.c.outlet,
                                        documents.c.url, documents.c.published)).all()
    if rows:
        connection.execute(documents.update().where(documents.c.id == sa.bindparam('row_id'))
                           .values(identity_hash=sa.bindparam('identity')),
                           [{'row_id': row.id, 'identity': _identity(*row[1:])} for row in rows])
    with op.batch_alter_table('documents') as batch:
        batch.alter_column('identity_hash', existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint(op.f('uq_documents_project_id_content_hash'), type_='unique')
        batch.create_unique_constraint(op.f('uq_documents_project_id_identity_hash'), ['project_id', 'identity_hash'])
        batch.create_index('ix_documents_project_id_content_hash', ['project_id', 'content_hash'])
    with op.batch_alter_table('gold_provenance') as batch:
        batch.drop_constraint(op.f('ck_gold_provenance_method'), type_='check')
        batch.create_check_constraint(op.f('ck_gold_provenance_method'), METHODS_AFTER)


def downgrade() -> None:
    with op.batch_alter_table('gold_provenance') as batch:
        batch.drop_constraint(op.f('ck_gold_provenance_method'), type_='check')
        batch.create_check_constraint(op.f('ck_gold_provenance_method'), METHODS_BEFORE)
    with op.batch_alter_table('documents') as batch:
        batch.drop_index('ix_documents_project_id_content_hash')
        batch.drop_constraint(op.f('uq_documents_project_id_identity_hash'), type_='unique')
        batch.create_unique_constraint(op.f('uq_documents_project_id_content_hash'), ['project_id', 'content_hash'])
        batch.drop_column('identity_hash')
