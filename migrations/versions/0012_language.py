"""projects.codebook_language: the language a project's annotators see the codebook in (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

NULL, every existing project's value, shows the codebook as written.
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('projects', sa.Column('codebook_language', sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column('projects', 'codebook_language')
