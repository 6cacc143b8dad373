"""The disagreement browser: each disagreement a report's layer lists, with its document,
its sentence's text and each annotator's work on that sentence, read from the database when
the page is shown (a sentence deleted since the report was computed is left out). On a span
layer, each annotator's spans of the sentence (and attributions, when a relation links the
layer's spans) in full, compared with the other's (annotator.spandiff)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import spandiff
from ..db import reads
from ..models import Attribution, AttributionPart, Document, Sentence, Span
from ..services.permissions import SUPERVISORS, Actor
from ..services.projects import get_project, project_codebook
from ..services.review import segments


def entry_values(entry: dict) -> dict[int, Any]:
    """A sentence layer's disagreement: each annotator's value, by user id."""
    return {int(user): value for user, value in (entry.get("values") or {}).items()}


@reads(SUPERVISORS)
def disagreement_rows(session: Session, actor: Actor, project_id: int, layer: dict, entries: list[dict],
                      a: int | None, b: int | None) -> list[dict]:
    """Each disagreement of the report's ``layer`` (entries of its browser) with its document,
    sentence text and each annotator's work on it (``a``, ``b``: the pair asked for, if any)."""
    codebook = project_codebook(get_project(session, actor, project_id))
    if not entries:
        return []
    sentence_ids = {int(e["sentence"]) for e in entries}
    sentences = {s.id: s for s in session.scalars(select(Sentence).where(Sentence.id.in_(sentence_ids)))}
    document_ids = {s.document_id for s in sentences.values()}
    documents = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(document_ids)))}
    spans: dict[tuple[int, int], list[Span]] = {}
    attributions: dict[tuple[int, int], list[Attribution]] = {}
    if layer["kind"] == "span":
        users = {int(e["a"]) for e in entries} | {int(e["b"]) for e in entries}
        for span in session.scalars(
            select(Span).where(Span.document_id.in_(document_ids), Span.user_id.in_(users), Span.layer == layer["layer"])
            .order_by(Span.start, Span.end, Span.id)
        ):
            spans.setdefault((span.document_id, span.user_id), []).append(span)
        relations = [r.name for r in codebook.relations if r.layer == layer["layer"]]
        for attribution in session.scalars(
            select(Attribution).where(Attribution.document_id.in_(document_ids), Attribution.user_id.in_(users),
                                      Attribution.relation.in_(relations))
            .order_by(Attribution.id).options(selectinload(Attribution.parts).joinedload(AttributionPart.span))
        ) if relations else ():
            attributions.setdefault((attribution.document_id, attribution.user_id), []).append(attribution)
    rows = []
    for entry in entries:
        sentence = sentences.get(int(entry["sentence"]))
        if sentence is None:  # deleted since the report was computed
            continue
        document = documents[sentence.document_id]
        text = document.text[sentence.start : sentence.end]
        if layer["kind"] == "span":
            people = [int(entry["a"]), int(entry["b"])]
            shown_spans, shown_attributions = spandiff.compare_work(
                document.text,
                {user: [s for s in spans.get((document.id, user), []) if s.sentence_id == sentence.id] for user in people},
                {user: [x for x in attributions.get((document.id, user), [])
                        if any(p.span.sentence_id == sentence.id for p in x.parts)] for user in people},
                codebook)
            work = [
                {"user": user, "segments": segments(text, sentence.start, spans.get((document.id, user), []), {}),
                 "spans": shown_spans[user], "attributions": shown_attributions[user]}
                for user in people
            ]
        else:
            values = entry_values(entry)
            people = [i for i in (a, b) if i is not None] or sorted(values)
            people += [] if (a is None) == (b is None) else sorted(set(values) - set(people))
            work = [{"user": user, "value": values.get(user)} for user in people]
        rows.append({"document": document, "sentence": sentence, "text": text, "work": work})
    return rows
