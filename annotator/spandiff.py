"""What annotators' spans and attributions of one sentence differ in: the words at their
boundaries, the parts an attribution lacks, the attribute values (docs/supervision.md, "Review").

Pure (no database, no Flask): the review page and the disagreement browser give it their spans
and attributions (anything with the models' fields) and render what it returns as text.

Boundaries are compared on character offsets and shown in whole words, the annotation page's
words (static/annotate.js, ``isW``): letters and digits with their marks; a zero-width
non-joiner or joiner (Urdu and Persian write them inside words) or a Hebrew geresh or gershayim
between two letters; a decimal or thousands separator between two digits. A span is compared
with the other annotators' spans of the same layer and label that overlap it:

- ``extra``: the words of the span that none of them includes (the whole span when none of
  them has an overlapping one);
- ``short``: where the span stops short of theirs, with the words they go on to (or begin
  with).

An attribute value differs when a counterpart holds another (or none): for a span, each other
annotator's overlapping span of the same label that shares most characters with it; for an
attribution, each other annotator's attribution that the agreement report would pair with it
(the weight of ``agreement.attributions.alignment_weight``, heaviest).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .agreement.attributions import Attribution as AttributionParts
from .agreement.attributions import alignment_weight
from .codebook import Codebook

INSIDE_WORD = frozenset("\u200c\u200d\u05f3\u05f4")
INSIDE_NUMBER = frozenset(".,\u066b\u066c")
SAME, EXTRA, SHORT = "same", "extra", "short"


def _letter_or_digit(text: str, i: int) -> bool:
    if not 0 <= i < len(text):
        return False
    category = unicodedata.category(text[i])
    return category[0] in "LN" or (category[0] == "M" and _letter_or_digit(text, i - 1))


def _digit(text: str, i: int) -> bool:
    return 0 <= i < len(text) and unicodedata.category(text[i])[0] == "N"


def is_word_character(text: str, i: int) -> bool:
    """Whether ``text[i]`` is part of a word (annotate.js's ``isW``)."""
    if _letter_or_digit(text, i):
        return True
    if not 0 <= i < len(text):
        return False
    if text[i] in INSIDE_WORD:
        return _letter_or_digit(text, i - 1) and _letter_or_digit(text, i + 1)
    return text[i] in INSIDE_NUMBER and _digit(text, i - 1) and _digit(text, i + 1)


def to_words(text: str, start: int, end: int, within: tuple[int, int] | None = None) -> tuple[int, int]:
    """[start, end) without spaces or punctuation at its ends, widened to the whole words it
    touches (no wider than ``within``); as it is when it holds no word character."""
    a, b = start, end
    while a < b and not is_word_character(text, a):
        a += 1
    while b > a and not is_word_character(text, b - 1):
        b -= 1
    if a >= b:
        return start, end
    low, high = within or (0, len(text))
    while a > low and is_word_character(text, a - 1):
        a -= 1
    while b < high and is_word_character(text, b):
        b += 1
    return a, b


@dataclass(frozen=True)
class Piece:
    """A stretch of a span's text: ``same``, ``extra`` (only this annotator includes it), or a
    ``short`` marker: the words the others include beyond this end (not part of the span)."""

    text: str
    kind: str


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def boundary_pieces(text: str, start: int, end: int, others: Iterable[tuple[int, int]]) -> tuple[Piece, ...]:
    """The span [start, end) of ``text`` (the document's), cut where its boundaries differ from
    those of ``others`` (the other annotators' spans of its label; those overlapping it count)."""
    around = sorted(o for o in others if _overlap(o, (start, end)))
    if not around:
        return (Piece(text[start:end], EXTRA),) if end > start else ()
    # Characters of the span no other span covers, grown to the words they touch.
    kinds = [EXTRA] * (end - start)
    for a, b in around:
        for i in range(max(a, start), min(b, end)):
            kinds[i - start] = SAME
    i = 0
    while i < len(kinds):
        if kinds[i] == EXTRA and (i == 0 or kinds[i - 1] == SAME):
            j = i
            while j < len(kinds) and kinds[j] == EXTRA:
                j += 1
            a, b = to_words(text, start + i, start + j, (start, end))
            for k in range(a - start, b - start):
                kinds[k] = EXTRA
            for k in range(start + i, a):  # spaces and punctuation at its edges: shared
                kinds[k - start] = SAME
            for k in range(b, start + j):
                kinds[k - start] = SAME
            i = max(j, b - start)
        else:
            i += 1
    pieces: list[Piece] = []
    first, last = min(a for a, _ in around), max(b for _, b in around)
    if first < start:
        a, b = to_words(text, first, start)
        pieces.append(Piece(text[a:min(b, start)] if b > a else text[first:start], SHORT))
    for i, kind in enumerate(kinds):
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(pieces[-1].text + text[start + i], kind)
        else:
            pieces.append(Piece(text[start + i], kind))
    if last > end:
        a, b = to_words(text, end, last)
        pieces.append(Piece(text[max(a, end):b] if b > a else text[end:last], SHORT))
    return tuple(pieces)


@dataclass(frozen=True)
class ValueShown:
    """An attribute's value (None: not set) and whether a counterpart holds another."""

    name: str
    value: Any
    differs: bool


def compare_values(names: Sequence[str], mine: Mapping[str, Any], theirs: Sequence[Mapping[str, Any]]) -> tuple[ValueShown, ...]:
    """Every attribute of ``names`` (then any other ``mine`` holds), differing from a counterpart's."""
    every = list(names) + sorted(set(mine) - set(names))
    return tuple(ValueShown(name, mine.get(name), any(t.get(name) != mine.get(name) for t in theirs)) for name in every)


@dataclass(frozen=True)
class SpanShown:
    span: Any  # the span (a models.Span, or anything with its fields)
    pieces: tuple[Piece, ...]
    attributes: tuple[ValueShown, ...]


def compare_spans(text: str, spans: Mapping[int, Sequence[Any]],
                  attribute_names: Callable[[str, str], Sequence[str]]) -> dict[int, list[SpanShown]]:
    """Each annotator's spans (``spans``: by user id, of one sentence) against the others'."""
    shown = {}
    alone = len(spans) < 2  # nobody to compare with
    for user, mine in spans.items():
        shown[user] = []
        for span in mine:
            alike = {other: [s for s in theirs if s.layer == span.layer and s.label == span.label
                             and _overlap((s.start, s.end), (span.start, span.end))]
                     for other, theirs in spans.items() if other != user}
            counterparts = [max(same, key=lambda s: (_overlap((s.start, s.end), (span.start, span.end)), -s.start))
                            for same in alike.values() if same]
            shown[user].append(SpanShown(
                span,
                (Piece(text[span.start:span.end], SAME),) if alone else
                boundary_pieces(text, span.start, span.end, [(s.start, s.end) for same in alike.values() for s in same]),
                compare_values(attribute_names(span.layer, span.label), span.attributes or {},
                               [s.attributes or {} for s in counterparts]),
            ))
    return shown


@dataclass(frozen=True)
class PartShown:
    """One part of an attribution (``span`` None: the attribution has no part of this role,
    which a counterpart has)."""

    role: str
    span: Any
    pieces: tuple[Piece, ...]
    differs: bool  # its boundaries differ from the counterparts' parts of its role, or it lacks one


@dataclass(frozen=True)
class AttributionShown:
    attribution: Any  # a models.Attribution, or anything with its fields (parts: role and span)
    parts: tuple[PartShown, ...]
    attributes: tuple[ValueShown, ...]
    alone: bool  # no other annotator has an attribution paired with it (while others annotated)


def _as_parts(attribution: Any) -> AttributionParts:
    parts: dict[str, list[tuple[int, int]]] = {}
    for part in attribution.parts:
        parts.setdefault(part.role, []).append((part.span.start, part.span.end))
    return AttributionParts(parts, attribution.attributes or {})


def compare_attributions(text: str, attributions: Mapping[int, Sequence[Any]], roles: Sequence[str],
                         aligning: Sequence[str], attribute_names: Sequence[str]) -> dict[int, list[AttributionShown]]:
    """Each annotator's attributions (by user id) against each other annotator's that the
    agreement report would pair with it: their parts, role by role in ``roles``' order, and
    their attributes."""
    as_parts = {user: [_as_parts(x) for x in mine] for user, mine in attributions.items()}
    shown = {}
    for user, mine in attributions.items():
        shown[user] = []
        for attribution, parts in zip(mine, as_parts[user]):
            counterparts = []
            for other, theirs in as_parts.items():
                weights = [alignment_weight(parts, t, aligning) for t in theirs]
                if other != user and weights and max(weights) > 0:
                    counterparts.append(theirs[weights.index(max(weights))])
            listed = []
            for role in list(roles) + sorted({p.role for p in attribution.parts} - set(roles)):
                theirs = [extent for c in counterparts for extent in c.spans(role)]
                own = sorted((p for p in attribution.parts if p.role == role), key=lambda p: (p.span.start, p.span.end))
                for part in own:
                    pieces = boundary_pieces(text, part.span.start, part.span.end, theirs) if counterparts else (
                        Piece(text[part.span.start:part.span.end], SAME),)
                    listed.append(PartShown(role, part.span, pieces, any(p.kind != SAME for p in pieces)))
                if not own and theirs:
                    listed.append(PartShown(role, None, (), True))
            shown[user].append(AttributionShown(
                attribution, tuple(listed),
                compare_values(attribute_names, attribution.attributes or {}, [dict(c.attributes) for c in counterparts]),
                not counterparts and len(attributions) > 1,
            ))
    return shown


def compare_work(text: str, spans: Mapping[int, Sequence[Any]], attributions: Mapping[int, Sequence[Any]],
                 codebook: Codebook) -> tuple[dict[int, list[SpanShown]], dict[int, list[AttributionShown]]]:
    """Each annotator's spans and attributions of one sentence (by user id; ``text``: the
    document's) against the others', with every attribute the codebook gives them: the
    attributions of each relation, and the spans that are not part of one of them."""
    def span_attributes(layer: str, label: str) -> list[str]:
        try:
            return [a.name for a in codebook.layer(layer).attributes_for(label)]
        except KeyError:  # a layer or label the codebook no longer has: the span's own attributes
            return []

    linked = {p.span_id for mine in attributions.values() for x in mine for p in x.parts}
    spans_shown = compare_spans(text, {user: [s for s in mine if s.id not in linked] for user, mine in spans.items()},
                                span_attributes)
    attributions_shown: dict[int, list[AttributionShown]] = {user: [] for user in attributions}
    for relation in codebook.relations:
        roles = [role.name for role in relation.roles]
        compared = compare_attributions(
            text, {user: [x for x in mine if x.relation == relation.name] for user, mine in attributions.items()},
            roles, [role.name for role in relation.roles if role.required] or roles,
            [a.name for a in relation.attributes])
        for user, shown in compared.items():
            attributions_shown[user] += shown
    return spans_shown, attributions_shown
