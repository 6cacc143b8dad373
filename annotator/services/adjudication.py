"""Adjudication: supervisors turn the annotators' work on a document into gold.

The gold standard is stored as ordinary annotation rows (spans, sentence labels,
attributions) of one system account, ``gold`` (users.GOLD_USERNAME: inactive, no usable
password, never counted as an annotator). Starting a document gives that account an
assignment, so the annotation services (annotator.services.annotations) validate and write gold
exactly as they write an annotator's work; the functions here wrap them, and record beside
each gold item its provenance (a ``gold_provenance`` row: method, the annotators whose item
it matches, who decided, when, a note) and an audit event naming the supervisor, in the same
transaction. The ``adjudications`` row is the document's place in the queue.

Proposals come from the pure rules of annotator.agreement.consensus with the project's
settings (``projects.adjudication``: min_agree, matching). Ties are never written: they
stay open for a person.

Supervisors and admins (and the command line's SYSTEM) only: annotators get Forbidden from
every function here. See docs/adjudication.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, Integer, Select, Text, case, cast, func, null, select, union_all
from sqlalchemy.orm import Session, selectinload

from .. import agreement
from ..agreement.attributions import alignment_weight
from ..agreement.consensus import AttributionProposal, attribution_key, attribution_proposals, majority, span_consensus, vote_key
from ..codebook import Relation
from ..db import batch, reads, writes
from ..errors import Conflict, NotFound, ServiceError
from ..models import (
    ADJUDICATION_DEFAULTS,
    ADJUDICATION_STATUSES,
    MATCHINGS,
    Adjudication,
    Assignment,
    Attribution,
    Document,
    GoldProvenance,
    Project,
    Sentence,
    SentenceLabel,
    Span,
    User,
    utcnow,
)
from ..report.relations import relation_roles
from . import annotations, audit
from .idempotency import idempotent
from .assignments import ACTIVE_STATUSES, holders, is_live
from .paging import cut, page_of
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook, sees_project
from .users import GOLD_USERNAME, add_placeholder, not_gold

NOT_STARTED = "not_started"


# -- the gold account and the settings ----------------------------------------------------------


def gold_id(session: Session) -> int | None:
    """The gold account's id, None before the first adjudication."""
    return session.scalar(select(User.id).where(User.username == GOLD_USERNAME))


def _gold_user(session: Session, actor: Actor) -> User:
    """The gold account, created (audited) on first use; call within a write."""
    user = session.scalar(select(User).where(User.username == GOLD_USERNAME))
    return user if user is not None else add_placeholder(session, actor, GOLD_USERNAME, system=True)


def project_settings(project: Project) -> dict:
    return dict(ADJUDICATION_DEFAULTS) | dict(project.adjudication or {})


def _checked_settings(min_agree: Any, matching: Any) -> dict:
    """The rule as sent: min_agree a whole number (or its digits, as a form sends it)."""
    if isinstance(min_agree, str) and min_agree.strip().isascii() and min_agree.strip().isdigit() and len(min_agree.strip()) < 10:
        min_agree = int(min_agree)
    if isinstance(min_agree, bool) or not isinstance(min_agree, int) or min_agree < 1:
        raise ServiceError("min_agree must be a whole number of at least 1", field="min_agree")
    if matching not in MATCHINGS:
        raise ServiceError(f"matching must be one of {', '.join(MATCHINGS)}", field="matching")
    return {"min_agree": min_agree, "matching": matching}


@reads(SUPERVISORS)
def settings(session: Session, actor: Actor, project_id: int) -> dict:
    return project_settings(get_project(session, actor, project_id))


@writes(SUPERVISORS)
def update_settings(session: Session, actor: Actor, project_id: int, data: dict) -> dict:
    """Set the project's proposal rule: ``data`` {"min_agree": m, "matching": "exact"|"overlap"}
    (a missing key keeps its value). Audited on the project."""
    project = get_project(session, actor, project_id)
    before = project_settings(project)
    after = _checked_settings(data.get("min_agree", before["min_agree"]), data.get("matching", before["matching"]))
    if after != before:
        project.adjudication = after
        audit.record(session, actor=actor, action="adjudication_settings", entity=project,
                     before={"adjudication": before}, after={"adjudication": after})
    return after


# -- what a document holds ----------------------------------------------------------------------


def _document(session: Session, actor: Actor, document_id: int) -> Document:
    """The document, if its project is one the actor sees (else, to them, there is none)."""
    document = session.get(Document, document_id)
    if document is None or not sees_project(session, actor, document.project_id):
        raise NotFound("no such document", field="document_id")
    return document


def _annotators(session: Session, document_id: int) -> list[User]:
    """The document's annotators: live assignments, in the order they were made, never gold."""
    return list(session.scalars(
        select(User).join(Assignment, Assignment.user_id == User.id)
        .where(Assignment.document_id == document_id, Assignment.status.in_(ACTIVE_STATUSES), not_gold(User.id))
        .order_by(Assignment.id)
    ))


def _as_unit(attribution: Attribution) -> agreement.Attribution:
    """An attribution row as the agreement functions take it: parts by role, attributes."""
    parts: dict[str, list[tuple[int, int]]] = {}
    for part in attribution.parts:
        parts.setdefault(part.role, []).append((part.span.start, part.span.end))
    return agreement.Attribution(parts=parts, attributes=dict(attribution.attributes or {}))


@dataclass
class _DocumentRows:
    """Everyone's rows on one document, by user id."""

    labels: dict[int, dict[str, dict[int, Any]]] = field(default_factory=dict)  # sentence -> layer -> user -> value
    label_rows: dict[int, list[SentenceLabel]] = field(default_factory=dict)
    spans: dict[int, list[Span]] = field(default_factory=dict)
    attributions: dict[int, list[Attribution]] = field(default_factory=dict)


def _document_rows(session: Session, document_id: int, user_ids: list[int]) -> _DocumentRows:
    work = _DocumentRows()
    for row in session.scalars(
        select(SentenceLabel).join(Sentence, Sentence.id == SentenceLabel.sentence_id)
        .where(Sentence.document_id == document_id, SentenceLabel.user_id.in_(user_ids))
        .order_by(SentenceLabel.id)
    ):
        work.label_rows.setdefault(row.user_id, []).append(row)
        work.labels.setdefault(row.sentence_id, {}).setdefault(row.layer, {})[row.user_id] = row.value
    for span in session.scalars(
        select(Span).where(Span.document_id == document_id, Span.user_id.in_(user_ids)).order_by(Span.start, Span.end, Span.id)
    ):
        work.spans.setdefault(span.user_id, []).append(span)
    for attribution in session.scalars(
        select(Attribution).where(Attribution.document_id == document_id, Attribution.user_id.in_(user_ids))
        .order_by(Attribution.id).options(selectinload(Attribution.parts))
    ):
        work.attributions.setdefault(attribution.user_id, []).append(attribution)
    return work


# -- the proposal ---------------------------------------------------------------------------------


def _span_attributes(spans: list[Span]) -> tuple[dict, list[str]]:
    """A proposed span's attributes: per attribute, the majority of the matching spans' values;
    tied attributes are left out (the codebook's default fills them) and named as open."""
    names = sorted({name for span in spans for name in (span.attributes or {})})
    chosen, open_names = {}, []
    for name in names:
        value, _, tie = majority({i: (span.attributes or {}).get(name) for i, span in enumerate(spans)}, 1)
        if tie:
            open_names.append(name)
        elif value is not None:
            chosen[name] = value
    return chosen, open_names


def proposal(codebook, document: Document, work: _DocumentRows, annotator_ids: list[int], gold: int | None,
             rule: dict) -> dict:
    """The proposed gold of a document from the annotators' rows in ``work``: labels by
    majority, spans by agreement of at least min_agree annotators, attributions per aligned
    group, part by part and attribute by attribute (docs/adjudication.md). Each item says
    whether gold (the rows of user ``gold`` in ``work``) already holds exactly it
    (``in_gold``); ties are listed (an attribution's inside its item), never proposed."""
    min_agree, matching = rule["min_agree"], rule["matching"]
    gold_labels = {(sentence, layer): values.get(gold) for sentence, layers in work.labels.items()
                   for layer, values in layers.items()}
    labels, ties = [], []
    for sentence in document.sentences:
        layers = work.labels.get(sentence.id, {})
        for layer in codebook.choice_layers:
            values = {u: v for u, v in layers.get(layer.name, {}).items() if u in annotator_ids}
            value, agreed, tie = majority(values, min_agree)
            if tie:
                ties.append({"sentence_id": sentence.id, "layer": layer.name,
                             "values": {str(u): v for u, v in values.items() if v is not None and v != []}})
            elif value is not None:
                held = gold_labels.get((sentence.id, layer.name))
                labels.append({"sentence_id": sentence.id, "layer": layer.name, "value": value, "agreed": agreed,
                               "in_gold": held is not None and vote_key(held) == vote_key(value)})
    gold_spans = {(s.layer, s.label, s.start, s.end) for s in work.spans.get(gold, [])}
    spans, span_ties = [], []
    for layer in codebook.span_layers:
        mine = {u: [s for s in work.spans.get(u, []) if s.layer == layer.name] for u in annotator_ids}
        result = span_consensus({u: [(s.start, s.end, s.label) for s in rows] for u, rows in mine.items()},
                                min_agree, matching)
        for (start, end, label), agreed in result.proposed:
            matching_spans = [s for u in agreed for s in mine[u] if (s.start, s.end, s.label) == (start, end, label)]
            attributes, open_attributes = _span_attributes(matching_spans)
            spans.append({"layer": layer.name, "label": label, "start": start, "end": end,
                          "text": document.text[start:end], "attributes": attributes,
                          "open_attributes": open_attributes, "agreed": agreed,
                          "in_gold": (layer.name, label, start, end) in gold_spans})
        for tie in result.ties:
            span_ties.append({"layer": layer.name, "annotators": tie.annotators,
                              "candidates": [{"label": label, "start": start, "end": end} for start, end, label in tie.candidates]})
    gold_units = {attribution_key(_as_unit(a)) for a in work.attributions.get(gold, [])}
    attributions = []
    for relation in codebook.relations:
        rows = {u: [a for a in work.attributions.get(u, []) if a.relation == relation.name] for u in annotator_ids}
        units = {u: [_as_unit(a) for a in mine] for u, mine in rows.items()}
        for proposed in attribution_proposals(
            units, min_agree, matching, roles=[role.name for role in relation.roles],
            required_roles=[role.name for role in relation.roles if role.required],
            required_attributes=[attribute.name for attribute in relation.attributes if attribute.required],
            aligning=relation_roles(relation)["aligning"],
        ):
            item = _attribution_item(document, relation, proposed, rows, f"g{len(attributions) + 1}")
            attributions.append(item | {"in_gold": attribution_key(proposed.unit()) in gold_units})
    return {"labels": labels, "ties": ties, "spans": spans, "span_ties": span_ties,
            "attributions": attributions, "attribution_ties": [], "settings": dict(rule)}


def _attribution_item(document: Document, relation: Relation, proposed: AttributionProposal, rows: dict[int, list[Attribution]],
                      group: str) -> dict:
    """A proposed attribution as the adjudication page takes it (docs/adjudication.md)."""
    labels_of = {role.name: role.label for role in relation.roles}
    return {
        "relation": relation.name, "layer": relation.layer, "group": group,
        "members": {str(u): rows[u][index].id for u, index in proposed.members.items()},
        "agreed": proposed.agreed,
        "parts": [{"role": part.role, "label": labels_of.get(part.role), "start": part.start, "end": part.end,
                   "text": document.text[part.start:part.end], "agreed": part.agreed} for part in proposed.parts],
        "open_parts": [{"role": part.role, "label": labels_of.get(part.role),
                        "candidates": [{"start": start, "end": end, "text": document.text[start:end], "annotators": who}
                                       for start, end, who in part.candidates]} for part in proposed.open_parts],
        "attributes": dict(proposed.attributes),
        "attribute_agreed": dict(proposed.attribute_agreed),
        "open_attributes": [{"name": attribute.name,
                             "candidates": [{"value": value, "annotators": who} for value, who in attribute.candidates]}
                            for attribute in proposed.open_attributes],
        "complete": proposed.complete,
    }


# -- the queue ------------------------------------------------------------------------------------


def _statuses(session: Session, document_ids) -> dict[int, Adjudication]:
    return {row.document_id: row for row in session.scalars(select(Adjudication).where(Adjudication.document_id.in_(document_ids)))}


def _live_counts(session: Session, in_project) -> dict[int, int]:
    return dict(session.execute(
        select(Assignment.document_id, func.count(Assignment.id))
        .where(Assignment.document_id.in_(in_project), Assignment.status.in_(ACTIVE_STATUSES), not_gold(Assignment.user_id))
        .group_by(Assignment.document_id)
    ).all())


def _disagreement(project_id: int, annotator_ids: list[int]) -> Select:
    """Per document (``document_id``): how many of its sentences are ``comparable`` and on how many
    of those annotators are ``differing``. A sentence is comparable when at least two annotators
    labelled it or marked a span starting in it; they differ when their choice-layer values or
    their spans there differ, that is when some value or span there is not held by every one of
    them. Only the work of ``annotator_ids`` (never gold) under live assignments counts, found
    from their own rows (see assignments.is_live). Values are compared as stored (JSON text;
    multiple choices are stored sorted)."""
    in_project = Document.project_id == project_id
    value = cast(SentenceLabel.value, Text)
    no_offset = null().cast(Integer)
    items = union_all(  # what each annotator holds on each sentence: (layer, value) and (layer, label, start, end)
        select(SentenceLabel.sentence_id, SentenceLabel.user_id, SentenceLabel.layer, value.label("value"),
               no_offset.label("start"), no_offset.label("end"))
        .join(Sentence, Sentence.id == SentenceLabel.sentence_id).join(Document, Document.id == Sentence.document_id)
        .where(SentenceLabel.user_id.in_(annotator_ids), in_project, SentenceLabel.value.is_not(None), value != "[]",
               is_live(SentenceLabel.user_id, Sentence.document_id)),
        select(Span.sentence_id, Span.user_id, Span.layer, Span.label, Span.start, Span.end)
        .join(Document, Document.id == Span.document_id)
        .where(Span.user_id.in_(annotator_ids), in_project, is_live(Span.user_id, Span.document_id)),
    ).cte("items")
    per_item = (  # how many annotators hold each item of a sentence
        select(items.c.sentence_id, func.count(func.distinct(items.c.user_id)).label("holders"))
        .group_by(items.c.sentence_id, items.c.layer, items.c.value, items.c.start, items.c.end)
        .subquery()
    )
    signers = (  # how many annotators left something on a sentence, where at least two did
        select(items.c.sentence_id, func.count(func.distinct(items.c.user_id)).label("signers"))
        .group_by(items.c.sentence_id)
        .having(func.count(func.distinct(items.c.user_id)) >= 2)
        .subquery()
    )
    sentences = (
        select(signers.c.sentence_id, case((func.min(per_item.c.holders) < signers.c.signers, 1), else_=0).label("differs"))
        .join(per_item, per_item.c.sentence_id == signers.c.sentence_id)
        .group_by(signers.c.sentence_id, signers.c.signers)
        .subquery()
    )
    return (
        select(Sentence.document_id, func.count().label("comparable"), func.sum(sentences.c.differs).label("differing"))
        .join(sentences, sentences.c.sentence_id == Sentence.id)
        .group_by(Sentence.document_id)
    )


def _counts(statuses: list[str]) -> dict:
    counts = {status: statuses.count(status) for status in (NOT_STARTED, "in_progress", "adjudicated")}
    return counts | {"total": len(statuses)}


QUEUE_PAGE_SIZE = 100  # documents a page of the adjudication queue lists


@reads(SUPERVISORS)
def queue(session: Session, actor: Actor, project_id: int, page: int = 1) -> dict:
    """A page of the project's documents for adjudication, lowest agreement first (the share of
    differing sentences, see _disagreement; documents with nothing comparable last), then by id,
    with their status and annotators; ``counts`` over all the documents."""
    project = get_project(session, actor, project_id)
    people = session.scalars(holders(project.id, ACTIVE_STATUSES).with_only_columns(User.id)).all()
    shares = _disagreement(project.id, people).subquery()
    # Ordered by ids alone (the documents' index), then the page's titles and statuses.
    rows = session.execute(cut(
        select(Document.id, shares.c.comparable, shares.c.differing)
        .outerjoin(shares, shares.c.document_id == Document.id)
        .where(Document.project_id == project.id)
        .order_by(shares.c.comparable.is_(None), (cast(shares.c.differing, Float) / shares.c.comparable).desc(), Document.id),
        page, QUEUE_PAGE_SIZE,
    )).all()
    ids = [row.id for row in rows]
    titles = dict(session.execute(select(Document.id, Document.title).where(Document.id.in_(ids))).all())
    statuses = _statuses(session, ids)
    annotators = _live_counts(session, ids)
    documents = [
        {"document": row.id, "title": titles[row.id],
         "status": statuses[row.id].status if row.id in statuses else NOT_STARTED,
         "disagreement": row.differing / row.comparable if row.comparable else None, "annotators": annotators.get(row.id, 0)}
        for row in rows
    ]
    started = dict(session.execute(
        select(Adjudication.status, func.count()).join(Document, Document.id == Adjudication.document_id)
        .where(Document.project_id == project.id).group_by(Adjudication.status)
    ).all())
    total = session.scalar(select(func.count(Document.id)).where(Document.project_id == project.id))
    counts = {NOT_STARTED: total - sum(started.values())} | {status: started.get(status, 0) for status in ADJUDICATION_STATUSES}
    return {"project": {"id": project.id, "name": project.name}, "settings": project_settings(project),
            "documents": page_of(documents, page, QUEUE_PAGE_SIZE, total), "counts": counts | {"total": total}}


@reads(SUPERVISORS)
def status(session: Session, actor: Actor, project_id: int) -> dict:
    """Counts by adjudication status, and per document its status, annotators and how many
    gold labels, spans and attributions it has (for `annotator gold status`)."""
    project = get_project(session, actor, project_id)
    in_project = select(Document.id).where(Document.project_id == project.id)
    statuses = _statuses(session, in_project)
    annotators = _live_counts(session, in_project)
    gold = gold_id(session)
    labels = dict(session.execute(
        select(Sentence.document_id, func.count(SentenceLabel.id)).join(Sentence, Sentence.id == SentenceLabel.sentence_id)
        .where(SentenceLabel.user_id == gold, Sentence.document_id.in_(in_project), SentenceLabel.value.is_not(None))
        .group_by(Sentence.document_id)
    ).all())
    spans = dict(session.execute(
        select(Span.document_id, func.count(Span.id)).where(Span.user_id == gold, Span.document_id.in_(in_project))
        .group_by(Span.document_id)
    ).all())
    attributions = dict(session.execute(
        select(Attribution.document_id, func.count(Attribution.id))
        .where(Attribution.user_id == gold, Attribution.document_id.in_(in_project)).group_by(Attribution.document_id)
    ).all())
    rows = []
    for d, title in session.execute(select(Document.id, Document.title).where(Document.project_id == project.id).order_by(Document.id)):
        row = statuses.get(d)
        rows.append({"document": d, "title": title, "status": row.status if row else NOT_STARTED,
                     "annotators": annotators.get(d, 0),
                     "gold": {"labels": labels.get(d, 0), "spans": spans.get(d, 0), "attributions": attributions.get(d, 0)}})
    return {"project": {"id": project.id, "name": project.name}, "settings": project_settings(project),
            "documents": rows, "counts": _counts([row["status"] for row in rows])}


# -- one document ---------------------------------------------------------------------------------


def provenance_json(row: GoldProvenance) -> dict:
    at = row.created_at
    return {"method": row.method, "agreed": list(row.agreed or []), "adjudicator_id": row.adjudicator_id,
            "note": row.note, "detail": row.detail, "at": at.isoformat() if at else None}


def adjudication_json(row: Adjudication | None) -> dict:
    if row is None:
        return {"status": NOT_STARTED, "adjudicator_id": None, "note": None}
    return {"document": row.document_id, "status": row.status, "adjudicator_id": row.adjudicator_id, "note": row.note}


@reads(SUPERVISORS)
def page(session: Session, actor: Actor, document_id: int, *, hide_names: bool = False) -> dict:
    """What the adjudication page shows: the document, its codebook and the language its
    annotators see it in, and :func:`view`."""
    result = view(session, actor, document_id, hide_names=hide_names)
    document = _document(session, actor, document_id)
    return {"document": document, "codebook": project_codebook(document.project),
            "codebook_language": document.project.codebook_language, "view": result}


@reads(SUPERVISORS)
def record_activity(session: Session, actor: Actor, document_id: int) -> None:
    """The adjudication page reports active time as the annotation page does; adjudication
    time is not recorded (only who may adjudicate the document is checked)."""
    _document(session, actor, document_id)


@reads(SUPERVISORS)
def view(session: Session, actor: Actor, document_id: int, *, hide_names: bool = False) -> dict:
    """Everything the adjudication page shows of a document: its sentences, each annotator's
    labels, spans and attributions, the proposal, the gold so far and its provenance.
    Dict keys that are ids (sentence, annotator) are strings, as in JSON."""
    document = _document(session, actor, document_id)
    codebook = project_codebook(document.project)
    people = _annotators(session, document.id)
    ids = [user.id for user in people]
    gold = session.scalar(select(User).where(User.username == GOLD_USERNAME))
    work = _document_rows(session, document.id, ids + ([gold.id] if gold else []))
    row = session.scalar(select(Adjudication).where(Adjudication.document_id == document.id))
    gold_state = {"status": None, "spans": [], "labels": [], "attributions": []}
    if gold is not None and _gold_assignment(session, gold, document.id) is not None:
        gold_state = annotations.annotation_state(session, gold, document.id)
    provenance = {}
    entity_ids = {
        "span": [s["id"] for s in gold_state["spans"]],
        "sentence_label": [s["id"] for s in gold_state["labels"]],
        "attribution": [a["id"] for a in gold_state["attributions"]],
    }
    for kind, wanted in entity_ids.items():
        if wanted:
            for p in session.scalars(select(GoldProvenance).where(GoldProvenance.entity_type == kind, GoldProvenance.entity_id.in_(wanted))):
                provenance[f"{kind}:{p.entity_id}"] = provenance_json(p)
    return {
        "document": {"id": document.id, "title": document.title, "text": document.text,
                     "sentences": [{"id": s.id, "position": s.position, "start": s.start, "end": s.end} for s in document.sentences]},
        "project": {"id": document.project_id, "name": document.project.name},
        "annotators": [{"id": user.id, "name": f"Annotator {n}" if hide_names else user.username}
                       for n, user in enumerate(people, start=1)],
        "labels": {str(sentence): {layer: {str(u): v for u, v in values.items() if u in ids}
                                   for layer, values in layers.items()}
                   for sentence, layers in work.labels.items()},
        "spans": {str(u): [annotations.span_json(s) for s in work.spans.get(u, [])] for u in ids},
        "attributions": {str(u): [annotations.attribution_json(a) for a in work.attributions.get(u, [])] for u in ids},
        "proposal": proposal(codebook, document, work, ids, gold.id if gold else None, project_settings(document.project)),
        "gold": gold_state,
        "provenance": provenance,
        "status": adjudication_json(row)["status"],
        "adjudication": adjudication_json(row),
    }


def _gold_assignment(session: Session, gold: User, document_id: int) -> Assignment | None:
    return session.scalar(select(Assignment).where(Assignment.user_id == gold.id, Assignment.document_id == document_id))


def _start(session: Session, actor: Actor, document: Document) -> tuple[User, Adjudication]:
    gold = _gold_user(session, actor)
    assignment = _gold_assignment(session, gold, document.id)
    if assignment is None:
        assignment = Assignment(user_id=gold.id, document_id=document.id, status="in_progress")
        session.add(assignment)
        audit.record(session, actor=actor, action="assign", entity=assignment,
                     after={"user": gold.username, "document_id": document.id, "status": assignment.status})
    row = session.scalar(select(Adjudication).where(Adjudication.document_id == document.id))
    if row is None:
        row = Adjudication(document_id=document.id, status="in_progress", adjudicator_id=actor.id if actor else None)
        session.add(row)
        audit.record(session, actor=actor, action="start", entity=row, after=adjudication_json(row))
    return gold, row


@writes(SUPERVISORS)
def start(session: Session, actor: Actor, document_id: int) -> dict:
    """Open the document for adjudication (idempotent): the gold account's assignment and the
    queue row. A finished document stays finished (reopen it to change its gold)."""
    _, row = _start(session, actor, _document(session, actor, document_id))
    return adjudication_json(row)


def _in_progress(session: Session, document: Document) -> None:
    row = session.scalar(select(Adjudication).where(Adjudication.document_id == document.id))
    if row is None:
        raise Conflict("adjudication of this document has not started", field="document_id")
    if row.status != "in_progress":
        raise Conflict("this document is adjudicated; reopen it to change its gold", field="document_id")


@writes(SUPERVISORS)
def apply_proposal(session: Session, actor: Actor, document_id: int) -> dict:
    """Start the document if needed and write every proposed item gold does not hold yet
    (method "auto", agreed as proposed): a proposed attribution whole, its decided parts linked
    and its decided attributes set (docs/adjudication.md). Ties are left open. Returns what
    was written."""
    document = _document(session, actor, document_id)
    return _apply(session, actor, document, project_settings(document.project))


def _apply(session: Session, actor: Actor, document: Document, rule: dict) -> dict:
    gold, row = _start(session, actor, document)
    if row.status != "in_progress":
        raise Conflict("this document is adjudicated; reopen it to change its gold", field="document_id")
    codebook = project_codebook(document.project)
    ids = [user.id for user in _annotators(session, document.id)]
    work = _document_rows(session, document.id, [*ids, gold.id])
    proposed = proposal(codebook, document, work, ids, gold.id, rule)
    written = {"labels": 0, "spans": 0, "attributions": 0}
    existing_labels = {(r.sentence_id, r.layer): r for r in work.label_rows.get(gold.id, [])}
    gold_spans = {(s.layer, s.label, s.start, s.end): s.id for s in work.spans.get(gold.id, [])}
    for item in proposed["labels"]:
        current = existing_labels.get((item["sentence_id"], item["layer"]))
        if current is not None and current.value is not None:
            continue  # gold has a value (the proposal's, or a person's): never overwritten
        saved = annotations.set_sentence_label(
            session, gold, item["sentence_id"], item["layer"],
            {"value": item["value"], "version": current.version if current else None})
        _set_provenance(session, actor, "sentence_label", saved["id"], "auto", item["agreed"], None)
        written["labels"] += 1
    for item in proposed["spans"]:
        if item["in_gold"]:
            continue
        saved = annotations.create_span(session, gold, document.id, {key: item[key] for key in ("layer", "label", "start", "end", "text", "attributes")})
        gold_spans[(item["layer"], item["label"], item["start"], item["end"])] = saved["id"]
        _set_provenance(session, actor, "span", saved["id"], "auto", item["agreed"], None)
        written["spans"] += 1
    held = [(a.relation, _as_unit(a)) for a in work.attributions.get(gold.id, [])]
    for item in proposed["attributions"]:
        unit = _item_unit(item)
        aligning = relation_roles(codebook.relation(item["relation"]))["aligning"]
        if item["in_gold"] or not any(unit.spans(role) for role in aligning) or any(
                relation == item["relation"] and alignment_weight(unit, other, aligning) > 0 for relation, other in held):
            continue  # in gold already; nothing decided to align it by; or gold has one there: a person's call
        parts = []
        for part in item["parts"]:
            key = (item["layer"], part["label"], part["start"], part["end"])
            if key not in gold_spans:
                saved = annotations.create_span(session, gold, document.id, {
                    "layer": item["layer"], "label": part["label"], "start": part["start"], "end": part["end"],
                    "text": part["text"]})
                gold_spans[key] = saved["id"]
                _set_provenance(session, actor, "span", saved["id"], "auto", part["agreed"], None)
                written["spans"] += 1
            parts.append({"span_id": gold_spans[key], "role": part["role"]})
        saved = annotations.create_attribution(session, gold, document.id, {
            "relation": item["relation"], "attributes": item["attributes"], "parts": parts})
        _set_provenance(session, actor, "attribution", saved["id"], "auto", item["agreed"], None, _detail(item))
        held.append((item["relation"], unit))
        written["attributions"] += 1
    open_items = len(proposed["ties"]) + len(proposed["span_ties"]) + sum(not item["complete"] for item in proposed["attributions"])
    return written | {"ties": open_items}


def _item_unit(item: dict) -> agreement.Attribution:
    """A proposed attribution's decided parts as the agreement functions take them."""
    parts: dict[str, list[tuple[int, int]]] = {}
    for part in item["parts"]:
        parts.setdefault(part["role"], []).append((part["start"], part["end"]))
    return agreement.Attribution(parts=parts, attributes=item["attributes"])


def _detail(item: dict) -> dict:
    """A pre-filled attribution's provenance detail: who agreed on each part and attribute, and
    what was left open (candidates without their text: the document holds it)."""
    return {
        "parts": [{key: part[key] for key in ("role", "start", "end", "agreed")} for part in item["parts"]],
        "attributes": item["attribute_agreed"],
        "open_parts": [{"role": part["role"], "candidates": [{key: c[key] for key in ("start", "end", "annotators")}
                                                             for c in part["candidates"]]} for part in item["open_parts"]],
        "open_attributes": item["open_attributes"],
    }


# -- gold written by a person ---------------------------------------------------------------------


def _set_provenance(session: Session, actor: Actor, kind: str, entity_id: int, method: str, agreed: list[int],
            note: str | None, detail: dict | None = None) -> GoldProvenance:
    """Set the item's provenance (its latest decision; ``detail`` only a pre-fill's) and audit
    the change, before and after."""
    row = session.scalar(select(GoldProvenance).where(GoldProvenance.entity_type == kind, GoldProvenance.entity_id == entity_id))
    before = provenance_json(row) if row is not None else None
    if row is None:
        row = GoldProvenance(entity_type=kind, entity_id=entity_id)
        session.add(row)
    row.method, row.agreed, row.detail = method, sorted(agreed), detail
    row.adjudicator_id, row.note, row.created_at = (actor.id if actor else None), note, utcnow()
    session.flush()
    audit.record(session, actor=actor, action="adjudicate", entity=row, before=before,
                 after={"entity_type": kind, "entity_id": entity_id, **provenance_json(row)})
    return row


def _drop_provenance(session: Session, actor: Actor, kind: str, entity_id: int) -> None:
    row = session.scalar(select(GoldProvenance).where(GoldProvenance.entity_type == kind, GoldProvenance.entity_id == entity_id))
    if row is not None:
        audit.record(session, actor=actor, action="delete", entity=row, before=provenance_json(row))
        session.delete(row)


def _note(data: dict) -> str | None:
    return annotations.free_text(data, "note")


def _gold_write(session: Session, actor: Actor, document_id: int) -> tuple[User, Document, list[int]]:
    """Check the actor and that the document is being adjudicated; the gold account, the
    document and its annotators' ids."""
    document = _document(session, actor, document_id)
    _in_progress(session, document)
    return _gold_user(session, actor), document, [user.id for user in _annotators(session, document.id)]


def _method(agreed: list[int], existed: bool) -> str:
    return "accepted" if agreed else ("edited" if existed else "added")


def _span_agreed(session: Session, annotator_ids: list[int], span: dict) -> list[int]:
    return sorted(set(session.scalars(select(Span.user_id).where(
        Span.document_id == select(Span.document_id).where(Span.id == span["id"]).scalar_subquery(),
        Span.user_id.in_(annotator_ids), Span.layer == span["layer"], Span.label == span["label"],
        Span.start == span["start"], Span.end == span["end"],
    ))))


def _attribution_agreed(session: Session, annotator_ids: list[int], attribution_id: int) -> list[int]:
    gold = session.get(Attribution, attribution_id)
    key = attribution_key(_as_unit(gold))
    candidates = session.scalars(
        select(Attribution).where(Attribution.document_id == gold.document_id, Attribution.user_id.in_(annotator_ids),
                                  Attribution.relation == gold.relation).options(selectinload(Attribution.parts))
    )
    return sorted({a.user_id for a in candidates if attribution_key(_as_unit(a)) == key})


def _renew_attribution_provenance(session: Session, actor: Actor, annotator_ids: list[int], changed: list[dict]) -> None:
    """Attributions a span change altered (annotations._fit_roles): their provenance anew."""
    for attribution in changed:
        agreed = _attribution_agreed(session, annotator_ids, attribution["id"])
        _set_provenance(session, actor, "attribution", attribution["id"], _method(agreed, True), agreed, None)


def _sentence_document(session: Session, sentence_id: int) -> int:
    document_id = session.scalar(select(Sentence.document_id).where(Sentence.id == sentence_id))
    if document_id is None:
        raise NotFound("no such sentence", field="sentence_id")
    return document_id


def _owned(session: Session, actor: Actor, model, entity_id: int) -> Any:
    """A gold span or attribution (404 for anyone else's)."""
    row = session.get(model, entity_id)
    if row is None or row.user_id != gold_id(session):
        raise NotFound(f"no such gold {model.__tablename__[:-1]}", field="id")
    return row


def _gold_call(write: Callable[[], dict], record: Callable[[dict], None]) -> dict:
    """Write gold through the annotators' service, then its provenance: one transaction."""
    result = write()
    record(result)
    return result


@writes(SUPERVISORS)
@idempotent
def set_gold_label(session: Session, actor: Actor, sentence_id: int, layer: str, data: dict) -> dict:
    """annotations.set_sentence_label for gold; provenance "accepted" (agreed: the annotators
    who chose this value) or "edited"/"added" when nobody did."""
    gold, document, ids = _gold_write(session, actor, _sentence_document(session, sentence_id))
    annotations.check_sentence_layer(project_codebook(document.project), layer)  # before a query has it
    existed = session.scalar(select(SentenceLabel.id).where(
        SentenceLabel.user_id == gold.id, SentenceLabel.sentence_id == sentence_id, SentenceLabel.layer == layer)) is not None
    note = _note(data)

    def record(saved: dict) -> None:
        value = saved["value"]
        rows = session.execute(select(SentenceLabel.user_id, SentenceLabel.value).where(
            SentenceLabel.sentence_id == sentence_id, SentenceLabel.layer == layer, SentenceLabel.user_id.in_(ids))).all()
        agreed = [u for u, v in rows if value is not None and vote_key(v) == vote_key(value)]
        _set_provenance(session, actor, "sentence_label", saved["id"], _method(agreed, existed), agreed, note)

    return _gold_call(lambda: annotations.set_sentence_label(session, gold, sentence_id, layer, data), record)


@writes(SUPERVISORS)
@idempotent
def create_gold_span(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    gold, _, ids = _gold_write(session, actor, document_id)
    note = _note(data)

    def record(saved: dict) -> None:
        agreed = _span_agreed(session, ids, saved)
        _set_provenance(session, actor, "span", saved["id"], _method(agreed, False), agreed, note)

    return _gold_call(lambda: annotations.create_span(session, gold, document_id, data), record)


@writes(SUPERVISORS)
@idempotent
def update_gold_span(session: Session, actor: Actor, span_id: int, data: dict) -> dict:
    span = _owned(session, actor, Span, span_id)
    gold, _, ids = _gold_write(session, actor, span.document_id)
    note = _note(data)

    def record(saved: dict) -> None:
        agreed = _span_agreed(session, ids, saved)
        _set_provenance(session, actor, "span", saved["id"], _method(agreed, True), agreed, note)
        _renew_attribution_provenance(session, actor, ids, saved["attributions"])

    return _gold_call(lambda: annotations.update_span(session, gold, span_id, data), record)


@writes(SUPERVISORS)
@idempotent
def delete_gold_span(session: Session, actor: Actor, span_id: int, data: dict) -> dict:
    span = _owned(session, actor, Span, span_id)
    gold, _, ids = _gold_write(session, actor, span.document_id)

    def record(result: dict) -> None:
        _drop_provenance(session, actor, "span", span_id)
        _renew_attribution_provenance(session, actor, ids, result["attributions"])

    return _gold_call(lambda: annotations.delete_span(session, gold, span_id, data), record)


@writes(SUPERVISORS)
@idempotent
def create_gold_attribution(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    gold, _, ids = _gold_write(session, actor, document_id)
    note = _note(data)

    def record(saved: dict) -> None:
        agreed = _attribution_agreed(session, ids, saved["id"])
        _set_provenance(session, actor, "attribution", saved["id"], _method(agreed, False), agreed, note)

    return _gold_call(lambda: annotations.create_attribution(session, gold, document_id, data), record)


@writes(SUPERVISORS)
@idempotent
def update_gold_attribution(session: Session, actor: Actor, attribution_id: int, data: dict) -> dict:
    attribution = _owned(session, actor, Attribution, attribution_id)
    gold, _, ids = _gold_write(session, actor, attribution.document_id)
    note = _note(data)

    def record(saved: dict) -> None:
        agreed = _attribution_agreed(session, ids, saved["id"])
        _set_provenance(session, actor, "attribution", saved["id"], _method(agreed, True), agreed, note)

    return _gold_call(lambda: annotations.update_attribution(session, gold, attribution_id, data), record)


@writes(SUPERVISORS)
@idempotent
def delete_gold_attribution(session: Session, actor: Actor, attribution_id: int, data: dict) -> dict:
    attribution = _owned(session, actor, Attribution, attribution_id)
    gold, _, _ = _gold_write(session, actor, attribution.document_id)
    return _gold_call(lambda: annotations.delete_attribution(session, gold, attribution_id, data),
                      lambda _: _drop_provenance(session, actor, "attribution", attribution_id))


# The gold API's batch: the annotators' (annotations._run_changes) with gold's writes.
GOLD_OPERATIONS = {
    "create_span": annotations.Operation(create_gold_span, "span", True),
    "update_span": annotations.Operation(update_gold_span, "span", False),
    "delete_span": annotations.Operation(delete_gold_span, "span", False),
    "set_label": annotations.Operation(set_gold_label, "label", False),
    "create_attribution": annotations.Operation(create_gold_attribution, "attribution", True),
    "update_attribution": annotations.Operation(update_gold_attribution, "attribution", False),
    "delete_attribution": annotations.Operation(delete_gold_attribution, "attribution", False),
}


@writes(SUPERVISORS)
def apply_gold_changes(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    """A batch of changes to a document's gold in one transaction, as annotations._run_changes
    runs the annotators' (each change with its provenance, as its own request would be); on a
    document not being adjudicated, refused whole as its single requests are."""
    _gold_write(session, actor, document_id)
    return annotations._run_changes(session, actor, document_id, data, GOLD_OPERATIONS)


# -- finishing ------------------------------------------------------------------------------------


def _set_status(session: Session, actor: Actor, document_id: int, status: str, note: str | None,
                action: str) -> dict:
    checked_note = annotations.free_text({"note": note}, "note")
    document = _document(session, actor, document_id)
    row = session.scalar(select(Adjudication).where(Adjudication.document_id == document.id))
    if row is None:
        raise Conflict("adjudication of this document has not started", field="document_id")
    wanted_from = "in_progress" if status == "adjudicated" else "adjudicated"
    if row.status != wanted_from:
        raise Conflict(f"this document is {row.status.replace('_', ' ')}", field="document_id")
    before = adjudication_json(row)
    row.status, row.adjudicator_id = status, actor.id if actor else None
    if note is not None:  # else the note stays as it was
        row.note = checked_note
    assignment = _gold_assignment(session, _gold_user(session, actor), document.id)
    assignment.status, assignment.completed_at = ("done", utcnow()) if status == "adjudicated" else ("in_progress", None)
    audit.record(session, actor=actor, action=action, entity=row, before=before, after=adjudication_json(row))
    return adjudication_json(row)


@writes(SUPERVISORS)
def finish(session: Session, actor: Actor, document_id: int, note: str | None = None) -> dict:
    """Mark the document adjudicated: its gold becomes read-only and counts in the scores."""
    return _set_status(session, actor, document_id, "adjudicated", note, "adjudicated")


@writes(SUPERVISORS)
def reopen(session: Session, actor: Actor, document_id: int, note: str | None = None) -> dict:
    """Back to in progress, so its gold can change again (history stays in the audit log)."""
    return _set_status(session, actor, document_id, "in_progress", note, "reopen")


# -- the whole project ----------------------------------------------------------------------------


@batch(SUPERVISORS)
def auto(session: Session, actor: Actor, project_id: int, *, min_agree: int | None = None,
         matching: str | None = None, progress: Callable[[], None] | None = None) -> dict:
    """Pre-fill gold where annotators agree, on every document of the project with at least
    ``min_agree`` annotators that is not adjudicated yet (start + apply_proposal, one
    transaction per document). ``min_agree``/``matching`` override the project's settings for
    this run. ``progress`` is called after each document. Returns the counts."""
    project = get_project(session, actor, project_id)
    saved = project_settings(project)
    rule = _checked_settings(saved["min_agree"] if min_agree is None else min_agree,
                             saved["matching"] if matching is None else matching)
    in_project = select(Document.id).where(Document.project_id == project.id)
    annotators = _live_counts(session, in_project)
    statuses = {d: row.status for d, row in _statuses(session, in_project).items()}
    counts = {"documents": 0, "skipped_few_annotators": 0, "skipped_adjudicated": 0,
              "labels": 0, "spans": 0, "attributions": 0, "ties": 0}
    for document_id in session.scalars(in_project.order_by(Document.id)).all():
        if statuses.get(document_id) == "adjudicated":
            counts["skipped_adjudicated"] += 1
        elif annotators.get(document_id, 0) < rule["min_agree"]:
            counts["skipped_few_annotators"] += 1
        else:
            written = _apply_document(session, actor, document_id, rule)
            counts["documents"] += 1
            for key, value in written.items():
                counts[key] += value
        if progress is not None:
            progress()
    return counts | {"settings": rule}


@writes(SUPERVISORS)
def _apply_document(session: Session, actor: Actor, document_id: int, rule: dict) -> dict:
    return _apply(session, actor, _document(session, actor, document_id), rule)
