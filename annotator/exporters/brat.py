"""brat standoff (https://brat.nlplab.org/standoff.html), zipped: a brat collection with
``annotation.conf`` and ``visual.conf`` made from the codebook, and per document ×
annotator ``<document id>_<annotator>.txt`` (the text, exactly) and ``.ann``:

* ``T`` lines for spans (type = label). A discontinuous span is one ``T`` with its
  fragments (``START END;START END``, their texts joined by a space), as brat writes one. A
  span across a line break is written as the fragments between the breaks too, since the
  .ann is line-based and brat shows such spans as discontinuous.
* ``#`` lines for span comments (``#1<TAB>AnnotatorNotes T3<TAB>note``), line breaks in the
  note written as spaces (a note is one line).
* ``A`` lines for span attributes (``A1<TAB>polarity T3 negative``).
* ``R`` lines for attributions: from the anchor's T to each other part, typed by role
  (standoff.py). brat attaches attributes to entities and events only, so an
  attribution's attributes are ``A`` lines on its anchor; an anchor shared by two
  attributions gets a second T line (same label and offsets) for the second one's values.

Sentence labels are not written: brat has no sentence-level annotation. Offsets are code
points, as brat (Python) counts them, i.e. Python str offsets.
"""

from __future__ import annotations

import itertools
import re
import time
import zipfile
from collections.abc import Iterable, Iterator

from ..codebook import Codebook
from .records import annotator_lines
from .standoff import attribution_links, span_layers

MEDIA_TYPE = "application/zip"
EXTENSION = "zip"

_LINE_BREAKS = re.compile(r"[\r\n]+")
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def export(records: Iterable[dict], codebook: Codebook, *, layer: str | None = None) -> Iterator[bytes]:
    """All span layers, or only ``layer`` (and the attributions on it)."""
    return _archive(records, codebook, span_layers(codebook, layer))


class _Drain:
    """A write-only, non-seekable file whose bytes are taken out after each member, so that
    the zip streams; zipfile writes data descriptors when it cannot seek back."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def _archive(records: Iterable[dict], codebook: Codebook, layers: tuple[str, ...]) -> Iterator[bytes]:
    drain = _Drain()
    now = time.localtime()[:6]

    def member(name: str, content: str) -> None:
        info = zipfile.ZipInfo(name, date_time=now)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, content.encode("utf-8"))

    with zipfile.ZipFile(drain, "w") as archive:
        member("annotation.conf", annotation_conf(codebook, layers))
        member("visual.conf", visual_conf(codebook, layers))
        yield drain.take()
        for line in annotator_lines(records):
            base = _UNSAFE_IN_FILE_NAME.sub("_", f"{line['document']['id']}_{line['annotator']}")
            member(f"{base}.txt", line["document"]["text"])
            member(f"{base}.ann", "".join(ann_lines(line, codebook, layers)))
            yield drain.take()
    yield drain.take()


def fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The pieces of text[start:end] between line breaks."""
    pieces, position = [], start
    for line_break in _LINE_BREAKS.finditer(text, start, end):
        pieces.append((position, line_break.start()))
        position = line_break.end()
    pieces.append((position, end))
    return [(first, last) for first, last in pieces if first < last]


def ann_lines(line: dict, codebook: Codebook, layers: tuple[str, ...]) -> Iterator[str]:
    """The .ann lines of one per-annotator line (records.annotator_lines)."""
    text = line["document"]["text"]
    t_numbers, a_numbers, r_numbers, note_numbers = (itertools.count(1) for _ in range(4))
    span_t: dict = {}  # span id -> number of its T line

    def text_bound(span: dict) -> tuple[int, list[str]]:
        t = next(t_numbers)
        marked = span.get("fragments") or [(span["start"], span["end"])]
        pieces = [piece for first, last in marked for piece in fragments(text, first, last)]
        offsets = ";".join(f"{first} {last}" for first, last in pieces)
        covered = " ".join(text[first:last] for first, last in pieces)
        written = [f"T{t}\t{span['label']} {offsets}\t{covered}\n", *attributes(t, span["attributes"])]
        if span.get("comment"):
            written.append(f"#{next(note_numbers)}\tAnnotatorNotes T{t}\t{_LINE_BREAKS.sub(' ', span['comment'])}\n")
        return t, written

    def attributes(t: int, values: dict) -> Iterator[str]:
        for name, value in values.items():
            if value is not None:
                yield f"A{next(a_numbers)}\t{name} T{t} {value}\n"

    for span in line["spans"]:
        if span["layer"] in layers:
            span_t[span["id"]], written = text_bound(span)
            yield from written
    for linked in attribution_links(line, codebook, layers):
        anchor_t = span_t[linked.anchor["id"]]
        if linked.shared_anchor:
            anchor_t, written = text_bound(linked.anchor)
            yield from written
        yield from attributes(anchor_t, linked.attribution["attributes"])
        for role, span in linked.links:
            yield f"R{next(r_numbers)}\t{role} Arg1:T{anchor_t} Arg2:T{span_t[span['id']]}\n"


def annotation_conf(codebook: Codebook, layers: tuple[str, ...]) -> str:
    """brat's annotation.conf for the codebook's span layers ``layers``."""
    lines = [f"# Generated from codebook {codebook.name} version {codebook.version}.", "[entities]"]
    chosen = [span_layer for span_layer in codebook.span_layers if span_layer.name in layers]
    for span_layer in chosen:
        lines.append(f"# {span_layer.title}")
        lines.extend(label.name for label in span_layer.labels)
    lines.append("[relations]")
    lines.append("# Spans may overlap in any way.")
    lines.append("<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>")
    relations = [relation for relation in codebook.relations if relation.layer in layers]
    for relation in relations:
        anchors = "|".join(dict.fromkeys(role.label for role in relation.roles))
        lines.extend(f"{role.name}\tArg1:{anchors}, Arg2:{role.label}" for role in relation.roles)
    lines.append("[events]")
    lines.append("[attributes]")
    # name -> (labels it applies to, values), merged where layers or relations share a name.
    declared: dict[str, tuple[dict, dict]] = {}

    def declare(name: str, labels: Iterable[str], values: Iterable[str]) -> None:
        targets, names = declared.setdefault(name, ({}, {}))
        targets.update(dict.fromkeys(labels))
        names.update(dict.fromkeys(values))

    for span_layer in chosen:
        for attribute in span_layer.attributes:
            declare(attribute.name, (label.name for label in span_layer.labels), attribute.value_names)
        for label in span_layer.labels:
            for attribute in label.attributes:
                declare(attribute.name, [label.name], attribute.value_names)
    for relation in relations:
        for attribute in relation.attributes:
            declare(attribute.name, (role.label for role in relation.roles), attribute.value_names)
    lines.extend(
        f"{name}\tArg:{'|'.join(targets)}, Value:{'|'.join(values)}"
        for name, (targets, values) in declared.items()
    )
    return "\n".join(lines) + "\n"


def visual_conf(codebook: Codebook, layers: tuple[str, ...]) -> str:
    """brat's visual.conf: the codebook's label colours."""
    lines = ["[labels]", "[drawing]"]
    lines.extend(
        f"{label.name}\tbgColor:{label.color}"
        for span_layer in codebook.span_layers if span_layer.name in layers
        for label in span_layer.labels
    )
    return "\n".join(lines) + "\n"
