"""The database tables, as typed SQLAlchemy 2.0 mappings: the only place tables are defined.

Schema changes go through Alembic (migrations/); nothing here is created with create_all
outside the tests of the migrations themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names, so that Alembic batch migrations on SQLite can find them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "supervisor", "annotator")
ASSIGNMENT_STATUSES = ("assigned", "in_progress", "done", "withdrawn")
ADJUDICATION_STATUSES = ("in_progress", "adjudicated")
GOLD_ENTITIES = ("span", "sentence_label", "attribution")
GOLD_METHODS = ("auto", "accepted", "edited", "added", "imported")
# How an annotator's span or attribution came to be (migration 0018): marked by hand, a
# suggestion accepted as it was, or one accepted with its extent or label changed. NULL: made
# before provenance was recorded.
ORIGINS = ("typed", "accepted", "accepted_edited")
SUGGESTION_DECISIONS = ("accepted", "rejected")
MATCHINGS = ("exact", "overlap")
# Proposal settings of a project that never set its own (annotator.services.adjudication).
ADJUDICATION_DEFAULTS = {"min_agree": 2, "matching": "exact"}
# The arms of a project's half-blind design of suggestions (annotator.services.suggestions.design):
# an assignment's condition, NULL while no design is drawn.
CONDITIONS = ("suggestions", "control")
# A source entity's gender, as a person recorded it (docs/entities.md, "Gender"): never inferred
# from a name, a pronoun or a title. NULL: not known, not applicable, or not set.
GENDERS = ("female", "male", "non_binary")
# The largest id a row can have: INTEGER, the type of every id column, on PostgreSQL (SQLite's
# goes to 2**63 - 1). A query given a larger number fails instead of finding nothing, so ids
# from requests are checked against it first.
ID_MAX = 2**31 - 1


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp with time zone, read back as an aware datetime in UTC on every database:
    SQLite keeps none, and everything is stored in UTC (utcnow)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, dt.datetime: UTCDateTime}


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    # The LoginSession this user acts through in a request (set by annotator.services.users.
    # signed_in; None on the command line): a change to one's own account keeps it. Not a column.
    login_session_id = None


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (CheckConstraint("0 <= control_share AND control_share <= 1", name="control_share"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    codebook: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    codebook_version: Mapped[int] = mapped_column(default=1)
    # The language annotators see the codebook's names and guidelines in, one it is translated
    # into (annotator.codebook.Codebook.shown_in); None: as written (migration 0012).
    codebook_language: Mapped[str | None] = mapped_column(String(16))
    # How adjudication proposes gold: {"min_agree": m, "matching": "exact" | "overlap"}.
    adjudication: Mapped[dict[str, Any]] = mapped_column(
        default=lambda: dict(ADJUDICATION_DEFAULTS), server_default=text(f"'{json.dumps(ADJUDICATION_DEFAULTS)}'")
    )
    # The half-blind design of suggestions (migration 0017, annotator.services.suggestions.design):
    # whether annotators see them, the share of each annotator's documents they see none on, and
    # the seed of the draw (None: never drawn).
    suggestions_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    control_share: Mapped[float] = mapped_column(default=0.2, server_default=text("0.2"))
    design_seed: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())

    documents: Mapped[list[Document]] = relationship(back_populates="project")


class ProjectMember(Base):
    """A supervisor's membership of a project: a supervisor sees and supervises only the
    projects they are a member of; admins see every project (annotator.services.projects)."""

    __tablename__ = "project_members"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        # A supervisor's projects: the home page and the project list (migration 0011).
        Index("ix_project_members_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


def document_identity(content_hash: str, outlet: str | None, url: str | None, published: dt.date | None) -> str:
    """What makes a document one article of a project: its text (content hash) and where and
    when it ran (outlet, url, publication date). The same wire story run by two outlets is two
    documents; the same file imported twice is one (docs/interop.md, "Same text, different
    articles"). Migration 0015 fills existing rows with this formula."""
    key = "\x00".join((content_hash, outlet or "", url or "", str(published) if published else ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _identity_of_row(context) -> str:
    row = context.get_current_parameters()
    return document_identity(row["content_hash"], row.get("outlet"), row.get("url"), row.get("published"))


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("project_id", "identity_hash"),
        # Records of other tools are matched to documents by text (migration 0015).
        Index("ix_documents_project_id_content_hash", "project_id", "content_hash"),
        # A project's documents in import order: the pages that list them (migration 0007).
        Index("ix_documents_project_id_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    outlet: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    published: Mapped[dt.date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16), default="en")
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # document_identity(): unique in the project; computed from the row when not given.
    identity_hash: Mapped[str] = mapped_column(String(64), default=_identity_of_row)
    # "metadata" is reserved on declarative classes, hence the attribute name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())

    project: Mapped[Project] = relationship(back_populates="documents")
    sentences: Mapped[list[Sentence]] = relationship(
        back_populates="document", order_by="Sentence.position", cascade="all, delete-orphan"
    )


class Sentence(Base):
    __tablename__ = "sentences"
    __table_args__ = (
        UniqueConstraint("document_id", "position"),
        CheckConstraint('0 <= start AND start < "end"', name="offsets"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    position: Mapped[int]
    start: Mapped[int]
    end: Mapped[int]

    document: Mapped[Document] = relationship(back_populates="sentences")


class Assignment(Timestamped, Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("user_id", "document_id"),
        Index("ix_assignments_document_id", "document_id"),
        # An annotator's live assignments, read from the index alone (migration 0007).
        Index("ix_assignments_user_id_status_document_id", "user_id", "status", "document_id"),
        CheckConstraint(f"status IN {ASSIGNMENT_STATUSES!r}", name="status"),
        CheckConstraint(f"condition IN {CONDITIONS!r}", name="condition"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    completed_at: Mapped[dt.datetime | None]
    # Whether this annotator sees suggestions on this document: one of CONDITIONS, None while the
    # project has no design drawn (migration 0017).
    condition: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()
    document: Mapped[Document] = relationship()


class SentenceLabel(Timestamped, Base):
    __tablename__ = "sentence_labels"
    __table_args__ = (
        UniqueConstraint("user_id", "sentence_id", "layer"),
        Index("ix_sentence_labels_sentence_id", "sentence_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(64))
    # A string for single-choice layers, a list of strings for multiple-choice ones.
    value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    unsure: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class SuggestedOrigin:
    """Provenance of an annotator's span or attribution (docs/suggestions.md, "In the page"):
    ``origin`` (ORIGINS) and, when accepted from a suggestion, its id and the suggester, version
    and score copied, so the record outlives a later run that deletes the suggestion."""

    origin: Mapped[str | None] = mapped_column(String(20))
    # Indexed: a run that replaces suggestions sets this to NULL wherever it names one of them,
    # a lookup per deleted suggestion (migration 0021).
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("suggestions.id", ondelete="SET NULL"), index=True)
    suggester: Mapped[str | None] = mapped_column(String(64))
    suggester_version: Mapped[str | None] = mapped_column(String(64))
    suggestion_score: Mapped[float | None]


# What makes two spans the same: one user's mark of one label over one extent of a document.
SPAN_IDENTITY = ("document_id", "user_id", "layer", "label", "start", "end")


class Span(SuggestedOrigin, Timestamped, Base):
    __tablename__ = "spans"
    __table_args__ = (
        # One span per SPAN_IDENTITY, gold's too (migration 0009); it also serves what the
        # index on (document_id, user_id) it replaced did: a user's spans on a document.
        Index("uq_spans_document_id_user_id_layer_label_start_end", *SPAN_IDENTITY, unique=True),
        Index("ix_spans_sentence_id", "sentence_id"),
        # An entity's mentions: the registry's counts, its page, a merge re-pointing them (migration 0020).
        Index("ix_spans_entity_id", "entity_id"),
        CheckConstraint('0 <= start AND start < "end"', name="offsets"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # The sentence the span starts in (a span may cross sentences where the codebook allows).
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    start: Mapped[int]
    end: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    # A discontinuous span's [[start, end], ...] (two or more, sorted, apart, in one sentence;
    # start/end are then its outer extent); NULL for a contiguous span (issue 18).
    fragments: Mapped[list[list[int]] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    # A free-text note on the span (brat's "#" notes).
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The source entity a SOURCE span mentions (annotator.services.entities); NULL: not linked
    # (migration 0020). Only spans of the source role's label are linked, checked by the service.
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("source_entities.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Attribution(SuggestedOrigin, Timestamped, Base):
    __tablename__ = "attributions"
    __table_args__ = (Index("ix_attributions_document_id_user_id", "document_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # The codebook relation this unit instantiates ("attribution" in the default codebook).
    relation: Mapped[str] = mapped_column(String(64), default="attribution")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=1)

    document: Mapped[Document] = relationship()
    parts: Mapped[list[AttributionPart]] = relationship(
        back_populates="attribution", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class AttributionPart(Base):
    """A span playing one role in an attribution: a role of the relation in the project's
    codebook (source, cue, content, supplement in the default one), checked by the service
    layer; the database only refuses an empty role."""

    __tablename__ = "attribution_parts"
    __table_args__ = (
        UniqueConstraint("attribution_id", "span_id"),
        Index("ix_attribution_parts_span_id", "span_id"),
        CheckConstraint("role <> ''", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attribution_id: Mapped[int] = mapped_column(
        ForeignKey("attributions.id", ondelete="CASCADE")
    )
    span_id: Mapped[int] = mapped_column(ForeignKey("spans.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(64))

    attribution: Mapped[Attribution] = relationship(back_populates="parts")
    span: Mapped[Span] = relationship()


class SourceEntity(Timestamped, Base):
    """A source in a project's registry (annotator.services.entities): a person, organisation,
    outlet or document that SOURCE spans mention, in any article. ``name_key`` is the name
    normalised (entities.normalised: NFKC, case folded, Arabic-script variants folded), unique
    in the project, so "UN" and "un" are one name. A merged entity keeps its row, pointing at
    the survivor (``merged_into_id``); its mentions and aliases moved there (migration 0020)."""

    __tablename__ = "source_entities"
    __table_args__ = (
        UniqueConstraint("project_id", "name_key"),
        CheckConstraint(f"gender IN {GENDERS!r}", name="gender"),
        CheckConstraint("merged_into_id <> id", name="merged_into"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(400))
    # A value of the codebook's source_kind attribute, of its identification attribute (the
    # service checks them against the project's codebook); NULL: not set.
    kind: Mapped[str | None] = mapped_column(String(64))
    affiliation: Mapped[str | None] = mapped_column(String(200))
    anonymity: Mapped[str | None] = mapped_column(String(64))
    wikidata_id: Mapped[str | None] = mapped_column(String(16))  # Q<digits>, typed by a person
    gender: Mapped[str | None] = mapped_column(String(20))  # GENDERS, set by a person only
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("source_entities.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the command line
    version: Mapped[int] = mapped_column(default=1)

    aliases: Mapped[list[SourceEntityAlias]] = relationship(
        back_populates="entity", order_by="SourceEntityAlias.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class SourceEntityAlias(Base):
    """Another name of a source entity ("Fazlur Rehman", "مولانا فضل الرحمان"): the type-ahead
    finds the entity by it. Unique in the project on its normalised form, as names are (a name
    and another entity's alias may coincide: two people called the same)."""

    __tablename__ = "source_entity_aliases"
    __table_args__ = (
        UniqueConstraint("project_id", "alias_key"),
        Index("ix_source_entity_aliases_entity_id", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("source_entities.id", ondelete="CASCADE"))
    # The entity's project, kept here so that the database holds aliases unique per project.
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(200))
    alias_key: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())

    entity: Mapped[SourceEntity] = relationship(back_populates="aliases")


class Event(Base):
    """Append-only audit log: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_entity", "entity_type", "entity_id"),
        Index("ix_events_created_at", "created_at"),
        # An annotator's own events on assignments: the progress page's last activity (migration 0007).
        Index("ix_events_user_id_entity_type", "user_id", "entity_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# What makes two stored suggestions the same: one suggester version's proposal of one label
# over one extent of a document.
SUGGESTION_IDENTITY = ("document_id", "suggester", "version", "layer", "label", "start", "end")


class _Suggested:
    """What a suggestion proposes, by whom: kept by a stored suggestion and copied into every
    decision on it, so that the decision outlives a rerun that deletes the suggestion."""

    suggester: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    layer: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    start: Mapped[int]
    end: Mapped[int]
    score: Mapped[float]


class StoredSuggestion(_Suggested, Base):
    """A span a suggester (annotator.suggest) proposed on a document, as `annotator suggest run`
    stored it (annotator.services.suggestions): never an annotator's work. A run replaces the
    rows of the same suggester and version on the documents it ran on; ``group`` and ``role``
    say which proposed attribution the span belongs to and the part it would play (migration
    0016)."""

    __tablename__ = "suggestions"
    __table_args__ = (
        # Also serves a run's replacing of one suggester version's rows on a document.
        UniqueConstraint(*SUGGESTION_IDENTITY),
        CheckConstraint('0 <= start AND start < "end"', name="offsets"),
        CheckConstraint("0 <= score AND score <= 1", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    group: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class SuggestionDecision(_Suggested, Base):
    """An annotator's decision on a suggestion shown in the page: accepted (a span made from
    it) or rejected (docs/suggestions.md, "In the page"). The suggestion's suggester, version,
    layer, label, extent and score are copied, so the record outlives a later run that deletes
    the suggestion (its id then becomes NULL). One decision per annotator and suggestion: the
    latest (migration 0018)."""

    __tablename__ = "suggestion_decisions"
    __table_args__ = (
        Index("uq_suggestion_decisions_user_id_suggestion_id", "user_id", "suggestion_id", unique=True,
              sqlite_where=text("suggestion_id IS NOT NULL"), postgresql_where=text("suggestion_id IS NOT NULL")),
        Index("ix_suggestion_decisions_document_id_user_id", "document_id", "user_id"),
        CheckConstraint(f"decision IN {SUGGESTION_DECISIONS!r}", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("suggestions.id", ondelete="SET NULL"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class SuggesterModel(Base):
    """A trained model of a learned suggester (annotator.suggest.learned), as `annotator suggest
    train` stored it (annotator.services.training): its bytes, what it was trained on and its
    figures on the held-out gold documents beside the rules'. Stored disabled; the enabled one
    is the project's suggester of that name, and the database keeps at most one enabled per
    project and suggester (migration 0019)."""

    __tablename__ = "suggester_models"
    __table_args__ = (
        UniqueConstraint("project_id", "suggester", "version"),
        Index("uq_suggester_models_project_id_suggester_enabled", "project_id", "suggester", unique=True,
              sqlite_where=text("enabled"), postgresql_where=text("enabled")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    suggester: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    # Loaded only to suggest: listing the models or offering the page their version never reads it.
    model: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    trained_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    trained_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the command line
    documents: Mapped[int]  # documents trained on (gold and accepted suggestions)
    sentences: Mapped[int]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=False, server_default=false())


class SentenceTime(Base):
    """Active time a user spent on a sentence (telemetry, like Label Studio's lead_time):
    a running total the annotation page adds to. Not audited."""

    __tablename__ = "sentence_times"
    __table_args__ = (
        UniqueConstraint("user_id", "sentence_id"),
        CheckConstraint("active_ms >= 0", name="active_ms"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"))
    active_ms: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class ActivityClock(Base):
    """Up to when a user's active time is counted (services.progress.record_activity): a report
    may add only wall-clock time since then, so no one is counted active longer than time has
    passed, in one place or several. Not audited."""

    __tablename__ = "activity_clocks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    counted_until: Mapped[dt.datetime]


class Report(Base):
    """A cached agreement report (annotator.report.cached_report): one row per project and
    parameters (``key``, a hash of them), valid while ``fingerprint`` matches the data."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("project_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class Adjudication(Timestamped, Base):
    """A document's place in the adjudication queue (annotator.services.adjudication): absent = not
    started. The gold itself is ordinary annotation rows of the system account ``gold``."""

    __tablename__ = "adjudications"
    __table_args__ = (CheckConstraint(f"status IN {ADJUDICATION_STATUSES!r}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    adjudicator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)


class GoldProvenance(Base):
    """The latest decision behind one gold item (its history is in the audit log): how it was
    made, which annotators' items it matches (``agreed``, user ids), who made it (None: the
    automatic pre-fill) and an optional note. ``detail``: for an attribution pre-filled from
    the proposal, who agreed on each part and attribute and what stayed open (None otherwise;
    docs/adjudication.md)."""

    __tablename__ = "gold_provenance"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id"),
        CheckConstraint(f"entity_type IN {GOLD_ENTITIES!r}", name="entity_type"),
        CheckConstraint(f"method IN {GOLD_METHODS!r}", name="method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    method: Mapped[str] = mapped_column(String(20))
    agreed: Mapped[list[int]] = mapped_column(JSON, default=list)
    adjudicator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class IdempotencyKey(Base):
    """The answer a change sent with an idempotency key got (annotator.services.idempotency):
    sent again with the key, the change is answered with it instead of running again. Written
    in the change's transaction; kept KEEP (7 days). Not audited: the change it answered is."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        # A user's expired keys, deleted when the user next sends one (migration 0009).
        Index("ix_idempotency_keys_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    # A hash of what the key was sent for: the same key for another change is refused.
    request: Mapped[str] = mapped_column(String(64))
    # What the change answered (a success: a refused change keeps no key); None only inside
    # the transaction that claimed the key, before the change has run.
    body: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LoginAttempt(Base):
    """A login attempt, kept for a day: failed ones slow down further attempts on the same
    account from the same address, and from the same address on any account
    (annotator.services.users.log_in). Not audited: no data changes."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LoginSession(Base):
    """A signed-in browser (annotator.services.users): its session cookie holds a random token,
    this row only the token's SHA-256, so a copy of the database signs nobody in. A session
    lives while it is used (``last_seen_at``, updated every few minutes) and not past its
    absolute lifetime; logging out deletes it, and a change of the account's password, role or
    state deletes the account's other sessions (or all of them). Not audited per request."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
