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
separate units. A discontinuous span marks only its fragments: each is a stretch of the
continuum (α_U knows no unit with a hole), its gaps count as gaps. This is the two-or-more-observer definition of 2004; Krippendorff, Mathet,
Bouvry & Widlöcher (2016, Quality & Quantity 50) later revised it for more than two observers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .bootstrap import DEFAULT_SEED, bootstrap
from .results import (
    FEWER_THAN_TWO_ANNOTATORS,
    NO_CONTINUUM,
    NO_UNITS,
    NO_VARIATION,
    Bootstrap,
    Figure,
    undefined,
    with_interval,
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


def _gaps(units: _Units, offset: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Document and length of each stretch of a document outside ``units`` (empty ones dropped)."""
    same_document = np.zeros(units.begin.size, dtype=bool)
    same_document[1:] = units.document[1:] == units.document[:-1]
    previous_end = np.where(same_document, np.roll(units.end, 1), offset[units.document])
    last_of_document = np.flatnonzero(np.append(~same_document[1:], True)) if units.begin.size else same_document
    last_end = offset.copy()  # a document without units is one gap
    last_end[units.document[last_of_document]] = units.end[last_of_document]
    documents = np.concatenate([units.document, np.arange(lengths.size)])
    gaps = np.concatenate([units.begin - previous_end, offset + lengths - last_end])
    return documents[gaps > 0], gaps[gaps > 0]


def _per_document(document: np.ndarray, values: np.ndarray, n_documents: int) -> np.ndarray:
    """Float sums of ``values`` by document (bincount of nothing would give integers)."""
    return np.bincount(document, weights=values, minlength=n_documents).astype(np.float64, copy=False)


def _pair_distance(units_i: _Units, units_j: _Units, n_documents: int) -> np.ndarray:
    """Σ_g Σ_h d(g, h) over i's segments g and j's segments h (gap-gap pairs contribute 0), per
    document: overlapping units, and units wholly inside a gap of the other, i.e. overlapping
    none of its units."""
    g, h, _ = overlapping_pairs(units_i.begin, units_i.end, units_j.begin, units_j.end)
    squared = ((units_i.begin[g] - units_j.begin[h]) ** 2 + (units_i.end[g] - units_j.end[h]) ** 2).astype(np.float64)
    total = _per_document(units_i.document[g], squared, n_documents)
    for units, partners in ((units_i, g), (units_j, h)):
        alone = np.bincount(partners, minlength=units.begin.size) == 0
        length = (units.end - units.begin)[alone].astype(np.float64)
        total += _per_document(units.document[alone], length**2, n_documents)
    return total


# Per-document statistics of one label, as columns of one row per document. Every term of
# D_o and D_e is a sum over documents of these, or a product of two such sums: the cross
# term Σ_units l² Σ_{gaps ≥ l} (l_h - l + 1) pairs units and gaps of different documents, but
# grouped by the distinct unit lengths l it is Σ_l [units of length l] · l² · ([Σ of gaps ≥ l]
# - (l - 1) [gaps ≥ l]), each bracket a sum over documents. So a resample of documents (the
# bootstrap) only needs the rows summed with its weights.
OBSERVED, UNITS, WITHIN, SELF_PAIRS = range(4)  # then per distinct unit length: count, gaps ≥ l, their Σ


@dataclass(frozen=True)
class _LabelStatistics:
    rows: np.ndarray  # (documents, 4 + 3u)
    unit_lengths: np.ndarray  # (u,) the distinct unit lengths


def _label_statistics(
    lengths: np.ndarray, offset: np.ndarray, spans: Sequence[SpanArrays], label: int
) -> _LabelStatistics:
    n_documents, m = lengths.size, len(spans)
    units = [_units(s, label, offset, lengths) for s in spans]
    observed = np.zeros(n_documents)
    for i in range(m):
        for j in range(i + 1, m):
            observed += _pair_distance(units[i], units[j], n_documents)
    unit_document = np.concatenate([u.document for u in units])
    unit_length = np.concatenate([u.end - u.begin for u in units]).astype(np.float64)
    gap_document, gap_length = zip(*(_gaps(u, offset, lengths) for u in units))
    gap_document, gap_length = np.concatenate(gap_document), np.concatenate(gap_length).astype(np.float64)

    distinct, length_index = np.unique(unit_length, return_inverse=True)
    u = distinct.size
    by_length = np.bincount(unit_document * u + length_index, minlength=n_documents * u).reshape(n_documents, u)
    # A gap fits every unit length up to its own: count it (and add its length) for those.
    fits = np.searchsorted(distinct, gap_length, side="right")  # lengths distinct[:fits] fit
    cells = gap_document * (u + 1) + fits
    count = np.bincount(cells, minlength=n_documents * (u + 1)).reshape(n_documents, u + 1)
    room = np.bincount(cells, weights=gap_length, minlength=n_documents * (u + 1)).reshape(n_documents, u + 1)
    fitting = np.cumsum(count[:, ::-1], axis=1)[:, ::-1][:, 1:]  # gaps with fits > k, i.e. >= distinct[k]
    fitting_room = np.cumsum(room[:, ::-1], axis=1)[:, ::-1][:, 1:]

    rows = np.column_stack([
        observed,
        np.bincount(unit_document, minlength=n_documents).astype(np.float64),
        _per_document(unit_document, (2 * unit_length**3 - 3 * unit_length**2 + unit_length) / 3, n_documents),
        _per_document(unit_document, unit_length * (unit_length - 1), n_documents),
        by_length, fitting, fitting_room,
    ])
    return _LabelStatistics(rows, distinct)


def _disagreements(summed: np.ndarray, total_length: np.ndarray, m: int, unit_lengths: np.ndarray):
    """(D_o, D_e) from one label's statistics summed over documents; broadcasts over leading
    axes (one per bootstrap replicate). D_e is 0 where its denominator is not positive."""
    u = unit_lengths.size
    units = summed[..., UNITS]
    by_length = summed[..., 4:4 + u]
    fitting, fitting_room = summed[..., 4 + u:4 + 2 * u], summed[..., 4 + 2 * u:]
    placements = (by_length * unit_lengths**2 * (fitting_room - (unit_lengths - 1) * fitting)).sum(axis=-1)
    numerator = np.maximum(units - 1, 0) * summed[..., WITHIN] + placements
    mL = m * total_length
    denominator = mL * (mL - 1) - summed[..., SELF_PAIRS]
    d_o = 2 * summed[..., OBSERVED] / (m * (m - 1) * total_length**2)
    d_e = np.divide(2 * numerator, total_length * denominator, out=np.zeros_like(numerator),
                    where=denominator > 0)
    return d_o, d_e


def unitizing_alpha(
    lengths: Sequence[int],
    spans: Sequence[Sequence[Sequence[Span]]],
    labels: Sequence[Hashable] | None = None,
    *,
    replicates: int = 0,
    seed: int = DEFAULT_SEED,
) -> UnitizingAgreement:
    """α_U per label and pooled over labels, with bootstrap intervals over documents when
    ``replicates`` is positive.

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
    return unitizing_alpha_arrays(lengths, per_annotator, ordered, replicates=replicates, seed=seed)


def unitizing_alpha_arrays(
    lengths: Sequence[int],
    spans: Sequence[SpanArrays],
    labels: Sequence[Hashable],
    *,
    replicates: int = 0,
    seed: int = DEFAULT_SEED,
) -> UnitizingAgreement:
    """:func:`unitizing_alpha` of ``spans[a]``, annotator a's spans as arrays over the
    documents of ``lengths``, label codes indexing ``labels`` (every label judged). With
    ``replicates`` every defined figure gets a bootstrap interval over documents."""
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
    offset = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    marking = [annotator_spans.pieces()[0] for annotator_spans in spans]
    statistics = [_label_statistics(lengths, offset, marking, c) for c in range(len(labels))]
    # One row per document: its length, then each label's columns.
    rows = np.column_stack([lengths.astype(np.float64)] + [x.rows for x in statistics])
    bounds = np.cumsum([1] + [x.rows.shape[1] for x in statistics])

    def label_disagreements(summed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return [_disagreements(summed[..., bounds[c]:bounds[c + 1]], summed[..., 0], m, x.unit_lengths)
                for c, x in enumerate(statistics)]

    def alpha(observed, expected) -> np.ndarray:
        return 1 - np.divide(observed, expected, out=np.full_like(expected, np.nan), where=expected > 0)

    def interval(statistic) -> Bootstrap | None:
        return bootstrap(rows, statistic, replicates, seed, batched=True)

    per_label_d = label_disagreements(rows.sum(axis=0))
    per_label, observed, expected = {}, {}, {}
    for c, label in enumerate(labels):
        d_o, d_e = (float(x) for x in per_label_d[c])
        n_units = int(statistics[c].rows[:, UNITS].sum())
        observed[label], expected[label] = d_o, d_e
        if n_units == 0:
            per_label[label] = undefined(NO_UNITS, 0, pairs, m)
        elif d_e == 0:
            per_label[label] = undefined(NO_VARIATION, n_units, pairs, m)
        else:
            figure = Figure(1 - d_o / d_e, None, n_units, pairs, m)
            per_label[label] = with_interval(figure, interval(lambda s, c=c: alpha(*label_disagreements(s)[c])))
    total_units = sum(int(x.rows[:, UNITS].sum()) for x in statistics)
    sum_expected = sum(expected.values())
    if total_units == 0:
        pooled = undefined(NO_UNITS, 0, pairs, m)
    elif sum_expected == 0:
        pooled = undefined(NO_VARIATION, total_units, pairs, m)
    else:
        def pooled_alpha(summed: np.ndarray) -> np.ndarray:
            d = label_disagreements(summed)
            return alpha(sum(x[0] for x in d), sum(x[1] for x in d))

        figure = Figure(1 - sum(observed.values()) / sum_expected, None, total_units, pairs, m)
        pooled = with_interval(figure, interval(pooled_alpha))
    return UnitizingAgreement(pooled, per_label, observed, expected)
