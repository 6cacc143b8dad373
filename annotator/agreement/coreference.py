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
    is scored without building it.

    A resample (see :func:`coreference_agreement`) draws document d w_d times. Each copy is a set
    of mentions of its own; an entity met in two drawn documents or more keeps all its mentions,
    copies included, while one met in a single drawn document d becomes, in each of d's w_d
    copies, an entity of its own. Every replicate is thus a pair of partitions of distinct
    mentions, scored by the same formulas; with every w_d = 1 they are the data's own.

    Most of the data is *local*: entities met in one document only, and the cells (key entity,
    response entity sharing mentions) between two of them. Whatever the draw, their share of
    every sum is w_d times its share in the data, so it is summed once per document
    (``per_document``, (documents, metric, 4)) and a resample takes weights @ per_document. The
    rest is *counted*: the cells touching an entity met in several documents, those entities,
    and the cells CEAF-e must align anew in every resample (below), with their entities.
    ``document``, ``feature``, ``count`` are the counted features' nonzero counts per document
    (features, in order: the counted cells with n_ij, their key entities' sizes, their response
    entities' sizes), sorted by feature; ``starts`` begin each feature's run.

    CEAF-e: a local cell whose weight φ4 is at least that of the heaviest other cells of its two
    entities together belongs to a best alignment (:func:`_dominant`). A cell of an entity met in
    several documents weighs at most 2 n_ij / (|E| + n_ij) in any resample (E: its local entity,
    n_ij: the mentions they share), so a local cell that wins against these bounds wins in every
    resample: such cells are taken once for all (per document), and the local groups of entities
    left are aligned once too. Only the cells ``aligned`` (indices of counted cells), joined to
    an entity met in several documents, are aligned per resample (:func:`_alignment`).
    """

    per_document: np.ndarray
    cell_key: np.ndarray
    cell_response: np.ndarray
    n_key: int
    n_response: int
    document: np.ndarray
    feature: np.ndarray
    count: np.ndarray
    starts: np.ndarray
    aligned: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.cell_key.size)

    @classmethod
    def of(cls, key: Mapping[Mention, Hashable | None], response: Mapping[Mention, Hashable | None],
           document_of: Callable[[Mention], int]) -> _Contingency:
        key_entity, n_key = _entity_numbers(key)
        response_entity, n_response = _entity_numbers(response)
        key_document = np.array([document_of(m) for m in key], dtype=np.int64)
        response_document = np.array([document_of(m) for m in response], dtype=np.int64)
        position = {m: k for k, m in enumerate(response)}
        twin = np.array([position.get(m, -1) for m in key], dtype=np.int64)  # the key mention in the response
        shared = twin >= 0
        width = max(n_response, 1)
        cells, cell_of = np.unique(key_entity[shared] * width + response_entity[twin[shared]], return_inverse=True)
        cell_key, cell_response = np.divmod(cells, width)
        n_cells = cells.size
        documents = np.concatenate([key_document[shared], key_document, response_document])
        features = np.concatenate([cell_of.reshape(-1), n_cells + key_entity, n_cells + n_key + response_entity])
        n_features, n_documents = n_cells + n_key + n_response, int(documents.max(initial=-1)) + 1
        span = max(n_documents, 1)
        entries, count = np.unique(features * span + documents, return_counts=True)
        feature, document = np.divmod(entries, span)  # sorted by feature

        bounds = [n_cells, n_cells + n_key]  # where the key entities' and the response entities' features begin
        several = np.bincount(feature, minlength=n_features) > 1  # met in two documents or more
        home = np.zeros(n_features, dtype=np.int64)  # a feature's document (one of them if several)
        home[feature] = document
        counted, joined, per_document = _local_share(
            cell_key, cell_response, np.split(np.bincount(features, minlength=n_features).astype(np.float64), bounds),
            np.split(several, bounds), np.split(home, bounds), n_documents)

        number = np.cumsum(counted) - 1  # a counted feature's number among them
        n_counted = [int(part.sum()) for part in np.split(counted, bounds)]
        kept = counted[feature]
        feature = number[feature[kept]]
        starts = np.flatnonzero(np.r_[True, feature[1:] != feature[:-1]]) if feature.size else feature
        counted_cell = counted[:n_cells]
        return cls(per_document, number[cell_key[counted_cell] + n_cells] - n_counted[0],
                   number[cell_response[counted_cell] + n_cells + n_key] - n_counted[0] - n_counted[1],
                   n_counted[1], n_counted[2], document[kept], feature, count[kept].astype(np.float64), starts,
                   number[np.flatnonzero(joined)])

    def resampled(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(replicates, counted features) twice, ``weights`` being the (replicates, documents)
        draw counts: each feature's mentions in each resample, and the copies of each entity (0
        if not drawn; w_d if met in one drawn document d only; else 1)."""
        runs = np.diff(np.r_[self.starts, self.feature.size])
        lone = runs == 1  # a feature met in one document: w_d times its count, in w_d copies
        totals, copies = np.empty((weights.shape[0], runs.size)), np.empty((weights.shape[0], runs.size))
        copies[:, lone] = weights[:, self.document[self.starts[lone]]]
        totals[:, lone] = copies[:, lone] * self.count[self.starts[lone]]
        several = ~lone
        if several.any():
            entries = np.flatnonzero(np.repeat(several, runs))
            starts = np.r_[0, np.cumsum(runs[several])[:-1]]
            drawn = weights[:, self.document[entries]]
            totals[:, several] = np.add.reduceat(drawn * self.count[entries], starts, axis=1)
            documents = np.add.reduceat((drawn > 0).astype(np.float64), starts, axis=1)
            # Met in one drawn document: the sum of the draws is that document's.
            copies[:, several] = np.where(documents == 1, np.add.reduceat(drawn, starts, axis=1), documents > 0)
        return totals, copies

    def parts(self, weights: np.ndarray) -> np.ndarray:
        """(replicates, metric, 4): recall's numerator and denominator, precision's numerator
        and denominator, of each metric in each resample."""
        n_documents = self.per_document.shape[0]
        parts = (weights[:, :n_documents] @ self.per_document.reshape(n_documents, len(METRICS) * 4)).reshape(
            -1, len(METRICS), 4)
        if self.count.size:
            chunk = max(1, _REPLICATE_CHUNK // self.count.size)
            for first in range(0, weights.shape[0], chunk):
                parts[first:first + chunk] += self._counted_parts(weights[first:first + chunk])
        return parts

    def _counted_parts(self, weights: np.ndarray) -> np.ndarray:
        """The counted features' share of :meth:`parts`."""
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
        # CEAF-e: φ4 of one pair of copies of the cell's entities, aligned.
        aligned = np.zeros(totals.shape[0])
        if self.aligned.size:
            cells = self.aligned
            a1, b1 = a1[:, cells], b1[:, cells]
            similarity = _ratio(2 * c[:, cells] / np.maximum(a1, b1),
                                cell_key[:, cells] / a1 + cell_response[:, cells] / b1)
            aligned = _alignment(similarity, a[:, cells], b[:, cells], self.cell_key[cells], self.cell_response[cells])
        parts[:, 2] = np.stack([aligned, key_copies.sum(axis=1), aligned, response_copies.sum(axis=1)], axis=1)
        return parts


def _local_share(cell_key: np.ndarray, cell_response: np.ndarray, sizes: list[np.ndarray], several: list[np.ndarray],
                 home: list[np.ndarray], n_documents: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :class:`_Contingency` counts per resample and what it sums once per document. The
    features' ``sizes`` (mentions), whether each is met in ``several`` documents and its ``home``
    document come as lists of three: cells, key entities, response entities. Returns whether each
    feature is counted, the cells aligned per resample, and the per-document sums of the rest
    (documents, metric, 4)."""
    c, key_size, response_size = sizes
    _, key_several, response_several = several
    cell_home, key_home, response_home = home
    spread = key_several[cell_key] | response_several[cell_response]  # a cell of an entity met in several
    # φ4 of a local cell; for the others, their bound in any resample.
    local_size = np.where(key_several[cell_key], response_size[cell_response], key_size[cell_key])
    weight = np.where(spread, 2 * c / (local_size + c), 2 * c / (key_size[cell_key] + response_size[cell_response]))
    taken, alive = _settled(weight, ~spread, cell_key, cell_response)
    group = np.full(c.size, -1, dtype=np.int64)  # the connected cells left
    group[alive] = _connected(cell_key[alive], key_size.size + cell_response[alive], key_size.size + response_size.size)
    joined = np.isin(group, group[alive & spread]) & alive

    counted_cell = spread | joined
    counted_key, counted_response = key_several.copy(), response_several.copy()
    counted_key[cell_key[counted_cell]] = True
    counted_response[cell_response[counted_cell]] = True
    cell, key, response = ~counted_cell, ~counted_key, ~counted_response  # the local share

    per_document = np.zeros((n_documents, len(METRICS), 4))

    def add(metric: int, parts: tuple[int, ...], where: np.ndarray, values: np.ndarray) -> None:
        sums = np.bincount(where, weights=values, minlength=n_documents)
        for part in parts:
            per_document[:, metric, part] += sums

    add(0, (0, 2), cell_home[cell], c[cell] - 1)
    add(0, (1,), key_home[key], key_size[key] - 1)
    add(0, (3,), response_home[response], response_size[response] - 1)
    add(1, (0,), cell_home[cell], c[cell] ** 2 / key_size[cell_key[cell]])
    add(1, (2,), cell_home[cell], c[cell] ** 2 / response_size[cell_response[cell]])
    add(1, (1,), key_home[key], key_size[key])
    add(1, (3,), response_home[response], response_size[response])
    add(2, (0, 2), cell_home[taken], weight[taken])
    left = np.flatnonzero(alive & ~joined)
    left = left[np.argsort(group[left], kind="stable")]
    for cells in np.split(left, np.flatnonzero(np.diff(group[left])) + 1) if left.size else ():
        rows, row = np.unique(cell_key[cells], return_inverse=True)  # a group of one document's entities
        columns, column = np.unique(cell_response[cells], return_inverse=True)
        best = _piece_totals(weight[None, cells], row.reshape(-1), column.reshape(-1), (rows.size, columns.size))
        add(2, (0, 2), cell_home[cells[:1]], best)
    add(2, (1,), key_home[key], np.ones(int(key.sum())))
    add(2, (3,), response_home[response], np.ones(int(response.sum())))
    return np.concatenate([counted_cell, counted_key, counted_response]), joined, per_document


# --- CEAF-e's alignment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Runs:
    """Cells grouped by their entity on one side, for sums and maxima over each entity's cells in
    every replicate at once."""

    order: np.ndarray  # the cells, by entity
    starts: np.ndarray  # where each entity's run begins in ``order``
    run: np.ndarray  # per cell, its entity's run

    @classmethod
    def of(cls, entity: np.ndarray) -> _Runs:
        order = np.argsort(entity, kind="stable")
        begins = np.r_[True, entity[order][1:] != entity[order][:-1]] if entity.size else np.zeros(0, dtype=bool)
        run = np.empty(entity.size, dtype=np.int64)
        run[order] = np.cumsum(begins) - 1
        return cls(order, np.flatnonzero(begins), run)

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        """(replicates, cells) -> (replicates, entities): ``ufunc`` over each entity's cells."""
        return ufunc.reduceat(values[:, self.order], self.starts, axis=1)

    def spread(self, per_entity: np.ndarray) -> np.ndarray:
        """(replicates, entities) -> (replicates, cells): each cell its entity's value."""
        return per_entity[:, self.run]

    def touched(self, marked: np.ndarray) -> np.ndarray:
        """Per cell, whether a cell of its entity is ``marked`` (replicates, cells)."""
        return self.spread(self.reduce(np.maximum, marked))

    def first(self, marked: np.ndarray) -> np.ndarray:
        """``marked`` (replicates, cells) with only the first marked cell of each entity."""
        ordered = marked[:, self.order]
        running = np.cumsum(ordered, axis=1)
        before = (running - ordered)[:, self.starts]  # marked cells before each entity's run
        kept = np.empty_like(marked)
        kept[:, self.order] = ordered & (running - before[:, self.run[self.order]] == 1)
        return kept


_NEGLIGIBLE = 1e-14  # a weight left by subtracting one φ4 from another: 0 but for rounding


def _heaviest_other(weight: np.ndarray, runs: _Runs, degree: np.ndarray) -> np.ndarray:
    """Per cell, the heaviest other cell of its entity on the side of ``runs``; a cell that meets
    ``degree`` > 1 copies of the other entity is its own other cell."""
    heaviest = runs.spread(runs.reduce(np.maximum, weight))
    top = weight == heaviest
    alone = runs.spread(runs.reduce(np.add, top.astype(np.int64))) == 1
    other = np.where(top & alone, runs.spread(runs.reduce(np.maximum, np.where(top, 0.0, weight))), heaviest)
    return np.where(degree > 1, np.maximum(other, weight), other)


def _dominant(weight: np.ndarray, alive: np.ndarray, rows: _Runs, columns: _Runs, row_degree: np.ndarray,
              column_degree: np.ndarray) -> np.ndarray:
    """The live cells that weigh at least the heaviest other live cells of their two entities
    together. Some best alignment takes such a cell: one that pairs its entities elsewhere gives
    up that cell for at most as much."""
    weight = np.where(alive, weight, 0.0)
    others = _heaviest_other(weight, rows, row_degree) + _heaviest_other(weight, columns, column_degree)
    return alive & (weight >= others)


def _settled(weight: np.ndarray, candidate: np.ndarray, row: np.ndarray,
             column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``candidate`` cells that :func:`_dominant` takes, one after another until none is left
    (one replicate, every copy alone), and the cells neither taken nor of a taken cell's entities."""
    rows, columns = _Runs.of(row), _Runs.of(column)
    weight, once = weight[None], np.ones((1, row.size), dtype=np.int64)
    alive, taken = np.ones(weight.shape, dtype=bool), np.zeros(weight.shape, dtype=bool)
    while True:
        new = columns.first(rows.first(_dominant(weight, alive, rows, columns, once, once) & candidate))
        if not new.any():
            return taken[0], alive[0]
        taken |= new
        alive &= ~rows.touched(new) & ~columns.touched(new)


def _alignment(weight: np.ndarray, row_copies: np.ndarray, column_copies: np.ndarray, row: np.ndarray,
               column: np.ndarray) -> np.ndarray:
    """Per replicate, the largest Σ φ4 of a one-to-one alignment of the entities' copies; the cells
    (at entities ``row``, ``column``) weigh ``weight`` (replicates, cells) per pair of copies, 0
    where not drawn, and ``row_copies``, ``column_copies`` are the copies of each cell's entities.
    Two entities both in w copies meet copy to copy; one in w copies meets the other's single
    copy w times.

    Two rules settle most of it in every replicate at once, each keeping a best alignment: an
    entity left with one cell (each copy of it) is a leaf of its neighbour, which takes its
    heaviest leaf, its other cells then weighing that much less (they bring only what they add
    to the leaf); and a cell at least as heavy as the heaviest other cells of its two entities
    together is taken (:func:`_dominant`). What neither settles, in the replicates that have any,
    is aligned replicate by replicate (:func:`_copies_aligned`)."""
    total = np.zeros(weight.shape[0])
    # Through a cell, a copy of its row entity meets `row_degree` copies of its column entity.
    row_degree = np.where((row_copies == 1) & (column_copies > 1), column_copies, 1)
    column_degree = np.where((column_copies == 1) & (row_copies > 1), row_copies, 1)
    pairs = np.where(row_copies == column_copies, row_copies, 1)  # pairs of copies a taken cell aligns
    alive = weight > 0
    rows = columns = None
    while alive.any():
        live = alive.any(axis=0)  # the cells still alive somewhere: the others are left behind
        if rows is None or not live.all():
            weight, row_copies, column_copies, row_degree, column_degree, pairs, alive = (
                x[:, live] for x in (weight, row_copies, column_copies, row_degree, column_degree, pairs, alive))
            row, column = row[live], column[live]
            rows, columns = _Runs.of(row), _Runs.of(column)
        settled = False
        for own, other, degree, copies in ((rows, columns, row_degree, column_copies),
                                           (columns, rows, column_degree, row_copies)):
            leaf = alive & (own.spread(own.reduce(np.add, np.where(alive, degree, 0))) == 1)
            if leaf.any():
                heaviest = other.reduce(np.maximum, np.where(leaf, weight, 0.0))
                total += (heaviest * other.reduce(np.maximum, copies)).sum(axis=1)
                weight = np.where(alive, weight - other.spread(heaviest), 0.0)
                alive = weight > _NEGLIGIBLE
                settled = True
        taken = columns.first(rows.first(_dominant(weight, alive, rows, columns, row_degree, column_degree)))
        if taken.any():
            total += np.where(taken, weight * pairs, 0.0).sum(axis=1)
            alive &= ~rows.touched(taken) & ~columns.touched(taken)
            settled = True
        if not settled:
            break
    for replicate in np.flatnonzero(alive.any(axis=1)):  # what neither rule settled
        cells = np.flatnonzero(alive[replicate])
        row_ids, local_row = np.unique(row[cells], return_inverse=True)
        column_ids, local_column = np.unique(column[cells], return_inverse=True)
        local_row, local_column = local_row.reshape(-1), local_column.reshape(-1)
        copies_of_rows = np.zeros(row_ids.size, dtype=np.int64)
        copies_of_columns = np.zeros(column_ids.size, dtype=np.int64)
        copies_of_rows[local_row] = row_copies[replicate, cells]
        copies_of_columns[local_column] = column_copies[replicate, cells]
        total[replicate] += _copies_aligned(weight[None, replicate, cells], local_row, local_column, copies_of_rows,
                                            copies_of_columns)[0]
    return total


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


def _entity_numbers(links: Mapping[Mention, Hashable | None]) -> tuple[np.ndarray, int]:
    """Each mention's entity, numbered from 0, and how many there are. A mention linked to no
    entity is an entity of its own (a singleton)."""
    number: dict[Hashable, int] = {}
    entity = np.array([number.setdefault(e, len(number)) if e is not None else -1 for e in links.values()],
                      dtype=np.int64)
    alone = entity < 0
    entity[alone] = len(number) + np.arange(int(alone.sum()))
    return entity, len(number) + int(alone.sum())


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (there the numerator is 0 too: a
    cell of an entity absent from a resample is empty)."""
    return np.divide(numerator, denominator, out=np.zeros(np.broadcast(numerator, denominator).shape),
                     where=denominator > 0)


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
