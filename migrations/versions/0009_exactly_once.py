"""one span per extent and label; idempotency keys (issue 15)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

- spans: a unique index on (document_id, user_id, layer, label, start, end), so that two
  identical saves at once make one row (gold's spans, rows of the gold account, too). It
  replaces the index on (document_id, user_id), which it begins with. Spans saved twice
  before it are merged first: the lowest id of each group is kept, the attribution parts and
  the gold provenance of the others move to it (one part per attribution, one provenance per
  span: the kept span's own, else the oldest), the others are deleted, and each merge is an
  audit event (action "merge" on the kept span, "before" holding the spans removed, user
  none). Downgrading drops the index; merged spans stay merged.
- idempotency_keys: the answers of changes sent with an idempotency key
  (annotator.services.idempotency).
"""

from __future__ import annotations

import datetime as dt
import logging
from itertools import groupby

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

IDENTITY = ('document_id', 'user_id', 'layer', 'label', 'start', 'end')
UNIQUE = 'uq_spans_document_id_user_id_layer_label_start_end'
OLD_INDEX = 'ix_spans_document_id_user_id'

# The tables as this revision knows them (never the models, which move on).
SPANS = sa.table('spans', sa.column('id', sa.Integer), *(sa.column(name) for name in IDENTITY),
                 sa.column('text', sa.Text), sa.column('attributes', sa.JSON), sa.column('version', sa.Integer))
PARTS = sa.table('attribution_parts', sa.column('id', sa.Integer), sa.column('attribution_id', sa.Integer),
                 sa.column('span_id', sa.Integer))
PROVENANCE = sa.table('gold_provenance', sa.column('id', sa.Integer), sa.column('entity_type', sa.String),
                      sa.column('entity_id', sa.Integer))
EVENTS = sa.table('events', sa.column('created_at', sa.DateTime(timezone=True)), sa.column('user_id', sa.Integer),
                  sa.column('action', sa.String), sa.column('entity_type', sa.String),
                  sa.column('entity_id', sa.Integer), sa.column('before', sa.JSON), sa.column('after', sa.JSON))

log = logging.getLogger('alembic.runtime.migration')


def upgrade() -> None:
    merged = _merge_duplicate_spans(op.get_bind())
    if merged:
        log.info('merged %d spans saved more than once into the first of each (audit events "merge")', merged)
    op.drop_index(OLD_INDEX, table_name='spans')
    op.create_index(UNIQUE, 'spans', list(IDENTITY), unique=True)
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_keys_user_id_key'))
    )
    op.create_index('ix_idempotency_keys_user_id_created_at', 'idempotency_keys', ['user_id', 'created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_idempotency_keys_user_id_created_at', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index(UNIQUE, table_name='spans')
    op.create_index(OLD_INDEX, 'spans', ['document_id', 'user_id'], unique=False)


def _merge_duplicate_spans(connection: sa.Connection) -> int:
    """Merge each group of spans with the same IDENTITY into its lowest id; how many went."""
    identity = [SPANS.c[name] for name in IDENTITY]
    groups = sa.select(*identity).group_by(*identity).having(sa.func.count() > 1).subquery()
    rows = connection.execute(
        sa.select(SPANS).join(groups, sa.and_(*(SPANS.c[name] == groups.c[name] for name in IDENTITY)))
        .order_by(*identity, SPANS.c.id)
    ).all()
    removed = 0
    for _, group in groupby(rows, key=lambda row: tuple(getattr(row, name) for name in IDENTITY)):
        kept, *others = list(group)
        ids = [kept.id] + [span.id for span in others]
        _keep_one(connection, PARTS, PARTS.c.span_id, ids, PARTS.c.attribution_id)
        _keep_one(connection, PROVENANCE, PROVENANCE.c.entity_id, ids, PROVENANCE.c.entity_type,
                  PROVENANCE.c.entity_type == 'span')
        connection.execute(sa.delete(SPANS).where(SPANS.c.id.in_(ids[1:])))
        connection.execute(sa.insert(EVENTS).values(
            created_at=dt.datetime.now(dt.timezone.utc), user_id=None, action='merge', entity_type='spans',
            entity_id=kept.id,
            before={'removed': [{'id': span.id, 'text': span.text, 'attributes': span.attributes,
                                 'version': span.version} for span in others]},
            after={'kept': kept.id, 'reason': 'saved more than once; one span per document, user, layer, label '
                                              'and extent from migration 0009'},
        ))
        removed += len(others)
    return removed


def _keep_one(connection: sa.Connection, table: sa.TableClause, column: sa.ColumnClause, ids: list[int],
              owner: sa.ColumnClause, *where) -> None:
    """Of the rows of ``table`` whose ``column`` names one of ``ids`` (the kept span first), keep
    one per ``owner`` (an attribution's parts; a span's provenance): the one naming the kept
    span, else the oldest; delete the others and point the one kept at the kept span."""
    rows = connection.execute(
        sa.select(table.c.id, owner, column).where(column.in_(ids), *where).order_by(owner, table.c.id)
    ).all()
    for _, group in groupby(rows, key=lambda row: row[1]):
        group = list(group)
        keep = next((row for row in group if row[2] == ids[0]), group[0])
        drop = [row[0] for row in group if row is not keep]
        if drop:
            connection.execute(sa.delete(table).where(table.c.id.in_(drop)))
        if keep[2] != ids[0]:
            connection.execute(sa.update(table).where(table.c.id == keep[0]).values({column.name: ids[0]}))
