"""Turn news articles from files or uploads into normalised, segmented Articles.

Supported formats: ``.txt`` (seed format: title line, blank line, paragraphs),
``.html``/``.htm`` (news web pages) and ``.jsonl`` (one article object per line).
Bad input never raises; it comes back as an IngestError in the result list
(an encoding name the user gave is checked first, with check_encoding).
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
    "read_bytes",
    "read_file",
    "read_paths",
    "segment",
]
