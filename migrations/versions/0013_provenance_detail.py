"""gold_provenance.detail: per part and attribute, who agreed with a pre-filled attribution (issue 17)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

NULL, every existing row's value, says no more than ``agreed`` does.
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('gold_provenance', sa.Column('detail', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('gold_provenance', 'detail')
