"""The review page's data: every annotator's work on one document, side by side per sentence.

Read-only and for supervisors and admins. Text is returned as plain strings, cut into
segments here, so the template only has to escape it (never |safe).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import spandiff
from ..codebook import Codebook
from ..db import reads
from ..errors import NotFound
from ..models import Assignment, Attribution, AttributionPart, Document, Sentence, SentenceLabel, Span, User
from .assignments import ACTIVE_STATUSES, _done_layers
from .permissions import SUPERVISORS, Actor
from .projects import project_codebook, sees_project
from .users import not_gold


@dataclass(frozen=True)
class Segment:
    text: str
    labels: tuple[str, ...]  # the labels of the spans covering it, empty for plain text
    layers: tuple[int, ...]  # their layers' positions in the codebook, for colour classes


@dataclass
class Cell:
    """One annotator's work on one sentence."""

    labels: dict  # layer -> SentenceLabel
    spans: list[Span]
    segments: list[Segment]
    attributions: list[Attribution] = field(default_factory=list)  # those with a part in the sentence
    # What the page lists under the sentence: the spans outside the listed attributions, and
    # those attributions, each compared with the other annotators' (annotator.spandiff).
    spans_shown: list[spandiff.SpanShown] = field(default_factory=list)
    attributions_shown: list[spandiff.AttributionShown] = field(default_factory=list)

    @property
    def marked(self) -> bool:
        """Whether any of the annotator's spans covers part of the sentence."""
        return any(segment.labels for segment in self.segments)

    @property
    def anything(self) -> bool:
        """Whether the annotator marked anything in the sentence: a label, a span, an attribution."""
        return bool(self.labels or self.spans or self.attributions)


@dataclass
class Reviewer:
    """An annotator as the page shows them."""

    user_id: int
    name: str  # the username, or "Annotator A" when blind
    status: str

    @property
    def live(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass
class Row:
    sentence: Sentence
    text: str
    disagree: bool
    cells: list[Cell] = field(default_factory=list)  # one per shown annotator


@dataclass
class Review:
    document: Document
    codebook: Codebook
    annotators: list[Reviewer]  # every annotator of the document, for the selector
    shown: list[Reviewer]
    rows: list[Row]
    total_sentences: int
    disagreements: int


def segments(text: str, offset: int, spans: list[Span], layer_index: dict[str, int]) -> list[Segment]:
    """Cut ``text`` (which starts at ``offset`` in the document) where spans begin and end."""
    end = offset + len(text)
    clipped = [(max(s.start, offset), min(s.end, end), s) for s in spans if s.start < end and s.end > offset]
    cuts = sorted({offset, end, *(a for a, _, _ in clipped), *(b for _, b, _ in clipped)})
    result = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [s for start, stop, s in clipped if start <= a and b <= stop]
        result.append(
            Segment(
                text[a - offset : b - offset],
                tuple(s.label for s in covering),
                tuple(sorted({layer_index.get(s.layer, 0) for s in covering})),
            )
        )
    return result


def _signature(cell: Cell, layers: list[str]) -> tuple:
    values = tuple(repr(cell.labels[layer].value) if layer in cell.labels else None for layer in layers)
    spans = frozenset((s.layer, s.label, s.start, s.end, repr(sorted((s.attributes or {}).items()))) for s in cell.spans)
    attributions = frozenset(
        (x.relation, frozenset((p.role, p.span.start, p.span.end) for p in x.parts), repr(sorted((x.attributes or {}).items())))
        for x in cell.attributions
    )
    return values, spans, attributions


@reads(SUPERVISORS)
def document_review(
    session: Session,
    actor: Actor,
    document_id: int,
    *,
    annotator_id: int | None = None,
    disagree: bool = False,
    blind: bool = False,
) -> Review:
    """The document's sentences with each annotator's labels and spans.

    ``annotator_id``: show only that annotator. ``disagree``: only sentences where the
    annotators who labelled the sentence (live assignments, at least two) chose different
    values for the required choice layers, or marked different spans or attributions in it
    (extents, labels, attribute values), and those where one annotator marked something (a
    label, a span, an attribution) and another who has begun the document nothing.
    ``blind``: "Annotator A", "B", ... in the order the assignments were made.
    """
    document = session.scalar(select(Document).where(Document.id == document_id).options(joinedload(Document.project)))
    if document is None or not sees_project(session, actor, document.project_id):
        raise NotFound("no such document", field="document_id")
    codebook = project_codebook(document.project)
    assignments = session.execute(
        select(Assignment, User).join(User, User.id == Assignment.user_id)
        .where(Assignment.document_id == document.id, not_gold(User.id)).order_by(Assignment.id)
    ).all()
    annotators = [
        Reviewer(user.id, f"Annotator {_letters(index)}" if blind else user.username, assignment.status)
        for index, (assignment, user) in enumerate(assignments)
    ]
    shown = annotators
    if annotator_id is not None:
        shown = [a for a in annotators if a.user_id == annotator_id]
        if not shown:
            raise NotFound("that user has no assignment on this document", field="annotator")

    sentences = session.scalars(select(Sentence).where(Sentence.document_id == document.id).order_by(Sentence.position)).all()
    ids = [a.user_id for a in annotators]
    labels: dict[tuple[int, int], dict] = {}
    for row in session.scalars(
        select(SentenceLabel).join(Sentence).where(Sentence.document_id == document.id, SentenceLabel.user_id.in_(ids))
    ):
        if row.value is not None:
            labels.setdefault((row.user_id, row.sentence_id), {})[row.layer] = row
    spans: dict[int, list[Span]] = {}
    for span in session.scalars(
        select(Span).where(Span.document_id == document.id, Span.user_id.in_(ids)).order_by(Span.start, Span.end, Span.id)
    ):
        spans.setdefault(span.user_id, []).append(span)
    attributions: dict[tuple[int, int], list[Attribution]] = {}
    for attribution in session.scalars(
        select(Attribution).where(Attribution.document_id == document.id, Attribution.user_id.in_(ids))
        .order_by(Attribution.id).options(selectinload(Attribution.parts).joinedload(AttributionPart.span))
    ):
        for sentence_id in {p.span.sentence_id for p in attribution.parts}:
            attributions.setdefault((attribution.user_id, sentence_id), []).append(attribution)
    begun = {user for user, _ in labels} | set(spans)

    layer_index = {layer.name: index for index, layer in enumerate(codebook.span_layers)}
    done_layers = _done_layers(document.project.codebook)
    rows, disagreements = [], 0
    for sentence in sentences:
        text = document.text[sentence.start : sentence.end]
        cells = {}
        for a in annotators:
            mine = spans.get(a.user_id, [])
            cells[a.user_id] = Cell(
                labels.get((a.user_id, sentence.id), {}),
                [s for s in mine if s.sentence_id == sentence.id],
                segments(text, sentence.start, mine, layer_index),
                attributions.get((a.user_id, sentence.id), []),
            )
        shown_spans, shown_attributions = spandiff.compare_work(
            document.text, {user: cell.spans for user, cell in cells.items()},
            {user: cell.attributions for user, cell in cells.items()}, codebook)
        for user, cell in cells.items():
            cell.spans_shown, cell.attributions_shown = shown_spans[user], shown_attributions[user]
        participants = [
            cells[a.user_id] for a in annotators
            if a.live and all(layer in cells[a.user_id].labels for layer in done_layers)
        ]
        differs = len(participants) >= 2 and len({_signature(c, done_layers) for c in participants}) > 1
        # One marked something, another who has begun the document nothing.
        working = [cells[a.user_id] for a in annotators if a.live and a.user_id in begun]
        differs = differs or (any(c.anything for c in working) and not all(c.anything for c in working))
        disagreements += differs
        if disagree and not differs:
            continue
        rows.append(Row(sentence, text, differs, [cells[a.user_id] for a in shown]))
    return Review(document, codebook, annotators, shown, rows, len(sentences), disagreements)


def _letters(index: int) -> str:
    """A, B, ..., Z, AA, AB, ..."""
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = string.ascii_uppercase[remainder] + name
    return name
