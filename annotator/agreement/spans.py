"""Agreement on span layers between two annotators: exact and partial-credit F1, and a
token-level alpha as a cross-check.

A span is (start, end, label) in character offsets, end exclusive, start < end. Inputs hold
one sequence of spans per document; spans never match across documents. Identical spans of
one annotator in one document count once.

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

Span = tuple[int, int, Hashable]


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


def _distinct(spans: Sequence[Span], labelled: bool) -> list[tuple]:
    seen = {}
    for start, end, label in spans:
        if not start < end:
            raise ValueError(f"span ({start}, {end}) is empty or reversed")
        key = (int(start), int(end), label if labelled else None)
        seen.setdefault(key, None)
    return list(seen)


def overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len a, len b) characters shared by each pair of (start, end) rows."""
    a = np.asarray(a, dtype=np.int64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.int64).reshape(-1, 2)
    shared = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    return np.clip(shared, 0, None)


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
    n_documents = len(predicted)
    matches = 0
    credit_s = credit_t = 0.0
    size_s = size_t = 0
    for spans_s, spans_t in zip(predicted, reference, strict=True):
        s = _distinct(spans_s, labelled)
        t = _distinct(spans_t, labelled)
        size_s += len(s)
        size_t += len(t)
        matches += len(set(s) & set(t))
        if not s or not t:
            continue
        code = {label: i for i, label in enumerate({x[2] for x in s + t})}
        bounds_s, bounds_t = np.array([x[:2] for x in s]), np.array([x[:2] for x in t])
        label_s, label_t = np.array([code[x[2]] for x in s]), np.array([code[x[2]] for x in t])
        shared = overlaps(bounds_s, bounds_t) * (label_s[:, None] == label_t[None, :])
        credit_s += (shared / np.diff(bounds_s, axis=1)).sum()
        credit_t += (shared / np.diff(bounds_t, axis=1).T).sum()
    n_spans = size_s + size_t
    if n_spans == 0:
        empty = undefined(NO_SPANS, n_documents, 0, 2)
        return SpanScores(empty, empty, empty, empty)
    exact = Figure(2 * matches / n_spans, None, n_documents, n_spans, 2)
    precision = _share(credit_s, size_s, n_documents)
    recall = _share(credit_t, size_t, n_documents)
    return SpanScores(exact, precision, recall, _f1(precision, recall, n_documents, n_spans))


def span_agreement(
    first: Sequence[Sequence[Span]],
    second: Sequence[Sequence[Span]],
    labels: Sequence[Hashable] | None = None,
) -> SpanAgreement:
    """Scores of two annotators' spans: micro over labels, per label (every label seen, plus
    ``labels``), and boundaries only."""
    seen = {span[2] for doc in (*first, *second) for span in doc}
    ordered = list(labels or [])
    ordered += sorted((label for label in seen if label not in ordered), key=repr)

    def only(docs, label):
        return [[span for span in doc if span[2] == label] for doc in docs]

    return SpanAgreement(
        micro=span_scores(first, second),
        per_label={
            label: span_scores(only(first, label), only(second, label)) for label in ordered
        },
        boundary=span_scores(first, second, labelled=False),
    )


# --- token-level alpha --------------------------------------------------------------------


def token_labels(
    tokens: np.ndarray, spans: Sequence[Span] | None, labels: Sequence[Hashable]
) -> np.ndarray:
    """Per token: 0 for "none", 1 + i for ``labels[i]``, MISSING when ``spans`` is None (the
    annotator did not annotate the document). A token takes the label whose spans cover most
    of its characters; a tie goes to the label listed first."""
    tokens = np.asarray(tokens, dtype=np.int64).reshape(-1, 2)
    if spans is None:
        return np.full(tokens.shape[0], MISSING, dtype=np.int64)
    covered = np.zeros((tokens.shape[0], len(labels) + 1))
    for i, label in enumerate(labels):
        bounds = [span[:2] for span in spans if span[2] == label]
        if bounds:
            covered[:, i + 1] = overlaps(tokens, np.array(bounds)).sum(axis=1)
    best = (
        covered[:, 1:].argmax(axis=1) + 1 if labels else np.zeros(tokens.shape[0], dtype=np.int64)
    )
    return np.where(covered.max(axis=1) > 0, best, 0)


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
    if len(tokens) != len(spans):
        raise ValueError("tokens and spans need one entry per document")
    n_annotators = max((len(doc) for doc in spans), default=0)
    columns, document_ids = [], []
    for d, (doc_tokens, doc_spans) in enumerate(zip(tokens, spans, strict=True)):
        per_annotator = list(doc_spans) + [None] * (n_annotators - len(doc_spans))
        columns.append(
            np.stack([token_labels(doc_tokens, s, labels) for s in per_annotator])
            if n_annotators
            else np.zeros((0, len(doc_tokens)), dtype=np.int64)
        )
        document_ids.append(np.full(len(doc_tokens), d))
    values = np.concatenate(columns, axis=1) if columns else np.zeros((0, 0), dtype=np.int64)
    ids = np.concatenate(document_ids) if document_ids else np.zeros(0, dtype=np.int64)
    return krippendorff_alpha(
        values, len(labels) + 1, "nominal", document_ids=ids, replicates=replicates, seed=seed
    )
