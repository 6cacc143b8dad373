"""The bootstrap over documents (annotator.agreement.bootstrap)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.agreement import (
    DEFAULT_SEED,
    alpha_values,
    bootstrap,
    cohen_kappa,
    document_coincidences,
    document_weights,
    krippendorff_alpha,
    observed_agreement,
)


def synthetic(documents=120, sentences=10, annotators=3, k=4, accuracy=0.85, seed=1):
    """Annotators copy a true label with probability ``accuracy``, else guess."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, documents * sentences)
    guess = rng.integers(0, k, (annotators, truth.size))
    codes = np.where(rng.random((annotators, truth.size)) < accuracy, truth, guess)
    return codes, np.repeat(np.arange(documents), sentences), k


def test_weights_are_multinomial_document_counts():
    weights = document_weights(50, 300, 7)
    assert weights.shape == (300, 50)
    assert (weights.sum(axis=1) == 50).all()
    assert not weights.flags.writeable  # shared between statistics through the cache
    # Each document is drawn once per replicate on average.
    assert weights.mean() == pytest.approx(1.0)


def test_reproducible_with_the_seed_and_reported():
    codes, ids, k = synthetic()
    first = krippendorff_alpha(codes, k, document_ids=ids, replicates=500, seed=11)
    document_weights.cache_clear()
    again = krippendorff_alpha(codes, k, document_ids=ids, replicates=500, seed=11)
    other = krippendorff_alpha(codes, k, document_ids=ids, replicates=500, seed=12)
    assert first == again
    assert first.seed == 11 and other.seed == 12
    assert (first.low, first.high) != (other.low, other.high)
    assert krippendorff_alpha(codes, k, document_ids=ids).seed == DEFAULT_SEED == 20261125


def test_interval_contains_the_point_estimate():
    for accuracy in (0.5, 0.7, 0.9):
        codes, ids, k = synthetic(accuracy=accuracy)
        figure = krippendorff_alpha(codes, k, document_ids=ids)
        assert figure.low < figure.value < figure.high
        assert figure.replicates == 1000
        kappa = cohen_kappa(codes, k, document_ids=ids)[(0, 1)]
        assert kappa.low < kappa.value < kappa.high
        agreement = observed_agreement(codes, k, document_ids=ids)
        assert agreement.low < agreement.value < agreement.high


def test_documents_are_resampled_not_sentences():
    # Forty copies of one document whose sentences disagree in varied ways: every resample of
    # documents holds the same sentences, so the interval has zero width. Resampling
    # sentences would give a wide interval here.
    rng = np.random.default_rng(5)
    one_document = rng.integers(0, 3, (3, 12))
    codes = np.tile(one_document, 40)
    ids = np.repeat(np.arange(40), 12)
    figure = krippendorff_alpha(codes, 3, document_ids=ids)
    assert figure.low == pytest.approx(figure.value, abs=1e-12)
    assert figure.high == pytest.approx(figure.value, abs=1e-12)
    # Same sentences, each its own document: now the interval opens up.
    per_sentence = krippendorff_alpha(codes, 3, document_ids=np.arange(codes.shape[1]))
    assert per_sentence.value == pytest.approx(figure.value)
    assert per_sentence.high - per_sentence.low > 0.05


def test_probabilities_below_thresholds_are_monotone():
    previous = None
    for accuracy in (0.95, 0.85, 0.75, 0.6, 0.4):
        codes, ids, k = synthetic(accuracy=accuracy, seed=2)
        figure = krippendorff_alpha(codes, k, document_ids=ids)
        assert figure.p_below_0667 <= figure.p_below_08
        if previous is not None:
            assert figure.p_below_0667 >= previous.p_below_0667
            assert figure.p_below_08 >= previous.p_below_08
        previous = figure
    codes, ids, k = synthetic(accuracy=0.97)
    strong = krippendorff_alpha(codes, k, document_ids=ids)
    assert strong.p_below_08 == 0.0 and strong.band == "reliable"
    assert previous.p_below_0667 == 1.0 and previous.band == "unreliable"


def test_undefined_replicates_are_left_out_and_counted():
    # Document 0: everyone says 0 (no variation alone); document 1: varied. A resample made
    # only of document 0 has undefined alpha; probabilities are over the defined ones.
    codes = np.array([[0, 0, 0, 1, 0, 1], [0, 0, 0, 1, 1, 1]])
    ids = np.array([0, 0, 0, 1, 1, 1])
    figure = krippendorff_alpha(codes, 2, document_ids=ids, replicates=400)
    assert 0 < figure.replicates < 400  # P(both draws are document 0) = 1/4
    assert figure.replicates == pytest.approx(300, abs=40)


def test_batched_and_looped_statistics_agree():
    codes, ids, k = synthetic(documents=30)
    per_document = document_coincidences(codes, ids, k)
    batched = bootstrap(per_document, lambda o: alpha_values(o), 200, 3, batched=True)

    def one(o):
        value = alpha_values(o)
        return None if np.isnan(value) else float(value)

    looped = bootstrap(per_document, one, 200, 3)
    assert batched == looped
    low, high, p_below_0667, p_below_08, defined = batched  # unpacks as documented
    assert low <= high and defined == 200 and batched.replicates == 200 and batched.seed == 3


def test_nothing_to_resample():
    empty = bootstrap(np.zeros((0, 2, 2)), alpha_values, 100, batched=True)
    assert (empty.low, empty.high, empty.replicates_defined) == (None, None, 0)
    codes, ids, k = synthetic()
    without_replicates = krippendorff_alpha(codes, k, document_ids=ids, replicates=0)
    assert without_replicates.low is None and without_replicates.replicates == 0
    assert without_replicates.value is not None
