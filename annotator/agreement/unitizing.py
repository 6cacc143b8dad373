"""Krippendorff's unitizing alpha α_U on character continua.

Each annotator cuts a document's continuum [0, L) into units of a label and gaps (everything
else); labels are judged one at a time (binary: inside/outside), as in Krippendorff (2004),
Content Analysis, 2nd ed., section 12.4 (the formulas of Krippendorff 1995, "On the
reliability of unitizing continuous data", Sociological Methodology 25, with the correction
noted there). For label c, with segments g of annotator i and h of annotator j (b: beginning,
l: length), the distance of two overlapping segments is

    units g, h that overlap:        (b_g - b_h)² + (b_g + l_g - b_h - l_h)²
    unit g inside gap h (or swapped): l_g²
    anything else:                   0

    D_o = Σ_{i≠j} Σ_g Σ_h d(g, h) / (m (m-1) L²)
    D_e = 2/L · Σ_{units g} [ (N_c - 1)(2 l_g³ - 3 l_g² + l_g)/3
                              + l_g² Σ_{gaps h, l_h >= l_g} (l_h - l_g + 1) ]
          / ( mL(mL - 1) - Σ_{units g} l_g (l_g - 1) )
    α_c = 1 - D_o / D_e,   pooled α = 1 - Σ_c D_o,c / Σ_c D_e,c

with m annotators, N_c units of c over all annotators, L the continuum's length.

Several documents form one continuum of total length L = Σ L_d in which a gap never crosses a
document boundary (a unit cannot straddle two articles, so the gap in which a unit could fall
ends with its document). Overlapping spans of one label by one annotator are merged into one
unit first (α_U assumes an annotator's units of a label do not overlap); adjacent spans stay
separate units. This is the two-or-more-observer definition of 2004; Krippendorff, Mathet,
Bouvry & Widlöcher (2016, Quality & Quantity 50) later revised it for more than two observers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .results import (
    FEWER_THAN_TWO_ANNOTATORS,
    NO_CONTINUUM,
    NO_UNITS,
    NO_VARIATION,
    Figure,
    undefined,
)
from .spans import Span, SpanArrays, overlapping_pairs, span_arrays


@dataclass(frozen=True)
class UnitizingAgreement:
    pooled: Figure
    per_label: dict[Hashable, Figure]
    observed: dict[Hashable, float] = field(default_factory=dict)  # D_o per label
    expected: dict[Hashable, float] = field(default_factory=dict)  # D_e per label


@dataclass(frozen=True)
class _Units:
    """One annotator's units of one label on the line of all documents, sorted, with the
    index of the document of each."""

    begin: np.ndarray
    end: np.ndarray
    document: np.ndarray


def _units(spans: SpanArrays, label: int, offset: np.ndarray, lengths: np.ndarray) -> _Units:
    """The units of ``label``: overlapping spans merged (adjacent ones stay apart), placed at
    their document's ``offset`` on one line."""
    mine = spans.label == label
    document, start, end = spans.document[mine], spans.start[mine], spans.end[mine]
    bad = np.flatnonzero((start < 0) | (start >= end) | (end > lengths[document]))
    if bad.size:
        k = bad[0]
        raise ValueError(f"span ({start[k]}, {end[k]}) is not inside the continuum [0, {lengths[document[k]]})")
    begin, finish = start + offset[document], end + offset[document]
    order = np.lexsort((finish, begin))
    begin, finish, document = begin[order], finish[order], document[order]
    reach = np.maximum.accumulate(finish) if finish.size else finish  # furthest end so far
    opens = np.ones(begin.size, dtype=bool)
    opens[1:] = begin[1:] >= reach[:-1]  # a span starting at or after every earlier end
    closes = np.append(np.flatnonzero(opens)[1:] - 1, begin.size - 1) if begin.size else opens
    return _Units(begin[opens], reach[closes], document[opens])


def _gap_lengths(units: _Units, offset: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Lengths of the stretches of each document outside ``units`` (the empty ones dropped)."""
    same_document = np.zeros(units.begin.size, dtype=bool)
    same_document[1:] = units.document[1:] == units.document[:-1]
    previous_end = np.where(same_document, np.roll(units.end, 1), offset[units.document])
    last_of_document = np.flatnonzero(np.append(~same_document[1:], True)) if units.begin.size else same_document
    last_end = offset.copy()  # a document without units is one gap
    last_end[units.document[last_of_document]] = units.end[last_of_document]
    gaps = np.concatenate([units.begin - previous_end, offset + lengths - last_end])
    return gaps[gaps > 0]


def _pair_distance(units_i: _Units, units_j: _Units) -> int:
    """Σ_g Σ_h d(g, h) over i's segments g and j's segments h (gap-gap pairs contribute 0):
    overlapping units, and units wholly inside a gap of the other, i.e. overlapping none of
    its units."""
    g, h, _ = overlapping_pairs(units_i.begin, units_i.end, units_j.begin, units_j.end)
    total = int(((units_i.begin[g] - units_j.begin[h]) ** 2 + (units_i.end[g] - units_j.end[h]) ** 2).sum())
    for units, partners in ((units_i, g), (units_j, h)):
        alone = np.bincount(partners, minlength=units.begin.size) == 0
        total += int(((units.end - units.begin)[alone] ** 2).sum())
    return total


def expected_numerator(unit_lengths: np.ndarray, gap_lengths: np.ndarray) -> float:
    """Σ over units of (N-1)(2l³-3l²+l)/3 + l² Σ_{gaps ≥ l} (l_h - l + 1), vectorised."""
    l = unit_lengths.astype(np.float64)
    gaps = np.sort(gap_lengths.astype(np.float64))
    tail_sums = np.concatenate([np.cumsum(gaps[::-1])[::-1], [0.0]])
    first_fitting = np.searchsorted(gaps, l, side="left")
    fitting = gaps.size - first_fitting
    placements = tail_sums[first_fitting] - (l - 1) * fitting
    within = (l.size - 1) * (2 * l**3 - 3 * l**2 + l) / 3
    return float((within + l**2 * placements).sum())


def _label_disagreements(
    lengths: np.ndarray, spans: Sequence[SpanArrays], label: int
) -> tuple[float, float, int]:
    """(D_o, D_e, number of units) of one label over all documents."""
    m = len(spans)
    total_length = float(lengths.sum())
    offset = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    units = [_units(s, label, offset, lengths) for s in spans]
    observed = 0
    for i in range(m):
        for j in range(i + 1, m):
            observed += _pair_distance(units[i], units[j])
    # Unit lengths by document, then annotator, then position: the order of the sums below.
    by_document = np.argsort(np.concatenate([u.document for u in units]), kind="stable")
    unit_lengths = np.concatenate([u.end - u.begin for u in units])[by_document]
    gap_lengths = np.concatenate([_gap_lengths(u, offset, lengths) for u in units])
    d_o = 2 * float(observed) / (m * (m - 1) * total_length**2)
    mL = m * total_length
    denominator = mL * (mL - 1) - float((unit_lengths * (unit_lengths - 1.0)).sum())
    numerator = expected_numerator(unit_lengths, gap_lengths) if unit_lengths.size else 0.0
    d_e = 2 / total_length * numerator / denominator if denominator > 0 else 0.0
    return d_o, d_e, int(unit_lengths.size)


def unitizing_alpha(
    lengths: Sequence[int],
    spans: Sequence[Sequence[Sequence[Span]]],
    labels: Sequence[Hashable] | None = None,
) -> UnitizingAgreement:
    """α_U per label and pooled over labels.

    ``lengths[d]`` is document d's length in characters; ``spans[d][a]`` annotator a's spans
    in it. Every annotator must have unitized every document (pass only such documents).
    Labels: those given plus every label seen."""
    if len(lengths) != len(spans):
        raise ValueError("lengths and spans need one entry per document")
    counts = {len(doc) for doc in spans}
    if len(counts) > 1:
        raise ValueError("every document needs the same annotators")
    m = counts.pop() if counts else 0
    seen = {span[2] for doc in spans for annotator in doc for span in annotator}
    ordered = list(labels or []) + sorted((x for x in seen if x not in (labels or [])), key=repr)
    code = {label: c for c, label in enumerate(ordered)}
    per_annotator = [span_arrays([doc[a] for doc in spans], code) for a in range(m)]
    return unitizing_alpha_arrays(lengths, per_annotator, ordered)


def unitizing_alpha_arrays(
    lengths: Sequence[int], spans: Sequence[SpanArrays], labels: Sequence[Hashable]
) -> UnitizingAgreement:
    """:func:`unitizing_alpha` of ``spans[a]``, annotator a's spans as arrays over the
    documents of ``lengths``, label codes indexing ``labels`` (every label judged)."""
    m = len(spans)
    lengths = np.asarray(lengths, dtype=np.int64)

    def whole(reason: str) -> UnitizingAgreement:
        return UnitizingAgreement(
            undefined(reason, annotators=m),
            {label: undefined(reason, annotators=m) for label in labels},
        )

    if m < 2:
        return whole(FEWER_THAN_TWO_ANNOTATORS)
    if lengths.sum() == 0:
        return whole(NO_CONTINUUM)
    pairs = m * (m - 1) // 2
    per_label, observed, expected = {}, {}, {}
    total_units = 0
    for c, label in enumerate(labels):
        d_o, d_e, n_units = _label_disagreements(lengths, spans, c)
        observed[label], expected[label] = d_o, d_e
        total_units += n_units
        if n_units == 0:
            per_label[label] = undefined(NO_UNITS, 0, pairs, m)
        elif d_e == 0:
            per_label[label] = undefined(NO_VARIATION, n_units, pairs, m)
        else:
            per_label[label] = Figure(1 - d_o / d_e, None, n_units, pairs, m)
    sum_expected = sum(expected.values())
    if total_units == 0:
        pooled = undefined(NO_UNITS, 0, pairs, m)
    elif sum_expected == 0:
        pooled = undefined(NO_VARIATION, total_units, pairs, m)
    else:
        pooled = Figure(1 - sum(observed.values()) / sum_expected, None, total_units, pairs, m)
    return UnitizingAgreement(pooled, per_label, observed, expected)
