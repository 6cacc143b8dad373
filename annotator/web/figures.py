"""How the pages show a figure of the report (annotator.report): a number with its reason when
undefined, a heatmap class, a bar with its interval against Krippendorff's bands."""

from __future__ import annotations

import math
from typing import Any

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 260, 34, 8


def figure(raw: Any) -> dict:
    """A FIGURE dict whatever came (a dict, a bare number, None)."""
    if isinstance(raw, dict):
        return raw
    if raw is None:
        return {"value": None, "undefined": "not computed"}
    return {"value": float(raw), "undefined": None}


def number(raw: Any) -> str:
    """Three decimals, or "undefined — reason" (never 0 for undefined)."""
    fig = figure(raw)
    if fig.get("value") is None:
        return f"undefined — {fig.get('undefined') or 'not computed'}"
    return f"{fig['value']:.3f}"


def bucket(raw: Any) -> str:
    """The heatmap class of a value."""
    value = figure(raw).get("value")
    if value is None:
        return "heat-none"
    if value < 0.2:
        return "heat-0"
    if value < 0.4:
        return "heat-1"
    if value < 0.667:
        return "heat-2"
    if value < 0.8:
        return "heat-3"
    return "heat-4"


def chart(raw: Any) -> dict | None:
    """Coordinates of a CI bar: the scale 0..1 (lower when needed), bands, interval, point."""
    fig = figure(raw)
    value = fig.get("value")
    if value is None:
        return None
    interval = fig.get("interval") or None
    low_end = min([0.0, value] + ([interval["low"]] if interval and interval.get("low") is not None else []))
    if low_end < 0:
        low_end = math.floor(low_end * 4) / 4  # down to a quarter
    high_end = max(1.0, value)
    inner = CHART_WIDTH - 2 * CHART_PAD

    def x(v: float) -> float:
        return round(CHART_PAD + (v - low_end) / (high_end - low_end) * inner, 1)

    bands = [
        {"cls": "band-unreliable", "x": x(low_end), "width": round(x(0.667) - x(low_end), 1)},
        {"cls": "band-tentative", "x": x(0.667), "width": round(x(0.8) - x(0.667), 1)},
        {"cls": "band-reliable", "x": x(0.8), "width": round(x(high_end) - x(0.8), 1)},
    ]
    ticks = [{"x": x(t), "label": label} for t, label in ((0.0, "0"), (0.667, ".667"), (0.8, ".8"), (1.0, "1"))]
    if low_end < 0:
        ticks.insert(0, {"x": x(low_end), "label": f"{low_end:g}"})
    has_interval = bool(interval and interval.get("low") is not None and interval.get("high") is not None)
    text = f"{value:.3f}"
    if has_interval:
        text += f", 95% interval {interval['low']:.3f} to {interval['high']:.3f}"
    elif interval and interval.get("undefined"):
        text += f", 95% interval undefined — {interval['undefined']}"
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "bar_y": 4, "bar_height": 14, "mid": 11,
        "bands": bands, "ticks": ticks, "point": x(value),
        "low": x(interval["low"]) if has_interval else None, "high": x(interval["high"]) if has_interval else None,
        "label": text,
    }
