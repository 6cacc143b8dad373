"""Profiles (issue 20): what the annotations say per outlet, article, month or annotator.

The database -> annotator.profiles' records, in a handful of Core selects that count in SQL:
the project's documents (words counted here), the finished readings (an annotator's done
assignment; the gold standard of an adjudicated document) and the attributions, their source
spans, their cues' words, the spans of the layers no relation uses and the sentence labels,
each grouped by identical values. The annotation rows are the project's, every reader's: the
profile drops those of unfinished readings (a join to the assignments here made SQLite scan
each annotator's labels once per document: 1.4 s for 240 articles). ``build_profile`` computes a
profile (annotator.profiles.profile), ``cached_profile`` keeps it in the agreement report's
cache table (annotator.report.cache) while the data it was computed from is unchanged.
Definitions: docs/profiles.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from .. import profiles
from ..agreement import DEFAULT_REPLICATES, DEFAULT_SEED
from ..codebook import Codebook
from ..db import reads
from ..errors import Conflict, NotFound, ServiceError
from ..models import (
    Adjudication,
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
from ..report.cache import fingerprint, store_report, stored_report
from ..report.load import WORD
from .adjudication import gold_id
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook

# Bumped when a profile gains a key or a figure changes its definition, so that profiles cached
# before are computed anew.
CACHE_REVISION = 1


def profile_parameters(by: str, compare: Sequence[str] | None, replicates: int, seed: int) -> dict:
    """The parameters, checked, as the profile states them and the cache keys them."""
    if by not in profiles.GROUPINGS:
        raise ServiceError(f"by must be one of {', '.join(profiles.GROUPINGS)}", field="by")
    if compare is not None:
        compare = [str(group) for group in compare]
        if len(compare) != 2 or not all(compare):
            raise ServiceError("compare names two groups", field="compare")
    if int(replicates) < 0:
        raise ServiceError("replicates must be 0 or more", field="replicates")
    return {"by": by, "compare": compare, "replicates": int(replicates), "seed": int(seed)}


def _rows(session: Session, statement) -> list[tuple]:
    """The statement's rows as the driver's tuples: these selects return integers and text
    only, and SQLAlchemy's rows would cost as much again as the query (as in
    annotator/report/load.py)."""
    cursor = session.connection().execute(statement).cursor
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _json_values():
    """JSON text -> value, each distinct text parsed once."""
    parsed: dict[str, object] = {}

    def value(text: str | None):
        if text is None:
            return None
        if text not in parsed:
            parsed[text] = json.loads(text)
        return parsed[text]

    return value


def load_records(session: Session, project: Project, codebook: Codebook) -> profiles.ProfileData:
    """The project's articles, finished readings and their annotations as profile records."""
    in_project = Document.project_id == project.id
    articles = [
        profiles.Article(document_id, title, outlet, published, len(WORD.findall(text)))
        for document_id, title, outlet, published, text in session.execute(
            select(Document.id, Document.title, Document.outlet, Document.published, Document.text)
            .where(in_project).order_by(Document.id))
    ]
    gold = gold_id(session)

    def reader(user_id: int) -> profiles.records.Reader:
        return profiles.GOLD if user_id == gold else user_id

    adjudicated = session.scalars(
        select(Adjudication.document_id).join(Document, Document.id == Adjudication.document_id)
        .where(in_project, Adjudication.status == "adjudicated")).all()
    done = session.execute(
        select(Assignment.document_id, Assignment.user_id).join(Document, Document.id == Assignment.document_id)
        .where(in_project, Assignment.status == "done").order_by(Assignment.document_id, Assignment.user_id)).all()
    readings = [profiles.Reading(d, profiles.GOLD) for d in adjudicated]
    readings += [profiles.Reading(d, u) for d, u in done if u != gold]
    decoded = _json_values()

    attributes = cast(Attribution.attributes, Text)
    attributions = [
        profiles.AttributionRow(d, reader(u), relation, decoded(text) or {}, n)
        for d, u, relation, text, n in _rows(session,
            select(Attribution.document_id, Attribution.user_id, Attribution.relation, attributes, func.count())
            .join(Document, Document.id == Attribution.document_id)
            .where(in_project)
            .group_by(Attribution.document_id, Attribution.user_id, Attribution.relation, attributes))
    ]
    # The distinct source spans of each reading. When spans are linked to source entities (the
    # source registry's spans.entity_id), select and group by it too and pass it as the
    # SourceRow's entity: the profile then counts one source per entity.
    sources = [
        profiles.SourceRow(d, reader(u), relation, n)
        for d, u, relation, n in _rows(session,
            select(Attribution.document_id, Attribution.user_id, Attribution.relation,
                   func.count(AttributionPart.span_id.distinct()))
            .join(AttributionPart, AttributionPart.attribution_id == Attribution.id)
            .join(Document, Document.id == Attribution.document_id)
            .where(in_project, AttributionPart.role == profiles.SOURCE_ROLE)
            .group_by(Attribution.document_id, Attribution.user_id, Attribution.relation))
    ]
    cues = []
    anchors = [and_(Attribution.relation == relation.name, AttributionPart.role == relation.anchor)
               for relation in codebook.relations]
    if anchors:
        fragments = cast(Span.fragments, Text)
        rows = _rows(session,
            select(Attribution.document_id, Attribution.user_id, Attribution.relation, Span.text, fragments, func.count())
            .join(AttributionPart, AttributionPart.attribution_id == Attribution.id)
            .join(Span, Span.id == AttributionPart.span_id)
            .join(Document, Document.id == Attribution.document_id)
            .where(in_project, or_(*anchors))
            .group_by(Attribution.document_id, Attribution.user_id, Attribution.relation, Span.text, fragments))
        split = {d for d, _, _, _, pieces, _ in rows if pieces is not None}
        texts = dict(session.execute(select(Document.id, Document.text).where(Document.id.in_(split))).all()) if split else {}
        for d, u, relation, text, pieces, n in rows:
            if pieces is not None:  # a discontinuous cue: its fragments' words, not the gaps between them
                text = " ".join(texts[d][start:end] for start, end in decoded(pieces))
            cues.append(profiles.CueRow(d, reader(u), relation, text, n))
    related = {relation.layer for relation in codebook.relations}
    layers = [layer.name for layer in codebook.span_layers if layer.name not in related]
    span_attributes = cast(Span.attributes, Text)
    spans = [
        profiles.SpanRow(d, reader(u), layer, label, decoded(text) or {}, n)
        for d, u, layer, label, text, n in _rows(session,
            select(Span.document_id, Span.user_id, Span.layer, Span.label, span_attributes, func.count())
            .join(Document, Document.id == Span.document_id)
            .where(in_project, Span.layer.in_(layers))
            .group_by(Span.document_id, Span.user_id, Span.layer, Span.label, span_attributes))
    ] if layers else []
    value = cast(SentenceLabel.value, Text)
    labels = [
        profiles.LabelRow(d, reader(u), layer, decoded(text), n)
        for d, u, layer, text, n in _rows(session,
            select(Sentence.document_id, SentenceLabel.user_id, SentenceLabel.layer, value, func.count())
            .join(Sentence, Sentence.id == SentenceLabel.sentence_id)
            .join(Document, Document.id == Sentence.document_id)
            .where(in_project, SentenceLabel.value.is_not(None))
            .group_by(Sentence.document_id, SentenceLabel.user_id, SentenceLabel.layer, value))
    ]
    annotators = {u for _, u in done if u != gold}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(annotators))).all()) if annotators else {}
    return profiles.ProfileData(articles, readings, attributions, sources, cues, spans, labels, names)


@reads(SUPERVISORS)
def build_profile(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    by: str = "outlet",
    compare: Sequence[str] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> dict:
    """The profile of a project grouped ``by`` outlet, document, month or annotator, with the
    difference between the two groups ``compare`` names (keys or labels) when given
    (docs/profiles.md, "The JSON")."""
    project = get_project(session, actor, project_id)
    parameters = profile_parameters(by, compare, replicates, seed)
    codebook = project_codebook(project)
    data = load_records(session, project, codebook)
    try:
        figures = profiles.profile(data, codebook, by=parameters["by"], replicates=parameters["replicates"],
                                   seed=parameters["seed"], compare=parameters["compare"])
    except profiles.UnknownGroup as error:
        raise NotFound(str(error), field="compare") from None
    comparison = figures["comparison"]
    if comparison is not None and comparison["a"] == comparison["b"]:
        raise ServiceError("compare two different groups", field="compare")
    return {
        "format": profiles.FORMAT,
        "kind": "profile",
        "project": {"id": project.id, "name": project.name,
                    "codebook": {"name": codebook.name, "version": codebook.version}},
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **figures,
    }


def profile_key(project_id: int, parameters: dict) -> str:
    canonical = json.dumps({"kind": "profile", "format": profiles.FORMAT, "revision": CACHE_REVISION,
                            "project": project_id, **parameters}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@reads(SUPERVISORS)
def cached_profile(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    by: str = "outlet",
    compare: Sequence[str] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> dict:
    """``build_profile``, computed once per (project, parameters, data fingerprint) and kept
    in the ``reports`` table beside the agreement reports; any change to the project's
    annotations, assignments or adjudication recomputes it."""
    project = get_project(session, actor, project_id)
    key = profile_key(project.id, profile_parameters(by, compare, replicates, seed))
    current = fingerprint(session, project)  # before computing: a change meanwhile only re-computes
    stored = stored_report(session, project.id, key, current)
    if stored is not None:
        return stored
    profile = build_profile(session, actor, project_id, by=by, compare=compare, replicates=replicates, seed=seed)
    try:
        store_report(session, actor, project.id, key, current, profile)
    except Conflict:  # another worker stored it at the same moment
        pass
    return profile
