"""How well a suggester's spans match reference spans (the gold standard, or one annotator's):
precision, recall and F1 per label and over all labels, by exact and by overlap matching. Pure:
no database, no Flask (annotator/services/suggestions.py loads the spans).

- **exact**: a suggestion is correct when a reference span has its label, start and end.
- **overlap**: a suggestion is correct when it shares at least one character with a reference
  span of its label; a reference span is found when a suggestion of its label shares a
  character with it. Precision counts correct suggestions, recall found reference spans, so
  one long suggestion over two reference spans finds both and is one correct suggestion. This
  is the lenient match extractors of attributions are usually reported with (a cue found, its
  extent aside); the agreement report's SemEval-2020 partial credit
  (annotator.agreement.spans) weighs the shared characters instead, and would score a
  suggester low for spans a word longer or shorter than the reference's.

Spans are counted once each: identical suggestions of one label in one document are one. A
discontinuous reference span (fragments) overlaps through its fragments' characters, not its
gaps', and matches exactly no suggestion (suggestions are contiguous). A figure with nothing to
count is undefined (``Figure.undefined`` says why), never 0: precision without suggestions,
recall without reference spans, F1 when both are.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..agreement.results import Figure, undefined

NO_SUGGESTIONS = "no suggestions"
NO_REFERENCE_SPANS = "no reference spans"

# (document, layer, label, start, end); a reference span may add its fragments:
# ((start, end), ...) for a discontinuous one, None for a contiguous one.
SuggestedSpan = tuple[int, str, str, int, int]
ReferenceSpan = tuple[int, str, str, int, int] | tuple[int, str, str, int, int, Sequence[Sequence[int]] | None]
Label = tuple[str, str]  # (layer, label)


@dataclass(frozen=True)
class Scores:
    precision: Figure
    recall: Figure
    f1: Figure


@dataclass(frozen=True)
class LabelEvaluation:
    """One label's (or, with ``label`` None, all scored labels') counts and scores.
    ``suggested``/``reference``: distinct spans; ``exact_matches``: suggestions equal to a
    reference span; ``overlap_correct``: suggestions overlapping one; ``overlap_found``:
    reference spans a suggestion overlaps."""

    layer: str | None
    label: str | None
    suggested: int
    reference: int
    exact_matches: int
    overlap_correct: int
    overlap_found: int
    exact: Scores
    overlap: Scores


@dataclass(frozen=True)
class Evaluation:
    documents: int
    per_label: list[LabelEvaluation]  # every label suggested or in the reference, by layer and label
    overall: LabelEvaluation  # pooled over the labels in ``scored`` (micro)
    scored: list[Label]


def evaluate(suggested: Iterable[SuggestedSpan], reference: Iterable[ReferenceSpan], documents: int,
             scored: Sequence[Label] | None = None) -> Evaluation:
    """Scores of ``suggested`` against ``reference`` over ``documents`` documents, per label and
    pooled over the labels ``scored`` (default: every label either side has)."""
    suggestions: dict[tuple[int, Label], set[tuple[int, int]]] = defaultdict(set)
    for document, layer, label, start, end in suggested:
        _check(start, end)
        suggestions[document, (layer, label)].add((start, end))
    references: dict[tuple[int, Label], dict[tuple[int, int], tuple[tuple[int, int], ...]]] = defaultdict(dict)
    for span in reference:
        document, layer, label, start, end = span[:5]
        fragments = span[5] if len(span) > 5 else None
        _check(start, end)
        pieces = tuple((int(a), int(b)) for a, b in fragments) if fragments else ((start, end),)
        references[document, (layer, label)][start, end, pieces] = pieces

    counts: dict[Label, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for key in suggestions.keys() | references.keys():
        found = _group_counts(suggestions.get(key, set()), list(references.get(key, {}).items()))
        total = counts[key[1]]
        for i, value in enumerate(found):
            total[i] += value

    labels = sorted(counts)
    scored = labels if scored is None else list(scored)
    pooled = [sum(counts[label][i] for label in scored if label in counts) for i in range(5)]
    return Evaluation(
        documents=documents,
        per_label=[_label_evaluation(layer, label, counts[layer, label], documents) for layer, label in labels],
        overall=_label_evaluation(None, None, pooled, documents),
        scored=scored,
    )


def _check(start: int, end: int) -> None:
    if not 0 <= start < end:
        raise ValueError(f"span ({start}, {end}) is empty or reversed")


def _group_counts(suggestions: set[tuple[int, int]], references: list) -> tuple[int, int, int, int, int]:
    """One document's spans of one label: (suggested, reference, exact matches, suggestions
    overlapping a reference span, reference spans overlapped)."""
    extents = {(start, end) for (start, end, pieces) in (key for key, _ in references) if len(pieces) == 1}
    reference_pieces = _merged(piece for _, pieces in references for piece in pieces)
    suggestion_pieces = _merged(suggestions)
    return (
        len(suggestions),
        len(references),
        len(suggestions & extents),
        sum(_touches(reference_pieces, start, end) for start, end in suggestions),
        sum(any(_touches(suggestion_pieces, start, end) for start, end in pieces) for _, pieces in references),
    )


def _merged(intervals: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """The union of the intervals as sorted, disjoint (starts, ends)."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(intervals):
        if ends and start < ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _touches(merged: tuple[list[int], list[int]], start: int, end: int) -> bool:
    """Whether (start, end) shares a character with the merged intervals."""
    starts, ends = merged
    i = bisect_right(ends, start)  # the first interval ending after start
    return i < len(starts) and starts[i] < end


def _label_evaluation(layer: str | None, label: str | None, counts: Sequence[int], documents: int) -> LabelEvaluation:
    suggested, reference, exact, correct, found = counts
    return LabelEvaluation(
        layer=layer, label=label, suggested=suggested, reference=reference, exact_matches=exact,
        overlap_correct=correct, overlap_found=found,
        exact=_scores(exact, exact, suggested, reference, documents),
        overlap=_scores(correct, found, suggested, reference, documents),
    )


def _scores(correct: int, found: int, suggested: int, reference: int, documents: int) -> Scores:
    spans = suggested + reference
    precision = Figure(correct / suggested, None, documents, spans) if suggested else \
        undefined(NO_SUGGESTIONS, documents, spans)
    recall = Figure(found / reference, None, documents, spans) if reference else \
        undefined(NO_REFERENCE_SPANS, documents, spans)
    if precision.value is None and recall.value is None:
        f1 = undefined(NO_SUGGESTIONS + " and " + NO_REFERENCE_SPANS, documents, spans)
    else:
        p, r = precision.value or 0.0, recall.value or 0.0  # one side empty: nothing of it is correct
        f1 = Figure(0.0 if p + r == 0 else 2 * p * r / (p + r), None, documents, spans)
    return Scores(precision, recall, f1)
