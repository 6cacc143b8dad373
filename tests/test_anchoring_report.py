"""The anchoring report on real data (issue 19): a project made through the services as people
make it (the design drawn, the rule-based suggester's suggestions stored, annotators accepting,
editing, withdrawing and rejecting them in the suggestions condition and marking by hand in the
control one, the page's sentence timer, documents marked done, gold made by adjudication), and
every figure of ``anchoring_report`` checked against numbers worked out by hand below; then the
report page's section "Suggestions and anchoring" (its numbers, its charts' accessible names, the
HTML download, an undefined figure, the empty state of a project without a design).

Four documents of two sentences; rules-attribution suggests a SOURCE, a CUE and a CONTENT in each
first sentence. The seed-4 draw (checked) gives ann and bob suggestions on D1 and D2 and control
on D3 and D4, cat the opposite. D1–D3 are adjudicated; D4's adjudication is started, not finished
(its gold span must not count)."""

from __future__ import annotations

import re

import krippendorff
import numpy as np
import pytest
from sqlalchemy import select

from annotator.agreement.anchoring import NO_TIME, NO_WRONG_SUGGESTIONS
from annotator.agreement.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, bootstrap
from annotator.agreement.results import NOT_PAIRABLE
from annotator.ingest import Article
from annotator.ingest.text import segment
from annotator.models import Assignment, Document, Sentence, Span, StoredSuggestion
from annotator.services import adjudication, annotations, assignments, progress, projects, suggestions
from annotator.services.permissions import SYSTEM
from annotator.suggest.attribution import VERSION as RULES_VERSION

from .helpers import PASSWORD, Client, add_users, assign, project_with
from .test_report_page import _no_inline_code

TEXTS = [
    "The minister said taxes would rise. Prices fell in March.",
    "Critics say the plan is unfair. The council will vote on Tuesday.",
    "The mayor announced that the bridge would open. Traffic was heavy.",
    "Police said two men were arrested. The road stayed closed.",
]
SEED, S, C = 4, "suggestions", "control"
CONDITIONS = {("ann", 1): S, ("bob", 1): S, ("cat", 1): C, ("ann", 2): S, ("bob", 2): S, ("cat", 2): C,
              ("ann", 3): C, ("bob", 3): C, ("cat", 3): S, ("ann", 4): C, ("bob", 4): C, ("cat", 4): S}
# What rules-attribution 1 suggests in each document: label → (start, end).
SUGGESTED = {
    1: {"SOURCE": (0, 12), "CUE": (13, 17), "CONTENT": (18, 34)},   # The minister | said | taxes would rise
    2: {"SOURCE": (0, 7), "CUE": (8, 11), "CONTENT": (12, 30)},     # Critics | say | the plan is unfair
    3: {"SOURCE": (0, 9), "CUE": (10, 24), "CONTENT": (25, 46)},    # The mayor | announced that | the bridge would open
    4: {"SOURCE": (0, 6), "CUE": (7, 11), "CONTENT": (12, 33)},     # Police | said | two men were arrested
}
# What each annotator does, in order: accept / reject a suggestion of that label; "edit": accept it
# with another extent; "withdraw": accept it, then delete the span; "type": mark by hand.
WORK = {
    ("ann", 1): [("accept", "SOURCE"), ("accept", "CUE"), ("accept", "CONTENT")],
    ("bob", 1): [("reject", "SOURCE"), ("accept", "CUE"), ("edit", "CONTENT", 24, 34), ("type", "SOURCE", 4, 12)],
    ("cat", 1): [("type", "SOURCE", 4, 12), ("type", "CUE", 13, 17), ("type", "CONTENT", 18, 34)],
    ("ann", 2): [("accept", "CUE"), ("reject", "SOURCE"), ("reject", "CONTENT")],
    ("bob", 2): [("accept", "SOURCE"), ("accept", "CUE"), ("withdraw", "CONTENT")],
    ("cat", 2): [("type", "SOURCE", 0, 7), ("type", "CUE", 8, 11)],
    ("ann", 3): [("type", "SOURCE", 0, 9), ("type", "CUE", 10, 19), ("type", "CONTENT", 25, 46)],
    ("bob", 3): [("type", "CUE", 10, 24), ("type", "CONTENT", 25, 46)],
    ("cat", 3): [("accept", "SOURCE"), ("accept", "CUE"), ("accept", "CONTENT")],
    ("ann", 4): [("type", "SOURCE", 0, 6), ("type", "CUE", 7, 11)],
    ("bob", 4): [("type", "CUE", 7, 11)],
    ("cat", 4): [("reject", "SOURCE"), ("accept", "CUE"), ("reject", "CONTENT")],
}
# The spans that WORK leaves each annotator with: (label, start, end).
SPANS = {
    ("ann", 1): {("SOURCE", 0, 12), ("CUE", 13, 17), ("CONTENT", 18, 34)},
    ("bob", 1): {("CUE", 13, 17), ("CONTENT", 24, 34), ("SOURCE", 4, 12)},
    ("cat", 1): {("SOURCE", 4, 12), ("CUE", 13, 17), ("CONTENT", 18, 34)},
    ("ann", 2): {("CUE", 8, 11)},
    ("bob", 2): {("SOURCE", 0, 7), ("CUE", 8, 11)},
    ("cat", 2): {("SOURCE", 0, 7), ("CUE", 8, 11)},
    ("ann", 3): {("SOURCE", 0, 9), ("CUE", 10, 19), ("CONTENT", 25, 46)},
    ("bob", 3): {("CUE", 10, 24), ("CONTENT", 25, 46)},
    ("cat", 3): {("SOURCE", 0, 9), ("CUE", 10, 24), ("CONTENT", 25, 46)},
    ("ann", 4): {("SOURCE", 0, 6), ("CUE", 7, 11)},
    ("bob", 4): {("CUE", 7, 11)},
    ("cat", 4): {("CUE", 7, 11)},
}
# Gold: D1 marks "minister" (not "The minister"), D2 only the cue, D3 "announced" (not
# "announced that"). Suggestions gold rejects: D1 SOURCE, D2 SOURCE and CONTENT, D3 CUE.
GOLD = {1: [("SOURCE", 4, 12), ("CUE", 13, 17), ("CONTENT", 18, 34)], 2: [("CUE", 8, 11)],
        3: [("SOURCE", 0, 9), ("CUE", 10, 19), ("CONTENT", 25, 46)], 4: [("SOURCE", 0, 6)]}
ADJUDICATED = (1, 2, 3)
# Active seconds each annotator spends on each document (each one's total within the minute the
# activity clock lets a first report count); cat never marks D4 done: its 9 s do not count.
SECONDS = {("ann", 1): 12, ("ann", 2): 8, ("ann", 3): 10, ("ann", 4): 6, ("bob", 1): 14, ("bob", 2): 10,
           ("bob", 3): 4, ("bob", 4): 2, ("cat", 1): 6, ("cat", 2): 5, ("cat", 3): 20, ("cat", 4): 9}
NOT_DONE = {("cat", 4)}
PEOPLE = ("ann", "bob", "cat")


def _payload(document: Document, label: str, start: int, end: int, **extra) -> dict:
    return {"layer": "attribution", "label": label, "start": start, "end": end, "text": document.text[start:end], **extra}


def build_world(session, project_name: str = "news", prefix: str = "", password: str = PASSWORD,
                redraw: bool = False) -> dict:
    """The project this module describes, made through the services: its annotators and their
    supervisor (a member of every project there is, this one too) are ``prefix`` + ann, bob, cat,
    sup (the browser test's live instance has other users). The draw depends on the users' and
    documents' ids: in a database that has others (``redraw``), the assignments are then given
    the conditions of CONDITIONS."""
    project = project_with(session, [Article(title=f"D{i}", text=text, sentences=segment(text))
                                     for i, text in enumerate(TEXTS, 1)], name=project_name)
    people = {name[len(prefix):]: user for name, user in add_users(
        session, {prefix + name: "annotator" for name in PEOPLE} | {prefix + "sup": "supervisor"}, password).items()}
    documents = {i: d for i, d in enumerate(session.scalars(select(Document).where(Document.project_id == project.id)
                                                            .order_by(Document.id)), 1)}
    assign(session, project, [people[name] for name in PEOPLE])
    suggestions.design(session, people["sup"], project.id, enabled=True, control_share=0.5, seed=SEED)
    if redraw:
        names = {people[name].id: name for name in PEOPLE}
        index = {d.id: i for i, d in documents.items()}
        for assignment in session.scalars(select(Assignment).where(Assignment.document_id.in_(index))):
            assignment.condition = CONDITIONS[names[assignment.user_id], index[assignment.document_id]]
        session.commit()
    suggestions.run(session, people["sup"], project.id, suggesters=["rules-attribution"])

    for (name, i), steps in WORK.items():
        user, document = people[name], documents[i]
        offered = {s["label"]: s for s in suggestions.for_page(session, user, document.id)}
        for step in steps:
            kind, label = step[:2]
            if kind == "type":
                annotations.create_span(session, user, document.id, _payload(document, label, *step[2:]))
            elif kind == "reject":
                annotations.reject_suggestion(session, user, offered[label]["id"], {})
            else:
                start, end = step[2:] if kind == "edit" else SUGGESTED[i][label]
                saved = annotations.create_span(session, user, document.id,
                                                _payload(document, label, start, end, suggestion_id=offered[label]["id"]))
                assert saved["origin"] == ("accepted_edited" if kind == "edit" else "accepted")
                if kind == "withdraw":
                    annotations.delete_span(session, user, saved["id"], {"version": saved["version"]})
        first = session.scalar(select(Sentence.id).where(Sentence.document_id == document.id).order_by(Sentence.position))
        counted = progress.record_activity(session, user, document.id, {"sentence_id": first, "ms": SECONDS[name, i] * 1000})
        assert counted["accepted_ms"] == SECONDS[name, i] * 1000
        if (name, i) not in NOT_DONE:
            assignments.mark_done(session, user, document.id)

    for i, spans in GOLD.items():
        adjudication.start(session, people["sup"], documents[i].id)
        for label, start, end in spans:
            adjudication.create_gold_span(session, people["sup"], documents[i].id, _payload(documents[i], label, start, end))
        if i in ADJUDICATED:
            adjudication.finish(session, people["sup"], documents[i].id)
    session.rollback()
    return {"project": project, "documents": documents, **people}


@pytest.fixture
def world(session):
    return build_world(session)


def test_the_world_is_as_described(session, world):
    """The draw, the suggestions and the spans are those the figures below are worked out from."""
    documents, names = world["documents"], {world[name].id: name for name in PEOPLE}
    index = {d.id: i for i, d in documents.items()}
    drawn = {(names[a.user_id], index[a.document_id]): a.condition
             for a in session.scalars(select(Assignment).where(Assignment.user_id.in_(names)))}
    assert drawn == CONDITIONS
    stored = {(index[s.document_id], s.label): (s.start, s.end) for s in session.scalars(select(StoredSuggestion))}
    assert stored == {(i, label): extent for i, labels in SUGGESTED.items() for label, extent in labels.items()}
    spans = {}
    for span in session.scalars(select(Span).where(Span.user_id.in_(names))):
        spans.setdefault((names[span.user_id], index[span.document_id]), set()).add((span.label, span.start, span.end))
    assert spans == SPANS
    # In the control condition nothing of the suggestions reaches the annotator.
    for (name, i), condition in CONDITIONS.items():
        if condition == C:
            assert suggestions.for_page(session, world[name], documents[i].id) == []


def _ratio_difference(summed: np.ndarray) -> np.ndarray:
    """(replicates, 2 conditions, (numerator, denominator)) → suggestions' ratio − control's."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return summed[:, 0, 0] / summed[:, 0, 1] - summed[:, 1, 0] / summed[:, 1, 1]


def _check_comparison(figures: dict, per_document: list, suggestions_value: float, control_value: float,
                      documents: tuple[int, int]) -> None:
    """A comparison against the hand's values and the interval of the hand's per-document counts
    (D1..D4, each [[suggestions' numerator, denominator], [control's]]), resampled as the
    report does (1,000 replicates of documents, its seed)."""
    assert figures["suggestions"]["value"] == pytest.approx(suggestions_value)
    assert figures["control"]["value"] == pytest.approx(control_value)
    assert (figures["suggestions"]["documents"], figures["control"]["documents"]) == documents
    difference = figures["difference"]
    assert difference["value"] == pytest.approx(suggestions_value - control_value)
    expected = bootstrap(np.array(per_document, dtype=float), _ratio_difference, DEFAULT_REPLICATES, DEFAULT_SEED,
                         batched=True)
    assert (difference["low"], difference["high"]) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert difference["low"] <= difference["value"] <= difference["high"]
    assert figures["detected"] == (difference["low"] > 0 or difference["high"] < 0)


def test_every_figure_by_hand(session, world):
    report = suggestions.anchoring_report(session, world["sup"], world["project"].id)
    assert report["design"] == {"suggestions_enabled": True, "control_share": 0.5, "seed": SEED}
    assert report["assignments"] == {"suggestions": 6, "control": 6}
    assert report["adjudicated_documents"] == 3

    # Acceptance per label, from the decisions (bob's withdrawn D2 CONTENT is none):
    # SOURCE: ann D1 yes, bob D1 no, ann D2 no, bob D2 yes, cat D3 yes, cat D4 no: 3 of 6;
    # CUE: all six accepted; CONTENT: ann D1, bob D1 (edited), cat D3 yes; ann D2, cat D4 no: 3 of 5.
    acceptance = {row["label"]: row for row in report["acceptance"]}
    assert [(row["suggester"], row["version"], row["layer"]) for row in report["acceptance"]] == [
        ("rules-attribution", RULES_VERSION, "attribution")] * 3
    for label, accepted, decided in (("SOURCE", 3, 6), ("CUE", 6, 6), ("CONTENT", 3, 5)):
        row = acceptance[label]
        assert (row["accepted"], row["rate"]["counted"]) == (accepted, decided)
        assert row["rate"]["value"] == pytest.approx(accepted / decided)

    # Decisions on suggestions gold rejects (D1 SOURCE: ann yes, bob no; D2 SOURCE: ann no, bob
    # yes; D2 CONTENT: ann no; D3 CUE: cat yes): 3 accepted of 6.
    wrong = report["wrong_accepted"]
    assert (wrong["accepted"], wrong["counted"]) == (3, 6) and wrong["value"] == pytest.approx(3 / 6)

    # Adopted, (annotator, suggestion gold rejects): D1 {SOURCE 0–12}: ann (S) has it, bob (S)
    # and cat (C) marked 4–12; D2 {SOURCE, CONTENT}: ann (S) neither, bob (S) and cat (C) the
    # SOURCE; D3 {CUE 10–24}: ann (C) marked 10–19, bob (C) and cat (S) have it.
    # Suggestions: (1 + 0) + (0 + 1) + 1 = 3 of 2 + 4 + 1 = 7; control: 0 + 1 + 1 = 2 of 1 + 2 + 2 = 5.
    _check_comparison(report["wrong_adopted"], [[[1, 2], [0, 1]], [[1, 4], [1, 2]], [[1, 1], [1, 2]], [[0, 0], [0, 0]]],
                      3 / 7, 2 / 5, (3, 3))

    # F1 against gold, 2·matches / (spans + gold spans) per annotator, D1–D3 (gold 3, 1, 3 spans):
    # D1 ann 2·2/(3+3), bob 2·2/(3+3), cat 2·3/(3+3); D2 ann 2·1/(1+1), bob 2·1/(2+1), cat 2·1/(2+1);
    # D3 ann 2·3/(3+3), bob 2·1/(2+3), cat 2·2/(3+3).
    # Suggestions: (4+4 + 2+2 + 4) / (12 + 5 + 6) = 16/23; control: (6 + 2 + 6+2) / (6 + 3 + 11) = 16/20.
    _check_comparison(report["f1_against_gold"], [[[8, 12], [6, 6]], [[4, 5], [2, 3]], [[4, 6], [8, 11]], [[0, 0], [0, 0]]],
                      16 / 23, 16 / 20, (3, 3))

    # F1 between the two annotators of a document in the same condition: D1 ann–bob share the
    # CUE, 2/(3+3); D2 ann–bob the CUE, 2/(1+2); D3 ann–bob the CONTENT, 2/(3+2); D4 ann–bob the
    # CUE, 2/(2+1). Suggestions 4/9, control 4/8.
    _check_comparison(report["f1_between_annotators"], [[[2, 6], [0, 0]], [[2, 3], [0, 0]], [[0, 0], [2, 5]], [[0, 0], [2, 3]]],
                      4 / 9, 4 / 8, (2, 2))

    # Seconds per sentence, the done documents (2 sentences each): suggestions ann+bob D1 26 s,
    # ann+bob D2 18 s, cat D3 20 s over 10 sentences (cat's D4 is not done); control cat D1 6,
    # cat D2 5, ann+bob D3 14, ann+bob D4 8 over 12 sentences.
    _check_comparison(report["seconds_per_sentence"], [[[26, 4], [6, 2]], [[18, 4], [5, 2]], [[20, 2], [14, 4]], [[0, 0], [8, 4]]],
                      64 / 10, 33 / 12, (3, 4))

    # Token alpha per condition: the tokens of D1–D4, each annotator's label of each (none
    # outside their spans), the annotators of a document in the condition only; krippendorff's
    # nominal alpha over those units is the pooled figure.
    codes = {"SOURCE": 1, "CUE": 2, "CONTENT": 3}
    expected = {}
    for condition in (S, C):
        columns = []
        for i, text in enumerate(TEXTS, 1):
            for word in re.finditer(r"\w+", text):
                columns.append([next((codes[label] for label, start, end in SPANS[name, i]
                                      if start <= word.start() and word.end() <= end), 0)
                                if CONDITIONS[name, i] == condition else np.nan for name in PEOPLE])
        expected[condition] = krippendorff.alpha(reliability_data=np.array(columns).T, level_of_measurement="nominal")
    alpha = report["token_alpha"]
    assert alpha["suggestions"]["value"] == pytest.approx(expected[S])
    assert alpha["control"]["value"] == pytest.approx(expected[C])
    assert alpha["difference"]["value"] == pytest.approx(expected[S] - expected[C])
    assert (alpha["suggestions"]["documents"], alpha["control"]["documents"]) == (2, 2)
    assert alpha["difference"]["low"] <= alpha["difference"]["value"] <= alpha["difference"]["high"]

    # The suggester against gold on D1–D3: suggested SOURCE {D1 0–12, D2 0–7, D3 0–9}, CUE
    # {13–17, 8–11, 10–24}, CONTENT {18–34, 12–30, 25–46}; gold SOURCE {D1 4–12, D3 0–9}, CUE
    # {13–17, 8–11, D3 10–19}, CONTENT {D1 18–34, D3 25–46}.
    (rules, lexicon) = sorted(report["against_gold"], key=lambda entry: entry["suggester"], reverse=True)
    assert (rules["suggester"], rules["documents_with_suggestions"]) == ("rules-attribution", 3)
    expected_scores = {  # label: (suggested, reference, exact P, R, F1, overlap P, R, F1)
        "SOURCE": (3, 2, 1 / 3, 1 / 2, 2 / 5, 2 / 3, 1, 4 / 5),
        "CUE": (3, 3, 2 / 3, 2 / 3, 2 / 3, 1, 1, 1),
        "CONTENT": (3, 2, 2 / 3, 1, 4 / 5, 2 / 3, 1, 4 / 5),
        None: (9, 7, 5 / 9, 5 / 7, 5 / 8, 7 / 9, 1, 7 / 8),  # overall: 5 exact, 7 overlapping, 7 found
    }
    for row in rules["labels"] + [rules["overall"]]:
        suggested, reference, *scores = expected_scores[row["label"]]
        assert (row["suggested"], row["reference"]) == (suggested, reference), row["label"]
        shown = [row[kind][score]["value"] for kind in ("exact", "overlap") for score in ("precision", "recall", "f1")]
        assert shown == pytest.approx(scores), row["label"]
    assert len(rules["labels"]) == 3
    # The lexicon suggester stored nothing: its overall figures are undefined, with the reason, not 0.
    assert lexicon["suggester"] == "lexicon-loaded" and lexicon["labels"] == []
    assert all(lexicon["overall"][kind][score]["value"] is None and lexicon["overall"][kind][score]["undefined"]
               for kind in ("exact", "overlap") for score in ("precision", "recall", "f1"))


def test_undefined_figures_say_why(session, world):
    """Before anyone in the control condition pairs up (bob's control work withdrawn), the
    control's F1 between annotators is undefined with the reason, and so is the difference."""
    documents = world["documents"]
    for i in (3, 4):  # bob leaves D3 and D4: no pair of control annotators remains
        assignments.withdraw(session, SYSTEM, session.scalar(select(Assignment.id).where(
            Assignment.user_id == world["bob"].id, Assignment.document_id == documents[i].id)))
    report = suggestions.anchoring_report(session, world["sup"], world["project"].id)
    between = report["f1_between_annotators"]
    assert between["control"]["value"] is None and between["control"]["undefined"] == NOT_PAIRABLE
    assert between["difference"]["value"] is None and between["difference"]["undefined"]
    assert between["detected"] is False
    assert report["assignments"] == {"suggestions": 6, "control": 4}



# -- the report page ---------------------------------------------------------------------------------


def _section(page: str) -> str:
    start = page.index('<section class="anchoring card" id="anchoring"')
    return page[start:page.index("</section>", start)]


def _row(section: str, key: str) -> str:
    return re.search(rf'<tr data-figure="{key}">.*?</tr>', section, re.S).group(0)


def test_the_report_page_shows_the_section(app, session, world):
    project = world["project"]
    report = suggestions.anchoring_report(session, world["sup"], project.id)
    page = Client(app, "sup").get(f"/projects/{project.id}/agreement").get_data(as_text=True)
    _no_inline_code(page)
    section = _section(page)
    assert "Suggestions on · control share 0.5" in section and "6 with suggestions, 6 in control" in section
    for key, suggested, control, difference in (("wrong_adopted", "0.429", "0.400", "+0.029"),
                                                 ("f1_against_gold", "0.696", "0.800", "-0.104"),
                                                 ("f1_between_annotators", "0.444", "0.500", "-0.056"),
                                                 ("seconds_per_sentence", "6.4", "2.8", "+3.7")):
        row, figures = _row(section, key), report[key]
        assert [suggested, control, difference] == re.findall(r'<span class="num">([^<]+)</span>', row)
        digits = 1 if key == "seconds_per_sentence" else 3
        low, high = figures["difference"]["low"], figures["difference"]["high"]
        said = (f"difference {difference}, 95% interval {low:+.{digits}f} to {high:+.{digits}f}, "
                + ("excludes 0: detected" if figures["detected"] else "includes 0"))
        assert f'role="img" aria-label="{said}"' in row and f"<title>{said}</title>" in row
        assert ('<span class="detected">detected</span>' in row) == figures["detected"]
        assert 'class="zero"' in row and 'class="point"' in row
    assert report["seconds_per_sentence"]["detected"]  # +2.3 to +7.2 s with these four documents
    assert 'aria-label="suggestions: 6.4 s; control: 2.8 s"' in section
    for label, accepted, decided, share in (("CONTENT", 3, 5, "0.600"), ("CUE", 6, 6, "1.000"), ("SOURCE", 3, 6, "0.500")):
        assert re.search(rf'<td>{label}</td>\s*<td class="num">{accepted}</td><td class="num">{decided}</td>'
                         rf'<td class="value"><span class="num">{share}</span>', section), label
    assert "Suggestions gold rejects, accepted: <span class=\"num\">0.500</span>" in section
    assert "3 of 6 decisions" in section
    rules = section[section.index('data-suggester="rules-attribution"'):]
    overall = re.search(r'<tr class="overall">.*?</tr>', rules, re.S).group(0)
    assert re.findall(r'<span class="num">([^<]+)</span>', overall) == ["0.556", "0.714", "0.625", "0.778", "1.000", "0.875"]
    lexicon = section[section.index('data-suggester="lexicon-loaded"'):section.index('data-suggester="rules-attribution"')]
    assert "undefined — no suggestions" in lexicon and "0.000" not in lexicon

    # The HTML download has the section too, as tables.
    download = Client(app, "sup").get(f"/projects/{project.id}/agreement.html").get_data(as_text=True)
    assert "<h2>Suggestions and anchoring</h2>" in download and "<script" not in download.lower()
    seconds = report["seconds_per_sentence"]["difference"]
    assert (f'<td class="n">+3.7</td><td class="n">{seconds["low"]:+.1f} – {seconds["high"]:+.1f}</td><td>detected</td>'
            in download)

    # Undefined figures say why on the page: bob leaves his control documents, no control pair remains.
    for i in (3, 4):
        assignments.withdraw(session, SYSTEM, session.scalar(select(Assignment.id).where(
            Assignment.user_id == world["bob"].id, Assignment.document_id == world["documents"][i].id)))
    row = _row(_section(Client(app, "sup").get(f"/projects/{project.id}/agreement").get_data(as_text=True)),
               "f1_between_annotators")
    assert f'<span class="undefined">undefined — {NOT_PAIRABLE}</span>' in row
    assert "no chart: the difference is undefined" in row and "<svg" not in row


def test_without_a_design_the_section_says_how_to_start(app, session):
    project = projects.get_or_create_project(session, SYSTEM, "plain")
    add_users(session, {"sup": "supervisor"})
    client = Client(app, "sup")
    section = _section(client.get(f"/projects/{project.id}/agreement").get_data(as_text=True))
    assert ("No half-blind design in this project yet: start one with <code>annotator suggest design --project plain "
            "--on --control-share 0.2</code>.") in section
    assert "anchoring-figures" not in section and "<svg" not in section
    download = client.get(f"/projects/{project.id}/agreement.html").get_data(as_text=True)
    assert "No half-blind design in this project yet" in download
    # With no assignment in either condition every comparison is undefined, with the reason.
    report = suggestions.anchoring_report(session, SYSTEM, project.id)
    assert report["assignments"] == {"suggestions": 0, "control": 0} and report["acceptance"] == []
    assert report["wrong_adopted"]["suggestions"]["undefined"] == NO_WRONG_SUGGESTIONS
    assert report["seconds_per_sentence"]["control"]["undefined"] == NO_TIME
    assert report["token_alpha"]["difference"]["value"] is None and not report["token_alpha"]["detected"]
