"""Reading files and uploads into Articles.

Every problem becomes an IngestError in the result list instead of an
exception, so one bad file (or JSONL line) never stops an import.

Decoding: UTF-8 (with or without BOM) first. Otherwise, with bs4's
EncodingDetector helpers: the byte-order mark, then the page's declared
charset (HTML only), then windows-1252 (no statistical guessing, whatever
is installed). Each is tried strictly, so a successful result contains no
U+FFFD replacement characters; when none fits the file is "undecodable".
This applies to .txt and .jsonl too, so a cp1252 "café" text file imports.
As in browsers, a declared latin-1/ASCII charset is read as windows-1252.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
from pathlib import Path, PurePath

from bs4.dammit import EncodingDetector

from .html_page import parse_html
from .text import Article, IngestError, build_article, parse_date, split_paragraphs

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
SUFFIXES = (".txt", ".html", ".htm", ".jsonl")

_CONTROL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20)) + b"\x7f"
_MAX_CONTROL_SHARE = 0.1
_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number",
               float: "number", bool: "boolean", type(None): "null"}

Result = list[Article | IngestError]


def read_paths(paths, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Result:
    """Read files and directories (walked recursively, sorted, hidden entries skipped)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    results: Result = []
    for path in paths:
        if not Path(path).is_dir():
            results += read_file(path, max_bytes=max_bytes)
            continue
        files = _importable_files(Path(path))
        if not files:
            results.append(IngestError(str(path), f"no importable files ({', '.join(SUFFIXES)}) in directory"))
        for file in files:
            results += read_file(file, max_bytes=max_bytes)
    return results


def read_file(path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Result:
    source = str(path)
    try:
        data = _read_regular_file(source, Path(path), max_bytes)
    except IngestError as error:
        return [error]
    return read_bytes(source, data, max_bytes=max_bytes)


def read_bytes(name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Result:
    """Parse file content; the format is chosen by the suffix of ``name``."""
    try:
        suffix = _checked_suffix(name)
        _check_size(name, len(data), max_bytes)
        text = _decode(name, data, is_html=suffix in (".html", ".htm"))
        metadata = {"source_file": PurePath(name).name}
        if suffix == ".txt":
            return [_parse_txt(name, text, metadata)]
        if suffix == ".jsonl":
            return _parse_jsonl(name, text, metadata)
        return [parse_html(name, text, metadata)]
    except IngestError as error:
        return [error]


def _importable_files(directory: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        found += [
            Path(root, name) for name in files
            if not name.startswith(".") and PurePath(name).suffix.lower() in SUFFIXES
        ]
    return sorted(found, key=lambda file: file.relative_to(directory).parts)


def _read_regular_file(source: str, path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IngestError(source, "is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise IngestError(source, "not a regular file")
        _checked_suffix(source)
        _check_size(source, info.st_size, max_bytes)
        with path.open("rb") as file:
            return file.read(max_bytes + 1)  # the file may grow after stat()
    except FileNotFoundError:
        raise IngestError(source, "no such file or directory") from None
    except OSError as error:
        raise IngestError(source, f"cannot read file: {error.strerror or error}") from None


def _checked_suffix(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        shown = f"'{suffix}'" if suffix else "(no suffix)"
        raise IngestError(name, f"unsupported file type {shown}; expected one of {', '.join(SUFFIXES)}")
    return suffix


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise IngestError(name, f"file is {_format_size(size)}, over the {_format_size(max_bytes)} limit")


def _format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


def _decode(name: str, data: bytes, *, is_html: bool) -> str:
    """Decoded text with "\\n" line endings, or IngestError (see module doc)."""
    if not data:
        raise IngestError(name, "file is empty")
    if b"\x00" in data:
        raise IngestError(name, "binary file (contains NUL bytes)")
    if len(data) - len(data.translate(None, _CONTROL_BYTES)) > _MAX_CONTROL_SHARE * len(data):
        raise IngestError(name, "binary file (mostly control characters)")
    text = _decode_text(data, is_html)
    if text is None:
        raise IngestError(name, "undecodable bytes (not UTF-8 and no other encoding fits)")
    if not text.strip():
        raise IngestError(name, "file is empty (only whitespace)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_text(data: bytes, is_html: bool) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # The candidates are listed here rather than taken from EncodingDetector.encodings, which
    # also asks chardet or charset-normalizer when one happens to be installed: what a file
    # decodes to must not depend on which packages are around.
    markup, byte_order_mark = EncodingDetector.strip_byte_order_mark(data)
    declared = EncodingDetector.find_declared_encoding(markup, is_html)
    for encoding in (byte_order_mark, declared, "windows-1252"):
        if encoding is None:
            continue
        try:
            if codecs.lookup(encoding).name in ("latin-1", "iso8859-1", "ascii"):
                encoding = "windows-1252"
            return markup.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def _parse_txt(source: str, text: str, metadata: dict) -> Article:
    """Seed format: title line, blank line, paragraphs separated by blank lines."""
    title, _, body = text.lstrip().partition("\n")
    return build_article(title, split_paragraphs(body), metadata=metadata, source=source)


def _parse_jsonl(source: str, text: str, metadata: dict) -> Result:
    results: Result = []
    # Split on "\n" only: JSON strings may legally contain U+2028 or U+0085.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                results.append(_parse_json_line(source, number, line, metadata))
            except IngestError as error:
                results.append(error)
    return results


def _parse_json_line(source: str, number: int, line: str, metadata: dict) -> Article:
    """One JSONL record; keys other than the Article fields go into metadata."""
    try:
        record = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise IngestError(source, f"invalid JSON: {error.msg} at column {error.colno}", number) from None
    except (ValueError, RecursionError) as error:
        raise IngestError(source, f"invalid JSON: {error}", number) from None
    if not isinstance(record, dict):
        raise IngestError(source, f"expected a JSON object, got {_json_type(record)}", number)

    def take(key: str, required: bool = False) -> str | None:
        value = record.pop(key, None)
        if value is None and required:
            raise IngestError(source, f"missing '{key}'", number)
        if value is not None and not isinstance(value, str):
            raise IngestError(source, f"'{key}' must be a string, not {_json_type(value)}", number)
        return value

    title, text = take("title", required=True), take("text", required=True)
    outlet, url, language, published = take("outlet"), take("url"), take("language"), take("published")
    published_date = parse_date(published)
    if published and published.strip() and published_date is None:
        raise IngestError(source, f"'published' is not an ISO 8601 date: {published[:40]!r}", number)
    return build_article(
        title,
        split_paragraphs(text),
        outlet=outlet,
        url=url,
        published=published_date,
        language=language,
        metadata={**record, **metadata},
        source=source,
        line=number,
    )


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _json_type(value) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)
