"""Exports: a project's documents and live annotations as *document records*, streamed.

A document record (docs/export-format.md) is a JSON-ready dict holding one document, its
sentences and every selected annotator's spans, attributions and sentence labels; the
exporters in :mod:`annotator.exporters` turn records into files and never touch the
database. :func:`document_records` authorises and validates at once, then reads lazily:
documents in id order, ``batch_size`` at a time, and for each batch the rows of those
documents through a handful of Core selects whose rows are read from the driver's cursor
document by document as they arrive. Memory is bounded by one batch of documents (SQLite
steps through its rows; psycopg holds a batch's result), so it stays flat however large the
project.

Only work under a live (not withdrawn) assignment is exported. Annotators are named by a
pseudonym unless usernames are asked for: stable for a (project, user) and not reversible
without the instance's secret key. The gold standard (annotator.services.adjudication) is exported
instead of the annotators when asked for (``gold=True``): the gold account's work on the
adjudicated documents, as the one annotator named "gold", in the same shapes; otherwise it
is never exported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain, groupby
from operator import itemgetter

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import Session

from ..db import reads
from ..errors import NotFound, ServiceError
from ..models import (
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Project,
    Sentence,
    SentenceLabel,
    Span,
    User,
)
from ..pseudonyms import pseudonym
from .entities import exported_entities
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook
from .users import GOLD_USERNAME, not_gold

DOCUMENT_BATCH = 200  # documents read at a time; their texts and sentences live at once
ROW_BATCH = 2000  # annotation rows fetched from a cursor at a time
JSON_CACHE = 10_000  # distinct JSON texts (attributes, label values) kept parsed per batch


class DocumentRecords:
    """The records of one export, checked and ready: iterating reads them from the database.

    ``documents`` is the number of records iteration yields (for progress bars)."""

    def __init__(self, session: Session, project: Project, *, documents: int, user_ids: list[int] | None,
                 usernames: bool, secret_key: str, batch_size: int, gold: bool = False):
        self.session, self.project, self.codebook = session, project, project_codebook(project)
        self.documents, self.user_ids, self.batch_size = documents, user_ids, batch_size
        self.gold = gold  # user_ids is then the gold account's, and only done (adjudicated) work counts
        self.usernames, self.secret_key = usernames, secret_key
        self.names: dict[int, str] = {}  # user id -> the name exported

    def __iter__(self) -> Iterator[dict]:
        after = 0
        while True:
            batch = self.session.execute(
                select(Document.id, Document.title, Document.url, Document.outlet, Document.published,
                       Document.language, Document.meta, Document.text)
                .where(Document.project_id == self.project.id, Document.id > after)
                .order_by(Document.id)
                .limit(self.batch_size)
            ).all()
            if not batch:
                return
            yield from self._batch(batch)
            after = batch[-1].id

    def _batch(self, documents) -> Iterator[dict]:
        ids = [document.id for document in documents]
        sentences = {
            document_id: [{"id": sid, "position": position, "start": start, "end": end}
                          for _, sid, position, start, end in rows]
            for document_id, rows in groupby(
                self.session.execute(
                    select(Sentence.document_id, Sentence.id, Sentence.position, Sentence.start, Sentence.end)
                    .where(Sentence.document_id.in_(ids))
                    .order_by(Sentence.document_id, Sentence.position)
                ),
                key=itemgetter(0),
            )
        }
        live_query = (
            select(Assignment.document_id, Assignment.user_id, Assignment.status)
            .where(Assignment.document_id.in_(ids), Assignment.status != "withdrawn")
        )
        if self.user_ids is not None:
            live_query = live_query.where(Assignment.user_id.in_(self.user_ids))
        if self.gold:
            live_query = live_query.where(Assignment.status == "done")
        else:
            live_query = live_query.where(not_gold(Assignment.user_id))
        live: dict[int, dict[int, str]] = {}  # document -> user -> assignment status
        for document_id, user_id, status in self.session.execute(live_query):
            live.setdefault(document_id, {})[user_id] = status
        self._name_users({user for statuses in live.values() for user in statuses})
        registry = exported_entities(self.session, self.session.scalars(self._linked(ids)))
        rows = self._annotation_rows(ids)
        decoded = _JsonValues()
        for document in documents:
            entries = {
                user: {"annotator": self.names[user], "status": status, "spans": [], "attributions": [],
                       "sentence_labels": []}
                for user, status in live.get(document.id, {}).items()
            }
            _fill(entries, document, rows, decoded)
            record = {
                "project": self.project.name,
                "codebook_version": self.project.codebook_version,
                "document": {
                    "id": document.id, "title": document.title, "url": document.url, "outlet": document.outlet,
                    "published": document.published.isoformat() if document.published else None,
                    "language": document.language, "metadata": document.meta or {}, "text": document.text,
                    "sentences": sentences.get(document.id, []),
                },
                "annotations": sorted(entries.values(), key=itemgetter("annotator")),
            }
            linked = sorted({span["entity_id"] for entry in entries.values() for span in entry["spans"] if "entity_id" in span})
            if linked:  # the source entities its spans mention (docs/export-format.md)
                record["entities"] = [registry[entity_id] for entity_id in linked]
            yield record

    def _linked(self, ids: list[int]):
        """The ids of the source entities the selected annotators' spans of documents ``ids`` link to."""
        statement = select(Span.entity_id).where(Span.document_id.in_(ids), Span.entity_id.is_not(None)).distinct()
        return statement if self.user_ids is None else statement.where(Span.user_id.in_(self.user_ids))

    def _annotation_rows(self, ids: list[int]) -> dict[str, _ByDocument]:
        """The spans, attributions, attribution parts and sentence labels of the documents
        ``ids`` (of the chosen annotators), ordered by document. Text columns are ordered
        in Python (_fill): databases collate text differently, code points do not."""
        queries = {
            "spans": select(
                Span.document_id, Span.user_id, Span.id, Span.layer, Span.label, Span.start, Span.end,
                Span.sentence_id, _json_text(Span.attributes), _timestamp(Span.created_at), _timestamp(Span.updated_at),
                _json_text(Span.fragments), Span.comment, Span.entity_id,
                Span.origin, Span.suggester, Span.suggester_version, Span.suggestion_score,
            ).where(Span.document_id.in_(ids))
            .order_by(Span.document_id),  # the index's order, no sort in SQL: _fill orders each document
            "attributions": select(
                Attribution.document_id, Attribution.user_id, Attribution.id, Attribution.relation,
                _json_text(Attribution.attributes), _timestamp(Attribution.created_at), _timestamp(Attribution.updated_at),
                Attribution.origin, Attribution.suggester, Attribution.suggester_version, Attribution.suggestion_score,
            ).where(Attribution.document_id.in_(ids))
            .order_by(Attribution.document_id, Attribution.id),
            "parts": select(
                Attribution.document_id, AttributionPart.attribution_id, AttributionPart.role, AttributionPart.span_id,
            ).join(Attribution, Attribution.id == AttributionPart.attribution_id)
            .where(Attribution.document_id.in_(ids))
            .order_by(Attribution.document_id, AttributionPart.attribution_id, AttributionPart.span_id),
            "labels": select(
                Sentence.document_id, SentenceLabel.user_id, SentenceLabel.sentence_id, SentenceLabel.layer,
                _json_text(SentenceLabel.value), SentenceLabel.unsure, SentenceLabel.comment,
                _timestamp(SentenceLabel.created_at), _timestamp(SentenceLabel.updated_at), Sentence.position,
            ).join(Sentence, Sentence.id == SentenceLabel.sentence_id)
            .where(Sentence.document_id.in_(ids))
            .order_by(Sentence.document_id, Sentence.position),
        }
        owners = {"spans": Span.user_id, "attributions": Attribution.user_id, "parts": Attribution.user_id,
                  "labels": SentenceLabel.user_id}
        connection = self.session.connection()
        rows = {}
        for name, statement in queries.items():
            if self.user_ids is not None:
                statement = statement.where(owners[name].in_(self.user_ids))
            # No yield_per: its buffered strategy reads rows ahead of the driver's cursor.
            rows[name] = _ByDocument(connection.execute(statement))
        return rows

    def _name_users(self, user_ids: set[int]) -> None:
        """Fill ``names`` for users not seen yet (one query per batch that has new ones)."""
        new = user_ids - self.names.keys()
        if not new:
            return
        for user_id, username in self.session.execute(select(User.id, User.username).where(User.id.in_(new))):
            if self.gold:
                self.names[user_id] = GOLD_USERNAME
            else:
                self.names[user_id] = username if self.usernames else pseudonym(self.secret_key, self.project.id, user_id)


# The origins of items accepted from a suggestion: those that export their provenance.
ACCEPTED_ORIGINS = ("accepted", "accepted_edited")

# Orders within a document, over the columns of _annotation_rows' selects (see the contract
# in docs/export-format.md): spans by (start, end, layer, label, id), parts by (attribution,
# role, span), sentence labels by (sentence position, layer).
SPAN_ORDER = itemgetter(5, 6, 3, 4, 2)
PART_ORDER = itemgetter(1, 2, 3)
LABEL_ORDER = itemgetter(9, 3)


def _fill(entries: dict[int, dict], document, rows: dict[str, _ByDocument], decoded: _JsonValues) -> None:
    """Put the document's rows into the annotation entries of their users (rows of users
    without an entry, whose assignment is withdrawn, are dropped)."""
    text = document.text
    spans_of = {user: entry["spans"] for user, entry in entries.items()}  # the hot loop: one lookup
    spans = sorted(rows["spans"].take(document.id), key=SPAN_ORDER)
    for _, user, span_id, layer, label, start, end, sentence_id, attributes, created, updated, fragments, comment, entity_id, *origin in spans:
        if (mine := spans_of.get(user)) is not None:
            span = {
                "id": span_id, "layer": layer, "label": label, "start": start, "end": end,
                "text": text[start:end], "sentence_id": sentence_id,
                # Most spans have no attributes: spare them the call (a tenth of a CSV export).
                "attributes": {} if attributes == "{}" else decoded(attributes) or {},
                "created_at": created, "updated_at": updated,
            }
            # Only a discontinuous span has fragments, only a noted one a comment.
            if fragments is not None:
                span["fragments"] = [list(pair) for pair in decoded(fragments)]
            if comment is not None:
                span["comment"] = comment
            if entity_id is not None:  # a SOURCE span linked to a source entity
                span["entity_id"] = entity_id
            _add_origin(span, *origin)
            mine.append(span)
    parts_of: dict[int, list[dict]] = {}
    for _, attribution_id, role, span_id in sorted(rows["parts"].take(document.id), key=PART_ORDER):
        parts_of.setdefault(attribution_id, []).append({"role": role, "span_id": span_id})
    for _, user, attribution_id, relation, attributes, created, updated, *origin in rows["attributions"].take(document.id):
        if user in entries:
            attribution = {
                "id": attribution_id, "relation": relation, "attributes": decoded(attributes) or {},
                "parts": parts_of.get(attribution_id, []), "created_at": created, "updated_at": updated,
            }
            _add_origin(attribution, *origin)
            entries[user]["attributions"].append(attribution)
    labels = sorted(rows["labels"].take(document.id), key=LABEL_ORDER)
    for _, user, sentence_id, layer, value, unsure, comment, created, updated, _ in labels:
        # No value is null, or [] where every value of a multiple-choice layer was unticked.
        value = decoded(value) or None
        if user in entries and (value is not None or unsure or comment):  # else a cleared label: no work
            entries[user]["sentence_labels"].append({
                "sentence_id": sentence_id, "layer": layer, "value": value, "unsure": bool(unsure),
                "comment": comment, "created_at": created, "updated_at": updated,
            })


def _add_origin(item: dict, origin: str | None, suggester: str | None, version: str | None, score: float | None) -> None:
    """Provenance, optional fields (docs/export-format.md): only on an item accepted from a
    suggestion, its origin and the suggester, version and score copied from the suggestion
    (absent: typed, or made before provenance was recorded)."""
    if origin in ACCEPTED_ORIGINS:
        item |= {"origin": origin, "suggester": suggester, "suggester_version": version, "suggestion_score": score}


class _IsoTimestamp(FunctionElement):
    """A timestamp column as ISO 8601 text in UTC with its offset, always with microseconds,
    formatted by the database: formatting 2.4 million of them in Python was a tenth of an
    export of a million spans. SQLite keeps naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff"."""

    type = Text()
    inherit_cache = True


@compiles(_IsoTimestamp, "sqlite")
def _iso_timestamp_sqlite(element, compiler, **kw) -> str:
    return f"replace({compiler.process(element.clauses, **kw)}, ' ', 'T') || '+00:00'"


@compiles(_IsoTimestamp, "postgresql")
def _iso_timestamp_postgresql(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'"""


def _timestamp(column):
    return _IsoTimestamp(column)


def _json_text(column):
    """A JSON column as its text on every database, parsed by _JsonValues once per distinct
    value: parsing every row's was the largest single cost of an export."""
    return cast(column, Text)


class _JsonValues:
    """JSON values from their text, each distinct text parsed once (a project has few
    distinct attribute combinations and label values). Lists and objects come back as fresh
    shallow copies, so records share nothing mutable."""

    def __init__(self):
        self.parsed: dict[str, object] = {}

    def __call__(self, raw):
        if raw is None:
            return None
        try:
            value = self.parsed[raw]
        except KeyError:
            if len(self.parsed) >= JSON_CACHE:
                self.parsed.clear()
            value = self.parsed[raw] = json.loads(raw)
        return value.copy() if isinstance(value, dict | list) else value


class _ByDocument:
    """Rows ordered by document id (first column), handed out one document at a time.

    Reads the driver's cursor a batch at a time through ``groupby``: C loops, so the only
    per-row Python work is the caller's. The selects above need no conversion by SQLAlchemy
    (integers, text, and JSON and timestamps read as text on purpose; a boolean may come as
    0/1 and is converted by the caller), so its Row objects would only cost time: a third of
    the export's. One document's rows are held at a time."""

    def __init__(self, result):
        self.result = result  # owns the cursor
        batches = iter(lambda: result.cursor.fetchmany(ROW_BATCH), [])
        self.groups = groupby(chain.from_iterable(batches), key=itemgetter(0))
        self.current = next(self.groups, None)

    def take(self, document_id: int) -> list:
        while self.current is not None and self.current[0] < document_id:
            self.current = next(self.groups, None)
        if self.current is None or self.current[0] != document_id:
            return []
        rows = list(self.current[1])
        self.current = next(self.groups, None)
        return rows


@reads(SUPERVISORS)
def document_records(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    secret_key: str,
    annotators: list[str] | None = None,
    usernames: bool = False,
    batch_size: int = DOCUMENT_BATCH,
    gold: bool = False,
) -> DocumentRecords:
    """The project's document records, checked now and read as they are iterated.

    ``annotators``: only these users (by username); every annotator with a live assignment
    otherwise. ``usernames``: name annotators by username instead of by pseudonym.
    ``secret_key``: the instance's secret key (SECRET_KEY), which the pseudonyms derive from.
    ``gold``: export the gold standard only, as annotator "gold": the gold account's work on
    adjudicated documents (others have an empty ``annotations`` list); not with ``annotators``.
    Every document of the project is a record, in id order; one nobody (selected) annotates
    has an empty ``annotations`` list.
    """
    project = get_project(session, actor, project_id)
    if batch_size < 1:
        raise ServiceError("batch_size must be at least 1", field="batch_size")
    if not usernames and not secret_key:
        raise ServiceError("pseudonyms need the instance's secret key", field="secret_key")
    user_ids = None
    if gold and annotators is not None:
        raise ServiceError("the gold export has the one annotator gold: choose no annotators", field="annotators")
    if gold:
        user_ids = list(session.scalars(select(User.id).where(User.username == GOLD_USERNAME)))
    if annotators is not None:
        wanted = {name.strip() for name in annotators if name.strip()}
        found = dict(session.execute(select(User.username, User.id).where(User.username.in_(wanted))).all())
        missing = sorted(wanted - found.keys())
        if missing:
            raise NotFound(f"no user {', '.join(map(repr, missing))}", field="annotators")
        if GOLD_USERNAME in found:
            raise ServiceError("gold is not an annotator: export it with the gold option", field="annotators")
        user_ids = sorted(found.values())
    total = session.scalar(select(func.count(Document.id)).where(Document.project_id == project.id))
    return DocumentRecords(session, project, documents=total, user_ids=user_ids, usernames=usernames,
                           secret_key=secret_key, batch_size=batch_size, gold=gold)
