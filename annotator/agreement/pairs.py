"""Figures of several annotators from the figures of each pair.

Span F1 and the attribution scores compare two annotators; with more, the report gives the
mean over the annotator pairs of the pairs' figures, leaving out the pairs where the figure is
undefined (a pair that shares no document, or where neither marked anything).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .results import NOT_PAIRABLE, Figure, undefined


def mean_over_pairs(figures: Sequence[tuple[tuple[int, int], Figure]], reason: str = NOT_PAIRABLE) -> Figure:
    """The mean of the defined ones of ``figures`` (each with its pair of annotators).

    ``pairs`` counts the pairs with a defined figure, ``annotators`` the people in them,
    ``units`` the most units any of them covered. Undefined when no pair's figure is defined:
    for the first pair's reason, or ``reason`` when there is no pair at all.
    """
    defined = [(pair, figure) for pair, figure in figures if figure.value is not None]
    if not defined:
        reasons = [figure.undefined for _, figure in figures if figure.undefined]
        return undefined(reasons[0] if reasons else reason)
    people = {person for pair, _ in defined for person in pair}
    return Figure(
        float(np.mean([figure.value for _, figure in defined])),
        None,
        units=max(figure.units for _, figure in defined),
        pairs=len(defined),
        annotators=len(people),
    )


def mean_per_document(per_pair: np.ndarray, annotators: np.ndarray, reason: str) -> list[Figure]:
    """Per document d, the mean over the pairs of ``per_pair[:, d]`` where it is defined (not
    NaN): ``units`` 1, ``pairs`` how many pairs it averages, ``annotators`` ``annotators[d]``.

    ``per_pair`` is (pairs, documents), ``annotators[d]`` how many annotators document d has.
    Where no pair has a value the figure is undefined: for ``reason`` when the document has two
    annotators or more, else because no one can be compared on it.
    """
    figures = []
    for d, column in enumerate(np.asarray(per_pair, dtype=np.float64).T):
        values = column[~np.isnan(column)]
        if values.size:
            figures.append(Figure(float(np.mean(values)), None, units=1, pairs=int(values.size),
                                  annotators=int(annotators[d])))
        else:
            figures.append(undefined(reason if annotators[d] >= 2 else NOT_PAIRABLE))
    return figures
