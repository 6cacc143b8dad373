"""Sources as entities: a project's registry of the people, organisations, outlets and documents
its SOURCE spans mention, in any article (docs/entities.md).

An entity has a name, unique in its project once normalised (:func:`normalised`), aliases
(unique the same way), and optional attributes a person sets: the kind and anonymity of the
source (values of the codebook's ``source_kind`` and ``identification`` attributes), an
affiliation, a Wikidata id typed by hand and a gender (models.GENDERS; never inferred). A span of
the source role's label (SOURCE in the default codebook) names the entity it mentions in its
``entity_id``: it is linked through the span's own create and update (``entity_id``, or
``entity_name`` to link to the entity of that name, made if there is none), so a link is
versioned, queued, undone and audited as every span change is (annotator.services.annotations
calls :func:`span_entity` and :func:`record_link`).

Annotators of a project (a live assignment to one of its documents) search the registry, create
entities and change the ones they created; supervisors of the project (and admins) change any,
merge two (the survivor takes the other's mentions and aliases, the other keeps its row,
pointing at it) and split one (chosen mentions and aliases move to a new entity). Every change
is an audit event on the entity, which is its history; so is every link and unlink of a span.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import case, false, func, literal, or_, select, true, union_all, update
from sqlalchemy.orm import Session, selectinload

from . import audit
from .annotations import payload_field
from .assignments import ACTIVE_STATUSES
from .idempotency import idempotent
from .paging import cut, page_of
from .permissions import ANYONE, SUPERVISORS, Actor
from .projects import get_project, project_codebook, sees_project
from ..codebook import Codebook
from ..db import insert_or_skip, reads, writes
from ..direction import BIDI_CONTROLS
from ..errors import Conflict, Forbidden, NotFound, ServiceError
from ..models import (
    GENDERS,
    ID_MAX,
    Assignment,
    Document,
    Event,
    Project,
    SourceEntity,
    SourceEntityAlias,
    Span,
    User,
    utcnow,
)

NAME_MAX = 200  # characters of a name, an alias or an affiliation (their columns' length)
KEY_MAX = 400  # of a normalised name (NFKC expands a few characters into several)
MAX_ALIASES = 50
SEARCH_LIMIT = 10  # entities a search answers with, unless asked for fewer or more (at most SEARCH_MAX)
SEARCH_MAX = 50
REGISTRY_PAGE_SIZE = 100  # entities a page of the registry lists
MENTIONS_PAGE_SIZE = 100  # mentions a page of an entity's page lists
# The codebook attributes whose values an entity's kind and anonymity take, and the role whose
# label is the one linked spans have.
KIND_ATTRIBUTE, ANONYMITY_ATTRIBUTE, SOURCE_ROLE = "source_kind", "identification", "source"
FIELDS = ("name", "kind", "affiliation", "anonymity", "wikidata_id", "gender")

# -- names ------------------------------------------------------------------------------------------

# Arabic-script letters written two ways (an Arabic keyboard's kaf and yeh in Urdu or Persian
# text), folded to one; tatweel, harakat and Hebrew points, the joiners and directional marks are
# dropped: they change how a name looks, not which name it is.
_FOLDED = str.maketrans({"\u0643": "\u06a9", "\u064a": "\u06cc", "\u0649": "\u06cc"})
_DROPPED = re.compile("[\u0640\u064b-\u065f\u0670\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
                      "\u200b-\u200f\u061c]")


def normalised(text: str) -> str:
    """The form names and aliases are compared in: NFKC, case folded (so "UN" is "un", "ﻻ" is
    "لا", "Ｑ" is "q"), Arabic kaf and yeh as Urdu and Persian write them, without tatweel,
    harakat, Hebrew points, zero-width joiners or directional marks, punctuation as a space,
    spaces collapsed. "JUI-F" and "jui f" are one name; "پاكستان" and "پاکستان" too."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = _DROPPED.sub("", folded.translate(_FOLDED))
    return " ".join("".join(char if unicodedata.category(char)[0] in "LNM" else " " for char in folded).split())


def cleaned(text: str) -> str:
    """A name as stored and shown: NFC, whitespace collapsed to single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


# Pronouns are not names (docs/entities.md, "Pronouns and descriptions"): a SOURCE span "he" is
# linked to the entity it refers to, never made one of its own. Not "us": it is also "US".
PRONOUNS = frozenset(normalised(word) for word in (
    # English
    "he", "she", "they", "him", "her", "them", "his", "hers", "their", "theirs", "it", "its", "we",
    "our", "ours", "i", "me", "my", "mine", "you", "your", "yours", "himself", "herself", "themselves",
    "itself", "ourselves", "myself", "yourself", "yourselves", "someone", "somebody",
    # Urdu
    "وہ", "انہوں", "انھوں", "انہوں نے", "انھوں نے", "اس", "اس نے", "ان", "انہیں", "انھیں", "اسے", "ہم", "میں",
    "آپ", "تم", "یہ", "اُنہوں", "اُس", "اُنہوں نے", "اُس نے",
    # Arabic
    "هو", "هي", "هم", "هن", "هما", "نحن", "أنا", "انا", "أنت", "انت", "أنتم", "إنه", "انه", "إنها", "انها",
    # Persian
    "او", "آنها", "ایشان", "ما", "من", "شما",
    # Hebrew
    "הוא", "היא", "הם", "הן", "אנחנו", "אני", "אתה", "את",
))
_WIKIDATA = re.compile(r"Q[1-9][0-9]{0,11}")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})  # control, surrogate, private, unassigned


def _checked_text(value: object, field: str, *, required: bool) -> str | None:
    """A name, alias or affiliation as sent: text, cleaned, at most NAME_MAX characters, no
    control characters or bidirectional embeddings (the joiners and marks Urdu and Arabic
    names hold are kept); None when blank and not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ServiceError(f"{field} is required", field=field)
        return None
    if not isinstance(value, str):
        raise ServiceError(f"{field} must be text, not {type(value).__name__}", field=field)
    text = cleaned(value)
    if len(text) > NAME_MAX:
        raise ServiceError(f"{field} is longer than {NAME_MAX} characters", field=field)
    if BIDI_CONTROLS.search(text) or any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text):
        raise ServiceError(f"{field} must not hold control characters or bidirectional embeddings", field=field)
    return text


def name_problem(name: str) -> str | None:
    """Why ``name`` (cleaned) cannot name an entity or be an alias, None if it can."""
    key = normalised(name)
    if not key:
        return "a name must hold a letter or a digit"
    if len(key) > KEY_MAX:
        return f"the name is longer than {KEY_MAX} characters once normalised"
    if key in PRONOUNS:
        return (f"“{name}” is a pronoun, not a name: link the span to the entity it refers to (type its name) "
                "instead of making a new one")
    return None


def _checked_name(value: object, field: str = "name") -> tuple[str, str]:
    """(name, its key) of a new or changed name or alias."""
    name = _checked_text(value, field, required=True)
    if (problem := name_problem(name)) is not None:
        raise ServiceError(problem, field=field)
    return name, normalised(name)


# -- the codebook ---------------------------------------------------------------------------------


def source_labels(codebook: Codebook) -> set[tuple[str, str]]:
    """(span layer, label) of the spans that may be linked: the label of each relation's
    source role (SOURCE in the default codebook's attribution)."""
    return {(relation.layer, role.label) for relation in codebook.relations for role in relation.roles
            if role.name == SOURCE_ROLE}


def attribute_values(codebook: Codebook, name: str) -> tuple[str, ...] | None:
    """The values of the relations' attribute ``name`` (source_kind, identification); None when
    the codebook has no such attribute."""
    for relation in codebook.relations:
        for attribute in relation.attributes:
            if attribute.name == name:
                return attribute.value_names
    return None


def _checked_choice(codebook: Codebook, data: dict, field: str, attribute: str) -> str | None:
    value = payload_field(data, field, str, default=None) or None
    allowed = attribute_values(codebook, attribute)
    if value is not None and value not in (allowed or ()):
        raise ServiceError(f"{field} must be one of {', '.join(allowed)}" if allowed else
                           f"this project's codebook has no {attribute} attribute: {field} stays empty", field=field)
    return value


def _checked_fields(codebook: Codebook, data: dict, entity: SourceEntity | None = None) -> dict:
    """The entity fields ``data`` sends, checked (for a change, only those sent)."""
    fields = {}
    if entity is None or "name" in data:
        fields["name"] = _checked_name(data.get("name"))[0]
    if "kind" in data:
        fields["kind"] = _checked_choice(codebook, data, "kind", KIND_ATTRIBUTE)
    if "anonymity" in data:
        fields["anonymity"] = _checked_choice(codebook, data, "anonymity", ANONYMITY_ATTRIBUTE)
    if "affiliation" in data:
        fields["affiliation"] = _checked_text(data["affiliation"], "affiliation", required=False)
    if "wikidata_id" in data:
        raw = payload_field(data, "wikidata_id", str, default="").strip()
        wikidata = raw[:1].upper() + raw[1:] if raw else None
        if wikidata is not None and not _WIKIDATA.fullmatch(wikidata):
            raise ServiceError("wikidata_id must be a Wikidata item id: Q and its number, such as Q42", field="wikidata_id")
        fields["wikidata_id"] = wikidata
    if "gender" in data:
        gender = payload_field(data, "gender", str, default=None) or None
        if gender is not None and gender not in GENDERS:
            raise ServiceError(f"gender must be one of {', '.join(GENDERS)}, or null (not known, not set)", field="gender")
        fields["gender"] = gender
    return fields


def _checked_aliases(data: dict, name_key: str) -> list[tuple[str, str]] | None:
    """The (alias, key) list ``data["aliases"]`` sends, one per key, in order; None if not sent."""
    if "aliases" not in data:
        return None
    aliases = payload_field(data, "aliases", list, default=[])
    if len(aliases) > MAX_ALIASES:
        raise ServiceError(f"an entity has at most {MAX_ALIASES} aliases", field="aliases")
    checked: dict[str, str] = {}
    for index, value in enumerate(aliases):
        alias, key = _checked_name(value, f"aliases[{index}]")
        if key == name_key:
            raise ServiceError(f"aliases[{index}]: “{alias}” is the entity's name", field="aliases")
        checked.setdefault(key, alias)
    return [(alias, key) for key, alias in checked.items()]


# -- reaching a project ---------------------------------------------------------------------------


def _annotates(session: Session, actor: Actor, project_id: int) -> bool:
    """Whether the actor holds a live assignment to a document of the project."""
    return session.scalar(
        select(Assignment.id).join(Document, Document.id == Assignment.document_id)
        .where(Assignment.user_id == actor.id, Document.project_id == project_id,
               Assignment.status.in_(ACTIVE_STATUSES)).limit(1)
    ) is not None


def _supervises(session: Session, actor: Actor, project_id: int) -> bool:
    return actor.role in SUPERVISORS and sees_project(session, actor, project_id)


def _reached(session: Session, actor: Actor, project_id: int) -> Project:
    """The project, if the actor supervises it or annotates in it; else 404, as for one that
    does not exist."""
    project = session.get(Project, project_id) if 0 < project_id <= ID_MAX else None
    if project is None or not (_supervises(session, actor, project.id) or _annotates(session, actor, project.id)):
        raise NotFound(f"no project with id {project_id}", field="project_id")
    return project


def _entity(session: Session, actor: Actor, entity_id: int) -> SourceEntity:
    """The entity, if the actor reaches its project (:func:`_reached`); else 404."""
    entity = session.get(SourceEntity, entity_id) if 0 < entity_id <= ID_MAX else None
    if entity is None:
        raise NotFound("no such source entity", field="entity_id")
    try:
        _reached(session, actor, entity.project_id)
    except NotFound:
        raise NotFound("no such source entity", field="entity_id") from None
    return entity


def _supervised(session: Session, actor: Actor, entity_id: int) -> SourceEntity:
    """The entity, for a supervisor of its project (the role is the caller's check)."""
    entity = session.get(SourceEntity, entity_id) if 0 < entity_id <= ID_MAX else None
    if entity is None or not sees_project(session, actor, entity.project_id):
        raise NotFound("no such source entity", field="entity_id")
    return entity


@reads(SUPERVISORS)
def supervised_entity(session: Session, actor: Actor, entity_id: int) -> SourceEntity:
    """The entity, if the actor supervises its project; else 403 (the role) or 404."""
    return _supervised(session, actor, entity_id)


def survivor(session: Session, entity: SourceEntity) -> SourceEntity:
    """The entity a merged one now is (itself if never merged)."""
    seen = {entity.id}
    while entity.merged_into_id is not None and entity.merged_into_id not in seen:
        seen.add(entity.merged_into_id)
        entity = session.get(SourceEntity, entity.merged_into_id)
    return entity


def _live(entity: SourceEntity) -> None:
    if entity.merged_into_id is not None:
        raise Conflict(f"this entity was merged into entity {entity.merged_into_id}: change that one",
                       field="entity_id")


# -- serialisation --------------------------------------------------------------------------------


def entity_json(entity: SourceEntity) -> dict:
    return {
        "id": entity.id, "project_id": entity.project_id, "name": entity.name, "kind": entity.kind,
        "affiliation": entity.affiliation, "anonymity": entity.anonymity, "wikidata_id": entity.wikidata_id,
        "gender": entity.gender, "aliases": [alias.alias for alias in entity.aliases],
        "merged_into_id": entity.merged_into_id, "version": entity.version,
    }


def brief_json(entity: SourceEntity) -> dict:
    """What the annotation page shows of an entity."""
    return {"id": entity.id, "name": entity.name, "kind": entity.kind, "affiliation": entity.affiliation}


def linked_entities(session: Session, entity_ids: Iterable[int | None]) -> list[dict]:
    """:func:`brief_json` of the entities with these ids (Nones skipped), by name: those the
    spans of an annotation state link to."""
    wanted = sorted({entity_id for entity_id in entity_ids if entity_id is not None})
    if not wanted:
        return []
    rows = session.scalars(select(SourceEntity).where(SourceEntity.id.in_(wanted)))
    return sorted((brief_json(entity) for entity in rows), key=lambda entity: (entity["name"], entity["id"]))


# -- creating ------------------------------------------------------------------------------------

_INSERT = {dialect: insert_or_skip(dialect, SourceEntity, ("project_id", "name_key")).returning(SourceEntity.id)
           for dialect in ("sqlite", "postgresql")}


def _named(session: Session, project_id: int, key: str) -> SourceEntity | None:
    return session.scalar(select(SourceEntity).where(SourceEntity.project_id == project_id, SourceEntity.name_key == key))


def _alias_owner(session: Session, project_id: int, key: str) -> SourceEntityAlias | None:
    return session.scalar(select(SourceEntityAlias).where(SourceEntityAlias.project_id == project_id,
                                                          SourceEntityAlias.alias_key == key))


def _new_entity(session: Session, actor: Actor, project: Project, fields: dict,
                aliases: list[tuple[str, str]], history: dict | None = None) -> SourceEntity | None:
    """Insert an entity of ``fields`` (checked) with ``aliases``, audited ("create", with
    ``history`` in the event: where a split took it from); None when its name is taken (by
    another transaction at the same moment too: the database keeps one per key)."""
    connection = session.connection()
    now = utcnow()
    row = {key: None for key in FIELDS} | fields | {
        "project_id": project.id, "name_key": normalised(fields["name"]), "created_by": actor.id, "version": 1,
        "created_at": now, "updated_at": now}
    entity_id = connection.execute(_INSERT[connection.dialect.name], row).scalar()
    if entity_id is None:
        return None
    entity = session.get(SourceEntity, entity_id)
    _set_aliases(session, entity, aliases)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=entity, after=entity_json(entity) | (history or {}))
    return entity


def _set_aliases(session: Session, entity: SourceEntity, aliases: list[tuple[str, str]]) -> None:
    """Make the entity's aliases exactly ``aliases`` ((alias, key), keys distinct), keeping the
    rows that stay; an alias another entity of the project has is a 409."""
    wanted = dict((key, alias) for alias, key in aliases)
    for row in list(entity.aliases):
        if row.alias_key not in wanted:
            entity.aliases.remove(row)
        else:
            row.alias = wanted.pop(row.alias_key)
    session.flush()
    for key, alias in wanted.items():
        taken = _alias_owner(session, entity.project_id, key)
        if taken is not None:
            raise Conflict(f"“{alias}” is already an alias of {taken.entity.name} (entity {taken.entity_id})",
                           field="aliases")
        entity.aliases.append(SourceEntityAlias(project_id=entity.project_id, alias=alias, alias_key=key))


@writes(ANYONE)
@idempotent
def create_entity(session: Session, actor: Actor, project_id: int, data: dict) -> dict:
    """A new entity of the project: ``name`` and optionally kind, affiliation, anonymity,
    wikidata_id, gender, aliases. A name the project has (normalised) is a 409 naming it."""
    project = _reached(session, actor, project_id)
    fields = _checked_fields(project_codebook(project), data)
    key = normalised(fields["name"])
    aliases = _checked_aliases(data, key) or []
    entity = _new_entity(session, actor, project, fields, aliases)
    if entity is None:
        existing = survivor(session, _named(session, project.id, key))
        raise Conflict(f"the project has an entity named {existing.name} (entity {existing.id})", field="name",
                       current=entity_json(existing))
    return entity_json(entity)


ONLY_SUPERVISORS = "only a supervisor changes an entity someone else created"


def _may_change(session: Session, actor: Actor, entity: SourceEntity) -> bool:
    """A supervisor of its project changes any entity, an annotator those they created."""
    return _supervises(session, actor, entity.project_id) or entity.created_by == actor.id


@reads(ANYONE)
def get_entity(session: Session, actor: Actor, entity_id: int) -> dict:
    return entity_json(_entity(session, actor, entity_id))


@reads(ANYONE)
def entity_for(session: Session, actor: Actor, entity_id: int) -> dict:
    """The entity, with whether the actor may change it (``editable``; ``read_only``: why not)
    and the values its kind, anonymity and gender may take (``choices``; kind and anonymity:
    the codebook's, none when it has no such attribute)."""
    entity = _entity(session, actor, entity_id)
    codebook = project_codebook(session.get(Project, entity.project_id))
    refusal = ONLY_SUPERVISORS if not _may_change(session, actor, entity) else \
        f"this entity was merged into entity {entity.merged_into_id}: change that one" if entity.merged_into_id else None
    return entity_json(entity) | {"editable": refusal is None, "read_only": refusal, "choices": {
        "kind": list(attribute_values(codebook, KIND_ATTRIBUTE) or ()),
        "anonymity": list(attribute_values(codebook, ANONYMITY_ATTRIBUTE) or ()), "gender": list(GENDERS)}}


@writes(ANYONE)
@idempotent
def update_entity(session: Session, actor: Actor, entity_id: int, data: dict) -> dict:
    """Change an entity (``version`` as last seen; any of its fields, ``aliases`` all of them):
    a supervisor of its project any, an annotator those they created."""
    entity = _entity(session, actor, entity_id)
    if not _may_change(session, actor, entity):
        raise Forbidden(ONLY_SUPERVISORS, field="entity_id")
    _live(entity)
    sent = payload_field(data, "version", int)
    if sent != entity.version:
        raise Conflict(f"this entity was changed elsewhere: you sent version {sent}, the saved one is {entity.version}; "
                       "reload to see it", field="version", current=entity_json(entity))
    before = entity_json(entity)
    fields = _checked_fields(project_codebook(session.get(Project, entity.project_id)), data, entity)
    if "name" in fields:
        key = normalised(fields["name"])
        other = _named(session, entity.project_id, key)
        if other is not None and other.id != entity.id:
            raise Conflict(f"the project has an entity named {other.name} (entity {other.id})", field="name",
                           current=entity_json(other))
        entity.name_key = key
    for name, value in fields.items():
        setattr(entity, name, value)
    entity.updated_at = utcnow()  # the version moves on (once) even when only aliases change
    aliases = _checked_aliases(data, entity.name_key)
    if aliases is not None:
        _set_aliases(session, entity, aliases)
    session.flush()
    audit.record(session, actor=actor, action="update", entity=entity, before=before, after=entity_json(entity))
    return entity_json(entity)


# -- searching ------------------------------------------------------------------------------------

# How a name or alias matches a query, best first.
MATCHES = ("name", "alias", "in_text", "prefix", "word", "substring")


@reads(ANYONE)
def search(session: Session, actor: Actor, project_id: int, query: str, limit: int = SEARCH_LIMIT) -> dict:
    """The type-ahead: the project's entities (merged ones left out) whose name or an alias
    matches ``query``, both normalised, best first (MATCHES: the name itself, an alias, a name
    the query holds as whole words, as a span's text "Aslam Ghauri, the spokesperson" holds
    "Aslam Ghauri", a name starting with the query, a word of it starting so, the query inside
    it), then shorter names first. ``new``: the query as a new entity's name and why it cannot
    be one (None if it can: a pronoun, a name the project has)."""
    project = _reached(session, actor, project_id)
    if not 1 <= limit <= SEARCH_MAX:
        raise ServiceError(f"limit must be from 1 to {SEARCH_MAX}", field="limit")
    text = cleaned(query)[:NAME_MAX]
    key = normalised(text)
    answer = {"query": text, "entities": [], "pronoun": key in PRONOUNS, "new": {"name": text, "problem": None}}
    if not key:
        answer["new"]["problem"] = "type a name"
        return answer
    try:
        _checked_name(text)
    except ServiceError as refused:  # a pronoun, a character no name holds
        answer["new"]["problem"] = refused.message
    found = session.execute(_search_statement(project.id, key).limit(limit * 5)).all()
    seen: dict[int, dict] = {}
    for entity_id, rank, matched in found:
        if entity_id not in seen and len(seen) < limit:
            seen[entity_id] = {"match": MATCHES[rank], "matched": matched}
    entities = {entity.id: entity for entity in session.scalars(
        select(SourceEntity).where(SourceEntity.id.in_(seen)).options(selectinload(SourceEntity.aliases)))}
    answer["entities"] = [brief_json(entities[entity_id]) | {"aliases": [a.alias for a in entities[entity_id].aliases]}
                          | match for entity_id, match in seen.items()]
    taken = _named(session, project.id, key)
    if answer["new"]["problem"] is None and taken is not None:
        answer["new"]["problem"] = f"the project has an entity named {taken.name}"
    return answer


def _search_statement(project_id: int, key: str):
    """(entity id, rank in MATCHES, the name or alias matched) of every match, best first."""
    names = (select(SourceEntity.id.label("entity_id"), SourceEntity.name_key.label("key"),
                    false().label("is_alias"), SourceEntity.name.label("text"), SourceEntity.name.label("name"))
             .where(SourceEntity.project_id == project_id, SourceEntity.merged_into_id.is_(None)))
    aliases = (select(SourceEntityAlias.entity_id, SourceEntityAlias.alias_key, true(), SourceEntityAlias.alias,
                      SourceEntity.name)
               .join(SourceEntity, SourceEntity.id == SourceEntityAlias.entity_id)
               .where(SourceEntityAlias.project_id == project_id, SourceEntity.merged_into_id.is_(None)))
    keys = union_all(names, aliases).subquery()
    # Keys hold letters, digits and single spaces only (normalised), the query too: no LIKE
    # wildcard can be in either.
    inside = literal(f" {key} ").like(literal("% ") + keys.c.key + literal(" %"))
    rank = case(
        ((keys.c.key == key) & (keys.c.is_alias == false()), 0),
        (keys.c.key == key, 1),
        (inside, 2),
        (keys.c.key.like(f"{key}%"), 3),
        (keys.c.key.like(f"% {key}%"), 4),
        else_=5,
    )
    return (select(keys.c.entity_id, rank.label("rank"), keys.c.text)
            .where(or_(keys.c.key.like(f"%{key}%"), inside))
            .order_by(rank, func.length(keys.c.name), keys.c.name, keys.c.entity_id))


# -- linking spans (called by annotations' span writes, in their transaction) ----------------------------


@writes(ANYONE)
def span_entity(session: Session, actor: Actor, document_id: int, codebook: Codebook, layer: str, label: str,
                data: dict, current: int | None) -> int | None:
    """The entity a span of ``layer`` and ``label`` on the document links to once a create or
    update sending ``data`` is saved (``current``: its entity before). ``entity_id``: that
    entity of the document's project (a merged one's survivor), or null to unlink;
    ``entity_name``: the project's entity of that name, made now (audited) if it has none.
    Neither sent: as it was, unless the span's label is no longer the source role's.
    Only spans of the source role's label are linked (400 otherwise)."""
    source = (layer, label) in source_labels(codebook)
    if data.get("entity_name") is not None:
        if data.get("entity_id") is not None:
            raise ServiceError("send entity_id or entity_name, not both", field="entity_name")
        name, key = _checked_name(data["entity_name"], "entity_name")
        _require_source(source, "entity_name", codebook)
        return _entity_named(session, actor, session.get(Project, _project_of(session, document_id)), name, key).id
    if "entity_id" in data:
        entity_id = payload_field(data, "entity_id", int, default=None)
        if entity_id is None:
            return None
        _require_source(source, "entity_id", codebook)
        entity = session.get(SourceEntity, entity_id) if 0 < entity_id <= ID_MAX else None
        if entity is None or entity.project_id != _project_of(session, document_id):
            raise NotFound("no such source entity in this project", field="entity_id")
        return survivor(session, entity).id
    return current if source else None


def _require_source(source: bool, field: str, codebook: Codebook) -> None:
    if not source:
        labels = ", ".join(sorted(label for _, label in source_labels(codebook))) or "no label"
        raise ServiceError(f"only a span of the source role's label ({labels}) is linked to a source entity", field=field)


def _project_of(session: Session, document_id: int) -> int:
    return session.scalar(select(Document.project_id).where(Document.id == document_id))


def _entity_named(session: Session, actor: Actor, project: Project, name: str, key: str) -> SourceEntity:
    """The project's entity whose name has ``key`` (a merged one's survivor), made (named
    ``name``) if none has."""
    entity = _named(session, project.id, key) or _new_entity(session, actor, project, {"name": name}, [])
    return survivor(session, entity or _named(session, project.id, key))  # None: made at the same moment elsewhere


@writes(ANYONE)
def record_link(session: Session, actor: Actor, span_id: int, document_id: int, before: int | None,
                after: int | None) -> None:
    """Audit a span's link changing from entity ``before`` to ``after`` (either None) on the
    entities: "unlink" on the one it left, "link" on the one it joined."""
    if before == after:
        return
    mention = {"span_id": span_id, "document_id": document_id}
    for action, entity_id in (("unlink", before), ("link", after)):
        if entity_id is not None:
            audit.record_many(session, actor=actor, action=action, entity_type=SourceEntity.__tablename__,
                              changes=[(entity_id, None, mention)])


# -- merging and splitting (supervisors) ------------------------------------------------------------


def _moved_spans(session: Session, from_id: int, to_id: int, span_ids: list[int] | None = None) -> list[int]:
    """Re-point the spans linking entity ``from_id`` (those of ``span_ids`` only, if given) to
    ``to_id``; their ids. A registry change, not an edit of the spans: their versions stay."""
    query = select(Span.id).where(Span.entity_id == from_id)
    if span_ids is not None:
        query = query.where(Span.id.in_(span_ids))
    moved = sorted(session.scalars(query))
    if moved:
        session.execute(update(Span).where(Span.id.in_(moved)).values(entity_id=to_id),
                        execution_options={"synchronize_session": False})
        for span_id in moved:  # a copy the session holds reads the new link
            loaded = session.identity_map.get(session.identity_key(Span, span_id))
            if loaded is not None:
                session.expire(loaded, ["entity_id"])
    return moved


@writes(SUPERVISORS)
@idempotent
def merge_entities(session: Session, actor: Actor, entity_id: int, data: dict) -> dict:
    """Merge entity ``other_id`` into this one (the survivor): its mentions and aliases move
    here, its name becomes an alias here (unless an alias of the project has it already), this
    one's empty fields take its values, and entities merged into it before point here. The
    other keeps its row, ``merged_into_id`` this one. Audited on both ("merge" here, with the
    spans and aliases that moved; "merged" there). ``version``, if sent: this one's."""
    entity = _supervised(session, actor, entity_id)
    other_id = payload_field(data, "other_id", int)
    other = session.get(SourceEntity, other_id) if 0 < other_id <= ID_MAX else None
    if other is None or other.project_id != entity.project_id:
        raise NotFound("no such source entity in this project", field="other_id")
    if other.id == entity.id:
        raise ServiceError("an entity is not merged into itself", field="other_id")
    _live(entity)
    if other.merged_into_id is not None:
        raise Conflict(f"entity {other.id} was merged into entity {other.merged_into_id} already", field="other_id")
    if "version" in data and payload_field(data, "version", int) != entity.version:
        raise Conflict("this entity was changed elsewhere; reload to see it", field="version", current=entity_json(entity))
    before, other_before = entity_json(entity), entity_json(other)
    session.flush()
    spans = _moved_spans(session, other.id, entity.id)
    moved_aliases = [alias.alias for alias in other.aliases]
    for alias in list(other.aliases):
        alias.entity = entity
    session.flush()
    alias_added = None
    if _alias_owner(session, entity.project_id, other.name_key) is None:
        entity.aliases.append(SourceEntityAlias(project_id=entity.project_id, alias=other.name, alias_key=other.name_key))
        alias_added = other.name
    filled = {}
    for field in FIELDS[1:]:
        if getattr(entity, field) is None and getattr(other, field) is not None:
            filled[field] = getattr(other, field)
            setattr(entity, field, filled[field])
    earlier = sorted(session.scalars(select(SourceEntity.id).where(SourceEntity.merged_into_id == other.id)))
    if earlier:
        session.execute(update(SourceEntity).where(SourceEntity.id.in_(earlier)).values(merged_into_id=entity.id),
                        execution_options={"synchronize_session": False})
    other.merged_into_id = entity.id
    entity.updated_at = other.updated_at = utcnow()
    session.flush()
    session.expire(entity, ["aliases"])
    session.expire(other, ["aliases"])
    moves = {"spans": spans, "moved_aliases": moved_aliases, "alias_added": alias_added, "filled": filled,
             "merged_before": earlier}
    audit.record(session, actor=actor, action="merge", entity=entity, before=before,
                 after=entity_json(entity) | {"merged": other.id} | moves)
    audit.record(session, actor=actor, action="merged", entity=other, before=other_before,
                 after=entity_json(other) | {"merged_into": entity.id})
    return entity_json(entity) | {"merged": other.id} | moves


@writes(SUPERVISORS)
@idempotent
def split_entity(session: Session, actor: Actor, entity_id: int, data: dict) -> dict:
    """Move the mentions ``span_ids`` (spans linking this entity) and the aliases ``aliases``
    (this entity's, by text) to a new entity named ``name`` (with the other fields sent:
    kind, affiliation, anonymity, wikidata_id, gender). At least one mention or alias moves.
    Audited: "split" here, with what moved; "create" on the new entity, naming this one."""
    entity = _supervised(session, actor, entity_id)
    _live(entity)
    project = session.get(Project, entity.project_id)
    span_ids = payload_field(data, "span_ids", list, default=[])
    if not all(isinstance(span_id, int) and not isinstance(span_id, bool) for span_id in span_ids):
        raise ServiceError("span_ids must be a list of span ids", field="span_ids")
    linked = set(session.scalars(select(Span.id).where(Span.entity_id == entity.id, Span.id.in_(
        [span_id for span_id in span_ids if 0 < span_id <= ID_MAX]))))
    if missing := sorted(set(span_ids) - linked):
        raise ServiceError(f"span {missing[0]} is not a mention of this entity", field="span_ids")
    wanted = payload_field(data, "aliases", list, default=[])
    own = {alias.alias_key: alias for alias in entity.aliases}
    moving = []
    for index, value in enumerate(wanted):
        if not isinstance(value, str) or normalised(value) not in own:
            raise ServiceError(f"aliases[{index}] is not an alias of this entity", field="aliases")
        if own[normalised(value)] not in moving:
            moving.append(own[normalised(value)])
    if not linked and not moving:
        raise ServiceError("choose the mentions or aliases that move to the new entity", field="span_ids")
    fields = _checked_fields(project_codebook(project), data)
    before = entity_json(entity)
    for alias in moving:
        entity.aliases.remove(alias)
    session.flush()
    new = _new_entity(session, actor, project, fields, [(alias.alias, alias.alias_key) for alias in moving],
                      {"split_from": entity.id})
    if new is None:
        existing = _named(session, project.id, normalised(fields["name"]))
        raise Conflict(f"the project has an entity named {existing.name} (entity {existing.id}): merge into it instead",
                       field="name", current=entity_json(existing))
    spans = _moved_spans(session, entity.id, new.id, sorted(linked))
    entity.updated_at = utcnow()
    session.flush()
    moves = {"into": new.id, "spans": spans, "moved_aliases": [alias.alias for alias in moving]}
    audit.record(session, actor=actor, action="split", entity=entity, before=before, after=entity_json(entity) | moves)
    return entity_json(new) | {"split_from": entity.id, "spans": spans}


# -- supervisors' pages ------------------------------------------------------------------------


class RegistryRow(NamedTuple):
    entity: SourceEntity
    mentions: int  # spans linking it, every annotator's and gold's
    documents: int  # documents they are in


def _counts(project_id: int):
    """Per entity of the project: its mentions and the documents they are in."""
    return (select(Span.entity_id, func.count(Span.id).label("mentions"),
                   func.count(func.distinct(Span.document_id)).label("documents"))
            .where(Span.entity_id.in_(select(SourceEntity.id).where(SourceEntity.project_id == project_id)))
            .group_by(Span.entity_id).subquery())


@reads(SUPERVISORS)
def registry(session: Session, actor: Actor, project_id: int, page: int = 1, query: str = "") -> dict:
    """A page of the project's entities (merged ones left out), most mentioned first, those
    matching ``query`` (a name or alias holding it, normalised) only when one is given."""
    project = get_project(session, actor, project_id)
    counts = _counts(project.id)
    wanted = [SourceEntity.project_id == project.id, SourceEntity.merged_into_id.is_(None)]
    if key := normalised(query or ""):
        wanted.append(or_(SourceEntity.name_key.like(f"%{key}%"), SourceEntity.id.in_(
            select(SourceEntityAlias.entity_id).where(SourceEntityAlias.project_id == project.id,
                                                      SourceEntityAlias.alias_key.like(f"%{key}%")))))
    mentions, documents = func.coalesce(counts.c.mentions, 0), func.coalesce(counts.c.documents, 0)
    rows = session.execute(cut(
        select(SourceEntity, mentions, documents).outerjoin(counts, counts.c.entity_id == SourceEntity.id)
        .where(*wanted).order_by(mentions.desc(), SourceEntity.name_key, SourceEntity.id)
        .options(selectinload(SourceEntity.aliases)),
        page, REGISTRY_PAGE_SIZE)).all()
    total = session.scalar(select(func.count(SourceEntity.id)).where(*wanted))
    merged = session.scalar(select(func.count(SourceEntity.id)).where(
        SourceEntity.project_id == project.id, SourceEntity.merged_into_id.is_not(None)))
    return {"project": project, "query": cleaned(query or ""), "merged": merged,
            "codebook": project_codebook(project),
            "entities": page_of([RegistryRow(*row) for row in rows], page, REGISTRY_PAGE_SIZE, total)}


class Mention(NamedTuple):
    span_id: int
    document_id: int
    title: str
    language: str
    label: str
    text: str
    start: int
    annotator: str


@reads(SUPERVISORS)
def entity_page(session: Session, actor: Actor, entity_id: int, page: int = 1) -> dict:
    """What an entity's page shows: the entity, its project and codebook, a page of its mentions
    (by document, then place), how many in each document, the entities merged into it, the one
    it was merged into, and its history."""
    entity = _supervised(session, actor, entity_id)
    project = session.get(Project, entity.project_id)
    rows = session.execute(cut(
        select(Span.id, Span.document_id, Document.title, Document.language, Span.label, Span.text, Span.start,
               User.username)
        .join(Document, Document.id == Span.document_id).join(User, User.id == Span.user_id)
        .where(Span.entity_id == entity.id).order_by(Span.document_id, Span.start, Span.id),
        page, MENTIONS_PAGE_SIZE)).all()
    total = session.scalar(select(func.count(Span.id)).where(Span.entity_id == entity.id))
    per_document = session.execute(
        select(Document.id, Document.title, Document.language, func.count(Span.id).label("mentions"))
        .join(Span, Span.document_id == Document.id).where(Span.entity_id == entity.id)
        .group_by(Document.id, Document.title, Document.language).order_by(func.count(Span.id).desc(), Document.id)
        .limit(MENTIONS_PAGE_SIZE)).all()
    return {
        "entity": entity, "project": project, "codebook": project_codebook(project),
        "mentions": page_of([Mention(*row) for row in rows], page, MENTIONS_PAGE_SIZE, total),
        "documents": per_document,
        "merged_from": session.scalars(select(SourceEntity).where(SourceEntity.merged_into_id == entity.id)
                                       .order_by(SourceEntity.name_key)).all(),
        "merged_into": session.get(SourceEntity, entity.merged_into_id) if entity.merged_into_id else None,
        "history": history(session, actor, entity.id),
    }


@reads(SUPERVISORS)
def history(session: Session, actor: Actor, entity_id: int) -> list[dict]:
    """The entity's audit events, oldest first: created, changed, merged, split, each span
    linked and unlinked; who (a user name; None: the command line) and when."""
    entity = _supervised(session, actor, entity_id)
    rows = session.execute(
        select(Event, User.username).outerjoin(User, User.id == Event.user_id)
        .where(Event.entity_type == SourceEntity.__tablename__, Event.entity_id == entity.id).order_by(Event.id)).all()
    return [{"id": event.id, "at": event.created_at.isoformat(), "user": username, "action": event.action,
             "before": event.before, "after": event.after} for event, username in rows]


@reads(SUPERVISORS)
def merge_candidates(session: Session, actor: Actor, entity_id: int, query: str = "") -> list[SourceEntity]:
    """Entities of the project that could be merged into this one: those :func:`search` finds
    for ``query`` (else the project's first by name), this one left out."""
    entity = _supervised(session, actor, entity_id)
    if key := normalised(query or ""):
        ids = list(dict.fromkeys(row[0] for row in session.execute(_search_statement(entity.project_id, key)
                                                                   .limit(SEARCH_MAX * 5))))
        found = {e.id: e for e in session.scalars(select(SourceEntity).where(SourceEntity.id.in_(ids)))}
        return [found[i] for i in ids if i != entity.id][:SEARCH_MAX]
    return session.scalars(select(SourceEntity).where(
        SourceEntity.project_id == entity.project_id, SourceEntity.merged_into_id.is_(None),
        SourceEntity.id != entity.id).order_by(SourceEntity.name_key).limit(SEARCH_MAX)).all()


# -- imports (annotator import-annotations of this project's JSONL) ----------------------------------


def imported_record(codebook: Codebook, data: object) -> tuple[str, dict, list[tuple[str, str]]]:
    """(normalised name, fields, (alias, key) list) of an entity as exports carry it
    (:func:`export_json`), checked as a new entity's against ``codebook``; its id is the file's."""
    if not isinstance(data, dict):
        raise ServiceError("an entity must be an object")
    fields = _checked_fields(codebook, {field: data[field] for field in FIELDS if field in data})
    key = normalised(fields["name"])
    return key, fields, _checked_aliases({"aliases": data.get("aliases") or []}, key) or []


@writes(SUPERVISORS)
def imported_entities(session: Session, actor: Actor, project_id: int,
                      records: dict[str, tuple[dict, list[tuple[str, str]]]], source: str) -> dict:
    """The project's entity for each normalised name of ``records`` ((fields, aliases) as
    :func:`imported_record` checked them): the entity of that name (a merged one's survivor),
    its empty fields given the record's and the record's aliases it lacks added; else a new one.
    An alias another entity of the project has stays that one's (``skipped``). Audited ("create"
    or "update", with ``source``). ``{ids: {key: entity id}, created, matched, skipped}``."""
    project = get_project(session, actor, project_id)
    ids, created, matched, skipped = {}, 0, 0, []
    for key, (fields, aliases) in records.items():
        existing = _named(session, project.id, key)
        entity = survivor(session, existing) if existing is not None else None
        free = []
        for alias, alias_key in aliases:
            owner = _alias_owner(session, project.id, alias_key)
            if owner is not None and (entity is None or owner.entity_id != entity.id):
                skipped.append(f"“{alias}” (for {fields['name']}) is an alias of {owner.entity.name} "
                               f"(entity {owner.entity_id}) already")
            elif owner is None and (entity is None or alias_key != entity.name_key):
                free.append((alias, alias_key))
        if entity is None:
            entity = _new_entity(session, actor, project, fields, free, {"source": source})
            if entity is None:  # made at the same moment elsewhere
                raise Conflict(f"an entity named {fields['name']} was made meanwhile: import again", field="entities")
            created += 1
        else:
            matched += 1
            filled = {field: value for field, value in fields.items()
                      if field != "name" and value is not None and getattr(entity, field) is None}
            if filled or free:
                before = entity_json(entity)
                for field, value in filled.items():
                    setattr(entity, field, value)
                entity.aliases.extend(SourceEntityAlias(project_id=project.id, alias=alias, alias_key=alias_key)
                                      for alias, alias_key in free)
                entity.updated_at = utcnow()
                session.flush()
                audit.record(session, actor=actor, action="update", entity=entity, before=before,
                             after=entity_json(entity) | {"source": source})
        ids[key] = entity.id
    return {"ids": ids, "created": created, "matched": matched, "skipped": skipped}


# -- exports --------------------------------------------------------------------------------------


def export_json(entity: SourceEntity) -> dict:
    """An entity as exports carry it (docs/export-format.md, "Source entities")."""
    return {"id": entity.id, "name": entity.name, "kind": entity.kind, "affiliation": entity.affiliation,
            "anonymity": entity.anonymity, "wikidata_id": entity.wikidata_id, "gender": entity.gender,
            "aliases": [alias.alias for alias in entity.aliases]}


def exported_entities(session: Session, entity_ids: Iterable[int]) -> dict[int, dict]:
    """:func:`export_json` of the entities with these ids, by id: those a batch of document
    records links to (services.exports)."""
    wanted = sorted(set(entity_ids))
    if not wanted:
        return {}
    return {entity.id: export_json(entity) for entity in session.scalars(
        select(SourceEntity).where(SourceEntity.id.in_(wanted)).options(selectinload(SourceEntity.aliases)))}


@reads(SUPERVISORS)
def registry_records(session: Session, actor: Actor, project_id: int) -> list[dict]:
    """Every entity of the project, merged ones too, by id: :func:`export_json` with
    ``merged_into_id``, ``mentions`` and ``documents`` (the registry download)."""
    project = get_project(session, actor, project_id)
    counts = _counts(project.id)
    rows = session.execute(
        select(SourceEntity, func.coalesce(counts.c.mentions, 0), func.coalesce(counts.c.documents, 0))
        .outerjoin(counts, counts.c.entity_id == SourceEntity.id)
        .where(SourceEntity.project_id == project.id).order_by(SourceEntity.id)
        .options(selectinload(SourceEntity.aliases))).all()
    return [export_json(entity) | {"merged_into_id": entity.merged_into_id, "mentions": mentions, "documents": documents}
            for entity, mentions, documents in rows]
