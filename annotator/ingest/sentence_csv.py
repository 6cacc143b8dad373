"""Per-annotator sentence labels from a CSV (docs/interop.md, "Sentence labels from a CSV"),
as media-bias corpora publish them: a row per sentence and annotator, a ``sentence`` (or
``text``) column, an ``annotator`` column and a column per choice layer (named as the layer,
or mapped to it in [choices] of the mapping file; its values the layer's value names, or
mapped in [values]; several values of a multiple-choice layer separated by ``;`` or ``|``).
Other columns are not read. Comma, semicolon or tab separated, UTF-8.

The file has no documents: read() gives one item per sentence text, ``{"sentence": text,
"annotations": [{"annotator", "line", "sentence_labels": [{"layer", "value"}]}]}``, and
match_sentences() (pure) places them in the project's documents, by the sentence's text
(normalised as annotator.ingest.text normalises a paragraph) equal to a stored sentence's.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .label_names import suggestion
from .text import IngestError, normalise

if TYPE_CHECKING:
    from .annotations import _Reader

SENTENCE_COLUMNS = ("sentence", "text")
ANNOTATOR_COLUMN = "annotator"
MULTIPLE_SEPARATOR = re.compile(r"\s*[;|]\s*")


def read(reader: _Reader, text: str) -> None:
    """Add an item per sentence text (module doc) to ``reader.records``."""
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(rows, None)
    if not header:
        reader.problem(1, "the file is empty; its first line names the columns")
        return
    columns = {name.strip().casefold(): index for index, name in enumerate(header)}
    sentence_column = next((columns[name] for name in SENTENCE_COLUMNS if name in columns), None)
    layers = {layer.name: layer for layer in reader.codebook.choice_layers} if reader.codebook else {}
    choices = {key.casefold(): value for key, value in reader.mapping.choices.items()}
    layer_columns = [(index, choices.get(name.strip().casefold(), name.strip())) for index, name in enumerate(header)]
    layer_columns = [(index, layer) for index, layer in layer_columns if layer in layers]
    missing = [name for name, found in (("sentence (or text)", sentence_column),
                                        (ANNOTATOR_COLUMN, columns.get(ANNOTATOR_COLUMN))) if found is None]
    if missing or not layer_columns:
        if not layer_columns:
            missing.append(f"a choice layer ({', '.join(layers)}; or map a column to one in [choices] of the "
                           "mapping file)")
        reader.problem(1, f"the header has no column {' and no column '.join(missing)}; its columns: "
                          f"{', '.join(header)}")
        return
    values = reader.mapping.values
    by_sentence: dict[str, dict] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        sentence = normalise(cells[sentence_column])
        annotator = cells[columns[ANNOTATOR_COLUMN]].strip() or reader.annotator
        if not sentence or not annotator:
            reader.problem(line, "the sentence and the annotator are required")
            continue
        labels = []
        for index, layer in layer_columns:
            cell = cells[index].strip()
            if not cell:
                continue
            names = [values.get(name, name) for name in MULTIPLE_SEPARATOR.split(cell)] if layers[layer].multiple \
                else [values.get(cell, cell)]
            unknown = [name for name in names if name not in layers[layer].value_names]
            if unknown:
                reader.problem(line, f"{header[index]}: {unknown[0]!r} is not a value of choice layer {layer!r} and "
                                     f"the mapping file does not map it in [values]"
                                     f"{suggestion(unknown[0], list(layers[layer].value_names))}")
                continue
            if (first := seen.setdefault((sentence, annotator, layer), line)) != line:
                reader.problem(line, f"annotator {annotator!r} labelled this sentence's {layer} on line {first} "
                                     "already")
                continue
            labels.append({"layer": layer, "value": names if layers[layer].multiple else names[0],
                           "unsure": False, "comment": None})
        item = by_sentence.setdefault(sentence, {"sentence": sentence, "annotations": []})
        item["annotations"].append({"annotator": annotator, "line": line, "sentence_labels": labels})
    reader.records.update({f"sentence:{key}": item for key, item in by_sentence.items()})


def match_sentences(
    items: Iterable[dict],
    documents: Iterable[tuple[Any, str, Sequence[tuple[int, int]]]],
    source: str,
) -> tuple[dict[Any, list[dict]], list[IngestError], list[str]]:
    """Place read()'s items in documents given as (key, text, sentence (start, end) extents).

    Returns the annotation entries per document key (an annotator's sentence labels of one
    document in one entry, each label naming its sentence by ``start``, as the import
    service reads them), every sentence found in no document (one IngestError per CSV line,
    all of them), and warnings: a sentence found more than once is labelled everywhere it is.
    """
    where: defaultdict[str, list[tuple[Any, int]]] = defaultdict(list)  # normalised text -> (key, start)
    for key, text, extents in documents:
        for start, end in extents:
            where[normalise(text[start:end])].append((key, start))
    entries: dict[Any, dict[str, dict]] = defaultdict(dict)  # key -> annotator -> entry
    problems, warnings = [], []
    for item in items:
        found = where.get(item["sentence"], [])
        if not found:
            problems += [IngestError(source, f"no sentence of the project's documents has this text: "
                                             f"{item['sentence'][:80]!r}", entry["line"])
                         for entry in item["annotations"]]
            continue
        if len(found) > 1:
            warnings.append(f"{source}:{item['annotations'][0]['line']}: the sentence occurs {len(found)} times in "
                            "the project; labelled at each")
        for key, start in found:
            for entry in item["annotations"]:
                mine = entries[key].setdefault(entry["annotator"], {
                    "annotator": entry["annotator"], "line": entry["line"], "status": "done", "spans": [],
                    "attributions": [], "sentence_labels": []})
                mine["sentence_labels"] += [{**label, "start": start} for label in entry["sentence_labels"]]
    return {key: list(by_annotator.values()) for key, by_annotator in entries.items()}, problems, warnings
