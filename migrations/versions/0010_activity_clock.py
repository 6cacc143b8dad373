"""active time capped by the wall clock (issue 15)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

activity_clocks: per user, up to when active time is counted (annotator.services.progress.
record_activity caps a report by the wall-clock time since).
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_clocks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('counted_until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activity_clocks_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_activity_clocks'))
    )


def downgrade() -> None:
    op.drop_table('activity_clocks')
