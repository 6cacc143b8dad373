"""Sentence-level agreement (annotator.agreement.coding), the result type and the package's purity.

Published values are asserted to the digits printed in their sources; random data are checked
against the reference libraries (test-only dependencies) to 1e-9.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotator.agreement import (
    LEVELS,
    Figure,
    alpha_from_coincidences,
    alpha_values,
    band,
    category_counts,
    cohen_kappa,
    coincidences,
    confusion_matrices,
    disagreeing_units,
    document_alphas,
    document_coincidences,
    document_confusions,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    kappa_values,
    krippendorff_alpha,
    leave_one_out,
    observed_agreement,
    pooled_confusion,
    sentence_agreement,
    specific_agreement,
)
from annotator.agreement.coding import fully_rated
from annotator.agreement.results import (
    CATEGORY_NOT_USED,
    FEWER_THAN_TWO_FULLY_RATED,
    NO_VARIATION,
    NOT_PAIRABLE,
)

PACKAGE = Path(__file__).resolve().parent.parent / "annotator" / "agreement"
TOLERANCE = 1e-9
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders × 12
# units with missing values; published alphas: nominal .743, ordinal .815, interval .849,
# ratio .797. Codes here are value - 1; the category values are 1..5.
KRIPPENDORFF_2011 = (
    np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    )
    - 1
)
VALUES_1_TO_5 = np.arange(1.0, 6.0)

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories: κ = 0.210.
FLEISS_WIKIPEDIA = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


@st.composite
def reliability_data(draw, max_annotators=5, max_units=25, min_annotators=1):
    """(annotators, units) codes with -1 for missing, and the number of categories."""
    k = draw(st.integers(2, 5))
    annotators = draw(st.integers(min_annotators, max_annotators))
    units = draw(st.integers(1, max_units))
    missing_share = draw(st.sampled_from([0.0, 0.2, 0.5]))
    cells = draw(
        st.lists(
            st.one_of(st.integers(0, k - 1), st.just(-1))
            if missing_share
            else st.integers(0, k - 1),
            min_size=annotators * units,
            max_size=annotators * units,
        )
    )
    return np.array(cells, dtype=np.int64).reshape(annotators, units), k


def as_float_with_nan(codes: np.ndarray, category_values: np.ndarray) -> np.ndarray:
    return np.where(codes >= 0, category_values[np.clip(codes, 0, None)], np.nan)


# --- published values --------------------------------------------------------------------


@pytest.mark.parametrize(
    "level, published",
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_example(level, published):
    figure = krippendorff_alpha(KRIPPENDORFF_2011, 5, level, VALUES_1_TO_5)
    assert round(figure.value, 3) == published
    # 12 units, one of which (unit 12) has a single value: 11 pairable units, 40 pairable values.
    assert (figure.units, figure.pairs, figure.annotators) == (11, 40, 4)


def test_krippendorff_2011_coincidence_matrix():
    # Krippendorff (2011), section C, the coincidence matrix of the example (rows 1..5).
    third = 1 / 3
    expected = np.array(
        [
            [7, 4 * third, third, third, 0],
            [4 * third, 10, 4 * third, third, 0],
            [third, 4 * third, 8, third, 0],
            [third, third, third, 4, 0],
            [0, 0, 0, 0, 3],
        ]
    )
    np.testing.assert_allclose(coincidences(KRIPPENDORFF_2011, 5), expected, atol=TOLERANCE)


def test_fleiss_wikipedia_example():
    figure = fleiss_kappa_from_counts(FLEISS_WIKIPEDIA)
    assert round(figure.value, 3) == 0.210
    assert (figure.units, figure.pairs, figure.annotators) == (10, 140, 14)


# --- cross-checks against the reference libraries ------------------------------------------


@PROPERTY
@given(reliability_data(), st.sampled_from(LEVELS), st.data())
def test_alpha_matches_krippendorff_package(data, level, draw):
    codes, k = data
    category_values = np.array(
        sorted(draw.draw(st.sets(st.integers(1, 30), min_size=k, max_size=k))), float
    )
    ours = krippendorff_alpha(codes, k, level, category_values)
    reliability = as_float_with_nan(codes, category_values)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # value_domain: the package's ordinal metric counts values over this ordered domain.
            reference = krippendorff.alpha(
                reliability, value_domain=category_values, level_of_measurement=level
            )
    except ValueError:  # "at least one unit with values assigned by at least two coders"
        assert ours.undefined == NOT_PAIRABLE
        return
    if np.isnan(reference):
        assert ours.undefined == NO_VARIATION
        return
    assert abs(ours.value - reference) <= TOLERANCE


@PROPERTY
@given(reliability_data(min_annotators=2))
def test_cohen_kappa_matches_sklearn(data):
    codes, k = data
    kappas = cohen_kappa(codes, k)
    for (a, b), figure in kappas.items():
        both = (codes[a] >= 0) & (codes[b] >= 0)
        if not both.any():
            assert figure.undefined == NOT_PAIRABLE
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = cohen_kappa_score(
                codes[a, both], codes[b, both], labels=np.arange(k), replace_undefined_by=np.nan
            )
        if np.isnan(reference):
            assert figure.undefined == NO_VARIATION
        else:
            assert abs(figure.value - reference) <= TOLERANCE
            assert figure.units == both.sum()


def statsmodels_fleiss(counts: np.ndarray) -> float:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return statsmodels_fleiss_kappa(counts, method="fleiss")


@PROPERTY
@given(st.integers(2, 5), st.integers(2, 6), st.integers(1, 20), st.data())
def test_fleiss_kappa_matches_statsmodels(k, raters, units, draw):
    ratings = np.array(
        draw.draw(st.lists(st.integers(0, k - 1), min_size=raters * units, max_size=raters * units))
    )
    codes = ratings.reshape(raters, units)
    ours = fleiss_kappa(codes, k)
    assert ours.units_left_out == 0
    if units < 2:
        assert ours.undefined == FEWER_THAN_TWO_FULLY_RATED
        return
    reference = statsmodels_fleiss(category_counts(codes, k))
    if np.isnan(reference):
        assert ours.undefined == NO_VARIATION
    else:
        assert abs(ours.value - reference) <= TOLERANCE


@PROPERTY
@given(reliability_data(min_annotators=2))
def test_fleiss_kappa_with_missing_ratings_matches_statsmodels_on_the_fully_rated_units(data):
    codes, k = data
    counts = category_counts(codes, k)
    ratings = counts.sum(axis=1)
    full = ratings == ratings.max()
    ours = fleiss_kappa(codes, k)
    assert ours.units_left_out == np.count_nonzero(ratings) - np.count_nonzero(full & (ratings > 0))
    if ratings.max() < 2:
        assert ours.undefined == NOT_PAIRABLE
        return
    if full.sum() < 2:
        assert ours.undefined == FEWER_THAN_TWO_FULLY_RATED
        return
    reference = statsmodels_fleiss(counts[full])
    if np.isnan(reference):
        assert ours.undefined == NO_VARIATION
    else:
        assert abs(ours.value - reference) <= TOLERANCE
        assert (ours.units, ours.annotators) == (full.sum(), ratings.max())


def test_fleiss_kappa_with_one_extra_label():
    # Three annotators label ten sentences; the first also labels an eleventh nobody else did.
    rng = np.random.default_rng(3)
    codes = np.full((3, 11), -1)
    codes[:, :10] = rng.integers(0, 3, size=(3, 10))
    codes[0, 10] = 1
    figure = fleiss_kappa(codes, 3)
    reference = statsmodels_fleiss(category_counts(codes[:, :10], 3))
    assert figure.value == pytest.approx(reference, abs=TOLERANCE) and figure.undefined is None
    assert (figure.units, figure.annotators, figure.units_left_out) == (10, 3, 1)


def test_fleiss_kappa_interval_resamples_documents():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, size=60)
    codes = np.where(rng.random((3, 60)) < 0.8, truth, rng.integers(0, 3, size=(3, 60)))
    documents = np.repeat(np.arange(12), 5)
    figure = fleiss_kappa(codes, 3, document_ids=documents, replicates=500, seed=9)
    assert figure.value == fleiss_kappa(codes, 3).value  # the point estimate does not move
    assert figure.low < figure.value < figure.high and figure.replicates == 500
    assert figure == fleiss_kappa(codes, 3, document_ids=documents, replicates=500, seed=9)
    # Replicates recompute kappa from resampled units: one document repeated has no spread.
    one_document = np.tile(codes[:, :5], 4)
    same = fleiss_kappa(one_document, 3, document_ids=np.repeat(np.arange(4), 5), replicates=200, seed=1)
    assert same.low == pytest.approx(same.value) and same.high == pytest.approx(same.value)


@PROPERTY
@given(reliability_data(), st.integers(1, 6), st.data())
def test_per_document_statistics_add_up(data, n_documents, draw):
    codes, k = data
    ids = np.array(
        draw.draw(
            st.lists(
                st.integers(0, n_documents - 1), min_size=codes.shape[1], max_size=codes.shape[1]
            )
        )
    )
    per_document = document_coincidences(codes, ids, k)
    np.testing.assert_allclose(per_document.sum(axis=0), coincidences(codes, k), atol=TOLERANCE)
    confusions = document_confusions(codes, ids, k).sum(axis=0)
    for p, matrix in enumerate(confusion_matrices(codes, k).values()):
        np.testing.assert_array_equal(confusions[p], matrix)
    # A batch of coincidence matrices gives the alphas of each, as alpha_from_coincidences does.
    for level in ("nominal", "ordinal", "interval"):
        batch = alpha_values(per_document, level)
        for d in range(per_document.shape[0]):
            single = alpha_from_coincidences(per_document[d], level)
            assert (np.isnan(batch[d]) and single.value is None) or abs(
                batch[d] - single.value
            ) <= TOLERANCE


def test_per_document_alpha_and_disagreeing_units_by_hand():
    # Documents 0 (units 0, 1), 1 (units 2, 3), 2 (unit 4), 3 (no unit); two categories.
    codes = np.array([
        [0, 1, 0, 0, -1],
        [0, 1, 1, -1, -1],
        [-1, 1, 0, -1, 1],
    ])
    ids = np.array([0, 0, 1, 1, 2])
    # Only unit 2 has two values or more that differ (0, 1, 0).
    assert disagreeing_units(codes, 2).tolist() == [False, False, True, False, False]
    first, second, third, fourth = document_alphas(codes, ids, 2, n_documents=4)
    # Document 0: o = [[2, 0], [0, 3]] (unit 0: two 0s; unit 1: three 1s), no disagreement: 1.
    assert (first.value, first.units, first.pairs, first.annotators) == (1.0, 2, 5, 3)
    # Document 1: unit 2 alone is pairable, o = [[1, 1], [1, 0]], n = 3, n_0 = 2, n_1 = 1:
    # alpha = 1 - (n - 1)·(o_01 + o_10) / (2·n_0·n_1) = 1 - 2·2/4 = 0. All three coded a unit.
    assert (second.value, second.units, second.pairs, second.annotators) == (0.0, 1, 3, 3)
    # Document 2: one value (annotator 2's); document 3: none.
    assert (third.undefined, third.units, third.annotators) == (NOT_PAIRABLE, 0, 1)
    assert (fourth.undefined, fourth.units, fourth.annotators) == (NOT_PAIRABLE, 0, 0)
    # Each equals alpha over the document's units alone (which counts only pairable annotators).
    for d, figure in enumerate((first, second)):
        assert figure.value == krippendorff_alpha(codes[:, ids == d], 2, replicates=0).value


def test_ordinal_metric_by_hand():
    # Krippendorff (2011): δ²_ck = (Σ_{g=c..k} n_g - (n_c + n_k)/2)². Marginals n = (5, 2, 7):
    # δ²_01 = 3.5² = 12.25, δ²_12 = 4.5² = 20.25, δ²_02 = (14 - 6)² = 64.
    o = np.array([[4.0, 1, 0], [1, 0, 1], [0, 1, 6]])
    observed = 2 * (1 * 12.25 + 1 * 20.25)  # Σ o_ck δ²_ck = 65
    expected = 2 * (5 * 2 * 12.25 + 2 * 7 * 20.25 + 5 * 7 * 64)  # Σ n_c n_k δ²_ck = 5292
    alpha = 1 - (14 - 1) * observed / expected
    assert alpha_from_coincidences(o, "ordinal").value == pytest.approx(alpha, abs=TOLERANCE)
    assert alpha == pytest.approx(0.840325, abs=1e-6)


def test_float_input_with_nan_equals_integer_input_with_minus_one():
    as_int = np.where(np.isnan(KRIPPENDORFF_2011), -1, KRIPPENDORFF_2011).astype(int)
    assert krippendorff_alpha(as_int, 5).value == krippendorff_alpha(KRIPPENDORFF_2011, 5).value


def test_invalid_codes_are_rejected():
    with pytest.raises(ValueError):
        krippendorff_alpha(np.array([[0, 5]]), 5)
    with pytest.raises(ValueError):
        krippendorff_alpha(np.array([[0.5, 1.0]]), 5)
    with pytest.raises(ValueError):
        krippendorff_alpha(KRIPPENDORFF_2011, 5, "ratio")  # ratio needs category values
    with pytest.raises(ValueError):
        krippendorff_alpha(KRIPPENDORFF_2011, 5, "cardinal")


# --- undefined, never 0/1/NaN --------------------------------------------------------------


def test_no_variation_is_undefined():
    codes = np.full((3, 6), 2)
    for level in ("nominal", "ordinal", "interval"):
        figure = krippendorff_alpha(codes, 4, level)
        assert figure.value is None and figure.undefined == NO_VARIATION
        assert (figure.units, figure.pairs, figure.annotators) == (6, 18, 3)
    assert all(f.undefined == NO_VARIATION for f in cohen_kappa(codes, 4).values())
    assert fleiss_kappa(codes, 4).undefined == NO_VARIATION
    assert observed_agreement(codes, 4).value == 1.0  # raw agreement is defined: all agree


def test_one_annotator_is_undefined():
    codes = np.array([[0, 1, 2, 1]])
    assert krippendorff_alpha(codes, 3).undefined == NOT_PAIRABLE
    assert cohen_kappa(codes, 3) == {}
    assert fleiss_kappa(codes, 3).undefined == NOT_PAIRABLE
    assert observed_agreement(codes, 3).undefined == NOT_PAIRABLE


def test_no_unit_with_two_values_is_undefined():
    codes = np.array([[0, 1, -1, -1], [-1, -1, 1, 0]])
    figure = krippendorff_alpha(codes, 2, document_ids=np.array([0, 0, 1, 1]))
    assert figure.undefined == NOT_PAIRABLE and figure.units == 0 and figure.low is None
    assert cohen_kappa(codes, 2)[(0, 1)].undefined == NOT_PAIRABLE
    assert alpha_from_coincidences(np.zeros((2, 2))).undefined == NOT_PAIRABLE


def test_fleiss_on_unequal_numbers_of_ratings_takes_the_fully_rated_units():
    # Krippendorff's (2011) data: units 2..9 carry all four ratings; 1 and 10 three, 11 two,
    # 12 one. Fleiss' kappa is that of units 2..9; the other four are left out.
    figure = fleiss_kappa(KRIPPENDORFF_2011, 5)
    full = fully_rated(category_counts(KRIPPENDORFF_2011, 5))
    assert full.tolist() == [False] + [True] * 8 + [False] * 3
    reference = statsmodels_fleiss(category_counts(KRIPPENDORFF_2011, 5)[full])
    assert figure.value == pytest.approx(reference, abs=TOLERANCE)
    assert (figure.units, figure.pairs, figure.annotators, figure.units_left_out) == (8, 32, 4, 4)
    # Units nobody rated are not part of the study: neither used nor left out.
    with_empty_unit = np.array([[0, 1, -1], [0, 1, -1]])
    assert fleiss_kappa(with_empty_unit, 2).value == 1.0
    assert fleiss_kappa(with_empty_unit, 2).units_left_out == 0


def test_fleiss_with_fewer_than_two_fully_rated_units_is_undefined():
    # Only the first unit carries both ratings: kappa of one unit is not a figure.
    codes = np.array([[0, 1, 0, 1], [1, -1, -1, -1]])
    figure = fleiss_kappa(codes, 2, document_ids=np.array([0, 0, 1, 1]))
    assert figure.value is None and figure.undefined == FEWER_THAN_TWO_FULLY_RATED
    assert (figure.units, figure.annotators, figure.units_left_out) == (1, 2, 3)


def test_fleiss_interval_resamples_only_the_fully_rated_units():
    # Extra single ratings, in the same documents and in one of their own, change nothing but
    # the count of units left out: the same units are resampled, by the same documents.
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 3, size=(3, 40))
    documents = np.repeat(np.arange(8), 5)
    extra = np.full((3, 6), -1)
    extra[0, :] = rng.integers(0, 3, size=6)
    with_extra = np.concatenate([codes, extra], axis=1)
    extra_documents = np.concatenate([documents, [0, 3, 5, 8, 8, 8]])
    plain = fleiss_kappa(codes, 3, document_ids=documents, replicates=300, seed=4)
    extended = fleiss_kappa(with_extra, 3, document_ids=extra_documents, replicates=300, seed=4)
    assert extended.units_left_out == 6 and plain.units_left_out == 0
    assert (extended.value, extended.low, extended.high, extended.replicates) == (
        plain.value, plain.low, plain.high, plain.replicates)


def test_unused_category_has_undefined_specific_agreement():
    codes = np.array([[0, 0, 1, 1], [0, 1, 1, 1]])
    figures = specific_agreement(codes, 3)
    # o_00 = 2, n_0 = 3; o_11 = 4, n_1 = 5 (pairs counted both ways)
    assert figures[0].value == pytest.approx(2 / 3)
    assert figures[1].value == pytest.approx(4 / 5)
    assert figures[2].undefined == CATEGORY_NOT_USED


def test_figure_has_a_value_or_a_reason():
    with pytest.raises(ValueError):
        Figure(None)
    with pytest.raises(ValueError):
        Figure(0.5, "no variation")
    # The vectorised helpers mark undefined entries with NaN; only Figures reach callers.
    assert np.isnan(kappa_values(np.zeros((3, 2, 2)))).all()
    assert np.isnan(alpha_values(np.zeros((3, 2, 2)))).all()


# --- the other sentence-level figures ------------------------------------------------------


def test_observed_agreement_counts_annotator_pairs():
    # Unit 1: three annotators agree (3 pairs, 3 agree); unit 2: 2 vs 1 (3 pairs, 1 agrees);
    # unit 3: two annotators disagree (1 pair, 0 agree). 4 of 7 pairs agree.
    codes = np.array([[0, 1, 0], [0, 1, 1], [0, 2, -1]])
    figure = observed_agreement(codes, 3)
    assert figure.value == pytest.approx(4 / 7)
    assert (figure.units, figure.pairs, figure.annotators) == (3, 7, 3)


def test_confusion_matrices_per_pair_and_pooled():
    codes = np.array([[0, 1, 1, -1], [0, 1, 0, 1], [1, 1, 0, 0]])
    matrices = confusion_matrices(codes, 2)
    np.testing.assert_array_equal(matrices[(0, 1)], [[1, 0], [1, 1]])
    np.testing.assert_array_equal(matrices[(0, 2)], [[0, 1], [1, 1]])
    np.testing.assert_array_equal(matrices[(1, 2)], [[1, 1], [1, 1]])
    np.testing.assert_array_equal(pooled_confusion(codes, 2), [[2, 2], [3, 3]])


def test_cohen_kappa_hand_computed():
    # 10 units: a = 0 on 5, b = 0 on 4; both 0 on 3, both 1 on 4. p_o = .7,
    # p_e = .5·.4 + .5·.6 = .5, κ = .4.
    a = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    b = np.array([0, 0, 0, 1, 1, 0, 1, 1, 1, 1])
    figure = cohen_kappa(np.stack([a, b]), 2)[(0, 1)]
    assert figure.value == pytest.approx(0.4)
    assert (figure.units, figure.pairs, figure.annotators) == (10, 10, 2)


def test_leave_one_out():
    # Annotators 0 and 1 agree everywhere, 2 answers at random: dropping 2 raises alpha to 1.
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 60)
    codes = np.stack([truth, truth, rng.integers(0, 3, 60)])
    influence = leave_one_out(codes, 3)
    assert [x.annotator for x in influence] == [0, 1, 2]
    assert influence[2].alpha_without.value == 1.0
    assert influence[0].alpha_without.value < 0.5
    kappas = cohen_kappa(codes, 3)
    assert influence[0].mean_kappa.value == pytest.approx(
        (kappas[(0, 1)].value + kappas[(0, 2)].value) / 2
    )
    assert influence[2].mean_kappa.value == pytest.approx(
        (kappas[(0, 2)].value + kappas[(1, 2)].value) / 2
    )
    assert influence[2].mean_kappa.value < influence[0].mean_kappa.value


def test_leave_one_out_with_no_defined_pair():
    influence = leave_one_out(np.array([[0, -1], [-1, 1]]), 2)
    assert (
        influence[0].mean_kappa.value is None
        and influence[0].alpha_without.undefined == NOT_PAIRABLE
    )


def test_sentence_agreement_bundles_every_figure():
    ids = np.repeat(np.arange(6), 2)
    report = sentence_agreement(KRIPPENDORFF_2011, 5, "interval", document_ids=ids, replicates=200)
    assert round(report.alpha.value, 3) == 0.849
    assert report.alpha.low is not None and report.alpha.replicates > 0
    assert report.fleiss_kappa.units == 8 and report.fleiss_kappa.units_left_out == 4
    assert report.fleiss_kappa.low is not None  # resampled over the documents of units 2..9
    assert len(report.specific_agreement) == 5 and len(report.cohen_kappa) == 6
    np.testing.assert_array_equal(report.pooled_confusion, sum(report.confusion.values()))
    assert len(report.annotators) == 4


@pytest.mark.parametrize(
    "alpha, expected",
    [
        (None, None),
        (1.0, "reliable"),
        (0.8, "reliable"),
        (0.7999, "tentative"),
        (0.667, "tentative"),
        (0.6669, "unreliable"),
        (-0.2, "unreliable"),
    ],
)
def test_bands(alpha, expected):
    assert band(alpha) == expected
    if alpha is not None:
        assert Figure(alpha).band == expected


# --- purity -------------------------------------------------------------------------------

ALLOWED_IMPORTS = {
    "__future__",
    "collections",
    "dataclasses",
    "functools",
    "itertools",
    "math",
    "typing",
    "numpy",
}


def test_package_imports_only_numpy_and_the_standard_library():
    files = sorted(PACKAGE.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "coding.py", "bootstrap.py", "spans.py"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0:  # relative: another module of this package
                    continue
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= ALLOWED_IMPORTS, f"{path.name} imports {roots - ALLOWED_IMPORTS}"
