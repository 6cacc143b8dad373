"""The agreement report: database -> arrays -> :mod:`annotator.agreement` -> a JSON-ready dict.

``build_report`` loads one project's annotations (live assignments only), hands them to the
pure statistics in :mod:`annotator.agreement` and returns plain JSON data (format 1,
docs/report-format.md). ``cached_report`` keeps the result in the ``reports`` table keyed by
the parameters and reuses it while the project's annotations have not changed.
``report_json``, ``report_csv`` and ``report_html`` render a report dict as a download,
naming annotators as the exports do (``annotator_names``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from itertools import chain, combinations

import numpy as np
from sqlalchemy import Text, and_, case, cast, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import agreement
from .agreement.results import NOT_PAIRABLE, Figure
from .annotations import project_codebook
from .db import begin_write
from .errors import NotFound, ServiceError
from .models import (
    Adjudication,
    Assignment,
    Attribution,
    AttributionPart,
    Document,
    Event,
    Project,
    Report,
    Sentence,
    SentenceLabel,
    Span,
    User,
)
from .permissions import require_supervisor
from .pseudonyms import pseudonym
from .users import GOLD_USERNAME, not_gold

FORMAT = 1
MAX_DISAGREEMENTS = 5000  # per layer; the layer's "disagreements_total" gives the full count
NO_SHARED_DOCUMENT = "no document annotated by every annotator"
WORD = re.compile(r"\w+")


# --- figures as JSON ----------------------------------------------------------------------


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def figure_json(figure: Figure) -> dict:
    value = _number(figure.value)
    undefined = figure.undefined
    if value is None and undefined is None:  # a non-finite value: never NaN in the report
        undefined = "not finite"
    interval = None
    if figure.seed is not None:
        interval = {
            "low": _number(figure.low),
            "high": _number(figure.high),
            "p_below_0667": _number(figure.p_below_0667),
            "p_below_08": _number(figure.p_below_08),
            "replicates": int(figure.replicates),
            "seed": int(figure.seed),
            "undefined": figure.interval_undefined,
        }
    result = {
        "value": value,
        "undefined": undefined,
        "band": agreement.band(value),
        "units": int(figure.units),
        "pairs": int(figure.pairs),
        "annotators": int(figure.annotators),
        "interval": interval,
    }
    if figure.units_left_out is not None:  # only figures that leave units out (Fleiss' kappa)
        result["units_left_out"] = int(figure.units_left_out)
    return result


def _undefined(reason: str, units: int = 0, pairs: int = 0, annotators: int = 0) -> Figure:
    return Figure(None, reason, units, pairs, annotators)


def _mean(figures: list[tuple[tuple[int, int], Figure]], reason: str = NOT_PAIRABLE) -> Figure:
    """Mean over annotator pairs of the defined figures; ``pairs`` counts those pairs."""
    defined = [(pair, f) for pair, f in figures if f.value is not None]
    if not defined:
        reasons = [f.undefined for _, f in figures if f.undefined]
        return _undefined(reasons[0] if reasons else reason)
    people = {person for pair, _ in defined for person in pair}
    return Figure(
        float(np.mean([f.value for _, f in defined])),
        None,
        units=max(f.units for _, f in defined),
        pairs=len(defined),
        annotators=len(people),
    )


# --- loading ------------------------------------------------------------------------------


class _Data:
    """Everything the report is computed from, loaded once."""


def _since_datetime(since: dt.date | None) -> dt.datetime | None:
    if since is None:
        return None
    return dt.datetime(since.year, since.month, since.day, tzinfo=dt.timezone.utc)


class _LayerSpans:
    """One span layer's spans of live assignments as parallel int64 arrays: ``user`` and
    ``document`` (indices in data.user_ids and data.docs), ``sentence`` (id), ``start``,
    ``end``, ``label`` (index in ``labels``: in order of first appearance, by (user, document)
    first seen, then row)."""

    def __init__(self, columns: dict[str, np.ndarray], labels: list[str]):
        self.user, self.document, self.sentence = columns["user"], columns["document"], columns["sentence"]
        self.start, self.end, self.label = columns["start"], columns["end"], columns["label"]
        self.labels = labels


SPAN_CHUNK = 100_000  # rows fetched at a time: the Python rows of one chunk live at once


def _index_of(ids: np.ndarray, sorted_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in ``sorted_ids`` and whether each is there."""
    position = np.searchsorted(sorted_ids, ids).clip(0, max(sorted_ids.size - 1, 0))
    found = sorted_ids[position] == ids if sorted_ids.size else np.zeros(ids.size, dtype=bool)
    return position, found


def _span_table(session: Session, scoped) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """(6, n) int64 rows (user, document, sentence, start, end, code) of every span in scope,
    and the (layer, label) of each code.

    The database turns (layer, label) into its code, so that every column is an integer, and
    the rows are read from the DBAPI cursor in chunks straight into arrays: Python builds
    only the driver's tuples of one chunk (1.2 million spans: 1.2 s instead of 5 s through
    SQLAlchemy's rows and string columns)."""
    names = [tuple(row) for row in session.execute(scoped(
        select(Span.layer, Span.label).distinct().join(Document, Document.id == Span.document_id), Span))]
    if not names:
        return np.zeros((6, 0), dtype=np.int64), names
    code = case(*[(and_(Span.layer == layer, Span.label == label), c) for c, (layer, label) in enumerate(names)],
                else_=-1)
    query = select(Span.user_id, Span.document_id, Span.sentence_id, Span.start, Span.end, code).join(
        Document, Document.id == Span.document_id)
    cursor = session.connection().execute(scoped(query, Span)).cursor
    chunks = []
    while rows := cursor.fetchmany(SPAN_CHUNK):
        flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=6 * len(rows))
        chunks.append(flat.reshape(-1, 6).T)
    cursor.close()
    return (np.concatenate(chunks, axis=1) if chunks else np.zeros((6, 0), dtype=np.int64)), names


def _load_spans(session: Session, scoped, data: _Data) -> dict[str, _LayerSpans]:
    """Every span of a live assignment, as arrays per layer."""
    table, names = _span_table(session, scoped)
    user, user_found = _index_of(table[0], np.array(data.user_ids, dtype=np.int64))
    document, document_found = _index_of(table[1], np.array([d for d, _, _ in data.docs], dtype=np.int64))
    keep = user_found & document_found
    keep[keep] = data.live_matrix[user[keep], document[keep]]
    user, document, table = user[keep], document[keep], table[:, keep]
    layer_of = np.array([layer for layer, _ in names], dtype=object)
    label_of = [label for _, label in names]
    # Order of first appearance: rows grouped by (user, document) in the order those are
    # first seen, then in row order (as the report has always listed new labels).
    owner = user * len(data.docs) + document
    result = {}
    for layer in sorted(set(layer_of[table[5]].tolist()) if table.shape[1] else ()):
        mine = np.flatnonzero(np.isin(table[5], np.flatnonzero(layer_of == layer)))
        _, first_row, owner_rank = np.unique(owner[mine], return_index=True, return_inverse=True)
        order = np.lexsort((np.arange(mine.size), first_row[owner_rank]))
        codes, first_seen = np.unique(table[5, mine][order], return_index=True)
        by_appearance = codes[np.argsort(first_seen)]
        local = np.zeros(len(names), dtype=np.int64)
        local[by_appearance] = np.arange(by_appearance.size)
        result[layer] = _LayerSpans(
            {"user": user[mine], "document": document[mine], "sentence": table[2, mine], "start": table[3, mine],
             "end": table[4, mine], "label": local[table[5, mine]]},
            [label_of[c] for c in by_appearance],
        )
    return result


def _load(session: Session, project: Project, documents, annotators, since, *, with_gold: bool = False) -> _Data:
    """The project's data; the gold account (annotator.adjudication) only ``with_gold``."""
    data = _Data()
    data.codebook = project_codebook(project)
    since_at = _since_datetime(since)

    in_project = Document.project_id == project.id
    document_filter = [in_project]
    if documents is not None:
        document_filter.append(Document.id.in_(list(documents)))

    query = (
        select(Assignment.user_id, Assignment.document_id)
        .join(Document, Document.id == Assignment.document_id)
        .where(*document_filter, Assignment.status != "withdrawn")
    )
    if annotators is not None:
        query = query.where(Assignment.user_id.in_(list(annotators)))
    if not with_gold:
        query = query.where(not_gold(Assignment.user_id))
    live = {(u, d) for u, d in session.execute(query)}
    data.live = live
    user_ids = sorted({u for u, _ in live})
    doc_ids = sorted({d for _, d in live})
    data.users = [
        {"id": uid, "username": name}
        for uid, name in session.execute(
            select(User.id, User.username).where(User.id.in_(user_ids)).order_by(User.id)
        )
    ] if user_ids else []
    data.user_ids = [u["id"] for u in data.users]
    data.user_index = {u: i for i, u in enumerate(data.user_ids)}

    docs = session.execute(
        select(Document.id, Document.title, Document.text).where(*document_filter).order_by(Document.id)
    ).all()
    keep = set(doc_ids)
    data.docs = [(d, title, text) for d, title, text in docs if d in keep]
    data.doc_index = {d: i for i, (d, _, _) in enumerate(data.docs)}
    data.live_matrix = np.zeros((len(data.user_ids), len(data.docs)), dtype=bool)  # [user index, doc index]
    for u, d in live:
        data.live_matrix[data.user_index[u], data.doc_index[d]] = True

    sentences = session.execute(
        select(Sentence.id, Sentence.document_id, Sentence.position)
        .join(Document, Document.id == Sentence.document_id)
        .where(*document_filter)
        .order_by(Sentence.document_id, Sentence.position)
    ).all()
    sentences = [s for s in sentences if s[1] in data.doc_index]
    data.sentence_ids = np.array([s[0] for s in sentences], dtype=np.int64)
    data.sentence_doc = np.array([data.doc_index[s[1]] for s in sentences], dtype=np.int64)
    data.sentence_position = np.array([s[2] for s in sentences], dtype=np.int64)
    data.sentence_index = {int(s): i for i, s in enumerate(data.sentence_ids)}
    data.sentence_of = {s[0]: (s[1], s[2]) for s in sentences}

    def scoped(q, model):
        q = q.where(*document_filter)
        if annotators is not None:
            q = q.where(model.user_id.in_(list(annotators)))
        if since_at is not None:
            q = q.where(model.updated_at >= since_at)
        return q

    labels = defaultdict(list)  # layer -> [(user, sentence, value)]
    # Values as JSON text, each distinct one decoded once (a layer has a handful of values).
    decoded = {}
    q = select(
        SentenceLabel.user_id, SentenceLabel.sentence_id, SentenceLabel.layer, cast(SentenceLabel.value, Text)
    ).join(Sentence, Sentence.id == SentenceLabel.sentence_id).join(Document, Document.id == Sentence.document_id)
    for user, sentence, layer, text in session.execute(scoped(q, SentenceLabel)):
        where = data.sentence_of.get(sentence)
        if where is None or text is None or (user, where[0]) not in live:
            continue
        if text not in decoded:
            decoded[text] = json.loads(text)
        value = decoded[text]
        if value is None or value == []:
            continue
        labels[layer].append((user, sentence, value))
    data.labels = labels

    data.spans = _load_spans(session, scoped, data)
    q = select(
        Attribution.id, Attribution.user_id, Attribution.document_id, Attribution.relation, Attribution.attributes
    ).join(Document, Document.id == Attribution.document_id)
    attributions = {}
    for aid, user, doc, relation, attributes in session.execute(scoped(q, Attribution).order_by(Attribution.id)):
        if (user, doc) in live:
            attributions[aid] = (user, doc, relation, attributes or {}, defaultdict(list))
    if attributions:
        q = (
            select(AttributionPart.attribution_id, AttributionPart.role, Span.start, Span.end)
            .join(Span, Span.id == AttributionPart.span_id)
            .join(Document, Document.id == Span.document_id)
            .where(*document_filter)
        )
        for aid, role, start, end in session.execute(q):
            if aid in attributions:
                attributions[aid][4][role].append((start, end))
    relations = defaultdict(lambda: defaultdict(list))  # relation -> (user, doc) -> [Attribution]
    for user, doc, relation, attributes, parts in attributions.values():
        relations[relation][(user, doc)].append(
            agreement.Attribution(parts={r: list(p) for r, p in parts.items()}, attributes=dict(attributes))
        )
    data.relations = relations
    return data


# --- choice layers ------------------------------------------------------------------------


def choice_codes(data: _Data, layer) -> tuple[np.ndarray, list[str]]:
    """(annotators, sentences) category codes of a choice layer (MISSING where no value), and
    the category names: the codebook's values, then any other value found (a multiple-choice
    value is one category per combination, its values sorted and joined with "+")."""
    categories = list(layer.value_names)

    def code_of(value) -> int:
        name = "+".join(sorted(value)) if isinstance(value, list) else str(value)
        if name not in index:
            index[name] = len(categories)
            categories.append(name)
        return index[name]

    index = {name: i for i, name in enumerate(categories)}
    n_annotators, n_units = len(data.user_ids), len(data.sentence_ids)
    codes = np.full((n_annotators, n_units), agreement.MISSING, dtype=np.int64)
    for user, sentence, value in data.labels.get(layer.name, ()):
        codes[data.user_index[user], data.sentence_index[sentence]] = code_of(value)
    return codes, categories


def _choice_layer(data: _Data, layer, replicates: int, seed: int) -> dict:
    codes, categories = choice_codes(data, layer)
    n_annotators, n_units = codes.shape
    k = max(len(categories), 1)
    level = "ordinal" if layer.ordered else "nominal"
    document_ids = data.sentence_doc
    result = agreement.sentence_agreement(
        codes, k, level, document_ids=document_ids, replicates=replicates, seed=seed
    )
    pairs = list(combinations(range(n_annotators), 2))

    # Per document: alpha of each document's coincidences, and its disagreeing sentences.
    present = codes != agreement.MISSING
    counted = present.sum(axis=0)
    masked_min = np.where(present, codes, k).min(axis=0) if n_annotators else np.zeros(n_units)
    masked_max = np.where(present, codes, -1).max(axis=0) if n_annotators else np.zeros(n_units)
    disagreeing = (counted >= 2) & (masked_min != masked_max)
    per_document_o = agreement.document_coincidences(codes, document_ids, k) if n_units else np.zeros((0, k, k))
    disagreements_per_doc = np.bincount(document_ids[disagreeing], minlength=len(data.docs))
    units_per_doc = np.bincount(document_ids[counted >= 2], minlength=len(data.docs))
    documents = []
    for d, (doc_id, title, _) in enumerate(data.docs):
        o = per_document_o[d] if d < len(per_document_o) else np.zeros((k, k))
        figure = agreement.alpha_from_coincidences(o, level, units=int(units_per_doc[d]),
                                                   annotators=int(present[:, document_ids == d].any(axis=1).sum()))
        documents.append({"document": doc_id, "title": title, "alpha": figure_json(figure),
                          "disagreements": int(disagreements_per_doc[d])})
    documents.sort(key=lambda x: (x["alpha"]["value"] is None, x["alpha"]["value"] or 0.0, x["document"]))

    disagreement_rows = []
    for u in np.nonzero(disagreeing)[0][:MAX_DISAGREEMENTS]:
        disagreement_rows.append({
            "document": data.docs[int(document_ids[u])][0],
            "sentence": int(data.sentence_ids[u]),
            "position": int(data.sentence_position[u]),
            "values": {str(data.user_ids[a]): categories[int(codes[a, u])]
                       for a in range(n_annotators) if present[a, u]},
        })
    confusion = {pair: result.confusion[pair] for pair in pairs}
    return {
        "layer": layer.name,
        "title": layer.title,
        "kind": "choice",
        "level": level,
        "categories": categories,
        "metrics": {
            "alpha": figure_json(result.alpha),
            "fleiss_kappa": figure_json(result.fleiss_kappa),
            "observed_agreement": figure_json(result.observed_agreement),
        },
        "per_category": [
            {"category": name, "agreement": figure_json(result.specific_agreement[c])}
            for c, name in enumerate(categories[: len(result.specific_agreement)])
        ],
        "pairs": [
            {"a": data.user_ids[a], "b": data.user_ids[b],
             "cohen_kappa": figure_json(result.cohen_kappa[(a, b)]),
             "confusion": confusion[(a, b)].astype(int).tolist()}
            for a, b in pairs
        ],
        "pooled_confusion": np.asarray(result.pooled_confusion).astype(int).tolist()
        if n_annotators else [[0] * k for _ in range(k)],
        "annotators": [
            {"annotator": data.user_ids[i.annotator], "alpha_without": figure_json(i.alpha_without),
             "mean_kappa": figure_json(i.mean_kappa)}
            for i in result.annotators
        ],
        "documents": documents,
        "disagreements": disagreement_rows,
        "disagreements_total": int(disagreeing.sum()),
    }


# --- span layers --------------------------------------------------------------------------


def _shared_docs(data: _Data, users: list[int]) -> list[int]:
    return [d for d, _, _ in data.docs if all((u, d) in data.live for u in users)]


def _tokens(data: _Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document index, start, end) of every word of every document, computed once."""
    if not hasattr(data, "tokens"):
        bounds = [np.array([m.span() for m in WORD.finditer(text)], dtype=np.int64).reshape(-1, 2)
                  for _, _, text in data.docs]
        joined = np.concatenate(bounds) if bounds else np.zeros((0, 2), dtype=np.int64)
        document = np.repeat(np.arange(len(bounds)), [len(b) for b in bounds])
        data.tokens = (document, joined[:, 0], joined[:, 1])
    return data.tokens


def _sentence_positions(data: _Data, sentence_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each sentence in its document, and whether the sentence is known."""
    order = np.argsort(data.sentence_ids)
    where, found = _index_of(sentence_ids, data.sentence_ids[order])
    positions = data.sentence_position[order][where] if order.size else np.zeros(sentence_ids.size, dtype=np.int64)
    return positions, found


def _layer_spans(data: _Data, layer) -> tuple[_LayerSpans, list[str], np.ndarray]:
    """The layer's spans, its labels (the codebook's, then any other found) and each span's
    code in them."""
    empty = np.zeros(0, dtype=np.int64)
    loaded = data.spans.get(layer.name) or _LayerSpans(
        {name: empty for name in ("user", "document", "sentence", "start", "end", "label")}, [])
    labels = list(layer.label_names) if hasattr(layer, "label_names") else [x.name for x in layer.labels]
    labels += [label for label in loaded.labels if label not in labels]
    code = np.array([labels.index(label) for label in loaded.labels], dtype=np.int64)
    return loaded, labels, code[loaded.label]


def _spans_of(loaded: _LayerSpans, label_code: np.ndarray, user: int, documents: np.ndarray) -> agreement.spans.SpanArrays:
    """``user``'s spans in the documents marked in ``documents``, renumbered along them."""
    keep = (loaded.user == user) & documents[loaded.document]
    run_index = np.cumsum(documents) - 1
    return agreement.spans.SpanArrays(run_index[loaded.document[keep]], loaded.start[keep], loaded.end[keep],
                                      label_code[keep])


def _span_layer(data: _Data, layer, replicates: int, seed: int) -> dict:
    loaded, labels, label_code = _layer_spans(data, layer)
    n_docs = len(data.docs)
    live = data.live_matrix

    def spans_of(user: int, documents: np.ndarray) -> agreement.spans.SpanArrays:
        return _spans_of(loaded, label_code, user, documents)

    user_pairs = list(combinations(data.user_ids, 2))
    pair_rows, per_pair = [], {}
    doc_scores = defaultdict(list)  # doc -> [exact F1 of each pair with spans]
    disagreeing_docs, disagreeing_sentences = [], []  # (document index, sentence) of every pair's differences
    disagreement_rows, total = [], 0
    for a, b in user_pairs:
        ia, ib = data.user_index[a], data.user_index[b]
        shared = live[ia] & live[ib]
        if not shared.any():
            nothing = _undefined(NOT_PAIRABLE, annotators=2)
            figures = {"exact_f1": nothing, "partial_f1": nothing, "boundary_f1": nothing}
            per_label = {label: (nothing, nothing) for label in labels}
            per_pair[(a, b)] = (figures, per_label)
            pair_rows.append({"a": a, "b": b, **{name: figure_json(f) for name, f in figures.items()}})
            continue
        scores = agreement.spans.span_agreement_arrays(spans_of(ia, shared), spans_of(ib, shared), labels,
                                                       int(shared.sum()))
        figures = {"exact_f1": scores.micro.exact_f1, "partial_f1": scores.micro.partial_f1,
                   "boundary_f1": scores.boundary.exact_f1}
        per_label = {label: (s.exact_f1, s.partial_f1) for label, s in scores.per_label.items()}
        per_pair[(a, b)] = (figures, per_label)
        pair_rows.append({"a": a, "b": b, **{name: figure_json(f) for name, f in figures.items()}})

        # Per document: exact F1 of the distinct (start, end, label), and where they differ,
        # the sentences whose distinct spans differ.
        rows_a = np.flatnonzero((loaded.user == ia) & shared[loaded.document])
        rows_b = np.flatnonzero((loaded.user == ib) & shared[loaded.document])

        def distinct(rows, *by_sentence):
            columns = [loaded.document[rows], *(c[rows] for c in by_sentence), label_code[rows], loaded.start[rows],
                       loaded.end[rows]]
            keep = agreement.spans.unique_rows(columns)
            return rows[keep], [column[keep] for column in columns]

        doc_rows_a, columns_a = distinct(rows_a)
        doc_rows_b, columns_b = distinct(rows_b)
        matched_a, _ = agreement.spans.shared_rows(columns_a, columns_b)
        size_a = np.bincount(columns_a[0], minlength=n_docs)
        size_b = np.bincount(columns_b[0], minlength=n_docs)
        matches = np.bincount(columns_a[0][matched_a], minlength=n_docs)
        for d in np.flatnonzero(size_a + size_b):
            doc_scores[data.docs[d][0]].append(2 * int(matches[d]) / (int(size_a[d]) + int(size_b[d])))
        differing = (matches != size_a) | (matches != size_b)
        sentence_rows_a, sentence_columns_a = distinct(rows_a[differing[loaded.document[rows_a]]], loaded.sentence)
        sentence_rows_b, sentence_columns_b = distinct(rows_b[differing[loaded.document[rows_b]]], loaded.sentence)
        found_a, found_b = agreement.spans.shared_rows(sentence_columns_a, sentence_columns_b)
        unmatched = np.concatenate([sentence_rows_a[~found_a], sentence_rows_b[~found_b]])
        documents, sentences = loaded.document[unmatched], loaded.sentence[unmatched]
        positions, known = _sentence_positions(data, sentences)
        keep = agreement.spans.unique_rows([documents, np.where(known, positions, 0), sentences])
        documents, sentences, positions, known = documents[keep], sentences[keep], positions[keep], known[keep]
        disagreeing_docs.append(documents)
        disagreeing_sentences.append(sentences)
        total += documents.size
        for d, sentence, position, is_known in zip(documents[:MAX_DISAGREEMENTS - len(disagreement_rows)].tolist(),
                                                    sentences.tolist(), positions.tolist(), known.tolist()):
            disagreement_rows.append({"document": data.docs[d][0], "sentence": sentence,
                                      "position": position if is_known else -1, "a": a, "b": b})
    doc_disagreements = np.zeros(n_docs, dtype=np.int64)
    if disagreeing_docs:
        documents, sentences = np.concatenate(disagreeing_docs), np.concatenate(disagreeing_sentences)
        keep = agreement.spans.unique_rows([documents, sentences])
        doc_disagreements = np.bincount(documents[keep], minlength=n_docs)

    metrics = {
        name: _mean([(pair, per_pair[pair][0][name]) for pair in user_pairs])
        for name in ("exact_f1", "partial_f1", "boundary_f1")
    }

    # Unitizing alpha and token alpha over the documents every annotator annotated.
    everyone = live.all(axis=0) if len(data.user_ids) >= 2 else np.zeros(n_docs, dtype=bool)
    if everyone.any():
        unitizing = agreement.unitizing.unitizing_alpha_arrays(
            [len(text) for (_, _, text), shared in zip(data.docs, everyone) if shared],
            [spans_of(u, everyone) for u in range(len(data.user_ids))],
            labels,
            replicates=replicates,
            seed=seed,
        )
        unitizing_pooled, unitizing_per_label = unitizing.pooled, unitizing.per_label
    else:
        reason = agreement.results.FEWER_THAN_TWO_ANNOTATORS if len(data.user_ids) < 2 else NO_SHARED_DOCUMENT
        unitizing_pooled = _undefined(reason, annotators=len(data.user_ids))
        unitizing_per_label = {label: unitizing_pooled for label in labels}

    token_document, token_start, token_end = _tokens(data)
    every_document = np.ones(n_docs, dtype=bool)
    token = agreement.spans.token_alpha_arrays(
        token_document, token_start, token_end, live, [spans_of(u, every_document) for u in range(len(data.user_ids))],
        len(labels), replicates=replicates, seed=seed,
    )

    documents = []
    for d, title, _ in data.docs:
        scores = doc_scores.get(d)
        if scores:
            exact = Figure(float(np.mean(scores)), None, units=1, pairs=len(scores),
                           annotators=sum(1 for u in data.user_ids if (u, d) in data.live))
        else:
            exact = _undefined(agreement.results.NO_SPANS if len(_live_users(data, d)) >= 2 else NOT_PAIRABLE)
        documents.append({"document": d, "title": title, "exact_f1": figure_json(exact),
                          "disagreements": int(doc_disagreements[data.doc_index[d]])})
    documents.sort(key=lambda x: (x["exact_f1"]["value"] is None, x["exact_f1"]["value"] or 0.0, x["document"]))

    annotators = []
    for u in data.user_ids:
        mine = [(pair, per_pair[pair][0]["exact_f1"]) for pair in user_pairs if u in pair]
        annotators.append({"annotator": u, "mean_f1": figure_json(_mean(mine))})

    return {
        "layer": layer.name,
        "title": layer.title,
        "kind": "span",
        "labels": labels,
        "metrics": {
            "unitizing_alpha": figure_json(unitizing_pooled),
            "token_alpha": figure_json(token),
            **{name: figure_json(f) for name, f in metrics.items()},
        },
        "per_label": [
            {
                "label": label,
                "unitizing_alpha": figure_json(unitizing_per_label.get(label, _undefined(agreement.results.NO_UNITS))),
                "exact_f1": figure_json(_mean([(p, per_pair[p][1][label][0]) for p in user_pairs])),
                "partial_f1": figure_json(_mean([(p, per_pair[p][1][label][1]) for p in user_pairs])),
            }
            for label in labels
        ],
        "pairs": pair_rows,
        "annotators": annotators,
        "documents": documents,
        "disagreements": disagreement_rows,
        "disagreements_total": total,
    }


def _live_users(data: _Data, doc: int) -> list[int]:
    return [u for u in data.user_ids if (u, doc) in data.live]


# --- relations ----------------------------------------------------------------------------


def _relation_roles(relation) -> dict:
    """The roles an attribution_agreement over this relation scores and aligns by: all of
    them, and those it requires (the default codebook: cue and content), else all."""
    roles = [role.name for role in relation.roles]
    return {"roles": roles, "aligning": [role.name for role in relation.roles if role.required] or roles}


def _relation_layer(data: _Data, relation, replicates: int, seed: int) -> dict:
    owned = data.relations.get(relation.name, {})
    roles = [role.name for role in relation.roles]
    attribute_names = [attribute.name for attribute in relation.attributes]
    pair_rows, per_pair = [], {}
    for a, b in combinations(data.user_ids, 2):
        shared = _shared_docs(data, [a, b])
        if shared:
            result = agreement.attribution_agreement(
                [owned.get((a, d), []) for d in shared], [owned.get((b, d), []) for d in shared],
                attribute_names, **_relation_roles(relation), replicates=replicates, seed=seed,
            )
            aligned = sum(len(x) for x in result.alignment)
            role_figures = {r: (result.roles[r].exact, result.roles[r].overlap) for r in roles}
            attribute_figures = dict(result.attributes)
        else:
            nothing = _undefined(NOT_PAIRABLE, annotators=2)
            aligned, role_figures = 0, {r: (nothing, nothing) for r in roles}
            attribute_figures = {name: nothing for name in attribute_names}
        per_pair[(a, b)] = (role_figures, attribute_figures)
        pair_rows.append({
            "a": a, "b": b, "aligned": aligned,
            "roles": {r: {"exact": figure_json(e), "overlap": figure_json(o)} for r, (e, o) in role_figures.items()},
            "attributes": {name: figure_json(f) for name, f in attribute_figures.items()},
        })
    pairs = list(per_pair)
    return {
        "layer": relation.name,
        "title": relation.title,
        "kind": "relation",
        "pairs": pair_rows,
        "metrics": {
            "roles": {
                r: {
                    "exact": figure_json(_mean([(p, per_pair[p][0][r][0]) for p in pairs])),
                    "overlap": figure_json(_mean([(p, per_pair[p][0][r][1]) for p in pairs])),
                }
                for r in roles
            },
            "attributes": {
                name: figure_json(_mean([(p, per_pair[p][1][name]) for p in pairs])) for name in attribute_names
            },
        },
    }


# --- annotators against gold --------------------------------------------------------------


def _against_gold(data: _Data, gold: int) -> list[dict]:
    """Per layer, each annotator against gold over the documents both have (the report's
    pure functions, with gold in the place of the second annotator): Cohen's kappa for
    choice layers, exact and overlap (partial-credit) F1 for span layers, with precision and
    recall of the annotator's spans; per-role exact and overlap F1 for relations."""
    codebook = data.codebook
    g = data.user_index[gold]
    people = [(u, data.user_index[u]) for u in data.user_ids if u != gold]
    nothing = figure_json(_undefined(NOT_PAIRABLE, annotators=2))
    result: list[dict] = []
    for layer in codebook.choice_layers:
        codes, categories = choice_codes(data, layer)
        result.append({"layer": layer.name, "kind": "choice", "annotators": [
            {"annotator": u, "kappa": figure_json(agreement.cohen_kappa(codes[[i, g]], max(len(categories), 1))[(0, 1)])}
            for u, i in people
        ]})
    for layer in codebook.span_layers:
        loaded, labels, label_code = _layer_spans(data, layer)
        rows = []
        for u, i in people:
            shared = data.live_matrix[i] & data.live_matrix[g]
            if not shared.any():
                rows.append({"annotator": u, "exact_f1": nothing, "overlap_f1": nothing, "precision": nothing,
                             "recall": nothing})
                continue
            micro = agreement.spans.span_agreement_arrays(
                _spans_of(loaded, label_code, i, shared), _spans_of(loaded, label_code, g, shared), labels,
                int(shared.sum())).micro
            rows.append({"annotator": u, "exact_f1": figure_json(micro.exact_f1),
                         "overlap_f1": figure_json(micro.partial_f1), "precision": figure_json(micro.precision),
                         "recall": figure_json(micro.recall)})
        result.append({"layer": layer.name, "kind": "span", "annotators": rows})
    for relation in codebook.relations:
        owned = data.relations.get(relation.name, {})
        roles = [role.name for role in relation.roles]
        rows = []
        for u, _ in people:
            shared = _shared_docs(data, [u, gold])
            if not shared:
                rows.append({"annotator": u, "roles": {r: {"exact": nothing, "overlap": nothing} for r in roles}})
                continue
            scores = agreement.attribution_agreement(
                [owned.get((u, d), []) for d in shared], [owned.get((gold, d), []) for d in shared], attributes=(),
                **_relation_roles(relation))
            rows.append({"annotator": u, "roles": {
                r: {"exact": figure_json(scores.roles[r].exact), "overlap": figure_json(scores.roles[r].overlap)}
                for r in roles}})
        result.append({"layer": relation.name, "kind": "relation", "annotators": rows})
    return result


def gold_scores(session: Session, project: Project, *, documents: list[int] | None = None,
                annotators: list[int] | None = None) -> dict:
    """Each annotator against gold per layer, over the project's adjudicated documents (of
    ``documents``, if given; only ``annotators``, if given). ``layers``: per layer (as in the
    report: layer, kind) one row per annotator; ``documents`` counts the adjudicated documents
    (0: no gold, and no layers)."""
    gold = session.scalar(select(User.id).where(User.username == GOLD_USERNAME))
    query = select(Adjudication.document_id).join(Document, Document.id == Adjudication.document_id).where(
        Document.project_id == project.id, Adjudication.status == "adjudicated")
    if documents is not None:
        query = query.where(Document.id.in_(list(documents)))
    adjudicated = sorted(session.scalars(query))
    if gold is None or not adjudicated:
        return {"documents": 0, "annotators": [], "layers": []}
    data = _load(session, project, adjudicated, None if annotators is None else [*annotators, gold], None,
                 with_gold=True)
    return {
        "documents": len(adjudicated),
        "annotators": [u for u in data.users if u["id"] != gold],
        "layers": _against_gold(data, gold),
    }


# --- the report ---------------------------------------------------------------------------


def _project(session: Session, actor: User | None, project_id: int) -> Project:
    if actor is not None:
        require_supervisor(actor)
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}", field="project")
    return project


def _parameters(documents, annotators, since, replicates, seed) -> dict:
    return {
        "documents": sorted({int(d) for d in documents}) if documents is not None else None,
        "annotators": sorted({int(a) for a in annotators}) if annotators is not None else None,
        "since": since.isoformat() if since is not None else None,
        "replicates": int(replicates),
        "seed": int(seed),
    }


def build_report(
    session: Session,
    actor: User | None,
    project_id: int,
    *,
    documents: list[int] | None = None,
    annotators: list[int] | None = None,
    since: dt.date | None = None,
    replicates: int = agreement.DEFAULT_REPLICATES,
    seed: int = agreement.DEFAULT_SEED,
) -> dict:
    """The agreement report of a project as JSON data (docs/report-format.md).

    ``actor`` must be a supervisor or admin; None means the command line (trusted)."""
    project = _project(session, actor, project_id)
    parameters = _parameters(documents, annotators, since, replicates, seed)
    data = _load(session, project, parameters["documents"], parameters["annotators"], since)
    codebook = data.codebook
    layers = []
    for layer in codebook.choice_layers:
        layers.append(_choice_layer(data, layer, replicates, seed))
    for layer in codebook.span_layers:
        layers.append(_span_layer(data, layer, replicates, seed))
    for relation in codebook.relations:
        layers.append(_relation_layer(data, relation, replicates, seed))
    against_gold = gold_scores(session, project, documents=parameters["documents"], annotators=parameters["annotators"])
    gold_rows = {(layer["kind"], layer["layer"]): layer["annotators"] for layer in against_gold["layers"]}
    for layer in layers:
        layer["gold"] = gold_rows.get((layer["kind"], layer["layer"]))
    return {
        "format": FORMAT,
        "project": {
            "id": project.id,
            "name": project.name,
            "codebook": {"name": codebook.name, "version": codebook.version},
        },
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "annotators": data.users,
        "counts": {
            "documents": len(data.docs),
            "sentences": int(len(data.sentence_ids)),
            "annotators": len(data.users),
        },
        "gold": {"documents": against_gold["documents"]},
        "layers": layers,
    }


# --- the cache ----------------------------------------------------------------------------


# Bumped when the report gains a key, so that reports cached without it are computed anew
# (2: the "gold" sections; 3: intervals' "undefined", Fleiss' kappa's "units_left_out").
CACHE_REVISION = 3


def report_key(project_id: int, parameters: dict) -> str:
    canonical = json.dumps({"format": FORMAT, "revision": CACHE_REVISION, "project": project_id, **parameters},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(session: Session, project: Project) -> str:
    """Changes whenever anything the report reads changes: every change the service layer
    makes to annotations, assignments, documents or projects appends an audit event, so the
    newest event id (one index lookup, whatever the size of the project) and the codebook
    version identify the data. Conservative: a change in another project also renews it."""
    newest_event = session.scalar(select(func.max(Event.id)))
    return hashlib.sha256(f"{project.codebook_version}:{newest_event}".encode()).hexdigest()


def cached_report(
    session: Session,
    actor: User | None,
    project_id: int,
    *,
    documents: list[int] | None = None,
    annotators: list[int] | None = None,
    since: dt.date | None = None,
    replicates: int = agreement.DEFAULT_REPLICATES,
    seed: int = agreement.DEFAULT_SEED,
) -> dict:
    """``build_report``, computed once per (project, parameters, data fingerprint) and kept in
    the ``reports`` table; any change to the project's annotations recomputes it."""
    project = _project(session, actor, project_id)
    parameters = _parameters(documents, annotators, since, replicates, seed)
    key = report_key(project.id, parameters)
    current = fingerprint(session, project)  # before computing: a change meanwhile only re-computes
    row = session.execute(
        select(Report.fingerprint, Report.body).where(Report.project_id == project.id, Report.key == key)
    ).first()
    if row is not None and row.fingerprint == current:
        return row.body
    report = build_report(
        session, actor, project_id, documents=documents, annotators=annotators, since=since,
        replicates=replicates, seed=seed,
    )
    try:
        begin_write(session)
        session.execute(delete(Report).where(Report.project_id == project.id, Report.key == key))
        session.add(Report(project_id=project.id, key=key, fingerprint=current, body=report))
        session.commit()
    except IntegrityError:  # another worker stored it at the same moment
        session.rollback()
    return report


# --- downloads: JSON, CSV and HTML --------------------------------------------------------


def annotator_names(report: dict, *, secret_key: str | None, usernames: bool = False) -> dict[int, str]:
    """What the downloads call each annotator of the report (by user id): the pseudonym the
    exports use (keyed by the instance's secret key), or the user name when ``usernames``."""
    if usernames:
        return {int(a["id"]): a["username"] for a in report["annotators"]}
    if not secret_key:
        raise ServiceError("pseudonyms need the instance's secret key", field="secret_key")
    project_id = report["project"]["id"]
    return {int(a["id"]): pseudonym(secret_key, project_id, int(a["id"])) for a in report["annotators"]}


def report_json(report: dict, names: dict[int, str]) -> str:
    """The report as a JSON document, each of its ``annotators`` with its ``name``."""
    named = {**report, "annotators": [{**a, "name": names[int(a["id"])]} for a in report["annotators"]]}
    return json.dumps(named, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


CSV_COLUMNS = ("layer", "metric", "scope", "a", "b", "value", "undefined", "band", "low", "high",
               "units", "pairs", "annotators", "interval_undefined", "units_left_out")


def _csv_row(layer: str, metric: str, scope: str, a, b, figure: dict) -> list:
    interval = figure.get("interval") or {}
    return [layer, metric, scope, "" if a is None else a, "" if b is None else b,
            "" if figure["value"] is None else repr(figure["value"]), figure["undefined"] or "",
            figure["band"] or "", "" if interval.get("low") is None else repr(interval["low"]),
            "" if interval.get("high") is None else repr(interval["high"]),
            figure["units"], figure["pairs"], figure["annotators"], interval.get("undefined") or "",
            figure.get("units_left_out", "")]


def _gold_csv_rows(name: str, layer: dict, who) -> Iterator[list]:
    """Each annotator against gold: scope "gold", the annotator in column a."""
    for row in layer.get("gold") or ():
        if layer["kind"] == "relation":
            for role, figures in row["roles"].items():
                for kind, figure in figures.items():
                    yield _csv_row(name, f"{role}.{kind}", "gold", who(row["annotator"]), None, figure)
        else:
            for metric, figure in row.items():
                if metric != "annotator":
                    yield _csv_row(name, metric, "gold", who(row["annotator"]), None, figure)


def _csv_rows(report: dict, who) -> Iterator[list]:
    for layer in report["layers"]:
        name = layer["layer"]
        if layer["kind"] == "relation":
            for role, figures in layer["metrics"]["roles"].items():
                for kind, figure in figures.items():
                    yield _csv_row(name, f"{role}.{kind}", "overall", None, None, figure)
            for attribute, figure in layer["metrics"]["attributes"].items():
                yield _csv_row(name, f"attribute.{attribute}", "overall", None, None, figure)
            for pair in layer["pairs"]:
                a, b = who(pair["a"]), who(pair["b"])
                for role, figures in pair["roles"].items():
                    for kind, figure in figures.items():
                        yield _csv_row(name, f"{role}.{kind}", "pair", a, b, figure)
                for attribute, figure in pair["attributes"].items():
                    yield _csv_row(name, f"attribute.{attribute}", "pair", a, b, figure)
            continue
        for metric, figure in layer["metrics"].items():
            yield _csv_row(name, metric, "overall", None, None, figure)
        if layer["kind"] == "choice":
            for row in layer["per_category"]:
                yield _csv_row(name, "specific_agreement", "label", row["category"], None, row["agreement"])
            for pair in layer["pairs"]:
                yield _csv_row(name, "cohen_kappa", "pair", who(pair["a"]), who(pair["b"]), pair["cohen_kappa"])
            for row in layer["annotators"]:
                yield _csv_row(name, "alpha_without", "annotator", who(row["annotator"]), None, row["alpha_without"])
                yield _csv_row(name, "mean_kappa", "annotator", who(row["annotator"]), None, row["mean_kappa"])
            for row in layer["documents"]:
                yield _csv_row(name, "alpha", "document", row["document"], None, row["alpha"])
        else:
            for row in layer["per_label"]:
                for metric in ("unitizing_alpha", "exact_f1", "partial_f1"):
                    yield _csv_row(name, metric, "label", row["label"], None, row[metric])
            for pair in layer["pairs"]:
                for metric in ("exact_f1", "partial_f1", "boundary_f1"):
                    yield _csv_row(name, metric, "pair", who(pair["a"]), who(pair["b"]), pair[metric])
            for row in layer["annotators"]:
                yield _csv_row(name, "mean_f1", "annotator", who(row["annotator"]), None, row["mean_f1"])
            for row in layer["documents"]:
                yield _csv_row(name, "exact_f1", "document", row["document"], None, row["exact_f1"])
    for layer in report["layers"]:
        yield from _gold_csv_rows(layer["layer"], layer, who)


def report_csv(report: dict, names: dict[int, str]) -> Iterator[str]:
    """The report's figures as CSV lines (header first), one figure per row; annotators by
    their ``names``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in [list(CSV_COLUMNS), *_csv_rows(report, lambda user_id: names[int(user_id)])]:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def report_html(report: dict, names: dict[int, str]) -> str:
    """One self-contained HTML file (inline style, no script, no external resource);
    annotators by their ``names``."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from .paths import TEMPLATES_DIR

    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True,
    )

    def who(user_id) -> str:
        return names[int(user_id)]

    def number(value, digits: int = 3) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    return environment.get_template("report_file.html").render(report=report, who=who, number=number)
