"""indexes on the columns that refer to a stored suggestion (issue 19)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

spans.suggestion_id, attributions.suggestion_id and suggestion_decisions.suggestion_id refer to
suggestions ON DELETE SET NULL, and `annotator suggest run` deletes the rows it replaces: each
deleted suggestion makes the database look for the rows naming it, on both SQLite and
PostgreSQL a pass over the whole table without an index. Replacing the suggestions of 300
articles that an annotator had marked 9,000 spans on took 64 s on SQLite and 34 s on
PostgreSQL without these indexes, under 2 s with them (docs/benchmarks.md, "Precomputing
suggestions"). Only indexes: nothing to copy.
"""

from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_spans_suggestion_id', 'spans'),
    ('ix_attributions_suggestion_id', 'attributions'),
    ('ix_suggestion_decisions_suggestion_id', 'suggestion_decisions'),
)


def upgrade() -> None:
    for name, table in INDEXES:
        op.create_index(name, table, ['suggestion_id'], unique=False)


def downgrade() -> None:
    for name, table in reversed(INDEXES):
        op.drop_index(name, table_name=table)
