"""Reading files and uploads into Articles.

Every problem becomes an IngestError in the result list instead of an
exception, so one bad file (or JSONL line) never stops an import.

Limits, each an IngestError naming the file: its size (max_bytes), the sentences of each
document (max_sentences), the documents of an upload (max_documents, counted before any is
parsed), and for HTML the page's nesting (html_page.MAX_DEPTH). Reading is linear in the input.

Decoding, always strict (a decoded text never holds U+FFFD for bad bytes), in this order:

1. a byte-order mark (UTF-8, UTF-16 or UTF-32, either byte order) says what a file is;
2. then UTF-8: real text in another encoding is practically never valid UTF-8, so a folder
   of windows-1256 articles may hold some saved as UTF-8 and each is read right;
3. then the encoding the user gave (``--encoding``, the upload form's field; check_encoding),
   else, for HTML only, the charset the page declares (``<meta charset>`` or ``http-equiv``,
   found by bs4, unknown names ignored, as browsers do);
4. else EncodingNeeded: "not UTF-8 (first bad byte 0xE1 at line 3, column 12)", with a hint
   of the encodings the start of the file reads well in (_HINTS). The hint is only ever a
   suggestion: nothing is decoded by guessing.

* Names of latin-1 and ASCII, declared or given, mean windows-1252, as in
  browsers: such files are nearly always windows-1252, and read as latin-1
  their curly quotes would become control characters and be dropped.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
import unicodedata
from pathlib import Path, PurePath

from bs4.dammit import EncodingDetector

from ..config import DEFAULT_MAX_BYTES, DEFAULT_MAX_SENTENCES
from .html_page import parse_html
from .language import check_language
from .text import Article, IngestError, build_article, parse_date, split_paragraphs

SUFFIXES = (".txt", ".html", ".htm", ".jsonl")

_CONTROL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20)) + b"\x7f"
_MAX_CONTROL_SHARE = 0.1
_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number",
               float: "number", bool: "boolean", type(None): "null"}

# Byte-order marks (UTF-32-LE's first: it begins with UTF-16-LE's) and the codec each selects.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Codecs Python counts as text encodings that are not character sets of files.
_NOT_CHARSETS = {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "charmap"}
_WINDOWS_1252 = codecs.lookup("windows-1252").name
_ENCODING_EXAMPLES = "e.g. windows-1256 for Arabic, windows-1252 for Western European"
# What a hint may suggest: an encoding, what it is for, and the Unicode scripts (character
# name prefixes) its non-ASCII letters must be of. Latin text reads as Latin in all three
# Latin ones, so they are suggested together and the user picks by language. Cyrillic and
# Greek are left out: Hebrew bytes read as their small letters, and every Hebrew file would
# get three suggestions.
_HINTS = (
    ("windows-1252", "Western European", ("LATIN",)),
    ("windows-1250", "Central European", ("LATIN",)),
    ("windows-1254", "Turkish", ("LATIN",)),
    ("windows-1256", "Arabic", ("ARABIC",)),
    ("windows-1255", "Hebrew", ("HEBREW",)),
    ("shift_jis", "Japanese", ("CJK", "HIRAGANA", "KATAKANA", "IDEOGRAPHIC", "FULLWIDTH LATIN")),
)
_HINT_SAMPLE = 64 * 1024

Result = list[Article | IngestError]


class EncodingNeeded(IngestError):
    """Text that is not in an encoding it names or was given: the user has to give it.

    ``likely`` holds (encoding, what) pairs the start of the file reads well in, for a hint.
    ``message(how)`` words the advice for an interface ("with --encoding NAME").
    """

    def __init__(self, source: str, problem: str, likely: list[tuple[str, str]]):
        self.problem = problem
        self.likely = likely
        super().__init__(source, self._reason(""))

    def message(self, how: str) -> str:
        return f"{self.source}: {self._reason(how)}"

    def _reason(self, how: str) -> str:
        if self.likely:
            named = [f"{codec} for {what}" for codec, what in self.likely]
            hint = "likely " + " or ".join(filter(None, [", ".join(named[:-1]), named[-1]]))
        else:
            hint = _ENCODING_EXAMPLES
        return f"{self.problem}; give the file's encoding{' ' + how if how else ''} ({hint})"


def check_encoding(name: str) -> str:
    """The codec for an encoding name a user gave; ValueError, saying why, for a name that is
    not a text encoding Python knows. Latin-1 and ASCII mean windows-1252 (module doc)."""
    codec = _codec(name)
    if codec is None:
        raise ValueError(
            f"unknown encoding {name.strip()[:40]!r}; give a name such as windows-1256, windows-1252, "
            "iso-8859-8, shift_jis or utf-16-le"
        )
    return codec


def read_paths(paths, *, max_bytes: int = DEFAULT_MAX_BYTES, max_sentences: int = DEFAULT_MAX_SENTENCES,
               encoding: str | None = None, language: str | None = None) -> Result:
    """Read files and directories (walked recursively, sorted, hidden entries skipped)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    options = {"max_bytes": max_bytes, "max_sentences": max_sentences, "encoding": encoding, "language": language}
    results: Result = []
    for path in paths:
        if not Path(path).is_dir():
            results += read_file(path, **options)
            continue
        files = _importable_files(Path(path))
        if not files:
            results.append(IngestError(str(path), f"no importable files ({', '.join(SUFFIXES)}) in directory"))
        for file in files:
            results += read_file(file, **options)
    return results


def read_file(path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_sentences: int = DEFAULT_MAX_SENTENCES,
              encoding: str | None = None, language: str | None = None) -> Result:
    source = str(path)
    try:
        data = _read_regular_file(source, Path(path), max_bytes)
    except IngestError as error:
        return [error]
    return read_bytes(source, data, max_bytes=max_bytes, max_sentences=max_sentences, encoding=encoding,
                      language=language)


def read_bytes(name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES,
               max_sentences: int = DEFAULT_MAX_SENTENCES, encoding: str | None = None,
               language: str | None = None, max_documents: int | None = None) -> Result:
    """Parse file content; the format is chosen by the suffix of ``name``.

    ``encoding`` is the encoding the user gave for files that are not UTF-8 (ValueError if
    check_encoding refuses it; module doc); ``language`` the language the user gave for every
    article (ValueError if check_language refuses it), else each article's own
    (annotator.ingest.language). Each document of more than ``max_sentences`` sentences
    becomes an IngestError. ``max_documents``: the most documents the file may hold (what an
    upload has left of its limit; None: any number); a file of more is one IngestError, said
    before any of them is parsed.
    """
    codec = None if encoding is None else check_encoding(encoding)
    given = {"given_language": None if language is None else check_language(language)}
    try:
        suffix = _checked_suffix(name)
        _check_size(name, len(data), max_bytes)
        text = _decode(name, data, is_html=suffix in (".html", ".htm"), given=codec and (codec, encoding.strip()))
        _check_documents(name, len(_jsonl_lines(text)) if suffix == ".jsonl" else 1, max_documents)
        metadata = {"source_file": PurePath(name).name}
        if suffix == ".txt":
            results = [_parse_txt(name, text, metadata, **given)]
        elif suffix == ".jsonl":
            results = _parse_jsonl(name, text, metadata, **given)
        else:
            results = [parse_html(name, text, metadata, **given)]
    except IngestError as error:
        return [error]
    return [_within_limit(result, max_sentences) for result in results]


def _check_documents(name: str, count: int, max_documents: int | None) -> None:
    if max_documents is not None and count > max_documents:
        raise IngestError(
            name, f"{count:,} document{'s' if count != 1 else ''}, more than the {max_documents:,} this upload may "
                  "still take (ANNOTATOR_MAX_DOCUMENTS_PER_UPLOAD); upload them in parts, or import a large "
                  "collection with `annotator import`")


def _within_limit(result: Article | IngestError, max_sentences: int) -> Article | IngestError:
    if not isinstance(result, Article) or len(result.sentences) <= max_sentences:
        return result
    return IngestError(
        result.source,
        f"{len(result.sentences):,} sentences, over the limit of {max_sentences:,} per document; split the "
        f"article into parts of at most {max_sentences:,} sentences (for example one file per chapter or "
        "section, or one JSONL line per part), or raise ANNOTATOR_MAX_SENTENCES",
        result.line,
    )


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


def _decode(name: str, data: bytes, *, is_html: bool, given: tuple[str, str] | None) -> str:
    """Text by its byte-order mark, else UTF-8, else in the ``(codec, name)`` the user gave, else
    in an HTML page's declared charset (module doc)."""
    for mark, codec in _BOMS:
        if data.startswith(mark):
            return _strict(name, data[len(mark):], codec, f"{codec} as its byte-order mark says")
    try:
        return _strict(name, data, "utf-8", "UTF-8")
    except EncodingNeeded:
        if given:
            return _strict(name, data, *given)
        declared = EncodingDetector.find_declared_encoding(data, is_html=True) if is_html else None
        codec = _codec(declared) if declared else None
        # A page whose declaration could be read is ASCII-compatible: browsers read a declared
        # UTF-16 as UTF-8 (which failed), and so does this.
        if codec is None or codec.startswith(("utf-8", "utf-16", "utf-32")):
            raise
    return _strict(name, data, codec, f"{declared} as the page declares")


def _strict(name: str, data: bytes, codec: str, expected: str) -> str:
    """``data`` decoded with ``codec`` (``expected`` names it in messages), or IngestError:
    binary content, or EncodingNeeded."""
    wide = codec.startswith(("utf-16", "utf-32"))
    if not wide and (reason := _binary_reason(data)):
        if utf16 := _utf16_without_bom(data):
            raise EncodingNeeded(name, f"not {expected}: NUL bytes at every other position, as in UTF-16 "
                                       "without a byte-order mark", [utf16])
        raise IngestError(name, reason)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        raise EncodingNeeded(name, f"not {expected} ({_position(data, codec, error.start)})",
                             _likely_encodings(data)) from None
    if wide and (reason := _binary_reason(text.encode("utf-8", "surrogatepass"))):
        raise IngestError(name, reason)
    if not text.strip():
        raise IngestError(name, "file is empty (only whitespace)" if data else "file is empty")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _binary_reason(data: bytes) -> str | None:
    if b"\x00" in data:
        return "binary file (contains NUL bytes)"
    if len(data) - len(data.translate(None, _CONTROL_BYTES)) > _MAX_CONTROL_SHARE * len(data):
        return "binary file (mostly control characters)"
    return None


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """The UTF-16 codec ``data`` is text in, and its name, judged by where its NUL bytes are:
    the high bytes of ASCII characters, so in one byte of each pair only."""
    for codec, what, low_bytes in (("utf-16-le", "little-endian UTF-16", data[0::2]),
                                   ("utf-16-be", "big-endian UTF-16", data[1::2])):
        if len(data) % 2 == 0 and b"\x00" not in low_bytes:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if _binary_reason(text.encode("utf-8", "surrogatepass")) is None:
                return codec, what
    return None


def _position(data: bytes, codec: str, offset: int) -> str:
    """Where the first undecodable byte is, as an editor counts lines and columns."""
    before = data[:offset].decode(codec, errors="replace")
    line = before.count("\n") + 1
    column = len(before) - before.rfind("\n")
    return f"first bad byte 0x{data[offset]:02X} at line {line}, column {column}"


def _codec(name: str) -> str | None:
    """Python's codec for an encoding name (latin-1 and ASCII: windows-1252); None if unknown."""
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None
    if not info._is_text_encoding or info.name in _NOT_CHARSETS:
        return None
    return _WINDOWS_1252 if info.name in ("iso8859-1", "ascii") else info.name


def _likely_encodings(data: bytes) -> list[tuple[str, str]]:
    """The (encoding, what) pairs of _HINTS in which the start of ``data`` reads as text."""
    sample = data[:_HINT_SAMPLE]
    likely = []
    for codec, what, scripts in _HINTS:
        try:  # incremental, so that a character cut at the end of the sample is no error
            text = codecs.getincrementaldecoder(codec)().decode(sample, final=len(sample) == len(data))
        except UnicodeDecodeError:
            continue
        if _reads_as(text, scripts):
            likely.append((codec, what))
    return likely


def _reads_as(text: str, scripts: tuple[str, ...]) -> bool:
    """Whether the non-ASCII letters of ``text`` look like prose in these scripts: nearly all of
    them of the scripts, with no capital in mid-word, and, for Latin, mostly inside words of
    ASCII letters ("café"), for any other script, mostly not ("ÇáÚÑÈíÉ" is windows-1256 Arabic
    read as windows-1252)."""
    letters = [index for index, char in enumerate(text) if char.isalpha() and not char.isascii()]
    if not letters:
        return False
    in_scripts = sum(unicodedata.name(text[index], "").startswith(scripts) for index in letters)
    mid_word_capitals = sum(text[index - 1].islower() and text[index].isupper() for index in letters if index)
    beside_ascii = sum(_ascii_letter(text, index - 1) or _ascii_letter(text, index + 1) for index in letters)
    latin = "LATIN" in scripts
    return (
        in_scripts >= 0.8 * len(letters)
        and mid_word_capitals <= 0.05 * len(letters)
        and (beside_ascii >= 0.5 * len(letters) if latin else beside_ascii <= 0.2 * len(letters))
    )


def _ascii_letter(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalpha()


def _parse_txt(source: str, text: str, metadata: dict, *, given_language: str | None) -> Article:
    """Seed format: title line, blank line, paragraphs separated by blank lines."""
    title, _, body = text.lstrip().partition("\n")
    return build_article(title, split_paragraphs(body), metadata=metadata, source=source,
                         given_language=given_language)


def _parse_jsonl(source: str, text: str, metadata: dict, *, given_language: str | None) -> Result:
    results: Result = []
    for number, line in _jsonl_lines(text):
        try:
            results.append(_parse_json_line(source, number, line, metadata, given_language))
        except IngestError as error:
            results.append(error)
    return results


def _jsonl_lines(text: str) -> list[tuple[int, str]]:
    """The lines of a JSONL file that are not blank, numbered from 1. Split on "\\n" only: JSON
    strings may legally contain U+2028 or U+0085."""
    return [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]


def _parse_json_line(source: str, number: int, line: str, metadata: dict, given_language: str | None) -> Article:
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
        given_language=given_language,
        metadata={**record, **metadata},
        source=source,
        line=number,
    )


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _json_type(value) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)
