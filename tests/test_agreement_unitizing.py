"""Krippendorff's unitizing alpha α_U (annotator.agreement.unitizing).

Published example: Krippendorff (2004), Content Analysis, 2nd ed., p. 254 (section 12.4): two
observers unitize the continuum 150..450 into units of categories c and k. The data and the
expected figures are as transcribed in DKPro Statistics' test
org.dkpro.statistics.agreement.unitizing.Krippendorff2004Test (D_o,c = .0144, D_e,c = .0532,
α_c = .7286, D_o,k = 0, D_e,k = .0490, α_k = 1, α_U = .8591); the book itself was not at hand.
Second example: Krippendorff (1995), "On the reliability of unitizing continuous data",
Sociological Methodology 25, p. 57 (the four pairs of observers A-D), as transcribed in DKPro's
Krippendorff1995Test, whose comment notes an error in the paper's D_e (hence its 0.02
tolerance on alpha, kept here).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.agreement import unitizing_alpha
from annotator.agreement.results import (
    FEWER_THAN_TWO_ANNOTATORS,
    NO_CONTINUUM,
    NO_UNITS,
    band,
)

BEGIN = 150  # the book's continuum runs from 150 to 450; ours start at 0
OBSERVER_I = [(225, 295, "c"), (370, 400, "c"), (180, 240, "k"), (300, 350, "k")]
OBSERVER_J = [(220, 300, "c"), (355, 375, "c"), (400, 420, "c"), (180, 240, "k"), (300, 350, "k")]


def shifted(spans):
    return [(start - BEGIN, end - BEGIN, label) for start, end, label in spans]


def test_krippendorff_2004_example():
    result = unitizing_alpha([300], [[shifted(OBSERVER_I), shifted(OBSERVER_J)]])
    assert round(result.observed["c"], 4) == 0.0144
    assert round(result.expected["c"], 4) == 0.0532
    assert round(result.per_label["c"].value, 4) == 0.7286
    assert result.observed["k"] == 0.0
    assert round(result.expected["k"], 4) == 0.0490
    assert result.per_label["k"].value == 1.0
    # The printed α_U = .8591 is 1 - .0144 / (.0532 + .0490), from the rounded disagreements;
    # unrounded it is .8587.
    rounded = {label: round(value, 4) for label, value in result.expected.items()}
    assert round(1 - round(result.observed["c"], 4) / sum(rounded.values()), 4) == 0.8591
    assert round(result.pooled.value, 4) == 0.8587
    assert (result.per_label["c"].units, result.per_label["c"].annotators) == (5, 2)
    assert band(result.per_label["c"].value) == "tentative"


def krippendorff_1995(stretch: int):
    """The 1995 example: per label, (offset, length) units of observers 0 and 1 on [0, 24)."""
    units = {
        "A": ([(2, 8), (14, 6)], [(4, 4), (15, 2)]),
        "B": ([(0, 18)], [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 3), (9, 1)]),
        "C": ([(2, 6), (10, 2), (14, 4), (20, 2)], [(0, 2), (4, 4), (10, 4), (16, 2), (20, 2)]),
        "D": (
            [(0, 2), (2, 8), (10, 4), (14, 6), (20, 4)],
            [(0, 4), (4, 4), (8, 7), (15, 2), (17, 7)],
        ),
    }
    observers = [[], []]
    for label, per_observer in units.items():
        for observer, spans in enumerate(per_observer):
            observers[observer] += [(o * stretch, (o + n) * stretch, label) for o, n in spans]
    return 24 * stretch, observers


def test_krippendorff_1995_example():
    length, observers = krippendorff_1995(1)
    observed = unitizing_alpha([length], [observers]).observed
    for label, printed in {"A": 0.03125, "B": 2.26736, "C": 0.02777, "D": 0.38715}.items():
        assert observed[label] == pytest.approx(printed, abs=1e-5)
    # Alpha approaches its continuous value as the continuum is stretched.
    length, observers = krippendorff_1995(50_000)
    result = unitizing_alpha([length], [observers])
    for label, printed in {"A": 0.553, "B": -0.926, "C": 0.679, "D": 0.066}.items():
        assert result.per_label[label].value == pytest.approx(printed, abs=0.02)


# --- an independent, deliberately plain implementation of the formula ----------------------


def runs(inside: list[bool]):
    """(begin, length, is_unit) for each maximal run of equal values."""
    segments, start = [], 0
    for position in range(1, len(inside) + 1):
        if position == len(inside) or inside[position] != inside[start]:
            segments.append((start, position - start, inside[start]))
            start = position
    return segments


def distance(g, h):
    (bg, lg, unit_g), (bh, lh, unit_h) = g, h
    if unit_g and unit_h and bg < bh + lh and bh < bg + lg:
        return (bg - bh) ** 2 + (bg + lg - bh - lh) ** 2
    if unit_g and not unit_h and bh <= bg and bg + lg <= bh + lh:
        return lg**2
    if unit_h and not unit_g and bg <= bh and bh + lh <= bg + lg:
        return lh**2
    return 0


def brute_force(masks_by_document):
    """D_o, D_e of one label; masks_by_document[d][i]: observer i, inside/outside per character."""
    m = len(masks_by_document[0])
    L = sum(len(masks[0]) for masks in masks_by_document)
    observed = 0
    units, gaps = [], []
    for masks in masks_by_document:
        segments = [runs(mask) for mask in masks]
        for i, j in itertools.permutations(range(m), 2):
            observed += sum(distance(g, h) for g in segments[i] for h in segments[j])
        for observer in segments:
            units += [length for _, length, is_unit in observer if is_unit]
            gaps += [length for _, length, is_unit in observer if not is_unit]
    d_o = observed / (m * (m - 1) * L**2)
    n = len(units)
    numerator = 0
    for l in units:
        numerator += (n - 1) * (2 * l**3 - 3 * l**2 + l) / 3
        numerator += l**2 * sum(h - l + 1 for h in gaps if h >= l)
    denominator = m * L * (m * L - 1) - sum(l * (l - 1) for l in units)
    return d_o, 2 / L * numerator / denominator


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    st.integers(2, 4),
    st.lists(st.integers(1, 40), min_size=1, max_size=3),
    st.floats(0.1, 0.7),
    st.integers(0, 2**32 - 1),
)
def test_matches_brute_force(m, lengths, density, seed):
    rng = np.random.default_rng(seed)
    masks = [[list(rng.random(length) < density) for _ in range(m)] for length in lengths]
    spans = [
        [[(s, s + n, "x") for s, n, is_unit in runs(mask) if is_unit] for mask in doc]
        for doc in masks
    ]
    result = unitizing_alpha(lengths, spans, labels=["x"])
    if not any(any(mask) for doc in masks for mask in doc):
        assert result.per_label["x"].undefined == NO_UNITS
        return
    d_o, d_e = brute_force(masks)
    assert result.observed["x"] == pytest.approx(d_o, abs=1e-9)
    assert result.expected["x"] == pytest.approx(d_e, abs=1e-9)
    if d_e > 0:
        assert result.per_label["x"].value == pytest.approx(1 - d_o / d_e, abs=1e-9)


# --- edge cases ---------------------------------------------------------------------------


def test_perfect_agreement_is_one():
    spans = [(3, 9, "x"), (12, 30, "y"), (40, 41, "x")]
    result = unitizing_alpha([50, 20], [[spans, list(spans), list(spans)], [[(0, 5, "y")]] * 3])
    assert result.pooled.value == 1.0
    assert all(figure.value == 1.0 for figure in result.per_label.values())


def test_no_units_at_all_is_undefined():
    result = unitizing_alpha([100], [[[], []]], labels=["quote"])
    assert result.per_label["quote"].undefined == NO_UNITS
    assert result.pooled.undefined == NO_UNITS and result.pooled.value is None


def test_fewer_than_two_annotators_or_no_continuum_is_undefined():
    assert unitizing_alpha([100], [[[(0, 5, "x")]]]).pooled.undefined == FEWER_THAN_TWO_ANNOTATORS
    assert (
        unitizing_alpha([], [], labels=["x"]).per_label["x"].undefined == FEWER_THAN_TWO_ANNOTATORS
    )
    assert unitizing_alpha([0], [[[], []]], labels=["x"]).pooled.undefined == NO_CONTINUUM


def test_overlapping_spans_of_one_annotator_are_merged():
    merged = unitizing_alpha([40], [[[(5, 20, "x")], [(6, 20, "x")]]])
    overlapping = unitizing_alpha([40], [[[(5, 12, "x"), (10, 20, "x")], [(6, 20, "x")]]])
    assert overlapping.pooled.value == merged.pooled.value


def test_observed_disagreement_adds_up_over_documents():
    one = [[(2, 8, "x")], [(3, 9, "x")]]
    two = [[(1, 4, "x")], [(1, 5, "x")]]
    together = unitizing_alpha([10, 10], [one, two])
    d_one = unitizing_alpha([10], [one]).observed["x"] * 10**2
    d_two = unitizing_alpha([10], [two]).observed["x"] * 10**2
    assert together.observed["x"] * 20**2 == pytest.approx(d_one + d_two)


# --- bootstrap interval over documents ----------------------------------------------------


def _random_documents(rng, n_documents: int, m: int = 3):
    lengths = [int(rng.integers(20, 80)) for _ in range(n_documents)]
    spans = []
    for length in lengths:
        truth = [(int(a), int(a) + int(rng.integers(1, 12)), str(rng.choice(["x", "y"])))
                 for a in rng.integers(0, length - 12, 3)]
        spans.append([[(a, min(length, b + int(rng.integers(-1, 2)) if b - a > 1 else b), label)
                       for a, b, label in truth if rng.random() < 0.85] for _ in range(m)])
    return lengths, spans


def test_interval_is_alpha_recomputed_on_each_resample_of_documents():
    """The interval comes from per-document sums, although D_e pairs units and gaps of
    different documents: each replicate must equal α_U computed from scratch on the
    resampled documents (a document drawn twice appears twice on the continuum)."""
    from annotator.agreement.bootstrap import document_weights, summarise

    rng = np.random.default_rng(7)
    lengths, spans = _random_documents(rng, 12)
    replicates, seed = 40, 11
    result = unitizing_alpha(lengths, spans, labels=["x", "y"], replicates=replicates, seed=seed)
    weights = document_weights(len(lengths), replicates, seed).astype(int)
    for figure, label in ((result.pooled, None), (result.per_label["x"], "x")):
        direct = []
        for w in weights:
            drawn = np.repeat(np.arange(len(lengths)), w)
            again = unitizing_alpha([lengths[d] for d in drawn], [spans[d] for d in drawn], labels=["x", "y"])
            value = (again.pooled if label is None else again.per_label[label]).value
            direct.append(np.nan if value is None else value)
        expected = summarise(np.array(direct), seed)
        assert (figure.low, figure.high) == pytest.approx((expected.low, expected.high), abs=1e-12)
        assert figure.p_below_0667 == expected.p_below_0667 and figure.p_below_08 == expected.p_below_08
        assert figure.replicates == expected.replicates_defined and figure.seed == seed
        assert figure.low <= figure.value <= figure.high


def test_no_interval_unless_asked_and_none_on_undefined():
    rng = np.random.default_rng(3)
    lengths, spans = _random_documents(rng, 5)
    assert unitizing_alpha(lengths, spans).pooled.low is None
    empty = unitizing_alpha([30, 40], [[[], []], [[], []]], labels=["x"], replicates=100)
    assert empty.pooled.undefined == NO_UNITS and empty.pooled.low is None


def test_invalid_input():
    with pytest.raises(ValueError):
        unitizing_alpha([10], [[[(5, 12, "x")], []]])  # beyond the continuum
    with pytest.raises(ValueError):
        unitizing_alpha([10, 10], [[[], []], [[]]])  # different annotators per document
