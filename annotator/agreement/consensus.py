"""Proposed gold from several annotators' work: pure functions (no database, no web).

Rules (docs/adjudication.md):

- A sentence label is proposed by plurality: the value most annotators chose, when at least
  ``min_agree`` of them chose it. When two or more values share the highest count the unit
  is a *tie*: nothing is proposed and it stays open for a person (never resolved silently).
- Spans of one label are grouped into *clusters*: spans linked by overlapping characters,
  transitively, across annotators. In each cluster the spans vote by their extent, one vote
  per annotator per extent.

  ``exact`` matching: the top value is proposed when at least ``min_agree`` annotators
  marked exactly it; its agreed annotators are those.
  ``overlap`` matching: the top value is proposed when at least ``min_agree`` annotators
  have an item in the cluster; its agreed annotators are all of them.

  Either way, when two or more values share the top count (and the threshold is met), the
  cluster is a tie: nothing is proposed and the candidates are reported as open.
- Attributions are taken as units (:func:`attribution_proposals`): the annotators'
  attributions are grouped by the agreement report's alignment (the overlap of their cue and
  content parts), at most one per annotator in a group, and a group that at least
  ``min_agree`` annotators share is proposed part by part and attribute by attribute; what
  is tied stays open.

Annotator ids are any sortable hashables; agreed ids come back sorted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .attributions import ALIGNING_ROLES, Attribution, alignment_weight

MATCHINGS = ("exact", "overlap")

Span = tuple[int, int, Hashable]  # (start, end, label), end exclusive


def _check(min_agree: int, matching: str = "exact") -> None:
    if isinstance(min_agree, bool) or not isinstance(min_agree, int) or min_agree < 1:
        raise ValueError(f"min_agree must be a whole number of at least 1, not {min_agree!r}")
    if matching not in MATCHINGS:
        raise ValueError(f"matching must be one of {', '.join(MATCHINGS)}, not {matching!r}")


def vote_key(value: Any) -> Hashable:
    """A label value as something countable: a multiple-choice value is its sorted tuple."""
    return tuple(sorted(value)) if isinstance(value, list) else value


def majority(values: Mapping[Hashable, Any], min_agree: int) -> tuple[Any, list, bool]:
    """(value, agreed annotators, tie) of one unit's values by annotator.

    Annotators without a value (None or an empty list) do not vote. A value is proposed when
    it has the most votes, alone, and at least ``min_agree`` of them; a shared top is a tie
    (value None, no one agreed, tie True) whatever the threshold; too few votes for the top
    value give (None, [], False)."""
    _check(min_agree)
    voters = {annotator: value for annotator, value in values.items() if value is not None and value != []}
    if not voters:
        return None, [], False
    counts = Counter(vote_key(value) for value in voters.values())
    ranked = counts.most_common()
    top_key, top = ranked[0]
    if len(ranked) > 1 and ranked[1][1] == top:
        return None, [], True
    if top < min_agree:
        return None, [], False
    agreed = sorted(annotator for annotator, value in voters.items() if vote_key(value) == top_key)
    return voters[agreed[0]], agreed, False


@dataclass(frozen=True)
class Open:
    """A cluster left for a person: its tied candidate values and who marked anything in it."""

    candidates: list
    annotators: list


@dataclass(frozen=True)
class Consensus:
    proposed: list[tuple[Any, list]] = field(default_factory=list)  # (value, agreed annotators)
    ties: list[Open] = field(default_factory=list)


def _clusters(items: list[tuple[Hashable, Any]], linked: Callable[[Any, Any], bool]) -> list[list[int]]:
    """Connected components of the items (annotator, value) under ``linked`` (union-find)."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if linked(items[i][1], items[j][1]):
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(items)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _consensus(
    by_annotator: Mapping[Hashable, Sequence[Any]],
    key: Callable[[Any], Hashable],
    linked: Callable[[Any, Any], bool],
    order: Callable[[Any], Any],
    min_agree: int,
    matching: str,
) -> Consensus:
    _check(min_agree, matching)
    # One item per annotator and value: an annotator's duplicates vote once.
    items, seen = [], set()
    for annotator in sorted(by_annotator):
        for value in by_annotator[annotator] or ():
            if (annotator, key(value)) not in seen:
                seen.add((annotator, key(value)))
                items.append((annotator, value))
    proposed, ties = [], []
    for cluster in _clusters(items, linked):
        voters: dict[Hashable, list] = {}
        values: dict[Hashable, Any] = {}
        for i in cluster:
            annotator, value = items[i]
            voters.setdefault(key(value), []).append(annotator)
            values.setdefault(key(value), value)
        everyone = sorted({items[i][0] for i in cluster})
        ranked = sorted(voters, key=lambda k: (-len(voters[k]), order(values[k])))
        top = len(voters[ranked[0]])
        support = top if matching == "exact" else len(everyone)
        if support < min_agree:
            continue
        tied = [k for k in ranked if len(voters[k]) == top]
        if len(tied) > 1:
            ties.append(Open([values[k] for k in tied], everyone))
            continue
        agreed = sorted(voters[ranked[0]]) if matching == "exact" else everyone
        proposed.append((values[ranked[0]], agreed))
    proposed.sort(key=lambda item: order(item[0]))
    ties.sort(key=lambda item: order(item.candidates[0]))
    return Consensus(proposed, ties)


def span_consensus(
    spans_by_annotator: Mapping[Hashable, Sequence[Span]], min_agree: int, matching: str = "exact"
) -> Consensus:
    """Proposed spans (start, end, label) with their agreed annotators, and the open ties.
    Spans link when they have the same label and share at least one character."""
    return _consensus(
        spans_by_annotator,
        key=lambda span: (int(span[0]), int(span[1]), span[2]),
        linked=lambda a, b: a[2] == b[2] and a[0] < b[1] and b[0] < a[1],
        order=lambda span: (span[0], span[1], repr(span[2])),
        min_agree=min_agree,
        matching=matching,
    )


def attribution_key(attribution: Attribution) -> Hashable:
    """Everything an attribution says: its parts by role and its attributes."""
    parts = tuple((role, tuple(attribution.spans(role))) for role in sorted(attribution.parts) if attribution.spans(role))
    attributes = tuple(sorted((name, value) for name, value in attribution.attributes.items() if value is not None))
    return parts, attributes


# -- attributions as units ------------------------------------------------------------------

Extent = tuple[int, int]


@dataclass(frozen=True)
class ProposedPart:
    role: str
    start: int
    end: int
    agreed: list  # exact: members with exactly this part; overlap: members with a part of the role overlapping it


@dataclass(frozen=True)
class OpenPart:
    """A role left for a person: each candidate extent with the members who marked it."""

    role: str
    candidates: list[tuple[int, int, list]]  # (start, end, annotators), by start and end


@dataclass(frozen=True)
class OpenAttribute:
    name: str
    candidates: list[tuple[Any, list]]  # (value, annotators), most votes first


@dataclass(frozen=True)
class AttributionProposal:
    """One aligned group of attributions and what it proposes. ``members``: annotator -> the
    index of their attribution in the sequence given for them."""

    members: dict[Hashable, int]
    parts: list[ProposedPart]
    open_parts: list[OpenPart]
    attributes: dict[str, Any]
    attribute_agreed: dict[str, list]
    open_attributes: list[OpenAttribute]
    complete: bool

    @property
    def agreed(self) -> list:
        return sorted(self.members)

    def unit(self) -> Attribution:
        """The decided parts and attributes as an attribution (what pre-filling writes)."""
        parts: dict[str, list[Extent]] = {}
        for part in self.parts:
            parts.setdefault(part.role, []).append((part.start, part.end))
        return Attribution(parts=parts, attributes=dict(self.attributes))


def attribution_groups(
    attributions_by_annotator: Mapping[Hashable, Sequence[Attribution]], aligning: Sequence[str] = ALIGNING_ROLES,
) -> list[dict[Hashable, int]]:
    """The annotators' attributions grouped as the agreement alignment pairs them, extended to
    any number of annotators: pairs of attributions of different annotators whose ``aligning``
    parts share characters are taken heaviest first (ties: in the order of the annotators, then
    of their attributions), each joining the two groups unless that would put two attributions
    of one annotator in a group. So a group holds at most one attribution per annotator: of two
    competing for the same cue, the better-overlapping one joins, the other forms its own group.
    Every attribution is in exactly one group; groups as {annotator: index}, ordered by their
    first character."""
    items = [(annotator, index, attribution) for annotator in sorted(attributions_by_annotator)
             for index, attribution in enumerate(attributions_by_annotator[annotator] or ())]
    pairs = sorted(
        (-weight, x, y)
        for x in range(len(items)) for y in range(x + 1, len(items))
        if items[x][0] != items[y][0] and (weight := alignment_weight(items[x][2], items[y][2], aligning)) > 0
    )
    group_of = list(range(len(items)))
    members: dict[int, dict[Hashable, int]] = {i: {items[i][0]: i} for i in range(len(items))}
    for _, x, y in pairs:
        gx, gy = group_of[x], group_of[y]
        if gx != gy and not members[gx].keys() & members[gy].keys():
            members[gx].update(members.pop(gy))
            for i in members[gx].values():
                group_of[i] = gx

    def first_character(group: dict[Hashable, int]) -> tuple:
        starts = [start for i in group.values() for role in items[i][2].parts for start, _ in items[i][2].spans(role)]
        return (min(starts) if starts else -1, min(group.values()))

    return [{annotator: items[i][1] for annotator, i in group.items()}
            for group in sorted(members.values(), key=first_character)]


def _exact_role(filled: dict[Hashable, tuple[Extent, ...]], min_agree: int) -> list[ProposedPart] | None:
    """The role's extents the most members marked exactly (all of their extents of the role
    as one value), when alone on top and marked by at least ``min_agree``; else None."""
    counts = Counter(filled.values()).most_common()
    (top, votes), tied = counts[0], len(counts) > 1 and counts[1][1] == counts[0][1]
    if tied or votes < min_agree:
        return None
    return [(start, end, sorted(a for a, extents in filled.items() if (start, end) in extents)) for start, end in top]


def _overlap_cluster(cluster: list[tuple[Hashable, Extent]], min_agree: int) -> tuple[int, int, list] | None:
    """A cluster of overlapping spans of one role: the extent the most members marked exactly,
    alone on top, when at least ``min_agree`` members have a span overlapping it; else None."""
    voters: dict[Extent, set] = {}
    for annotator, extent in cluster:
        voters.setdefault(extent, set()).add(annotator)
    ranked = sorted(voters, key=lambda extent: (-len(voters[extent]), extent))
    if len(ranked) > 1 and len(voters[ranked[1]]) == len(voters[ranked[0]]):
        return None
    start, end = ranked[0]
    support = sorted({annotator for annotator, (s, e) in cluster if s < end and start < e})
    return (start, end, support) if len(support) >= min_agree else None


def _candidates(spans: list[tuple[Hashable, Extent]]) -> list[tuple[int, int, list]]:
    by_extent: dict[Extent, set] = {}
    for annotator, extent in spans:
        by_extent.setdefault(extent, set()).add(annotator)
    return [(start, end, sorted(by_extent[(start, end)])) for start, end in sorted(by_extent)]


def _role_proposal(units: dict[Hashable, Attribution], role: str, required: bool, min_agree: int,
                   matching: str) -> tuple[list[ProposedPart], list[OpenPart]]:
    """One role of a group: its decided parts and what stays open (see attribution_proposals)."""
    filled = {annotator: tuple(unit.spans(role)) for annotator, unit in units.items() if unit.spans(role)}
    if not filled:
        return [], []
    spans = [(annotator, extent) for annotator, extents in filled.items() for extent in extents]
    if matching == "exact":
        top = _exact_role(filled, min_agree)
        decided, undecided = (top, []) if top is not None else ([], [spans])
    else:
        decided, undecided = [], []
        for indices in _clusters(spans, lambda a, b: a[0] < b[1] and b[0] < a[1]):
            cluster = [spans[i] for i in indices]
            part = _overlap_cluster(cluster, min_agree)
            if part is None:
                undecided.append(cluster)
            else:
                decided.append(part)
    parts = [ProposedPart(role, start, end, agreed) for start, end, agreed in sorted(decided, key=lambda p: p[:2])]
    # Open: a cluster enough members filled but did not agree on (a tie); one too few filled
    # only when the role is required and nothing of it was decided (so the gap shows).
    opened = [cluster for cluster in undecided
              if len({annotator for annotator, _ in cluster}) >= min_agree or (required and not parts)]
    return parts, [OpenPart(role, _candidates(cluster)) for cluster in opened]


def _attribute_proposal(units: dict[Hashable, Attribution], name: str, required: bool,
                        min_agree: int) -> tuple[Any, list, OpenAttribute | None]:
    values = {annotator: unit.attributes.get(name) for annotator, unit in units.items()}
    value, agreed, tie = majority(values, min_agree)
    voters = {annotator: v for annotator, v in values.items() if v is not None and v != []}
    if value is not None or not voters or not (tie or len(voters) >= min_agree or required):
        return value, agreed, None
    by_value: dict[Hashable, list] = {}
    for annotator in sorted(voters):
        by_value.setdefault(vote_key(voters[annotator]), []).append(annotator)
    ranked = sorted(by_value, key=lambda key: (-len(by_value[key]), repr(key)))
    return None, [], OpenAttribute(name, [(voters[by_value[key][0]], by_value[key]) for key in ranked])


def attribution_proposals(
    attributions_by_annotator: Mapping[Hashable, Sequence[Attribution]],
    min_agree: int,
    matching: str = "exact",
    *,
    roles: Sequence[str] = (),
    required_roles: Sequence[str] = (),
    required_attributes: Sequence[str] = (),
    aligning: Sequence[str] = ALIGNING_ROLES,
) -> list[AttributionProposal]:
    """A proposal per group of :func:`attribution_groups` that at least ``min_agree``
    annotators share (docs/adjudication.md, "Attributions"), decided role by role and
    attribute by attribute; ``roles`` the relation's roles (besides any the attributions use).

    A role, ``exact``: the members' extents of the role (all of a member's, as one value) that
    most members marked, alone on top and marked by at least ``min_agree``. ``overlap``: the
    members' spans of the role cluster by overlap; in each cluster the extent most members
    marked exactly, alone on top, when at least ``min_agree`` members have a span of the role
    overlapping it. What is not decided is open when at least ``min_agree`` members filled it
    (they disagree: a tie, or no extent with enough votes), or when the role is required,
    someone filled it and nothing of it was decided; a role too few filled is otherwise left
    out. An attribute: :func:`majority` of the members' values; open on a tie, when at least
    ``min_agree`` members gave a value, or when it is required and someone gave one.
    ``complete``: nothing open, and every required role and attribute decided."""
    _check(min_agree, matching)
    proposals = []
    for group in attribution_groups(attributions_by_annotator, aligning):
        if len(group) < min_agree:
            continue
        units = {annotator: attributions_by_annotator[annotator][index] for annotator, index in group.items()}
        parts, open_parts = [], []
        for role in sorted(set(roles) | {role for unit in units.values() for role in unit.parts}):
            decided, opened = _role_proposal(units, role, role in required_roles, min_agree, matching)
            parts += decided
            open_parts += opened
        attributes, attribute_agreed, open_attributes = {}, {}, []
        names = set(required_attributes) | {name for unit in units.values() for name in unit.attributes}
        for name in sorted(names):
            value, agreed, opened = _attribute_proposal(units, name, name in required_attributes, min_agree)
            if value is not None:
                attributes[name], attribute_agreed[name] = value, agreed
            elif opened is not None:
                open_attributes.append(opened)
        decided_roles = {part.role for part in parts}
        complete = (not open_parts and not open_attributes and set(required_roles) <= decided_roles
                    and set(required_attributes) <= attributes.keys())
        proposals.append(AttributionProposal(dict(group), parts, open_parts, attributes, attribute_agreed,
                                             open_attributes, complete))
    return proposals
