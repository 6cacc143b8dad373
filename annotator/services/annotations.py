"""Annotations: spans, sentence labels and attributions, each user's own.

Each function checks that the user holds a live assignment to the document (blind
annotation: nobody reads or changes another user's rows through here), validates the payload
against the project's codebook and the document text, enforces optimistic versions, and
appends an audit event. Payloads are the decoded JSON bodies of the API; every problem is a
ServiceError naming the field.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from . import audit
from .assignments import active_assignment
from .permissions import ANYONE, Actor
from .projects import project_codebook
from ..codebook import Codebook
from ..db import reads, writes
from ..errors import Conflict, NotFound, ServiceError
from ..models import (
    ID_MAX,
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Sentence,
    SentenceLabel,
    Span,
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
        "attributes": span.attributes,
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
    """What the annotation page shows: the document (with its sentences), its codebook and
    the actor's saved work on it."""
    state = annotation_state(session, actor, document_id)
    document = active_assignment(session, actor, document_id, for_write=False).document
    return {"document": document, "codebook": project_codebook(document.project), "state": state}


@reads(ANYONE)
def guidelines(session: Session, actor: Actor, document_id: int) -> dict:
    """The codebook of a document the actor is assigned, with the document."""
    document = active_assignment(session, actor, document_id, for_write=False).document
    return {"document": document, "codebook": project_codebook(document.project)}


@reads(ANYONE)
def annotation_state(session: Session, actor: Actor, document_id: int) -> dict:
    """Everything the actor has saved on the document (and nothing of anyone else's)."""
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
    return {
        "status": assignment.status,
        "spans": [span_json(span) for span in spans],
        "labels": [label_json(row) for row in labels],
        "attributions": [attribution_json(a, codebook) for a in attributions],
    }


def _touch(row) -> None:
    """Always issue an UPDATE, so the version moves on even when only child rows changed."""
    row.updated_at = utcnow()


def _started(assignment: Assignment) -> None:
    if assignment.status == "assigned":
        assignment.status = "in_progress"


# -- spans ------------------------------------------------------------------------------------


def _sentence_at(session: Session, document: Document, offset: int) -> Sentence:
    sentence = session.scalar(
        select(Sentence).where(
            Sentence.document_id == document.id, Sentence.start <= offset, Sentence.end > offset
        )
    )
    if sentence is None:
        raise ServiceError("the span does not start inside a sentence", field="start")
    return sentence


def checked_extent(session: Session, document: Document, codebook: Codebook, layer: str, data: dict):
    """Validate start, end, text (and sentence_id, if sent); returns (start, end, text, sentence)."""
    start, end, text = payload_field(data, "start", int), payload_field(data, "end", int), payload_field(data, "text", str)
    length = len(document.text)
    if not 0 <= start < length:
        raise ServiceError(f"start must be between 0 and {length - 1}", field="start")
    if not start < end <= length:
        raise ServiceError(f"end must be after start and at most {length}", field="end")
    if document.text[start:end] != text:
        raise ServiceError("text does not match the document at start:end", field="text")
    if not text.strip():
        raise ServiceError("a span must not be empty or only whitespace", field="text")
    if text[0].isspace():
        raise ServiceError("a span must not start with whitespace", field="start")
    if text[-1].isspace():
        raise ServiceError("a span must not end with whitespace", field="end")
    sentence = _sentence_at(session, document, start)
    if end > sentence.end and not codebook.layer(layer).cross_sentence:
        raise ServiceError(f"layer {layer!r} does not allow spans across sentences", field="end")
    sentence_id = payload_field(data, "sentence_id", int, default=sentence.id)
    if sentence_id != sentence.id:
        raise ServiceError("sentence_id is not the sentence of this document where the span starts", field="sentence_id")
    return start, end, text, sentence


def _prefilled(
    session: Session, user: User, document: Document, codebook: Codebook,
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
        if rule is not None and session.scalar(
            select(Span.id).where(
                Span.document_id == document.id, Span.user_id == user.id,
                Span.layer == rule.inside_layer, Span.label == rule.inside_label,
                Span.start <= start, Span.end >= end,
            ).limit(1)
        ) is not None:
            filled[attribute.name] = rule.value
        elif attribute.default is not None:
            filled[attribute.name] = attribute.default
    return filled


@writes(ANYONE)
def create_span(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    assignment = active_assignment(session, actor, document_id)
    document = assignment.document
    codebook = project_codebook(document.project)
    layer, label = payload_field(data, "layer", str), payload_field(data, "label", str)
    attributes = payload_field(data, "attributes", dict, default={})
    span_layers = {span_layer.name for span_layer in codebook.span_layers}
    _first_problem(codebook.validate_span(layer, label, attributes), "label" if layer in span_layers else "layer")
    start, end, text, sentence = checked_extent(session, document, codebook, layer, data)
    duplicate = session.scalar(
        select(Span.id).where(
            Span.document_id == document.id, Span.user_id == actor.id, Span.layer == layer,
            Span.label == label, Span.start == start, Span.end == end,
        )
    )
    if duplicate is not None:
        raise Conflict("you already marked exactly this text with this label", field="start")
    span = Span(
        user_id=actor.id,
        document_id=document.id,
        sentence_id=sentence.id,
        layer=layer,
        label=label,
        start=start,
        end=end,
        text=text,
        attributes=_prefilled(session, actor, document, codebook, layer, label, start, end, attributes),
    )
    session.add(span)
    _started(assignment)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=span, after=span_json(span))
    return span_json(span)


def _own_span(session: Session, user: User, span_id: int) -> tuple[Span, Assignment]:
    span = session.get(Span, span_id)
    if span is None or span.user_id != user.id:
        raise NotFound("no such span among yours", field="span_id")
    return span, active_assignment(session, user, span.document_id)


@writes(ANYONE)
def update_span(session: Session, actor: Actor, span_id: int, data: dict) -> dict:
    span, assignment = _own_span(session, actor, span_id)
    _check_version(span, data, span_json)
    codebook = project_codebook(assignment.document.project)
    before = span_json(span)
    label = payload_field(data, "label", str, default=span.label)
    attributes = payload_field(data, "attributes", dict, default=span.attributes)
    _first_problem(codebook.validate_span(span.layer, label, attributes), "attributes" if label == span.label else "label")
    if any(key in data for key in ("start", "end", "text")):
        extent = {"start": span.start, "end": span.end, "text": span.text} | data
        span.start, span.end, span.text, sentence = checked_extent(
            session, assignment.document, codebook, span.layer, extent
        )
        span.sentence_id = sentence.id
    span.label, span.attributes = label, dict(attributes)
    _touch(span)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=span, before=before, after=span_json(span))
    changed = _fit_roles(session, actor, span, codebook) if label != before["label"] else []
    return span_json(span) | {"attributions": changed}


@writes(ANYONE)
def delete_span(session: Session, actor: Actor, span_id: int, data: dict) -> dict:
    """Remove the span, and its part in any attribution; answers with the changed attributions."""
    span, assignment = _own_span(session, actor, span_id)
    _check_version(span, data, span_json)
    changed = _fit_roles(session, actor, span, project_codebook(assignment.document.project), removing=True)
    audit.record(session, actor=actor, action="delete", entity=span, before=span_json(span))
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


@writes(ANYONE)
def set_sentence_label(session: Session, actor: Actor, sentence_id: int, layer: str, data: dict) -> dict:
    """Create or update the actor's value (and unsure flag, comment) for one sentence and layer.

    Creating sends no version; updating sends the version it last saw.
    """
    sentence = session.get(Sentence, sentence_id)
    if sentence is None:
        raise NotFound("no such sentence", field="sentence_id")
    assignment = active_assignment(session, actor, sentence.document_id)
    codebook = project_codebook(assignment.document.project)
    check_sentence_layer(codebook, layer)
    value = data.get("value")
    if value is not None:
        _first_problem(codebook.validate_choice(layer, value), "value")
    unsure = payload_field(data, "unsure", bool, default=False)
    comment = free_text(data, "comment")

    row = session.scalar(
        select(SentenceLabel).where(
            SentenceLabel.user_id == actor.id,
            SentenceLabel.sentence_id == sentence.id,
            SentenceLabel.layer == layer,
        )
    )
    if row is None:
        if data.get("version") is not None:
            raise Conflict("this label was deleted elsewhere; reload to see it", field="version")
        row = SentenceLabel(user_id=actor.id, sentence_id=sentence.id, layer=layer)
        session.add(row)
        before = None
    else:
        if data.get("version") is None:
            raise Conflict(
                "this sentence was labelled elsewhere (another tab or window); reload to see it",
                field="version",
                current=label_json(row),
            )
        _check_version(row, data, label_json)
        before = label_json(row)
    row.value = sorted(value) if isinstance(value, list) else value
    row.unsure, row.comment = unsure, comment
    _touch(row)
    _started(assignment)
    session.flush()
    audit.record(session, actor=actor, action="create" if before is None else "update", entity=row, before=before, after=label_json(row))
    return label_json(row)


# -- attributions -----------------------------------------------------------------------------


def resolved_parts(session: Session, user: User, document: Document, relation, parts: list) -> list[tuple[str, Span]]:
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


def _set_parts(session: Session, user: User, attribution: Attribution, codebook: Codebook, parts: list) -> None:
    """Make the attribution's parts exactly ``parts``, keeping the rows that stay (so the
    unique (attribution, span) constraint never sees a removed and re-added part twice)."""
    wanted = {
        (span.id, role): span
        for role, span in resolved_parts(
            session, user, attribution.document, codebook.relation(attribution.relation), parts
        )
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
def create_attribution(session: Session, actor: Actor, document_id: int, data: dict) -> dict:
    assignment = active_assignment(session, actor, document_id)
    document = assignment.document
    codebook = project_codebook(document.project)
    relation_name = payload_field(data, "relation", str, default=codebook.relations[0].name)
    if relation_name not in {relation.name for relation in codebook.relations}:
        raise ServiceError(f"{relation_name!r} is not a relation of this codebook", field="relation")
    attributes = payload_field(data, "attributes", dict, default={})
    _first_problem(codebook.validate_relation_attributes(relation_name, attributes), "attributes")
    attribution = Attribution(user_id=actor.id, document=document, relation=relation_name, attributes=attributes)
    _set_parts(session, actor, attribution, codebook, payload_field(data, "parts", list, default=[]))
    session.add(attribution)
    _started(assignment)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=attribution, after=attribution_json(attribution))
    return attribution_json(attribution, codebook)


def _own_attribution(session: Session, user: User, attribution_id: int) -> tuple[Attribution, Assignment]:
    attribution = session.get(Attribution, attribution_id)
    if attribution is None or attribution.user_id != user.id:
        raise NotFound("no such attribution among yours", field="attribution_id")
    return attribution, active_assignment(session, user, attribution.document_id)


@writes(ANYONE)
def update_attribution(session: Session, actor: Actor, attribution_id: int, data: dict) -> dict:
    attribution, assignment = _own_attribution(session, actor, attribution_id)
    _check_version(attribution, data, attribution_json)
    codebook = project_codebook(assignment.document.project)
    before = attribution_json(attribution)
    attributes = payload_field(data, "attributes", dict, default=attribution.attributes)
    _first_problem(codebook.validate_relation_attributes(attribution.relation, attributes), "attributes")
    if "parts" in data:
        _set_parts(session, actor, attribution, codebook, payload_field(data, "parts", list))
    attribution.attributes = dict(attributes)
    _touch(attribution)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=attribution, before=before, after=attribution_json(attribution))
    return attribution_json(attribution, codebook)


@writes(ANYONE)
def delete_attribution(session: Session, actor: Actor, attribution_id: int, data: dict) -> None:
    """Remove the unit; its spans stay."""
    attribution, _ = _own_attribution(session, actor, attribution_id)
    _check_version(attribution, data, attribution_json)
    audit.record(session, actor=actor, action="delete", entity=attribution, before=attribution_json(attribution))
    session.delete(attribution)
