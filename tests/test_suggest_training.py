"""Training the learned suggester (annotator.services.training) and using its model
(docs/suggestions.md, "The learned suggester"), on SQLite and PostgreSQL: the gold standard is
made with the adjudication services from the evaluation articles of tests/data/suggest; it
refuses too little gold; trains and stores a disabled model with its held-out figures beside
the rules'; enable and disable, the database refusing two enabled models; `suggest run` and the
page using the enabled model; accepted suggestions as training data; who may; the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from annotator import suggest
from annotator.errors import Forbidden, NotFound, ServiceError
from annotator.ingest import Article, segment
from annotator.models import Event, Sentence, StoredSuggestion, SuggesterModel
from annotator.services import adjudication, annotations, assignments, suggestions, training
from annotator.suggest.attribution import VERSION as RULES_VERSION
from annotator.services.permissions import SYSTEM
from annotator.suggest.evaluate import evaluate
from annotator.suggest.learned import NAME, LearnedSuggester

from .helpers import add_users, assign, project_with

ARTICLES = sorted((Path(__file__).parent / "data" / "suggest").glob("*.json"))
SEED = 3
EXTRA = "The minister said the budget would pass. Critics said the plan was late."


@pytest.fixture
def news(session):
    """Project "news" with the twelve evaluation articles (English, Urdu, Arabic) and one more
    (``extra``); a member supervisor, an admin, two annotators and a supervisor of no project."""
    data = {path.name: json.loads(path.read_text()) for path in ARTICLES}
    articles = [Article(title=name, text=d["text"], sentences=segment(d["text"], d["language"]), language=d["language"])
                for name, d in data.items()]
    project = project_with(session, [*articles, Article(title="extra", text=EXTRA, sentences=segment(EXTRA))], "news")
    people = add_users(session, {"sup": "supervisor", "adm": "admin", "ann": "annotator", "bob": "annotator"})
    people |= add_users(session, {"outsider": "supervisor"}, member=False)
    documents = {document.title: document for document in project.documents}
    return {"project": project, "data": data, "documents": documents, **people}


def _adjudicate(session, news, names) -> None:
    """The gold standard of the named articles: their reference spans, adjudicated."""
    for name in names:
        document = news["documents"][name]
        adjudication.start(session, SYSTEM, document.id)
        for span in news["data"][name]["spans"]:
            adjudication.create_gold_span(session, SYSTEM, document.id, {
                "layer": "attribution", "label": span["label"], "start": span["start"], "end": span["end"],
                "text": document.text[span["start"]:span["end"]]})
        adjudication.finish(session, SYSTEM, document.id)


def _models(session) -> list[tuple]:
    session.rollback()
    return session.execute(select(SuggesterModel.id, SuggesterModel.version, SuggesterModel.enabled)
                           .order_by(SuggesterModel.id)).all()


def test_training_refuses_too_little_gold(session, news):
    project = news["project"]
    _adjudicate(session, news, [path.name for path in ARTICLES[:3]])
    with pytest.raises(ServiceError, match=r"at least 10 adjudicated documents.*project 'news' has 3"):
        training.train(session, news["sup"], project.id)
    for share in (0, -0.1, 0.6):
        with pytest.raises(ServiceError, match="held-out share"):
            training.train(session, news["sup"], project.id, held_out_share=share)
    assert _models(session) == []


def test_only_supervisors_of_the_project_and_admins(session, news):
    project = news["project"]
    calls = (lambda actor: training.train(session, actor, project.id),
             lambda actor: training.models(session, actor, project.id),
             lambda actor: training.enable(session, actor, project.id, 1),
             lambda actor: training.disable(session, actor, project.id))
    for call in calls:
        with pytest.raises(Forbidden):
            call(news["ann"])
        with pytest.raises(NotFound, match="no project"):
            call(news["outsider"])
    assert training.models(session, news["adm"], project.id) == []
    with pytest.raises(NotFound, match="no trained model 1 in project 'news'"):
        training.enable(session, news["adm"], project.id, 1)
    assert training.disable(session, news["sup"], project.id) == {"disabled": None}


def _held_out_by_hand(session, news, model: bytes, version: str, held_out: list[int]) -> dict:
    """Each suggester's overall figures on the held-out documents, computed here."""
    by_id = {document.id: name for name, document in news["documents"].items()}
    figures = {}
    for suggester in (LearnedSuggester(model, version), suggest.get("rules-attribution")):
        suggested, reference = [], []
        for document_id in held_out:
            name = by_id[document_id]
            text, language = news["data"][name]["text"], news["data"][name]["language"]
            sentences = session.execute(select(Sentence.start, Sentence.end).where(Sentence.document_id == document_id)
                                        .order_by(Sentence.position)).all()
            suggested += [(document_id, s.layer, s.label, s.start, s.end)
                          for s in suggester.suggest(text, sentences, language)]
            reference += [(document_id, "attribution", s["label"], s["start"], s["end"])
                          for s in news["data"][name]["spans"]]
        overall = evaluate(suggested, reference, len(held_out)).overall
        figures[suggester.name] = (overall.exact.f1.value, overall.overlap.f1.value)
    return figures


def test_train_enable_run_and_disable(session, news, cli):
    project, sup = news["project"], news["sup"]
    _adjudicate(session, news, [path.name for path in ARTICLES])
    gold_ids = sorted(news["documents"][path.name].id for path in ARTICLES)
    held_out = training.held_out_documents(gold_ids, 0.2, SEED)
    assert len(held_out) == 2 and held_out == training.held_out_documents(gold_ids, 0.2, SEED)
    assert held_out != training.held_out_documents(gold_ids, 0.2, SEED + 1)

    model = training.train(session, sup, project.id, held_out_share=0.2, seed=SEED)
    trained_on = [d for d in gold_ids if d not in held_out]
    sentences = session.scalar(select(sa.func.count()).select_from(Sentence)
                               .where(Sentence.document_id.in_(trained_on)))
    assert (model["suggester"], model["version"], model["enabled"], model["trained_by"]) == (NAME, "1", False, "sup")
    assert (model["documents"], model["sentences"]) == (10, sentences)
    figures = model["figures"]
    assert figures["held_out"] == {"share": 0.2, "seed": SEED, "documents": held_out}
    assert figures["training"]["gold_documents"] == 10 and figures["training"]["accepted_sentences"] == 0
    assert figures["training"]["layers"] == {"attribution": ["CONTENT", "CUE", "SOURCE"]}
    reference_spans = sum(len(news["data"][name]["spans"]) for name, document in news["documents"].items()
                          if document.id in trained_on)
    assert sum(figures["training"]["spans"].values()) == reference_spans
    evaluation = figures["evaluation"]
    assert (evaluation["against"], evaluation["documents"]) == (training.HELD_OUT, 2)
    # The learned model and the rules side by side (the loaded-language lexicon: no layer the gold teaches).
    assert [(e["suggester"], e["version"]) for e in evaluation["suggesters"]] == \
        [(NAME, "1"), ("rules-attribution", RULES_VERSION)]
    stored = session.scalar(select(SuggesterModel).where(SuggesterModel.id == model["id"]))
    by_hand = _held_out_by_hand(session, news, stored.model, "1", held_out)
    for entry in evaluation["suggesters"]:
        overall = entry["overall"]
        assert (overall["exact"]["f1"]["value"], overall["overlap"]["f1"]["value"]) == \
            pytest.approx(by_hand[entry["suggester"]])
    event = session.scalar(select(Event).where(Event.action == "train"))
    assert (event.user_id, event.entity_type, event.entity_id, event.after["version"]) == \
        (sup.id, "suggester_models", model["id"], "1")

    # The command: the same gold and seed, the same model (version 2), with the held-out table.
    result = cli("suggest", "train", "--project", "news", "--held-out", "0.2", "--seed", str(SEED))
    assert result.exit_code == 0, result.output
    assert f"Model {model['id'] + 1}, learned 2: trained on the gold standard of 10 document(s)" in result.output
    assert "learned 2 against the held-out gold documents: 2 document(s), suggestions on 2." in result.output
    assert f"rules-attribution {RULES_VERSION} against the held-out gold documents: 2 document(s)" in result.output
    assert f"annotator suggest enable --project news --model {model['id'] + 1}" in result.output
    session.rollback()
    first, second = session.scalars(select(SuggesterModel).order_by(SuggesterModel.id)).all()
    assert second.model == first.model and second.figures["evaluation"]["suggesters"][0]["overall"] == \
        first.figures["evaluation"]["suggesters"][0]["overall"]
    assert _models(session) == [(first.id, "1", False), (second.id, "2", False)]
    assert [row["id"] for row in training.models(session, sup, project.id)] == [second.id, first.id]

    # Nothing enabled: not run by default; named, refused.
    assert NAME not in [row["suggester"] for row in suggestions.run(session, sup, project.id)["suggesters"]]
    with pytest.raises(NotFound, match="no model of 'learned' enabled"):
        suggestions.run(session, sup, project.id, suggesters=[NAME])

    # Enabled: one more suggester for `suggest run`, stored as the model suggests.
    result = training.enable(session, sup, project.id, first.id)
    assert (result["enabled"]["id"], result["disabled"]) == (first.id, None)
    assert _models(session) == [(first.id, "1", True), (second.id, "2", False)]
    extra = news["documents"]["extra"]
    ran = suggestions.run(session, sup, project.id, documents=[extra.id])
    assert [(row["suggester"], row["version"]) for row in ran["suggesters"]] == \
        [*((name, suggest.get(name).version) for name in suggest.names()), (NAME, "1")]
    rows = session.execute(select(StoredSuggestion.label, StoredSuggestion.start, StoredSuggestion.end,
                                  StoredSuggestion.group, StoredSuggestion.role)
                           .where(StoredSuggestion.suggester == NAME, StoredSuggestion.version == "1")
                           .order_by(StoredSuggestion.start, StoredSuggestion.end)).all()
    expected = LearnedSuggester(first.model, "1").suggest(EXTRA, segment(EXTRA), "en")
    assert [tuple(row) for row in rows] == [(s.label, s.start, s.end, s.group, s.role) for s in expected]
    assert {(label, EXTRA[start:end]) for label, start, end, *_ in rows} >= \
        {("CUE", "said"), ("SOURCE", "The minister")}

    # The page offers the enabled model's suggestions, and no disabled one's.
    suggestions.design(session, SYSTEM, project.id, enabled=True, control_share=0.0, seed=1)
    assign(session, project, [news["ann"]], [extra])
    offered = {(row["suggester"], row["version"]) for row in suggestions.for_page(session, news["ann"], extra.id)}
    assert (NAME, "1") in offered and ("rules-attribution", RULES_VERSION) in offered

    # Enabling another disables the first, in one transaction; the database refuses two.
    result = training.enable(session, sup, project.id, second.id)
    assert (result["enabled"]["id"], result["disabled"]["id"]) == (second.id, first.id)
    assert _models(session) == [(first.id, "1", False), (second.id, "2", True)]
    assert NAME not in {row["suggester"] for row in suggestions.for_page(session, news["ann"], extra.id)}
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(sa.update(SuggesterModel).values(enabled=True))
        session.flush()
    session.rollback()
    actions = session.execute(select(Event.action, Event.entity_id, Event.after["enabled"].as_boolean())
                              .where(Event.entity_type == "suggester_models", Event.action != "train")
                              .order_by(Event.id)).all()
    assert [tuple(row) for row in actions] == [("enable", first.id, True), ("disable", first.id, False),
                                               ("enable", second.id, True)]

    # The commands: models, enable, disable.
    result = cli("suggest", "models", "--project", "news")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"model {second.id}: learned 2  ENABLED, trained ") and "by the command line" in lines[0]
    assert lines[1].startswith(f"model {first.id}: learned 1, trained ") and "by sup on 10 document(s)" in lines[1]
    assert "overall F1 exact / overlap: learned " in lines[1] and "; rules-attribution " in lines[1]
    result = cli("suggest", "enable", "--project", "news", "--model", str(first.id))
    assert result.exit_code == 0, result.output
    assert f"Model {first.id} (learned 1) enabled in project 'news'; model {second.id} (learned 2) disabled." \
        in result.output
    result = cli("suggest", "disable", "--project", "news")
    assert f"Model {first.id} (learned 1) disabled in project 'news'." in result.output
    assert cli("suggest", "disable", "--project", "news").output.startswith("No learned model was enabled")
    assert all(not enabled for _, _, enabled in _models(session))
    result = cli("suggest", "enable", "--project", "news", "--model", "999999")
    assert result.exit_code == 1 and "no trained model 999999 in project 'news'" in result.output
    body = json.loads(cli("suggest", "models", "--project", "news", "--format", "json").output)
    assert [row["version"] for row in body] == ["2", "1"]


def test_accepted_suggestions_teach_the_sentences_they_are_in(session, news):
    """An annotator's spans in the sentences where they accepted a suggestion, on a document
    they marked done and that has no gold, are training data; their other sentences, and a
    document not done, are not."""
    project, ann, bob = news["project"], news["ann"], news["bob"]
    gold_names = [path.name for path in ARTICLES[:10]]
    _adjudicate(session, news, gold_names)
    extra = news["documents"]["extra"]
    assign(session, project, [ann, bob], [extra])
    suggestions.run(session, SYSTEM, project.id, suggesters=["rules-attribution"], documents=[extra.id])
    suggestions.design(session, SYSTEM, project.id, enabled=True, control_share=0.0, seed=1)
    cue = next(s for s in suggestions.for_page(session, ann, extra.id)
               if s["label"] == "CUE" and s["start"] < EXTRA.index("Critics"))
    for person in (ann, bob):
        annotations.create_span(session, person, extra.id, {
            "layer": "attribution", "label": "CUE", "start": cue["start"], "end": cue["end"],
            "text": EXTRA[cue["start"]:cue["end"]], "suggestion_id": cue["id"]})
    for person, phrase, label in ((ann, "The minister", "SOURCE"), (ann, "Critics", "SOURCE")):
        start = EXTRA.index(phrase)
        annotations.create_span(session, person, extra.id, {"layer": "attribution", "label": label, "start": start,
                                                            "end": start + len(phrase), "text": phrase})
    assignments.mark_done(session, ann, extra.id)  # bob's stays unfinished: not counted

    model = training.train(session, news["sup"], project.id, held_out_share=0.2, seed=SEED)
    trained = model["figures"]["training"]
    held_out = model["figures"]["held_out"]["documents"]
    gold_trained = [name for name in gold_names if news["documents"][name].id not in held_out]
    assert (trained["accepted_documents"], trained["accepted_sentences"], model["documents"]) == \
        (1, 1, len(gold_trained) + 1)
    first_sentences = session.scalar(select(sa.func.count()).select_from(Sentence).where(
        Sentence.document_id.in_([news["documents"][name].id for name in gold_trained])))
    assert model["sentences"] == first_sentences + 1
    gold_sources = sum(1 for name in gold_trained for span in news["data"][name]["spans"] if span["label"] == "SOURCE")
    gold_cues = sum(1 for name in gold_trained for span in news["data"][name]["spans"] if span["label"] == "CUE")
    # ann's CUE and "The minister" (the accepted sentence); not "Critics" (another sentence), nor bob's.
    assert (trained["spans"]["attribution SOURCE"], trained["spans"]["attribution CUE"]) == \
        (gold_sources + 1, gold_cues + 1)
