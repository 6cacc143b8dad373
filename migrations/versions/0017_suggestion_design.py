"""the half-blind design of suggestions: per project on/off, control share and seed; per
assignment its condition (issue 19)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Every existing project gets suggestions off and a control share of 0.2; every existing
assignment a NULL condition (no design drawn).
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggestions_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('control_share', sa.Double(), server_default=sa.text('0.2'), nullable=False))
        batch_op.add_column(sa.Column('design_seed', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'control_share', '0 <= control_share AND control_share <= 1')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('condition', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint('condition', "condition IN ('suggestions', 'control')")


def downgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_assignments_condition'), type_='check')
        batch_op.drop_column('condition')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_projects_control_share'), type_='check')
        batch_op.drop_column('design_seed')
        batch_op.drop_column('control_share')
        batch_op.drop_column('suggestions_enabled')
