"""Storing imported articles: one transaction per document, re-imports skipped by content hash."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .db import begin_write, writes
from .ingest import Article
from .models import Document, Project, Sentence, User


@dataclass
class ImportSummary:
    imported: list[Document] = field(default_factory=list)
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
                summary.imported.append(document)
                summary.sentences += len(article.sentences)
        if on_progress:
            on_progress(article)
    return summary
