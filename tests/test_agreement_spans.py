"""Span layers (annotator.agreement.spans): exact and partial-credit F1, token-level alpha."""

from __future__ import annotations

import re

import krippendorff
import numpy as np
import pytest

from annotator.agreement import span_agreement, span_scores, token_alpha, token_alpha_per_label, token_labels
from annotator.agreement.spans import document_exact_f1, span_arrays
from annotator.agreement.results import NO_SPANS, NOT_PAIRABLE


def test_semeval_2020_task_11_partial_credit_example():
    # Gold T = {[0,10), [20,30)}, predicted S = {[0,30)}, one label: the predicted span earns
    # 10/30 + 10/30 of precision and each gold span is fully covered.
    predicted = [[(0, 30, "loaded")]]
    gold = [[(0, 10, "loaded"), (20, 30, "loaded")]]
    scores = span_scores(predicted, gold)
    assert round(scores.precision.value, 3) == 0.667
    assert scores.precision.value == pytest.approx(20 / 30)
    assert scores.recall.value == 1.0
    assert scores.partial_f1.value == pytest.approx(0.8)
    assert scores.exact_f1.value == 0.0
    assert (scores.partial_f1.units, scores.partial_f1.pairs, scores.partial_f1.annotators) == (
        1,
        3,
        2,
    )


def test_document_exact_f1_by_hand():
    first = [
        [(0, 5, "x"), (10, 20, "y"), (10, 20, "y")],  # the duplicate counts once
        [],
        [(3, 9, "x")],
        [(0, 4, "x")],
    ]
    second = [
        [(0, 5, "x"), (10, 20, "x")],  # (10, 20) with another label does not match
        [],
        [(3, 9, "x")],
        [],
    ]
    code = {"x": 0, "y": 1}
    f1 = document_exact_f1(span_arrays(first, code), span_arrays(second, code), 4)
    # 2·1/(2 + 2); nobody marked anything; the same span; only one side marked: 2·0/(1 + 0).
    np.testing.assert_array_equal(f1, [0.5, np.nan, 1.0, 0.0])
    assert (f1 < 1).tolist() == [True, False, False, True]  # the documents where the spans differ
    # Each document's figure is exact F1 on that document alone.
    assert f1[0] == span_scores(first[:1], second[:1]).exact_f1.value


def test_partial_f1_is_symmetric_between_annotators():
    a = [[(0, 30, "x"), (40, 45, "y")], [(3, 9, "x")]]
    b = [[(0, 10, "x"), (20, 30, "x"), (41, 50, "y")], []]
    ab, ba = span_scores(a, b), span_scores(b, a)
    assert ab.precision.value == pytest.approx(ba.recall.value)
    assert ab.recall.value == pytest.approx(ba.precision.value)
    assert ab.partial_f1.value == pytest.approx(ba.partial_f1.value)
    assert ab.exact_f1.value == ba.exact_f1.value


def test_partial_credit_needs_the_same_label():
    scores = span_scores([[(0, 10, "x")]], [[(0, 10, "y")]])
    assert scores.partial_f1.value == 0.0 and scores.exact_f1.value == 0.0
    unlabelled = span_scores([[(0, 10, "x")]], [[(0, 10, "y")]], labelled=False)
    assert unlabelled.partial_f1.value == 1.0 and unlabelled.exact_f1.value == 1.0


def test_exact_boundary_per_label_and_micro():
    first = [
        [(0, 5, "a"), (10, 20, "b"), (30, 40, "a")],
        [(0, 8, "b")],
    ]
    second = [
        [(0, 5, "a"), (10, 20, "a"), (31, 40, "a")],
        [(0, 8, "b"), (10, 12, "b")],
    ]
    result = span_agreement(first, second, labels=["a", "b", "c"])
    # Micro, labelled: matches (0,5,a) and (0,8,b) -> 2·2 / (4 + 5).
    assert result.micro.exact_f1.value == pytest.approx(4 / 9)
    # Boundaries only: (10,20) matches too -> 2·3 / 9.
    assert result.boundary.exact_f1.value == pytest.approx(6 / 9)
    # Label a: first has 2, second 3, one exact match.
    assert result.per_label["a"].exact_f1.value == pytest.approx(2 / 5)
    # Label b: first (10,20),(0,8); second (0,8),(10,12): one match.
    assert result.per_label["b"].exact_f1.value == pytest.approx(2 / 4)
    # Label c was asked for and nobody used it.
    assert result.per_label["c"].exact_f1.undefined == NO_SPANS
    # Partial credit, label a: S = {(0,5),(30,40)}, T = {(0,5),(10,20),(31,40)}.
    a = result.per_label["a"]
    assert a.precision.value == pytest.approx((1 + 9 / 10) / 2)
    assert a.recall.value == pytest.approx((1 + 0 + 1) / 3)


def test_spans_never_match_across_documents():
    scores = span_scores([[(0, 10, "x")], []], [[], [(0, 10, "x")]])
    assert scores.exact_f1.value == 0.0 and scores.partial_f1.value == 0.0


def test_empty_sides():
    nothing = span_scores([[]], [[]])
    assert nothing.exact_f1.undefined == NO_SPANS and nothing.partial_f1.undefined == NO_SPANS
    one_sided = span_scores([[]], [[(0, 4, "x")]])
    assert one_sided.precision.undefined == NO_SPANS  # 0/0: nothing was predicted
    assert one_sided.recall.value == 0.0
    assert one_sided.exact_f1.value == 0.0 and one_sided.partial_f1.value == 0.0


def test_duplicates_count_once_and_bad_spans_are_rejected():
    assert span_scores([[(0, 4, "x"), (0, 4, "x")]], [[(0, 4, "x")]]).exact_f1.value == 1.0
    with pytest.raises(ValueError):
        span_scores([[(4, 4, "x")]], [[]])
    with pytest.raises(ValueError):
        span_scores([[]], [[], []])


# --- token-level alpha --------------------------------------------------------------------

TEXT = "The minister said the plan was a disaster ."
TOKENS = np.array([match.span() for match in re.finditer(r"\S+", TEXT)])


def test_token_labels_take_the_label_covering_most_characters():
    # "disaster" (33..41): 'loaded' covers 6 characters, 'claim' 2.
    spans = [(4, 12, "source"), (33, 39, "loaded"), (39, 41, "claim")]
    codes = token_labels(TOKENS, spans, ["source", "loaded", "claim"])
    assert codes.tolist() == [0, 1, 0, 0, 0, 0, 0, 2, 0]
    # A tie goes to the label listed first.
    tie = token_labels(np.array([[0, 4]]), [(0, 2, "b"), (2, 4, "a")], ["a", "b"])
    assert tie.tolist() == [1]
    assert token_labels(TOKENS, None, ["x"]).tolist() == [-1] * len(TOKENS)


def test_token_alpha_matches_krippendorff_package():
    labels = ["source", "loaded"]
    documents = [TOKENS, TOKENS[:5]]
    spans = [
        [[(4, 12, "source"), (33, 41, "loaded")], [(4, 12, "source"), (31, 41, "loaded")], None],
        [[(0, 12, "source")], [(4, 12, "source")], [(4, 17, "loaded")]],
    ]
    figure = token_alpha(documents, spans, labels, replicates=0)
    rows = [
        np.concatenate(
            [
                token_labels(tokens, doc[a], labels)
                for tokens, doc in zip(documents, spans, strict=True)
            ]
        )
        for a in range(3)
    ]
    reliability = np.where(np.array(rows) < 0, np.nan, np.array(rows)).astype(float)
    reference = krippendorff.alpha(
        reliability, value_domain=[0, 1, 2], level_of_measurement="nominal"
    )
    assert figure.value == pytest.approx(reference, abs=1e-9)
    assert figure.annotators == 3 and figure.units == len(TOKENS) + 5


def test_token_alpha_without_a_second_annotator_is_undefined():
    figure = token_alpha([TOKENS], [[[(4, 12, "source")]]], ["source"])
    assert figure.undefined == NOT_PAIRABLE


def test_partial_credit_never_exceeds_a_spans_length():
    """One annotator's overlapping spans of one label count once against the other's span."""
    from annotator.agreement import span_scores

    overlapping = [[(0, 10, "X"), (5, 15, "X")]]
    single = [[(0, 15, "X")]]
    scores = span_scores(single, overlapping)
    assert scores.precision.value == 1.0  # (0,15) is covered by the union (0,15)
    assert scores.recall.value == 1.0
    assert scores.partial_f1.value == 1.0


def test_token_alpha_per_label_reproduces_a_hand_computed_value():
    # Tokens "aa bb cc dd"; A marks x on tokens 0-1 and y on token 2, B x on token 0 and y on
    # token 3. Binary alpha with two annotators and no missing value is
    # 1 - (n - 1) * o01 / (n0 * n1), n = 8 values, o01 = tokens the two disagree on:
    # x: A 1100, B 1000 -> n1 = 3, n0 = 5, o01 = 1 -> 1 - 7 / 15 = 8/15;
    # y: A 0010, B 0001 -> n1 = 2, n0 = 6, o01 = 2 -> 1 - 14 / 12 = -1/6.
    tokens = [np.array([(0, 2), (3, 5), (6, 8), (9, 11)])]
    spans = [[[(0, 5, "x"), (6, 8, "y")], [(0, 2, "x"), (9, 11, "y")]]]
    per_label = token_alpha_per_label(tokens, spans, ["x", "y", "z"], replicates=0)
    assert per_label["x"].value == pytest.approx(8 / 15)
    assert per_label["y"].value == pytest.approx(-1 / 6)
    assert per_label["z"].value is None  # nobody marked z: undefined, never 0
    # A token covered by two labels counts for each (the pooled figure gives it one).
    overlapping = [[[(0, 5, "x"), (0, 5, "y")], [(0, 5, "x"), (0, 2, "y")]]]
    both = token_alpha_per_label(tokens, overlapping, ["x", "y"], replicates=0)
    assert both["x"].value == pytest.approx(1.0)
    assert both["y"].value == pytest.approx(1 - 7 * 1 / (3 * 5))
