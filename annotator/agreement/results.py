"""The result type every agreement figure is reported in, and Krippendorff's bands."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Why a figure has no value. A coefficient whose formula divides by zero is not 0, 1 or NaN:
# it is undefined, and the report says why.
NO_VARIATION = "no variation"  # expected disagreement is 0: every value is the same
NOT_PAIRABLE = "no unit with two annotators"  # nothing to compare
FEWER_THAN_TWO_FULLY_RATED = "fewer than two fully rated units"  # Fleiss' kappa (see coding)
NO_SPANS = "no spans"  # neither annotator marked anything to compare
NO_UNITS = "no units"  # unitizing alpha: no annotator marked a unit of this label
FEWER_THAN_TWO_ANNOTATORS = "fewer than two annotators"
NO_SHARED_DOCUMENT = "no document annotated by every annotator"  # unitizing alpha needs every annotator on each
NO_CONTINUUM = "empty continuum"  # unitizing alpha over documents of total length 0
CATEGORY_NOT_USED = "category not used"  # specific agreement of a category nobody chose
NO_DEFINED_PAIR = "no pair with a defined kappa"
# Why a figure has no bootstrap interval although one was asked for.
TOO_FEW_DOCUMENTS = "too few documents for an interval"  # one document resampled is one point
NO_DEFINED_RESAMPLE = "undefined in every resample"

RELIABLE = 0.8
TENTATIVE = 0.667


@dataclass(frozen=True)
class Figure:
    """One agreement figure with what it was computed from.

    ``value`` is None exactly when ``undefined`` names the reason. ``units`` are the units that
    entered the figure (sentences with at least two values, aligned attributions, documents for
    span scores); ``pairs`` the values compared (alpha: pairable values n; kappa: units coded by
    both; observed agreement: annotator pairs; span scores: spans of both annotators);
    ``annotators`` those who contributed. ``units_left_out`` counts the units a figure leaves
    out by definition (Fleiss' kappa: rated units that are not fully rated); None for figures
    that leave nothing out. The interval fields are filled by a bootstrap over documents (see
    :mod:`annotator.agreement.bootstrap`) and stay None otherwise; when the bootstrap ran but
    gives no interval, ``interval_undefined`` says why.
    """

    value: float | None
    undefined: str | None = None
    units: int = 0
    pairs: int = 0
    annotators: int = 0
    low: float | None = None
    high: float | None = None
    p_below_0667: float | None = None
    p_below_08: float | None = None
    replicates: int = 0  # bootstrap replicates in which the figure was defined
    seed: int | None = None
    interval_undefined: str | None = None
    units_left_out: int | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.undefined is None):
            raise ValueError("a Figure has either a value or a reason it is undefined")

    @property
    def band(self) -> str | None:
        return band(self.value)


@dataclass(frozen=True)
class Bootstrap:
    """A percentile bootstrap over documents. Probabilities are fractions of defined replicates.
    ``low`` and ``high`` are None exactly when ``undefined`` names the reason."""

    low: float | None
    high: float | None
    p_below_0667: float | None
    p_below_08: float | None
    replicates_defined: int
    replicates: int
    seed: int
    undefined: str | None = None

    def __iter__(self):
        # Unpacks as (low, high, p_below_0667, p_below_08, replicates_defined).
        return iter(
            (self.low, self.high, self.p_below_0667, self.p_below_08, self.replicates_defined)
        )


def undefined(reason: str, units: int = 0, pairs: int = 0, annotators: int = 0) -> Figure:
    return Figure(None, reason, units, pairs, annotators)


def with_interval(figure: Figure, interval: Bootstrap | None) -> Figure:
    if interval is None:
        return figure
    return replace(
        figure,
        low=interval.low,
        high=interval.high,
        p_below_0667=interval.p_below_0667,
        p_below_08=interval.p_below_08,
        replicates=interval.replicates_defined,
        seed=interval.seed,
        interval_undefined=interval.undefined,
    )


def band(alpha: float | None) -> str | None:
    """Krippendorff's (2004, p. 241) guideline: rely on alpha >= .800, draw tentative
    conclusions from .667 <= alpha < .800, discard data below .667."""
    if alpha is None:
        return None
    if alpha >= RELIABLE:
        return "reliable"
    if alpha >= TENTATIVE:
        return "tentative"
    return "unreliable"
