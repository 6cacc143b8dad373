"""Profiles: what the annotations say per outlet, article, month or annotator (issue 20).

Pure: records in, figures out; no database, no Flask (annotator.services.profiles reads the
records, annotator/web/profiles.py shows them). Every figure is defined in docs/profiles.md.

records    the records a profile is computed from: articles, finished readings, annotation rows
catalogue  the figures, read off the codebook: each a ratio of two summed counts
compute    the profile: weighted counts per group, bootstrap intervals over articles, the
           spread across annotators, each group's top quoted sources, the difference between
           two groups
charts     coordinates of the server-drawn SVG charts
render     the downloads: JSON, CSV, one self-contained HTML file
"""

from .catalogue import MAX_CUE_WORDS, FigureDefinition, cue_word, figure_catalogue
from .compute import FORMAT, ONE_READER, TOP_SOURCES, UNDEFINED_IN_A_GROUP, UnknownGroup, find_group, group_seed, profile
from .records import (
    GOLD,
    GROUPINGS,
    SOURCE_ROLE,
    Article,
    AttributionRow,
    CueRow,
    Entity,
    LabelRow,
    ProfileData,
    Reading,
    SourceRow,
    SpanRow,
)

__all__ = [
    "FORMAT",
    "GOLD",
    "GROUPINGS",
    "MAX_CUE_WORDS",
    "ONE_READER",
    "SOURCE_ROLE",
    "UNDEFINED_IN_A_GROUP",
    "Article",
    "AttributionRow",
    "CueRow",
    "Entity",
    "FigureDefinition",
    "LabelRow",
    "ProfileData",
    "Reading",
    "SourceRow",
    "SpanRow",
    "TOP_SOURCES",
    "UnknownGroup",
    "cue_word",
    "figure_catalogue",
    "find_group",
    "group_seed",
    "profile",
]
