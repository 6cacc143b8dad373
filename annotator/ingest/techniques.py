"""Propaganda-technique span files (SemEval-2020 Task 11) -> document records
(docs/interop.md, "Technique span files").

The corpus is a set of ``article<ID>.txt`` files and label files (``*.labels``), each line
``<ID>\\t<technique>\\t<start>\\t<end>``: a folder (texts and labels in any subfolders), a
zip of one, or one label file, its texts beside it. Offsets count the characters of the
article as Python reads a text file by default: UTF-8, "\\r\\n" and "\\r" read as one "\\n".

Each article becomes a document whose text is normalised as ``annotator import`` normalises
a paragraph (annotator.ingest.text: invisible characters dropped, NFC, each run of
whitespace one space, paragraphs split at blank lines, stripped, joined by a blank line),
its title line kept as the first paragraph, since spans mark titles too; every offset is
mapped through that normalisation, so ``text[start:end]`` is exactly the span's text. A span
whose edges are whitespace is trimmed, with a warning.

The technique names map to the loaded-language labels of the default codebook (BUILT_IN);
[labels] of a mapping file overrides any of them. Where several techniques map to one label,
each span keeps its technique name as its comment, so nothing the corpus says is lost.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .corpus import corpus_files
from .label_names import LabelPlacer
from .text import _DROPPED, _PARAGRAPH_BREAK, IngestError

if TYPE_CHECKING:
    from .annotations import _Reader

DEFAULT_ANNOTATOR = "semeval"
ARTICLE = re.compile(r"article(?P<id>\d+)\.txt")
LABEL_SUFFIXES = (".labels",)
EXPECTED = ("a technique corpus is a folder or a .zip of article<ID>.txt and *.labels files, or a label file "
            "beside its texts")
TITLE_MAX = 120

# The task's 14 techniques (three are pairs of the original 18 merged by the task) -> the
# default codebook's loaded-language labels: the five it has by name; the other nine are
# wording chosen to sway rather than inform, the codebook's LOADED_LANGUAGE ("prefer a more
# specific technique when one fits"; none of its others does).
BUILT_IN = {
    "Loaded_Language": "LOADED_LANGUAGE",
    "Name_Calling,Labeling": "NAME_CALLING_LABELING",
    "Exaggeration,Minimisation": "EXAGGERATION_MINIMISATION",
    "Doubt": "DOUBT",
    "Appeal_to_fear-prejudice": "APPEAL_TO_FEAR",
    "Repetition": "LOADED_LANGUAGE",
    "Flag-Waving": "LOADED_LANGUAGE",
    "Causal_Oversimplification": "LOADED_LANGUAGE",
    "Slogans": "LOADED_LANGUAGE",
    "Appeal_to_Authority": "LOADED_LANGUAGE",
    "Black-and-White_Fallacy": "LOADED_LANGUAGE",
    "Thought-terminating_Cliches": "LOADED_LANGUAGE",
    "Whataboutism,Straw_Men,Red_Herring": "LOADED_LANGUAGE",
    "Bandwagon,Reductio_ad_hitlerum": "LOADED_LANGUAGE",
}


Files = list[tuple[str, bytes]]  # (file name, content)


def articles_and_labels(path_or_bytes, name: str) -> tuple[dict[str, tuple[str, bytes]], Files] | IngestError:
    """The corpus's texts ({article id: (file name, bytes)}) and label files ([(name, bytes)]),
    from a folder, a zip (a path or its bytes) or one label file beside its texts."""
    if not isinstance(path_or_bytes, bytes) and Path(path_or_bytes).is_file() \
            and Path(path_or_bytes).suffix.lower() != ".zip":
        label_file = Path(path_or_bytes)
        source = str(label_file.parent)
        files = corpus_files(label_file.parent, source, expected=EXPECTED,
                             keep=lambda relative: relative == label_file.name or bool(ARTICLE.fullmatch(relative)))
        named = {label_file.name}
    else:
        source = name if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
        files = corpus_files(path_or_bytes, source, expected=EXPECTED, keep=lambda relative: bool(
            ARTICLE.fullmatch(PurePosixPath(relative).name)) or relative.endswith(LABEL_SUFFIXES))
        named = set()
    if isinstance(files, IngestError):
        return files
    texts, labels = {}, []
    for relative, data in files.items():
        if match := ARTICLE.fullmatch(PurePosixPath(relative).name):
            texts[match["id"]] = (f"{source}/{relative}", data)
        elif relative.endswith(LABEL_SUFFIXES) or relative in named:
            labels.append((f"{source}/{relative}", data))
    return texts, labels


def read(reader: _Reader, texts: dict[str, tuple[str, bytes]], label_files: list[tuple[str, bytes]]) -> None:
    """Add a record per article (with the spans of every label file) to ``reader``."""
    if not label_files:
        reader.problem(None, "no label file (*.labels: lines <ID> TAB <technique> TAB <start> TAB <end>) found")
        return
    articles: dict[str, _Article] = {}
    for article_id, (file_name, data) in sorted(texts.items()):
        try:
            raw = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            reader.problems.append(IngestError(file_name, "not UTF-8", data[: error.start].count(b"\n") + 1))
            continue
        articles[article_id] = _Article(file_name, raw.replace("\r\n", "\n").replace("\r", "\n"))
    merged = Counter(BUILT_IN[name] for name in BUILT_IN if name not in reader.mapping.labels)
    merged.update(reader.mapping.labels.values())
    place = LabelPlacer(reader, BUILT_IN)
    annotator = reader.annotator or DEFAULT_ANNOTATOR
    first_line: dict[str, int] = {}
    for file_name, data in label_files:
        where = _Where(reader, file_name)
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            where.problem(data[: error.start].count(b"\n") + 1, "not UTF-8")
            continue
        for line, row in enumerate(content.split("\n"), start=1):
            if not row.strip():
                continue
            fields = row.rstrip("\r").split("\t")
            if len(fields) != 4:
                where.problem(line, f"a line is <ID> TAB <technique> TAB <start> TAB <end>; this one has {len(fields)} "
                                    "field(s)" + (" (a span identification file has no techniques)"
                                                  if len(fields) == 3 else ""))
                continue
            article_id, technique, start, end = (field.strip() for field in fields)
            article_id = article_id.removeprefix("article")
            if article_id not in articles:
                if article_id not in texts:
                    where.problem(line, f"no text article{article_id}.txt for article {article_id}")
                continue
            if not (start.isdigit() and end.isdigit()):
                where.problem(line, f"start and end must be whole numbers, not {start!r} and {end!r}")
                continue
            placed = place(technique, line, file_name)
            if placed is None:
                continue
            first_line.setdefault(article_id, line)
            comment = technique if merged[placed[1]] > 1 else None
            if problem := articles[article_id].add(placed, int(start), int(end), comment):
                where.problem(line, problem)
    for article_id, article in articles.items():
        document = {"text": article.text, "title": article.title, "metadata": {"article_id": article_id}}
        if not article.text:
            reader.problems.append(IngestError(article.source, "the article has no text"))
            continue
        entry = {"annotator": annotator, "status": "done", "spans": article.spans(), "attributions": [],
                 "sentence_labels": []}
        reader.add(document, entry, first_line.get(article_id, 1))
        if article.trimmed:
            reader.record(document).setdefault("warnings", []).append(
                f"{article.source}: {article.trimmed} span(s) with whitespace at an edge, trimmed")


class _Where:
    """Problems of one label file (the reader's are named after the corpus)."""

    def __init__(self, reader: _Reader, source: str):
        self.reader, self.source = reader, source

    def problem(self, line: int, message: str) -> None:
        self.reader.problems.append(IngestError(self.source, message, line))


class _Article:
    """One article's normalised text, the map from the file's offsets to it, and its spans."""

    def __init__(self, source: str, raw: str):
        self.source, self.raw = source, raw
        self.text, self.begins, self.ends = normalised(raw)
        first = self.text.split("\n", 1)[0]
        self.title = first if len(first) <= TITLE_MAX else None
        self.found: dict[tuple, dict] = {}  # (layer, label, start, end) -> span
        self.trimmed = 0

    def add(self, placed: tuple[str, str], start: int, end: int, comment: str | None) -> str | None:
        """Add a span given by the file's offsets; a problem, or None."""
        if not start < end <= len(self.raw):
            return f"offsets {start}-{end} are not a span of {self.source} ({len(self.raw)} characters)"
        first = bisect.bisect_right(self.ends, start)  # the first character ending after start
        last = bisect.bisect_left(self.begins, end)  # after the last character beginning before end
        piece = self.text[first:last]
        first += len(piece) - len(piece.lstrip())
        last -= len(piece) - len(piece.rstrip())
        if first >= last:
            return f"offsets {start}-{end} cover only whitespace or invisible characters"
        covered = self.raw[start:end]
        self.trimmed += covered != covered.strip()
        key = (*placed, first, last)
        if key in self.found:  # two techniques of one label on the same words: one span
            span = self.found[key]
            if comment and comment not in (span["comment"] or "").split("; "):
                span["comment"] = f"{span['comment']}; {comment}" if span["comment"] else comment
            return None
        self.found[key] = {"layer": placed[0], "label": placed[1], "start": first, "end": last,
                           "text": self.text[first:last], "attributes": {}, "comment": comment}
        return None

    def spans(self) -> list[dict]:
        return [{"id": number, **span} for number, span in enumerate(self.found.values(), start=1)]


def normalised(raw: str) -> tuple[str, list[int], list[int]]:
    """The text as annotator.ingest.text normalises it (module doc), and for each of its
    characters the offsets in ``raw`` where what it came from begins and ends (both
    non-decreasing, so a span of ``raw`` maps by bisection)."""
    chars, begins, ends = [], [], []
    for index, char in enumerate(raw):
        if not _DROPPED.match(char):
            chars.append(char)
            begins.append(index)
            ends.append(index + 1)
    if not unicodedata.is_normalized("NFC", "".join(chars)):
        chars, begins, ends = _composed(chars, begins, ends)
    joined = "".join(chars)
    text: list[str] = []
    out_begins: list[int] = []
    out_ends: list[int] = []
    start = 0
    for paragraph_break in [*_PARAGRAPH_BREAK.finditer(joined), None]:
        stop = paragraph_break.start() if paragraph_break else len(joined)
        paragraph = _collapsed(chars[start:stop], begins[start:stop], ends[start:stop])
        if paragraph[0]:
            if text:  # the blank line between paragraphs stands where the last one ended
                text += ["\n", "\n"]
                out_begins += [out_ends[-1]] * 2
                out_ends += [out_ends[-1]] * 2
            text += paragraph[0]
            out_begins += paragraph[1]
            out_ends += paragraph[2]
        start = paragraph_break.end() if paragraph_break else stop
    return "".join(text), out_begins, out_ends


def _composed(chars: list[str], begins: list[int], ends: list[int]) -> tuple[list, list, list]:
    """NFC, a run of a starter and the marks after it at a time: a run that composes into
    fewer characters maps each of them to the whole run."""
    out: tuple[list, list, list] = ([], [], [])
    run = 0
    for index in range(1, len(chars) + 1):
        if index < len(chars) and unicodedata.combining(chars[index]):
            continue
        piece = "".join(chars[run:index])
        composed = unicodedata.normalize("NFC", piece)
        if len(composed) == len(piece):
            out[0].extend(composed)
            out[1].extend(begins[run:index])
            out[2].extend(ends[run:index])
        else:
            out[0].extend(composed)
            out[1].extend([begins[run]] * len(composed))
            out[2].extend([ends[index - 1]] * len(composed))
        run = index
    return out


def _collapsed(chars: list[str], begins: list[int], ends: list[int]) -> tuple[list, list, list]:
    """One paragraph stripped, each run of whitespace one space spanning the whole run."""
    out: tuple[list, list, list] = ([], [], [])
    pending = None  # (begin, end) of the whitespace run since the last other character
    for char, begin, end in zip(chars, begins, ends):
        if char.isspace():
            pending = (pending[0], end) if pending else (begin, end)
            continue
        if pending and out[0]:
            out[0].append(" ")
            out[1].append(pending[0])
            out[2].append(pending[1])
        pending = None
        out[0].append(char)
        out[1].append(begin)
        out[2].append(end)
    return out
