"""Agreement on coded units: sentences (units) × annotators (coders) → category codes.

Reliability data are an (annotators, units) array of category indices 0..k-1; a missing value
(the annotator did not label that unit) is -1 in an integer array or NaN in a float array.
For the ordinal level the indices are the categories' rank order; interval and ratio use
``category_values[index]``.

Every coefficient is computed from sums that add up over units (coincidence matrices, confusion
matrices, pair counts), kept per document so that a bootstrap over documents is a weighted sum
(:mod:`annotator.agreement.bootstrap`).

References: Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg
School for Communication, University of Pennsylvania. Fleiss, J. L. (1971). Measuring nominal
scale agreement among many raters. Psychological Bulletin 76(5). Cohen, J. (1960). A coefficient
of agreement for nominal scales. Educational and Psychological Measurement 20(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, bootstrap
from .results import (
    CATEGORY_NOT_USED,
    FEWER_THAN_TWO_FULLY_RATED,
    NO_DEFINED_PAIR,
    NO_VARIATION,
    NOT_PAIRABLE,
    Figure,
    undefined,
    with_interval,
)

LEVELS = ("nominal", "ordinal", "interval", "ratio")
MISSING = -1


# --- reliability data ---------------------------------------------------------------------


def as_codes(values: np.ndarray, n_categories: int) -> np.ndarray:
    """(annotators, units) int64 codes with MISSING for absent values; validates the range."""
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError("reliability data must be a 2-d array (annotators, units)")
    if array.dtype.kind == "f":
        missing = np.isnan(array)
        filled = np.where(missing, MISSING, array)
        if not np.array_equal(filled, np.round(filled)):
            raise ValueError("category codes must be whole numbers")
        codes = filled.astype(np.int64)
    elif array.dtype.kind in "iub":
        codes = array.astype(np.int64)
    else:
        raise ValueError("category codes must be numbers (indices 0..k-1)")
    if codes.size and (codes.min() < MISSING or codes.max() >= n_categories):
        raise ValueError(f"category codes must lie in 0..{n_categories - 1} (or be missing)")
    return codes


def category_counts(values: np.ndarray, n_categories: int) -> np.ndarray:
    """(units, k): how many annotators gave each category to each unit."""
    codes = as_codes(values, n_categories)
    n_units = codes.shape[1]
    annotator, unit = np.nonzero(codes != MISSING)
    flat = np.bincount(
        unit * n_categories + codes[annotator, unit], minlength=n_units * n_categories
    )
    return flat.reshape(n_units, n_categories).astype(np.float64)


def _document_index(document_ids: np.ndarray | None, n_units: int) -> tuple[np.ndarray, int]:
    if document_ids is None:
        return np.zeros(n_units, dtype=np.int64), 1
    ids = np.asarray(document_ids, dtype=np.int64)
    if ids.shape != (n_units,) or (n_units and ids.min() < 0):
        raise ValueError("document_ids needs one non-negative index per unit")
    return ids, int(ids.max()) + 1 if n_units else 0


def _sum_by_document(
    per_unit: np.ndarray, document_ids: np.ndarray, n_documents: int
) -> np.ndarray:
    """Sums (units, *shape) rows into (n_documents, *shape) with one bincount."""
    shape = per_unit.shape[1:]
    width = int(np.prod(shape)) if shape else 1
    flat_index = (document_ids[:, None] * width + np.arange(width)).ravel()
    sums = np.bincount(flat_index, weights=per_unit.reshape(-1), minlength=n_documents * width)
    return sums.reshape((n_documents,) + shape)


# --- Krippendorff's alpha -----------------------------------------------------------------


def _weighted_counts(counts: np.ndarray) -> np.ndarray:
    """n_u / (m_u - 1) per unit; 0 for units with fewer than two values (not pairable)."""
    m = counts.sum(axis=1)
    weight = np.divide(1.0, m - 1, out=np.zeros_like(m), where=m >= 2)
    return counts * weight[:, None]


def _unit_coincidences(counts: np.ndarray) -> np.ndarray:
    """(units, k, k): each unit's contribution (n_u n_uᵀ - diag n_u) / (m_u - 1)."""
    weighted = _weighted_counts(counts)
    per_unit = weighted[:, :, None] * counts[:, None, :]
    diagonal = np.arange(counts.shape[1])
    per_unit[:, diagonal, diagonal] -= weighted
    return per_unit


def coincidences(values: np.ndarray, n_categories: int) -> np.ndarray:
    """Krippendorff's (k, k) coincidence matrix o_ck of the reliability data."""
    counts = category_counts(values, n_categories)
    weighted = _weighted_counts(counts)
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def _distinct_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a (units, k) count matrix and the index of each unit's row. The
    rows are packed into one integer each when they fit (one sort of integers instead of a
    sort of rows, several times faster)."""
    base = int(counts.max(initial=0)) + 1
    if base ** counts.shape[1] >= 2**62:
        patterns, inverse = np.unique(counts, axis=0, return_inverse=True)
        return patterns, inverse.reshape(-1)
    keys = counts.astype(np.int64) @ (base ** np.arange(counts.shape[1], dtype=np.int64))
    distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return counts[first], inverse.reshape(-1)


def document_coincidences(
    values: np.ndarray, document_ids: np.ndarray, n_categories: int
) -> np.ndarray:
    """(documents, k, k): each document's coincidence matrix; their sum is ``coincidences``."""
    counts = category_counts(values, n_categories)
    ids, n_documents = _document_index(document_ids, counts.shape[0])
    # Units share few distinct count vectors (three annotators and six categories allow 84),
    # so each distinct vector's k×k contribution is computed once and weighted by how often
    # it occurs in each document, instead of materialising (units, k, k).
    patterns, pattern_of_unit = _distinct_rows(counts)
    pairs, occurrences = np.unique(ids * len(patterns) + pattern_of_unit, return_counts=True)
    pair_document, pair_pattern = np.divmod(pairs, max(len(patterns), 1))
    per_pair = _unit_coincidences(patterns)[pair_pattern] * occurrences[:, None, None]
    return _sum_by_document(per_pair, pair_document, n_documents)


def squared_differences(
    marginals: np.ndarray, level: str, category_values: np.ndarray | None = None
) -> np.ndarray:
    """δ²_ck for the level (Krippendorff 2011); broadcasts over leading axes of
    ``marginals`` (..., k) because the ordinal metric depends on the marginals n_c."""
    n_c = np.asarray(marginals, dtype=np.float64)
    k = n_c.shape[-1]
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        # (Σ_{g=c..k} n_g - (n_c + n_k)/2)², written with cumulative sums so it holds for c > k too.
        cumulative = np.cumsum(n_c, axis=-1)
        between = cumulative[..., None, :] - cumulative[..., :, None]
        return (between + (n_c[..., :, None] - n_c[..., None, :]) / 2.0) ** 2
    if level in ("interval", "ratio"):
        if category_values is None:
            if level == "ratio":
                raise ValueError(
                    "the ratio level needs category_values (it is not shift-invariant)"
                )
            category_values = np.arange(k)
        v = np.asarray(category_values, dtype=np.float64)
        if v.shape != (k,):
            raise ValueError(f"category_values needs one value per category ({k})")
        difference = v[:, None] - v[None, :]
        if level == "interval":
            return difference**2
        total = v[:, None] + v[None, :]
        return np.divide(difference, total, out=np.zeros((k, k)), where=total != 0) ** 2
    raise ValueError(f"level must be one of {LEVELS}")


def alpha_values(
    o: np.ndarray, level: str = "nominal", category_values: np.ndarray | None = None
) -> np.ndarray:
    """Alpha of each coincidence matrix in a (..., k, k) stack; NaN where undefined.

    α = 1 - D_o/D_e = 1 - (n - 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck."""
    o = np.asarray(o, dtype=np.float64)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    d2 = squared_differences(n_c, level, category_values)
    observed = (o * d2).sum(axis=(-2, -1))
    expected = (n_c[..., :, None] * n_c[..., None, :] * d2).sum(axis=(-2, -1))
    ratio = np.divide(observed, expected, out=np.full_like(expected, np.nan), where=expected > 0)
    return 1.0 - (n - 1.0) * ratio


def alpha_from_coincidences(
    o: np.ndarray,
    level: str = "nominal",
    category_values: np.ndarray | None = None,
    *,
    units: int = 0,
    annotators: int = 0,
) -> Figure:
    """Krippendorff's alpha of one coincidence matrix. ``units`` and ``annotators`` are only
    carried into the Figure (the matrix does not know them)."""
    o = np.asarray(o, dtype=np.float64)
    pairable = int(round(o.sum()))
    if pairable == 0:
        return undefined(NOT_PAIRABLE, units, 0, annotators)
    value = float(alpha_values(o, level, category_values))
    if np.isnan(value):
        return undefined(NO_VARIATION, units, pairable, annotators)
    return Figure(value, None, units, pairable, annotators)


def _pairable(codes: np.ndarray) -> tuple[int, int]:
    """Units with at least two values, and annotators with a value in one of them."""
    present = codes != MISSING
    pairable_units = present.sum(axis=0) >= 2
    return int(pairable_units.sum()), int(present[:, pairable_units].any(axis=1).sum())


def krippendorff_alpha(
    values: np.ndarray,
    n_categories: int,
    level: str = "nominal",
    category_values: np.ndarray | None = None,
    *,
    document_ids: np.ndarray | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> Figure:
    """Krippendorff's alpha with missing values and any number of annotators. With
    ``document_ids`` (one per unit) the figure carries a bootstrap interval over documents."""
    codes = as_codes(values, n_categories)
    units, annotators = _pairable(codes)
    per_document = document_coincidences(codes, document_ids, n_categories)
    figure = alpha_from_coincidences(
        per_document.sum(axis=0), level, category_values, units=units, annotators=annotators
    )
    if document_ids is None or figure.value is None:
        return figure
    interval = bootstrap(
        per_document,
        lambda o: alpha_values(o, level, category_values),
        replicates,
        seed,
        batched=True,
    )
    return with_interval(figure, interval)


def document_alphas(
    values: np.ndarray,
    document_ids: np.ndarray,
    n_categories: int,
    level: str = "nominal",
    category_values: np.ndarray | None = None,
    *,
    n_documents: int,
) -> list[Figure]:
    """Krippendorff's alpha of each document's units on their own (no interval), for the
    documents 0..n_documents-1 that ``document_ids`` (one per unit) index. ``units``: the
    document's units with two values or more; ``annotators``: those who gave any of its
    units a value."""
    codes = as_codes(values, n_categories)
    ids = np.asarray(document_ids, dtype=np.int64)
    per_document = np.zeros((n_documents, n_categories, n_categories))
    if codes.shape[1]:
        found = document_coincidences(codes, ids, n_categories)  # up to the last document with a unit
        per_document[: len(found)] = found
    present = codes != MISSING
    units = np.bincount(ids[present.sum(axis=0) >= 2], minlength=n_documents)
    coded = np.zeros((codes.shape[0], n_documents), dtype=bool)
    annotator, unit = np.nonzero(present)
    coded[annotator, ids[unit]] = True
    annotators = coded.sum(axis=0)
    return [
        alpha_from_coincidences(per_document[d], level, category_values, units=int(units[d]),
                                annotators=int(annotators[d]))
        for d in range(n_documents)
    ]


def disagreeing_units(values: np.ndarray, n_categories: int) -> np.ndarray:
    """Mask of the units that at least two annotators coded, not all alike."""
    codes = as_codes(values, n_categories)
    present = codes != MISSING
    if codes.shape[0] == 0:
        return np.zeros(codes.shape[1], dtype=bool)
    lowest = np.where(present, codes, n_categories).min(axis=0)
    highest = codes.max(axis=0)  # MISSING (-1) is below every category
    return (present.sum(axis=0) >= 2) & (lowest != highest)


# --- observed and specific agreement ------------------------------------------------------


def _pair_counts(counts: np.ndarray) -> np.ndarray:
    """(units, 2): agreeing annotator pairs and all annotator pairs in each unit."""
    m = counts.sum(axis=1)
    agreeing = (counts * (counts - 1)).sum(axis=1) / 2.0
    return np.stack([agreeing, m * (m - 1) / 2.0], axis=1)


def _ratio_or_nan(stack: np.ndarray) -> np.ndarray:
    return np.divide(
        stack[..., 0], stack[..., 1], out=np.full(stack.shape[:-1], np.nan), where=stack[..., 1] > 0
    )


def observed_agreement(
    values: np.ndarray,
    n_categories: int,
    *,
    document_ids: np.ndarray | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> Figure:
    """Pairwise percent agreement: agreeing annotator pairs / all annotator pairs, over every
    unit (a unit coded by m annotators holds m(m-1)/2 pairs). Not chance-corrected."""
    codes = as_codes(values, n_categories)
    units, annotators = _pairable(codes)
    pair_counts = _pair_counts(category_counts(codes, n_categories))
    ids, n_documents = _document_index(document_ids, codes.shape[1])
    per_document = _sum_by_document(pair_counts, ids, n_documents)
    agreeing, pairs = per_document.sum(axis=0)
    if pairs == 0:
        return undefined(NOT_PAIRABLE, units, 0, annotators)
    figure = Figure(float(agreeing / pairs), None, units, int(pairs), annotators)
    if document_ids is None:
        return figure
    return with_interval(
        figure, bootstrap(per_document, _ratio_or_nan, replicates, seed, batched=True)
    )


def specific_agreement(
    values: np.ndarray,
    n_categories: int,
    *,
    document_ids: np.ndarray | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> tuple[Figure, ...]:
    """Per category c: o_cc / n_c from the coincidence matrix, i.e. 2·n_cc / (row_c + col_c) of
    the symmetric pair table: of the pairable values c, the share whose partners also said c."""
    codes = as_codes(values, n_categories)
    units, annotators = _pairable(codes)
    per_document = document_coincidences(codes, document_ids, n_categories)
    o = per_document.sum(axis=0)
    figures = []
    for c in range(n_categories):
        n_c = o[c].sum()
        if n_c == 0:
            figures.append(undefined(CATEGORY_NOT_USED, units, 0, annotators))
            continue
        figure = Figure(float(o[c, c] / n_c), None, units, int(round(n_c)), annotators)
        if document_ids is not None:
            per_document_c = np.stack(
                [per_document[:, c, c], per_document[:, c].sum(axis=1)], axis=1
            )
            figure = with_interval(
                figure, bootstrap(per_document_c, _ratio_or_nan, replicates, seed, batched=True)
            )
        figures.append(figure)
    return tuple(figures)


# --- Fleiss' kappa ------------------------------------------------------------------------


def fully_rated(counts: np.ndarray) -> np.ndarray:
    """Which units of (units, k) category counts carry the most ratings any unit carries.

    Fleiss' kappa needs the same number of ratings m on every unit (not the same raters), so
    it is computed on these units: where every annotator rates every unit, the units all of
    them rated; where each document goes to K of them, the units all K rated. A unit an
    annotator skipped, or labelled alone, is left out instead of making the figure undefined."""
    ratings = np.asarray(counts).sum(axis=1)
    return (ratings == ratings.max()) & (ratings > 0) if ratings.size else np.zeros(0, dtype=bool)


def fleiss_kappa_from_counts(counts: np.ndarray) -> Figure:
    """Fleiss' kappa from (units, k) category counts, on the fully rated units
    (:func:`fully_rated`); ``units_left_out`` counts the other rated units (units nobody rated
    are not part of the data). κ = (P̄ - P̄_e) / (1 - P̄_e)."""
    counts = np.asarray(counts, dtype=np.float64)
    ratings = counts.sum(axis=1)
    full = fully_rated(counts)
    counts, n_units = counts[full], int(full.sum())
    m = int(ratings.max()) if n_units else 0

    def figure(value: float | None, reason: str | None = None) -> Figure:
        return Figure(value, reason, n_units, n_units * m if m >= 2 else 0, m,
                      units_left_out=int(np.count_nonzero(ratings)) - n_units)

    if m < 2:
        return figure(None, NOT_PAIRABLE)
    if n_units < 2:
        return figure(None, FEWER_THAN_TWO_FULLY_RATED)
    totals = counts.sum(axis=0)
    if np.count_nonzero(totals) <= 1:  # chance agreement P̄_e is 1
        return figure(None, NO_VARIATION)
    agreement_per_unit = ((counts**2).sum(axis=1) - m) / (m * (m - 1))
    p_bar = agreement_per_unit.mean()
    p_e = ((totals / (n_units * m)) ** 2).sum()
    return figure(float((p_bar - p_e) / (1 - p_e)))


def fleiss_kappa(
    values: np.ndarray,
    n_categories: int,
    *,
    document_ids: np.ndarray | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> Figure:
    """Fleiss' kappa of reliability data on the fully rated units (:func:`fully_rated`).
    ``annotators`` is the number of ratings per unit. With ``document_ids`` the figure carries
    a bootstrap interval over documents, resampling the same fully rated units."""
    counts = category_counts(as_codes(values, n_categories), n_categories)
    figure = fleiss_kappa_from_counts(counts)
    if document_ids is None or figure.value is None:
        return figure
    ratings = figure.annotators
    # Per fully rated unit (Σ over units is what kappa needs): its agreement P_i, 1 unit, its
    # category counts; the units left out contribute zeros.
    full = fully_rated(counts)
    rows = np.zeros((counts.shape[0], n_categories + 2))
    rows[full, 0] = ((counts[full] ** 2).sum(axis=1) - ratings) / (ratings * (ratings - 1))
    rows[full, 1] = 1
    rows[full, 2:] = counts[full]
    ids, n_documents = _document_index(document_ids, counts.shape[0])
    per_document = _sum_by_document(rows, ids, n_documents)
    interval = bootstrap(
        per_document, lambda stats: _fleiss_values(stats, ratings), replicates, seed, batched=True
    )
    return with_interval(figure, interval)


def _fleiss_values(stats: np.ndarray, ratings: int) -> np.ndarray:
    """Fleiss' kappa of each row of summed (Σ P_i, units, category totals…); NaN if undefined."""
    agreement, units, totals = stats[:, 0], stats[:, 1], stats[:, 2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_bar = agreement / units
        p_e = ((totals / (units * ratings)[:, None]) ** 2).sum(axis=1)
        kappa = (p_bar - p_e) / (1 - p_e)
    return np.where(np.isfinite(kappa), kappa, np.nan)


# --- Cohen's kappa and confusion matrices -------------------------------------------------


def annotator_pairs(n_annotators: int) -> list[tuple[int, int]]:
    return list(combinations(range(n_annotators), 2))


def document_confusions(
    values: np.ndarray, document_ids: np.ndarray | None, n_categories: int
) -> np.ndarray:
    """(documents, pairs, k, k): for each annotator pair (a, b), a < b in ``annotator_pairs``
    order, counts of units both coded, a's code as row and b's as column."""
    codes = as_codes(values, n_categories)
    k = n_categories
    ids, n_documents = _document_index(document_ids, codes.shape[1])
    pairs = annotator_pairs(codes.shape[0])
    index = []
    for p, (a, b) in enumerate(pairs):
        both = (codes[a] != MISSING) & (codes[b] != MISSING)
        index.append(((ids[both] * len(pairs) + p) * k + codes[a, both]) * k + codes[b, both])
    flat = np.concatenate(index) if index else np.zeros(0, dtype=np.int64)
    size = n_documents * len(pairs) * k * k
    return (
        np.bincount(flat, minlength=size).reshape(n_documents, len(pairs), k, k).astype(np.float64)
    )


def confusion_matrices(values: np.ndarray, n_categories: int) -> dict[tuple[int, int], np.ndarray]:
    """Per annotator pair (a, b), a < b: the (k, k) confusion matrix on units both coded."""
    codes = as_codes(values, n_categories)
    summed = document_confusions(codes, None, n_categories).sum(axis=0)
    return {pair: summed[p] for p, pair in enumerate(annotator_pairs(codes.shape[0]))}


def pooled_confusion(values: np.ndarray, n_categories: int) -> np.ndarray:
    """The sum of the pairs' confusion matrices (rows: the lower-numbered annotator of a pair)."""
    return document_confusions(values, None, n_categories).sum(axis=(0, 1))


def kappa_values(confusion: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each confusion matrix in a (..., k, k) stack; NaN where undefined.

    κ = (p_o - p_e) / (1 - p_e), written as (n·agree - Σ row·col) / (n² - Σ row·col) so that
    the undefined case (expected disagreement 0) is detected exactly on counts."""
    confusion = np.asarray(confusion, dtype=np.float64)
    n = confusion.sum(axis=(-2, -1))
    agree = np.trace(confusion, axis1=-2, axis2=-1)
    chance = (confusion.sum(axis=-1) * confusion.sum(axis=-2)).sum(axis=-1)
    denominator = n * n - chance
    return np.divide(
        n * agree - chance,
        denominator,
        out=np.full_like(denominator, np.nan),
        where=denominator > 0,
    )


def cohen_kappa_from_confusion(confusion: np.ndarray) -> Figure:
    confusion = np.asarray(confusion, dtype=np.float64)
    n = int(round(confusion.sum()))
    if n == 0:
        return undefined(NOT_PAIRABLE, 0, 0, 2)
    value = float(kappa_values(confusion))
    if np.isnan(value):
        return undefined(NO_VARIATION, n, n, 2)
    return Figure(value, None, n, n, 2)


def cohen_kappa(
    values: np.ndarray,
    n_categories: int,
    *,
    document_ids: np.ndarray | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> dict[tuple[int, int], Figure]:
    """Cohen's kappa for every annotator pair (a, b), a < b, on the units both coded."""
    codes = as_codes(values, n_categories)
    per_document = document_confusions(codes, document_ids, n_categories)
    result = {}
    for p, pair in enumerate(annotator_pairs(codes.shape[0])):
        figure = cohen_kappa_from_confusion(per_document[:, p].sum(axis=0))
        if document_ids is not None and figure.value is not None:
            figure = with_interval(
                figure, bootstrap(per_document[:, p], kappa_values, replicates, seed, batched=True)
            )
        result[pair] = figure
    return result


# --- leave one annotator out --------------------------------------------------------------


@dataclass(frozen=True)
class AnnotatorInfluence:
    """Alpha of the others without this annotator, and this annotator's mean Cohen's kappa
    with each other annotator (over the pairs where kappa is defined)."""

    annotator: int
    alpha_without: Figure
    mean_kappa: Figure


def leave_one_out(
    values: np.ndarray,
    n_categories: int,
    level: str = "nominal",
    category_values: np.ndarray | None = None,
) -> tuple[AnnotatorInfluence, ...]:
    codes = as_codes(values, n_categories)
    kappas = cohen_kappa(codes, n_categories)
    result = []
    for a in range(codes.shape[0]):
        others = np.delete(codes, a, axis=0)
        alpha_without = krippendorff_alpha(others, n_categories, level, category_values)
        mine = [f for pair, f in kappas.items() if a in pair and f.value is not None]
        if mine:
            mean_kappa = Figure(
                float(np.mean([f.value for f in mine])),
                None,
                units=sum(f.units for f in mine),
                pairs=len(mine),
                annotators=len(mine) + 1,
            )
        else:
            mean_kappa = undefined(NO_DEFINED_PAIR, annotators=1)
        result.append(AnnotatorInfluence(a, alpha_without, mean_kappa))
    return tuple(result)


# --- everything at once -------------------------------------------------------------------


@dataclass(frozen=True)
class SentenceAgreement:
    alpha: Figure
    fleiss_kappa: Figure
    observed_agreement: Figure
    specific_agreement: tuple[Figure, ...]  # indexed by category
    cohen_kappa: dict[tuple[int, int], Figure]
    confusion: dict[tuple[int, int], np.ndarray]
    pooled_confusion: np.ndarray
    annotators: tuple[AnnotatorInfluence, ...]


def sentence_agreement(
    values: np.ndarray,
    n_categories: int,
    level: str = "nominal",
    category_values: np.ndarray | None = None,
    *,
    document_ids: np.ndarray | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> SentenceAgreement:
    """Every sentence-level figure of one layer; intervals where ``document_ids`` are given."""
    codes = as_codes(values, n_categories)
    resampling = dict(document_ids=document_ids, replicates=replicates, seed=seed)
    confusion = confusion_matrices(codes, n_categories)
    return SentenceAgreement(
        alpha=krippendorff_alpha(codes, n_categories, level, category_values, **resampling),
        fleiss_kappa=fleiss_kappa(codes, n_categories, **resampling),
        observed_agreement=observed_agreement(codes, n_categories, **resampling),
        specific_agreement=specific_agreement(codes, n_categories, **resampling),
        cohen_kappa=cohen_kappa(codes, n_categories, **resampling),
        confusion=confusion,
        pooled_confusion=sum(confusion.values(), np.zeros((n_categories, n_categories))),
        annotators=leave_one_out(codes, n_categories, level, category_values),
    )
