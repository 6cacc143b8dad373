"""What comes into a project: articles, and annotations made elsewhere (the pair of
annotator.services.exports). Supervisors and admins only.

Articles (read by annotator.ingest from files and uploads): each document is stored in a
transaction of its own; content already in the project (same SHA-256) is skipped.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from . import audit, users
from .annotations import checked_extent, free_text, payload_field, resolved_parts
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook
from ..codebook import Codebook
from ..db import batch, writes
from ..errors import Conflict, ServiceError
from ..ingest import Article, IngestError, read_bytes, segment
from ..ingest.annotations import is_id
from ..ingest.text import language_code, parse_date, spans_are_valid
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


@dataclass
class ImportSummary:
    # Ids, not ORM objects: a session holding thousands of them would expire every one at
    # each per-document commit (quadratic time on a large import).
    imported: list[int] = field(default_factory=list)
    skipped: list[Article] = field(default_factory=list)
    sentences: int = 0


def _exists(session: Session, project: Project, article: Article) -> bool:
    query = select(Document.id).where(
        Document.project_id == project.id, Document.content_hash == article.content_hash
    )
    return session.scalar(query) is not None


def _store_article(session: Session, actor: Actor, project: Project, article: Article) -> Document:
    """Add one article and its sentences (in the caller's write transaction)."""
    document = Document(
        project_id=project.id,
        title=article.title,
        outlet=article.outlet,
        url=article.url,
        published=article.published,
        language=article.language,
        text=article.text,
        content_hash=article.content_hash,
        meta=article.metadata,
    )
    session.add(document)
    session.flush()
    session.execute(
        insert(Sentence),
        [
            {"document_id": document.id, "position": position, "start": start, "end": end}
            for position, (start, end) in enumerate(article.sentences)
        ],
    )
    audit.record(
        session,
        actor=actor,
        action="import",
        entity=document,
        after={
            "title": article.title,
            "content_hash": article.content_hash,
            "sentences": len(article.sentences),
            "source": article.source,
        },
    )
    return document


@writes(SUPERVISORS)
def _store_new(session: Session, actor: Actor, project_id: int, article: Article) -> int | None:
    """The new document's id, or None when its content is in the project already (checked and
    inserted under one write lock, so two importers cannot both insert it)."""
    project = get_project(session, actor, project_id)
    if _exists(session, project, article):
        return None
    return _store_article(session, actor, project, article).id


@batch(SUPERVISORS)
def import_articles(
    session: Session,
    actor: Actor,
    project_id: int,
    articles: Iterable[Article],
    *,
    on_progress: Callable[[Article], None] | None = None,
) -> ImportSummary:
    """Store each article in its own transaction; content already in the project is skipped."""
    project = get_project(session, actor, project_id)
    summary = ImportSummary()
    for article in articles:
        try:
            document_id = _store_new(session, actor, project.id, article)
        except Conflict:
            # Another process stored the same content between our check and our insert.
            if not _exists(session, project, article):
                raise
            document_id = None
        if document_id is None:
            summary.skipped.append(article)
        else:
            summary.imported.append(document_id)
            summary.sentences += len(article.sentences)
        if on_progress:
            on_progress(article)
    return summary


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
    encoding: str | None = None,
) -> list[UploadResult]:
    """Import uploaded files (name, content) into a project; supervisors and admins only.

    Unlike the command line, which imports nothing if any input is invalid, each file stands
    alone: a file with any problem (one bad JSONL line is enough) imports nothing and reports
    every problem; the valid files are imported, a transaction per document, as import_articles.
    The name only picks the format; the content is checked as the command line checks files,
    with the same limits and ``encoding`` (None: each file's own, see annotator.ingest.readers).
    """
    project = get_project(session, actor, project_id)
    results = []
    for name, data in files:
        read = read_bytes(name, data, max_bytes=max_bytes, max_sentences=max_sentences, encoding=encoding)
        errors = [item for item in read if isinstance(item, IngestError)]
        if errors:
            results.append(UploadResult(name, errors=errors))
            continue
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
    for number, record in enumerate(records, start=1):
        run.record(number, record)
    problems = [*read_problems, *run.problems]
    if problems:
        raise ImportRejected(sorted(problems, key=lambda problem: problem.line or 0))
    return run.summary


class _Import:
    def __init__(self, session: Session, actor: Actor, project: Project, source: str, replace: bool):
        self.session, self.actor, self.project = session, actor, project
        self.source, self.replace = source, replace
        self.codebook: Codebook = project_codebook(project)
        self.summary = AnnotationImport()
        self.problems: list[IngestError] = []
        self.users: dict[str, User] = {}
        self.done: dict[tuple[int, str], str] = {}  # (document id, annotator) -> where imported

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(IngestError(self.source, message, line))

    def record(self, number: int, record: object) -> None:
        entries = record.get("annotations") if isinstance(record, dict) else None
        first_line = next((e.get("line") for e in entries or () if isinstance(e, dict)), None)
        try:
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise _Problem("a record has a document and a list of annotations")
            document, by_record_id = self.document(record.get("document"))
        except (_Problem, ServiceError) as error:
            self.problem(first_line, f"record {number}: {_message(error)}")
            return
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

    # -- documents ---------------------------------------------------------------------------

    def document(self, data: object) -> tuple[Document, dict]:
        """The project's document with the record's text, created if missing; and its
        sentences by the record's sentence ids (matched by extent)."""
        if not isinstance(data, dict):
            raise _Problem("document must be an object")
        text = payload_field(data, "text", str)
        if not text.strip():
            raise _Problem("the document text is empty")
        try:
            content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        except UnicodeEncodeError as error:
            raise _Problem("the document text is not valid Unicode (an unpaired surrogate)") from error
        document = self.session.scalar(
            select(Document).where(Document.project_id == self.project.id, Document.content_hash == content_hash)
        )
        given = _record_sentences(data.get("sentences"), text)
        if document is None:
            language = language_code(data.get("language") if isinstance(data.get("language"), str) else None)
            title = data.get("title") if isinstance(data.get("title"), str) and data["title"].strip() else None
            article = Article(
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
            document = _store_article(self.session, self.actor, self.project, article)
            self.summary.documents_created += 1
        else:
            self.summary.documents_matched += 1
        stored = self.session.scalars(select(Sentence).where(Sentence.document_id == document.id)).all()
        by_extent = {(sentence.start, sentence.end): sentence for sentence in stored}
        return document, {record_id: by_extent.get(extent) for record_id, extent in given.items()}

    # -- one annotator's work on one document -----------------------------------------------

    def entry(self, document: Document, sentences: dict, entry: dict, line: int | None, prefix: str) -> None:
        try:
            name = payload_field(entry, "annotator", str)
            status = payload_field(entry, "status", str, default="done")
            if status not in ASSIGNMENT_STATUSES:
                raise _Problem(f"status must be one of {', '.join(ASSIGNMENT_STATUSES)}")
            items = {key: payload_field(entry, key, list, default=[])
                     for key in ("spans", "attributions", "sentence_labels")}
            user = self.user(name)
            replaced = self.clear(document, user)
        except (_Problem, ServiceError) as error:
            self.problem(line, prefix + _message(error))
            return
        report = lambda message: self.problem(line, f"{prefix}annotator {name!r}: {message}")  # noqa: E731
        span_count, spans_by_id, failed_ids = self.spans(document, user, sentences, items["spans"], report)
        attributions = self.attributions(document, user, spans_by_id, failed_ids, items["attributions"], report)
        labels = self.sentence_labels(document, user, sentences, items["sentence_labels"], report)
        assignment = self.assignment(document, user, status)
        audit.record(
            self.session, actor=self.actor, action="import_annotations", entity=assignment,
            after={"document_id": document.id, "annotator": name, "source": self.source,
                   "spans": span_count, "attributions": attributions, "sentence_labels": labels,
                   "replaced": replaced},
        )
        self.summary.entries += 1
        self.summary.replaced += replaced is not None
        self.summary.spans += span_count
        self.summary.attributions += attributions
        self.summary.sentence_labels += labels

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
        """Refuse, or with ``replace`` delete, the user's annotations of the document;
        the counts deleted (None if there were none)."""
        mine = lambda model: (model.document_id == document.id, model.user_id == user.id)  # noqa: E731
        labels_where = (SentenceLabel.user_id == user.id,
                        SentenceLabel.sentence_id.in_(select(Sentence.id).where(Sentence.document_id == document.id)))
        counts = {
            "spans": self.session.scalar(select(func.count(Span.id)).where(*mine(Span))),
            "attributions": self.session.scalar(select(func.count(Attribution.id)).where(*mine(Attribution))),
            "sentence_labels": self.session.scalar(select(func.count(SentenceLabel.id)).where(*labels_where)),
        }
        if not any(counts.values()):
            return None
        if not self.replace:
            existing = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items() if count)
            raise _Problem(f"annotator {user.username!r} already has {existing} on document {document.id} "
                           f"({document.title!r}); nothing was merged: import with replace to delete them first")
        # Parts go with their attributions and spans (ON DELETE CASCADE).
        self.session.execute(delete(Attribution).where(*mine(Attribution)))
        self.session.execute(delete(Span).where(*mine(Span)))
        self.session.execute(delete(SentenceLabel).where(*labels_where))
        return counts

    def assignment(self, document: Document, user: User, status: str) -> Assignment:
        assignment = self.session.scalar(
            select(Assignment).where(Assignment.user_id == user.id, Assignment.document_id == document.id)
        )
        if assignment is None:
            assignment = Assignment(user_id=user.id, document_id=document.id, status=status,
                                    completed_at=utcnow() if status == "done" else None)
            self.session.add(assignment)
            self.summary.assignments_created += 1
        return assignment

    def spans(self, document: Document, user: User, sentences: dict, items: list, report) -> tuple[int, dict, set]:
        """Insert the spans; returns how many were inserted, those the record gives an id by
        that id (attribution parts name spans by it; a span without one is stored all the
        same), and the ids of those that have problems (attributions with them are not
        reported again)."""
        stored = 0
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
                start, end, text, sentence = checked_extent(self.session, document, self.codebook, layer, extent)
                if (layer, label, start, end) in seen:
                    raise _Problem(f"the same {label} span {start}:{end} appears twice")
                seen.add((layer, label, start, end))
                span = Span(user_id=user.id, document_id=document.id, sentence_id=sentence.id, layer=layer,
                            label=label, start=start, end=end, text=text, attributes=attributes,
                            **_timestamps(data))
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                if isinstance(data, dict) and is_id(data.get("id")):
                    failed.add(data["id"])
                continue
            self.session.add(span)
            stored += 1
            if record_id is not None:
                by_id[record_id] = span
        self.session.flush()
        return stored, by_id, failed

    def attributions(self, document: Document, user: User, spans: dict, failed: set, items: list, report) -> int:
        relations = {relation.name: relation for relation in self.codebook.relations}
        count = 0
        for index, data in enumerate(items):
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
                parts = []
                given = payload_field(data, "parts", list, default=[])
                span_ids = [_record_id(part.get("span_id"), f"parts[{number}].span_id") if isinstance(part, dict)
                            else None for number, part in enumerate(given)]
                if failed.intersection(span_ids):
                    continue
                for number, (part, span_id) in enumerate(zip(given, span_ids)):
                    span = spans.get(span_id)
                    if span is None:
                        raise _Problem(f"parts[{number}] refers to no span of this annotator's spans")
                    parts.append({"role": part.get("role"), "span_id": span.id})
                resolved = resolved_parts(self.session, user, document, relations[name], parts)
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                continue
            attribution = Attribution(user_id=user.id, document_id=document.id, relation=name,
                                      attributes=attributes, **_timestamps(data))
            attribution.parts = [AttributionPart(span=span, role=role) for role, span in resolved]
            self.session.add(attribution)
            count += 1
        return count

    def sentence_labels(self, document: Document, user: User, sentences: dict, items: list, report) -> int:
        """Insert the sentence labels; each names its sentence by the record's sentence id or,
        where the source has no sentences (Label Studio), by an offset inside it (start)."""
        stored = self.session.scalars(select(Sentence).where(Sentence.document_id == document.id)).all()
        layers = {layer.name for layer in self.codebook.choice_layers}
        seen: set[tuple[int, str]] = set()
        count = 0
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
                row = SentenceLabel(user_id=user.id, sentence_id=sentence.id, layer=layer,
                                    value=sorted(value) if isinstance(value, list) else value,
                                    unsure=unsure, comment=comment, **_timestamps(data))
            except (_Problem, ServiceError) as error:
                report(f"{where}: {_message(error)}")
                continue
            self.session.add(row)
            count += 1
        return count


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
