"""The half-blind design and the anchoring report (issue 19): annotator.agreement.anchoring's
figures computed by hand, "undefined" never 0; the design's draw (balanced, reproducible); the
simulation the issue asks for (an injected anchoring effect is detected, none is not); the
design and the report through the services and `annotator suggest design|report`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select

from annotator.agreement.anchoring import (
    NO_DECISIONS, NO_TIME, NO_WRONG_SUGGESTIONS, UNDEFINED_IN_A_CONDITION, Work, acceptance_rates, f1_against_gold,
    f1_between_annotators, seconds_per_sentence, token_alpha_by_condition, wrong_accepted, wrong_adopted,
)
from annotator.agreement.results import TOO_FEW_DOCUMENTS
from annotator.ingest import Article
from annotator.ingest.text import segment
from annotator.models import Assignment, Event, Project
from annotator.services import suggestions
from annotator.services.permissions import SYSTEM
from annotator.services.suggestions import draw_conditions

from .helpers import add_users, assign, project_with

CUE = "CUE"


def _work(document, annotator, condition, *spans, seconds=0.0, sentences=0):
    return Work(document, annotator, condition, frozenset(spans), seconds, sentences)


# -- the statistics, by hand -----------------------------------------------------------------------


def test_acceptance_and_wrong_acceptance_by_hand():
    rates = acceptance_rates([("rules", True), ("rules", False), ("rules", True), ("lexicon", False)])
    assert rates["rules"].value == pytest.approx(2 / 3) and rates["rules"].pairs == 3
    assert rates["lexicon"].value == 0.0  # decided and rejected: a real 0
    # (accepted, gold has it): of the two gold rejects, one was accepted.
    assert wrong_accepted([(True, True), (True, False), (False, False)]).value == pytest.approx(1 / 2)
    nothing = wrong_accepted([(True, True)])
    assert nothing.value is None and nothing.undefined == NO_WRONG_SUGGESTIONS
    assert acceptance_rates([]) == {}
    assert NO_DECISIONS  # the reason a rate without decisions would carry


def test_comparisons_by_hand():
    wrong = {1: frozenset({(0, 4, CUE), (10, 14, CUE)}), 2: frozenset({(5, 9, CUE)})}
    gold = {1: frozenset({(20, 24, CUE)}), 2: frozenset({(30, 34, CUE)})}
    works = [
        _work(1, "a", "suggestions", (0, 4, CUE), (20, 24, CUE), seconds=30, sentences=3),
        _work(1, "b", "suggestions", (0, 4, CUE), (10, 14, CUE), seconds=60, sentences=3),
        _work(1, "c", "control", (20, 24, CUE), seconds=12, sentences=3),
        _work(2, "a", "control", (30, 34, CUE)),
        _work(2, "b", "suggestions", (5, 9, CUE), (30, 34, CUE)),
        _work(2, "c", "control", (5, 9, CUE)),
    ]
    adopted = wrong_adopted(works, wrong, replicates=200)
    # suggestions: a 1/2, b 2/2 on document 1, b 1/1 on document 2: 4/5; control: c 0/2, a 0/1, c 1/1: 1/4.
    assert adopted.suggestions.value == pytest.approx(4 / 5) and adopted.control.value == pytest.approx(1 / 4)
    assert adopted.difference.value == pytest.approx(4 / 5 - 1 / 4)
    assert adopted.difference.low is not None and adopted.difference.low <= adopted.difference.high

    against = f1_against_gold(works, gold, replicates=0)
    # suggestions: a 2·1/(2+1), b 0/(2+1), b 2·1/(2+1): 4/9; control: c 2/2, a 2/2, c 0/2: 4/6.
    assert against.suggestions.value == pytest.approx(4 / 9) and against.control.value == pytest.approx(4 / 6)
    assert against.difference.low is None  # no replicates asked for

    between = f1_between_annotators(works, replicates=0)
    # suggestions: (a, b) on document 1 share (0, 4): 2/4; control: (a, c) on document 2 share nothing: 0/2.
    assert between.suggestions.value == pytest.approx(1 / 2) and between.control.value == 0.0

    time = seconds_per_sentence(works, replicates=0)
    assert time.suggestions.value == pytest.approx(90 / 6) and time.control.value == pytest.approx(12 / 3)
    assert time.difference.value == pytest.approx(11.0)


def test_token_alpha_by_condition_by_hand():
    tokens = {1: np.array([[0, 4], [5, 9], [10, 14], [15, 19]])}
    works = [_work(1, "a", "suggestions", (0, 4, CUE)), _work(1, "b", "suggestions", (0, 4, CUE)),
             _work(1, "c", "control", (0, 4, CUE)), _work(1, "d", "control", (5, 9, CUE))]
    alpha = token_alpha_by_condition(works, tokens, [CUE], replicates=0)
    assert alpha.suggestions.value == pytest.approx(1.0)
    # control: tokens (CUE, none), (none, CUE), (none, none) x2: n = 8 values, n_CUE = 2, n_none = 6,
    # disagreeing coincidences o_CUE,none + o_none,CUE = 4: alpha = 1 - (n - 1)·4 / (2·n_CUE·n_none) = -1/6.
    assert alpha.control.value == pytest.approx(1 - 7 * 4 / 24)


def test_undefined_is_never_zero():
    works = [_work(1, "a", "suggestions", (0, 4, CUE)), _work(1, "b", "control")]
    adopted = wrong_adopted(works, {})
    assert adopted.suggestions.value is None and adopted.suggestions.undefined == NO_WRONG_SUGGESTIONS
    assert adopted.difference.value is None and adopted.difference.undefined == UNDEFINED_IN_A_CONDITION
    assert not adopted.detected
    time = seconds_per_sentence(works)
    assert time.control.value is None and time.control.undefined == NO_TIME
    # One document: a figure in each condition, but no interval of the difference.
    against = f1_against_gold(works, {1: frozenset({(0, 4, CUE)})})
    assert against.difference.value == pytest.approx(1.0)
    assert against.difference.low is None and against.difference.interval_undefined == TOO_FEW_DOCUMENTS


# -- the design ------------------------------------------------------------------------------------


def _cells(annotators=5, documents=20):
    return [(user, document, None) for document in range(documents) for user in range(annotators)]


def test_the_draw_is_balanced_and_reproducible():
    cells = _cells()
    drawn = draw_conditions(cells, 0.2, seed=7)
    assert drawn == draw_conditions(list(reversed(cells)), 0.2, seed=7)  # same seed, same draw
    assert drawn != draw_conditions(cells, 0.2, seed=8)
    for user in range(5):
        assert sum(drawn[user, d] == "control" for d in range(20)) == 4  # round(0.2 · 20)
    for document in range(20):  # 20 control cells over 20 documents: one each, never all of them
        assert [drawn[u, document] for u in range(5)].count("control") == 1
    # Cells drawn before keep their condition and count toward the share: a new document of
    # annotator 0 (21 documents: round(4.2) = 4 control, 4 already) is "suggestions".
    fixed = [(u, d, drawn[u, d]) for u, d, _ in cells] + [(0, 20, None)]
    assert draw_conditions(fixed, 0.2, seed=7) == {(0, 20): "suggestions"}
    assert set(draw_conditions(cells, 0.0, seed=1).values()) == {"suggestions"}
    assert set(draw_conditions(cells, 1.0, seed=1).values()) == {"control"}


# -- the simulation --------------------------------------------------------------------------------


def _simulated(seed: int, effect: float, documents=40, annotators=4, wrong_per_document=6, base=0.10):
    """Annotators replayed over synthetic documents in the design's conditions: each suggestion
    gold rejects is in an annotator's spans with probability ``base`` (marked unprompted), plus
    ``effect`` in the suggestions condition (anchoring)."""
    rng = np.random.default_rng(seed)
    drawn = draw_conditions(_cells(annotators, documents), 0.5, seed)
    wrong = {d: frozenset((100 * i, 100 * i + 5, CUE) for i in range(wrong_per_document)) for d in range(documents)}
    works = [Work(d, u, condition, frozenset(s for s in sorted(wrong[d]) if rng.random() < base + effect * (condition == "suggestions")))
             for (u, d), condition in sorted(drawn.items())]
    return wrong_adopted(works, wrong, replicates=1000, seed=seed)


def test_the_simulation_detects_an_anchoring_effect_of_10_points_and_not_of_0():
    # A 95% interval excludes 0 in 5% of samples without an effect by construction, so the
    # false-positive rate is measured over many seeds (400), not 40, for a stable figure.
    seeds = range(400)
    assert sum(_simulated(seed, 0.10).detected for seed in seeds) >= 0.95 * len(seeds)
    assert sum(not _simulated(seed, 0.0).detected for seed in seeds) >= 0.95 * len(seeds)


# -- the services and the command line -------------------------------------------------------------


TEXT = "The minister said taxes would rise. Critics say the plan is unfair."


@pytest.fixture
def designed(session):
    project = project_with(session, [Article(title=f"A{i}", text=TEXT + f" Day {i}.", sentences=segment(TEXT + f" Day {i}.")) for i in range(10)],
                           name="news")
    people = add_users(session, {f"ann{i}": "annotator" for i in range(3)} | {"sup": "supervisor"})
    assign(session, project, [people[f"ann{i}"] for i in range(3)])
    return {"project": project, **people}


def _conditions(session, project_id):
    session.rollback()
    return {(a.user_id, a.document_id): a.condition for a in session.scalars(select(Assignment))}


def test_design_draws_every_live_assignment_and_later_ones(session, designed):
    project = designed["project"]
    result = suggestions.design(session, SYSTEM, project.id, enabled=True, control_share=0.2, seed=3)
    assert result["conditions"] == {"suggestions": 24, "control": 6}
    first = _conditions(session, project.id)
    suggestions.design(session, SYSTEM, project.id, enabled=True, control_share=0.2, seed=3)
    assert _conditions(session, project.id) == first
    assert session.get(Project, project.id).design_seed == 3
    assert session.scalars(select(Event.action).where(Event.action == "design")).all() == ["design", "design"]
    assert suggestions.condition_of(session, designed["ann0"].id, project.documents[0].id) in ("suggestions", "control")
    late = add_users(session, {"late": "annotator"})["late"]
    assign(session, project, [late])
    mine = [c for (u, _), c in _conditions(session, project.id).items() if u == late.id]
    assert sorted(mine) == ["control"] * 2 + ["suggestions"] * 8
    with pytest.raises(Exception, match="between 0 and 1"):
        suggestions.design(session, SYSTEM, project.id, enabled=True, control_share=1.5, seed=3)


def test_suggest_design_and_report_commands(cli, session, designed):
    result = cli("suggest", "design", "--project", "news", "--on", "--control-share", "0.3", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert "news: suggestions on, control share 0.3, seed 5." in result.output
    assert "  suggestions: 21 assignment(s)" in result.output and "  control: 9 assignment(s)" in result.output
    result = cli("suggest", "report", "--project", "news", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["assignments"] == {"suggestions": 21, "control": 9}
    assert body["adjudicated_documents"] == 0
    assert body["wrong_adopted"]["suggestions"] == {**body["wrong_adopted"]["suggestions"], "value": None,
                                                    "undefined": NO_WRONG_SUGGESTIONS}
    assert body["f1_between_annotators"]["suggestions"]["undefined"] is not None  # nobody marked anything
    result = cli("suggest", "report", "--project", "news")
    assert result.exit_code == 0, result.output
    assert "suggestions gold rejects, adopted: suggestions — (no suggestion gold rejects)" in result.output
    result = cli("suggest", "report", "--project", "news", "--format", "csv")
    assert result.output.splitlines()[0] == "figure,suggestions,control,difference,low,high,undefined"
