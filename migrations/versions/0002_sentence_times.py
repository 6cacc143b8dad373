"""sentence_times: active time per user per sentence

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sentence_times',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sentence_id', sa.Integer(), nullable=False),
    sa.Column('active_ms', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('active_ms >= 0', name=op.f('ck_sentence_times_active_ms')),
    sa.ForeignKeyConstraint(['sentence_id'], ['sentences.id'], name=op.f('fk_sentence_times_sentence_id_sentences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sentence_times_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sentence_times')),
    sa.UniqueConstraint('user_id', 'sentence_id', name=op.f('uq_sentence_times_user_id_sentence_id'))
    )


def downgrade() -> None:
    op.drop_table('sentence_times')
