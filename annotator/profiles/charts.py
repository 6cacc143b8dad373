"""Coordinates of the profile's charts, drawn as inline SVG by templates/profiles/_charts.html
(on the page and in the HTML download alike): bars with their interval and the annotators'
range beside them, a time series by month, a breakdown of shares, differences around zero.
Numbers only: every chart's figures are also written out as text next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

ROW_WIDTH, ROW_HEIGHT, PAD = 320, 34, 8
SERIES_WIDTH, SERIES_HEIGHT, SERIES_LEFT, SERIES_BOTTOM, SERIES_TOP = 720, 240, 52, 34, 12
SEGMENTS = 10  # breakdown colours: seg-0 .. seg-9 in profiles.css, then again
SHARE_WIDTH = 100  # a share's bar in the table of top quoted sources


def format_value(value: float | None, kind: str) -> str:
    """A figure as the pages print it: a share in per cent, a rate or count with two decimals."""
    if value is None:
        return "—"
    return f"{100 * value:.1f}%" if kind == "share" else f"{value:.2f}"


def format_count(value: float | None) -> str:
    """A weighted count (attributions, articles: halves where two annotators read an article):
    up to two decimals, without trailing zeros."""
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def share_bar(share: float | None) -> float:
    """The length of a share's bar in a table, 0–SHARE_WIDTH."""
    return 0.0 if share is None else round(min(max(share, 0.0), 1.0) * SHARE_WIDTH, 1)


def format_difference(value: float | None, kind: str) -> str:
    """A difference: signed, a share's in percentage points."""
    if value is None:
        return "—"
    return f"{100 * value:+.1f} pp" if kind == "share" else f"{value:+.2f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at least ``value`` (1 for nothing to show)."""
    if not value or not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10 * power


def _finite(values) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _tick_label(value: float, kind: str) -> str:
    if kind == "share":
        return f"{100 * value:g}%"
    return f"{value:g}"


def describe(value, low, high, spread_low, spread_high, kind: str, *, annotators: int = 0,
             interval_undefined: str | None = None, spread_undefined: str | None = None) -> str:
    """One figure in words, as the SVG's title and the text beside it."""
    text = format_value(value, kind)
    if low is not None and high is not None:
        text += f", 95% interval {format_value(low, kind)} to {format_value(high, kind)}"
    elif interval_undefined:
        text += f", 95% interval undefined — {interval_undefined}"
    if spread_low is not None and spread_high is not None:
        text += f"; {annotators} annotators' own figures {format_value(spread_low, kind)} to {format_value(spread_high, kind)}"
    elif spread_undefined:
        text += f"; annotators' range undefined — {spread_undefined}"
    return text


def bars(rows: Sequence[dict], kind: str) -> dict:
    """One bar per row (``value``, ``low``, ``high``, ``spread_low``, ``spread_high``), on one
    scale from 0: the bar and its interval above, the annotators' range below it."""
    top = 1.0 if kind == "share" else nice_ceiling(max(
        _finite(v for row in rows for v in (row.get("value"), row.get("high"), row.get("spread_high"))), default=0))
    inner = ROW_WIDTH - 2 * PAD

    def x(v: float | None) -> float | None:
        return None if v is None else round(PAD + min(max(v, 0.0), top) / top * inner, 1)

    laid = []
    for row in rows:
        value = row.get("value")
        laid.append({
            **row,
            "bar": None if value is None else round(x(value) - PAD, 1),
            "point": x(value),
            "low_x": x(row.get("low")) if row.get("high") is not None else None,
            "high_x": x(row.get("high")) if row.get("low") is not None else None,
            "spread_low_x": x(row.get("spread_low")) if row.get("spread_high") is not None else None,
            "spread_high_x": x(row.get("spread_high")) if row.get("spread_low") is not None else None,
        })
    ticks = [{"x": x(top * i / 4), "label": _tick_label(top * i / 4, kind)} for i in range(5)]
    return {"width": ROW_WIDTH, "height": ROW_HEIGHT, "x0": PAD, "rows": laid, "ticks": ticks}


def _month_number(key: str) -> int:
    year, month = key.split("-")
    return int(year) * 12 + int(month) - 1


def series(rows: Sequence[dict], kind: str) -> dict | None:
    """A time series: one point per month (rows keyed "YYYY-MM"; others are left out), the
    interval as a vertical line through it, the annotators' range as a grey bar beside it, and
    a line joining consecutive months (broken where a month has no articles). None with no
    dated month."""
    dated = [row for row in rows if row.get("key")]
    if not dated:
        return None
    first, last = _month_number(dated[0]["key"]), _month_number(dated[-1]["key"])
    span = max(last - first, 1)
    top = 1.0 if kind == "share" else nice_ceiling(max(
        _finite(v for row in dated for v in (row.get("value"), row.get("high"), row.get("spread_high"))), default=0))
    left, right = SERIES_LEFT, SERIES_WIDTH - 16
    bottom, upper = SERIES_HEIGHT - SERIES_BOTTOM, SERIES_TOP

    def x(key: str) -> float:
        return round(left + (_month_number(key) - first) / span * (right - left), 1) if last > first else (left + right) / 2

    def y(v: float | None) -> float | None:
        return None if v is None else round(bottom - min(max(v, 0.0), top) / top * (bottom - upper), 1)

    points, runs, run = [], [], []
    previous = None
    for row in dated:
        month = _month_number(row["key"])
        point = {**row, "x": x(row["key"]), "y": y(row.get("value")),
                 "low_y": y(row.get("low")) if row.get("high") is not None else None,
                 "high_y": y(row.get("high")) if row.get("low") is not None else None,
                 "spread_low_y": y(row.get("spread_low")) if row.get("spread_high") is not None else None,
                 "spread_high_y": y(row.get("spread_high")) if row.get("spread_low") is not None else None}
        points.append(point)
        if point["y"] is None or (previous is not None and month != previous + 1):
            if len(run) > 1:
                runs.append(run)
            run = []
        if point["y"] is not None:
            run.append(f"{point['x']},{point['y']}")
        previous = month
    if len(run) > 1:
        runs.append(run)
    every = max(1, math.ceil(len(range(first, last + 1)) / 12))
    x_ticks = [{"x": x(f"{m // 12}-{m % 12 + 1:02d}"), "label": f"{m // 12}-{m % 12 + 1:02d}"}
               for m in range(first, last + 1) if (m - first) % every == 0]
    y_ticks = [{"y": y(top * i / 4), "label": _tick_label(top * i / 4, kind)} for i in range(5)]
    return {"width": SERIES_WIDTH, "height": SERIES_HEIGHT, "left": left, "right": right, "bottom": bottom,
            "top": upper, "points": points, "lines": [" ".join(r) for r in runs], "x_ticks": x_ticks,
            "y_ticks": y_ticks}


def breakdown(rows: Sequence[dict], titles: Sequence[str]) -> dict:
    """Each row's shares (``values``, one per title; None where undefined) as segments of one
    bar 0–100%; a share of a multiple-choice layer may make the bar longer than the whole, so
    the segments are scaled to their sum when it passes 1."""
    inner = ROW_WIDTH - 2 * PAD
    laid = []
    for row in rows:
        values = [v or 0.0 for v in row["values"]]
        total = sum(values)
        scale = inner / max(total, 1.0)
        x, segments = float(PAD), []
        for index, (title, value) in enumerate(zip(titles, values)):
            if value > 0:
                width = value * scale
                segments.append({"x": round(x, 1), "width": round(width, 1), "cls": f"seg-{index % SEGMENTS}",
                                 "label": f"{title} {format_value(value, 'share')}"})
                x += width
        laid.append({**row, "segments": segments, "empty": total == 0})
    legend = [{"cls": f"seg-{index % SEGMENTS}", "label": title} for index, title in enumerate(titles)]
    return {"width": ROW_WIDTH, "height": 18, "rows": laid, "legend": legend}


def difference(row: dict) -> dict:
    """A difference (``value``, ``low``, ``high``, ``spread_low``, ``spread_high``) on a scale
    symmetric around zero, wide enough for all of them."""
    reach = nice_ceiling(max(_finite(abs(v) for v in (row.get("value"), row.get("low"), row.get("high"),
                                                       row.get("spread_low"), row.get("spread_high"))
                                     if v is not None), default=0))
    middle = ROW_WIDTH / 2
    half = middle - PAD

    def x(v: float | None) -> float | None:
        return None if v is None else round(middle + max(-reach, min(reach, v)) / reach * half, 1)

    return {**row, "width": ROW_WIDTH, "height": ROW_HEIGHT, "zero": middle, "reach": reach, "left": x(-reach),
            "right": x(reach), "point": x(row.get("value")),
            "low_x": x(row.get("low")) if row.get("high") is not None else None,
            "high_x": x(row.get("high")) if row.get("low") is not None else None,
            "spread_low_x": x(row.get("spread_low")) if row.get("spread_high") is not None else None,
            "spread_high_x": x(row.get("spread_high")) if row.get("spread_low") is not None else None}
