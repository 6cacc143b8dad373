"""What a profile is computed from: the project's articles, its finished readings and the
annotations of those readings, as plain records (annotator.services.profiles reads them from
the database; the tests write them by hand).

A **reading** is one reader's finished annotation of one article: an annotator's work on a
document whose assignment they marked done, or the gold standard of an adjudicated document
(reader ``GOLD``). Annotation rows carry a ``count``: identical rows of one reading (the same
attribute values, say) may come as one row counted several times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

GOLD = "gold"  # the reader of an adjudicated document: its gold standard
SOURCE_ROLE = "source"  # the relation role whose spans are the sources counted
PERSON = "person"  # the entity kind (a value of the codebook's source_kind) whose sources are counted by gender
GROUPINGS = ("outlet", "document", "month", "annotator")

Reader = int | str  # an annotator's user id, or GOLD


class Article(NamedTuple):
    id: int
    title: str
    outlet: str | None
    published: dt.date | None
    words: int  # tokens of the text (annotator.report.load.WORD: runs of letters, digits, _)


class Reading(NamedTuple):
    document: int
    reader: Reader


class AttributionRow(NamedTuple):
    """Attributions of a reading with these attribute values (None or absent: not chosen)."""

    document: int
    reader: Reader
    relation: str
    attributes: Mapping[str, Any]
    count: int = 1


class SourceRow(NamedTuple):
    """How many distinct spans play the source role in the reading's attributions of a
    relation (its source *mentions*), linked to ``entity`` (None: to no entity), and how many
    distinct attributions of the reading have one of them as their source (``attributions``:
    the attributions citing the entity).

    Sources are counted distinct per reading: one per entity where spans are linked to source
    entities (the source registry's ``spans.entity_id``), else one per span."""

    document: int
    reader: Reader
    relation: str
    spans: int = 1
    entity: int | None = None
    attributions: int = 1


class Entity(NamedTuple):
    """A source entity of the project's registry, as the profile names and counts it (fields as
    people set them; None: not set)."""

    id: int
    name: str
    kind: str | None = None
    anonymity: str | None = None
    gender: str | None = None


class CueRow(NamedTuple):
    """Attributions of a reading whose anchor (cue) span has this text; a discontinuous span's
    text is its fragments' texts joined by one space."""

    document: int
    reader: Reader
    relation: str
    text: str
    count: int = 1


class SpanRow(NamedTuple):
    """Spans of a reading on a span layer that no relation uses, with this label and these
    attribute values."""

    document: int
    reader: Reader
    layer: str
    label: str
    attributes: Mapping[str, Any]
    count: int = 1


class LabelRow(NamedTuple):
    """Sentences of a reading labelled with this value (a list of values for a
    multiple-choice layer)."""

    document: int
    reader: Reader
    layer: str
    value: Any
    count: int = 1


@dataclass(frozen=True)
class ProfileData:
    """Everything a profile is computed from. ``articles``: every document of the project (those
    without a reading are counted as left out); ``names``: what annotator groups are called;
    ``entities``: the source entities the sources link to, by id; ``genders``: the genders an
    entity may have recorded (each a figure; none: no figures by gender)."""

    articles: Sequence[Article]
    readings: Sequence[Reading]
    attributions: Sequence[AttributionRow] = ()
    sources: Sequence[SourceRow] = ()
    cues: Sequence[CueRow] = ()
    spans: Sequence[SpanRow] = ()
    labels: Sequence[LabelRow] = ()
    names: Mapping[Reader, str] = field(default_factory=dict)
    entities: Mapping[int, Entity] = field(default_factory=dict)
    genders: Sequence[str] = ()
