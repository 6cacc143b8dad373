"""Profiles (issue 20): what the annotations say per outlet, article, month or annotator.

The database -> annotator.profiles' records, in a handful of Core selects that count in SQL:
the project's documents (words counted here), the finished readings (an annotator's done
assignment; the gold standard of an adjudicated document) and the attributions, their source
spans by the source entity they link to, their cues' words, the spans of the layers no relation
uses and the sentence labels, each grouped by identical values; and the project's registry of
source entities. The annotation rows are the project's, every reader's: the profile drops those
of unfinished readings (a join to the assignments here made SQLite scan each annotator's labels
once per document: 1.4 s for 240 articles). ``build_profile`` computes a profile
(annotator.profiles.profile); ``cached_profile_page`` keeps it in the agreement report's cache
table (annotator.report.cache) while the data it was computed from is unchanged, as a head and
parts of PART_GROUPS groups, so that a page reads only the groups it shows; ``cached_profile``
reads it whole. Definitions: docs/profiles.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from .. import profiles
from ..agreement import DEFAULT_REPLICATES, DEFAULT_SEED
from ..codebook import Codebook
from ..db import reads, writes
from ..errors import Conflict, NotFound, ServiceError
from ..models import (
    GENDERS,
    Adjudication,
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Project,
    Sentence,
    SentenceLabel,
    SourceEntity,
    Span,
    User,
)
from ..report.cache import fingerprint, store_report, stored_report
from ..report.load import WORD
from .adjudication import gold_id
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook

# Bumped when a profile gains a key or a figure changes its definition, or its cached layout
# changes, so that profiles cached before are computed anew (2: sources by entity, top quoted
# sources; the groups cached in parts).
CACHE_REVISION = 2
PART_GROUPS = 25  # groups per cached part: a page of 25 groups reads one or two parts


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
    # The distinct source spans (mentions) of each reading per entity they link to (the live
    # entity: a merge re-points the spans), and the attributions citing each entity.
    sources = [
        profiles.SourceRow(d, reader(u), relation, n, entity, cited)
        for d, u, relation, entity, n, cited in _rows(session,
            select(Attribution.document_id, Attribution.user_id, Attribution.relation, Span.entity_id,
                   func.count(AttributionPart.span_id.distinct()), func.count(Attribution.id.distinct()))
            .join(AttributionPart, AttributionPart.attribution_id == Attribution.id)
            .join(Span, Span.id == AttributionPart.span_id)
            .join(Document, Document.id == Attribution.document_id)
            .where(in_project, AttributionPart.role == profiles.SOURCE_ROLE)
            .group_by(Attribution.document_id, Attribution.user_id, Attribution.relation, Span.entity_id))
    ]
    entities = {row[0]: profiles.Entity(*row) for row in _rows(session, select(
        SourceEntity.id, SourceEntity.name, SourceEntity.kind, SourceEntity.anonymity, SourceEntity.gender)
        .where(SourceEntity.project_id == project.id))}
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
    return profiles.ProfileData(articles, readings, attributions, sources, cues, spans, labels, names, entities, GENDERS)


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


def part_key(key: str, part: int) -> str:
    """The cache key of part ``part`` of the groups of the profile cached under ``key``."""
    return hashlib.sha256(f"{key}/groups/{part}".encode()).hexdigest()


@writes(SUPERVISORS)
def store_profile(session: Session, actor: Actor, project_id: int, key: str, fingerprint: str, profile: dict) -> None:
    """Keep a computed profile in the report cache as a head (the profile without its groups,
    with every group's key and label) under ``key`` and its groups in parts of PART_GROUPS under
    ``part_key``, one row each, in one transaction: a page reads the head and the parts it
    shows, not the whole profile (10 MB of JSON by article)."""
    store_report(session, actor, project_id, key, fingerprint, _head(profile))
    for part in range(math.ceil(len(profile["groups"]) / PART_GROUPS)):
        store_report(session, actor, project_id, part_key(key, part), fingerprint, {"groups": _part(profile, part)})


def _head(profile: dict) -> dict:
    """A profile as its cached head: without its groups, with every group's key and label and
    the number of groups a part holds."""
    head = {name: value for name, value in profile.items() if name != "groups"}
    return head | {"group_labels": [[group["key"], group["label"]] for group in profile["groups"]],
                   "part_groups": PART_GROUPS}


def _part(profile: dict, part: int) -> list[dict]:
    return profile["groups"][part * PART_GROUPS:(part + 1) * PART_GROUPS]


class ProfilePage(NamedTuple):
    """What a page of a profile shows: the profile with the groups asked for only, how many
    groups it has, every group's (key, label), and the two groups compared (None: no
    comparison)."""

    profile: dict
    total: int
    labels: list[tuple[str, str]]
    compared: tuple[dict, dict] | None


def _page(head: dict, part: Callable[[int], list[dict] | None], start: int, stop: int | None) -> ProfilePage | None:
    """The groups [start, stop) of a profile (to the last: stop None) and the compared ones, read
    from its head and the parts (``part(i)``) that hold them; None when a part is missing."""
    labels = [(key, label) for key, label in head["group_labels"]]
    size = head["part_groups"]
    stop = len(labels) if stop is None else min(stop, len(labels))
    start = min(start, stop)
    position = {key: i for i, (key, _) in enumerate(labels)}
    comparison = head["comparison"]
    compared = [position[comparison["a"]], position[comparison["b"]]] if comparison else []
    shown = range(start // size, (stop - 1) // size + 1) if stop > start else range(0)
    loaded: dict[int, list[dict]] = {}
    for number in sorted({*shown, *(i // size for i in compared)}):
        groups = part(number)
        if groups is None:
            return None
        loaded[number] = groups

    def group(i: int) -> dict:
        return loaded[i // size][i % size]

    profile = {name: value for name, value in head.items() if name not in ("group_labels", "part_groups")}
    profile["groups"] = [group(i) for i in range(start, stop)]
    return ProfilePage(profile, len(labels), labels, (group(compared[0]), group(compared[1])) if compared else None)


@reads(SUPERVISORS)
def cached_profile_page(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    start: int = 0,
    stop: int | None = None,
    by: str = "outlet",
    compare: Sequence[str] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> ProfilePage:
    """The groups [start, stop) of ``build_profile`` (every group: stop None), computed once per
    (project, parameters, data fingerprint) and kept in the ``reports`` table beside the
    agreement reports (``store_profile``); any change to the project's annotations,
    assignments, adjudication or source entities recomputes it. From the cache only the head
    and the parts holding the groups asked for (and the compared ones) are read."""
    if start < 0 or (stop is not None and stop < start):
        raise ServiceError("start must be 0 or more, and stop not before it", field="page")
    project = get_project(session, actor, project_id)
    key = profile_key(project.id, profile_parameters(by, compare, replicates, seed))
    current = fingerprint(session, project)  # before computing: a change meanwhile only re-computes
    head = stored_report(session, project.id, key, current)
    if head is not None:
        page = _page(head, lambda part: (stored_report(session, project.id, part_key(key, part), current) or {}).get("groups"),
                     start, stop)
        if page is not None:
            return page
    profile = build_profile(session, actor, project_id, by=by, compare=compare, replicates=replicates, seed=seed)
    try:
        store_profile(session, actor, project.id, key, current, profile)
    except Conflict:  # another worker stored it at the same moment
        pass
    return _page(_head(profile), lambda part: _part(profile, part), start, stop)


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
    """``build_profile`` with every group, from the cache (``cached_profile_page``)."""
    return cached_profile_page(session, actor, project_id, by=by, compare=compare, replicates=replicates,
                               seed=seed).profile
