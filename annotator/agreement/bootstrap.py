"""Bootstrap over documents.

Sentences of one article are not independent (one annotator's reading of an article colours
all its sentences), so the resampled unit is the document. Every statistic here is a function
of per-document sufficient statistics that add up (coincidence matrices, confusion matrices,
counts), so a resample of documents is a weighted sum: with multinomial weights w (how often
each document was drawn), the resample's statistics are ``w @ per_document_stats``. All
replicates are drawn at once and summed with one matrix product.

An interval needs at least two documents that contribute: every resample of one document is
that document again, so its "interval" would be the point estimate twice. Then, and when no
resample gives a defined value, the interval is undefined with the reason (``Bootstrap.undefined``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .results import (
    NO_DEFINED_RESAMPLE,
    RELIABLE,
    TENTATIVE,
    TOO_FEW_DOCUMENTS,
    Bootstrap,
)

DEFAULT_SEED = 20261125
DEFAULT_REPLICATES = 1000
MIN_DOCUMENTS = 2  # contributing documents an interval needs


@lru_cache(maxsize=4)
def document_weights(n_documents: int, replicates: int, seed: int) -> np.ndarray:
    """(replicates, n_documents) draw counts; each row sums to n_documents. Read-only and
    cached: statistics over the same documents with the same seed see the same resamples."""
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_documents, np.full(n_documents, 1.0 / n_documents), size=replicates)
    weights = weights.astype(np.float64)
    weights.flags.writeable = False
    return weights


def resampled_sums(per_document_stats: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """(replicates, *stat_shape): the summed statistics of each resample of documents."""
    stats = np.asarray(per_document_stats, dtype=np.float64)
    n_documents = stats.shape[0]
    weights = document_weights(n_documents, replicates, seed)
    summed = weights @ stats.reshape(n_documents, -1)
    return summed.reshape((replicates,) + stats.shape[1:])


def bootstrap(
    per_document_stats: np.ndarray,
    statistic: Callable,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    *,
    batched: bool = False,
) -> Bootstrap | None:
    """95% percentile interval and P(value < .667), P(value < .8) of ``statistic`` over
    resamples of documents; None when no replicates are asked for.

    ``per_document_stats`` has one row (of any shape) per document. ``statistic`` maps the sum
    of a resample's rows to a float or None (undefined). With ``batched=True`` it instead maps
    the (replicates, *stat_shape) stack to a (replicates,) array, NaN meaning undefined, which
    avoids a Python loop over replicates. Documents whose row is all zero are left out of the
    resampling; fewer than ``MIN_DOCUMENTS`` left make the interval undefined. Undefined
    replicates are left out too, and the result says how many were defined.
    """
    if replicates <= 0:
        return None
    stats = np.asarray(per_document_stats, dtype=np.float64)
    # A document whose statistics are all zero (no pairable value) is not part of the
    # reliability data: resampling it would only vary how many real documents a replicate has.
    stats = stats[(stats != 0).reshape(stats.shape[0], -1).any(axis=1)] if stats.size else stats
    if stats.shape[0] < MIN_DOCUMENTS:
        return Bootstrap(None, None, None, None, 0, replicates, seed, TOO_FEW_DOCUMENTS)
    summed = resampled_sums(stats, replicates, seed)
    if batched:
        values = np.asarray(statistic(summed), dtype=np.float64)
    else:
        values = np.array(
            [np.nan if (v := statistic(s)) is None else v for s in summed], dtype=np.float64
        )
    return summarise(values, seed)


def summarise(values: np.ndarray, seed: int) -> Bootstrap:
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return Bootstrap(None, None, None, None, 0, values.size, seed, NO_DEFINED_RESAMPLE)
    low, high = np.quantile(defined, [0.025, 0.975])
    return Bootstrap(
        low=float(low),
        high=float(high),
        p_below_0667=float(np.mean(defined < TENTATIVE)),
        p_below_08=float(np.mean(defined < RELIABLE)),
        replicates_defined=int(defined.size),
        replicates=int(values.size),
        seed=seed,
    )
