"""What every layer's section of the report shares: a Figure as JSON, and how many
disagreements a layer lists."""

from __future__ import annotations

import numpy as np

from .. import agreement
from ..agreement.results import Figure

MAX_DISAGREEMENTS = 5000  # per layer; the layer's "disagreements_total" gives the full count


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def figure_json(figure: Figure) -> dict:
    """A figure as the report's JSON (docs/report-format.md, "FIGURE"): never NaN."""
    value = _number(figure.value)
    undefined = figure.undefined
    if value is None and undefined is None:  # a non-finite value
        undefined = "not finite"
    interval = None
    if figure.seed is not None:
        interval = {
            "low": _number(figure.low),
            "high": _number(figure.high),
            "p_below_0667": _number(figure.p_below_0667),
            "p_below_08": _number(figure.p_below_08),
            "replicates": int(figure.replicates),
            "seed": int(figure.seed),
            "undefined": figure.interval_undefined,
        }
    result = {
        "value": value,
        "undefined": undefined,
        "band": agreement.band(value),
        "units": int(figure.units),
        "pairs": int(figure.pairs),
        "annotators": int(figure.annotators),
        "interval": interval,
    }
    if figure.units_left_out is not None:  # only figures that leave units out (Fleiss' kappa)
        result["units_left_out"] = int(figure.units_left_out)
    return result
