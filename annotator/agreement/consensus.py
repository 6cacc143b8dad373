"""Proposed gold from several annotators' work: pure functions (no database, no web).

Rules (docs/adjudication.md):

- A sentence label is proposed by plurality: the value most annotators chose, when at least
  ``min_agree`` of them chose it. When two or more values share the highest count the unit
  is a *tie*: nothing is proposed and it stays open for a person (never resolved silently).
- Spans of one label (and attributions) are grouped into *clusters*: items linked by
  overlapping characters (attributions: by sharing characters of their cue or content parts,
  as the agreement alignment does), transitively, across annotators. In each cluster the
  items vote by their exact value (extent and label; an attribution's parts and attributes),
  one vote per annotator per value.

  ``exact`` matching: the top value is proposed when at least ``min_agree`` annotators
  marked exactly it; its agreed annotators are those.
  ``overlap`` matching: the top value is proposed when at least ``min_agree`` annotators
  have an item in the cluster; its agreed annotators are all of them.

  Either way, when two or more values share the top count (and the threshold is met), the
  cluster is a tie: nothing is proposed and the candidates are reported as open.

Annotator ids are any sortable hashables; agreed ids come back sorted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .attributions import Attribution, alignment_weight

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


def _attribution_order(attribution: Attribution) -> tuple:
    starts = [start for role in attribution.parts for start, _ in attribution.spans(role)]
    return (min(starts) if starts else -1, repr(attribution_key(attribution)))


def attribution_consensus(
    attributions_by_annotator: Mapping[Hashable, Sequence[Attribution]], min_agree: int, matching: str = "exact"
) -> Consensus:
    """Proposed attributions with their agreed annotators, and the open ties. Attributions
    link when their cue or content parts share characters (the agreement alignment weight);
    they vote by parts and attributes together."""
    return _consensus(
        attributions_by_annotator,
        key=attribution_key,
        linked=lambda a, b: alignment_weight(a, b) > 0,
        order=_attribution_order,
        min_agree=min_agree,
        matching=matching,
    )
