"""What suggestions do to the annotations: the anchoring report's statistics (issue 19).

A project's half-blind design (annotator.services.suggestions.design) puts each annotator's
assignment of a document in the condition "suggestions" (they see the suggesters' spans) or
"control" (they see none). Comparing the two conditions over the same documents measures what
seeing suggestions changes:

- **adoption of wrong suggestions**: of the suggestions gold rejects (no gold span has their
  label, start and end) on the adjudicated documents, the share an annotator's final spans
  contain, per condition. A control annotator never saw them, so their share is how often
  people mark those spans unprompted; the difference is the anchoring effect;
- **span F1 against gold** and **span F1 between annotators** (exact, labelled; pairs of
  annotators in the same condition on a document), and **token alpha** between the annotators
  of a condition on a document: agreement that suggestions inflate when annotators anchor;
- **seconds per sentence**: active time over the sentences of the documents marked done.

Each comparison has the figure in each condition and their difference (suggestions − control)
with a 95% percentile bootstrap interval over documents: both conditions' statistics are sums
of per-document counts, and one resample of documents gives both, so the interval is the
difference's, not two intervals compared (annotator.agreement.bootstrap). A figure with nothing
to count is undefined with the reason, never 0. Pure: no database, no Flask
(annotator/services/suggestions.py loads the data).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from .bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, MIN_DOCUMENTS, document_weights, summarise
from .coding import document_coincidences
from .coding import alpha_values
from .results import NOT_PAIRABLE, NO_SPANS, NO_VARIATION, TOO_FEW_DOCUMENTS, Figure, undefined
from .spans import token_labels

SUGGESTIONS, CONTROL = "suggestions", "control"
CONDITIONS = (SUGGESTIONS, CONTROL)

NO_DECISIONS = "no suggestion accepted or rejected"
NO_WRONG_SUGGESTIONS = "no suggestion gold rejects"
NO_TIME = "no done document with time recorded"
UNDEFINED_IN_A_CONDITION = "undefined in a condition"

Span = tuple[int, int, Hashable]  # (start, end, label), end exclusive


@dataclass(frozen=True)
class Work:
    """One annotator's work on one document: the condition it was done in, its spans, and, for
    a document marked done, its active seconds and the document's sentences (0: not counted
    in the time per sentence)."""

    document: Hashable
    annotator: Hashable
    condition: str
    spans: frozenset[Span]
    seconds: float = 0.0
    sentences: int = 0


@dataclass(frozen=True)
class Comparison:
    """A figure in each condition and their difference (suggestions − control), which carries
    the bootstrap interval over documents (``low``, ``high``; ``interval_undefined`` says why
    there is none)."""

    suggestions: Figure
    control: Figure
    difference: Figure

    @property
    def detected(self) -> bool:
        """Whether the interval of the difference excludes 0."""
        low, high = self.difference.low, self.difference.high
        return low is not None and high is not None and (low > 0 or high < 0)


def _share(numerator: float, denominator: float, reason: str, units: int = 0) -> Figure:
    if denominator == 0:
        return undefined(reason, units)
    return Figure(numerator / denominator, None, units, int(denominator))


def acceptance_rates(decisions: Iterable[tuple[Hashable, bool]]) -> dict[Hashable, Figure]:
    """Per key (e.g. (suggester, layer, label)), the share of decisions on its suggestions
    that accepted them, from (key, accepted) pairs; ``pairs`` is the number of decisions."""
    counts: dict[Hashable, list[int]] = defaultdict(lambda: [0, 0])
    for key, accepted in decisions:
        counts[key][0] += bool(accepted)
        counts[key][1] += 1
    return {key: _share(accepted, decided, NO_DECISIONS) for key, (accepted, decided) in counts.items()}


def wrong_accepted(decisions: Iterable[tuple[bool, bool]]) -> Figure:
    """Of the decisions, from (accepted, gold has the suggestion), on suggestions gold rejects:
    the share accepted. Undefined without such a decision."""
    on_wrong = [accepted for accepted, in_gold in decisions if not in_gold]
    return _share(sum(on_wrong), len(on_wrong), NO_WRONG_SUGGESTIONS)


# -- comparisons of the two conditions --------------------------------------------------------------


def _ratio(summed: np.ndarray) -> np.ndarray:
    """numerator / denominator over the last axis (2); NaN where the denominator is 0."""
    return np.divide(summed[..., 0], summed[..., 1], out=np.full(summed.shape[:-1], np.nan), where=summed[..., 1] > 0)


def _alpha(summed: np.ndarray) -> np.ndarray:
    k = int(round(np.sqrt(summed.shape[-1])))
    return alpha_values(summed.reshape(summed.shape[:-1] + (k, k)))


def compare(per_document: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], reasons: Sequence[str],
            replicates: int = DEFAULT_REPLICATES, seed: int = DEFAULT_SEED) -> Comparison:
    """``per_document``: (documents, 2, m), each document's counts in the suggestions (0) and the
    control (1) condition; ``statistic`` maps summed counts (..., m) to values (NaN: undefined,
    for the reason ``reasons[0]`` when nothing was counted, else ``reasons[1]``). Documents
    with no count in either condition are left out; the interval needs ``MIN_DOCUMENTS``."""
    stats = np.asarray(per_document, dtype=np.float64)
    stats = stats[(stats != 0).any(axis=tuple(range(1, stats.ndim)))]  # (no document: reshape(0, -1) fails)
    figures = []
    for condition in range(2):
        counts = stats[:, condition]
        documents = int((counts != 0).any(axis=1).sum())
        value = float(statistic(counts.sum(axis=0)))
        figures.append(Figure(value, None, documents) if not np.isnan(value)
                       else undefined(reasons[0] if documents == 0 else reasons[1], documents))
    with_suggestions, control = figures
    if with_suggestions.value is None or control.value is None:
        return Comparison(with_suggestions, control, undefined(UNDEFINED_IN_A_CONDITION, stats.shape[0]))
    difference = Figure(with_suggestions.value - control.value, None, stats.shape[0])
    if replicates <= 0:
        return Comparison(with_suggestions, control, difference)
    if stats.shape[0] < MIN_DOCUMENTS:
        return Comparison(with_suggestions, control, replace(difference, interval_undefined=TOO_FEW_DOCUMENTS))
    weights = document_weights(stats.shape[0], replicates, seed)
    summed = (weights @ stats.reshape(stats.shape[0], -1)).reshape((replicates,) + stats.shape[1:])
    interval = summarise(statistic(summed[:, 0]) - statistic(summed[:, 1]), seed)
    return Comparison(with_suggestions, control, replace(
        difference, low=interval.low, high=interval.high, replicates=interval.replicates_defined, seed=seed,
        interval_undefined=interval.undefined))


def _documents(works: Sequence[Work]) -> dict[Hashable, int]:
    return {document: i for i, document in enumerate(dict.fromkeys(work.document for work in works))}


def _condition(work: Work) -> int:
    return CONDITIONS.index(work.condition)


def wrong_adopted(works: Sequence[Work], wrong: Mapping[Hashable, frozenset[Span]], **bootstrap) -> Comparison:
    """Per condition, of the suggestions gold rejects (``wrong[document]``, on the adjudicated
    documents only) and the annotators of each document, the share of (annotator, suggestion)
    whose spans contain it; the difference is the anchoring effect."""
    index = _documents(works)
    stats = np.zeros((len(index), 2, 2))
    for work in works:
        rejected = wrong.get(work.document)
        if rejected:
            stats[index[work.document], _condition(work)] += (len(rejected & work.spans), len(rejected))
    return compare(stats, _ratio, (NO_WRONG_SUGGESTIONS, NO_WRONG_SUGGESTIONS), **bootstrap)


def f1_against_gold(works: Sequence[Work], gold: Mapping[Hashable, frozenset[Span]], **bootstrap) -> Comparison:
    """Per condition, the exact labelled span F1 of the annotators' spans against gold on the
    adjudicated documents (``gold``), pooled: 2·Σ matches / Σ (spans + gold spans)."""
    index = _documents(works)
    stats = np.zeros((len(index), 2, 2))
    for work in works:
        if work.document in gold:
            reference = gold[work.document]
            stats[index[work.document], _condition(work)] += (2 * len(reference & work.spans),
                                                              len(reference) + len(work.spans))
    return compare(stats, _ratio, (NO_SPANS, NO_SPANS), **bootstrap)


def f1_between_annotators(works: Sequence[Work], **bootstrap) -> Comparison:
    """Per condition, the exact labelled span F1 between the annotators of a document who are
    both in it, pooled over pairs and documents: 2·Σ matches / Σ (spans of both)."""
    index = _documents(works)
    stats = np.zeros((len(index), 2, 2))
    grouped: dict[tuple[Hashable, str], list[Work]] = defaultdict(list)
    for work in works:
        grouped[work.document, work.condition].append(work)
    for (document, condition), group in grouped.items():
        for first, second in combinations(group, 2):
            stats[index[document], CONDITIONS.index(condition)] += (2 * len(first.spans & second.spans),
                                                                    len(first.spans) + len(second.spans))
    return compare(stats, _ratio, (NOT_PAIRABLE, NO_SPANS), **bootstrap)


def token_alpha_by_condition(works: Sequence[Work], tokens: Mapping[Hashable, np.ndarray], labels: Sequence[Hashable],
                             **bootstrap) -> Comparison:
    """Per condition, nominal token alpha (annotator.agreement.spans.token_labels: each token
    carries the label covering most of it, or none) between the annotators of each document in
    that condition; ``tokens[document]`` its (n, 2) token offsets."""
    index = _documents(works)
    k = len(labels) + 1
    stats = np.zeros((len(index), 2, k * k))
    grouped: dict[tuple[Hashable, str], list[Work]] = defaultdict(list)
    for work in works:
        grouped[work.document, work.condition].append(work)
    for (document, condition), group in grouped.items():
        if len(group) < 2:
            continue
        values = np.stack([token_labels(tokens[document], sorted(work.spans, key=repr), labels) for work in group])
        stats[index[document], CONDITIONS.index(condition)] = document_coincidences(
            values, np.zeros(values.shape[1], dtype=np.int64), k)[0].reshape(-1)
    return compare(stats, _alpha, (NOT_PAIRABLE, NO_VARIATION), **bootstrap)


def seconds_per_sentence(works: Sequence[Work], **bootstrap) -> Comparison:
    """Per condition, active seconds over the sentences of the documents marked done."""
    index = _documents(works)
    stats = np.zeros((len(index), 2, 2))
    for work in works:
        if work.sentences:
            stats[index[work.document], _condition(work)] += (work.seconds, work.sentences)
    return compare(stats, _ratio, (NO_TIME, NO_TIME), **bootstrap)
