"""Agreement on attributions between two annotators, attributions taken as units.

An attribution has parts by role (source, cue, content, supplement), each a sequence of
(start, end) character spans (content often several), and nominal attributes.

Alignment (per document): the weight of a pair (a of the first annotator, b of the second) is
the number of characters their cue parts share plus the number their content parts share (a
role's spans taken as a set of characters; in another codebook, the parts of the roles it
requires). Pairs are taken greedily, heaviest first (ties:
lower index of a, then of b), while both are free and the weight is positive. Greedy is not
always the maximum-weight matching, but attributions that compete for the same cue or content
are rare, and the rule is easy to state and to check by hand. Source and supplement do not
drive the alignment: they are what the per-role scores judge.

Per-role scores count every part of every attribution of each annotator; parts can only
match within an aligned pair, so the parts of unaligned attributions count as disagreement.
``exact``: F1 = 2·(parts with identical start and end) / (parts of both). ``overlap``: the
SemEval-2020 Task 11 partial-credit F1 (see :mod:`annotator.agreement.spans`) of the parts.
Attributes: nominal Krippendorff's alpha over the aligned pairs (a missing attribute is a
missing value).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED
from .coding import MISSING, krippendorff_alpha
from .results import NO_SPANS, Figure, undefined
from .spans import overlaps

# The default codebook's attribution; a codebook's relation names its own roles, and the report
# aligns by the roles it requires.
ROLES = ("source", "cue", "content", "supplement")
ATTRIBUTES = ("source_kind", "identification", "cue_type", "quote_type")
ALIGNING_ROLES = ("cue", "content")


@dataclass(frozen=True)
class Attribution:
    parts: Mapping[str, Sequence[tuple[int, int]]] = field(default_factory=dict)
    attributes: Mapping[str, Hashable] = field(default_factory=dict)

    def spans(self, role: str) -> list[tuple[int, int]]:
        return sorted({(int(s), int(e)) for s, e in self.parts.get(role, ())})


@dataclass(frozen=True)
class RoleScores:
    exact: Figure
    overlap: Figure


@dataclass(frozen=True)
class AttributionAgreement:
    alignment: tuple[tuple[tuple[int, int], ...], ...]  # per document: (index in first, in second)
    roles: dict[str, RoleScores]
    attributes: dict[str, Figure]


def _characters(spans: Sequence[tuple[int, int]]) -> set[int]:
    return {c for start, end in spans for c in range(start, end)}


def alignment_weight(a: Attribution, b: Attribution, aligning: Sequence[str] = ALIGNING_ROLES) -> int:
    return sum(len(_characters(a.spans(r)) & _characters(b.spans(r))) for r in aligning)


def align(
    first: Sequence[Attribution], second: Sequence[Attribution], aligning: Sequence[str] = ALIGNING_ROLES,
) -> tuple[tuple[int, int], ...]:
    """Greedy alignment of one document's attributions (see the module docstring)."""
    candidates = sorted(
        (
            (-alignment_weight(a, b, aligning), i, j)
            for i, a in enumerate(first)
            for j, b in enumerate(second)
        ),
    )
    taken_i, taken_j, pairs = set(), set(), []
    for negative_weight, i, j in candidates:
        if negative_weight < 0 and i not in taken_i and j not in taken_j:
            taken_i.add(i)
            taken_j.add(j)
            pairs.append((i, j))
    return tuple(sorted(pairs))


def _role_scores(first, second, alignment, role: str) -> RoleScores:
    n_documents = len(first)
    size_a = sum(len(x.spans(role)) for doc in first for x in doc)
    size_b = sum(len(x.spans(role)) for doc in second for x in doc)
    n_parts = size_a + size_b
    if n_parts == 0:
        nothing = undefined(NO_SPANS, n_documents, 0, 2)
        return RoleScores(nothing, nothing)
    matches, credit_a, credit_b = 0, 0.0, 0.0
    for doc_a, doc_b, pairs in zip(first, second, alignment, strict=True):
        for i, j in pairs:
            a, b = doc_a[i].spans(role), doc_b[j].spans(role)
            matches += len(set(a) & set(b))
            if a and b:
                bounds_a, bounds_b = np.array(a), np.array(b)
                shared = overlaps(bounds_a, bounds_b)
                credit_a += (shared / np.diff(bounds_a, axis=1)).sum()
                credit_b += (shared / np.diff(bounds_b, axis=1).T).sum()
    precision = credit_a / size_a if size_a else 0.0
    recall = credit_b / size_b if size_b else 0.0
    partial = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return RoleScores(
        exact=Figure(2 * matches / n_parts, None, n_documents, n_parts, 2),
        overlap=Figure(float(partial), None, n_documents, n_parts, 2),
    )


def _attribute_alpha(first, second, alignment, name: str, replicates: int, seed: int) -> Figure:
    pairs = [
        (doc_a[i].attributes.get(name), doc_b[j].attributes.get(name), d)
        for d, (doc_a, doc_b, aligned) in enumerate(zip(first, second, alignment, strict=True))
        for i, j in aligned
    ]
    categories = sorted({v for a, b, _ in pairs for v in (a, b) if v is not None}, key=repr)
    code = {value: c for c, value in enumerate(categories)}
    values = np.full((2, len(pairs)), MISSING, dtype=np.int64)
    for unit, (value_a, value_b, _) in enumerate(pairs):
        for annotator, value in enumerate((value_a, value_b)):
            if value is not None:
                values[annotator, unit] = code[value]
    document_ids = np.array([p[2] for p in pairs], dtype=np.int64)
    return krippendorff_alpha(
        values, max(len(categories), 1), document_ids=document_ids, replicates=replicates, seed=seed
    )


def attribution_agreement(
    first: Sequence[Sequence[Attribution]],
    second: Sequence[Sequence[Attribution]],
    attributes: Sequence[str] = ATTRIBUTES,
    *,
    roles: Sequence[str] = ROLES,
    aligning: Sequence[str] = ALIGNING_ROLES,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> AttributionAgreement:
    """Alignment (by the parts of the ``aligning`` roles), per-role F1 and per-attribute alpha
    of two annotators' attributions, one sequence of attributions per document."""
    if len(first) != len(second):
        raise ValueError("both annotators need one attribution list per document")
    alignment = tuple(align(a, b, aligning) for a, b in zip(first, second, strict=True))
    return AttributionAgreement(
        alignment=alignment,
        roles={role: _role_scores(first, second, alignment, role) for role in roles},
        attributes={
            name: _attribute_alpha(first, second, alignment, name, replicates, seed)
            for name in attributes
        },
    )
