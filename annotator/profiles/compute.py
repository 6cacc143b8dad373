"""A profile: records in (annotator.profiles.records), figures out, as a JSON-ready dict
(docs/profiles.md).

**Readings and weights.** A document's figures come from its gold standard when it is
adjudicated (a GOLD reading, weight 1), else from every annotator who finished it, each with
weight 1/k (k annotators finished it): every article counts once, as the mean of its
readings. An article with no reading is left out. A group's figure is ``per`` × Σ weighted
numerators / Σ weighted denominators over its articles.

**Spread.** Beside each figure of a group, the same figure computed from each annotator's own
readings alone (weight 1, on the group's articles they finished, adjudicated or not), and its
range over the annotators for whom it is defined: when two outlets differ by less than the
annotators differ from each other, the spread shows it.

**Intervals.** 95% percentile bootstrap over the group's articles (the weights of
annotator.agreement.bootstrap, percentiles as its ``summarise`` takes them): a replicate
redraws the group's articles with replacement and recomputes every figure from the redrawn
sums. A group's seed is the profile's seed plus the CRC-32 of its key, so a group's interval
does not change when another group appears. A figure needs two articles with a non-zero
denominator for an interval. A difference between two groups redraws each group's articles on
its own and takes the percentiles of the replicates' differences.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..agreement.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, MIN_DOCUMENTS, document_weights
from ..agreement.results import FEWER_THAN_TWO_ANNOTATORS, NO_DEFINED_RESAMPLE, TOO_FEW_DOCUMENTS
from ..codebook import Codebook
from .catalogue import ARTICLES, WORDS, FigureDefinition, columns, cue_word, figure_catalogue, top_cue_words
from .records import GOLD, GROUPINGS, PERSON, Entity, ProfileData, Reader

FORMAT = 1
ONE_READER = "each group is one reader's"  # no spread across annotators within a group
UNDEFINED_IN_A_GROUP = "undefined in a group"
TOP_SOURCES = 10  # the entities a group's table of top quoted sources lists
NO_DATE, NO_OUTLET = "(no date)", "(no outlet)"


class UnknownGroup(LookupError):
    """A group asked for (to compare) that the profile does not have."""


# -- records -> per-reading counts ------------------------------------------------------------------


def reading_counts(data: ProfileData, codebook: Codebook, column: Mapping[str, int], cue_words: Sequence[str],
                   reading_index: Mapping[tuple[int, Reader], int]) -> np.ndarray:
    """(readings, columns): what each reading counts. Rows of readings not in ``reading_index``
    (unfinished work) and values the codebook does not have are left out.

    Each kind of row is reduced to (reading, combination, count), a combination being what
    the row counts towards (a relation and its attribute values, say: a few hundred at most),
    and the counts reach the columns through one product with the combinations' columns."""
    width = len(column)
    counts = np.zeros((len(reading_index), width))

    def accumulate(rows: list[int], combinations: list[int], amounts: list[float], targets: list[list[int]]) -> None:
        if not rows:
            return
        per_combination = np.zeros((len(reading_index), len(targets)))
        np.add.at(per_combination, (np.array(rows), np.array(combinations)), np.array(amounts, dtype=np.float64))
        columns_of = np.zeros((len(targets), width))
        for index, names in enumerate(targets):
            columns_of[index, names] = 1.0
        counts[...] += per_combination @ columns_of  # in place: ``counts`` is the enclosing function's

    def reduce(items, key_of, columns_of) -> None:
        """``key_of(row)``: the row's combination, or None to leave it out; ``columns_of(row)``:
        its columns, asked once per combination."""
        found: dict = {}
        targets: list[list[int]] = []
        rows, combinations, amounts = [], [], []
        for row in items:
            reading = reading_index.get((row.document, row.reader))
            if reading is None or (key := key_of(row)) is None:
                continue
            if (combination := found.get(key)) is None:
                combination = found[key] = len(targets)
                targets.append(columns_of(row))
            rows.append(reading)
            combinations.append(combination)
            amounts.append(row.count)
        accumulate(rows, combinations, amounts, targets)

    relations = {relation.name: relation for relation in codebook.relations}

    def attribution_columns(row) -> list[int]:
        names = [column[f"{row.relation}/units"]]
        for attribute in relations[row.relation].attributes:
            value = row.attributes.get(attribute.name)
            if value in attribute.value_names:
                section = f"{row.relation}/attribute/{attribute.name}"
                names += [column[section], column[f"{section}/{value}"]]
        return names

    reduce(data.attributions,
           lambda row: (row.relation, tuple(row.attributes.items())) if f"{row.relation}/units" in column else None,
           attribution_columns)

    words = set(cue_words)

    def cue_key(row):
        if f"{row.relation}/cues" not in column:
            return None
        word = cue_word(row.text)
        return (row.relation, word if word in words else None)

    def cue_columns(row) -> list[int]:
        _, word = cue_key(row)
        named = f"{row.relation}/cue/{word}" if word is not None else f"{row.relation}/cue_other"
        return [column[f"{row.relation}/cues"], column[named]]

    reduce(data.cues, cue_key, cue_columns)

    def span_columns(row) -> list[int]:
        wanted = [f"{row.layer}/spans", f"{row.layer}/label/{row.label}",
                  *(f"{row.layer}/attribute/{name}/{value}" for name, value in row.attributes.items() if isinstance(value, str))]
        return [column[name] for name in wanted if name in column]

    reduce(data.spans,
           lambda row: (row.layer, row.label, tuple(row.attributes.items())) if f"{row.layer}/spans" in column else None,
           span_columns)

    def label_columns(row) -> list[int]:
        values = row.value if isinstance(row.value, list) else [row.value]
        names = [column[f"{row.layer}/value/{value}"] for value in dict.fromkeys(values)
                 if isinstance(value, str) and f"{row.layer}/value/{value}" in column]
        return [column[f"{row.layer}/sentences"], *names] if names else []

    def label_key(row):
        if f"{row.layer}/sentences" not in column:
            return None
        return (row.layer, tuple(row.value) if isinstance(row.value, list) else row.value)

    reduce(data.labels, label_key, label_columns)

    # Sources: distinct per reading, one per entity where linked, else each span its own; linked
    # person sources by the gender recorded (docs/profiles.md, "Sources and entities").
    targets, rows, amounts = [], [], []

    def add(reading: int, name: str, amount: float) -> None:
        targets.append(column[name])
        rows.append(reading)
        amounts.append(amount)

    linked: dict[tuple[int, str], set[int]] = {}
    for row in data.sources:
        reading = reading_index.get((row.document, row.reader))
        if reading is None or f"{row.relation}/sources" not in column:
            continue
        add(reading, f"{row.relation}/mentions", row.spans)
        if row.entity is None:
            add(reading, f"{row.relation}/sources", row.spans)
        else:
            add(reading, f"{row.relation}/linked_mentions", row.spans)
            linked.setdefault((reading, row.relation), set()).add(row.entity)
    for (reading, relation), entities in linked.items():
        add(reading, f"{relation}/sources", len(entities))
        if f"{relation}/persons" not in column:
            continue
        for entity in entities:
            record = data.entities.get(entity)
            if record is None or record.kind != PERSON:
                continue
            add(reading, f"{relation}/persons", 1)
            if f"{relation}/source_gender/{record.gender}" in column:  # a gender recorded, one of data.genders
                add(reading, f"{relation}/gendered", 1)
                add(reading, f"{relation}/source_gender/{record.gender}", 1)
    if rows:
        np.add.at(counts, (np.array(rows), np.array(targets)), np.array(amounts, dtype=np.float64))
    return counts


# -- figures from sums --------------------------------------------------------------------------------


class _Figures:
    """The catalogue as index arrays: figure values from summed columns, ``(..., columns)`` to
    ``(..., figures)``, NaN where a denominator is 0."""

    def __init__(self, figures: Sequence[FigureDefinition], column: Mapping[str, int]):
        self.numerator = np.array([column[f.numerator] for f in figures], dtype=np.int64)
        self.denominator = np.array([column[f.denominator] for f in figures], dtype=np.int64)
        self.per = np.array([f.per for f in figures], dtype=np.float64)
        self.reasons = [f.undefined for f in figures]

    def values(self, sums: np.ndarray) -> np.ndarray:
        numerator, denominator = sums[..., self.numerator], sums[..., self.denominator]
        return np.divide(numerator * self.per, denominator, out=np.full(numerator.shape, np.nan), where=denominator > 0)


def _numbers(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else v for v in values.tolist()]


def percentiles(values: np.ndarray, enough: np.ndarray) -> dict:
    """The 95% percentile interval of each column of ``values`` (replicates, figures), over
    its defined (finite) replicates: annotator.agreement.bootstrap.summarise for every figure
    at once (one summarise call per figure and group cost most of a profile's time). Columns
    not ``enough`` (too few contributing articles) have none."""
    finite = np.isfinite(values)
    defined = finite.sum(axis=0)
    usable = enough & (defined > 0)
    low = np.full(values.shape[1], np.nan)
    high = np.full(values.shape[1], np.nan)
    if usable.any():
        low[usable], high[usable] = np.nanquantile(values[:, usable], [0.025, 0.975], axis=0)
    return {
        "low": _numbers(low),
        "high": _numbers(high),
        "replicates": np.where(enough, defined, 0).tolist(),
        "undefined": [None if u else (NO_DEFINED_RESAMPLE if e else TOO_FEW_DOCUMENTS)
                      for u, e in zip(usable.tolist(), enough.tolist())],
    }


def group_seed(seed: int, key: str) -> int:
    """The seed of a group's resamples: the profile's seed plus the CRC-32 of the group's key."""
    return (seed + zlib.crc32(key.encode("utf-8"))) % 2**32


def spread(values: np.ndarray | None, n: int) -> dict:
    """The range of the annotators' own values (``values``, (annotators, n)) of n figures where at
    least two are defined; None: the groups are readers, with no spread of their own."""
    if values is None:
        return {"low": [None] * n, "high": [None] * n, "annotators": [0] * n, "undefined": [ONE_READER] * n}
    finite = np.isfinite(values)
    defined = finite.sum(axis=0)
    enough = (defined >= 2).tolist()
    low = np.min(np.where(finite, values, np.inf), axis=0, initial=np.inf).tolist()
    high = np.max(np.where(finite, values, -np.inf), axis=0, initial=-np.inf).tolist()
    return {"low": [v if e else None for v, e in zip(low, enough)],
            "high": [v if e else None for v, e in zip(high, enough)],
            "annotators": defined.tolist(),
            "undefined": [None if e else FEWER_THAN_TWO_ANNOTATORS for e in enough]}


class _Group:
    """One group: its articles' weighted counts (rows), and each annotator's own sums."""

    def __init__(self, key: str | None, label: str, rows: np.ndarray, *, readings: int, adjudicated: int,
                 annotator_sums: np.ndarray | None, annotator_documents: np.ndarray | None):
        self.key, self.label, self.rows = key, label, rows
        self.readings, self.adjudicated = readings, adjudicated
        self.annotator_sums, self.annotator_documents = annotator_sums, annotator_documents


class _Profile:
    """A group's figures as JSON: values, intervals, the annotators' spread; and differences."""

    def __init__(self, figures: list[FigureDefinition], column: Mapping[str, int], replicates: int,
                 annotators: list[Reader]):
        self.figures, self.measure = figures, _Figures(figures, column)
        self.replicates, self.annotators = replicates, annotators

    def replicated(self, group: _Group, seed: int) -> np.ndarray | None:
        """(replicates, figures) of resamples of the group's articles; None without two articles."""
        n = group.rows.shape[0]
        if self.replicates <= 0 or n < MIN_DOCUMENTS:
            return None
        return self.measure.values(document_weights(n, self.replicates, seed) @ group.rows)

    def contributing(self, group: _Group) -> np.ndarray:
        """Per figure, the group's articles with a non-zero denominator."""
        return (group.rows[:, self.measure.denominator] > 0).sum(axis=0)

    def interval(self, group: _Group, seed: int) -> dict | None:
        if self.replicates <= 0:
            return None
        values = self.replicated(group, seed)
        if values is None:
            return {"seed": seed, "undefined": TOO_FEW_DOCUMENTS}
        return {"seed": seed, **percentiles(values, self.contributing(group) >= MIN_DOCUMENTS)}

    def annotator_values(self, group: _Group) -> np.ndarray | None:
        """(annotators, figures): each annotator's figure on the group's articles (NaN: none)."""
        if group.annotator_sums is None:
            return None
        return self.measure.values(group.annotator_sums)

    def spread(self, values: np.ndarray | None) -> dict:
        return spread(values, len(self.figures))

    def group_json(self, group: _Group, seed: int) -> dict:
        sums = group.rows.sum(axis=0)
        values = self.measure.values(sums)
        per_annotator = self.annotator_values(group)
        annotators = []
        if per_annotator is not None:
            annotators = [{"id": reader, "documents": int(documents), "value": _numbers(per_annotator[a])}
                          for a, (reader, documents) in enumerate(zip(self.annotators, group.annotator_documents))
                          if documents]
        return {
            "key": group.key,
            "label": group.label,
            "documents": int(group.rows.shape[0]),
            "adjudicated": group.adjudicated,
            "readings": group.readings,
            "value": _numbers(values),
            "undefined": [None if np.isfinite(v) else reason for v, reason in zip(values, self.measure.reasons)],
            "numerator": _numbers(sums[self.measure.numerator]),
            "denominator": _numbers(sums[self.measure.denominator]),
            "interval": self.interval(group, seed),
            "spread": self.spread(per_annotator),
            "annotators": annotators,
        }

    def comparison(self, a: _Group, b: _Group, seed_a: int, seed_b: int) -> dict:
        value_a, value_b = self.measure.values(a.rows.sum(axis=0)), self.measure.values(b.rows.sum(axis=0))
        difference = value_a - value_b
        interval = None
        if self.replicates > 0:
            replicates_a, replicates_b = self.replicated(a, seed_a), self.replicated(b, seed_b)
            if replicates_a is None or replicates_b is None:
                interval = {"seeds": [seed_a, seed_b], "undefined": TOO_FEW_DOCUMENTS}
            else:
                enough = (self.contributing(a) >= MIN_DOCUMENTS) & (self.contributing(b) >= MIN_DOCUMENTS)
                interval = {"seeds": [seed_a, seed_b], **percentiles(replicates_a - replicates_b, enough)}
                interval["undefined"] = [UNDEFINED_IN_A_GROUP if not np.isfinite(d) else reason
                                         for d, reason in zip(difference, interval["undefined"])]
        own_a, own_b = self.annotator_values(a), self.annotator_values(b)
        per_annotator = None if own_a is None or own_b is None else own_a - own_b
        annotators = []
        if per_annotator is not None:
            annotators = [{"id": reader, "value": _numbers(per_annotator[i])} for i, reader in enumerate(self.annotators)
                          if a.annotator_documents[i] and b.annotator_documents[i]]
        return {
            "a": a.key, "b": b.key, "a_label": a.label, "b_label": b.label,
            "value": _numbers(difference),
            "undefined": [None if np.isfinite(d) else UNDEFINED_IN_A_GROUP for d in difference],
            "interval": interval,
            "spread": self.spread(per_annotator),
            "annotators": annotators,
        }


# -- top quoted sources ------------------------------------------------------------------------------


class _Citations(NamedTuple):
    """A relation's linked sources: one row per reading and entity, with the reading's
    attributions citing the entity; entities by position in ``ids`` (ordered by name)."""

    reading: np.ndarray
    entity: np.ndarray
    count: np.ndarray
    ids: list[int]


def _citations(data: ProfileData, relation: str, reading_index: Mapping[tuple[int, Reader], int]) -> _Citations:
    found: dict[tuple[int, int], int] = {}
    for row in data.sources:
        if row.entity is None or row.relation != relation:
            continue
        reading = reading_index.get((row.document, row.reader))
        if reading is not None:
            found[(reading, row.entity)] = found.get((reading, row.entity), 0) + row.attributions
    ids = sorted({entity for _, entity in found}, key=lambda e: (_entity(data, e).name.casefold(), e))
    position = {entity: i for i, entity in enumerate(ids)}
    return _Citations(np.array([r for r, _ in found], dtype=np.int64),
                      np.array([position[e] for _, e in found], dtype=np.int64),
                      np.array(list(found.values()), dtype=np.float64), ids)


def _entity(data: ProfileData, entity: int) -> Entity:
    """The entity's record; an entity the data does not describe is named by its id."""
    return data.entities.get(entity) or Entity(entity, str(entity))


def _ranked(cited: _Citations, group: np.ndarray, weight: np.ndarray, totals: np.ndarray,
            annotator: np.ndarray | None, annotator_totals: np.ndarray | None, limit: int = TOP_SOURCES) -> list[dict]:
    """Each group's most cited entities (docs/profiles.md, "Top quoted sources"), as JSON.

    ``group``: the group each reading counts in (-1: none); ``weight``: its headline weight;
    ``totals``: each group's attributions (weighted), the shares' denominator. ``annotator``:
    the annotator whose own readings each reading is (-1: gold), ``annotator_totals``:
    (annotators, groups) their own attributions; None when each group is one reader's."""
    n_groups, n_entities = len(totals), max(len(cited.ids), 1)
    reading = cited.reading
    headline = (group[reading] >= 0) & (weight[reading] > 0)
    keys, inverse = np.unique(group[reading[headline]] * n_entities + cited.entity[headline], return_inverse=True)
    citations = np.bincount(inverse, weights=(weight[reading] * cited.count)[headline], minlength=len(keys))
    articles = np.bincount(inverse, weights=weight[reading[headline]], minlength=len(keys))
    in_group, entity = keys // n_entities, keys % n_entities
    # By group; the most cited first, then the most articles, then by name (entities are numbered by name).
    order = np.lexsort((entity, -articles, -citations, in_group))
    in_group, entity, citations, articles = in_group[order], entity[order], citations[order], articles[order]
    starts = np.searchsorted(in_group, np.arange(n_groups))
    ends = np.searchsorted(in_group, np.arange(n_groups), side="right")
    top = np.arange(len(in_group)) - starts[in_group] < limit
    shares = np.divide(citations, totals[in_group], out=np.full(len(in_group), np.nan), where=totals[in_group] > 0)

    own_shares = None
    if annotator is not None:
        # Each annotator's own share of each top entity: their citations of it over their
        # attributions in the group (weight 1 each), NaN where they have none there.
        mine = (annotator[reading] >= 0) & (group[reading] >= 0)
        own_keys = (annotator[reading[mine]] * n_groups + group[reading[mine]]) * n_entities + cited.entity[mine]
        own_keys, own_inverse = np.unique(own_keys, return_inverse=True)
        own_citations = np.bincount(own_inverse, weights=cited.count[mine], minlength=len(own_keys))
        own_shares = np.full((annotator_totals.shape[0], len(in_group)), np.nan)
        for k in range(annotator_totals.shape[0]):
            wanted = ((k * n_groups + in_group) * n_entities + entity)[top]
            at = np.minimum(np.searchsorted(own_keys, wanted), max(len(own_keys) - 1, 0))
            found = np.where(own_keys[at] == wanted, own_citations[at], 0.0) if len(own_keys) else np.zeros(len(wanted))
            denominator = annotator_totals[k, in_group[top]]
            own_shares[k, top] = np.divide(found, denominator, out=np.full(len(wanted), np.nan), where=denominator > 0)

    laid = []
    for g in range(n_groups):
        rows = slice(starts[g], min(ends[g], starts[g] + limit))
        laid.append({
            "attributions": float(totals[g]),
            "cited": int(ends[g] - starts[g]),
            "entity": [cited.ids[e] for e in entity[rows].tolist()],
            "citations": citations[rows].tolist(),
            "articles": articles[rows].tolist(),
            "share": _numbers(shares[rows]),
            "spread": spread(None if own_shares is None else own_shares[:, rows], rows.stop - rows.start),
        })
    return laid


def _top_sources(data: ProfileData, codebook: Codebook, column: Mapping[str, int], counts: np.ndarray,
                 reading_index: Mapping[tuple[int, Reader], int], result: dict, own_annotator: np.ndarray,
                 overall: tuple, grouped: tuple) -> list[dict]:
    """Set the ``top_sources`` of All articles and of every group in ``result``, per relation with
    sources; the entities they list, by name. ``overall``, ``grouped``: the group each reading
    counts in, the weight it counts with, and the annotators' own sums (annotators, groups,
    columns) or None when each group is one reader's."""
    listed: set[int] = set()
    for group in [result["overall"], *result["groups"]]:
        group["top_sources"] = {}
    for relation in codebook.relations:
        if f"{relation.name}/sources" not in column:
            continue
        cited = _citations(data, relation.name, reading_index)
        units = column[f"{relation.name}/units"]
        for groups, (group_of_reading, group_weight, own_sums) in (([result["overall"]], overall), (result["groups"], grouped)):
            totals = np.bincount(group_of_reading, weights=group_weight * counts[:, units], minlength=len(groups))
            ranked = _ranked(cited, group_of_reading, group_weight, totals, None if own_sums is None else own_annotator,
                             None if own_sums is None else own_sums[:, :, units])
            for group, top in zip(groups, ranked):
                group["top_sources"][relation.name] = top
                listed.update(top["entity"])
    return [_entity(data, entity)._asdict() for entity in sorted(listed, key=lambda e: (_entity(data, e).name.casefold(), e))]


# -- groups -----------------------------------------------------------------------------------------


def _document_group(by: str, article) -> tuple[str, str]:
    """(key, label) of an article's group."""
    if by == "outlet":
        return (article.outlet or "", article.outlet or NO_OUTLET)
    if by == "month":
        month = f"{article.published:%Y-%m}" if article.published else ""
        return (month, month or NO_DATE)
    return (str(article.id), article.title)


def _order(by: str, key: str, label: str) -> tuple:
    """Outlets by name, months in order (no outlet, no date last), articles by id."""
    if by == "document":
        return (int(key),)
    return (key == "", label.casefold() if by == "outlet" else key, key)


def find_group(groups: Sequence[dict], wanted: str) -> dict:
    """The group whose key is ``wanted``, else the one labelled so."""
    for group in groups:
        if group["key"] == wanted:
            return group
    labelled = [group for group in groups if group["label"] == wanted]
    if len(labelled) == 1:
        return labelled[0]
    raise UnknownGroup(f"no group {wanted!r} in this profile")


def profile(data: ProfileData, codebook: Codebook, *, by: str = "outlet", replicates: int = DEFAULT_REPLICATES,
            seed: int = DEFAULT_SEED, compare: tuple[str, str] | None = None) -> dict[str, Any]:
    """The profile's figures grouped ``by`` one of GROUPINGS, with intervals and spreads, and the
    difference between the groups ``compare`` (keys or labels) when given (docs/profiles.md,
    "The JSON")."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    articles = list(data.articles)
    doc_index = {article.id: i for i, article in enumerate(articles)}
    readings = list(dict.fromkeys((d, r) for d, r in data.readings if d in doc_index))
    reading_index = {reading: i for i, reading in enumerate(readings)}
    reading_doc = np.array([doc_index[d] for d, _ in readings], dtype=np.int64)
    gold = {d for d, r in readings if r == GOLD}
    finished = Counter(d for d, r in readings if r != GOLD)
    weight = np.array([1.0 if r == GOLD else (0.0 if d in gold else 1.0 / finished[d]) for d, r in readings])
    annotators = sorted({r for _, r in readings if r != GOLD}, key=lambda r: (str(data.names.get(r, r)).casefold(), str(r)))
    annotator_index = {reader: i for i, reader in enumerate(annotators)}

    cue_words = top_cue_words(row for row in data.cues if (row.document, row.reader) in reading_index)
    figures = figure_catalogue(codebook, cue_words, data.genders)
    column = columns(figures)
    counts = reading_counts(data, codebook, column, cue_words, reading_index)
    words = np.array([article.words for article in articles], dtype=np.float64)
    counts[:, column[WORDS]] = words[reading_doc] if readings else 0
    counts[:, column[ARTICLES]] = 1.0
    work = _Profile(figures, column, replicates, annotators)

    # Each article's headline counts: its readings weighted.
    headline = np.zeros((len(articles), len(column)))
    np.add.at(headline, reading_doc, counts * weight[:, None])
    counted = np.zeros(len(articles), dtype=bool)
    counted[reading_doc] = True
    readings_per_doc = np.bincount(reading_doc[weight > 0], minlength=len(articles))
    own = np.array([r != GOLD for _, r in readings], dtype=bool)
    own_annotator = np.array([annotator_index.get(r, -1) for _, r in readings], dtype=np.int64)

    def annotator_sums(group_of_reading: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        """(annotators, groups, columns) each annotator's own counts, and their articles."""
        sums = np.zeros((len(annotators), n_groups, len(column)))
        documents = np.zeros((len(annotators), n_groups), dtype=np.int64)
        mine = own & (group_of_reading >= 0)
        np.add.at(sums, (own_annotator[mine], group_of_reading[mine]), counts[mine])
        np.add.at(documents, (own_annotator[mine], group_of_reading[mine]), 1)
        return sums, documents

    everyone_sums, everyone_documents = annotator_sums(np.zeros(len(readings), dtype=np.int64), 1)
    everything = np.flatnonzero(counted)
    overall = _Group(None, "All articles", headline[everything], readings=int(readings_per_doc.sum()),
                     adjudicated=len(gold), annotator_sums=everyone_sums[:, 0], annotator_documents=everyone_documents[:, 0])

    groups: list[_Group] = []
    if by == "annotator":
        readers = [*annotators, *([GOLD] if gold else [])]
        on_gold = np.array([d in gold for d, _ in readings], dtype=bool)
        reader_index = {reader: i for i, reader in enumerate(readers)}
        group_of_reading = np.array([reader_index[r] for _, r in readings], dtype=np.int64)
        group_weight, own_sums = np.ones(len(readings)), None  # each reading counts once in its reader's group
        for reader in readers:
            mine = np.array([r == reader for _, r in readings], dtype=bool)
            label = GOLD if reader == GOLD else data.names.get(reader, str(reader))
            groups.append(_Group(str(reader), label, counts[mine], readings=int(mine.sum()),
                                 adjudicated=int((mine & on_gold).sum()), annotator_sums=None, annotator_documents=None))
    else:
        keyed = {}
        for i in everything:
            keyed.setdefault(_document_group(by, articles[i]), []).append(i)
        ordered = sorted(keyed, key=lambda kl: _order(by, *kl))
        group_of_doc = np.full(len(articles), -1, dtype=np.int64)
        for g, key_label in enumerate(ordered):
            group_of_doc[keyed[key_label]] = g
        group_of_reading, group_weight = group_of_doc[reading_doc], weight
        sums, documents = annotator_sums(group_of_reading, len(ordered))
        own_sums = sums
        gold_docs = np.zeros(len(articles), dtype=bool)
        gold_docs[[doc_index[d] for d in gold]] = True
        for g, (key, label) in enumerate(ordered):
            members = np.array(keyed[(key, label)], dtype=np.int64)
            groups.append(_Group(key, label, headline[members], readings=int(readings_per_doc[members].sum()),
                                 adjudicated=int(gold_docs[members].sum()), annotator_sums=sums[:, g],
                                 annotator_documents=documents[:, g]))

    result = {
        "format": FORMAT,
        "parameters": {"by": by, "replicates": int(replicates), "seed": int(seed),
                       "compare": list(compare) if compare else None},
        "counts": {"documents": int(counted.sum()), "left_out": int(len(articles) - counted.sum()),
                   "adjudicated": len(gold), "readings": int(readings_per_doc.sum()), "annotators": len(annotators)},
        "annotators": [{"id": reader, "username": data.names.get(reader, str(reader))} for reader in annotators],
        "figures": [figure._asdict() for figure in figures],
        "overall": work.group_json(overall, seed),
        "groups": [work.group_json(group, group_seed(seed, group.key)) for group in groups],
        "comparison": None,
    }
    result["sources"] = _top_sources(data, codebook, column, counts, reading_index, result, own_annotator,
                                     (np.zeros(len(readings), dtype=np.int64), weight, everyone_sums),
                                     (group_of_reading, group_weight, own_sums))
    if compare:
        a, b = (find_group(result["groups"], wanted) for wanted in compare)
        by_key = {group.key: group for group in groups}
        result["comparison"] = work.comparison(by_key[a["key"]], by_key[b["key"]], group_seed(seed, a["key"]),
                                               group_seed(seed, b["key"]))
    return result
