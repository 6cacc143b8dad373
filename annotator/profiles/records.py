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
    relation, linked to ``entity`` (None: to no entity).

    Sources are counted distinct per reading: one per entity where spans are linked to source
    entities (the source registry's nullable ``spans.entity_id``), else one per span. Until
    that link exists every row has ``entity`` None and ``spans`` is the reading's number of
    source spans."""

    document: int
    reader: Reader
    relation: str
    spans: int = 1
    entity: int | None = None


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
    without a reading are counted as left out); ``names``: what annotator groups are called."""

    articles: Sequence[Article]
    readings: Sequence[Reading]
    attributions: Sequence[AttributionRow] = ()
    sources: Sequence[SourceRow] = ()
    cues: Sequence[CueRow] = ()
    spans: Sequence[SpanRow] = ()
    labels: Sequence[LabelRow] = ()
    names: Mapping[Reader, str] = field(default_factory=dict)
