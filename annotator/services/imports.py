"""What comes into a project: articles, and annotations made elsewhere (the pair of
annotator.services.exports). Supervisors and admins only.

Articles (read by annotator.ingest from files and uploads): stored a batch at a time, each
batch in a transaction of its own (a few statements each); content already in the project
(same SHA-256) is skipped.

Annotations (document records read by annotator.ingest.annotations): all or nothing. Every
record is checked, against the project's codebook and the document text, inside one write
transaction that also makes the rows; if anything is wrong, the transaction is rolled back
and every problem is raised at once (ImportRejected), so a failed import leaves the database
exactly as it was.

Documents are matched by content hash within the project, else created from the record's
text (its sentences if they are consistent with it, else segmented). Annotators are matched
by username, else created as inactive annotator accounts that cannot log in
(users.add_placeholder). An annotator's existing annotations of a document are never
silently merged with imported ones (that would duplicate every span of a re-run import):
the import is refused, naming them, unless ``replace`` is set, which deletes them first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from . import audit, users
from .annotations import checked_extent, free_text, payload_field, resolved_parts
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook
from ..codebook import Codebook
from ..db import batch, insert_or_skip, writes
from ..errors import ServiceError
from ..ingest import Article, IngestError, read_bytes, segment
from ..ingest.annotations import is_id
from ..ingest.language import article_language
from ..ingest.text import parse_date, spans_are_valid
from ..models import (
    ASSIGNMENT_STATUSES,
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Project,
    Sentence,
    SentenceLabel,
    Span,
    User,
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


def _insert_articles(session: Session, actor: Actor, project_id: int, articles: Sequence[Article]) -> dict[str, int]:
    """Add those of the articles (of distinct contents) whose content the project does not
    have yet, with their sentences and an audit event each, in the caller's write transaction:
    one statement for each of the three (SQLAlchemy sends a long one in pages of rows).
    Returns the new documents' ids by content hash.

    Content already there is skipped by the unique key on (project, content hash), INSERT ...
    ON CONFLICT DO NOTHING: no lookup first. The documents get their ids in the articles'
    order (the order the pages list them in); RETURNING rows come in no promised order, so
    they are matched by content hash."""
    if not articles:
        return {}
    hashed = [(article.content_hash, article) for article in articles]
    # Two importers into one project storing the same content in different orders would wait
    # on each other's rows (PostgreSQL; SQLite has one writer at a time): the project's row
    # locked first makes them take turns. FOR NO KEY UPDATE leaves rows that only reference
    # the project (a document added elsewhere, a report) free to be written meanwhile.
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update(key_share=True))
    inserted = dict(session.execute(
        insert_or_skip(session.get_bind().dialect.name, Document, ("project_id", "content_hash"))
        .returning(Document.content_hash, Document.id),
        [{"project_id": project_id, "title": article.title, "outlet": article.outlet, "url": article.url,
          "published": article.published, "language": article.language, "text": article.text,
          "content_hash": content_hash, "meta": article.metadata}
         for content_hash, article in hashed],
    ).all())
    new = [(inserted[content_hash], content_hash, article) for content_hash, article in hashed if content_hash in inserted]
    if new:
        session.execute(insert(Sentence), [
            {"document_id": document_id, "position": position, "start": start, "end": end}
            for document_id, _, article in new
            for position, (start, end) in enumerate(article.sentences)
        ])
        audit.record_many(session, actor=actor, action="import", entity_type=Document.__tablename__, changes=[
            (document_id, None, {"title": article.title, "content_hash": content_hash,
                                 "sentences": len(article.sentences), "source": article.source})
            for document_id, content_hash, article in new
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
    """Store the articles, ARTICLE_BATCH to a transaction; content already in the project, or
    earlier in ``articles``, is skipped. A failure keeps the batches stored before it.
    ``on_progress`` is called once per article, in order, when its batch is stored."""
    project_id = get_project(session, actor, project_id).id
    summary = ImportSummary()
    seen: set[str] = set()
    for chunk in _batches(articles, ARTICLE_BATCH):
        hashed = [(article, article.content_hash) for article in chunk]
        first = []  # the chunk's articles whose content the input has not had before
        for article, content_hash in hashed:
            if content_hash not in seen:
                seen.add(content_hash)
                first.append(article)
        stored = _store_new(session, actor, project_id, first)
        for article, content_hash in hashed:
            document_id = stored.pop(content_hash, None)  # popped: a repeat later in the chunk is skipped
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
    spans: int = 0
    attributions: int = 0
    sentence_labels: int = 0


class _Problem(Exception):
    """One problem of the record being imported; collected, never raised to the caller."""


# Entries (one annotator's work on one document) whose rows are inserted together: their spans
# first, since the attributions, checked next, name spans by id.
ENTRY_BATCH = 500
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
    read_problems: Iterable[IngestError] = (),
) -> AnnotationImport:
    """Import document records into the project in one transaction, or raise ImportRejected.

    ``source`` (the file name) is kept in the audit events and names the problems; an
    annotation entry's ``line`` key, if it has one, says where in the file it was read.
    ``read_problems``: what reading the file found wrong; the records read are still checked,
    so that one refusal reports every problem, ordered by line.
    """
    project = get_project(session, actor, project_id)
    run = _Import(session, actor, project, source, replace)
    run.run(list(records))
    problems = [*read_problems, *run.checked_problems()]
    if problems:
        raise ImportRejected(sorted(problems, key=lambda problem: problem.line or 0))
    return run.summary


@dataclass
class _Entry:
    """An entry checked but for its attributions, which name its spans by id: they are
    checked when its batch is written and its spans have ids."""

    document: Document
    user: User
    name: str
    replaced: dict | None
    spans: list[dict]  # rows to insert; each gets its "id" then
    spans_by_id: dict  # the record's span id -> row
    failed_ids: set
    labels: list[dict]  # rows to insert
    attributions: list  # as the record gives them
    report: Callable[[str], None]


class _Import:
    """One import. What the checks need from the database is loaded first, a few queries in
    all (the records' documents, the missing ones created in one batch, their sentences, the
    annotators named, what they have on those documents already, their assignments); then
    every record is checked in memory, in order, and its rows written ENTRY_BATCH entries at a
    time, a few statements a batch; the audit events go in one statement at the end."""

    def __init__(self, session: Session, actor: Actor, project: Project, source: str, replace: bool):
        self.session, self.actor, self.project = session, actor, project
        self.source, self.replace = source, replace
        self.codebook: Codebook = project_codebook(project)
        self.summary = AnnotationImport()
        # Each problem with its place in the order of checking, (step, rank): attributions are
        # checked after the entries that follow theirs, but reported in their entry's place.
        self.problems: list[tuple[tuple[int, int], IngestError]] = []
        self.step = 0
        self.users: dict[str, User] = {}
        self.done: dict[tuple[int, str], str] = {}  # (document id, annotator) -> where imported
        self.documents: dict[int, tuple[Document, dict] | Exception] = {}  # by record number
        self.sentences: defaultdict[int, list[Sentence]] = defaultdict(list)  # by document id, in order
        self.annotated: dict[tuple[int, int, str], int] = {}  # (document id, user id, kind) -> count
        self.assignments: dict[tuple[int, int], int] = {}  # (document id, user id) -> assignment id
        self.entered: set[tuple[int, int]] = set()  # (document id, user id) of the entries checked so far
        self.pending: list[_Entry] = []  # checked, not written yet
        self.new_assignments: dict[tuple[int, int], dict] = {}  # of the pending entries, rows to insert
        self.cleared: list[tuple[int, int]] = []  # (document id, user id) whose annotations to delete first
        self.events: list[tuple[int, dict]] = []  # (assignment id, after)
        self.now = utcnow()  # when rows without times of their own are made

    def problem(self, line: int | None, message: str, order: tuple[int, int] | None = None) -> None:
        self.problems.append((order or (self.step, 0), IngestError(self.source, message, line)))

    def checked_problems(self) -> list[IngestError]:
        """The problems in the order a record-by-record check would have found them."""
        return [problem for _, problem in sorted(self.problems, key=lambda item: item[0])]

    def run(self, records: list) -> None:
        self.load(records)
        for number, record in enumerate(records, start=1):
            self.record(number, record)
            if len(self.pending) >= ENTRY_BATCH:
                self.resolve()
        self.resolve()
        if not self.problems:  # else everything is rolled back
            audit.record_many(self.session, actor=self.actor, action="import_annotations",
                              entity_type=Assignment.__tablename__,
                              changes=[(assignment_id, None, after) for assignment_id, after in self.events])

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
        by_hash = {document.content_hash: document for document in self.lookup(
            select(Document).where(Document.project_id == self.project.id),
            Document.content_hash, list({content_hash for content_hash, _, _ in read.values()}))}
        new: dict[str, Article] = {}
        for content_hash, text, data in read.values():
            if content_hash in by_hash or content_hash in new:
                self.summary.documents_matched += 1
            else:
                new[content_hash] = self.article(text, data)
                self.summary.documents_created += 1
        _insert_articles(self.session, self.actor, self.project.id, list(new.values()))
        by_hash |= {document.content_hash: document for document in self.lookup(  # stored here or meanwhile
            select(Document).where(Document.project_id == self.project.id), Document.content_hash, list(new))}
        document_ids = [document.id for document in by_hash.values()]
        for sentence in self.lookup(select(Sentence).order_by(Sentence.document_id, Sentence.position),
                                    Sentence.document_id, document_ids):
            self.sentences[sentence.document_id].append(sentence)
        for number, (content_hash, text, data) in read.items():
            document = by_hash[content_hash]
            by_extent = {(sentence.start, sentence.end): sentence for sentence in self.sentences[document.id]}
            given = _record_sentences(data.get("sentences"), text)
            self.documents[number] = document, {record_id: by_extent.get(extent) for record_id, extent in given.items()}

        names = {entry.get("annotator") for number in read for entry in records[number - 1]["annotations"]}
        names = [name for name in names if isinstance(name, str)]
        self.users = {user.username: user for user in self.lookup(select(User), User.username, names)}
        user_ids = [user.id for user in self.users.values()]
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
            published=parse_date(data.get("published") if isinstance(data.get("published"), str) else None),
            language=language,
            metadata=data.get("metadata") if isinstance(data.get("metadata"), dict) else {},
            source=self.source,
        )

    # -- records -----------------------------------------------------------------------------

    def record(self, number: int, record: object) -> None:
        self.step += 1
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
                    self.step += 1
                    self.problem(line, f"annotator {name!r} is imported twice for document {document.id} "
                                       f"({self.done[document.id, name]} and {where})")
                    continue
                self.done[document.id, name] = where
            # Entries read from a file are located by their line; others by their record.
            self.entry(document, by_record_id, entry, line, "" if line is not None else f"record {number}: ")

    # -- one annotator's work on one document -----------------------------------------------

    def entry(self, document: Document, sentences: dict, entry: dict, line: int | None, prefix: str) -> None:
        self.step += 1
        try:
            name = payload_field(entry, "annotator", str)
            status = payload_field(entry, "status", str, default="done")
            if status not in ASSIGNMENT_STATUSES:
                raise _Problem(f"status must be one of {', '.join(ASSIGNMENT_STATUSES)}")
            items = {key: payload_field(entry, key, list, default=[]) for key in ANNOTATION_KINDS}
            user = self.user(name)
            replaced = self.clear(document, user)
        except (_Problem, ServiceError) as error:
            self.problem(line, prefix + _message(error))
            return
        step = self.step

        def report(rank: int) -> Callable[[str], None]:
            return lambda message: self.problem(line, f"{prefix}annotator {name!r}: {message}", (step, rank))

        spans, spans_by_id, failed_ids = self.spans(document, user, sentences, items["spans"], report(0))
        labels = self.sentence_labels(document, user, sentences, items["sentence_labels"], report(2))
        self.assignment(document, user, status)
        self.pending.append(_Entry(document, user, name, replaced, spans, spans_by_id, failed_ids, labels,
                                   items["attributions"], report(1)))

    def resolve(self) -> None:
        """Write the pending entries: delete what they replace, insert their spans, check
        their attributions (which name spans by id) and insert them with their parts, then
        their sentence labels and new assignments."""
        self.delete_cleared()
        spans = [row for entry in self.pending for row in entry.spans]
        stored = []  # held here: the session keeps only weak references to unchanged objects
        for row, span_id in zip(spans, _insert_ids(self.session, Span, spans)):
            row["id"] = span_id
            # Known to the session as the row it is, so resolved_parts finds it without a query.
            span = Span(**row)
            make_transient_to_detached(span)
            self.session.add(span)
            stored.append(span)
        attributions: list[dict] = []
        parts: list[tuple[int, int, str]] = []  # (index in attributions, span id, role)
        counts = [self.attributions(entry, attributions, parts) for entry in self.pending]
        ids = _insert_ids(self.session, Attribution, attributions)
        if parts:
            self.session.execute(insert(AttributionPart), [
                {"attribution_id": ids[index], "span_id": span_id, "role": role} for index, span_id, role in parts])
        labels = [row for entry in self.pending for row in entry.labels]
        if labels:
            self.session.execute(insert(SentenceLabel), labels)
        new = self.new_assignments
        self.assignments |= dict(zip(new, _insert_ids(self.session, Assignment, list(new.values()))))
        for entry, count in zip(self.pending, counts):
            self.events.append((self.assignments[entry.document.id, entry.user.id], {
                "document_id": entry.document.id, "annotator": entry.name, "source": self.source,
                "spans": len(entry.spans), "attributions": count, "sentence_labels": len(entry.labels),
                "replaced": entry.replaced}))
            self.summary.entries += 1
            self.summary.replaced += entry.replaced is not None
            self.summary.spans += len(entry.spans)
            self.summary.attributions += count
            self.summary.sentence_labels += len(entry.labels)
        self.pending, self.new_assignments = [], {}

    def delete_cleared(self) -> None:
        """Delete the annotations the pending entries replace: three statements an annotator."""
        documents: defaultdict[int, list[int]] = defaultdict(list)
        for document_id, user_id in self.cleared:
            documents[user_id].append(document_id)
        for user_id, document_ids in documents.items():
            for chunk in _batches(document_ids, LOOKUP_CHUNK):
                # Parts go with their attributions and spans (ON DELETE CASCADE).
                self.session.execute(delete(Attribution).where(Attribution.user_id == user_id,
                                                               Attribution.document_id.in_(chunk)))
                self.session.execute(delete(Span).where(Span.user_id == user_id, Span.document_id.in_(chunk)))
                self.session.execute(delete(SentenceLabel).where(
                    SentenceLabel.user_id == user_id,
                    SentenceLabel.sentence_id.in_(select(Sentence.id).where(Sentence.document_id.in_(chunk)))))
        self.cleared = []

    def user(self, name: str) -> User:
        if name.strip().casefold() == users.GOLD_USERNAME:
            raise _Problem(f"{name!r} is the gold standard, not an annotator: gold is written by adjudication only")
        if name not in self.users:
            user = self.session.scalar(select(User).where(User.username == name))
            if user is None:
                user = users.add_placeholder(self.session, self.actor, name)
                self.session.flush()
                self.summary.annotators_created.append(user.username)
            self.users[name] = user
        return self.users[name]

    def clear(self, document: Document, user: User) -> dict | None:
        """Refuse, or with ``replace`` delete (when the batch is written), the user's
        annotations of the document; the counts deleted (None if there were none)."""
        mine = lambda model: (model.document_id == document.id, model.user_id == user.id)  # noqa: E731
        labels_where = (SentenceLabel.user_id == user.id,
                        SentenceLabel.sentence_id.in_(select(Sentence.id).where(Sentence.document_id == document.id)))
        if (document.id, user.id) in self.entered:
            # The account of another spelling of the name already imported here (the
            # placeholder made for " ann" is "ann"): what that entry added counts, once stored.
            self.resolve()
            counts = {
                "spans": self.session.scalar(select(func.count(Span.id)).where(*mine(Span))),
                "attributions": self.session.scalar(select(func.count(Attribution.id)).where(*mine(Attribution))),
                "sentence_labels": self.session.scalar(select(func.count(SentenceLabel.id)).where(*labels_where)),
            }
        else:
            counts = {kind: self.annotated.get((document.id, user.id, kind), 0) for kind in ANNOTATION_KINDS}
        self.entered.add((document.id, user.id))
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

    def spans(self, document: Document, user: User, sentences: dict, items: list, report) -> tuple[list, dict, set]:
        """The rows of the valid spans; those the record gives an id by that id (attribution
        parts name spans by it; a span without one is stored all the same); and the ids of
        those that have problems (attributions with them are not reported again)."""
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
                attributes = payload_field(data, "attributes", dict, default={})
                if problems := self.codebook.validate_span(layer, label, attributes):
                    raise _Problem("; ".join(problems))
                extent = dict(data)
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
                start, end, text, sentence = checked_extent(self.session, document, self.codebook, layer, extent,
                                                            sentences=self.sentences[document.id])
                if (layer, label, start, end) in seen:
                    raise _Problem(f"the same {label} span {start}:{end} appears twice")
                seen.add((layer, label, start, end))
                span = {"user_id": user.id, "document_id": document.id, "sentence_id": sentence.id, "layer": layer,
                        "label": label, "start": start, "end": end, "text": text, "attributes": attributes,
                        **self.times(data)}
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                if isinstance(data, dict) and is_id(data.get("id")):
                    failed.add(data["id"])
                continue
            stored.append(span)
            if record_id is not None:
                by_id[record_id] = span
        return stored, by_id, failed

    def attributions(self, entry: _Entry, rows: list[dict], parts: list[tuple[int, int, str]]) -> int:
        """Check the entry's attributions (its spans stored); add the rows of the valid ones,
        and their parts as (index in ``rows``, span id, role). Returns how many."""
        relations = {relation.name: relation for relation in self.codebook.relations}
        document, user, spans, failed, report = entry.document, entry.user, entry.spans_by_id, entry.failed_ids, entry.report
        count = 0
        for index, data in enumerate(entry.attributions):
            where = f"attributions[{index}]"
            try:
                if not isinstance(data, dict):
                    raise _Problem("must be an object")
                name = payload_field(data, "relation", str, default=next(iter(relations), ""))
                if name not in relations:
                    raise _Problem(f"{name!r} is not a relation of this codebook")
                attributes = payload_field(data, "attributes", dict, default={})
                if problems := self.codebook.validate_relation_attributes(name, attributes):
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
                    named.append({"role": part.get("role"), "span_id": span["id"]})
                resolved = resolved_parts(self.session, user, document, relations[name], named)
                row = {"user_id": user.id, "document_id": document.id, "relation": name, "attributes": attributes,
                       **self.times(data)}
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                continue
            parts += [(len(rows), span.id, role) for role, span in resolved]
            rows.append(row)
            count += 1
        return count

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
    """Insert the rows (one statement); their new ids, in the rows' order. For that order
    SQLAlchemy sends pages of rows to PostgreSQL and, on SQLite, a statement per row (cheap:
    in process), which is why documents and assignments match their ids by key instead."""
    if not rows:
        return []
    table = model.__table__
    return list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))


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
