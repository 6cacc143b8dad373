"""Annotations: spans, sentence labels and attributions, each user's own.

Each function checks that the user holds a live assignment to the document (blind
annotation: nobody reads or changes another user's rows through here), validates the payload
against the project's codebook and the document text, enforces optimistic versions, and
appends an audit event. Payloads are the decoded JSON bodies of the API; every problem is a
ServiceError naming the field.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from . import audit
from .assignments import active_assignment, require_live
from .idempotency import checked_key, idempotent, once, request_of
from .permissions import ANYONE, Actor
from .projects import codebook_of, project_codebook
from ..codebook import Codebook
from ..db import insert_or_skip, race_conflict, reads, writes
from ..errors import Conflict, NotFound, ServiceError
from ..models import (
    ID_MAX,
    ORIGINS,
    SPAN_IDENTITY,
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Project,
    Sentence,
    SentenceLabel,
    Span,
    StoredSuggestion,
    SuggestionDecision,
    User,
    utcnow,
)

MAX_COMMENT = 2000

# -- payload fields -------------------------------------------------------------------------

_MISSING = object()


def payload_field(data: dict, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
    value = data.get(name, _MISSING)
    if value is _MISSING or value is None:
        if default is _MISSING:
            raise ServiceError(f"{name} is required", field=name)
        return default
    # bool is an int to Python, never to us.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        expected = " or ".join(t.__name__ for t in _as_tuple(kind))
        raise ServiceError(f"{name} must be {expected}, not {type(value).__name__}", field=name)
    return value


def free_text(data: dict, name: str) -> str | None:
    """An optional comment or note: text, stripped, None when blank; at most MAX_COMMENT
    characters, and no NUL (PostgreSQL cannot store one in text)."""
    text = payload_field(data, name, str, default="").strip() or None
    if text is not None and len(text) > MAX_COMMENT:
        raise ServiceError(f"{name} is longer than {MAX_COMMENT} characters", field=name)
    if text is not None and "\x00" in text:
        raise ServiceError(f"{name} must not contain NUL characters", field=name)
    return text


def _as_tuple(kind) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _version(data: dict) -> int:
    return payload_field(data, "version", int)


def _check_version(row, data: dict, serialise) -> None:
    sent = _version(data)
    if sent != row.version:
        raise Conflict(
            f"this item was changed elsewhere (another tab or window): you sent version {sent}, "
            f"the saved one is {row.version}; reload to see it",
            field="version",
            current=serialise(row),
        )


def _first_problem(problems: list[str], field: str) -> None:
    if problems:
        raise ServiceError("; ".join(problems), field=field)


# -- serialisation ----------------------------------------------------------------------------


def span_json(span: Span) -> dict:
    return {
        "id": span.id,
        "sentence_id": span.sentence_id,
        "layer": span.layer,
        "label": span.label,
        "start": span.start,
        "end": span.end,
        "text": span.text,
        "fragments": span.fragments,
        "comment": span.comment,
        "attributes": span.attributes,
        "entity_id": span.entity_id,
        "origin": span.origin,
        "suggestion_id": span.suggestion_id,
        "version": span.version,
    }


def label_json(row: SentenceLabel) -> dict:
    return {
        "id": row.id,
        "sentence_id": row.sentence_id,
        "layer": row.layer,
        "value": row.value,
        "unsure": row.unsure,
        "comment": row.comment,
        "version": row.version,
    }


def attribution_json(attribution: Attribution, codebook: Codebook | None = None) -> dict:
    body = {
        "id": attribution.id,
        "relation": attribution.relation,
        "attributes": attribution.attributes,
        "parts": sorted(
            ({"span_id": part.span_id, "role": part.role} for part in attribution.parts),
            key=lambda part: (part["role"], part["span_id"]),
        ),
        "origin": attribution.origin,
        "suggestion_id": attribution.suggestion_id,
        "version": attribution.version,
    }
    if codebook is not None:
        body["missing"] = _missing_roles(codebook, attribution)
    return body


def _missing_roles(codebook: Codebook, attribution: Attribution) -> list[str]:
    present = {part.role for part in attribution.parts}
    relation = codebook.relation(attribution.relation)
    return [role.name for role in relation.roles if role.required and role.name not in present]


# -- reading ----------------------------------------------------------------------------------


@reads(ANYONE)
def annotation_page(session: Session, actor: Actor, document_id: int) -> dict:
    """What the annotation page shows: the document (with its sentences), its codebook and the
    language annotators see it in (the project's codebook_language), the actor's saved work on
    it, and the suggestions it offers the actor (none in the control condition)."""
    from . import suggestions  # it imports adjudication, which imports this module
    state = annotation_state(session, actor, document_id)
    document = active_assignment(session, actor, document_id, for_write=False).document
    return {"document": document, "codebook": project_codebook(document.project),
            "codebook_language": document.project.codebook_language, "state": state,
            "suggestions": suggestions.for_page(session, actor, document_id)}


@reads(ANYONE)
def guidelines(session: Session, actor: Actor, document_id: int) -> dict:
    """The codebook of a document the actor is assigned, the language annotators see it in,
    and the document."""
    document = active_assignment(session, actor, document_id, for_write=False).document
    return {"document": document, "codebook": project_codebook(document.project),
            "codebook_language": document.project.codebook_language}


@reads(ANYONE)
def annotation_state(session: Session, actor: Actor, document_id: int) -> dict:
    """Everything the actor has saved on the document (and nothing of anyone else's), with the
    source entities its spans link to."""
    from . import entities  # it imports this module
    assignment = active_assignment(session, actor, document_id, for_write=False)
    codebook = project_codebook(assignment.document.project)
    spans = session.scalars(
        select(Span).where(Span.document_id == document_id, Span.user_id == actor.id).order_by(Span.start, Span.id)
    )
    labels = session.scalars(
        select(SentenceLabel)
        .join(Sentence)
        .where(Sentence.document_id == document_id, SentenceLabel.user_id == actor.id)
        .order_by(SentenceLabel.id)
    )
    attributions = session.scalars(
        select(Attribution)
        .where(Attribution.document_id == document_id, Attribution.user_id == actor.id)
        .order_by(Attribution.id)
        .options(selectinload(Attribution.parts))  # one query for all parts, not one per attribution
    )
    spans = [span_json(span) for span in spans]
    return {
        "status": assignment.status,
        "spans": spans,
        "entities": entities.linked_entities(session, (span["entity_id"] for span in spans)),
        "labels": [label_json(row) for row in labels],
        "attributions": [attribution_json(a, codebook) for a in attributions],
    }


def _touch(row) -> None:
    """Always issue an UPDATE, so the version moves on even when only child rows changed."""
    row.updated_at = utcnow()


# -- what a write reads first --------------------------------------------------------------------
# The statements of a save are built once (building a SELECT costs more than SQLite takes to run
# it) and run on the session's connection: the ORM's work per statement was most of a save.


def _connection(session: Session) -> Connection:
    """The write transaction's connection, for Core statements; what the session holds pending
    is flushed first, as the session's own queries would (autoflush)."""
    session.flush()
    return session.connection()


def _expire_loaded(session: Session, model: type, row_id: int) -> None:
    """After a Core UPDATE of a row: the session's copy of it, if it holds one, reloads when next read."""
    loaded = session.identity_map.get(session.identity_key(model, row_id))
    if loaded is not None:
        session.expire(loaded)


class DocumentText(NamedTuple):
    """What the checks of a span read of its document (:func:`checked_extent`)."""

    id: int
    text: str


class Assigned(NamedTuple):
    """The actor's live assignment to a document, as a write reads it (:func:`_assigned`)."""

    assignment_id: int
    status: str
    document: DocumentText
    codebook: Codebook


_ASSIGNED = (
    select(Assignment.id, Assignment.status, Document.text, Document.project_id, Project.codebook_version)
    .join_from(Assignment, Document, Document.id == Assignment.document_id)
    .join(Project, Project.id == Document.project_id)
    .where(Assignment.user_id == bindparam("user_id"), Assignment.document_id == bindparam("document_id"))
)


def _assigned(session: Session, user: User, document_id: int) -> Assigned:
    """The user's live assignment to the document, with the document's text and codebook: one
    statement; refused as :func:`active_assignment` refuses a write."""
    row = _connection(session).execute(_ASSIGNED, {"user_id": user.id, "document_id": document_id}).first()
    require_live(row.status if row is not None else None)
    return Assigned(row.id, row.status, DocumentText(document_id, row.text),
                    codebook_of(session, row.project_id, row.codebook_version))


_START = update(Assignment).where(Assignment.id == bindparam("assignment_id")).values(status="in_progress")


def _started(session: Session, assignment_id: int, status: str) -> None:
    """The first change under an assignment starts it."""
    if status == "assigned":
        _connection(session).execute(_START, {"assignment_id": assignment_id})
        _expire_loaded(session, Assignment, assignment_id)


# -- spans ------------------------------------------------------------------------------------


_SENTENCE_AT = select(Sentence).where(
    Sentence.document_id == bindparam("document_id"), Sentence.start <= bindparam("offset"), Sentence.end > bindparam("offset")
)


def _sentence_at(session: Session, document: Document | DocumentText, offset: int,
                 sentences: Sequence[Sentence] | None) -> Sentence:
    """The document's sentence where ``offset`` is: among ``sentences`` (the document's, in
    order) if given, else looked up."""
    if sentences is None:
        sentence = session.scalar(_SENTENCE_AT, {"document_id": document.id, "offset": offset})
    else:
        index = bisect_right(sentences, offset, key=attrgetter("start")) - 1
        sentence = sentences[index] if index >= 0 and sentences[index].end > offset else None
    if sentence is None:
        raise ServiceError("the span does not start inside a sentence", field="start")
    return sentence


# Unicode's letters, numbers, punctuation and symbols: what a reader sees (not format characters
# such as U+202E or U+200B, nor marks alone).
_VISIBLE_CATEGORIES = frozenset("LNPS")


def checked_extent(
    session: Session, document: Document | DocumentText, codebook: Codebook, layer: str, data: dict,
    *, sentences: Sequence[Sentence] | None = None,
):
    """Validate start, end, text (and sentence_id, if sent); returns (start, end, text, sentence).
    ``sentences``: the document's, in order, when the caller has them (an import checking
    thousands of spans); else the sentence is looked up."""
    start, end, text = payload_field(data, "start", int), payload_field(data, "end", int), payload_field(data, "text", str)
    length = len(document.text)
    if not 0 <= start < length:
        raise ServiceError(f"start must be between 0 and {length - 1}", field="start")
    if not start < end <= length:
        raise ServiceError(f"end must be after start and at most {length}", field="end")
    if document.text[start:end] != text:
        raise ServiceError("text does not match the document at start:end", field="text")
    _check_marked_text(text, "a span")
    sentence = _sentence_at(session, document, start, sentences)
    if end > sentence.end and not codebook.layer(layer).cross_sentence:
        raise ServiceError(f"layer {layer!r} does not allow spans across sentences", field="end")
    sentence_id = payload_field(data, "sentence_id", int, default=sentence.id)
    if sentence_id != sentence.id:
        raise ServiceError("sentence_id is not the sentence of this document where the span starts", field="sentence_id")
    return start, end, text, sentence


def _check_marked_text(text: str, what: str, field: str | None = None) -> None:
    """What a span (or one fragment of it) must mark: something visible, with no whitespace at
    its edges. ``field``: the one every problem names, else start/end/text by the problem."""
    if not text.strip():
        raise ServiceError(f"{what} must not be empty or only whitespace", field=field or "text")
    if text[0].isspace():
        raise ServiceError(f"{what} must not start with whitespace", field=field or "start")
    if text[-1].isspace():
        raise ServiceError(f"{what} must not end with whitespace", field=field or "end")
    if not any(unicodedata.category(char)[0] in _VISIBLE_CATEGORIES for char in text):
        raise ServiceError(f"{what} must hold a visible character (a letter, digit, punctuation or symbol), "
                           "not only invisible ones", field=field or "text")


def checked_fragments(document: Document | DocumentText, data: dict, start: int, end: int,
                      sentence: Sentence) -> list[list[int]] | None:
    """A discontinuous span's fragments, ``data["fragments"]``, checked against the span's
    extent start:end and sentence as :func:`checked_extent` returned them; None (absent or
    null) for a contiguous span. Two or more ``[start, end]`` pairs, in order, apart (a gap
    of at least one character between two), each marking something visible with no
    whitespace at its edges, the first starting at start and the last ending at end, all in
    the one sentence: one span, never several."""
    fragments = data.get("fragments")
    if fragments is None:
        return None
    if not isinstance(fragments, list) or len(fragments) < 2:
        raise ServiceError("fragments must be a list of two or more [start, end] pairs, or null for a "
                           "contiguous span", field="fragments")
    checked: list[list[int]] = []
    for index, fragment in enumerate(fragments):
        where = f"fragments[{index}]"
        if (not isinstance(fragment, list) or len(fragment) != 2
                or not all(isinstance(offset, int) and not isinstance(offset, bool) for offset in fragment)):
            raise ServiceError(f"{where} must be a [start, end] pair of integers", field="fragments")
        fragment_start, fragment_end = fragment
        if not start <= fragment_start < fragment_end <= end:
            raise ServiceError(f"{where} must lie inside the span's extent {start}:{end}, its end after "
                               "its start", field="fragments")
        if checked and fragment_start <= checked[-1][1]:
            raise ServiceError(f"{where} must start after the previous fragment's end, with a gap between "
                               "them (fragments in order, neither overlapping nor touching)", field="fragments")
        _check_marked_text(document.text[fragment_start:fragment_end], where, "fragments")
        checked.append([fragment_start, fragment_end])
    if checked[0][0] != start or checked[-1][1] != end:
        raise ServiceError("the first fragment must start at start and the last end at end", field="fragments")
    if end > sentence.end:
        raise ServiceError("a discontinuous span's fragments must all lie in one sentence", field="fragments")
    return checked


# One of a user's spans of a layer and label on a document: at exactly start:end; around it.
_SAME_SPAN = select(Span.id).where(
    Span.document_id == bindparam("document_id"), Span.user_id == bindparam("user_id"), Span.layer == bindparam("layer"),
    Span.label == bindparam("label"), Span.start == bindparam("start"), Span.end == bindparam("end"),
).limit(1)
_SPAN_AROUND = select(Span.id).where(
    Span.document_id == bindparam("document_id"), Span.user_id == bindparam("user_id"), Span.layer == bindparam("layer"),
    Span.label == bindparam("label"), Span.start <= bindparam("start"), Span.end >= bindparam("end"),
).limit(1)
# The database keeps one span per SPAN_IDENTITY: an identical span saved at the same moment by
# another transaction is not inserted twice (nothing is returned).
_INSERT_SPAN = {dialect: insert_or_skip(dialect, Span, SPAN_IDENTITY).returning(Span.id) for dialect in ("sqlite", "postgresql")}
DUPLICATE_SPAN = "you already marked exactly this text with this label"


def _prefilled(
    session: Session, user: User, document: Document | DocumentText, codebook: Codebook,
    layer: str, label: str, start: int, end: int, attributes: dict,
) -> dict:
    """Attributes as sent, plus the values the codebook starts unsent ones with: a prefill
    when the span lies inside one of the user's spans of the named label (voice=attributed
    inside CONTENT), else the attribute's default."""
    filled = dict(attributes)
    for attribute in codebook.layer(layer).attributes_for(label):
        if filled.get(attribute.name) is not None:
            continue
        rule = attribute.prefill
        if rule is not None and _connection(session).execute(_SPAN_AROUND, {
            "document_id": document.id, "user_id": user.id, "layer": rule.inside_layer, "label": rule.inside_label,
            "start": start, "end": end,
        }).first() is not None:
            filled[attribute.name] = rule.value
        elif attribute.default is not None:
            filled[attribute.name] = attribute.default
    return filled


# -- provenance: typed, or accepted from a suggestion (docs/suggestions.md, "In the page") -----------


def _shown_suggestion(session: Session, actor: Actor, document_id: int, suggestion_id: int) -> StoredSuggestion:
    from . import suggestions  # it imports adjudication, which imports this module
    return suggestions.shown_suggestion(session, actor.id, document_id, suggestion_id)


def _provenance(session: Session, actor: Actor, document_id: int, data: dict,
                origin_of: Callable[[StoredSuggestion], str]) -> tuple[dict, StoredSuggestion | None]:
    """The origin columns of a new span or attribution from ``suggestion_id`` and ``origin`` in
    ``data``: "typed" without a suggestion; with one (a suggestion the actor's page shows),
    ``origin_of(suggestion)``, and the suggester, version and score copied. A sent ``origin``
    must be the one the server finds."""
    suggestion_id = payload_field(data, "suggestion_id", int, default=None)
    sent = payload_field(data, "origin", str, default=None)
    suggestion = None if suggestion_id is None else _shown_suggestion(session, actor, document_id, suggestion_id)
    origin = "typed" if suggestion is None else origin_of(suggestion)
    if sent is not None and sent != origin:
        raise ServiceError(f"origin is {origin!r} here, not {sent!r}" if sent in ORIGINS
                           else f"origin must be one of {', '.join(ORIGINS)}", field="origin")
    return {"origin": origin, "suggestion_id": suggestion_id,
            "suggester": suggestion and suggestion.suggester, "suggester_version": suggestion and suggestion.version,
            "suggestion_score": suggestion and suggestion.score}, suggestion


# The audit event's action for each decision on a suggestion.
DECISION_ACTIONS = {"accepted": "accept", "rejected": "reject"}


def decision_json(row: SuggestionDecision) -> dict:
    return {"id": row.id, "suggestion_id": row.suggestion_id, "document_id": row.document_id,
            "suggester": row.suggester, "version": row.version, "layer": row.layer, "label": row.label,
            "start": row.start, "end": row.end, "score": row.score, "decision": row.decision}


def _decide(session: Session, actor: Actor, suggestion: StoredSuggestion, decision: str) -> dict:
    """Record the actor's decision on the suggestion, replacing an earlier one (a rejected
    suggestion accepted after all); audited ("accept" / "reject")."""
    row = session.scalar(select(SuggestionDecision).where(SuggestionDecision.user_id == actor.id,
                                                          SuggestionDecision.suggestion_id == suggestion.id))
    before = decision_json(row) if row is not None else None
    if row is None:
        row = SuggestionDecision(user_id=actor.id, document_id=suggestion.document_id, suggestion_id=suggestion.id,
                                 suggester=suggestion.suggester, version=suggestion.version, layer=suggestion.layer,
                                 label=suggestion.label, start=suggestion.start, end=suggestion.end,
                                 score=suggestion.score)
        session.add(row)
    row.decision, row.created_at = decision, utcnow()
    session.flush()
    saved = decision_json(row)
    audit.record(session, actor=actor, action=DECISION_ACTIONS[decision], entity=row, before=before, after=saved)
    return saved


def _withdraw_acceptance(session: Session, actor: Actor, span: Span) -> None:
    """A span accepted from a suggestion deleted: the acceptance goes with it (audited), and the
    page offers the suggestion again."""
    row = session.scalar(select(SuggestionDecision).where(
        SuggestionDecision.user_id == actor.id, SuggestionDecision.suggestion_id == span.suggestion_id,
        SuggestionDecision.decision == "accepted"))
    if row is not None:
        audit.record(session, actor=actor, action="delete", entity=row, before=decision_json(row))
        session.delete(row)


@writes(ANYONE)
@idempotent
def reject_suggestion(session: Session, actor: Actor, suggestion_id: int, data: dict) -> dict:
    """The actor rejects a suggestion their page shows: recorded (docs/suggestions.md, "In the
    page"); a suggestion they accepted is rejected only once its span is deleted."""
    suggestion = session.get(StoredSuggestion, suggestion_id) if 0 < suggestion_id <= ID_MAX else None
    if suggestion is None:
        raise NotFound("no such suggestion on this document", field="suggestion_id")
    _assigned(session, actor, suggestion.document_id)
    _shown_suggestion(session, actor, suggestion.document_id, suggestion_id)
    if session.scalar(select(Span.id).where(Span.user_id == actor.id, Span.suggestion_id == suggestion_id).limit(1)):
        raise Conflict("you accepted this suggestion: delete its span to reject it", field="suggestion_id")
    return _decide(session, actor, suggestion, "rejected")


@writes(ANYONE)
@idempotent
def create_span(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    """A new span of the actor's; Core inserts of the span and its audit event. The same span
    saved before (or at the same moment, in another transaction) is a 409."""
    assigned = _assigned(session, actor, document_id)
    codebook, document = assigned.codebook, assigned.document
    layer, label = payload_field(data, "layer", str), payload_field(data, "label", str)
    attributes = payload_field(data, "attributes", dict, default={})
    span_layers = {span_layer.name for span_layer in codebook.span_layers}
    _first_problem(codebook.validate_span(layer, label, attributes), "label" if layer in span_layers else "layer")
    start, end, text, sentence = checked_extent(session, document, codebook, layer, data)
    fragments = checked_fragments(document, data, start, end, sentence)
    extent = {"document_id": document_id, "user_id": actor.id, "layer": layer, "label": label, "start": start, "end": end}

    def as_suggested(suggestion: StoredSuggestion) -> str:  # its layer, label and extent; anything else is an edit
        same = (suggestion.layer, suggestion.label, suggestion.start, suggestion.end, None) == (layer, label, start, end, fragments)
        return "accepted" if same else "accepted_edited"

    provenance, suggestion = _provenance(session, actor, document_id, data, as_suggested)
    from . import entities  # it imports this module
    entity_id = entities.span_entity(session, actor, document_id, codebook, layer, label, data, None)
    span = SimpleNamespace(**extent, sentence_id=sentence.id, text=text, fragments=fragments,
                           comment=free_text(data, "comment"), version=1, **provenance, entity_id=entity_id,
                           attributes=_prefilled(session, actor, document, codebook, layer, label, start, end, attributes))
    connection = _connection(session)
    span.id = connection.execute(_INSERT_SPAN[connection.dialect.name], vars(span)).scalar()
    if span.id is None:
        raise Conflict(DUPLICATE_SPAN, field="start")
    _started(session, assigned.assignment_id, assigned.status)
    saved = span_json(span)
    audit.record_many(session, actor=actor, action="create", entity_type=Span.__tablename__, changes=[(span.id, None, saved)])
    entities.record_link(session, actor, span.id, document_id, None, entity_id)
    if suggestion is not None:
        _decide(session, actor, suggestion, "accepted")
    return saved


def _own_span(session: Session, user: User, span_id: int) -> tuple[Span, Assigned]:
    span = session.get(Span, span_id)
    if span is None or span.user_id != user.id:
        raise NotFound("no such span among yours", field="span_id")
    return span, _assigned(session, user, span.document_id)


@writes(ANYONE)
@idempotent
def update_span(session: Session, actor: Actor, span_id: int, data: dict) -> dict:
    span, assigned = _own_span(session, actor, span_id)
    _check_version(span, data, span_json)
    codebook = assigned.codebook
    before = span_json(span)
    label = payload_field(data, "label", str, default=span.label)
    attributes = payload_field(data, "attributes", dict, default=span.attributes)
    _first_problem(codebook.validate_span(span.layer, label, attributes), "attributes" if label == span.label else "label")
    start, end, text, sentence_id, fragments = span.start, span.end, span.text, span.sentence_id, span.fragments
    if any(key in data for key in ("start", "end", "text", "fragments")):
        # A span made contiguous sends "fragments": null; one moved without them keeps its own.
        extent = {"start": span.start, "end": span.end, "text": span.text, "fragments": span.fragments} | data
        start, end, text, sentence = checked_extent(session, assigned.document, codebook, span.layer, extent)
        fragments = checked_fragments(assigned.document, extent, start, end, sentence)
        sentence_id = sentence.id
    comment = free_text(data, "comment") if "comment" in data else span.comment
    from . import entities  # it imports this module
    entity_id = entities.span_entity(session, actor, span.document_id, codebook, span.layer, label, data, span.entity_id)
    if (label, start, end) != (span.label, span.start, span.end) and _connection(session).execute(_SAME_SPAN, {
        "document_id": span.document_id, "user_id": actor.id, "layer": span.layer, "label": label, "start": start, "end": end,
    }).first() is not None:
        raise Conflict(DUPLICATE_SPAN, field="label" if (start, end) == (span.start, span.end) else "start")
    span.start, span.end, span.text, span.sentence_id = start, end, text, sentence_id
    span.fragments, span.comment = fragments, comment
    span.label, span.attributes, span.entity_id = label, dict(attributes), entity_id
    if span.origin == "accepted" and (label, start, end, fragments) != (before["label"], before["start"], before["end"], before["fragments"]):
        span.origin = "accepted_edited"
    _touch(span)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=span, before=before, after=span_json(span))
    entities.record_link(session, actor, span.id, span.document_id, before["entity_id"], entity_id)
    changed = _fit_roles(session, actor, span, codebook) if label != before["label"] else []
    return span_json(span) | {"attributions": changed}


@writes(ANYONE)
@idempotent
def delete_span(session: Session, actor: Actor, span_id: int, data: dict) -> dict:
    """Remove the span, and its part in any attribution; answers with the changed attributions."""
    span, assigned = _own_span(session, actor, span_id)
    _check_version(span, data, span_json)
    changed = _fit_roles(session, actor, span, assigned.codebook, removing=True)
    audit.record(session, actor=actor, action="delete", entity=span, before=span_json(span))
    from . import entities  # it imports this module
    entities.record_link(session, actor, span.id, span.document_id, span.entity_id, None)
    if span.suggestion_id is not None:
        _withdraw_acceptance(session, actor, span)
    session.delete(span)
    return {"deleted": span_id, "attributions": changed}


def _fit_roles(session: Session, user: User, span: Span, codebook: Codebook, *, removing: bool = False) -> list[dict]:
    """Keep the span's parts in attributions true to its label, in the same transaction.

    After a label change a part takes the role that label plays, when the attribution has
    that role free; otherwise (and when the span is being removed) the part goes. Each
    changed attribution is audited and returned, with its new version.
    """
    changed = []
    for part in session.scalars(select(AttributionPart).where(AttributionPart.span_id == span.id)).all():
        attribution = part.attribution
        relation = codebook.relation(attribution.relation)
        role = None if removing else next((r for r in relation.roles if r.label == span.label), None)
        if role is not None and role.name == part.role:
            continue
        before = attribution_json(attribution)
        taken = any(other.role == role.name for other in attribution.parts if other is not part) if role else True
        if role is not None and (role.multiple or not taken):
            part.role = role.name
        else:
            attribution.parts.remove(part)
        _touch(attribution)
        session.flush()
        audit.record(session, actor=user, action="update", entity=attribution, before=before, after=attribution_json(attribution))
        changed.append(attribution_json(attribution, codebook))
    return changed


# -- sentence labels --------------------------------------------------------------------------


def check_sentence_layer(codebook: Codebook, layer: str) -> None:
    if layer not in {choice_layer.name for choice_layer in codebook.choice_layers}:
        raise ServiceError(f"{layer!r} is not a sentence layer of this codebook", field="layer")


# Everything a label save reads, in one statement: the sentence's document, the actor's
# assignment to it (NULLs when none), the codebook's version and the actor's label (NULLs when none).
_LABEL_SAVE = (
    select(Sentence.document_id, Assignment.id.label("assignment_id"), Assignment.status, Document.project_id,
           Project.codebook_version, SentenceLabel.id, SentenceLabel.sentence_id, SentenceLabel.layer,
           SentenceLabel.value, SentenceLabel.unsure, SentenceLabel.comment, SentenceLabel.version)
    .join_from(Sentence, Document, Document.id == Sentence.document_id)
    .join(Project, Project.id == Document.project_id)
    .outerjoin(Assignment, (Assignment.document_id == Sentence.document_id) & (Assignment.user_id == bindparam("user_id")))
    .outerjoin(SentenceLabel, (SentenceLabel.sentence_id == Sentence.id) & (SentenceLabel.user_id == bindparam("user_id"))
               & (SentenceLabel.layer == bindparam("layer")))
    .where(Sentence.id == bindparam("sentence_id"))
)
_INSERT_LABEL = insert(SentenceLabel).returning(SentenceLabel.id)
_UPDATE_LABEL = (
    update(SentenceLabel)
    .where(SentenceLabel.id == bindparam("label_id"), SentenceLabel.version == bindparam("seen_version"))
    .values(value=bindparam("new_value", type_=SentenceLabel.__table__.c.value.type), unsure=bindparam("new_unsure"),
            comment=bindparam("new_comment"), version=bindparam("new_version"))
)


@writes(ANYONE)
@idempotent
def set_sentence_label(session: Session, actor: Actor, sentence_id: int, layer: str, data: dict) -> dict:
    """Create or update the actor's value (and unsure flag, comment) for one sentence and layer.

    Creating sends no version; updating sends the version it last saw. One statement reads
    what the checks need, one writes the label (its version checked in the UPDATE), one the
    audit event.
    """
    found = _connection(session).execute(_LABEL_SAVE, {"sentence_id": sentence_id, "user_id": actor.id, "layer": layer}).first()
    if found is None:
        raise NotFound("no such sentence", field="sentence_id")
    require_live(found.status)
    codebook = codebook_of(session, found.project_id, found.codebook_version)
    check_sentence_layer(codebook, layer)
    value = data.get("value")
    if value is not None:
        _first_problem(codebook.validate_choice(layer, value), "value")
    unsure = payload_field(data, "unsure", bool, default=False)
    comment = free_text(data, "comment")
    row = SimpleNamespace(id=found.id, sentence_id=sentence_id, layer=layer, value=sorted(value) if isinstance(value, list) else value,
                          unsure=unsure, comment=comment, version=1)
    if found.id is None:
        if data.get("version") is not None:
            raise Conflict("this label was deleted elsewhere; reload to see it", field="version")
        before = None
        row.id = _connection(session).execute(_INSERT_LABEL, {
            "user_id": actor.id, "sentence_id": sentence_id, "layer": layer, "value": row.value, "unsure": unsure,
            "comment": comment, "version": row.version,
        }).scalar_one()
    else:
        if data.get("version") is None:
            raise Conflict(
                "this sentence was labelled elsewhere (another tab or window); reload to see it",
                field="version",
                current=label_json(found),
            )
        _check_version(found, data, label_json)
        before = label_json(found)
        row.version = found.version + 1
        updated = _connection(session).execute(_UPDATE_LABEL, {
            "label_id": found.id, "seen_version": found.version, "new_value": row.value, "new_unsure": unsure,
            "new_comment": comment, "new_version": row.version,
        })
        if updated.rowcount != 1:  # changed since it was read: as the ORM's version check says
            raise StaleDataError(f"sentence label {found.id} is no longer at version {found.version}")
        _expire_loaded(session, SentenceLabel, found.id)
    _started(session, found.assignment_id, found.status)
    saved = label_json(row)
    audit.record_many(session, actor=actor, action="create" if before is None else "update",
                      entity_type=SentenceLabel.__tablename__, changes=[(row.id, before, saved)])
    return saved


# -- attributions -----------------------------------------------------------------------------


def resolved_parts(session: Session, user: User, document: Document, relation, parts: list,
                   *, spans: Mapping[int, Span] | None = None) -> list[tuple[str, Span]]:
    """``spans``: the spans parts may name, by id, when the caller has them (an import checking
    rows it has not written yet); else they are looked up."""
    resolved: list[tuple[str, Span]] = []
    roles = {role.name: role for role in relation.roles}
    for index, part in enumerate(parts):
        where = f"parts[{index}]"
        if not isinstance(part, dict):
            raise ServiceError(f"{where} must be an object with span_id and role", field="parts")
        role_name = payload_field(part, "role", str)
        span_id = payload_field(part, "span_id", int)
        role = roles.get(role_name)
        if role is None:
            raise ServiceError(f"{where}.role must be one of {', '.join(roles)}", field="parts")
        if spans is not None:
            span = spans.get(span_id)
        else:
            span = session.get(Span, span_id) if 0 < span_id <= ID_MAX else None  # past it no row has the id
        if span is None or span.user_id != user.id or span.document_id != document.id:
            raise ServiceError(f"{where}.span_id is not one of your spans in this document", field="parts")
        if span.layer != relation.layer or span.label != role.label:
            raise ServiceError(f"{where}: a {role_name} must be a {role.label} span, not {span.label}", field="parts")
        resolved.append((role_name, span))
    for role in relation.roles:
        count = sum(1 for name, _ in resolved if name == role.name)
        if count > 1 and not role.multiple:
            raise ServiceError(f"an attribution has at most one {role.name}", field="parts")
    if len({span.id for _, span in resolved}) != len(resolved):
        raise ServiceError("a span plays only one role in an attribution", field="parts")
    return resolved


def _set_parts(session: Session, user: User, attribution: Attribution, document: DocumentText, codebook: Codebook,
               parts: list) -> None:
    """Make the attribution's parts exactly ``parts``, keeping the rows that stay (so the
    unique (attribution, span) constraint never sees a removed and re-added part twice)."""
    wanted = {
        (span.id, role): span
        for role, span in resolved_parts(session, user, document, codebook.relation(attribution.relation), parts)
    }
    for part in list(attribution.parts):
        if (part.span_id, part.role) not in wanted:
            attribution.parts.remove(part)
    session.flush()
    present = {(part.span_id, part.role) for part in attribution.parts}
    for (span_id, role), span in wanted.items():
        if (span_id, role) not in present:
            attribution.parts.append(AttributionPart(span=span, role=role))


@writes(ANYONE)
@idempotent
def create_attribution(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    assigned = _assigned(session, actor, document_id)
    codebook = assigned.codebook
    relation_name = payload_field(data, "relation", str, default=codebook.relations[0].name)
    if relation_name not in {relation.name for relation in codebook.relations}:
        raise ServiceError(f"{relation_name!r} is not a relation of this codebook", field="relation")
    attributes = payload_field(data, "attributes", dict, default={})
    _first_problem(codebook.validate_relation_attributes(relation_name, attributes), "attributes")
    # An attribution accepted from a suggested group names its anchor's suggestion; the page says
    # whether the group was changed before it was accepted ("accepted_edited").
    provenance, _ = _provenance(session, actor, document_id, data,
                                lambda s: "accepted_edited" if data.get("origin") == "accepted_edited" else "accepted")
    attribution = Attribution(user_id=actor.id, document_id=document_id, relation=relation_name, attributes=attributes,
                              **provenance)
    _set_parts(session, actor, attribution, assigned.document, codebook, payload_field(data, "parts", list, default=[]))
    session.add(attribution)
    _started(session, assigned.assignment_id, assigned.status)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=attribution, after=attribution_json(attribution))
    return attribution_json(attribution, codebook)


def _own_attribution(session: Session, user: User, attribution_id: int) -> tuple[Attribution, Assigned]:
    attribution = session.get(Attribution, attribution_id)
    if attribution is None or attribution.user_id != user.id:
        raise NotFound("no such attribution among yours", field="attribution_id")
    return attribution, _assigned(session, user, attribution.document_id)


@writes(ANYONE)
@idempotent
def update_attribution(session: Session, actor: Actor, attribution_id: int, data: dict) -> dict:
    attribution, assigned = _own_attribution(session, actor, attribution_id)
    _check_version(attribution, data, attribution_json)
    codebook = assigned.codebook
    before = attribution_json(attribution)
    attributes = payload_field(data, "attributes", dict, default=attribution.attributes)
    _first_problem(codebook.validate_relation_attributes(attribution.relation, attributes), "attributes")
    if "parts" in data:
        _set_parts(session, actor, attribution, assigned.document, codebook, payload_field(data, "parts", list))
    attribution.attributes = dict(attributes)
    _touch(attribution)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=attribution, before=before, after=attribution_json(attribution))
    return attribution_json(attribution, codebook)


@writes(ANYONE)
@idempotent
def delete_attribution(session: Session, actor: Actor, attribution_id: int, data: dict) -> dict:
    """Remove the unit; its spans stay."""
    attribution, _ = _own_attribution(session, actor, attribution_id)
    _check_version(attribution, data, attribution_json)
    audit.record(session, actor=actor, action="delete", entity=attribution, before=attribution_json(attribution))
    session.delete(attribution)
    return {"deleted": attribution_id}


# -- several changes in one request -------------------------------------------------------------
# The annotation page queues its changes and sends what is queued as one batch: one request and
# one transaction for, say, two spans and a label, instead of three of each.

MAX_CHANGES = 100  # a batch runs under the write lock: long batches would hold up everyone else


class Operation(NamedTuple):
    """A kind of change a batch may hold: the write service of its single endpoint, the kind
    of item it writes ("span", "attribution" or "label"), and whether it creates one (it is
    then made on the batch's document, and answers 201)."""

    service: Callable[..., dict]
    item: str
    creates: bool


OPERATIONS = {
    "create_span": Operation(create_span, "span", True),
    "update_span": Operation(update_span, "span", False),
    "delete_span": Operation(delete_span, "span", False),
    "set_label": Operation(set_sentence_label, "label", False),
    "create_attribution": Operation(create_attribution, "attribution", True),
    "update_attribution": Operation(update_attribution, "attribution", False),
    "delete_attribution": Operation(delete_attribution, "attribution", False),
}


@writes(ANYONE)
def apply_changes(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    """A batch of changes to the actor's annotations of a document (:func:`_run_changes`); on a
    document the actor may not write, refused whole as its single requests are."""
    _assigned(session, actor, document_id)
    return _run_changes(session, actor, document_id, data, OPERATIONS)


def _run_changes(session: Session, actor: Actor, document_id: int, data: dict,
                operations: Mapping[str, Operation]) -> dict:
    """Run ``data["changes"]`` in order in the caller's write transaction, each through the
    service of its single endpoint (checked, versioned and audited as that request would be),
    each in a savepoint of its own.

    A change is ``{"op", "body"}`` plus what the single endpoint's path names: ``span_id``,
    ``attribution_id``, or ``sentence_id`` and ``layer``; a create may give a ``key``. Where an
    id goes (those, and the ``span_id`` of an attribution's parts), the key of an item created
    earlier in the batch may stand. An item an earlier change of the batch created or changed
    is changed as that change left it: its version is the batch's, not the one sent (the page
    cannot know it when it sends the batch). Every item named must be on the document.

    A change may give an ``idempotency_key`` (annotator.services.idempotency): a change whose
    key is stored already is not run again, its stored answer is its answer (checked before
    anything else about it: the item it deleted is gone by now). The key stands for the kind of
    change on the batch's document.

    The first change that fails ends the batch: the changes before it are kept, it writes
    nothing, the rest are not run. Answers ``{"results": [{"status", "body"}, ...]}``, one per
    change run, with the status and body its single endpoint would answer. A malformed batch
    is refused whole (:func:`_batch_changes`).
    """
    changes = _batch_changes(data, operations)
    batch = _Batch(document_id, _on_document(session, document_id, changes, operations))
    results = []
    for change in changes:
        operation = operations[change["op"]]
        request = request_of(operation.service.__name__, document_id)
        try:
            with session.begin_nested():
                body = once(session, actor, change.get("idempotency_key"), request,
                            lambda: operation.service(session, actor, *batch.arguments(change, operation)))
        except ServiceError as error:
            results.append({"status": error.status, "body": error.to_json()})
            break
        except (StaleDataError, IntegrityError) as error:
            conflict = race_conflict(error)
            results.append({"status": conflict.status, "body": conflict.to_json()})
            break
        batch.saved(change, operation, body)
        results.append({"status": 201 if operation.creates else 200, "body": body})
    return {"results": results}


# What a change that does not create names its item by: fields and their types (an id, or the
# key of an item created earlier in the batch).
_NAMES = {"span": {"span_id": (int, str)}, "attribution": {"attribution_id": (int, str)},
          "label": {"sentence_id": int, "layer": str}}


def _batch_changes(data: dict, operations: Mapping[str, Operation]) -> list[dict]:
    """The batch's changes, refused whole (400, nothing run) unless 1 to MAX_CHANGES objects,
    each of a known op, naming its item with values of the right types (a create names none;
    it may give a key, a string no other change of the batch gives), its body an object, its
    idempotency key (if any) one no other change of the batch gives."""
    changes = payload_field(data, "changes", list)
    if not 1 <= len(changes) <= MAX_CHANGES:
        raise ServiceError(f"changes must hold 1 to {MAX_CHANGES} changes", field="changes")
    keys, idempotency_keys = set(), set()
    for index, change in enumerate(changes):
        where = f"changes[{index}]"
        if not isinstance(change, dict):
            raise ServiceError(f"{where} must be an object", field="changes")
        op = change.get("op")
        if not isinstance(op, str) or op not in operations:
            raise ServiceError(f"{where}.op must be one of {', '.join(operations)}", field="changes")
        operation = operations[op]
        if not isinstance(change.get("body", {}), dict):
            raise ServiceError(f"{where}.body must be an object", field="changes")
        for name, kind in ({} if operation.creates else _NAMES[operation.item]).items():
            try:
                payload_field(change, name, kind)
            except ServiceError as error:
                raise ServiceError(f"{where}.{error.message}", field="changes") from None
        if "key" in change:
            if not operation.creates:
                raise ServiceError(f"{where}.key: only a change that creates an item names it", field="changes")
            if not isinstance(change["key"], str) or not change["key"] or change["key"] in keys:
                raise ServiceError(f"{where}.key must be a string no earlier change of the batch gave", field="changes")
            keys.add(change["key"])
        if "idempotency_key" in change:
            try:
                key = checked_key(change["idempotency_key"], "idempotency_key")
            except ServiceError as error:
                raise ServiceError(f"{where}.{error.message}", field="changes") from None
            if key in idempotency_keys:
                raise ServiceError(f"{where}.idempotency_key is given by an earlier change of the batch", field="changes")
            idempotency_keys.add(key)
    return changes


# The given ids (a list, "ids") of the spans, attributions or sentences on a document.
_ON_DOCUMENT = {
    item: select(model.id).where(model.document_id == bindparam("document_id"), model.id.in_(bindparam("ids", expanding=True)))
    for item, model in (("span", Span), ("attribution", Attribution), ("label", Sentence))
}
_ID_FIELD = {item: next(iter(names)) for item, names in _NAMES.items()}  # the field holding the id


def _on_document(session: Session, document_id: int, changes: list[dict],
                 operations: Mapping[str, Operation]) -> dict[str, set[int]]:
    """Which of the ids the changes name (spans, attributions, and the sentences of labels) are
    on the document: a statement for each kind named, whatever the size of the batch."""
    named: dict[str, set[int]] = {item: set() for item in _ID_FIELD}
    for change in changes:
        item = operations[change["op"]].item
        value = change.get(_ID_FIELD[item])
        if _is_id(value):
            named[item].add(value)
    return {item: set(_connection(session).execute(_ON_DOCUMENT[item], {"document_id": document_id, "ids": sorted(ids)}).scalars())
            if ids else set() for item, ids in named.items()}


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


class _Batch:
    """What the earlier changes of a batch made: the ids of the items they created, by key, and
    the versions they left items at."""

    def __init__(self, document_id: int, on_document: dict[str, set[int]]):
        self.document_id, self.on_document = document_id, on_document
        self.created: dict[str, dict[str, int]] = {"span": {}, "attribution": {}}  # item -> key -> id
        self.versions: dict[tuple, int] = {}  # (item, id; for a label its sentence id and layer) -> version

    def arguments(self, change: dict, operation: Operation) -> tuple:
        """The arguments of the change's service after (session, actor)."""
        body = dict(change.get("body", {}))
        if isinstance(body.get("parts"), list):
            body["parts"] = [self._part(index, part) for index, part in enumerate(body["parts"])]
        if operation.creates:
            return self.document_id, body
        if operation.item == "label":
            sentence_id, layer = self._id(change, "label"), change["layer"]
            if not layer.isprintable():  # as a URL's layer cannot be: NUL, or text no database takes
                raise ServiceError("layer must be printable text", field="layer")
            target, arguments = ("label", sentence_id, layer), (sentence_id, layer)
        else:
            target = (operation.item, self._id(change, operation.item))
            arguments = (target[1],)
        if target in self.versions:
            body["version"] = self.versions[target]
        return *arguments, body

    def _id(self, change: dict, item: str) -> int:
        """The id the change names its item by (or the key of one created earlier in the batch)."""
        field = _ID_FIELD[item]
        value = change[field]
        if isinstance(value, str):
            if value not in self.created[item]:
                raise ServiceError(f"{field} {value!r} names no {item} created earlier in this batch", field=field)
            return self.created[item][value]
        if value not in self.on_document[item]:
            what = "sentence" if item == "label" else item
            raise NotFound(f"no {what} {value} on this document", field=field)
        return value

    def _part(self, index: int, part: Any) -> Any:
        """A part of an attribution, its span named by id (a key of the batch made an id)."""
        if not isinstance(part, dict) or not isinstance(part.get("span_id"), str):
            return part
        if part["span_id"] not in self.created["span"]:
            raise ServiceError(f"parts[{index}].span_id {part['span_id']!r} names no span created earlier in this batch",
                               field="parts")
        return part | {"span_id": self.created["span"][part["span_id"]]}

    def saved(self, change: dict, operation: Operation, body: dict) -> None:
        """Note what the change's answer ``body`` says it made (the versions it left items at)."""
        if "deleted" in body:
            self.versions.pop((operation.item, body["deleted"]), None)
        elif operation.item == "label":
            self.versions[("label", body["sentence_id"], body["layer"])] = body["version"]
        else:
            self.versions[(operation.item, body["id"])] = body["version"]
        for attribution in body.get("attributions", []):  # changed along with a span
            self.versions[("attribution", attribution["id"])] = attribution["version"]
        if "key" in change:
            self.created[operation.item][change["key"]] = body["id"]
