"""Inter-annotator agreement: pure functions over numpy arrays (no database, no web).

Sentence layers (coded units): :mod:`.coding`. Bootstrap over documents: :mod:`.bootstrap`.
Span layers: :mod:`.spans`; unitizing alpha: :mod:`.unitizing`; attributions:
:mod:`.attributions`; figures of several annotators from each pair's: :mod:`.pairs`; links of
mentions to entities (MUC, B³, CEAF-e, CoNLL-2012): :mod:`.coreference`. Every figure is a
:class:`Figure`; see docs/agreement.md.
"""

from .attributions import (
    Attribution,
    AttributionAgreement,
    RoleScores,
    align,
    attribution_agreement,
)
from .bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, bootstrap, document_weights
from .coding import (
    LEVELS,
    MISSING,
    AnnotatorInfluence,
    SentenceAgreement,
    alpha_from_coincidences,
    alpha_values,
    category_counts,
    cohen_kappa,
    cohen_kappa_from_confusion,
    coincidences,
    confusion_matrices,
    disagreeing_units,
    document_alphas,
    document_coincidences,
    document_confusions,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    kappa_values,
    krippendorff_alpha,
    leave_one_out,
    observed_agreement,
    pooled_confusion,
    sentence_agreement,
    specific_agreement,
)
from .coreference import (
    CoreferenceAgreement,
    CoreferenceScores,
    MetricScores,
    coreference_agreement,
    coreference_scores,
    maximum_weight_assignment,
)
from .pairs import mean_over_pairs, mean_per_document
from .results import Bootstrap, Figure, band
from .spans import (
    SpanAgreement,
    SpanScores,
    TokenAlpha,
    span_agreement,
    span_scores,
    token_alpha,
    token_alpha_per_label,
    token_labels,
)
from .unitizing import UnitizingAgreement, unitizing_alpha

__all__ = [
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "LEVELS",
    "MISSING",
    "AnnotatorInfluence",
    "Attribution",
    "AttributionAgreement",
    "Bootstrap",
    "CoreferenceAgreement",
    "CoreferenceScores",
    "Figure",
    "MetricScores",
    "RoleScores",
    "SentenceAgreement",
    "SpanAgreement",
    "SpanScores",
    "TokenAlpha",
    "UnitizingAgreement",
    "align",
    "alpha_from_coincidences",
    "alpha_values",
    "attribution_agreement",
    "band",
    "bootstrap",
    "category_counts",
    "coincidences",
    "cohen_kappa",
    "cohen_kappa_from_confusion",
    "confusion_matrices",
    "coreference_agreement",
    "coreference_scores",
    "disagreeing_units",
    "document_alphas",
    "document_coincidences",
    "document_confusions",
    "document_weights",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "kappa_values",
    "krippendorff_alpha",
    "leave_one_out",
    "maximum_weight_assignment",
    "mean_over_pairs",
    "mean_per_document",
    "observed_agreement",
    "pooled_confusion",
    "sentence_agreement",
    "span_agreement",
    "span_scores",
    "specific_agreement",
    "token_alpha",
    "token_alpha_per_label",
    "token_labels",
    "unitizing_alpha",
]
