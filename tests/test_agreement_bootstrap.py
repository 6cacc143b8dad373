"""The bootstrap over documents (annotator.agreement.bootstrap)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.agreement import (
    DEFAULT_SEED,
    Attribution,
    alpha_values,
    attribution_agreement,
    bootstrap,
    cohen_kappa,
    document_coincidences,
    document_weights,
    krippendorff_alpha,
    observed_agreement,
    sentence_agreement,
    token_alpha,
    unitizing_alpha,
)
from annotator.agreement.results import NO_DEFINED_RESAMPLE, TOO_FEW_DOCUMENTS


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
    assert empty.undefined == TOO_FEW_DOCUMENTS
    # No replicates asked for: no interval at all (not an undefined one).
    assert bootstrap(np.ones((5, 2, 2)), alpha_values, 0, batched=True) is None
    codes, ids, k = synthetic()
    without_replicates = krippendorff_alpha(codes, k, document_ids=ids, replicates=0)
    assert without_replicates.low is None and without_replicates.replicates == 0
    assert without_replicates.seed is None and without_replicates.interval_undefined is None
    assert without_replicates.value is not None


def test_an_interval_needs_two_documents_that_contribute():
    # One document resampled is that document again: its "interval" would be the point
    # estimate twice. Documents without a pairable value do not count.
    codes, _, k = synthetic(documents=1, sentences=30)
    one = np.zeros(codes.shape[1], dtype=np.int64)
    figure = krippendorff_alpha(codes, k, document_ids=one, replicates=200)
    assert figure.value is not None and (figure.low, figure.high) == (None, None)
    assert figure.interval_undefined == TOO_FEW_DOCUMENTS and figure.seed == DEFAULT_SEED
    assert figure.replicates == 0
    lone_values = np.concatenate([codes, np.array([[0, 1], [-1, -1], [-1, -1]])], axis=1)
    ids = np.concatenate([one, [1, 1]])  # the second document has no unit with two values
    assert krippendorff_alpha(lone_values, k, document_ids=ids).interval_undefined == TOO_FEW_DOCUMENTS
    # Two documents are enough.
    two = krippendorff_alpha(codes, k, document_ids=np.repeat([0, 1], 15), replicates=200)
    assert two.interval_undefined is None and two.low < two.high


def test_every_interval_of_one_document_is_undefined():
    """Every figure that carries an interval follows the one rule of bootstrap()."""
    codes, _, k = synthetic(documents=1, sentences=30, accuracy=0.7)
    one = np.zeros(codes.shape[1], dtype=np.int64)
    sentences = sentence_agreement(codes, k, document_ids=one, replicates=100)
    tokens = [np.array([[0, 4], [5, 9], [10, 14], [15, 19]])]
    unitizing = unitizing_alpha([40], [[[(0, 9, "x"), (20, 30, "y")], [(0, 4, "x"), (22, 30, "y")]]],
                                replicates=100)

    def said(kind: str, cue: int) -> Attribution:
        return Attribution(parts={"source": [(0, 4)], "cue": [(cue, cue + 4)], "content": [(cue + 5, cue + 9)]},
                           attributes={"source_kind": kind})

    first = [[said("person", 5), said("organisation", 20), said("person", 40)]]
    second = [[said("person", 5), said("person", 20), said("person", 40)]]
    figures = {
        "alpha": sentences.alpha,
        "fleiss_kappa": sentences.fleiss_kappa,
        "observed_agreement": sentences.observed_agreement,
        "specific_agreement": sentences.specific_agreement[0],
        "cohen_kappa": sentences.cohen_kappa[(0, 1)],
        "token_alpha": token_alpha(tokens, [[[(0, 9, "x")], [(0, 4, "x")]]], ["x"], replicates=100),
        "unitizing_alpha": unitizing.pooled,
        "unitizing_alpha x": unitizing.per_label["x"],
        "attribute alpha": attribution_agreement(first, second, ["source_kind"], replicates=100)
        .attributes["source_kind"],
    }
    for name, figure in figures.items():
        assert figure.value is not None, name
        assert figure.interval_undefined == TOO_FEW_DOCUMENTS, name
        assert (figure.low, figure.high, figure.p_below_0667, figure.p_below_08) == (None, None, None, None), name


def test_an_interval_undefined_in_every_resample_says_so():
    never = bootstrap(np.ones((4, 3)), lambda stack: np.full(stack.shape[0], np.nan), 50, batched=True)
    assert (never.low, never.high, never.replicates_defined, never.replicates) == (None, None, 0, 50)
    assert never.undefined == NO_DEFINED_RESAMPLE
