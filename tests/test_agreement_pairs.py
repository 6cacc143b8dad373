"""Figures of several annotators from each pair's (annotator.agreement.pairs)."""

from __future__ import annotations

import numpy as np

from annotator.agreement import Figure, mean_over_pairs, mean_per_document
from annotator.agreement.results import NO_SPANS, NOT_PAIRABLE, undefined


def test_mean_over_pairs_leaves_out_the_undefined_pairs():
    figures = [
        ((1, 2), Figure(0.5, None, units=3, pairs=10, annotators=2)),
        ((1, 3), Figure(1.0, None, units=2, pairs=4, annotators=2)),
        ((2, 3), undefined(NOT_PAIRABLE, annotators=2)),
    ]
    mean = mean_over_pairs(figures)
    # (0.5 + 1.0) / 2 over two pairs, whose people are 1, 2 and 3; the most units of the two.
    assert (mean.value, mean.pairs, mean.annotators, mean.units) == (0.75, 2, 3, 3)


def test_mean_over_pairs_without_a_defined_pair_gives_the_first_reason():
    figures = [((1, 2), undefined(NO_SPANS)), ((1, 3), undefined(NOT_PAIRABLE))]
    assert mean_over_pairs(figures).undefined == NO_SPANS
    assert mean_over_pairs([], NO_SPANS).undefined == NO_SPANS
    assert mean_over_pairs([]).undefined == NOT_PAIRABLE


def test_mean_per_document_by_hand():
    per_pair = np.array([
        [0.5, np.nan, 1.0, np.nan],
        [1.0, np.nan, np.nan, np.nan],
    ])
    annotators = np.array([3, 2, 2, 1])
    first, second, third, fourth = mean_per_document(per_pair, annotators, NO_SPANS)
    assert (first.value, first.units, first.pairs, first.annotators) == (0.75, 1, 2, 3)
    assert second.undefined == NO_SPANS  # two annotators, neither pair has a value
    assert (third.value, third.pairs, third.annotators) == (1.0, 1, 2)
    assert fourth.undefined == NOT_PAIRABLE  # one annotator: no pair at all
