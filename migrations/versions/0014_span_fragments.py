"""spans.fragments and spans.comment: discontinuous spans and span notes (issue 18)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

NULL, every existing row's value, is a contiguous span without a comment.
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('spans', sa.Column('fragments', sa.JSON(none_as_null=True), nullable=True))
    op.add_column('spans', sa.Column('comment', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('spans', 'comment')
    op.drop_column('spans', 'fragments')
