"""Agreement on the links of mentions to entities: MUC, B³, CEAF-e and their CoNLL-2012 average.

Each annotator's links are a partition of mentions: a mapping mention -> entity. Between two
annotators one partition is read as the key K and the other as the response R (neither is gold:
swapping them swaps recall and precision, and F1 stays the same). With K_i the key's entities,
R_j the response's and n_ij = |K_i ∩ R_j| the mentions both put in K_i and R_j:

- MUC (Vilain et al. 1995): links. Recall = Σ_i (|K_i| − |p(K_i, R)|) / Σ_i (|K_i| − 1), p(K_i, R)
  the pieces R cuts K_i into, a mention R lacks being a piece of its own; the numerator is
  Σ_ij max(n_ij − 1, 0), the same read either way, so precision swaps the denominators.
- B³ (Bagga & Baldwin 1998): per mention. Recall = Σ_ij n_ij² / |K_i| / Σ_i |K_i|, precision
  = Σ_ij n_ij² / |R_j| / Σ_j |R_j|.
- CEAF-e (Luo 2005): entities aligned one to one (Kuhn-Munkres) to maximise Σ φ4(K_i, R_j),
  φ4 = 2 n_ij / (|K_i| + |R_j|); recall = that maximum / number of key entities, precision = / number
  of response entities.
- CoNLL-2012: the mean of the three F1.

Mentions only one partition holds (twinless) count exactly as the CoNLL-2012 reference scorer
v8.01 counts them (Pradhan et al. 2014): in the denominators of their side, never in a
numerator. Singletons (an entity of one mention) count in B³ and CEAF-e; MUC, made of links,
ignores them by definition.

Undefined, not 0: a recall or precision whose denominator is 0 (that side has no mentions, or
for MUC no links), and an F1 whose recall and precision are both undefined. When only one of
them is, the other is 0 (nothing of an empty side can agree) and F1 is 0, as for span F1.

Intervals resample documents. A document drawn w times gives w copies of its mentions; an
entity met in two drawn documents or more keeps all its mentions, copies included (its links
across documents stay), while one met in a single drawn document is an entity of its own in
each copy, so that no copy agrees with another copy of itself. Each replicate is thus a pair of
partitions, scored by the formulas above. Resampling documents still shifts these measures (an
entity's size, on which they all depend, changes with the draws), so the replicates are moved
so that their mean is the point estimate before the percentile interval is taken: Efron &
Tibshirani's (1993, section 10.6) bootstrap estimate of bias, taken out. docs/agreement.md gives
the coverage measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, permutations

import numpy as np

from .bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, MIN_DOCUMENTS, document_weights, summarise
from .results import (
    FEWER_THAN_TWO_ANNOTATORS,
    NOT_PAIRABLE,
    TOO_FEW_DOCUMENTS,
    Bootstrap,
    Figure,
    undefined,
    with_interval,
)

# Why a coreference figure has no value (docs/agreement.md, "Figures and undefined").
NO_MENTIONS = "no mentions"  # the side the figure divides by holds no mention
NO_LINKS = "no links"  # MUC: every entity of that side is a singleton

METRICS = ("muc", "b_cubed", "ceaf_e")
# Columns of the per-replicate value arrays: recall, precision, F1 of each metric, then CoNLL.
_COLUMNS = 3 * len(METRICS) + 1
_F1_COLUMNS = [2, 5, 8, 9]  # each metric's F1, and CoNLL
_REPLICATE_CHUNK = 1 << 22  # array cells one step of the resampled sums may hold

Mention = Hashable  # coreference_agreement: a tuple whose first item is the mention's document


@dataclass(frozen=True)
class MetricScores:
    recall: Figure
    precision: Figure
    f1: Figure


@dataclass(frozen=True)
class CoreferenceScores:
    """One key partition against one response: each metric's recall, precision and F1, and the
    CoNLL-2012 average of the three F1 (undefined when any of them is)."""

    muc: MetricScores
    b_cubed: MetricScores
    ceaf_e: MetricScores
    conll: Figure


@dataclass(frozen=True)
class CoreferenceAgreement:
    """The F1 of each metric and the CoNLL average over the annotator pairs, each pair weighted by
    the mentions of its two annotators; ``pairs`` holds each pair's scores (the first annotator's
    links as the key)."""

    muc: Figure
    b_cubed: Figure
    ceaf_e: Figure
    conll: Figure
    pairs: dict[tuple[Hashable, Hashable], CoreferenceScores]


# --- the maximum-weight assignment of CEAF ------------------------------------------------------


def maximum_weight_assignment(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a one-to-one assignment of the rows of ``weights`` to its columns (as
    many pairs as the shorter side) with the largest total weight: the Hungarian (Kuhn-Munkres)
    method with potentials and shortest augmenting paths, O(n² m). Rows come out in order."""
    weights = np.asarray(weights, dtype=np.float64)
    transposed = weights.shape[0] > weights.shape[1]
    cost = -(weights.T if transposed else weights)  # a minimum-cost assignment of every row
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)  # the potentials; index 0 of each is a placeholder
    row_of = np.zeros(m + 1, dtype=np.int64)  # 1-based row assigned to column j (0: free)
    way = np.zeros(m + 1, dtype=np.int64)  # the previous column on the shortest path
    for i in range(1, n + 1):
        row_of[0], column = i, 0  # column 0 stands for row i until a free column is reached
        shortest = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while row_of[column] != 0:
            used[column] = True
            row = row_of[column]
            reduced = cost[row - 1] - u[row] - v[1:]
            open_columns = ~used[1:]
            shorter = open_columns & (reduced < shortest[1:])
            shortest[1:][shorter] = reduced[shorter]
            way[1:][shorter] = column
            candidates = np.where(open_columns, shortest[1:], np.inf)
            nearest = int(np.argmin(candidates))
            delta = candidates[nearest]
            u[row_of[used]] += delta
            v[used] -= delta
            shortest[~used] -= delta
            column = nearest + 1
        while column:  # flip the path: every column on it takes the row of the one before
            previous = way[column]
            row_of[column] = row_of[previous]
            column = previous
    columns = np.flatnonzero(row_of[1:])
    rows = row_of[1:][columns] - 1
    if transposed:
        rows, columns = columns, rows
    order = np.argsort(rows)
    return rows[order], columns[order]


_MOST_ENUMERATED = 720  # one-to-one maps a small assignment is solved by trying all of


@lru_cache(maxsize=64)
def _injective_maps(n: int, m: int) -> np.ndarray | None:
    """Every one-to-one map of n rows into m >= n columns, (maps, n), or None when too many."""
    if math.perm(m, n) > _MOST_ENUMERATED:
        return None
    return np.array(list(permutations(range(m), n)), dtype=np.int64).reshape(-1, n)


def _connected(first: np.ndarray, second: np.ndarray, n_nodes: int) -> np.ndarray:
    """Per edge (first[k], second[k]), a label of its connected component."""
    parent = list(range(n_nodes))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for i, j in zip(first.tolist(), second.tolist(), strict=True):
        parent[root(i)] = root(j)
    return np.array([root(i) for i in first.tolist()], dtype=np.int64)


# --- two partitions as counts over documents, and their resamples ------------------------------


@dataclass(frozen=True)
class _Contingency:
    """Two partitions of mentions as counts per document, from which any resample of documents
    is scored without building it. The counted features, in order: the cells (key entity,
    response entity) that share mentions, with n_ij; each key entity's size; each response
    entity's size. ``document``, ``feature``, ``count`` are the nonzero counts, sorted by feature
    (``starts`` begin each feature's run).

    A resample (see :func:`coreference_agreement`) draws document d w_d times. Each copy is a set
    of mentions of its own; an entity met in two drawn documents or more keeps all its mentions,
    copies included, while one met in a single drawn document d becomes, in each of d's w_d
    copies, an entity of its own. Every replicate is thus a pair of partitions of distinct
    mentions, scored by the same formulas; with every w_d = 1 they are the data's own.

    CEAF-e's assignment splits into the connected components of the cells: the stars (one key or
    one response entity, solved in closed form), as cells grouped at ``star_starts`` with whether
    each star's centre is its key entity, and the ``blocks`` (the others), solved as assignments.
    """

    cell_key: np.ndarray
    cell_response: np.ndarray
    n_key: int
    n_response: int
    document: np.ndarray
    feature: np.ndarray
    count: np.ndarray
    starts: np.ndarray
    star_cells: np.ndarray
    star_starts: np.ndarray
    star_centre_is_key: np.ndarray  # per star
    blocks: tuple[np.ndarray, ...]

    @property
    def n_cells(self) -> int:
        return int(self.cell_key.size)

    @property
    def n_features(self) -> int:
        return self.n_cells + self.n_key + self.n_response

    @classmethod
    def of(cls, key: Mapping[Mention, Hashable | None], response: Mapping[Mention, Hashable | None],
           document_of: Callable[[Mention], int]) -> _Contingency:
        key_entity, key_code = _entity_codes(key)
        response_entity, response_code = _entity_codes(response)
        n_key, n_response = len(key_code), len(response_code)
        key_document = np.array([document_of(m) for m in key], dtype=np.int64)
        response_document = np.array([document_of(m) for m in response], dtype=np.int64)
        partner = np.array([response_code.get(_entity_label(m, response[m]), -1) if m in response else -1
                            for m in key], dtype=np.int64)
        shared = partner >= 0
        width = max(n_response, 1)
        cells, cell_of = np.unique(key_entity[shared] * width + partner[shared], return_inverse=True)
        cell_key, cell_response = np.divmod(cells, width)
        documents = np.concatenate([key_document[shared], key_document, response_document])
        features = np.concatenate([cell_of.reshape(-1), cells.size + key_entity, cells.size + n_key + response_entity])
        span = int(documents.max(initial=0)) + 1
        entries, count = np.unique(features * span + documents, return_counts=True)
        feature, document = np.divmod(entries, span)  # sorted by feature
        starts = np.flatnonzero(np.r_[True, feature[1:] != feature[:-1]]) if feature.size else feature
        star_cells, star_starts, star_centre_is_key, blocks = _components(cell_key, cell_response, n_key, n_response)
        return cls(cell_key, cell_response, n_key, n_response, document, feature, count.astype(np.float64),
                   starts, star_cells, star_starts, star_centre_is_key, blocks)

    def resampled(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(replicates, features) twice, ``weights`` being the (replicates, documents) draw
        counts: each feature's mentions in each resample, and the copies of each entity (0 if
        not drawn; w_d if met in one drawn document d only; else 1)."""
        shape = (weights.shape[0], self.n_features)
        totals, copies = np.zeros(shape), np.zeros(shape)
        if not self.count.size:
            return totals, copies
        chunk = max(1, _REPLICATE_CHUNK // self.count.size)
        for first in range(0, weights.shape[0], chunk):
            drawn = weights[first:first + chunk][:, self.document]
            rows = slice(first, first + chunk)
            totals[rows] = np.add.reduceat(drawn * self.count, self.starts, axis=1)
            documents = np.add.reduceat((drawn > 0).astype(np.float64), self.starts, axis=1)
            # Met in one drawn document: the sum of the draws is that document's.
            copies[rows] = np.where(documents == 1, np.add.reduceat(drawn, self.starts, axis=1), documents > 0)
        return totals, copies

    def parts(self, weights: np.ndarray) -> np.ndarray:
        """(replicates, metric, 4): recall's numerator and denominator, precision's numerator
        and denominator, of each metric in each resample."""
        totals, copies = self.resampled(weights)
        c, key, response = np.split(totals, [self.n_cells, self.n_cells + self.n_key], axis=1)
        _, key_copies, response_copies = np.split(copies, [self.n_cells, self.n_cells + self.n_key], axis=1)
        cell_key, cell_response = key[:, self.cell_key], response[:, self.cell_response]
        a, b = key_copies[:, self.cell_key], response_copies[:, self.cell_response]  # copies of a cell's entities
        parts = np.empty((totals.shape[0], len(METRICS), 4))
        # MUC: an entity (or cell) of s mentions in p pieces holds s - p links; the pieces of a
        # cell are the copies of its more divided entity.
        correct = (c - np.where(c > 0, np.maximum(a, b), 0)).sum(axis=1)
        parts[:, 0] = np.stack([correct, (key - key_copies).sum(axis=1), correct,
                                (response - response_copies).sum(axis=1)], axis=1)
        # B³: a cell of c mentions whose response entity is in w copies and key entity in one
        # is w cells of c/w mentions, each in the whole key entity: Σ n²/|K| = c² / (w |K|).
        # (Both in w copies: w cells of c/w in w copies of |K|/w, again c²/|K|.)
        a1, b1 = np.maximum(a, 1), np.maximum(b, 1)
        squared = c**2
        parts[:, 1] = np.stack([_ratio(squared, cell_key * np.maximum(b1 / a1, 1)).sum(axis=1), key.sum(axis=1),
                                _ratio(squared, cell_response * np.maximum(a1 / b1, 1)).sum(axis=1),
                                response.sum(axis=1)], axis=1)
        # CEAF-e: φ4 of one pair of copies of the cell's entities.
        similarity = _ratio(2 * c / np.maximum(a1, b1), cell_key / a1 + cell_response / b1)
        aligned = self._best_alignment(similarity, c, a, b, key_copies, response_copies)
        parts[:, 2] = np.stack([aligned, key_copies.sum(axis=1), aligned, response_copies.sum(axis=1)], axis=1)
        return parts

    def _stars_aligned(self, similarity, c, a, b) -> np.ndarray:
        """Per replicate, Σ over the stars of their best alignment. A centre in m copies meets,
        copy by copy, the leaves in m copies too, each copy best by the heaviest L of them; a
        leaf in one copy (met in several documents) can take one copy of the centre instead,
        so the star gives m·L plus the m largest gains over L of those leaves."""
        cells, starts = self.star_cells, self.star_starts
        star = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, cells.size]))
        centre_is_key = self.star_centre_is_key[star]
        centre_copies = np.where(centre_is_key, a[:, cells], b[:, cells])
        leaf_copies = np.where(centre_is_key, b[:, cells], a[:, cells])
        weight, drawn = similarity[:, cells], c[:, cells] > 0
        alike = drawn & (leaf_copies == centre_copies)
        heaviest_alike = np.maximum.reduceat(np.where(alike, weight, 0.0), starts, axis=1)
        gain = np.where(drawn & ~alike, np.maximum(weight - heaviest_alike[:, star], 0.0), 0.0)
        # The m largest gains of each star: sort every star's gains, largest first, and keep
        # the first m (stars are ranked apart: gains are at most 1, stars 2 apart).
        order = np.argsort(2.0 * star - gain, axis=1, kind="stable")
        ranked = np.take_along_axis(gain, order, axis=1)
        rank = np.arange(cells.size) - starts[star]
        copies = centre_copies[:, starts]
        kept = np.add.reduceat(np.where(rank < copies[:, star], ranked, 0.0), starts, axis=1)
        return (np.maximum(copies, 1) * heaviest_alike + kept).sum(axis=1)

    def _best_alignment(self, similarity, c, a, b, key_copies, response_copies) -> np.ndarray:
        """Per replicate, the largest Σ φ4 of a one-to-one alignment of the entities' copies.
        A component whose entities all have the same number of copies m is m alike problems;
        one that mixes them is aligned copy by copy."""
        best = np.zeros(similarity.shape[0])
        if self.star_cells.size:
            best += self._stars_aligned(similarity, c, a, b)
        for cells in self.blocks:
            rows, row = np.unique(self.cell_key[cells], return_inverse=True)
            columns, column = np.unique(self.cell_response[cells], return_inverse=True)
            # The copies of the block's entities decide how it splits, and replicates alike in
            # them are aligned together. An entity absent from a replicate weighs 0 there, so it
            # may count as one copy.
            counts = np.concatenate([key_copies[:, rows], response_copies[:, columns]], axis=1).astype(np.int64)
            counts = np.maximum(counts, 1)
            patterns, pattern_of = np.unique(counts, axis=0, return_inverse=True)
            for number, pattern in enumerate(patterns):
                replicates = np.flatnonzero(pattern_of.reshape(-1) == number)
                best[replicates] += _copies_aligned(similarity[replicates][:, cells], row, column,
                                                    pattern[:rows.size], pattern[rows.size:])
        return best


def _copies_aligned(values: np.ndarray, row: np.ndarray, column: np.ndarray, row_copies: np.ndarray,
                    column_copies: np.ndarray) -> np.ndarray:
    """Per replicate, the best alignment of one block whose entities have the given numbers of
    copies (the same in every replicate passed), its cells (at ``row``, ``column``) weighing
    ``values`` (replicates, cells) per pair of copies. Two entities both in w copies meet copy to
    copy; one in w copies meets the other's single copy w times. The copies fall into pieces
    (joined by cells), each solved on its own."""
    cell, copy_row, copy_column = [], [], []
    for k, (i, j) in enumerate(zip(row.tolist(), column.tolist(), strict=True)):
        copies_i, copies_j = int(row_copies[i]), int(column_copies[j])
        for copy in range(max(copies_i, copies_j)):
            cell.append(k)
            copy_row.append((i, copy if copies_i > 1 else 0))
            copy_column.append((j, copy if copies_j > 1 else 0))
    _, copy_row = np.unique(np.array(copy_row), axis=0, return_inverse=True)
    _, copy_column = np.unique(np.array(copy_column), axis=0, return_inverse=True)
    return _split_totals(values[:, cell], copy_row.reshape(-1), copy_column.reshape(-1))


def _split_totals(values: np.ndarray, row: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Per replicate, the best assignment total of entries at (``row``, ``column``) weighing
    ``values`` (replicates, entries). No assignment beats the sum of the rows' heaviest entries
    (nor of the columns'); where those entries lie in distinct columns (rows) that sum is the
    answer, which settles most replicates at once. The others are solved piece by piece (entries
    joined by a shared row or column) by :func:`_piece_totals`."""
    totals = np.zeros(values.shape[0])
    shape = (int(row.max()) + 1, int(column.max()) + 1)
    unsettled = np.ones(values.shape[0], dtype=bool)
    chunk = max(1, _REPLICATE_CHUNK // (shape[0] * shape[1]))
    for first in range(0, values.shape[0], chunk):
        dense = np.zeros((min(chunk, values.shape[0] - first), *shape))
        dense[:, row, column] = values[first:first + chunk]
        for axis, lines in ((2, shape[0]), (1, shape[1])):
            heaviest = dense.max(axis=axis)
            # Where a line's heaviest entry is 0 it claims nothing: give it a place of its own.
            at = np.where(heaviest > 0, dense.argmax(axis=axis), shape[0] + shape[1] + np.arange(lines))
            at.sort(axis=1)
            settled = (at[:, 1:] != at[:, :-1]).all(axis=1) & unsettled[first:first + chunk]
            totals[first:first + chunk][settled] = heaviest.sum(axis=1)[settled]
            unsettled[first:first + chunk] &= ~settled
    rest = np.flatnonzero(unsettled)
    if rest.size == 0:
        return totals
    piece = _connected(row, shape[0] + column, shape[0] + shape[1])
    for members in np.split(np.argsort(piece, kind="stable"), np.flatnonzero(np.diff(np.sort(piece))) + 1):
        rows, local_row = np.unique(row[members], return_inverse=True)
        columns, local_column = np.unique(column[members], return_inverse=True)
        totals[rest] += _piece_totals(values[rest][:, members], local_row.reshape(-1), local_column.reshape(-1),
                                      (rows.size, columns.size))
    return totals


def _piece_totals(values: np.ndarray, row: np.ndarray, column: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Per replicate, the best assignment total of one piece whose entries (at ``row``,
    ``column``) weigh ``values`` (replicates, entries): the heaviest entry when the piece has
    one row or one column, all one-to-one maps at once when they are few, else the Hungarian
    method replicate by replicate."""
    if min(shape) == 1:
        return values.max(axis=1)
    if shape[0] > shape[1]:
        row, column, shape = column, row, shape[::-1]
    maps = _injective_maps(*shape)
    if maps is None:  # too many maps: replicate by replicate, where empty entries split it further
        totals = np.empty(values.shape[0])
        block = np.zeros(shape)
        for replicate, weights in enumerate(values):
            full = np.flatnonzero(weights)
            if full.size == weights.size:
                block[row, column] = weights
                totals[replicate] = block[maximum_weight_assignment(block)].sum()
            else:
                totals[replicate] = _split_totals(weights[None, full], row[full], column[full])[0] if full.size else 0
        return totals
    where = np.full(shape, values.shape[1])  # each place's entry; a last, empty column elsewhere
    where[row, column] = np.arange(row.size)
    padded = np.concatenate([values, np.zeros((values.shape[0], 1))], axis=1)
    return padded[:, where[np.arange(shape[0]), maps]].sum(axis=2).max(axis=1)


def _entity_label(mention: Mention, entity: Hashable | None) -> tuple:
    # A mention linked to no entity is an entity of its own (a singleton).
    return (0, entity) if entity is not None else (1, mention)


def _entity_codes(links: Mapping[Mention, Hashable | None]) -> tuple[np.ndarray, dict[tuple, int]]:
    code: dict[tuple, int] = {}
    entity = [code.setdefault(_entity_label(m, e), len(code)) for m, e in links.items()]
    return np.array(entity, dtype=np.int64), code


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (there the numerator is 0 too: a
    cell of an entity absent from a resample is empty)."""
    return np.divide(numerator, denominator, out=np.zeros(np.broadcast(numerator, denominator).shape),
                     where=denominator > 0)


def _components(cell_key: np.ndarray, cell_response: np.ndarray, n_key: int, n_response: int):
    """The connected components of the cells (entities joined by shared mentions): the cells of
    the stars (one key or one response entity) grouped, where each group starts and whether its
    centre is the key entity; and the other components' cells."""
    component = _connected(cell_key, n_key + cell_response, n_key + n_response)
    order = np.argsort(component, kind="stable")
    starts = np.flatnonzero(np.r_[True, component[order][1:] != component[order][:-1]]) if order.size else order
    star, star_starts, centre_is_key, blocks = [], [], [], []
    for cells in np.split(order, starts[1:]) if order.size else []:
        one_key, one_response = np.unique(cell_key[cells]).size == 1, np.unique(cell_response[cells]).size == 1
        if one_key or one_response:
            star_starts.append(len(star))
            star.extend(cells.tolist())
            centre_is_key.append(one_key)
        else:
            blocks.append(cells)
    return (np.array(star, dtype=np.int64), np.array(star_starts, dtype=np.int64),
            np.array(centre_is_key, dtype=bool), tuple(blocks))


# --- figures --------------------------------------------------------------------------------------


def _values(parts: np.ndarray) -> np.ndarray:
    """(replicates, _COLUMNS): recall, precision, F1 of each metric and the CoNLL average, NaN
    where undefined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(parts[..., 1] > 0, parts[..., 0] / parts[..., 1], np.nan)
        precision = np.where(parts[..., 3] > 0, parts[..., 2] / parts[..., 3], np.nan)
        r, p = np.nan_to_num(recall), np.nan_to_num(precision)  # one side empty: nothing of it agrees
        f1 = np.where(r + p > 0, 2 * r * p / (r + p), 0.0)
    f1[np.isnan(recall) & np.isnan(precision)] = np.nan
    values = np.stack([recall, precision, f1], axis=2).reshape(parts.shape[0], -1)
    return np.concatenate([values, f1.mean(axis=1, keepdims=True)], axis=1)  # NaN if any F1 is


def _reasons(parts: np.ndarray) -> list[str | None]:
    """Why each value of one (metric, 4) ``parts`` is undefined, in _values' columns."""
    no_key, no_response = parts[1, 1] == 0, parts[1, 3] == 0  # B³'s denominators: the mentions
    reasons = []
    for metric, (_, key_den, _, response_den) in enumerate(parts):
        recall = None if key_den > 0 else NO_MENTIONS if no_key or metric else NO_LINKS
        precision = None if response_den > 0 else NO_MENTIONS if no_response or metric else NO_LINKS
        both = recall is not None and precision is not None  # else F1 is defined (0 when one is undefined)
        f1 = (NO_MENTIONS if no_key and no_response else NO_LINKS) if both else None
        reasons += [recall, precision, f1]
    f1_reasons = [reason for reason in reasons[2::3] if reason]
    return reasons + [f1_reasons[0] if f1_reasons else None]


def _figures(values: np.ndarray, reasons: list[str | None], units: int, mentions: int,
             intervals: list[Bootstrap | None] | None = None) -> CoreferenceScores:
    figures = []
    for column, reason in enumerate(reasons):
        figure = undefined(reason, units, mentions, 2) if reason else Figure(float(values[column]), None, units,
                                                                             mentions, 2)
        figures.append(with_interval(figure, intervals[column]) if intervals else figure)
    return CoreferenceScores(*(MetricScores(*figures[3 * k:3 * k + 3]) for k in range(len(METRICS))), figures[-1])


def _too_few(replicates: int, seed: int) -> Bootstrap:
    return Bootstrap(None, None, None, None, 0, replicates, seed, TOO_FEW_DOCUMENTS)


def coreference_scores(key: Mapping[Mention, Hashable | None],
                       response: Mapping[Mention, Hashable | None]) -> CoreferenceScores:
    """MUC, B³ and CEAF-e recall, precision and F1 and the CoNLL-2012 average of ``response``
    against ``key``, each a mapping mention -> entity (None: linked to no entity, a singleton).
    Mentions are any hashable values, equal in both when they are the same mention. The figures
    count ``units`` 1 and ``pairs`` the mentions of both partitions."""
    table = _Contingency.of(key, response, lambda mention: 0)
    parts = table.parts(np.ones((1, 1)))
    return _figures(_values(parts)[0], _reasons(parts[0]), 1, len(key) + len(response))


def coreference_agreement(
    links: Mapping[Hashable, Mapping[Mention, Hashable | None]],
    annotated: Mapping[Hashable, Collection[Hashable]] | None = None,
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> CoreferenceAgreement:
    """Agreement of annotators on the entities they link mentions to.

    ``links[annotator]`` maps each of the annotator's mentions to an entity id (None: linked to
    none, a singleton). A mention is a tuple whose first item is its document, e.g. (document,
    start, end); two annotators' mentions are the same mention when the tuples are equal (exact
    extent), and entity ids are project-wide, so an entity may gather mentions of several
    documents. ``annotated[annotator]`` lists the documents the annotator annotated (default:
    every document any mention is in, for everyone); a pair is compared on the documents both
    annotated, and an annotator missing from ``links`` marked no mention.

    Every pair (in the order of ``links``, then ``annotated``) gets :func:`coreference_scores`
    with the first annotator's links as the key (``units``: the documents compared); the overall
    F1 and CoNLL figures are the means over the pairs where they are defined, each pair weighted
    by the mentions of its two annotators. Intervals resample documents (those holding a mention
    of a compared pair, in order of first appearance): a pair's, its own; the overall figures',
    all of them at once, with the same draws for every pair.
    """
    annotators = list(dict.fromkeys([*links, *(annotated or {})]))
    order: dict[Hashable, int] = {}  # every document, in order of first appearance
    for annotator in annotators:
        for mention in links.get(annotator, {}):
            order.setdefault(mention[0], len(order))
    for documents in (annotated or {}).values():
        for document in documents:
            order.setdefault(document, len(order))
    held = {a: set(order) if annotated is None else set(annotated.get(a, ())) for a in annotators}
    for annotator in annotators:
        stray = {mention[0] for mention in links.get(annotator, {})} - held[annotator]
        if stray:
            raise ValueError(f"annotator {annotator!r} has mentions in documents not annotated: "
                             f"{sorted(stray, key=repr)}")

    compared = []  # (pair, contingency, the pair's documents with a mention, as indices in `order`)
    shared_documents: dict[tuple[Hashable, Hashable], set] = {}
    pairs: dict[tuple[Hashable, Hashable], CoreferenceScores] = {}
    for pair in combinations(annotators, 2):
        shared = held[pair[0]] & held[pair[1]]
        if not shared:
            nothing = undefined(NOT_PAIRABLE, annotators=2)
            pairs[pair] = CoreferenceScores(*[MetricScores(nothing, nothing, nothing)] * len(METRICS), nothing)
            continue
        key, response = ({m: e for m, e in links.get(a, {}).items() if m[0] in shared} for a in pair)
        documents = np.array(sorted({order[m[0]] for m in (*key, *response)}), dtype=np.int64)
        local = {d: k for k, d in enumerate(documents.tolist())}
        table = _Contingency.of(key, response, lambda mention: local[order[mention[0]]])
        compared.append((pair, table, documents))
        shared_documents[pair] = shared

    contributing = np.unique(np.concatenate([np.zeros(0, dtype=np.int64)] + [d for *_, d in compared]))
    joint = None  # the replicates of every pair on one resample of all the documents
    if replicates > 0 and contributing.size >= MIN_DOCUMENTS:
        weights = document_weights(contributing.size, replicates, seed)
        joint = [table.parts(weights[:, np.searchsorted(contributing, documents)]) for _, table, documents in compared]

    point = {}  # pair -> (its values, the mentions of its two annotators)
    for number, (pair, table, documents) in enumerate(compared):
        parts = table.parts(np.ones((1, documents.size)))
        point[pair] = values, mentions = _values(parts)[0], int(parts[0, 1, 1] + parts[0, 1, 3])
        intervals = None
        if replicates > 0:
            if documents.size < MIN_DOCUMENTS:
                intervals = [_too_few(replicates, seed)] * _COLUMNS
            else:  # the pair's own documents resampled; the joint resample when they are all of them
                own = joint[number] if documents.size == contributing.size else table.parts(
                    document_weights(documents.size, replicates, seed))
                intervals = [_centred(column, at, seed) for column, at in zip(_values(own).T, values, strict=True)]
        pairs[pair] = _figures(values, _reasons(parts[0]), len(shared_documents[pair]), mentions, intervals)

    overall = [_mean_over_pairs(pairs, point, shared_documents, k) for k in range(len(_F1_COLUMNS))]
    if replicates <= 0:
        return CoreferenceAgreement(*overall, pairs=pairs)
    if joint is None:
        return CoreferenceAgreement(*(with_interval(f, _too_few(replicates, seed)) for f in overall), pairs=pairs)
    values = np.stack([_values(parts)[:, _F1_COLUMNS] for parts in joint], axis=1)  # (replicates, pairs, F1s)
    mentions = np.stack([parts[:, 1, 1] + parts[:, 1, 3] for parts in joint], axis=1)
    weight = np.where(np.isnan(values), 0.0, mentions[:, :, None])
    with np.errstate(invalid="ignore"):  # no pair defined in a replicate: 0/0, undefined
        means = (np.nan_to_num(values) * weight).sum(axis=1) / weight.sum(axis=1)
    return CoreferenceAgreement(
        *(with_interval(f, _centred(means[:, k], np.nan if f.value is None else f.value, seed))
          for k, f in enumerate(overall)), pairs=pairs)


def _centred(values: np.ndarray, point: float, seed: int) -> Bootstrap:
    """The interval of the replicates moved together so that their mean is the point estimate
    (each kept within [0, 1]): resampling documents shifts these measures (module docstring)."""
    defined = ~np.isnan(values)
    if defined.any() and not np.isnan(point):
        values = np.clip(values + (point - values[defined].mean()), 0.0, 1.0)
    return summarise(values, seed)


def _mean_over_pairs(pairs: dict[tuple[Hashable, Hashable], CoreferenceScores], point: dict,
                     shared_documents: dict, k: int) -> Figure:
    """The mean of the pairs' k-th F1 (muc, b_cubed, ceaf_e, conll) where defined, each pair
    weighted by its mentions; ``units``: the documents those pairs compared."""
    column = _F1_COLUMNS[k]
    defined = [pair for pair, (values, _) in point.items() if not np.isnan(values[column])]
    if not defined:
        reasons = [_f1s(scores)[k].undefined for scores in pairs.values()]
        return undefined(reasons[0] if reasons else FEWER_THAN_TWO_ANNOTATORS)
    weight = np.array([point[pair][1] for pair in defined], dtype=np.float64)
    value = np.array([point[pair][0][column] for pair in defined])
    documents = set().union(*(shared_documents[pair] for pair in defined))
    people = {person for pair in defined for person in pair}
    return Figure(float(weight @ value / weight.sum()), None, len(documents), len(defined), len(people))


def _f1s(scores: CoreferenceScores) -> tuple[Figure, ...]:
    return scores.muc.f1, scores.b_cubed.f1, scores.ceaf_e.f1, scores.conll
