"""Turn news articles from files or uploads into normalised, segmented Articles.

Supported formats: ``.txt`` (seed format: title line, blank line, paragraphs),
``.html``/``.htm`` (news web pages) and ``.jsonl`` (one article object per line).
Bad input never raises; it comes back as an IngestError in the result list
(an encoding name or a language code the user gave is checked first, with check_encoding
and check_language). Each article's language is the one given, else declared, else
detected from its script (annotator.ingest.language).
This package must stay free of Flask and SQLAlchemy.
"""

from .readers import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_SENTENCES,
    SUFFIXES,
    EncodingNeeded,
    check_encoding,
    read_bytes,
    read_file,
    read_paths,
)
from .language import check_language, detect_language
from .text import Article, IngestError, build_article, segment

__all__ = [
    "Article",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_SENTENCES",
    "EncodingNeeded",
    "IngestError",
    "SUFFIXES",
    "build_article",
    "check_encoding",
    "check_language",
    "detect_language",
    "read_bytes",
    "read_file",
    "read_paths",
    "segment",
]
