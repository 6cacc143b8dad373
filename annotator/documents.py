"""Storing imported articles: one transaction per document, re-imports skipped by content hash."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .db import begin_write, writes
from .errors import NotFound
from .ingest import Article, IngestError, read_bytes
from .models import Document, Project, Sentence, User
from .permissions import require_supervisor


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


@writes
def store_article(
    session: Session, project: Project, article: Article, *, actor: User | None = None
) -> Document:
    """Add one article and its sentences to the session (the caller commits)."""
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


def import_articles(
    session: Session,
    project: Project,
    articles: Iterable[Article],
    *,
    actor: User | None = None,
    on_progress: Callable[[Article], None] | None = None,
) -> ImportSummary:
    """Store each article in its own transaction; content already in the project is skipped."""
    summary = ImportSummary()
    for article in articles:
        # Check and insert under one write lock, so two importers cannot both insert.
        begin_write(session)
        if _exists(session, project, article):
            session.rollback()
            summary.skipped.append(article)
        else:
            try:
                document = store_article(session, project, article, actor=actor)
                session.commit()
            except IntegrityError:
                session.rollback()
                # Another process stored the same content between our check and our insert.
                if not _exists(session, project, article):
                    raise
                session.rollback()
                summary.skipped.append(article)
            else:
                summary.imported.append(document.id)
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


def import_uploads(
    session: Session,
    actor: User,
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
    require_supervisor(actor)
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}", field="project")
    results = []
    for name, data in files:
        read = read_bytes(name, data, max_bytes=max_bytes, max_sentences=max_sentences, encoding=encoding)
        errors = [item for item in read if isinstance(item, IngestError)]
        if errors:
            results.append(UploadResult(name, errors=errors))
            continue
        summary = import_articles(session, project, read, actor=actor)
        results.append(UploadResult(name, imported=len(summary.imported), skipped=len(summary.skipped)))
    return results
