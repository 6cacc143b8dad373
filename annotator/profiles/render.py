"""What the page and the downloads show of a profile: each figure of a group as one dict, the
sections, the charts' rows; and the downloads themselves: JSON, CSV (one figure per row) and
one self-contained HTML file. Annotators are named by ``names`` (user id -> name: the
exports' pseudonyms unless user names are asked for)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence

from ..exporters.csv_spans import cell
from . import charts
from .catalogue import humane
from .records import GOLD


def figure_of(group: dict, index: int) -> dict:
    """Figure ``index`` of a group (or of the comparison), its interval and spread, as one dict.
    A group of one article has its interval's reason once, for every figure; no replicates, no
    interval."""
    interval = group["interval"] or {}
    has_arrays = "low" in interval
    spread = group["spread"]
    return {
        "value": group["value"][index],
        "undefined": group["undefined"][index],
        "numerator": group["numerator"][index] if "numerator" in group else None,
        "denominator": group["denominator"][index] if "denominator" in group else None,
        "low": interval["low"][index] if has_arrays else None,
        "high": interval["high"][index] if has_arrays else None,
        "replicates": interval["replicates"][index] if has_arrays else 0,
        "interval_undefined": interval["undefined"][index] if has_arrays else interval.get("undefined"),
        "spread_low": spread["low"][index],
        "spread_high": spread["high"][index],
        "spread_annotators": spread["annotators"][index],
        "spread_undefined": spread["undefined"][index],
    }


def describe(figure: dict, kind: str) -> str:
    """The figure in words (value, interval, the annotators' range), or why it is undefined."""
    if figure["value"] is None:
        return f"undefined — {figure['undefined']}"
    return charts.describe(figure["value"], figure["low"], figure["high"], figure["spread_low"], figure["spread_high"],
                           kind, annotators=figure["spread_annotators"], interval_undefined=figure["interval_undefined"],
                           spread_undefined=figure["spread_undefined"])


def sections(profile: dict) -> list[dict]:
    """The figures grouped as the pages show them: {"key", "title", "kind", "figures": [{"index", …}]}."""
    found: dict[str, dict] = {}
    for index, figure in enumerate(profile["figures"]):
        section = found.setdefault(figure["section"], {"key": figure["section"], "title": figure["section_title"],
                                                       "kinds": set(), "figures": []})
        section["kinds"].add(figure["kind"])
        section["figures"].append({"index": index, **figure})
    laid = []
    for section in found.values():
        uniform = len(section.pop("kinds")) == 1
        laid.append({**section, "kind": section["figures"][0]["kind"] if uniform else "mixed",
                     "basis": section["figures"][0]["basis"] if uniform else None})
    return laid


def figure_index(profile: dict, key: str | None) -> int:
    """The index of the figure ``key``; the first figure when None or unknown."""
    for index, figure in enumerate(profile["figures"]):
        if figure["key"] == key:
            return index
    return 0


def breakdown_sections(profile: dict) -> list[dict]:
    """The sections of shares (an attribute's values, a choice layer's): those a breakdown shows."""
    return [section for section in sections(profile) if section["kind"] == "share"]


def breakdown_section(profile: dict, key: str | None) -> dict | None:
    """The breakdown asked for; by default the first relation attribute named source_kind, else
    the first section of shares."""
    shown = breakdown_sections(profile)
    for section in shown:
        if section["key"] == key:
            return section
    for section in shown:
        if section["key"].endswith("/attribute/source_kind"):
            return section
    return shown[0] if shown else None


def _chart_row(group: dict, index: int, kind: str) -> dict:
    figure = figure_of(group, index)
    return {**figure, "key": group["key"], "label": group["label"], "documents": group["documents"],
            "text": describe(figure, kind)}


def bar_chart(profile: dict, groups: Sequence[dict], index: int) -> dict:
    """Figure ``index`` for every group (All articles first) as bars."""
    kind = profile["figures"][index]["kind"]
    return charts.bars([_chart_row(group, index, kind) for group in [profile["overall"], *groups]], kind)


def month_series(profile: dict, index: int) -> dict | None:
    """Figure ``index`` over the months (a profile by month)."""
    kind = profile["figures"][index]["kind"]
    return charts.series([_chart_row(group, index, kind) for group in profile["groups"]], kind)


def breakdown_chart(profile: dict, groups: Sequence[dict], section: dict) -> dict:
    """The section's shares of every group (All articles first) as segments of one bar."""
    titles = [figure["title"] for figure in section["figures"]]
    rows = []
    for group in [profile["overall"], *groups]:
        values = [group["value"][figure["index"]] for figure in section["figures"]]
        reason = next((group["undefined"][figure["index"]] for figure in section["figures"]
                       if group["undefined"][figure["index"]]), None)
        text = "; ".join(f"{title} {charts.format_value(value, 'share')}" for title, value in zip(titles, values)
                         if value is not None) or f"undefined — {reason}"
        rows.append({"key": group["key"], "label": group["label"], "values": values, "text": text})
    return charts.breakdown(rows, titles)


def compared_groups(profile: dict) -> tuple[dict, dict] | None:
    """The two groups the profile compares, from its groups (None: no comparison)."""
    comparison = profile.get("comparison")
    if not comparison:
        return None
    by_key = {group["key"]: group for group in profile["groups"]}
    return by_key[comparison["a"]], by_key[comparison["b"]]


def comparison_sections(profile: dict, compared: tuple[dict, dict] | None) -> list[dict]:
    """The comparison's differences by section, each with its chart row; ``compared``: the two
    groups compared (``compared_groups``)."""
    comparison = profile.get("comparison")
    if not comparison or not compared:
        return []
    a, b = compared
    laid = []
    for section in sections(profile):
        rows = []
        for figure in section["figures"]:
            index, kind = figure["index"], figure["kind"]
            difference = figure_of(comparison, index)
            excludes_zero = difference["low"] is not None and (difference["low"] > 0 or difference["high"] < 0)
            same_sign = difference["spread_low"] is not None and (difference["spread_low"] > 0 or difference["spread_high"] < 0)
            rows.append(charts.difference({
                **difference, "title": figure["title"], "kind": kind,
                "a": figure_of(a, index)["value"], "b": figure_of(b, index)["value"],
                "verdict": verdict(difference, excludes_zero, same_sign), "text": _difference_text(difference, kind),
            }))
        laid.append({**section, "rows": rows})
    return laid


def verdict(difference: dict, excludes_zero: bool, annotators_agree: bool) -> str:
    """What a difference between two groups amounts to, in a few words."""
    if difference["value"] is None:
        return "undefined"
    if difference["low"] is None:
        return "no interval"
    if not excludes_zero:
        return "interval includes 0"
    if difference["spread_low"] is None:
        return "interval excludes 0"
    if annotators_agree:
        return "clear: beyond the annotators' disagreement"
    return "interval excludes 0, annotators disagree on the sign"


def _difference_text(difference: dict, kind: str) -> str:
    if difference["value"] is None:
        return f"undefined — {difference['undefined']}"
    text = charts.format_difference(difference["value"], kind)
    if difference["low"] is not None:
        text += (f", 95% interval {charts.format_difference(difference['low'], kind)} to "
                 f"{charts.format_difference(difference['high'], kind)}")
    elif difference["interval_undefined"]:
        text += f", 95% interval undefined — {difference['interval_undefined']}"
    if difference["spread_low"] is not None:
        text += (f"; {difference['spread_annotators']} annotators' own differences "
                 f"{charts.format_difference(difference['spread_low'], kind)} to "
                 f"{charts.format_difference(difference['spread_high'], kind)}")
    elif difference["spread_undefined"]:
        text += f"; annotators' range undefined — {difference['spread_undefined']}"
    return text


def top_sources(profile: dict, groups: Sequence[dict]) -> list[dict]:
    """The tables of top quoted sources, one per relation with sources: for All articles and each
    of ``groups``, its most cited entities with their registry fields, the attributions and
    articles citing them, their share of the group's attributions (and its bar) and the
    annotators' range of that share, in words."""
    registry = {entity["id"]: entity for entity in profile.get("sources") or ()}
    titles = {figure["section"]: figure["section_title"] for figure in profile["figures"]}
    tables = []
    for relation in profile["overall"].get("top_sources") or {}:
        laid = []
        for group in [profile["overall"], *groups]:
            top = group["top_sources"][relation]
            spread = top["spread"]
            sources = []
            for i, entity in enumerate(top["entity"]):
                share = top["share"][i]
                if spread["low"][i] is not None:
                    range_text = (f"{charts.format_value(spread['low'][i], 'share')} – "
                                  f"{charts.format_value(spread['high'][i], 'share')} ({spread['annotators'][i]} annotators)")
                else:
                    range_text = f"undefined — {spread['undefined'][i]}"
                sources.append({**registry.get(entity, {"id": entity, "name": str(entity)}), "rank": i + 1,
                                "citations": top["citations"][i], "articles": top["articles"][i], "share": share,
                                "bar": charts.share_bar(share), "range": range_text})
            laid.append({"key": group["key"], "label": group["label"], "documents": group["documents"],
                         "attributions": top["attributions"], "cited": top["cited"], "sources": sources})
        tables.append({"relation": relation, "title": titles.get(relation, relation), "groups": laid})
    return tables


# -- the downloads --------------------------------------------------------------------------------


def named(profile: dict, names: Mapping[int, str]) -> dict:
    """The profile with its annotators called by ``names`` (user id -> name): the ``annotators``
    list as {"id", "name"}, and the groups of a profile by annotator labelled so."""
    relabel = profile["parameters"]["by"] == "annotator"
    groups = [{**group, "label": names.get(int(group["key"]), group["label"])}
              if relabel and group["key"] != GOLD else group for group in profile["groups"]]
    comparison = profile.get("comparison")
    if comparison and relabel:
        labels = {group["key"]: group["label"] for group in groups}
        comparison = {**comparison, "a_label": labels[comparison["a"]], "b_label": labels[comparison["b"]]}
    return {**profile, "annotators": [{"id": a["id"], "name": names[int(a["id"])]} for a in profile["annotators"]],
            "groups": groups, "comparison": comparison}


def profile_json(profile: dict, names: Mapping[int, str]) -> str:
    return json.dumps(named(profile, names), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


CSV_COLUMNS = ("scope", "group", "group_b", "label", "annotator", "figure", "section", "title", "kind", "value",
               "undefined", "numerator", "denominator", "documents", "low", "high", "interval_undefined",
               "spread_low", "spread_high", "spread_annotators", "spread_undefined",
               "rank", "entity_id", "entity_name", "entity_kind", "entity_anonymity", "entity_gender", "articles")
ENTITY_COLUMNS = len(CSV_COLUMNS) - CSV_COLUMNS.index("rank")  # the columns only a "top source" row fills


def _number(value) -> str:
    return "" if value is None else repr(value)


def _csv_rows(profile: dict, names: Mapping[int, str]) -> Iterator[list]:
    figures = profile["figures"]

    registry = {entity["id"]: entity for entity in profile.get("sources") or ()}
    no_entity = [""] * ENTITY_COLUMNS

    def rows(scope: str, group: dict, key: str, label: str) -> Iterator[list]:
        for index, definition in enumerate(figures):
            f = figure_of(group, index)
            yield [scope, cell(key), "", cell(label), "", definition["key"], definition["section"], definition["title"],
                   definition["kind"], _number(f["value"]), f["undefined"] or "", _number(f["numerator"]),
                   _number(f["denominator"]), group["documents"], _number(f["low"]), _number(f["high"]),
                   f["interval_undefined"] or "", _number(f["spread_low"]), _number(f["spread_high"]),
                   f["spread_annotators"], f["spread_undefined"] or "", *no_entity]
        for annotator in group.get("annotators") or ():
            for index, definition in enumerate(figures):
                value = annotator["value"][index]
                yield [f"{scope} annotator", cell(key), "", cell(label), cell(names[int(annotator["id"])]),
                       definition["key"], definition["section"], definition["title"], definition["kind"], _number(value),
                       "" if value is not None else group["undefined"][index] or definition["undefined"], "", "",
                       annotator["documents"], "", "", "", "", "", "", "", *no_entity]
        for relation, top in (group.get("top_sources") or {}).items():
            spread = top["spread"]
            for i, entity_id in enumerate(top["entity"]):
                entity = registry.get(entity_id, {})
                yield ["top source", cell(key), "", cell(label), "", f"{relation}/top_sources", relation,
                       "top quoted sources", "share", _number(top["share"][i]), "", _number(top["citations"][i]),
                       _number(top["attributions"]), group["documents"], "", "", "", _number(spread["low"][i]),
                       _number(spread["high"][i]), spread["annotators"][i], spread["undefined"][i] or "", i + 1,
                       entity_id, cell(entity.get("name") or ""), entity.get("kind") or "", entity.get("anonymity") or "",
                       entity.get("gender") or "", _number(top["articles"][i])]

    yield from rows("overall", profile["overall"], "", profile["overall"]["label"])
    for group in profile["groups"]:
        yield from rows("group", group, group["key"], group["label"])
    comparison = profile.get("comparison")
    if comparison:
        for index, definition in enumerate(figures):
            f = figure_of(comparison, index)
            yield ["difference", cell(comparison["a"]), cell(comparison["b"]),
                   cell(f"{comparison['a_label']} − {comparison['b_label']}"), "", definition["key"], definition["section"],
                   definition["title"], definition["kind"], _number(f["value"]), f["undefined"] or "", "", "", "",
                   _number(f["low"]), _number(f["high"]), f["interval_undefined"] or "", _number(f["spread_low"]),
                   _number(f["spread_high"]), f["spread_annotators"], f["spread_undefined"] or "", *no_entity]


def profile_csv(profile: dict, names: Mapping[int, str]) -> Iterator[str]:
    """The profile as CSV lines (header first): one row per group and figure, per annotator of
    a group and figure (scope "… annotator"), per top quoted source of a group (scope "top
    source"), and per figure of the comparison."""
    profile = named(profile, names)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in [list(CSV_COLUMNS), *_csv_rows(profile, names)]:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def template_helpers() -> dict:
    """What templates/profiles/ call, on the page and in the downloaded file alike."""
    return {"figure_of": figure_of, "describe": describe, "format_value": charts.format_value,
            "format_difference": charts.format_difference, "format_count": charts.format_count,
            "humane": humane}


def profile_html(profile: dict, names: Mapping[int, str], *, figure: str | None = None,
                 breakdown: str | None = None) -> str:
    """One self-contained HTML file: the page's charts and tables for every group, its style
    inline (annotator/static/profiles.css), no script, nothing from elsewhere."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from ..direction import bidi_controls_isolated
    from ..paths import STATIC_DIR, TEMPLATES_DIR

    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True, finalize=bidi_controls_isolated,
    )
    profile = named(profile, names)
    index = figure_index(profile, figure)
    section = breakdown_section(profile, breakdown)
    return environment.get_template("profiles/file.html").render(
        profile=profile, names=names, sections=sections(profile), chosen=profile["figures"][index] if profile["figures"] else None,
        bars=bar_chart(profile, profile["groups"], index) if profile["figures"] else None,
        series=month_series(profile, index) if profile["parameters"]["by"] == "month" and profile["figures"] else None,
        breakdown=section and breakdown_chart(profile, profile["groups"], section), breakdown_section=section,
        comparison=comparison_sections(profile, compared_groups(profile)),
        top_sources=top_sources(profile, profile["groups"]), style=(STATIC_DIR / "profiles.css").read_text(encoding="utf-8"),
        **template_helpers(),
    )
