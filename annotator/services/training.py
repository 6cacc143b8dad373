"""Training the learned suggester (annotator.suggest.learned) on a project's own work, and
choosing which of its trained models the project uses (docs/suggestions.md, "The learned
suggester").

``train`` reads what to learn from, trains outside any write transaction (CRFsuite takes the
time), scores the model and the model-free suggesters on the held-out gold documents side by
side, then stores the model disabled in one write of its own with an audit event. ``enable``
makes a model the project's suggester "learned" (the one enabled before is disabled in the
same transaction; the database refuses two), ``disable`` leaves the project without one.
Supervisors of the project and admins only.

What it learns from:

- the gold standard of the project's adjudicated documents, every sentence of every span layer
  (a gold document is complete: a sentence without gold spans teaches that nothing is there),
  less the held-out documents;
- accepted suggestions: where an annotator accepted a suggestion (of any suggester) of a layer
  on a document they marked done, the sentences holding the accepted suggestions, with that
  annotator's spans of that layer in them. Only documents without gold count (an adjudicated
  document teaches through its gold, and a held-out one must teach nothing). An unfinished
  document could still change, and a sentence without an acceptance may simply not have been
  read closely.

The held-out documents are a share of the gold documents, chosen by a SHA-256 of (seed,
document id): the same seed and gold documents, the same split on every machine.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from .. import suggest
from ..db import batch, reads, writes
from ..errors import NotFound, ServiceError
from ..models import ID_MAX, Assignment, Document, Project, Sentence, Span, SuggesterModel, SuggestionDecision, User
from ..suggest import learned
from ..suggest.evaluate import evaluate as evaluate_spans
from . import audit
from .permissions import SUPERVISORS, Actor
from .projects import get_project, project_codebook
from .suggestions import GOLD, _evaluation_json, _reference
from .users import not_gold

# Fewer gold documents than this give figures too rough to decide on (two held out of ten).
MIN_GOLD_DOCUMENTS = 10
MAX_HELD_OUT_SHARE = 0.5
# What the stored figures are measured against, as `annotator suggest evaluate` names a reference.
HELD_OUT = "held-out gold"


class _Document:
    """A document as a suggester reads it."""

    def __init__(self, document_id: int, text: str, language: str | None):
        self.id, self.text, self.language = document_id, text, language
        self.sentences: list[tuple[int, int]] = []
        self.sentence_ids: list[int] = []


def held_out_documents(document_ids: Sequence[int], share: float, seed: int) -> list[int]:
    """The gold documents held out: round(share · n) of them (at least one; 0.5 rounds up),
    those first in the order of a SHA-256 of (seed, id)."""
    count = max(1, int(math.floor(share * len(document_ids) + 0.5)))
    ranked = sorted(document_ids, key=lambda d: hashlib.sha256(f"{seed}:{d}".encode()).hexdigest())
    return sorted(ranked[:count])


def _documents(session: Session, document_ids: Sequence[int]) -> dict[int, _Document]:
    found = {row.id: _Document(row.id, row.text, row.language) for row in session.execute(
        select(Document.id, Document.text, Document.language).where(Document.id.in_(document_ids)))}
    for document_id, sentence_id, start, end in session.execute(
            select(Sentence.document_id, Sentence.id, Sentence.start, Sentence.end)
            .where(Sentence.document_id.in_(document_ids)).order_by(Sentence.document_id, Sentence.position)):
        found[document_id].sentences.append((start, end))
        found[document_id].sentence_ids.append(sentence_id)
    return found


def _pieces(label: str, start: int, end: int, fragments) -> list[tuple[str, int, int]]:
    """A span as (label, start, end) pieces: a discontinuous one's fragments each on its own."""
    return [(label, a, b) for a, b in fragments] if fragments else [(label, start, end)]


def _accepted_examples(session: Session, project: Project, gold_documents: set[int],
                       layers: list[str]) -> tuple[list[learned.Example], set[tuple[int, int]]]:
    """The examples of accepted suggestions (the module doc), and the (document, sentence id)
    pairs they teach."""
    accepted = session.execute(
        select(SuggestionDecision.user_id, SuggestionDecision.document_id, SuggestionDecision.layer, Sentence.id)
        .join(Document, Document.id == SuggestionDecision.document_id)
        .join(Assignment, (Assignment.user_id == SuggestionDecision.user_id)
              & (Assignment.document_id == SuggestionDecision.document_id))
        .join(Sentence, (Sentence.document_id == SuggestionDecision.document_id)
              & (Sentence.start <= SuggestionDecision.start) & (Sentence.end > SuggestionDecision.start))
        .where(Document.project_id == project.id, SuggestionDecision.decision == "accepted",
               Assignment.status == "done", SuggestionDecision.layer.in_(layers), not_gold(SuggestionDecision.user_id))
        .distinct()).all()
    sentences: dict[tuple[int, int, str], set[int]] = defaultdict(set)
    for user_id, document_id, layer, sentence_id in accepted:
        if document_id not in gold_documents:
            sentences[user_id, document_id, layer].add(sentence_id)
    if not sentences:
        return [], set()
    pairs = sorted({(user_id, document_id) for user_id, document_id, _ in sentences})
    spans: dict[tuple[int, int, str], list] = defaultdict(list)
    for row in session.execute(
            select(Span.user_id, Span.document_id, Span.layer, Span.sentence_id, Span.label, Span.start, Span.end,
                   Span.fragments).where(tuple_(Span.user_id, Span.document_id).in_(pairs))):
        if row.sentence_id in sentences.get((row.user_id, row.document_id, row.layer), ()):
            spans[row.user_id, row.document_id, row.layer] += _pieces(row.label, row.start, row.end, row.fragments)
    documents = _documents(session, sorted({document_id for _, document_id in pairs}))
    examples, taught = [], set()
    for (user_id, document_id, layer), sentence_ids in sorted(sentences.items()):
        document = documents[document_id]
        chosen = tuple(offsets for offsets, sentence_id in zip(document.sentences, document.sentence_ids)
                       if sentence_id in sentence_ids)
        examples.append(learned.Example(document.text, document.language, layer, chosen,
                                        tuple(spans[user_id, document_id, layer])))
        taught |= {(document_id, sentence_id) for sentence_id in sentence_ids}
    return examples, taught


def _held_out_evaluation(suggester: suggest.Suggester, documents: list[_Document], gold: list[tuple],
                         labels: set[tuple[str, str]]) -> dict | None:
    """One suggester's figures on the held-out documents as `annotator suggest evaluate` gives
    them for stored suggestions: the layers it suggested there scored, per label and pooled
    over the labels it suggested. Only ``labels`` count (of the codebook, in the layers the
    model learned); None when it suggested none of them there."""
    suggested = [(document.id, s.layer, s.label, s.start, s.end) for document in documents
                 for s in suggester.suggest(document.text, document.sentences, document.language)
                 if (s.layer, s.label) in labels]
    if not suggested:
        return None
    layers = {layer for _, layer, *_ in suggested}
    evaluation = evaluate_spans(suggested, [span for span in gold if span[1] in layers], len(documents),
                                scored=sorted({(layer, label) for _, layer, label, *_ in suggested}))
    return _evaluation_json(suggester, evaluation, len({document_id for document_id, *_ in suggested}))


def _next_version(session: Session, project_id: int) -> str:
    """The project's models of the learned suggester are numbered 1, 2, …"""
    versions = session.scalars(select(SuggesterModel.version).where(SuggesterModel.project_id == project_id,
                                                                     SuggesterModel.suggester == learned.NAME))
    return str(max((int(v) for v in versions if v.isdigit()), default=0) + 1)


@batch(SUPERVISORS)
def train(session: Session, actor: Actor, project_id: int, *, held_out_share: float = 0.2, seed: int = 0,
          progress: Callable[[str, int], None] | None = None) -> dict:
    """Train a model of the learned suggester on the project's gold standard less the held-out
    documents, and on accepted suggestions (the module doc); score it and the model-free
    suggesters on the held-out gold documents; store it disabled. ``progress(layer,
    iteration)`` follows the training. Returns the stored model (:func:`model_json`)."""
    project = get_project(session, actor, project_id)
    if not 0 < held_out_share <= MAX_HELD_OUT_SHARE:
        raise ServiceError(f"the held-out share must be above 0 and at most {MAX_HELD_OUT_SHARE:g}", field="held_out")
    codebook = project_codebook(project)
    layers = [layer.name for layer in codebook.span_layers]
    labels = {(layer.name, label.name) for layer in codebook.span_layers for label in layer.labels}
    gold_user, adjudicated = _reference(session, actor, project, GOLD)
    gold_documents = sorted(session.scalars(adjudicated))
    if len(gold_documents) < MIN_GOLD_DOCUMENTS:
        raise ServiceError(f"training needs the gold standard of at least {MIN_GOLD_DOCUMENTS} adjudicated documents, "
                           f"to learn from and to hold some out for its figures; project {project.name!r} has "
                           f"{len(gold_documents)}", field="project")
    held_out = held_out_documents(gold_documents, held_out_share, seed)
    documents = _documents(session, gold_documents)
    gold: dict[int, list[tuple]] = defaultdict(list)  # document -> (document, layer, label, start, end, fragments)
    for row in session.execute(select(Span.document_id, Span.layer, Span.label, Span.start, Span.end, Span.fragments)
                               .where(Span.user_id == gold_user, Span.document_id.in_(gold_documents),
                                      Span.layer.in_(layers))):
        gold[row.document_id].append(tuple(row))
    trained_on = [documents[d] for d in gold_documents if d not in held_out]
    examples = [learned.Example(document.text, document.language, layer, tuple(document.sentences), tuple(
        piece for _, span_layer, label, start, end, fragments in gold[document.id] if span_layer == layer
        for piece in _pieces(label, start, end, fragments))) for document in trained_on for layer in layers]
    accepted, taught = _accepted_examples(session, project, set(gold_documents), layers)
    examples += accepted
    version = _next_version(session, project.id)
    try:
        model = learned.train(examples, progress=progress)
    except ValueError:
        raise ServiceError(f"the gold standard of project {project.name!r} outside the held-out documents has no "
                           "spans to learn from", field="project") from None

    suggester = learned.LearnedSuggester(model, version)
    learned_labels = {(layer, label) for layer, label in labels if layer in suggester.layers}
    reference = [span for document_id in held_out for span in gold[document_id]]
    tested = [documents[d] for d in held_out]
    evaluations = [_held_out_evaluation(s, tested, reference, learned_labels)
                   for s in (suggester, *(suggest.get(name) for name in suggest.names()))]
    accepted_documents = len({document_id for document_id, _ in taught})
    figures = {
        "held_out": {"share": held_out_share, "seed": seed, "documents": held_out},
        "training": {"gold_documents": len(trained_on), "accepted_documents": accepted_documents,
                     "accepted_sentences": len(taught), "spans": _span_counts(examples), "layers": suggester.labels},
        "evaluation": {"project": project.name, "against": HELD_OUT, "documents": len(tested),
                       "suggesters": [entry for entry in evaluations if entry is not None]},
    }
    row = _store(session, actor, project.id, version, model, len(trained_on) + accepted_documents,
                 sum(len(document.sentences) for document in trained_on) + len(taught), figures)
    return model_json(session, row)


def _span_counts(examples: list[learned.Example]) -> dict[str, int]:
    """The spans (a discontinuous one's fragments each) learned from, by "layer label"."""
    counts: dict[str, int] = defaultdict(int)
    for example in examples:
        for label, _, _ in example.spans:
            counts[f"{example.layer} {label}"] += 1
    return dict(sorted(counts.items()))


@writes(SUPERVISORS)
def _store(session: Session, actor: Actor, project_id: int, version: str, model: bytes, documents: int,
           sentences: int, figures: dict) -> SuggesterModel:
    row = SuggesterModel(project_id=project_id, suggester=learned.NAME, version=version, model=model,
                         trained_by=actor.id, documents=documents, sentences=sentences, figures=figures, enabled=False)
    session.add(row)
    audit.record(session, actor=actor, action="train", entity=row, after={
        "suggester": row.suggester, "version": version, "documents": documents, "sentences": sentences,
        "held_out": figures["held_out"], "enabled": False})
    return row


def model_json(session: Session, row: SuggesterModel) -> dict:
    trained_by = session.scalar(select(User.username).where(User.id == row.trained_by)) if row.trained_by else None
    return {"id": row.id, "suggester": row.suggester, "version": row.version, "trained_at": row.trained_at.isoformat(),
            "trained_by": trained_by, "documents": row.documents, "sentences": row.sentences, "enabled": row.enabled,
            "figures": row.figures}


@reads(SUPERVISORS)
def models(session: Session, actor: Actor, project_id: int) -> list[dict]:
    """The project's trained models, newest first."""
    project = get_project(session, actor, project_id)
    rows = session.scalars(select(SuggesterModel).where(SuggesterModel.project_id == project.id)
                           .order_by(SuggesterModel.id.desc())).all()
    return [model_json(session, row) for row in rows]


def _enabled(session: Session, project_id: int, suggester: str) -> SuggesterModel | None:
    return session.scalar(select(SuggesterModel).where(SuggesterModel.project_id == project_id,
                                                       SuggesterModel.suggester == suggester, SuggesterModel.enabled))


def _switch(session: Session, actor: Actor, row: SuggesterModel, enabled: bool) -> None:
    row.enabled = enabled
    session.flush()  # the one enabled before is disabled first: the database refuses two at once
    audit.record(session, actor=actor, action="enable" if enabled else "disable", entity=row,
                 before={"enabled": not enabled}, after={"enabled": enabled})


@writes(SUPERVISORS)
def enable(session: Session, actor: Actor, project_id: int, model_id: int) -> dict:
    """Make the model the project's suggester of its name (the one enabled before is disabled).
    Its suggestions reach the page once `annotator suggest run` has stored them."""
    project = get_project(session, actor, project_id)
    row = session.get(SuggesterModel, model_id) if 0 < model_id <= ID_MAX else None
    if row is None or row.project_id != project.id:
        raise NotFound(f"no trained model {model_id} in project {project.name!r}", field="model")
    previous = _enabled(session, project.id, row.suggester)
    if previous is not row:
        if previous is not None:
            _switch(session, actor, previous, False)
        _switch(session, actor, row, True)
    disabled = None if previous in (None, row) else model_json(session, previous)
    return {"enabled": model_json(session, row), "disabled": disabled}


@writes(SUPERVISORS)
def disable(session: Session, actor: Actor, project_id: int, suggester: str = learned.NAME) -> dict:
    """Leave the project without an enabled model of ``suggester``: its stored suggestions
    leave the page (they stay stored). ``disabled`` is None when none was enabled."""
    project = get_project(session, actor, project_id)
    row = _enabled(session, project.id, suggester)
    if row is not None:
        _switch(session, actor, row, False)
    return {"disabled": None if row is None else model_json(session, row)}
