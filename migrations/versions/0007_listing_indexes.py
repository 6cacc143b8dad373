"""indexes for the paginated listings (home, project, assignments, progress, adjudication queue)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

- documents (project_id, id): a page of a project's documents in import order is a range of
  the index (no sort of the whole project), and counting them reads only the index;
- assignments (user_id, status, document_id): an annotator's live assignments, counted and
  walked without reading the table (the home page, the progress page's per-annotator figures);
- events (user_id, entity_type): an annotator's own events on assignments (marking done, the
  progress page's last activity) without a pass over every assignment's events.

Plans checked with EXPLAIN QUERY PLAN on SQLite and EXPLAIN ANALYZE on PostgreSQL
(docs/benchmarks.md, bench/pages_bench.py). Only indexes: nothing to copy, on either database.
"""

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_documents_project_id_id', 'documents', ['project_id', 'id']),
    ('ix_assignments_user_id_status_document_id', 'assignments', ['user_id', 'status', 'document_id']),
    ('ix_events_user_id_entity_type', 'events', ['user_id', 'entity_type']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
