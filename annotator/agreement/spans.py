"""Agreement on span layers between two annotators: exact and partial-credit F1, and a
token-level alpha as a cross-check.

A span is (start, end, label) in character offsets, end exclusive, start < end, or (start,
end, label, fragments) for a discontinuous one: ((start, end), ...), the stretches it marks,
start:end being their outer extent (None: contiguous). A discontinuous span is one unit: it
matches exactly only a span with the same fragments, and partial credit and the token and
character measures count only its fragments' characters, never its gaps'. Inputs hold one
sequence of spans per document; spans never match across documents. Identical spans of one
annotator in one document count once.

Partial credit is the SemEval-2020 Task 11 (span identification / technique classification)
definition (Da San Martino et al. 2020, "SemEval-2020 Task 11: Detection of Propaganda
Techniques in News Articles", section 3): with C(s, t, h) = |s ∩ t| / h · δ(label s, label t),

    P(S, T) = 1/|S| Σ_{s∈S} Σ_{t∈T} C(s, t, |s|),    R(S, T) = 1/|T| Σ_{s∈S} Σ_{t∈T} C(s, t, |t|),

F1 their harmonic mean. Between two annotators neither is gold; swapping them swaps P and R,
so F1 is symmetric and is the agreement figure, while P and R are reported with the first
annotator's spans as S.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from .bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED
from .coding import MISSING, krippendorff_alpha
from .results import NO_SPANS, Figure, undefined

Span = tuple[int, int, Hashable] | tuple[int, int, Hashable, "Fragments | None"]
Fragments = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SpanScores:
    """``exact_f1``: spans match only with the same start, end (and label, when labelled).
    ``precision``, ``recall``, ``partial_f1``: SemEval-2020 Task 11 partial credit."""

    exact_f1: Figure
    precision: Figure
    recall: Figure
    partial_f1: Figure


@dataclass(frozen=True)
class SpanAgreement:
    micro: SpanScores  # labelled, pooled over all labels
    per_label: dict[Hashable, SpanScores]
    boundary: SpanScores  # labels ignored: unlabelled exact and partial F1


@dataclass(frozen=True)
class SpanArrays:
    """One annotator's spans over a run of documents as parallel int64 arrays: ``document``
    (index in the run), ``start``, ``end`` and ``label`` (index in a label list). Duplicates
    are allowed; every scoring function says how it treats them."""

    document: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    # Discontinuous spans: per span, 0 for a contiguous one, else the index in
    # ``fragment_table`` of its fragments (start, end being their outer extent). None: every
    # span is contiguous.
    fragments: np.ndarray | None = None
    fragment_table: Sequence[Fragments] = ((),)

    def __len__(self) -> int:
        return int(self.start.size)

    def select(self, keep: np.ndarray, document: np.ndarray | None = None) -> SpanArrays:
        """The spans where ``keep`` is true, with ``document`` as their new document indices
        (default: unchanged)."""
        return SpanArrays(
            self.document[keep] if document is None else document,
            self.start[keep], self.end[keep], self.label[keep],
            None if self.fragments is None else self.fragments[keep], self.fragment_table,
        )

    def pieces(self) -> tuple[SpanArrays, np.ndarray]:
        """What the spans mark, one contiguous row per stretch of characters (a contiguous
        span's extent, each fragment of a discontinuous one), and the index of each row's
        span; the rows of a span are consecutive."""
        index = np.arange(len(self))
        if self.fragments is None or not self.fragments.any():
            return SpanArrays(self.document, self.start, self.end, self.label), index
        split = np.flatnonzero(self.fragments)
        counts = np.ones(len(self), dtype=np.int64)
        counts[split] = [len(self.fragment_table[c]) for c in self.fragments[split]]
        span_of = np.repeat(index, counts)
        start, end = self.start[span_of], self.end[span_of]
        first_row = np.cumsum(counts) - counts
        rows = np.concatenate([first_row[k] + np.arange(counts[k]) for k in split])
        bounds = np.array([pair for c in self.fragments[split] for pair in self.fragment_table[c]], dtype=np.int64)
        start[rows], end[rows] = bounds[:, 0], bounds[:, 1]
        return SpanArrays(self.document[span_of], start, end, self.label[span_of]), span_of

    def marked(self) -> np.ndarray:
        """Per span, how many characters it marks: its fragments' (not its gaps'), else its extent's."""
        pieces, span_of = self.pieces()
        return np.bincount(span_of, weights=pieces.end - pieces.start, minlength=len(self))


def span_arrays(documents: Sequence[Sequence[Span] | None], code: dict[Hashable, int]) -> SpanArrays:
    """The arrays of one annotator's spans, ``documents[d]`` holding its spans in document d
    (None: none); ``code`` maps each label to its index."""
    fragment_code: dict[Fragments, int] = {(): 0}
    rows = [
        (d, span[0], span[1], code[span[2]],
         fragment_code.setdefault(tuple(map(tuple, span[3] or ())) if len(span) > 3 else (), len(fragment_code)))
        for d, spans in enumerate(documents) for span in spans or ()
    ]
    table = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return SpanArrays(table[:, 0], table[:, 1], table[:, 2], table[:, 3], table[:, 4], list(fragment_code))


def fragment_keys(first: SpanArrays, second: SpanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Per span of each side, an integer equal for spans with equal fragments (0: contiguous),
    whatever table each side's fragment codes index."""
    joint: dict[Fragments, int] = {(): 0}

    def keys(spans: SpanArrays) -> np.ndarray:
        if spans.fragments is None:
            return np.zeros(len(spans), dtype=np.int64)
        local = np.array([joint.setdefault(tuple(map(tuple, f)), len(joint)) for f in spans.fragment_table],
                         dtype=np.int64)
        return local[spans.fragments]

    return keys(first), keys(second)


def _row_keys(columns: Sequence[np.ndarray]) -> np.ndarray | None:
    """One int64 per row that orders rows as the columns do (the first most significant), or
    None when the columns' ranges do not fit in 62 bits. One sort of one key is several times
    faster than a lexsort of several columns."""
    key = np.zeros(columns[0].size, dtype=np.int64)
    capacity = 1
    for column in columns:
        low, high = int(column.min()), int(column.max())
        capacity *= high - low + 1
        if capacity >= 2**62:
            return None
        key = key * (high - low + 1) + (column - low)
    return key


def _sorted_order(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A stable order of the rows by the columns, and what identifies a row in it: the packed
    key if the columns fit in one, else the columns themselves."""
    key = _row_keys(columns) if columns[0].size else None
    if key is None:
        return np.lexsort(columns[::-1]), list(columns)
    return np.argsort(key, kind="stable"), [key]


def unique_rows(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Indices of the distinct rows of the parallel integer ``columns``, sorted by the columns
    (the first most significant); of equal rows, the first."""
    order, identity = _sorted_order(columns)
    if order.size == 0:
        return order
    differs = np.zeros(order.size, dtype=bool)
    differs[0] = True
    for column in identity:
        sorted_column = column[order]
        differs[1:] |= sorted_column[1:] != sorted_column[:-1]
    return order[differs]


def shared_rows(first: Sequence[np.ndarray], second: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the rows of ``first`` that also occur in ``second`` and of those of ``second``
    that occur in ``first``; each side's rows must be distinct."""
    n_first = first[0].size
    joined = [np.concatenate([a, b]) for a, b in zip(first, second, strict=True)]
    order, identity = _sorted_order(joined)
    same_as_next = np.ones(max(order.size - 1, 0), dtype=bool)
    for column in identity:
        sorted_column = column[order]
        same_as_next &= sorted_column[1:] == sorted_column[:-1]
    found = np.zeros(order.size, dtype=bool)
    found[order[:-1][same_as_next]] = True  # distinct within a side: equal neighbours are one of each
    found[order[1:][same_as_next]] = True
    return found[:n_first], found[n_first:]


def overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len a, len b) characters shared by each pair of (start, end) rows."""
    a = np.asarray(a, dtype=np.int64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.int64).reshape(-1, 2)
    shared = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    return np.clip(shared, 0, None)


def merged_intervals(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of intervals on one line as sorted, disjoint (start, end) intervals."""
    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    if start.size == 0:
        return start, end
    reach = np.maximum.accumulate(end)
    begins = np.ones(start.size, dtype=bool)
    begins[1:] = start[1:] > reach[:-1]
    first = np.flatnonzero(begins)
    return start[first], np.maximum.reduceat(end, first)


def overlapping_pairs(
    start_s: np.ndarray, end_s: np.ndarray, start_t: np.ndarray, end_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i, j) of intervals s_i and t_j on one line that share characters, as
    (i, j, characters shared); ``start_t`` must be sorted."""
    longest_t = int((end_t - start_t).max()) if start_t.size else 0
    # t_j can reach s_i only if it starts after s_i's start minus t's longest length, and
    # before s_i ends: a contiguous run of t.
    first = np.searchsorted(start_t, start_s - longest_t, side="right")
    last = np.searchsorted(start_t, end_s, side="left")
    counts = np.clip(last - first, 0, None)
    i = np.repeat(np.arange(start_s.size), counts)
    run_begins = np.cumsum(counts) - counts
    j = np.arange(i.size) - np.repeat(run_begins - first, counts)
    shared = np.minimum(end_s[i], end_t[j]) - np.maximum(start_s[i], start_t[j])
    keep = shared > 0
    return i[keep], j[keep], shared[keep]


def _share(credit: float, n_spans: int, n_documents: int) -> Figure:
    if n_spans == 0:
        return undefined(NO_SPANS, n_documents, 0, 2)
    return Figure(float(credit / n_spans), None, n_documents, n_spans, 2)


def _f1(precision: Figure, recall: Figure, n_documents: int, n_spans: int) -> Figure:
    if precision.value is None and recall.value is None:
        return undefined(NO_SPANS, n_documents, 0, 2)
    p = precision.value or 0.0  # one side empty: nothing of it can agree
    r = recall.value or 0.0
    value = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return Figure(value, None, n_documents, n_spans, 2)


def _scores(matches: int, credit_s: float, credit_t: float, size_s: int, size_t: int, n_documents: int) -> SpanScores:
    n_spans = size_s + size_t
    if n_spans == 0:
        empty = undefined(NO_SPANS, n_documents, 0, 2)
        return SpanScores(empty, empty, empty, empty)
    exact = Figure(2 * matches / n_spans, None, n_documents, n_spans, 2)
    precision = _share(credit_s, size_s, n_documents)
    recall = _share(credit_t, size_t, n_documents)
    return SpanScores(exact, precision, recall, _f1(precision, recall, n_documents, n_spans))


def _counts_by_label(s: SpanArrays, t: SpanArrays, n_labels: int, labelled: bool) -> tuple[np.ndarray, ...]:
    """Per label (one group when not ``labelled``): distinct spans of s and of t, exact
    matches, and the partial credit of s and of t, all documents at once."""
    for spans in (s, t):
        bad = np.flatnonzero(spans.start >= spans.end)
        if bad.size:
            raise ValueError(f"span ({spans.start[bad[0]]}, {spans.end[bad[0]]}) is empty or reversed")
    groups = n_labels if labelled else 1
    label_s = s.label if labelled else np.zeros_like(s.label)
    label_t = t.label if labelled else np.zeros_like(t.label)
    # A discontinuous span matches exactly only a span with the same fragments.
    fragments_s, fragments_t = fragment_keys(s, t)
    keep_s = unique_rows([s.document, label_s, s.start, s.end, fragments_s])
    keep_t = unique_rows([t.document, label_t, t.start, t.end, fragments_t])
    group_s, group_t = label_s[keep_s], label_t[keep_t]
    matched_s, _ = shared_rows([s.document[keep_s], group_s, s.start[keep_s], s.end[keep_s], fragments_s[keep_s]],
                               [t.document[keep_t], group_t, t.start[keep_t], t.end[keep_t], fragments_t[keep_t]])

    # Partial credit on one line: each (document, label) gets its own stretch of `width`
    # characters, so spans of different documents or labels never overlap. A span's
    # characters are those of its fragments (a contiguous span: one), its credit their
    # shares summed.
    kept_s, kept_t = s.select(keep_s), t.select(keep_t)
    pieces_s, span_of_s = SpanArrays(kept_s.document, kept_s.start, kept_s.end, group_s, kept_s.fragments,
                                     kept_s.fragment_table).pieces()
    pieces_t, span_of_t = SpanArrays(kept_t.document, kept_t.start, kept_t.end, group_t, kept_t.fragments,
                                     kept_t.fragment_table).pieces()
    marked_s, marked_t = kept_s.marked(), kept_t.marked()
    width = int(max(s.end.max(initial=0), t.end.max(initial=0))) + 1
    if (max(s.document.max(initial=0), t.document.max(initial=0)) + 1) * groups * width >= 2**62:
        raise ValueError("documents too long or too many to score")
    shift_s = (pieces_s.document * groups + pieces_s.label) * width
    shift_t = (pieces_t.document * groups + pieces_t.label) * width
    line_s = (pieces_s.start + shift_s, pieces_s.end + shift_s)
    order_t = np.argsort(pieces_t.start + shift_t, kind="stable")  # overlapping_pairs wants t's starts sorted
    span_of_t = span_of_t[order_t]
    line_t = (pieces_t.start[order_t] + shift_t[order_t], pieces_t.end[order_t] + shift_t[order_t])
    # A span is credited with the characters it shares with the union of the other side's
    # spans of its label: overlapping spans on the other side (one annotator may mark
    # overlapping spans of one label) would otherwise credit it more than its length.
    i, _, shared = overlapping_pairs(*line_s, *merged_intervals(*line_t))
    credit_s = np.bincount(group_s[span_of_s[i]], weights=shared / marked_s[span_of_s[i]], minlength=groups)
    _, j, shared = overlapping_pairs(*merged_intervals(*line_s), *line_t)
    credit_t = np.bincount(group_t[span_of_t[j]], weights=shared / marked_t[span_of_t[j]], minlength=groups)
    return (
        np.bincount(group_s, minlength=groups),
        np.bincount(group_t, minlength=groups),
        np.bincount(group_s[matched_s], minlength=groups),
        credit_s,
        credit_t,
    )


def span_scores(
    predicted: Sequence[Sequence[Span]],
    reference: Sequence[Sequence[Span]],
    *,
    labelled: bool = True,
) -> SpanScores:
    """Exact and partial-credit scores of ``predicted`` (S) against ``reference`` (T), one
    sequence of spans per document. With ``labelled=False`` labels are ignored (boundaries)."""
    if len(predicted) != len(reference):
        raise ValueError("both annotators need one span list per document")
    code = _label_codes(predicted, reference, [])
    s, t = span_arrays(predicted, code), span_arrays(reference, code)
    size_s, size_t, matches, credit_s, credit_t = _counts_by_label(s, t, len(code), labelled)
    return _scores(
        int(matches.sum()), float(credit_s.sum()), float(credit_t.sum()), int(size_s.sum()), int(size_t.sum()),
        len(predicted),
    )


def _label_codes(first, second, labels: Sequence[Hashable]) -> dict[Hashable, int]:
    """``labels``, then every other label seen, in repr order, each with its index."""
    seen = {span[2] for doc in (*first, *second) for span in doc or ()}
    ordered = list(labels or [])
    ordered += sorted((label for label in seen if label not in ordered), key=repr)
    return {label: i for i, label in enumerate(ordered)}


def span_agreement(
    first: Sequence[Sequence[Span]],
    second: Sequence[Sequence[Span]],
    labels: Sequence[Hashable] | None = None,
) -> SpanAgreement:
    """Scores of two annotators' spans: micro over labels, per label (every label seen, plus
    ``labels``), and boundaries only."""
    if len(first) != len(second):
        raise ValueError("both annotators need one span list per document")
    code = _label_codes(first, second, labels or [])
    return span_agreement_arrays(span_arrays(first, code), span_arrays(second, code), list(code), len(first))


def span_agreement_arrays(
    first: SpanArrays, second: SpanArrays, labels: Sequence[Hashable], n_documents: int
) -> SpanAgreement:
    """:func:`span_agreement` of spans given as arrays over ``n_documents`` documents, their
    label codes indexing ``labels``; every label in ``labels`` gets its per-label scores."""
    size_s, size_t, matches, credit_s, credit_t = _counts_by_label(first, second, len(labels), True)
    per_label = {
        label: _scores(int(matches[c]), float(credit_s[c]), float(credit_t[c]), int(size_s[c]), int(size_t[c]),
                       n_documents)
        for c, label in enumerate(labels)
    }
    micro = _scores(int(matches.sum()), float(credit_s.sum()), float(credit_t.sum()), int(size_s.sum()),
                    int(size_t.sum()), n_documents)
    size_s, size_t, matches, credit_s, credit_t = _counts_by_label(first, second, len(labels), False)
    boundary = _scores(int(matches[0]), float(credit_s[0]), float(credit_t[0]), int(size_s[0]), int(size_t[0]),
                       n_documents)
    return SpanAgreement(micro=micro, per_label=per_label, boundary=boundary)


def document_exact_f1(first: SpanArrays, second: SpanArrays, n_documents: int) -> np.ndarray:
    """Per document d of ``n_documents``, the labelled exact F1 of two annotators' spans in it,
    2·|S_d ∩ T_d| / (|S_d| + |T_d|) over each side's distinct (start, end, label, fragments); NaN where
    neither marked anything. Exactly 1 where the two sets are the same, so ``< 1`` marks the
    documents where they differ."""

    def distinct(spans: SpanArrays, fragments: np.ndarray) -> list[np.ndarray]:
        columns = [spans.document, spans.label, spans.start, spans.end, fragments]
        keep = unique_rows(columns)
        return [column[keep] for column in columns]

    rows_first, rows_second = (distinct(spans, fragments)
                               for spans, fragments in zip((first, second), fragment_keys(first, second)))
    matched, _ = shared_rows(rows_first, rows_second)
    matches = np.bincount(rows_first[0][matched], minlength=n_documents)
    marked = np.bincount(rows_first[0], minlength=n_documents) + np.bincount(rows_second[0], minlength=n_documents)
    return np.divide(2 * matches, marked, out=np.full(n_documents, np.nan), where=marked > 0)


# --- token-level alpha --------------------------------------------------------------------


def _token_cover(
    token_start: np.ndarray, token_end: np.ndarray, spans: SpanArrays, n_labels: int
) -> np.ndarray:
    """(label, token): how many characters of each token (on one line of characters) the
    spans of each label cover. A span counts as often as it occurs; spans with start >= end
    cover nothing."""
    proper = spans.start < spans.end
    start, end, label = spans.start[proper], spans.end[proper], spans.label[proper]
    length = int(max(token_end.max(initial=0), end.max(initial=0))) + 1
    cover = np.zeros((n_labels, token_start.size), dtype=np.int64)
    for c in range(n_labels):
        mine = label == c
        if not mine.any():
            continue
        # Spans of c covering each character, and its running total: a token's coverage is
        # the difference of the totals at its ends.
        depth = np.cumsum(np.bincount(start[mine], minlength=length) - np.bincount(end[mine], minlength=length))
        covered_before = np.concatenate([[0], np.cumsum(depth)])
        cover[c] = covered_before[token_end] - covered_before[token_start]
    return cover


def _token_codes(cover: np.ndarray) -> np.ndarray:
    """Per token: 0 for "none", 1 + c for the label c whose spans cover most of its
    characters (a tie goes to the lower c), from _token_cover's matrix."""
    if cover.shape[0] == 0:
        return np.zeros(cover.shape[1], dtype=np.int64)
    return np.where(cover.max(axis=0) > 0, cover.argmax(axis=0) + 1, 0)


def token_labels(
    tokens: np.ndarray, spans: Sequence[Span] | None, labels: Sequence[Hashable]
) -> np.ndarray:
    """Per token: 0 for "none", 1 + i for ``labels[i]``, MISSING when ``spans`` is None (the
    annotator did not annotate the document). A token takes the label whose spans cover most
    of its characters; a tie goes to the label listed first."""
    tokens = np.asarray(tokens, dtype=np.int64).reshape(-1, 2)
    if spans is None:
        return np.full(tokens.shape[0], MISSING, dtype=np.int64)
    code = {label: i for i, label in enumerate(labels)}
    known, _ = span_arrays([[span for span in spans if span[2] in code]], code).pieces()
    return _token_codes(_token_cover(tokens[:, 0], tokens[:, 1], known, len(labels)))


@dataclass(frozen=True)
class TokenAlpha:
    """Token-level alpha: ``pooled`` over every label (each token carries one label or
    "none"), and ``per_label`` (by label code; only when asked for) one binary alpha per
    label, each token carrying "covered by a span of this label" or not."""

    pooled: Figure
    per_label: dict[int, Figure]


def token_alpha(
    tokens: Sequence[np.ndarray],
    spans: Sequence[Sequence[Sequence[Span] | None]],
    labels: Sequence[Hashable],
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> Figure:
    """Nominal alpha over tokens, each carrying a label or "none" per annotator.

    ``tokens[d]`` is document d's (n, 2) array of token (start, end); ``spans[d][a]`` annotator
    a's spans in document d, or None if a did not annotate d. The interval resamples documents."""
    return _token_alpha_lists(tokens, spans, labels, False, replicates, seed).pooled


def token_alpha_per_label(
    tokens: Sequence[np.ndarray],
    spans: Sequence[Sequence[Sequence[Span] | None]],
    labels: Sequence[Hashable],
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> dict[Hashable, Figure]:
    """:func:`token_alpha` of each label on its own: binary alpha over tokens, a token
    carrying, per annotator, whether a span of the label covers any of its characters
    (whatever other labels cover it too)."""
    per_label = _token_alpha_lists(tokens, spans, labels, True, replicates, seed).per_label
    return {label: per_label[c] for c, label in enumerate(labels)}


def _token_alpha_lists(tokens, spans, labels, per_label: bool, replicates: int, seed: int) -> TokenAlpha:
    if len(tokens) != len(spans):
        raise ValueError("tokens and spans need one entry per document")
    n_annotators = max((len(doc) for doc in spans), default=0)
    padded = [list(doc) + [None] * (n_annotators - len(doc)) for doc in spans]
    annotated = np.array([[doc[a] is not None for doc in padded] for a in range(n_annotators)], dtype=bool)
    code = {label: i for i, label in enumerate(labels)}
    per_annotator = [
        span_arrays([[span for span in doc[a] or () if span[2] in code] for doc in padded], code)
        for a in range(n_annotators)
    ]
    bounds = [np.asarray(doc_tokens, dtype=np.int64).reshape(-1, 2) for doc_tokens in tokens]
    token_document = np.repeat(np.arange(len(bounds)), [len(b) for b in bounds])
    joined = np.concatenate(bounds) if bounds else np.zeros((0, 2), dtype=np.int64)
    return token_alpha_arrays(
        token_document, joined[:, 0], joined[:, 1], annotated.reshape(n_annotators, len(tokens)), per_annotator,
        len(labels), per_label=per_label, replicates=replicates, seed=seed,
    )


def token_alpha_arrays(
    token_document: np.ndarray,
    token_start: np.ndarray,
    token_end: np.ndarray,
    annotated: np.ndarray,
    spans: Sequence[SpanArrays],
    n_labels: int,
    *,
    per_label: bool = False,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> TokenAlpha:
    """:func:`token_alpha` (and with ``per_label`` :func:`token_alpha_per_label`, by label
    code) of tokens given as arrays (document index, start, end; in document order),
    ``annotated[a, d]`` whether annotator a annotated document d, ``spans[a]`` a's spans with
    label codes below ``n_labels``."""
    n_annotators, n_documents = annotated.shape
    if n_documents == 0:
        values = np.zeros((0, 0), dtype=np.int64)
        empty = krippendorff_alpha(values, n_labels + 1, "nominal", document_ids=np.zeros(0, dtype=np.int64),
                                   replicates=replicates, seed=seed)
        return TokenAlpha(empty, dict.fromkeys(range(n_labels), empty) if per_label else {})
    # All documents on one line, each starting after the last character any token or span
    # of the one before reaches, so that no span reaches into another document.
    extent = np.zeros(n_documents, dtype=np.int64)
    np.maximum.at(extent, token_document, token_end)
    for annotator_spans in spans:
        np.maximum.at(extent, annotator_spans.document, annotator_spans.end)
    offset = np.concatenate([[0], np.cumsum(extent)[:-1]])
    values = np.empty((n_annotators, token_document.size), dtype=np.int64)
    covered = np.zeros((n_labels, n_annotators, token_document.size), dtype=bool) if per_label else None
    for a, annotator_spans in enumerate(spans):
        marking, _ = annotator_spans.pieces()  # a discontinuous span covers its fragments, not its gaps
        shift = offset[marking.document]
        on_line = SpanArrays(marking.document, marking.start + shift, marking.end + shift, marking.label)
        cover = _token_cover(token_start + offset[token_document], token_end + offset[token_document], on_line,
                             n_labels)
        values[a] = np.where(annotated[a, token_document], _token_codes(cover), MISSING)
        if covered is not None:
            covered[:, a] = cover > 0
    pooled = krippendorff_alpha(
        values, n_labels + 1, "nominal", document_ids=token_document, replicates=replicates, seed=seed
    )
    if covered is None:
        return TokenAlpha(pooled, {})
    missing = values == MISSING
    return TokenAlpha(pooled, {
        c: krippendorff_alpha(np.where(missing, MISSING, covered[c].astype(np.int64)), 2, "nominal",
                              document_ids=token_document, replicates=replicates, seed=seed)
        for c in range(n_labels)
    })
