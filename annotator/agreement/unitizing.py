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
from .spans import Span


@dataclass(frozen=True)
class UnitizingAgreement:
    pooled: Figure
    per_label: dict[Hashable, Figure]
    observed: dict[Hashable, float] = field(default_factory=dict)  # D_o per label
    expected: dict[Hashable, float] = field(default_factory=dict)  # D_e per label


def units_of(spans: Sequence[Span], label: Hashable, length: int) -> np.ndarray:
    """(n, 2) sorted (begin, end) units of ``label``; overlapping spans merged."""
    bounds = sorted((int(s), int(e)) for s, e, lab in spans if lab == label)
    merged: list[list[int]] = []
    for start, end in bounds:
        if not 0 <= start < end <= length:
            raise ValueError(f"span ({start}, {end}) is not inside the continuum [0, {length})")
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return np.array(merged, dtype=np.int64).reshape(-1, 2)


def gaps_of(units: np.ndarray, length: int) -> np.ndarray:
    """(n, 2) the stretches of [0, length) outside ``units`` (sorted, non-overlapping)."""
    edges = np.concatenate([[0], units.ravel(), [length]]).reshape(-1, 2)
    return edges[edges[:, 1] > edges[:, 0]]


def pair_distance(
    units_i: np.ndarray, gaps_i: np.ndarray, units_j: np.ndarray, gaps_j: np.ndarray
) -> float:
    """Σ_g Σ_h d(g, h) over i's segments g and j's segments h (gap-gap pairs contribute 0)."""
    bi, li = units_i[:, 0], units_i[:, 1] - units_i[:, 0]
    bj, lj = units_j[:, 0], units_j[:, 1] - units_j[:, 0]
    shift = bi[:, None] - bj[None, :]
    overlapping = (-li[:, None] < shift) & (shift < lj[None, :])
    total = np.where(overlapping, shift**2 + (shift + li[:, None] - lj[None, :]) ** 2, 0).sum()
    total += _contained_squares(units_i, gaps_j) + _contained_squares(units_j, gaps_i)
    return float(total)


def _contained_squares(units: np.ndarray, gaps: np.ndarray) -> int:
    """Σ l² over units lying wholly inside one of the other annotator's gaps."""
    inside = (gaps[None, :, 0] <= units[:, None, 0]) & (units[:, None, 1] <= gaps[None, :, 1])
    lengths = units[:, 1] - units[:, 0]
    return int((lengths**2 * inside.any(axis=1)).sum())


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
    lengths: Sequence[int], spans: Sequence[Sequence[Sequence[Span]]], label: Hashable, m: int
) -> tuple[float, float, int]:
    """(D_o, D_e, number of units) of one label over all documents."""
    total_length = float(sum(lengths))
    observed = 0.0
    unit_lengths, gap_lengths = [], []
    for length, by_annotator in zip(lengths, spans, strict=True):
        units = [units_of(s, label, length) for s in by_annotator]
        gaps = [gaps_of(u, length) for u in units]
        for i in range(m):
            unit_lengths.append(units[i][:, 1] - units[i][:, 0])
            gap_lengths.append(gaps[i][:, 1] - gaps[i][:, 0])
            for j in range(i + 1, m):
                observed += pair_distance(units[i], gaps[i], units[j], gaps[j])
    unit_lengths = np.concatenate(unit_lengths)
    gap_lengths = np.concatenate(gap_lengths)
    d_o = 2 * observed / (m * (m - 1) * total_length**2)
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

    def whole(reason: str) -> UnitizingAgreement:
        return UnitizingAgreement(
            undefined(reason, annotators=m),
            {label: undefined(reason, annotators=m) for label in ordered},
        )

    if m < 2:
        return whole(FEWER_THAN_TWO_ANNOTATORS)
    if sum(lengths) == 0:
        return whole(NO_CONTINUUM)
    pairs = m * (m - 1) // 2
    per_label, observed, expected = {}, {}, {}
    total_units = 0
    for label in ordered:
        d_o, d_e, n_units = _label_disagreements(lengths, spans, label, m)
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
