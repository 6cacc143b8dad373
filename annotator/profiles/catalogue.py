"""The figures of a profile, read off the codebook: what each counts, over what, and why it can
be undefined (docs/profiles.md, "Every figure").

Every figure is a ratio of two sums over the articles of a group, ``per`` × numerator /
denominator, so that a group's figure, its bootstrap over articles and each annotator's
figure all come from summed per-reading counts. The counts are the *columns* named here.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ..codebook import Attribute, Codebook
from .records import SOURCE_ROLE, CueRow

WORDS, ARTICLES = "words", "articles"  # the columns every catalogue has
PER_WORDS = 1000
MAX_CUE_WORDS = 25  # cue words with a figure of their own; the others are counted together


class FigureDefinition(NamedTuple):
    key: str  # "attribution/attribute/identification/anonymous"
    section: str  # the key of the figures shown together: "attribution/attribute/identification"
    section_title: str  # "Attribution: identification"
    title: str  # "anonymous"
    kind: str  # "per_1000_words", "per_article", "per_source" or "share"
    numerator: str  # a column
    denominator: str  # a column
    per: int  # 1000 for a rate per 1,000 words, else 1
    basis: str  # what it is counted over, in words: "share of the attributions with a source kind"
    undefined: str  # why the figure has no value when its denominator is 0


def humane(name: str) -> str:
    """A codebook name as the pages show it: underscores as spaces."""
    return name.replace("_", " ")


def _a(phrase: str) -> str:
    """The phrase with its indefinite article: "a source kind", "an identification"."""
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"


@functools.lru_cache(maxsize=4096)  # a project has few distinct cue texts, met thousands of times
def cue_word(text: str) -> str:
    """How a cue's words are counted: lower-cased, runs of white space as one space, leading and
    trailing punctuation and spaces removed ("Said," and "said" are one word; "according to"
    stays two). A cue of punctuation alone (a colon) keeps it."""
    words = " ".join(text.lower().split())
    start, end = 0, len(words)
    while start < end and (words[start] == " " or unicodedata.category(words[start]).startswith("P")):
        start += 1
    while end > start and (words[end - 1] == " " or unicodedata.category(words[end - 1]).startswith("P")):
        end -= 1
    return words[start:end] or words


def top_cue_words(cues: Iterable[CueRow]) -> list[str]:
    """The MAX_CUE_WORDS commonest cue words over every reading's cues (ties by the word),
    most common first: each gets a figure, the rest share "other words"."""
    counts: Counter[str] = Counter()
    for row in cues:
        counts[cue_word(row.text)] += row.count
    return [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_CUE_WORDS]]


def _rates(section: str, section_title: str, items: Iterable[tuple[str, str, str]]) -> list[FigureDefinition]:
    return [FigureDefinition(key, section, section_title, title, "per_1000_words", column, WORDS, PER_WORDS,
                             "per 1,000 words", "no words") for key, title, column in items]


def _shares(section: str, section_title: str, denominator: str, basis: str, undefined: str,
            items: Iterable[tuple[str, str]]) -> list[FigureDefinition]:
    return [FigureDefinition(key, section, section_title, title, "share", key, denominator, 1, basis, undefined)
            for key, title in items]


def _span_attributes(layer) -> list[Attribute]:
    """The layer's attributes, then its labels' own, each name once."""
    found: dict[str, Attribute] = {}
    for attribute in [*layer.attributes, *(a for label in layer.labels for a in label.attributes)]:
        found.setdefault(attribute.name, attribute)
    return list(found.values())


def _source_figures(name: str, title: str, genders: Sequence[str]) -> list[FigureDefinition]:
    """A relation's sources: distinct sources per article, mentions per source, the mentions
    linked to an entity, the linked person sources with a gender recorded, and those by gender
    (docs/profiles.md, "Sources and entities")."""
    figures = [
        FigureDefinition(f"{name}/sources_per_article", name, title, "distinct sources per article", "per_article",
                         f"{name}/sources", ARTICLES, 1, "per article", "no articles"),
        FigureDefinition(f"{name}/mentions_per_source", name, title, "mentions per source", "per_source",
                         f"{name}/mentions", f"{name}/sources", 1, "per distinct source", "no sources"),
        FigureDefinition(f"{name}/linked_mentions", name, title, "mentions linked to an entity", "share",
                         f"{name}/linked_mentions", f"{name}/mentions", 1, "share of the source mentions",
                         "no source mentions"),
    ]
    if genders:
        figures.append(FigureDefinition(f"{name}/gender_recorded", name, title, "person sources with a gender recorded",
                                        "share", f"{name}/gendered", f"{name}/persons", 1,
                                        "share of the linked person sources", "no linked person source"))
        section = f"{name}/source_gender"
        figures += _shares(section, f"{title}: gender of linked person sources", f"{name}/gendered",
                           "share of the linked person sources with a gender recorded",
                           "no linked person source with a gender recorded",
                           [(f"{section}/{gender}", humane(gender)) for gender in genders])
    return figures


def figure_catalogue(codebook: Codebook, cue_words: Sequence[str], genders: Sequence[str] = ()) -> list[FigureDefinition]:
    """Every figure, in the order the pages list them: per relation, its rate, its sources
    (distinct per article, mentions per source, linked, by gender when ``genders`` are given),
    each attribute's shares and the cue words' shares; per span layer no relation uses, its
    rate, per label and per attribute value; per choice layer, each value's share."""
    figures: list[FigureDefinition] = []
    related = {relation.layer for relation in codebook.relations}
    for relation in codebook.relations:
        name, title = relation.name, relation.title
        figures += _rates(name, title, [(f"{name}/per_1000_words", "per 1,000 words", f"{name}/units")])
        if any(role.name == SOURCE_ROLE for role in relation.roles):
            figures += _source_figures(name, title, genders)
        for attribute in relation.attributes:
            section = f"{name}/attribute/{attribute.name}"
            figures += _shares(section, f"{title}: {humane(attribute.name)}", section,
                               f"share of the {title.lower()}s with {_a(humane(attribute.name))}",
                               f"no {title.lower()} with {_a(humane(attribute.name))}",
                               [(f"{section}/{value}", humane(value)) for value in attribute.value_names])
        anchor = humane(relation.anchor)
        section = f"{name}/cue"
        figures += _shares(section, f"{title}: {anchor} words", f"{name}/cues", f"share of the {anchor}s", f"no {anchor}",
                           [*((f"{section}/{word}", word) for word in cue_words), (f"{name}/cue_other", "other words")])
    for layer in codebook.span_layers:
        if layer.name in related:
            continue
        name, title = layer.name, layer.title
        figures += _rates(name, title, [(f"{name}/per_1000_words", "per 1,000 words", f"{name}/spans")])
        figures += _rates(f"{name}/label", f"{title}: labels",
                          [(f"{name}/label/{label.name}", humane(label.name), f"{name}/label/{label.name}")
                           for label in layer.labels])
        for attribute in _span_attributes(layer):
            section = f"{name}/attribute/{attribute.name}"
            figures += _rates(section, f"{title}: {humane(attribute.name)}",
                              [(f"{section}/{value}", humane(value), f"{section}/{value}")
                               for value in attribute.value_names])
    for layer in codebook.choice_layers:
        name, title = layer.name, layer.title
        figures += _shares(name, title, f"{name}/sentences", f"share of the sentences with {_a(title.lower())} value",
                           f"no sentence with {_a(title.lower())} value",
                           [(f"{name}/value/{value}", humane(value)) for value in layer.value_names])
    keys = [figure.key for figure in figures]
    if len(set(keys)) != len(keys):
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"the codebook names two figures alike: {', '.join(repeated)} (a relation named as a layer?)")
    return figures


def columns(figures: Sequence[FigureDefinition]) -> dict[str, int]:
    """Every column the figures read, numbered: WORDS and ARTICLES first."""
    names = dict.fromkeys([WORDS, ARTICLES])
    for figure in figures:
        names.setdefault(figure.numerator)
        names.setdefault(figure.denominator)
    return {name: index for index, name in enumerate(names)}
