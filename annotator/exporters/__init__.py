"""Export formats: each module turns document records (annotator.services.exports) into a file.

Every module exposes ``export(records, codebook, **options) -> Iterator[str | bytes]`` and
the constants ``MEDIA_TYPE`` and ``EXTENSION``; it never touches the database. Options:
``layer``, ``bom`` (CSV), ``per_document`` (JSONL); a bad option is a ServiceError.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from itertools import chain
from types import ModuleType

from ..codebook import Codebook
from ..errors import ServiceError
from . import brat, conll, csv_sentences, csv_spans, doccano, jsonl, labelstudio

# The name used by `annotator export --format` and the download URLs -> its module.
FORMATS: dict[str, ModuleType] = {
    "csv": csv_spans,
    "sentences-csv": csv_sentences,
    "jsonl": jsonl,
    "jsonl-documents": jsonl,
    "doccano": doccano,
    "labelstudio": labelstudio,
    "brat": brat,
    "conll": conll,
}

CHUNK_BYTES = 64 * 1024  # what stream() hands on at a time, at least (but the last piece)

# Options a format name fixes (the same module serves both JSONL variants).
FORMAT_OPTIONS: dict[str, dict] = {"jsonl-documents": {"per_document": True}}


def exporter(name: str) -> ModuleType:
    if name not in FORMATS:
        raise ServiceError(f"unknown export format {name!r}; choose one of {', '.join(FORMATS)}", field="format")
    return FORMATS[name]


def stream(name: str, records: Iterable[dict], codebook: Codebook, **options) -> Iterator[bytes]:
    """The file in format ``name`` as UTF-8 chunks. Options are checked and the first chunk
    made before this returns, so that a ServiceError comes before anything is sent."""
    module = exporter(name)
    options = {key: value for key, value in options.items() if value not in (None, False)}
    parameters = inspect.signature(module.export).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        unknown = sorted(options.keys() - parameters.keys())
        if unknown:
            raise ServiceError(f"the {name} format takes no {' or '.join(unknown)} option", field=unknown[0])
    chunks = iter(module.export(records, codebook, **options, **FORMAT_OPTIONS.get(name, {})))
    first = next(chunks, None)
    if first is None:
        return iter(())
    return _gathered(chain([first], chunks))


def _gathered(chunks: Iterator[str | bytes]) -> Iterator[bytes]:
    """The chunks, UTF-8-encoded and gathered into pieces of about CHUNK_BYTES: an exporter
    yields a CSV row or a JSON line at a time, and one write per row would cost the file or
    the HTTP response (and the WSGI server) more than making the row did."""
    pending: list[bytes] = []
    size = 0
    for chunk in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode()
        pending.append(chunk)
        size += len(chunk)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending.clear()
            size = 0
    if pending:
        yield b"".join(pending)
