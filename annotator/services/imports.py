"""What comes into a project: articles, and annotations made elsewhere (the pair of
annotator.services.exports). Supervisors and admins only.

Articles (read by annotator.ingest from files and uploads): stored a batch at a time, each
batch in a transaction of its own (a few statements each); an article already in the project
(the same text, SHA-256, from the same outlet, url and date: models.document_identity) is
skipped. The same text with other metadata (a wire story run by two outlets) is another
document.

Annotations (document records read by annotator.ingest.annotations): all or nothing. Every
record is checked in memory, against the project's codebook and the document text, before
any annotation is written, in one write transaction; if anything is wrong, every problem is
raised at once (ImportRejected) and the transaction rolled back, so a failed import leaves
the database exactly as it was.

Documents are matched by content hash within the project (by the record's outlet, url and
date where several documents have the text), else created from the record's text (its
sentences if they are consistent with it, else segmented). Annotators are matched
by username, else created as inactive annotator accounts that cannot log in
(users.add_placeholder). An annotator's existing annotations of a document are never
silently merged with imported ones (that would duplicate every span of a re-run import):
the import is refused, naming them, unless ``replace`` is set, which deletes them first.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from . import audit, entities, users
from .adjudication import _gold_user
from .annotations import DocumentText, checked_extent, checked_fragments, free_text, payload_field, resolved_parts
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook
from ..codebook import Codebook
from ..db import batch, insert_or_skip, writes
from ..errors import ServiceError
from ..ingest import Article, IngestError, read_bytes, segment
from ..ingest.annotations import is_id
from ..ingest.language import article_language
from ..ingest.sentence_csv import match_sentences
from ..ingest.text import parse_date, spans_are_valid
from ..models import (
    ASSIGNMENT_STATUSES,
    Adjudication,
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    GoldProvenance,
    Project,
    Sentence,
    SentenceLabel,
    SourceEntity,
    Span,
    User,
    document_identity,
    utcnow,
)

TITLE_MAX = 120


# -- articles ---------------------------------------------------------------------------------

# Articles per write transaction: a few statements each, and between batches the write lock is
# free for everyone else (a project created while a large import runs).
ARTICLE_BATCH = 500


@dataclass
class ImportSummary:
    # Ids, not ORM objects: a session holding thousands of them would expire every one at
    # each batch's commit.
    imported: list[int] = field(default_factory=list)
    skipped: list[Article] = field(default_factory=list)
    sentences: int = 0


def article_identity(article: Article) -> str:
    """The identity (models.document_identity) the article's document has."""
    return document_identity(article.content_hash, article.outlet, article.url, article.published)


def _insert_articles(session: Session, actor: Actor, project_id: int, articles: Sequence[Article]) -> dict[str, int]:
    """Add those of the articles (of distinct identities) that the project does not have yet,
    with their sentences and an audit event each, in the caller's write transaction: one
    statement for each of the three (SQLAlchemy sends a long one in pages of rows). Returns
    the new documents' ids by identity (article_identity).

    An article already there is skipped by the unique key on (project, identity hash), INSERT
    ... ON CONFLICT DO NOTHING: no lookup first. The documents get their ids in the articles'
    order (the order the pages list them in); RETURNING rows come in no promised order, so
    they are matched by identity."""
    if not articles:
        return {}
    hashed = [(article_identity(article), article) for article in articles]
    # Two importers into one project storing the same content in different orders would wait
    # on each other's rows (PostgreSQL; SQLite has one writer at a time): the project's row
    # locked first makes them take turns. FOR NO KEY UPDATE leaves rows that only reference
    # the project (a document added elsewhere, a report) free to be written meanwhile.
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update(key_share=True))
    inserted = dict(session.execute(
        insert_or_skip(session.get_bind().dialect.name, Document, ("project_id", "identity_hash"))
        .returning(Document.identity_hash, Document.id),
        [{"project_id": project_id, "title": article.title, "outlet": article.outlet, "url": article.url,
          "published": article.published, "language": article.language, "text": article.text,
          "content_hash": article.content_hash, "identity_hash": identity, "meta": article.metadata}
         for identity, article in hashed],
    ).all())
    new = [(inserted[identity], article) for identity, article in hashed if identity in inserted]
    if new:
        session.execute(insert(Sentence), [
            {"document_id": document_id, "position": position, "start": start, "end": end}
            for document_id, article in new
            for position, (start, end) in enumerate(article.sentences)
        ])
        audit.record_many(session, actor=actor, action="import", entity_type=Document.__tablename__, changes=[
            (document_id, None, {"title": article.title, "content_hash": article.content_hash,
                                 "sentences": len(article.sentences), "source": article.source})
            for document_id, article in new
        ])
    return inserted


@writes(SUPERVISORS)
def _store_new(session: Session, actor: Actor, project_id: int, articles: Sequence[Article]) -> dict[str, int]:
    """_insert_articles in a write transaction of its own."""
    get_project(session, actor, project_id)
    return _insert_articles(session, actor, project_id, articles)


@batch(SUPERVISORS)
def import_articles(
    session: Session,
    actor: Actor,
    project_id: int,
    articles: Iterable[Article],
    *,
    on_progress: Callable[[Article], None] | None = None,
) -> ImportSummary:
    """Store the articles, ARTICLE_BATCH to a transaction; an article already in the project,
    or earlier in ``articles`` (the same identity: article_identity), is skipped. A failure keeps the batches stored before it.
    ``on_progress`` is called once per article, in order, when its batch is stored."""
    project_id = get_project(session, actor, project_id).id
    summary = ImportSummary()
    seen: set[str] = set()
    for chunk in _batches(articles, ARTICLE_BATCH):
        hashed = [(article, article_identity(article)) for article in chunk]
        first = []  # the chunk's articles the input has not had before
        for article, identity in hashed:
            if identity not in seen:
                seen.add(identity)
                first.append(article)
        stored = _store_new(session, actor, project_id, first)
        for article, identity in hashed:
            document_id = stored.pop(identity, None)  # popped: a repeat later in the chunk is skipped
            if document_id is None:
                summary.skipped.append(article)
            else:
                summary.imported.append(document_id)
                summary.sentences += len(article.sentences)
            if on_progress:
                on_progress(article)
    return summary


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class UploadResult:
    """What became of one uploaded file: documents imported and skipped, or why it failed."""

    name: str
    imported: int = 0
    skipped: int = 0
    errors: list[IngestError] = field(default_factory=list)


@batch(SUPERVISORS)
def import_uploads(
    session: Session,
    actor: Actor,
    project_id: int,
    files: Iterable[tuple[str, bytes]],
    *,
    max_bytes: int,
    max_sentences: int,
    max_documents: int,
    encoding: str | None = None,
    language: str | None = None,
) -> list[UploadResult]:
    """Import uploaded files (name, content) into a project; supervisors and admins only.

    Unlike the command line, which imports nothing if any input is invalid, each file stands
    alone: a file with any problem (one bad JSONL line is enough) imports nothing and reports
    every problem; the valid files are imported, a transaction per batch, as import_articles.
    The name only picks the format; the content is checked as the command line checks files,
    with the same limits, ``encoding`` (None: each file's own, see annotator.ingest.readers) and
    ``language`` (None: each article's own, see annotator.ingest.language). The files together
    may hold ``max_documents`` documents: a file past what is left is refused unread.
    """
    project = get_project(session, actor, project_id)
    results = []
    for name, data in files:
        read = read_bytes(name, data, max_bytes=max_bytes, max_sentences=max_sentences, encoding=encoding,
                          language=language, max_documents=max_documents)
        errors = [item for item in read if isinstance(item, IngestError)]
        if errors:
            results.append(UploadResult(name, errors=errors))
            continue
        max_documents -= len(read)
        summary = import_articles(session, actor, project.id, read)
        results.append(UploadResult(name, imported=len(summary.imported), skipped=len(summary.skipped)))
    return results


# -- annotations ------------------------------------------------------------------------------


class ImportRejected(ServiceError):
    """The records have problems; nothing was written. ``problems``: every one, located."""

    def __init__(self, problems: list[IngestError]):
        super().__init__(f"{len(problems)} problem(s) in the annotations; nothing was imported")
        self.problems = problems


@dataclass
class AnnotationImport:
    """What an import wrote: counts, and the accounts and documents it had to create."""

    documents_created: int = 0
    documents_matched: int = 0
    annotators_created: list[str] = field(default_factory=list)
    assignments_created: int = 0
    entries: int = 0  # (document, annotator) pairs
    replaced: int = 0  # of those, pairs whose earlier annotations were deleted first
    gold_entries: int = 0  # of those, pairs imported as the gold layer
    spans: int = 0
    attributions: int = 0
    sentence_labels: int = 0
    trimmed: int = 0  # spans whose whitespace edges were trimmed
    links: int = 0  # spans linked to source entities
    entities_created: int = 0  # source entities made, and matched by name in the project's registry
    entities_matched: int = 0
    aliases_skipped: list[str] = field(default_factory=list)  # aliases another entity of the project has
    warnings: list[str] = field(default_factory=list)  # what the reader warned of, as it said it


class _Problem(Exception):
    """One problem of the record being imported; collected, never raised to the caller."""


# Content hashes or ids per IN (...) of a lookup, far below either database's limit on parameters.
LOOKUP_CHUNK = 500
ANNOTATION_KINDS = ("spans", "attributions", "sentence_labels")


@writes(SUPERVISORS)
def import_annotations(
    session: Session,
    actor: Actor,
    project_id: int,
    records: Iterable[dict],
    *,
    source: str,
    replace: bool = False,
    gold: str | Iterable[str] | None = None,
    read_problems: Iterable[IngestError] = (),
) -> AnnotationImport:
    """Import document records into the project in one transaction, or raise ImportRejected.

    ``source`` (the file name) is kept in the audit events and names the problems; an
    annotation entry's ``line`` key, if it has one, says where in the file it was read.
    ``gold``: the annotator (or annotators) whose entries are the gold layer (as are entries
    marked ``"gold": true``): written as the gold account's, the documents' adjudication
    started, provenance "imported"; a document with two gold entries is refused.
    ``read_problems``: what reading the file found wrong; the records read are still checked
    (nothing is written), so that one refusal reports every problem, ordered by line.

    Items of a sentence-label CSV (annotator.ingest.sentence_csv: a sentence's text and its
    labels, no document) become records of the project's documents that have a sentence
    with that text; a sentence no document has is a problem, on each of its lines.
    """
    project = get_project(session, actor, project_id)
    run = _Import(session, actor, project, source, replace, gold)
    run.problems += read_problems
    with _collector_paused():
        run.run(list(records))
    if run.problems:
        raise ImportRejected(sorted(run.problems, key=lambda problem: problem.line or 0))
    return run.summary


class _SentenceRow(NamedTuple):
    """What the checks read of a stored sentence (as annotations.checked_extent reads a Sentence)."""

    id: int
    position: int
    start: int
    end: int


_SENTENCE_ROWS = select(Sentence.document_id, Sentence.id, Sentence.position, Sentence.start, Sentence.end) \
    .order_by(Sentence.document_id, Sentence.position)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while an import checks and writes: the import holds
    hundreds of thousands of dicts (the records, the rows) until it ends, and every full
    collection walks all of them for nothing (a sixth of the import's time,
    docs/benchmarks.md); reference counting frees everything else meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Entry:
    """One annotator's work on one document, checked: the rows to write once the whole input
    has checked clean."""

    document: Document
    user: User
    name: str
    gold: bool
    replaced: dict | None
    spans: list[dict]  # rows to insert; each gets its "id" then
    attributions: list[dict]  # rows to insert
    parts: list[tuple[int, dict, str]]  # (index in attributions, span row, role)
    labels: list[dict]  # rows to insert


class _Import:
    """One import, in three steps. Load what the checks need, a few queries in all (the
    records' documents by text, the missing ones created, their sentences, the annotators
    named, what they have on those documents already, their assignments); check every record
    in memory, in order, collecting every problem; then, only if there is none, write the
    rows, a few statements for all of them, and the audit events in one."""

    def __init__(self, session: Session, actor: Actor, project: Project, source: str, replace: bool,
                 gold: str | Iterable[str] | None):
        self.session, self.actor, self.project = session, actor, project
        self.source, self.replace = source, replace
        self.gold = frozenset([gold] if isinstance(gold, str) else gold or ())  # annotators whose entries are gold
        self.codebook: Codebook = project_codebook(project)
        self.relations = {relation.name: relation for relation in self.codebook.relations}
        self.summary = AnnotationImport()
        self.problems: list[IngestError] = []  # in the order of checking
        self.users: dict[str, User] = {}
        self.gold_user: User | None = None
        self.done: dict[tuple[int, str], str] = {}  # (document id, annotator) -> where imported
        self.documents: dict[int, tuple[Document, dict] | Exception] = {}  # by record number
        self.sentences: defaultdict[int, list[_SentenceRow]] = defaultdict(list)  # by document id, in order
        self.annotated: dict[tuple[int, int, str], int] = {}  # (document id, user id, kind) -> count
        self.assignments: dict[tuple[int, int], int] = {}  # (document id, user id) -> assignment id
        self.adjudications: dict[int, str] = {}  # document id -> adjudication status, if started
        self.entered: set[tuple[int, int]] = set()  # (document id, user id) of the entries checked so far
        self.entries: list[_Entry] = []  # checked
        self.new_assignments: dict[tuple[int, int], dict] = {}  # rows to insert
        self.cleared: list[tuple[int, int]] = []  # (document id, user id) whose annotations to delete first
        self.now = utcnow()  # when rows without times of their own are made
        self.validated: dict[tuple, list[str]] = {}  # attribute_problems' answers
        self.known: dict[int, str] = {}  # record number -> identity hash of the stored document it is of
        self.source_labels = entities.source_labels(self.codebook)  # (layer, label) of the spans linked to entities
        self.entity_records: dict[str, tuple[dict, list]] = {}  # normalised name -> (fields, aliases): the first record
        self.entity_keys: dict[int, dict] = {}  # id() of an entities list -> its file ids' normalised names
        self.links: list[tuple[dict, str]] = []  # (span row, normalised name of its entity)

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(IngestError(self.source, message, line))

    def run(self, records: list) -> None:
        sentence_items = [record for record in records if _is_sentence_item(record)]
        if sentence_items:
            records = [record for record in records if not _is_sentence_item(record)]
            for identity, record in self.placed(sentence_items):
                records.append(record)
                self.known[len(records)] = identity
        self.load(records)
        for number, record in enumerate(records, start=1):
            self.record(number, record)
        if not self.problems:  # else everything is rolled back
            self.write()

    def placed(self, items: list[dict]) -> list[tuple[str, dict]]:
        """Sentence-label CSV items placed in the project's documents by their sentences'
        text (sentence_csv.match_sentences): a record per document, with its identity hash;
        a sentence found nowhere is a problem, one per CSV line, all of them. Every document
        of the project is a candidate: two queries, its documents' texts and its sentences."""
        project_documents = Document.project_id == self.project.id
        documents = {row.id: row for row in self.session.execute(
            select(Document.id, Document.text, Document.identity_hash).where(project_documents))}
        extents: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        for document_id, start, end in self.session.execute(
                select(Sentence.document_id, Sentence.start, Sentence.end).join(Document).where(project_documents)
                .order_by(Sentence.document_id, Sentence.position)):
            extents[document_id].append((start, end))
        entries, problems, warnings = match_sentences(
            items, [(row.id, row.text, extents[row.id]) for row in documents.values()], self.source)
        self.problems += problems
        self.summary.warnings += warnings
        return [(documents[document_id].identity_hash, {"document": {"text": documents[document_id].text},
                                                        "annotations": annotations})
                for document_id, annotations in sorted(entries.items())]

    # -- what the checks need ----------------------------------------------------------------

    def load(self, records: list) -> None:
        read = {}  # record number -> (content hash, text, document data)
        for number, record in enumerate(records, start=1):
            if _entries(record) is None:
                continue
            try:
                read[number] = _document_text(record.get("document"))
            except (_Problem, ServiceError) as error:
                self.documents[number] = error
            self.summary.warnings += [warning for warning in record.get("warnings") or () if isinstance(warning, str)]
        hashes = list({content_hash for content_hash, _, _ in read.values()})
        found = self.documents_by_text(hashes)
        new: dict[str, Article] = {}  # by identity
        chosen: dict[int, str] = {}  # record number -> identity of its document
        for number, (content_hash, text, data) in read.items():
            identity = self.known.get(number) or _record_identity(content_hash, data)
            candidates = found.get(content_hash, [])
            if identity is None and len(candidates) > 1:
                ids = ", ".join(str(document.id) for document in candidates)
                self.documents[number] = _Problem(
                    f"the text is that of {len(candidates)} documents ({ids}), articles of different outlets, "
                    "urls or dates: give the record's outlet, url or published to say which")
                continue
            match = candidates[0] if identity is None and candidates else \
                next((document for document in candidates if document.identity_hash == identity), None)
            if match is not None:
                chosen[number] = match.identity_hash
                self.summary.documents_matched += 1
                continue
            article = self.article(text, data)
            chosen[number] = article_identity(article)
            if chosen[number] in new:
                self.summary.documents_matched += 1
            else:
                new[chosen[number]] = article
                self.summary.documents_created += 1
        _insert_articles(self.session, self.actor, self.project.id, list(new.values()))
        by_identity = {document.identity_hash: document for documents in self.documents_by_text(
            list({article.content_hash for article in new.values()})).values() for document in documents}
        by_identity |= {document.identity_hash: document for documents in found.values() for document in documents}
        document_ids = list({by_identity[identity].id for identity in chosen.values()})
        # Rows, not ORM objects: tens of thousands of them, each read a few times a span.
        for document_id, *sentence in self.lookup(_SENTENCE_ROWS, Sentence.document_id, document_ids, rows=True):
            self.sentences[document_id].append(_SentenceRow(*sentence))
        for number, identity in chosen.items():
            document = by_identity[identity]
            text, data = read[number][1:]
            by_extent = {(sentence.start, sentence.end): sentence for sentence in self.sentences[document.id]}
            given = _record_sentences(data.get("sentences"), text)
            self.documents[number] = document, {record_id: by_extent.get(extent) for record_id, extent in given.items()}

        entries = [entry for number in read for entry in records[number - 1]["annotations"]]
        names = [name for name in {entry.get("annotator") for entry in entries} if isinstance(name, str)]
        self.users = {user.username: user for user in self.lookup(select(User), User.username, names)}
        if any(self.is_gold(entry) for entry in entries):
            self.gold_user = _gold_user(self.session, self.actor)
            self.session.flush()
            for document_id, status in self.lookup(select(Adjudication.document_id, Adjudication.status),
                                                   Adjudication.document_id, document_ids, rows=True):
                self.adjudications[document_id] = status
        user_ids = [user.id for user in (*self.users.values(), self.gold_user) if user is not None]
        if not user_ids:
            return
        for kind, query in (
            ("spans", select(Span.document_id, Span.user_id, func.count(Span.id))
             .where(Span.user_id.in_(user_ids)).group_by(Span.document_id, Span.user_id)),
            ("attributions", select(Attribution.document_id, Attribution.user_id, func.count(Attribution.id))
             .where(Attribution.user_id.in_(user_ids)).group_by(Attribution.document_id, Attribution.user_id)),
            ("sentence_labels", select(Sentence.document_id, SentenceLabel.user_id, func.count(SentenceLabel.id))
             .join(Sentence, SentenceLabel.sentence_id == Sentence.id)
             .where(SentenceLabel.user_id.in_(user_ids)).group_by(Sentence.document_id, SentenceLabel.user_id)),
        ):
            document_column = query.selected_columns[0]
            for document_id, user_id, count in self.lookup(query, document_column, document_ids, rows=True):
                self.annotated[document_id, user_id, kind] = count
        for assignment in self.lookup(select(Assignment.id, Assignment.document_id, Assignment.user_id)
                                      .where(Assignment.user_id.in_(user_ids)),
                                      Assignment.document_id, document_ids, rows=True):
            self.assignments[assignment.document_id, assignment.user_id] = assignment.id

    def documents_by_text(self, hashes: list[str]) -> dict[str, list[Document]]:
        """The project's documents with those content hashes, by hash, oldest first."""
        found: defaultdict[str, list[Document]] = defaultdict(list)
        for document in self.lookup(select(Document).where(Document.project_id == self.project.id)
                                    .order_by(Document.id), Document.content_hash, hashes):
            found[document.content_hash].append(document)
        return found

    def lookup(self, query, column, values: list, *, rows: bool = False) -> Iterator:
        """The query's results where ``column`` is one of ``values``, LOOKUP_CHUNK values a query."""
        for chunk in _batches(values, LOOKUP_CHUNK):
            chunked = query.where(column.in_(chunk))
            yield from self.session.execute(chunked) if rows else self.session.scalars(chunked)

    def article(self, text: str, data: dict) -> Article:
        """The record's document as an article to store: its sentences if they are
        consistent with the text, else segmented."""
        language = article_language(text, data.get("language") if isinstance(data.get("language"), str) else None)
        title = data.get("title") if isinstance(data.get("title"), str) and data["title"].strip() else None
        given = _record_sentences(data.get("sentences"), text)
        return Article(
            title=title or text.strip().splitlines()[0][:TITLE_MAX],
            text=text,
            sentences=tuple(given.values()) if given else segment(text, language),
            outlet=_optional_text(data, "outlet"),
            url=_optional_text(data, "url"),
            published=_published(data),
            language=language,
            metadata=data.get("metadata") if isinstance(data.get("metadata"), dict) else {},
            source=self.source,
        )

    def attribute_problems(self, check: Callable[..., list[str]], *names: str, attributes: dict) -> list[str]:
        """``check(*names, attributes)`` (the codebook's validate_span or
        validate_relation_attributes), once per distinct input: an import repeats a few
        combinations of label and attribute values tens of thousands of times."""
        key = (check.__name__, *names, *attributes.items())
        try:
            hash(key)
        except TypeError:  # a list or an object where a value name belongs: checked (a problem), not kept
            return check(*names, attributes)
        if key not in self.validated:
            self.validated[key] = check(*names, attributes)
        return self.validated[key]

    def is_gold(self, entry: dict) -> bool:
        name = entry.get("annotator")
        return entry.get("gold") is True or (isinstance(name, str) and name in self.gold)

    # -- records -----------------------------------------------------------------------------

    def record(self, number: int, record: object) -> None:
        entries = record.get("annotations") if isinstance(record, dict) else None
        first_line = next((e.get("line") for e in entries or () if isinstance(e, dict)), None)
        found = self.documents.get(number) if _entries(record) is not None else \
            _Problem("a record has a document and a list of annotations")
        if isinstance(found, Exception):
            self.problem(first_line, f"record {number}: {_message(found)}")
            return
        document, by_record_id = found
        for entry in entries:
            line = entry.get("line")
            where = f"line {line}" if line is not None else f"record {number}"
            name = entry.get("annotator")
            if isinstance(name, str):
                if (document.id, name) in self.done:
                    self.problem(line, f"annotator {name!r} is imported twice for document {document.id} "
                                       f"({self.done[document.id, name]} and {where})")
                    continue
                self.done[document.id, name] = where
            # Entries read from a file are located by their line; others by their record.
            self.entry(document, by_record_id, entry, line, "" if line is not None else f"record {number}: ")

    # -- one annotator's work on one document -----------------------------------------------

    def entry(self, document: Document, sentences: dict, entry: dict, line: int | None, prefix: str) -> None:
        gold = self.is_gold(entry)
        try:
            name = payload_field(entry, "annotator", str)
            status = payload_field(entry, "status", str, default="done")
            if status not in ASSIGNMENT_STATUSES:
                raise _Problem(f"status must be one of {', '.join(ASSIGNMENT_STATUSES)}")
            items = {key: payload_field(entry, key, list, default=[]) for key in ANNOTATION_KINDS}
            if gold:
                if self.adjudications.get(document.id, "in_progress") != "in_progress":
                    raise _Problem(f"document {document.id} ({document.title!r}) is adjudicated: reopen its "
                                   "adjudication to import its gold")
                user = self.gold_user
            else:
                user = self.user(name)
            replaced = self.clear(document, user)
        except (_Problem, ServiceError) as error:
            self.problem(line, prefix + _message(error))
            return

        def report(message: str) -> None:
            self.problem(line, f"{prefix}annotator {name!r}: {message}")

        keys = self.entry_entities(entry.get("entities", []), line, prefix)
        spans, spans_by_id, failed_ids = self.spans(document, user, sentences, items["spans"], keys, report)
        attributions, parts = self.attributions(document, user, spans_by_id, failed_ids, items["attributions"], report)
        labels = self.sentence_labels(document, user, sentences, items["sentence_labels"], report)
        # The gold account's assignment is open while its document is adjudicated (as adjudication.start).
        self.assignment(document, user, "in_progress" if gold else status)
        self.entries.append(_Entry(document, user, name, gold, replaced, spans, attributions, parts, labels))

    def write(self) -> None:
        """Write the checked entries: delete what they replace, insert their spans, their
        attributions with their parts, their sentence labels and the new assignments; for gold,
        the adjudications started and the provenance; the audit events in one statement."""
        self.delete_cleared()
        self.write_entities()
        _insert_ids(self.session, Span, [row for entry in self.entries for row in entry.spans])
        audit.record_many(self.session, actor=self.actor, action="link", entity_type=SourceEntity.__tablename__,
                          changes=[(row["entity_id"], None, {"span_id": row["id"], "document_id": row["document_id"]})
                                   for row, _ in self.links])
        _insert_ids(self.session, Attribution, [row for entry in self.entries for row in entry.attributions])
        parts = [{"attribution_id": entry.attributions[index]["id"], "span_id": span["id"], "role": role}
                 for entry in self.entries for index, span, role in entry.parts]
        _insert_rows(self.session, AttributionPart, parts)
        # Gold labels need their ids, for their provenance; the others go in one statement.
        _insert_ids(self.session, SentenceLabel, [row for entry in self.entries if entry.gold for row in entry.labels])
        labels = [row for entry in self.entries if not entry.gold for row in entry.labels]
        _insert_rows(self.session, SentenceLabel, labels)
        new = self.new_assignments
        self.assignments |= dict(zip(new, _insert_ids(self.session, Assignment, list(new.values()))))
        self.write_gold()
        events = []
        for entry in self.entries:
            events.append((self.assignments[entry.document.id, entry.user.id], None, {
                "document_id": entry.document.id, "annotator": entry.name, "source": self.source,
                "spans": len(entry.spans), "attributions": len(entry.attributions),
                "sentence_labels": len(entry.labels), "replaced": entry.replaced} | ({"gold": True} if entry.gold else {})))
            self.summary.entries += 1
            self.summary.gold_entries += entry.gold
            self.summary.replaced += entry.replaced is not None
            self.summary.spans += len(entry.spans)
            self.summary.attributions += len(entry.attributions)
            self.summary.sentence_labels += len(entry.labels)
        audit.record_many(self.session, actor=self.actor, action="import_annotations",
                          entity_type=Assignment.__tablename__, changes=events)

    def write_entities(self) -> None:
        """The entities the entries' spans link to, matched by name in the project's registry or
        made (services.entities.imported_entities), and each linked span row given its entity's id."""
        if not self.entity_records:
            return
        made = entities.imported_entities(self.session, self.actor, self.project.id, self.entity_records, self.source)
        for row, key in self.links:
            row["entity_id"] = made["ids"][key]
        self.summary.links = len(self.links)
        self.summary.entities_created, self.summary.entities_matched = made["created"], made["matched"]
        self.summary.aliases_skipped = made["skipped"]

    def write_gold(self) -> None:
        """The gold entries' documents' adjudication started (where it was not) and a
        provenance "imported" for each of their spans, attributions and sentence labels."""
        gold = [entry for entry in self.entries if entry.gold]
        if not gold:
            return
        adjudicator = self.actor.id if self.actor else None
        starting = list({entry.document.id: None for entry in gold if entry.document.id not in self.adjudications})
        started = _insert_ids(self.session, Adjudication, [
            {"document_id": document_id, "status": "in_progress", "adjudicator_id": adjudicator,
             "created_at": self.now, "updated_at": self.now} for document_id in starting])
        audit.record_many(self.session, actor=self.actor, action="start", entity_type=Adjudication.__tablename__,
                          changes=[(row_id, None, {"document_id": document_id, "status": "in_progress",
                                                   "source": self.source})
                                   for row_id, document_id in zip(started, starting)])
        self.session.execute(insert(GoldProvenance), [
            {"entity_type": kind, "entity_id": row["id"], "method": "imported", "agreed": [],
             "adjudicator_id": adjudicator, "note": self.source, "created_at": self.now}
            for entry in gold
            for kind, rows in (("span", entry.spans), ("attribution", entry.attributions),
                               ("sentence_label", entry.labels))
            for row in rows
        ])

    def delete_cleared(self) -> None:
        """Delete the annotations the entries replace: three statements an annotator (four for
        gold: its provenance)."""
        documents: defaultdict[int, list[int]] = defaultdict(list)
        for document_id, user_id in self.cleared:
            documents[user_id].append(document_id)
        gold_id = self.gold_user.id if self.gold_user else None
        for user_id, document_ids in documents.items():
            for chunk in _batches(document_ids, LOOKUP_CHUNK):
                spans = select(Span.id).where(Span.user_id == user_id, Span.document_id.in_(chunk))
                attributions = select(Attribution.id).where(Attribution.user_id == user_id,
                                                            Attribution.document_id.in_(chunk))
                labels = select(SentenceLabel.id).where(
                    SentenceLabel.user_id == user_id,
                    SentenceLabel.sentence_id.in_(select(Sentence.id).where(Sentence.document_id.in_(chunk))))
                if user_id == gold_id:
                    for kind, ids in (("span", spans), ("attribution", attributions), ("sentence_label", labels)):
                        self.session.execute(delete(GoldProvenance).where(GoldProvenance.entity_type == kind,
                                                                          GoldProvenance.entity_id.in_(ids)))
                # Parts go with their attributions and spans (ON DELETE CASCADE).
                self.session.execute(delete(Attribution).where(Attribution.id.in_(attributions)))
                self.session.execute(delete(Span).where(Span.id.in_(spans)))
                self.session.execute(delete(SentenceLabel).where(SentenceLabel.id.in_(labels)))
        self.cleared = []

    def user(self, name: str) -> User:
        if name.strip().casefold() == users.GOLD_USERNAME:
            raise _Problem(f"{name!r} is the gold standard, not an annotator: import gold with --gold NAME "
                           "(or \"gold\": true on the entry)")
        if name not in self.users:
            user = self.session.scalar(select(User).where(User.username == name))
            if user is None:
                user = users.add_placeholder(self.session, self.actor, name)
                self.session.flush()
                self.summary.annotators_created.append(user.username)
            self.users[name] = user
        return self.users[name]

    def clear(self, document: Document, user: User) -> dict | None:
        """Refuse, or with ``replace`` delete (when the rows are written), the user's
        annotations of the document; the counts deleted (None if there were none)."""
        if (document.id, user.id) in self.entered:
            # Another spelling of the name (the placeholder made for " ann" is "ann"), or two
            # entries marked gold: their work would be merged.
            raise _Problem(f"account {user.username!r} is already imported for document {document.id} by another "
                           "entry of this input; nothing was merged")
        self.entered.add((document.id, user.id))
        counts = {kind: self.annotated.get((document.id, user.id, kind), 0) for kind in ANNOTATION_KINDS}
        if not any(counts.values()):
            return None
        if not self.replace:
            existing = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items() if count)
            raise _Problem(f"annotator {user.username!r} already has {existing} on document {document.id} "
                           f"({document.title!r}); nothing was merged: import with replace to delete them first")
        self.cleared.append((document.id, user.id))
        return counts

    def assignment(self, document: Document, user: User, status: str) -> None:
        """The user's assignment to the document: kept if there is one, else made."""
        if (document.id, user.id) not in self.assignments:
            self.new_assignments[document.id, user.id] = {
                "user_id": user.id, "document_id": document.id, "status": status,
                "completed_at": self.now if status == "done" else None, "created_at": self.now, "updated_at": self.now}
            self.summary.assignments_created += 1

    def times(self, data: dict) -> dict:
        """A row's created_at and updated_at: the record's, else now."""
        return {"created_at": self.now, "updated_at": self.now} | _timestamps(data)

    def entry_entities(self, items: object, line: int | None, prefix: str) -> dict:
        """The file's id -> normalised name of each entity of an entry's ``entities`` (this
        project's JSONL export: those its spans link to), None for a record with a problem
        (reported once a line: the entries of a line share the list). The first record of a
        name is the one imported."""
        if not isinstance(items, list):
            self.problem(line, f"{prefix}entities must be an array")
            return {}
        if id(items) in self.entity_keys:
            return self.entity_keys[id(items)]
        keys = self.entity_keys[id(items)] = {}
        for index, data in enumerate(items):
            file_id = data.get("id") if isinstance(data, dict) else None
            try:
                if not is_id(file_id):
                    raise _Problem("an entity has an id (a number or a string)")
                if file_id in keys:
                    raise _Problem(f"id {file_id!r} is used by another entity")
                keys[file_id] = None
                key, fields, aliases = entities.imported_record(self.codebook, data)
            except (_Problem, ServiceError) as error:
                self.problem(line, f"{prefix}entities[{index}]: {_message(error)}")
                continue
            keys[file_id] = key
            self.entity_records.setdefault(key, (fields, aliases))
        return keys

    def entity_key(self, layer: str, label: str, data: dict, keys: dict) -> str | None:
        """The normalised name of the entity the span's ``entity_id`` names among its entry's
        entities; None when it names none (or one with a problem, reported already)."""
        entity_id = data.get("entity_id")
        if entity_id is None:
            return None
        if (layer, label) not in self.source_labels:
            labels = ", ".join(sorted(label for _, label in self.source_labels)) or "no label"
            raise _Problem(f"entity_id: only a span of the source role's label ({labels}) is linked to a source entity")
        if not is_id(entity_id) or entity_id not in keys:
            raise _Problem(f"entity_id {entity_id!r} is none of the entities of its line")
        return keys[entity_id]

    def spans(self, document: Document, user: User, sentences: dict, items: list, entity_keys: dict,
              report) -> tuple[list, dict, set]:
        """The rows of the valid spans; those the record gives an id by that id (attribution
        parts name spans by it; a span without one is stored all the same); and the ids of
        those that have problems (attributions with them are not reported again). Whitespace
        at a span's edges is trimmed (counted in the summary). A span's ``entity_id`` names one
        of ``entity_keys`` (the entry's entities); its row is linked when the rows are written."""
        # A tuple, not the ORM object: its id and text are read several times a span.
        checked = DocumentText(document.id, document.text)
        stored = []
        by_id: dict = {}
        failed: set = set()
        given_ids: set = set()
        seen: set[tuple] = set()
        for index, data in enumerate(items):
            where = f"spans[{index}]"
            try:
                if not isinstance(data, dict):
                    raise _Problem("must be an object")
                record_id = _record_id(data.get("id"), "id")
                if record_id is not None:
                    if record_id in given_ids:
                        raise _Problem(f"id {record_id!r} is used by another span")
                    given_ids.add(record_id)
                layer, label = payload_field(data, "layer", str), payload_field(data, "label", str)
                link = self.entity_key(layer, label, data, entity_keys)
                attributes = payload_field(data, "attributes", dict, default={})
                if problems := self.attribute_problems(self.codebook.validate_span, layer, label, attributes=attributes):
                    raise _Problem("; ".join(problems))
                extent, trimmed = _trimmed(checked.text, data)
                self.summary.trimmed += trimmed
                if data.get("sentence_id") is not None:
                    # Checked against the sentence where the span starts, unless this
                    # instance segments the document differently (no stored sentence has
                    # the record's extent): then the span's sentence is simply where it starts.
                    if data["sentence_id"] not in sentences:
                        extent["sentence_id"] = -1
                    elif sentences[data["sentence_id"]] is None:
                        del extent["sentence_id"]
                    else:
                        extent["sentence_id"] = sentences[data["sentence_id"]].id
                start, end, text, sentence = checked_extent(self.session, checked, self.codebook, layer, extent,
                                                            sentences=self.sentences[checked.id])
                fragments = checked_fragments(checked, extent, start, end, sentence)
                key = (layer, label, start, end, repr(fragments))
                if key in seen:
                    raise _Problem(f"the same {label} span {start}:{end} appears twice")
                seen.add(key)
                span = {"user_id": user.id, "document_id": checked.id, "sentence_id": sentence.id, "layer": layer,
                        "label": label, "start": start, "end": end, "text": text, "fragments": fragments,
                        "comment": free_text(data, "comment"), "attributes": attributes, "entity_id": None,
                        **self.times(data)}
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                if isinstance(data, dict) and is_id(data.get("id")):
                    failed.add(data["id"])
                continue
            stored.append(span)
            if link is not None:
                self.links.append((span, link))
            if record_id is not None:
                by_id[record_id] = span
        return stored, by_id, failed

    def attributions(self, document: Document, user: User, spans: dict, failed: set, items: list,
                     report) -> tuple[list[dict], list[tuple[int, dict, str]]]:
        """The rows of the valid attributions, and their parts as (index in the rows, span row,
        role); checked in memory, against the entry's span rows (which have no ids yet)."""
        # Stand-ins for the span rows, numbered, as annotations.resolved_parts reads spans.
        rows_by_number = dict(enumerate(spans.values(), start=1))
        numbers = {id(row): number for number, row in rows_by_number.items()}
        standins = {number: SimpleNamespace(id=number, user_id=row["user_id"], document_id=row["document_id"],
                                            layer=row["layer"], label=row["label"])
                    for number, row in rows_by_number.items()}
        rows: list[dict] = []
        parts: list[tuple[int, dict, str]] = []
        for index, data in enumerate(items):
            where = f"attributions[{index}]"
            try:
                if not isinstance(data, dict):
                    raise _Problem("must be an object")
                name = payload_field(data, "relation", str, default=next(iter(self.relations), ""))
                if name not in self.relations:
                    raise _Problem(f"{name!r} is not a relation of this codebook")
                attributes = payload_field(data, "attributes", dict, default={})
                if problems := self.attribute_problems(self.codebook.validate_relation_attributes, name,
                                                       attributes=attributes):
                    raise _Problem("; ".join(problems))
                named = []
                given = payload_field(data, "parts", list, default=[])
                span_ids = [_record_id(part.get("span_id"), f"parts[{number}].span_id") if isinstance(part, dict)
                            else None for number, part in enumerate(given)]
                if failed.intersection(span_ids):
                    continue
                for number, (part, span_id) in enumerate(zip(given, span_ids)):
                    span = spans.get(span_id)
                    if span is None:
                        raise _Problem(f"parts[{number}] refers to no span of this annotator's spans")
                    named.append({"role": part.get("role"), "span_id": numbers[id(span)]})
                resolved = resolved_parts(self.session, user, document, self.relations[name], named, spans=standins)
                row = {"user_id": user.id, "document_id": document.id, "relation": name, "attributes": attributes,
                       **self.times(data)}
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                continue
            parts += [(len(rows), rows_by_number[standin.id], role) for role, standin in resolved]
            rows.append(row)
        return rows, parts

    def sentence_labels(self, document: Document, user: User, sentences: dict, items: list, report) -> list[dict]:
        """The rows of the valid sentence labels; each names its sentence by the record's
        sentence id or, where the source has no sentences (Label Studio), by an offset inside
        it (start)."""
        stored = self.sentences[document.id]
        layers = {layer.name for layer in self.codebook.choice_layers}
        seen: set[tuple[int, str]] = set()
        rows = []
        for index, data in enumerate(items):
            where = f"sentence_labels[{index}]"
            try:
                if not isinstance(data, dict):
                    raise _Problem("must be an object")
                if data.get("sentence_id") is not None:
                    if sentences.get(data["sentence_id"]) is None:
                        raise _Problem(f"sentence_id {data['sentence_id']!r} is not a sentence of the record with "
                                       "the same offsets as one of the stored document")
                    sentence = sentences[data["sentence_id"]]
                else:
                    start = payload_field(data, "start", int)
                    sentence = next((s for s in stored if s.start <= start < s.end), None)
                    if sentence is None:
                        raise _Problem(f"start {start} is inside no sentence of the document")
                layer = payload_field(data, "layer", str)
                if layer not in layers:
                    raise _Problem(f"{layer!r} is not a sentence layer of this codebook")
                value = data.get("value")
                if value is not None and (problems := self.codebook.validate_choice(layer, value)):
                    raise _Problem("; ".join(problems))
                unsure = payload_field(data, "unsure", bool, default=False)
                comment = free_text(data, "comment")
                if (sentence.id, layer) in seen:
                    raise _Problem(f"sentence {sentence.position + 1} has two {layer} labels")
                seen.add((sentence.id, layer))
                row = {"user_id": user.id, "sentence_id": sentence.id, "layer": layer,
                       "value": sorted(value) if isinstance(value, list) else value,
                       "unsure": unsure, "comment": comment, **self.times(data)}
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                continue
            rows.append(row)
        return rows


def _insert_ids(session: Session, model: type, rows: list[dict]) -> list[int]:
    """Insert the rows (one statement, sent in pages of rows), each given its new id (its
    "id" key); the ids, in the rows' order. PostgreSQL returns them in that order
    (SQLAlchemy's sort_by_parameter_order). On SQLite, which would need a statement per row
    for it, the ids are given: the next ones after the table's largest, which SQLite would
    have chosen itself (no AUTOINCREMENT table here, so a deleted row's id is reused either
    way), and which no one else can take in between, as a write transaction holds the
    database's write lock from its start (BEGIN IMMEDIATE, annotator.db.writes)."""
    if not rows:
        return []
    table = model.__table__
    if session.get_bind().dialect.name != "sqlite":
        ids = list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
        for row, row_id in zip(rows, ids):
            row["id"] = row_id
        return ids
    first = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    for row_id, row in enumerate(rows, start=first):
        row["id"] = row_id
    _insert_rows(session, model, rows)
    return [row["id"] for row in rows]


def _insert_rows(session: Session, model: type, rows: list[dict]) -> None:
    """Insert the rows, which all have the same keys, in one statement. On SQLite through the
    driver's executemany, each value through its column's bind processor (as SQLAlchemy would
    convert it): SQLAlchemy builds every row's parameters generically, which took longer than
    SQLite storing them (docs/benchmarks.md, "Importing annotations"). Columns the rows leave
    out get their model default, if it is a constant; else SQLAlchemy inserts the rows."""
    if not rows:
        return
    table, dialect = model.__table__, session.get_bind().dialect
    if dialect.name == "sqlite":
        statement = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
        defaults = {name: table.c[name].default for name in statement.positiontup if name not in rows[0]}
        if all(default is not None and default.is_scalar for default in defaults.values()):
            columns = []
            for name in statement.positiontup:
                values = [row[name] for row in rows] if name not in defaults else [defaults[name].arg] * len(rows)
                process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                columns.append(_converted(process, values) if process else values)
            session.connection().exec_driver_sql(statement.string, list(zip(*columns)))
            return
    session.execute(insert(table), rows)


def _converted(process: Callable, values: list) -> list:
    """``process`` applied to each value, once per object: the rows share their timestamps
    (the import's "now") and None, and a conversion costs microseconds."""
    done: dict[int, object] = {}  # id of a value (each alive in ``values`` meanwhile) -> converted
    converted = []
    for value in values:
        key = id(value)
        if key not in done:
            done[key] = process(value)
        converted.append(done[key])
    return converted


def _is_sentence_item(record: object) -> bool:
    """Whether the record is a sentence-label CSV item (a sentence's text, no document)."""
    return isinstance(record, dict) and "sentence" in record and "document" not in record


def _entries(record: object) -> list[dict] | None:
    """The record's annotation entries, or None if it has no list of them."""
    entries = record.get("annotations") if isinstance(record, dict) else None
    return entries if isinstance(entries, list) and all(isinstance(e, dict) for e in entries) else None


def _document_text(data: object) -> tuple[str, str, dict]:
    """A record's document: (content hash, text, the document object), checked."""
    if not isinstance(data, dict):
        raise _Problem("document must be an object")
    text = payload_field(data, "text", str)
    if not text.strip():
        raise _Problem("the document text is empty")
    try:
        content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    except UnicodeEncodeError as error:
        raise _Problem("the document text is not valid Unicode (an unpaired surrogate)") from error
    return content_hash, text, data


def _record_sentences(data: object, text: str) -> dict:
    """The record's sentences as {id: (start, end)} in order, if they are consistent with the
    text (as segment() would make them); else {} and the text is segmented afresh."""
    if not isinstance(data, list) or not data:
        return {}
    try:
        ordered = sorted(data, key=lambda s: s["position"])
        extents = {s["id"]: (s["start"], s["end"]) for s in ordered}
        valid = len(extents) == len(ordered) and all(
            isinstance(n, int) and not isinstance(n, bool) for extent in extents.values() for n in extent
        ) and spans_are_valid(text, list(extents.values()))
    except (KeyError, TypeError):
        return {}
    return extents if valid else {}


def _record_id(value: object, name: str) -> int | str | None:
    """An id the record gives a span (or a part names): a string or an integer, or None."""
    if value is not None and not is_id(value):
        raise _Problem(f"{name} must be a string or an integer, not {type(value).__name__}")
    return value


def _published(data: dict) -> dt.date | None:
    return parse_date(data.get("published") if isinstance(data.get("published"), str) else None)


def _record_identity(content_hash: str, data: dict) -> str | None:
    """The identity (models.document_identity) of a record's document if the record says
    where or when it ran (outlet, url, published), else None: any article with its text."""
    outlet, url, published = _optional_text(data, "outlet"), _optional_text(data, "url"), _published(data)
    if outlet is None and url is None and published is None:
        return None
    return document_identity(content_hash, outlet, url, published)


def _trimmed(text: str, data: dict) -> tuple[dict, bool]:
    """A copy of the span's data, its whitespace edges trimmed (start, end, text and the outer
    fragments); whether it had any. Data that does not match the text is left to the checks."""
    extent = dict(data)
    start, end, covered = data.get("start"), data.get("end"), data.get("text")
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(covered, str)
            and 0 <= start < end <= len(text) and text[start:end] == covered and covered.strip()):
        return extent, False
    leading, trailing = len(covered) - len(covered.lstrip()), len(covered) - len(covered.rstrip())
    if not leading and not trailing:
        return extent, False
    extent["start"], extent["end"], extent["text"] = start + leading, end - trailing, covered.strip()
    fragments = data.get("fragments")
    if isinstance(fragments, list) and fragments and all(isinstance(f, list) and len(f) == 2 for f in fragments):
        fragments = [list(fragment) for fragment in fragments]
        fragments[0][0], fragments[-1][1] = extent["start"], extent["end"]
        extent["fragments"] = fragments
    return extent, True


def _optional_text(data: dict, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _timestamps(data: dict) -> dict:
    """created_at and updated_at as the record gives them (so a re-import keeps them)."""
    times = {}
    for key in ("created_at", "updated_at"):
        value = data.get(key)
        if value is None:
            continue
        try:
            moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            raise _Problem(f"{key} must be an ISO 8601 date and time")
        times[key] = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return times


def _message(error: Exception) -> str:
    return error.message if isinstance(error, ServiceError) else str(error)
