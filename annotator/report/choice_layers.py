"""A choice layer's section of the report: alpha, Fleiss' and Cohen's kappa, observed and
specific agreement, confusion matrices, leave-one-out, per document, and the sentences
where annotators differ."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from .. import agreement
from ..codebook import ChoiceLayer
from .figures import MAX_DISAGREEMENTS, figure_json
from .load import ReportData, choice_codes


def choice_layer(data: ReportData, layer: ChoiceLayer, replicates: int, seed: int) -> dict:
    """The layer's section (docs/report-format.md, "LAYER, kind `choice`")."""
    codes, categories = choice_codes(data, layer)
    n_annotators = codes.shape[0]
    k = max(len(categories), 1)
    level = "ordinal" if layer.ordered else "nominal"
    document_ids = data.sentence_doc
    result = agreement.sentence_agreement(
        codes, k, level, document_ids=document_ids, replicates=replicates, seed=seed
    )
    pairs = list(combinations(range(n_annotators), 2))

    present = codes != agreement.MISSING
    disagreeing = agreement.disagreeing_units(codes, k)
    alphas = agreement.document_alphas(codes, document_ids, k, level, n_documents=len(data.docs))
    disagreements_per_doc = np.bincount(document_ids[disagreeing], minlength=len(data.docs))
    documents = [
        {"document": doc_id, "title": title, "alpha": figure_json(alpha),
         "disagreements": int(disagreements_per_doc[d])}
        for d, ((doc_id, title, _), alpha) in enumerate(zip(data.docs, alphas))
    ]
    documents.sort(key=lambda x: (x["alpha"]["value"] is None, x["alpha"]["value"] or 0.0, x["document"]))

    disagreement_rows = []
    for u in np.nonzero(disagreeing)[0][:MAX_DISAGREEMENTS]:
        disagreement_rows.append({
            "document": data.docs[int(document_ids[u])][0],
            "sentence": int(data.sentence_ids[u]),
            "position": int(data.sentence_position[u]),
            "values": {str(data.user_ids[a]): categories[int(codes[a, u])]
                       for a in range(n_annotators) if present[a, u]},
        })
    return {
        "layer": layer.name,
        "title": layer.title,
        "kind": "choice",
        "level": level,
        "categories": categories,
        "metrics": {
            "alpha": figure_json(result.alpha),
            "fleiss_kappa": figure_json(result.fleiss_kappa),
            "observed_agreement": figure_json(result.observed_agreement),
        },
        "per_category": [
            {"category": name, "agreement": figure_json(result.specific_agreement[c])}
            for c, name in enumerate(categories[: len(result.specific_agreement)])
        ],
        "pairs": [
            {"a": data.user_ids[a], "b": data.user_ids[b],
             "cohen_kappa": figure_json(result.cohen_kappa[(a, b)]),
             "confusion": result.confusion[(a, b)].astype(int).tolist()}
            for a, b in pairs
        ],
        "pooled_confusion": np.asarray(result.pooled_confusion).astype(int).tolist()
        if n_annotators else [[0] * k for _ in range(k)],
        "annotators": [
            {"annotator": data.user_ids[i.annotator], "alpha_without": figure_json(i.alpha_without),
             "mean_kappa": figure_json(i.mean_kappa)}
            for i in result.annotators
        ],
        "documents": documents,
        "disagreements": disagreement_rows,
        "disagreements_total": int(disagreeing.sum()),
    }
