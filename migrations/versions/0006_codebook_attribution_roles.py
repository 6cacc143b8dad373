"""attribution_parts.role: whatever roles the project's codebook names

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The CHECK allowed only the default codebook's roles (source, cue, content, supplement), so
saving an attribution of a codebook with other roles failed with an IntegrityError. The
codebook decides the roles and the service layer checks them against it
(annotations.resolved_parts); the database keeps what holds for every codebook, a role is
not empty, and the column is as wide as layer, label and relation names.

On SQLite, batch mode rebuilds attribution_parts (copy, drop, rename). No table refers to
it and it has no triggers, so dropping the old copy cascades nowhere and the events'
append-only triggers stay as they are; its foreign keys, unique constraint and index are
reflected and made again (tests/test_migrations.py checks both).

Downgrading fails, changing nothing, while a part has a role outside the default four.
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _role(width: int, check: str) -> None:
    with op.batch_alter_table('attribution_parts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attribution_parts_role'), type_='check')
        batch_op.alter_column('role', existing_type=sa.String(), type_=sa.String(length=width),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_attribution_parts_role'), check)


def upgrade() -> None:
    _role(64, "role <> ''")


def downgrade() -> None:
    _role(20, "role IN ('source', 'cue', 'content', 'supplement')")
