"""server-side login sessions (issue 15)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

login_sessions: one row per signed-in browser, holding the SHA-256 of the token its session
cookie carries (annotator.services.users). Sessions from before it (a cookie naming only a user
id) are not valid after it: everyone signs in again once.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_sessions_token_hash'))
    )
    op.create_index('ix_login_sessions_user_id', 'login_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_sessions_user_id', table_name='login_sessions')
    op.drop_table('login_sessions')
