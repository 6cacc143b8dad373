"""A span layer's section of the report: per annotator pair exact, partial-credit and boundary
F1 on the documents both hold; unitizing alpha over the documents everyone holds; token-level
alpha, pooled and per label; per label, per annotator and per document figures; and the
sentences where a pair's spans differ."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from .. import agreement
from ..agreement.pairs import mean_over_pairs, mean_per_document
from ..agreement.results import (
    FEWER_THAN_TWO_ANNOTATORS,
    NO_SHARED_DOCUMENT,
    NO_SPANS,
    NO_UNITS,
    NOT_PAIRABLE,
    undefined,
)
from ..codebook import SpanLayer
from .figures import MAX_DISAGREEMENTS, figure_json
from .load import LayerSpans, ReportData, layer_spans, sentence_positions, spans_of

PAIR_FIGURES = ("exact_f1", "partial_f1", "boundary_f1")


def span_layer(data: ReportData, layer: SpanLayer, replicates: int, seed: int) -> dict:
    """The layer's section (docs/report-format.md, "LAYER, kind `span`")."""
    loaded, labels, label_code = layer_spans(data, layer)
    n_docs = len(data.docs)
    live = data.live_matrix

    def spans_of_user(user: int, documents: np.ndarray) -> agreement.spans.SpanArrays:
        return spans_of(loaded, label_code, user, documents)

    user_pairs = list(combinations(data.user_ids, 2))
    pair_rows, per_pair = [], {}
    document_f1 = np.full((len(user_pairs), n_docs), np.nan)  # [pair, document]: exact F1 of the pair's spans
    disagreeing_docs, disagreeing_sentences = [], []  # (document index, sentence) of every pair's differences
    disagreement_rows, total = [], 0
    for number, (a, b) in enumerate(user_pairs):
        ia, ib = data.user_index[a], data.user_index[b]
        shared = live[ia] & live[ib]
        if not shared.any():
            nothing = undefined(NOT_PAIRABLE, annotators=2)
            figures = dict.fromkeys(PAIR_FIGURES, nothing)
            per_label = {label: (nothing, nothing) for label in labels}
            per_pair[(a, b)] = (figures, per_label)
            pair_rows.append({"a": a, "b": b, **{name: figure_json(f) for name, f in figures.items()}})
            continue
        first, second = spans_of_user(ia, shared), spans_of_user(ib, shared)
        scores = agreement.spans.span_agreement_arrays(first, second, labels, int(shared.sum()))
        figures = {"exact_f1": scores.micro.exact_f1, "partial_f1": scores.micro.partial_f1,
                   "boundary_f1": scores.boundary.exact_f1}
        per_label = {label: (s.exact_f1, s.partial_f1) for label, s in scores.per_label.items()}
        per_pair[(a, b)] = (figures, per_label)
        pair_rows.append({"a": a, "b": b, **{name: figure_json(f) for name, f in figures.items()}})

        document_f1[number, shared] = agreement.spans.document_exact_f1(first, second, int(shared.sum()))
        documents, sentences, positions, known = _differing_sentences(
            data, loaded, label_code, ia, ib, document_f1[number] < 1)
        disagreeing_docs.append(documents)
        disagreeing_sentences.append(sentences)
        total += documents.size
        for d, sentence, position, is_known in zip(documents[:MAX_DISAGREEMENTS - len(disagreement_rows)].tolist(),
                                                    sentences.tolist(), positions.tolist(), known.tolist()):
            disagreement_rows.append({"document": data.docs[d][0], "sentence": sentence,
                                      "position": position if is_known else -1, "a": a, "b": b})
    doc_disagreements = np.zeros(n_docs, dtype=np.int64)
    if disagreeing_docs:
        documents, sentences = np.concatenate(disagreeing_docs), np.concatenate(disagreeing_sentences)
        keep = agreement.spans.unique_rows([documents, sentences])
        doc_disagreements = np.bincount(documents[keep], minlength=n_docs)

    metrics = {name: mean_over_pairs([(pair, per_pair[pair][0][name]) for pair in user_pairs])
               for name in PAIR_FIGURES}

    # Unitizing alpha over the documents every annotator holds (α_U needs each on each); token
    # alpha over all, a document's tokens missing for whoever does not hold it.
    everyone = live.all(axis=0) if len(data.user_ids) >= 2 else np.zeros(n_docs, dtype=bool)
    if everyone.any():
        unitizing = agreement.unitizing.unitizing_alpha_arrays(
            [len(text) for (_, _, text), shared in zip(data.docs, everyone) if shared],
            [spans_of_user(u, everyone) for u in range(len(data.user_ids))],
            labels,
            replicates=replicates,
            seed=seed,
        )
        unitizing_pooled, unitizing_per_label = unitizing.pooled, unitizing.per_label
    else:
        reason = FEWER_THAN_TWO_ANNOTATORS if len(data.user_ids) < 2 else NO_SHARED_DOCUMENT
        unitizing_pooled = undefined(reason, annotators=len(data.user_ids))
        unitizing_per_label = {label: unitizing_pooled for label in labels}

    token_document, token_start, token_end = data.tokens
    every_document = np.ones(n_docs, dtype=bool)
    token = agreement.spans.token_alpha_arrays(
        token_document, token_start, token_end, live,
        [spans_of_user(u, every_document) for u in range(len(data.user_ids))],
        len(labels), per_label=True, replicates=replicates, seed=seed,
    )

    exact_by_document = mean_per_document(document_f1, live.sum(axis=0), NO_SPANS)
    documents = [
        {"document": d, "title": title, "exact_f1": figure_json(exact), "disagreements": int(doc_disagreements[i])}
        for i, ((d, title, _), exact) in enumerate(zip(data.docs, exact_by_document))
    ]
    documents.sort(key=lambda x: (x["exact_f1"]["value"] is None, x["exact_f1"]["value"] or 0.0, x["document"]))

    annotators = []
    for u in data.user_ids:
        mine = [(pair, per_pair[pair][0]["exact_f1"]) for pair in user_pairs if u in pair]
        annotators.append({"annotator": u, "mean_f1": figure_json(mean_over_pairs(mine))})

    return {
        "layer": layer.name,
        "title": layer.title,
        "kind": "span",
        "labels": labels,
        "metrics": {
            "unitizing_alpha": figure_json(unitizing_pooled),
            "token_alpha": figure_json(token.pooled),
            **{name: figure_json(f) for name, f in metrics.items()},
        },
        "per_label": [
            {
                "label": label,
                "unitizing_alpha": figure_json(unitizing_per_label.get(label, undefined(NO_UNITS))),
                "token_alpha": figure_json(token.per_label[code]),
                "exact_f1": figure_json(mean_over_pairs([(p, per_pair[p][1][label][0]) for p in user_pairs])),
                "partial_f1": figure_json(mean_over_pairs([(p, per_pair[p][1][label][1]) for p in user_pairs])),
            }
            for code, label in enumerate(labels)
        ],
        "pairs": pair_rows,
        "annotators": annotators,
        "documents": documents,
        "disagreements": disagreement_rows,
        "disagreements_total": total,
    }


def _differing_sentences(data: ReportData, loaded: LayerSpans, label_code: np.ndarray, first: int, second: int,
                         documents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sentences of the marked ``documents`` where the distinct spans of two annotators
    (indices) differ: their document indices, ids, positions and whether each sentence is
    known (a span's sentence may be gone), ordered by document, position and id."""

    def distinct(user: int) -> tuple[np.ndarray, list[np.ndarray]]:
        rows = np.flatnonzero((loaded.user == user) & documents[loaded.document])
        columns = [loaded.document[rows], loaded.sentence[rows], label_code[rows], loaded.start[rows],
                   loaded.end[rows]]
        keep = agreement.spans.unique_rows(columns)
        return rows[keep], [column[keep] for column in columns]

    rows_first, columns_first = distinct(first)
    rows_second, columns_second = distinct(second)
    found_first, found_second = agreement.spans.shared_rows(columns_first, columns_second)
    unmatched = np.concatenate([rows_first[~found_first], rows_second[~found_second]])
    document, sentence = loaded.document[unmatched], loaded.sentence[unmatched]
    position, known = sentence_positions(data, sentence)
    keep = agreement.spans.unique_rows([document, np.where(known, position, 0), sentence])
    return document[keep], sentence[keep], position[keep], known[keep]
