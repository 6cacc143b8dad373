"""How the pages show a figure of the report (annotator.report): a number with its reason when
undefined, a heatmap class, a bar with its interval against Krippendorff's bands; and the
anchoring report's (annotator.services.suggestions.anchoring_report): a difference with its
interval on an axis centred on 0, a figure in each condition as bars."""

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


def number(raw: Any, digits: int = 3, signed: bool = False) -> str:
    """Three decimals (``digits``; with its sign, ``signed``), or "undefined — reason" (never 0
    for undefined)."""
    fig = figure(raw)
    if fig.get("value") is None:
        return f"undefined — {fig.get('undefined') or 'not computed'}"
    return f"{fig['value']:{'+' if signed else ''}.{digits}f}"


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


def _nice_bound(largest: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``largest`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(largest))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= largest)


def difference_chart(raw: Any, digits: int = 3) -> dict | None:
    """Coordinates of a difference (suggestions − control) with its 95% interval: an axis
    centred on 0 out to a round bound either side, the interval as a bar, the point, and the
    same in words (``label``); None when the difference is undefined."""
    fig = figure(raw)
    value, low, high = fig.get("value"), fig.get("low"), fig.get("high")
    if value is None:
        return None
    has_interval = low is not None and high is not None
    bound = _nice_bound(max([abs(value)] + ([abs(low), abs(high)] if has_interval else [])) or 1.0)
    half = CHART_WIDTH / 2 - CHART_PAD

    def x(v: float) -> float:
        return round(CHART_WIDTH / 2 + v / bound * half, 1)

    detected = has_interval and (low > 0 or high < 0)
    text = f"difference {value:+.{digits}f}"
    if has_interval:
        text += (f", 95% interval {low:+.{digits}f} to {high:+.{digits}f}, "
                 + ("excludes 0: detected" if detected else "includes 0"))
    else:
        text += f", 95% interval undefined — {fig.get('interval_undefined') or 'not computed'}"
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "bar_y": 6, "bar_height": 10, "mid": 11,
        "ticks": [{"x": x(t), "label": f"{t:+g}" if t else "0"} for t in (-bound, 0.0, bound)],
        "zero": x(0.0), "point": x(value), "detected": detected,
        "low": x(low) if has_interval else None, "interval_width": round(x(high) - x(low), 1) if has_interval else None,
        "label": text,
    }


# The bars' drawing: the condition's name, then its bar, then its value.
BARS_WIDTH, BAR_LABEL_WIDTH, BAR_VALUE_WIDTH, BAR_HEIGHT, BAR_GAP = 340, 84, 84, 14, 6


def condition_bars(comparison: dict, unit: str, digits: int = 1) -> dict:
    """Coordinates of a figure in each condition as horizontal bars on one scale from 0 (the
    larger value takes the full length); an undefined side has no bar and is written
    "undefined" (its reason in ``label`` and beside the chart)."""
    sides = [("suggestions", figure(comparison.get("suggestions"))), ("control", figure(comparison.get("control")))]
    largest = max([fig["value"] for _, fig in sides if fig.get("value") is not None] + [0.0])
    longest = BARS_WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH
    rows = []
    for index, (name, fig) in enumerate(sides):
        value = fig.get("value")
        length = round(value / largest * longest, 1) if value is not None and largest > 0 else 0.0
        rows.append({"name": name, "y": CHART_PAD + index * (BAR_HEIGHT + BAR_GAP), "length": length,
                     "value_x": round(BAR_LABEL_WIDTH + length + 4, 1),
                     "short": f"{value:.{digits}f} {unit}" if value is not None else "undefined",
                     "long": f"{value:.{digits}f} {unit}" if value is not None
                     else f"undefined — {fig.get('undefined') or 'not computed'}"})
    return {
        "width": BARS_WIDTH, "height": 2 * CHART_PAD + 2 * BAR_HEIGHT + BAR_GAP, "bar_x": BAR_LABEL_WIDTH,
        "bar_height": BAR_HEIGHT, "rows": rows, "label": "; ".join(f"{row['name']}: {row['long']}" for row in rows),
    }
