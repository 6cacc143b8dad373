"""project membership for supervisors (issue 15)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

A supervisor sees only the projects they are a member of (admins see every project). So that
an existing install keeps today's behaviour, every supervisor is made a member of every
project that exists when the migration runs (deactivated supervisors too: reactivated, they
find what they had); an admin narrows it on each project's page or with
`annotator project members`.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_members_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_project_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_members')),
    sa.UniqueConstraint('project_id', 'user_id', name=op.f('uq_project_members_project_id_user_id'))
    )
    op.create_index('ix_project_members_user_id', 'project_members', ['user_id'], unique=False)
    op.execute(
        "INSERT INTO project_members (project_id, user_id, added_at) "
        "SELECT projects.id, users.id, CURRENT_TIMESTAMP FROM projects CROSS JOIN users "
        "WHERE users.role = 'supervisor' ORDER BY projects.id, users.id"
    )


def downgrade() -> None:
    op.drop_index('ix_project_members_user_id', table_name='project_members')
    op.drop_table('project_members')
