"""Agreement on source entities (annotator.agreement.coreference): MUC, B³, CEAF-e and the
CoNLL-2012 average against Pradhan et al.'s (2014) worked example and the test cases of the
CoNLL reference scorer (v8.01), against scorch on random partitions; and the agreement of
annotators over a project, with its bootstrap over documents rebuilt mention by mention."""

from __future__ import annotations

import itertools
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scorch import scores as scorch

from annotator.agreement import (
    DEFAULT_SEED,
    coreference_agreement,
    coreference_scores,
    document_weights,
    maximum_weight_assignment,
)
from annotator.agreement.bootstrap import summarise
from annotator.agreement.coreference import NO_LINKS, NO_MENTIONS
from annotator.agreement.results import FEWER_THAN_TWO_ANNOTATORS, NOT_PAIRABLE, TOO_FEW_DOCUMENTS

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)


def partition(text: str) -> dict[str, int]:
    """'{a} {bc} {def}' -> {'a': 0, 'b': 1, 'c': 1, 'd': 2, 'e': 2, 'f': 2}: one letter a
    mention, one brace an entity (the reference scorer's test notation)."""
    entities = text.replace("{", " ").replace("}", " ").split()
    return {mention: number for number, entity in enumerate(entities) for mention in entity}


def rpf(scores) -> tuple:
    return scores.recall.value, scores.precision.value, scores.f1.value


def f1(r: float, p: float) -> float:
    return 2 * r * p / (r + p)


# --- the published examples ------------------------------------------------------------------


def test_the_worked_example_of_pradhan_et_al_2014():
    """Figure 1 of "Scoring Coreference Partitions of Predicted Mentions" (ACL 2014): the
    paper's rounded figures are MUC 40/40, B³ 42/50, CEAF-e 65/43 (recall/precision, %)."""
    scores = coreference_scores(partition("{abc} {defg}"), partition("{ab} {cd} {fghi}"))
    # MUC: K1 = {abc} is cut into {ab} {c}, K2 = {defg} into {d} {e} {fg}: (1 + 1) / (2 + 3);
    # R cut by K: {ab} 1, {cd} 0, {fghi} into {fg} {h} {i}: 1 -> (1 + 0 + 1) / (1 + 1 + 3).
    assert rpf(scores.muc) == pytest.approx((2 / 5, 2 / 5, 2 / 5))
    # B³ recall: (2²/3 + 1²/3 + 1²/4 + 2²/4) / 7 = 5/12; precision: (2²/2 + 1²/2 + 1²/2 + 2²/4) / 8.
    assert rpf(scores.b_cubed) == pytest.approx((5 / 12, 1 / 2, f1(5 / 12, 1 / 2)))
    # CEAF-e: K1-{ab} φ4 = 4/5, K2-{fghi} 4/8; 1.3 over 2 key and 3 response entities.
    assert rpf(scores.ceaf_e) == pytest.approx((0.65, 1.3 / 3, f1(0.65, 1.3 / 3)))
    assert [round(100 * v) for v in (*rpf(scores.muc)[:2], *rpf(scores.b_cubed)[:2], *rpf(scores.ceaf_e)[:2])] == [
        40, 40, 42, 50, 65, 43]
    assert scores.conll.value == pytest.approx((2 / 5 + f1(5 / 12, 1 / 2) + f1(0.65, 1.3 / 3)) / 3)
    assert (scores.conll.units, scores.conll.pairs, scores.conll.annotators) == (1, 7 + 8, 2)


KEY_A = "{a} {bc} {def}"
CEAF_E_A4 = ((1 + 4 / 5 + 2 / 5) / 3, (1 + 4 / 5 + 2 / 5) / 4)
# The reference scorer's test cases (test/TestCases.README and CorefMetricTestConfig.pm of
# conll/reference-coreference-scorers), exact fractions; None: the case gives no value for the
# metric. A capital letter is another mention (B overlaps b but is not b). TC-A-7 to 9 are
# left out: they repeat a mention, which a mapping mention -> entity cannot.
REFERENCE_CASES = {
    "TC-A-1": (KEY_A, KEY_A, (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    "TC-A-2": (KEY_A, "{a} {de}", (1 / 3, 1, 1 / 2), (7 / 18, 1, 14 / 25), (0.6, 0.9, 0.72)),
    "TC-A-3": (KEY_A, "{a} {bcx} {defy} {z}", (1, 3 / 5, 3 / 4), (1, 55 / 108, 110 / 163),
               ((1 + 4 / 5 + 6 / 7) / 3, (1 + 4 / 5 + 6 / 7) / 4, None)),
    "TC-A-4": (KEY_A, "{a} {bcx} {dy} {z}", (1 / 3, 1 / 3, 1 / 3), (5 / 9, 17 / 42, None), (*CEAF_E_A4, None)),
    "TC-A-5": (KEY_A, "{a} {bcxB} {dy} {z}", (1 / 3, 1 / 4, 2 / 7), (5 / 9, 5 / 16, None),
               ((1 + 4 / 6 + 2 / 5) / 3, (1 + 4 / 6 + 2 / 5) / 4, None)),
    "TC-A-6": (KEY_A, "{a} {bcx} {dy} {Bz}", (1 / 3, 1 / 4, 2 / 7), (5 / 9, 17 / 48, None), (*CEAF_E_A4, None)),
    "TC-A-11": (KEY_A, "{abcdef}", (1, 3 / 5, 6 / 8), (1, 7 / 18, 14 / 25), None),
    "TC-A-13": (KEY_A, "{axycdez}", (1 / 3, 1 / 6, 2 / 9), (17 / 36, 6 / 49, None), None),
    "TC-D-1": ("{12345} {67} {89ABC}", "{12345} {6789ABC}", (1, 9 / 10, None), (1, 16 / 21, None), None),
    "TC-E-1": ("{12345} {67} {89ABC}", "{1234589ABC} {67}", (1, 9 / 10, None), (1, 7 / 12, None), None),
    "TC-F-1": ("{ABCD}", "{AB} {CD}", (2 / 3, 1, None), None, None),
    "TC-G-1": ("{AB} {CD}", "{ABCD}", (1, 2 / 3, None), None, None),
    "TC-H-1": ("{ABCD}", "{ABCD}", (1, 1, 1), None, None),
    "TC-I-1": ("{ABCD}", "{AB} {CD}", (2 / 3, 1, None), None, None),
    "TC-J-1": ("{ABC}", "{AC}", (1 / 2, 1, None), None, None),
    "TC-K-1": ("{BCDEGHJ}", "{ABC} {DEF} {GHI}", (3 / 6, 3 / 6, 3 / 6), None, None),
    "TC-L-1": ("{ABC} {DEFG}", "{AB} {CD} {FGH}", (2 / 5, 2 / 4, None), None, None),
    "TC-M-1": ("{abcdef}", "{abcdef}", (1, 1, 1), (1, 1, 1), (1, 1, 1)),
}


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=str)
def test_the_reference_scorers_test_cases(case):
    key, response, *expected = REFERENCE_CASES[case]
    scores = coreference_scores(partition(key), partition(response))
    for metric, values in zip(("muc", "b_cubed", "ceaf_e"), expected, strict=True):
        if values is None:
            continue
        r, p, f = values
        assert rpf(getattr(scores, metric)) == pytest.approx((r, p, f1(r, p) if f is None else f)), metric


WITHOUT_LINKS = {  # case: key, response, B³ recall and precision
    "TC-A-10": (KEY_A, "{a} {b} {c} {d} {e} {f}", (1 / 2, 1)),
    "TC-A-12": (KEY_A, "{a} {x} {y} {c} {d} {e} {z}", (13 / 36, 4 / 7)),
    "TC-M-2": ("{abcdef}", "{a} {b} {c} {d} {e} {f}", (1 / 6, 1)),
    "TC-M-5": ("{abcdef}", "{a} {b} {c} {x} {y} {z}", (1 / 12, 1 / 2)),
}


@pytest.mark.parametrize("case", WITHOUT_LINKS, ids=str)
def test_a_response_without_links_scores_0_on_muc_with_an_undefined_precision(case):
    """The reference scorer prints MUC 0/0/0 here; precision divides by the response's links,
    none, so it is undefined, and F1 is 0 (nothing of the response can agree)."""
    key, response, b_cubed = WITHOUT_LINKS[case]
    scores = coreference_scores(partition(key), partition(response))
    assert scores.muc.recall.value == 0.0
    assert scores.muc.precision.undefined == NO_LINKS
    assert scores.muc.f1.value == 0.0
    assert rpf(scores.b_cubed)[:2] == pytest.approx(b_cubed)
    assert scores.conll.value == pytest.approx((0 + scores.b_cubed.f1.value + scores.ceaf_e.f1.value) / 3)


def test_only_singletons_on_both_sides_leave_muc_undefined():
    """TC-N-1 and TC-N-4 (the reference scorer prints MUC 0): no links anywhere, so MUC and the
    CoNLL average are undefined, while B³ and CEAF-e, which count singletons, are not."""
    same = coreference_scores(partition("{a} {b} {c} {d} {e} {f}"), partition("{a} {b} {c} {d} {e} {f}"))
    assert {same.muc.recall.undefined, same.muc.precision.undefined, same.muc.f1.undefined} == {NO_LINKS}
    assert same.conll.undefined == NO_LINKS
    assert rpf(same.b_cubed) == (1.0, 1.0, 1.0) and rpf(same.ceaf_e) == (1.0, 1.0, 1.0)
    half = coreference_scores(partition("{a} {b} {c} {d} {e} {f}"), partition("{a} {b} {c} {x} {y} {z}"))
    assert half.muc.f1.undefined == NO_LINKS
    assert rpf(half.b_cubed) == pytest.approx((1 / 2, 1 / 2, 1 / 2))
    assert rpf(half.ceaf_e) == pytest.approx((1 / 2, 1 / 2, 1 / 2))


def test_empty_partitions_are_undefined_not_zero():
    nothing = coreference_scores({}, {})
    for metric in (nothing.muc, nothing.b_cubed, nothing.ceaf_e):
        assert {metric.recall.undefined, metric.precision.undefined, metric.f1.undefined} == {NO_MENTIONS}
    assert nothing.conll.undefined == NO_MENTIONS
    # Only the response holds mentions: recall divides by nothing; none of the response agrees.
    one_sided = coreference_scores({}, partition("{ab} {c}"))
    for metric in (one_sided.muc, one_sided.b_cubed, one_sided.ceaf_e):
        assert metric.recall.undefined == NO_MENTIONS
        assert metric.precision.value == 0.0 and metric.f1.value == 0.0
    assert one_sided.conll.value == 0.0


def test_a_mention_linked_to_no_entity_is_a_singleton():
    unlinked = {"a": None, "b": None, "c": 7, "d": 7}
    assert rpf(coreference_scores(unlinked, {"a": 1, "b": 2, "c": 3, "d": 3}).b_cubed) == (1.0, 1.0, 1.0)
    merged = coreference_scores(unlinked, {"a": 1, "b": 1, "c": 3, "d": 3})
    assert merged.muc.precision.value == pytest.approx(1 / 2) and merged.muc.recall.value == 1.0


# --- against scorch, and properties ------------------------------------------------------------

mentions = st.integers(0, 11)
partitions = st.dictionaries(mentions, st.integers(0, 4), min_size=1, max_size=12)


def clusters(links: dict) -> list[set]:
    grouped: dict = {}
    for mention, entity in links.items():
        grouped.setdefault(entity, set()).add(mention)
    return list(grouped.values())


def theirs(metric: str, key: list[set], response: list[set]) -> tuple:
    """scorch's (recall, precision, F1). Its F1 (statistics.harmonic_mean) fails on numpy zeros
    under Python 3.11, which happens exactly when recall and precision are both 0."""
    try:
        return getattr(scorch, metric)(key, response)
    except statistics.StatisticsError:
        return 0.0, 0.0, 0.0


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # scorch's, on the same zeros
@PROPERTY
@given(partitions, partitions)
def test_equals_scorch_on_random_partitions(key, response):
    """scorch (Grobol), another implementation of the reference scorer's formulas; twinless
    mentions arise wherever the two mappings hold different mentions. scorch gives MUC 0
    when either side has no link; here the side without links has an undefined score and F1 is
    0 (undefined when neither side has a link)."""
    ours = coreference_scores(key, response)
    k, r = clusters(key), clusters(response)
    for metric in ("b_cubed", "ceaf_e"):
        assert rpf(getattr(ours, metric)) == pytest.approx(theirs(metric, k, r), abs=1e-12), metric
    key_links, response_links = any(len(c) > 1 for c in k), any(len(c) > 1 for c in r)
    if key_links and response_links:
        assert rpf(ours.muc) == pytest.approx(theirs("muc", k, r), abs=1e-12)
        expected = np.mean([theirs(metric, k, r)[2] for metric in ("muc", "b_cubed", "ceaf_e")])
        assert ours.conll.value == pytest.approx(expected, abs=1e-12)
    elif key_links or response_links:
        assert ours.muc.f1.value == 0.0 == theirs("muc", k, r)[2]
    else:
        assert ours.muc.f1.undefined == NO_LINKS and ours.conll.undefined == NO_LINKS


@PROPERTY
@given(partitions, partitions)
def test_swapping_key_and_response_swaps_recall_and_precision(key, response):
    forward, backward = coreference_scores(key, response), coreference_scores(response, key)
    for metric in ("muc", "b_cubed", "ceaf_e"):
        f, b = getattr(forward, metric), getattr(backward, metric)
        assert (f.recall.value, f.recall.undefined) == pytest.approx((b.precision.value, b.precision.undefined))
        assert (f.precision.value, f.precision.undefined) == pytest.approx((b.recall.value, b.recall.undefined))
        assert (f.f1.value, f.f1.undefined) == pytest.approx((b.f1.value, b.f1.undefined))


@PROPERTY
@given(partitions)
def test_identical_partitions_agree_fully(links):
    scores = coreference_scores(links, dict(reversed(links.items())))
    assert rpf(scores.b_cubed) == pytest.approx((1, 1, 1)) and rpf(scores.ceaf_e) == pytest.approx((1, 1, 1))
    if any(len(c) > 1 for c in clusters(links)):
        assert rpf(scores.muc) == pytest.approx((1, 1, 1)) and scores.conll.value == pytest.approx(1)


@PROPERTY
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_the_assignment_is_the_best_one(rows, columns, seed):
    """Against scipy's linear_sum_assignment and, small enough, against every assignment; with
    ties and zeros (an entity sharing no mention with another weighs 0)."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 4, (rows, columns)) * rng.random((rows, columns)).round(1)
    chosen_rows, chosen_columns = maximum_weight_assignment(weights)
    assert chosen_rows.size == min(rows, columns)
    assert len(set(chosen_rows.tolist())) == chosen_rows.size == len(set(chosen_columns.tolist()))
    total = weights[chosen_rows, chosen_columns].sum()
    assert total == pytest.approx(weights[linear_sum_assignment(weights, maximize=True)].sum(), abs=1e-12)
    if min(rows, columns) <= 4:
        narrow = weights if rows <= columns else weights.T
        best = max(narrow[np.arange(narrow.shape[0]), list(p)].sum()
                   for p in itertools.permutations(range(narrow.shape[1]), narrow.shape[0]))
        assert total == pytest.approx(best, abs=1e-12)


# --- annotators over a project -------------------------------------------------------------------


def test_mentions_align_by_exact_extent_and_entities_cross_documents():
    a = {("d1", 0, 5): "minister", ("d1", 10, 15): "minister", ("d2", 0, 4): "minister", ("d2", 9, 12): "agency"}
    # B marks (d1, 10, 14), not (d1, 10, 15): two twinless mentions; and sees two people in
    # the minister of d1 and d2.
    b = {("d1", 0, 5): 1, ("d1", 10, 14): 1, ("d2", 0, 4): 2, ("d2", 9, 12): 3}
    result = coreference_agreement({"A": a, "B": b}, replicates=0)
    pair, alone = result.pairs[("A", "B")], coreference_scores(a, b)
    for name in ("muc", "b_cubed", "ceaf_e"):
        assert rpf(getattr(pair, name)) == rpf(getattr(alone, name))
    assert (pair.conll.value, pair.conll.units, pair.conll.pairs, pair.conll.annotators) == (
        alone.conll.value, 2, 8, 2)  # two documents compared, eight mentions
    # By hand. Key: minister {m1, m2, m3}, agency {m4}; response: 1 {m1, m2'}, 2 {m3}, 3 {m4}.
    # MUC recall: minister is cut into {m1} {m2} {m3}: 0 of 2 links; precision: 1 is cut into
    # {m1} {m2'}: 0 of 1.
    assert rpf(pair.muc) == (0.0, 0.0, 0.0)
    # B³ recall: (1²/3 + 1²/3 + 1²/1) / 4 = 5/12; precision: (1²/2 + 1²/1 + 1²/1) / 4 = 5/8.
    assert rpf(pair.b_cubed) == pytest.approx((5 / 12, 5 / 8, f1(5 / 12, 5 / 8)))
    # CEAF-e: minister with 1 (φ4 = 2·1/5) or with 2 (2·1/4, better), agency with 3 (1): 1.5
    # over 2 key and 3 response entities.
    assert rpf(pair.ceaf_e) == pytest.approx((0.75, 0.5, 0.6))
    # Were d2's minister another entity in A's links too, A and B would agree on it: the links
    # across documents count.
    per_document = coreference_agreement({"A": {**a, ("d2", 0, 4): "minister of d2"}, "B": b}, replicates=0)
    assert per_document.b_cubed.value > result.b_cubed.value


def test_pairs_compare_the_documents_both_annotated():
    a = {("d1", 0, 5): 1, ("d1", 9, 12): 1, ("d2", 0, 5): 2}
    b = {("d1", 0, 5): 7, ("d1", 9, 12): 7}
    # B did not annotate d2: A's mention there is not compared.
    held = coreference_agreement({"A": a, "B": b}, {"A": ["d1", "d2"], "B": ["d1"]}, replicates=0)
    assert held.conll.value == 1.0 and held.pairs[("A", "B")].conll.units == 1
    # B annotated d2 and marked nothing there: A's mention is twinless.
    both = coreference_agreement({"A": a, "B": b}, replicates=0)
    assert both.b_cubed.value < 1 and both.pairs[("A", "B")].conll.units == 2
    with pytest.raises(ValueError, match="not annotated"):
        coreference_agreement({"A": a, "B": b}, {"A": ["d1"], "B": ["d1"]})
    # C annotated d1 but marked nothing: against A nothing of C agrees, and against nobody
    # else there is anything to compare.
    with_c = coreference_agreement({"A": a, "B": b}, {"A": ["d1", "d2"], "B": ["d1"], "C": ["d1"]}, replicates=0)
    assert with_c.pairs[("A", "C")].b_cubed.f1.value == 0.0
    assert with_c.pairs[("A", "C")].b_cubed.precision.undefined == NO_MENTIONS


def test_the_mean_over_pairs_is_weighted_by_their_mentions():
    a = {(1, 0, 1): "x", (1, 2, 3): "x", (1, 4, 5): "y", (2, 0, 1): "y"}
    b = {(1, 0, 1): "p", (1, 2, 3): "p", (1, 4, 5): "q", (2, 0, 1): "q"}
    c = {(1, 0, 1): "u", (1, 2, 3): "v"}
    result = coreference_agreement({"A": a, "B": b, "C": c}, replicates=0)
    pairs = result.pairs
    assert set(pairs) == {("A", "B"), ("A", "C"), ("B", "C")}
    weights = {("A", "B"): 8, ("A", "C"): 6, ("B", "C"): 6}
    for name in ("muc", "b_cubed", "ceaf_e"):
        values = {pair: getattr(scores, name).f1.value for pair, scores in pairs.items()}
        assert getattr(pairs[("A", "B")], name).f1.pairs == 8
        expected = sum(weights[p] * values[p] for p in pairs) / sum(weights.values())
        assert getattr(result, name).value == pytest.approx(expected)
        assert (getattr(result, name).pairs, getattr(result, name).annotators, getattr(result, name).units) == (3, 3, 2)
    conll = {pair: scores.conll.value for pair, scores in pairs.items()}
    assert result.conll.value == pytest.approx(sum(weights[p] * conll[p] for p in pairs) / 20)


def test_who_cannot_be_compared():
    alone = coreference_agreement({"A": {(1, 0, 1): "x"}})
    assert alone.conll.undefined == FEWER_THAN_TWO_ANNOTATORS and alone.pairs == {}
    apart = coreference_agreement({"A": {(1, 0, 1): "x"}, "B": {(2, 0, 1): "x"}}, {"A": [1], "B": [2]})
    assert apart.pairs[("A", "B")].conll.undefined == NOT_PAIRABLE and apart.muc.undefined == NOT_PAIRABLE
    silent = coreference_agreement({}, {"A": [1, 2], "B": [1, 2]})
    assert silent.b_cubed.undefined == NO_MENTIONS


# --- the bootstrap over documents ------------------------------------------------------------


def synthetic(documents: int, annotators: int = 2, seed: int = 3) -> dict:
    """Sources of news articles: half of them project-wide entities, half of them one article's;
    annotators miss a mention, mark another extent, or link to another entity of the article."""
    rng = np.random.default_rng(seed)
    truth = {}
    for d in range(documents):
        for k in range(6):
            local = rng.random() < 0.5
            truth[(f"doc{d}", 10 * k, 10 * k + 5)] = (d, int(rng.integers(0, 2))) if local else int(
                rng.integers(0, max(documents // 2, 1)))
    links = {}
    for annotator in range(annotators):
        mine = {}
        for (document, start, end), entity in truth.items():
            r = rng.random()
            if r < 0.05:
                continue
            mine[(document, start, end + (r < 0.1))] = entity if r > 0.15 else ("other", document)
        links[f"annotator{annotator}"] = mine
    return links


def rebuilt(side: dict, draws: dict) -> dict:
    """One annotator's partition in a resample, mention by mention (docs/agreement.md): document
    d drawn draws[d] times gives that many copies of its mentions; an entity met in two drawn
    documents or more holds all their copies, one met in a single drawn document is an entity
    of its own in each copy."""
    met: dict = {}
    for mention, entity in side.items():
        if draws.get(mention[0], 0):
            met.setdefault(entity, set()).add(mention[0])
    return {(copy, mention): (entity, copy) if len(met[entity]) == 1 else entity
            for mention, entity in side.items() for copy in range(draws.get(mention[0], 0))}


def test_the_interval_is_that_of_the_resamples_rebuilt_mention_by_mention():
    links = synthetic(12)
    replicates, seed = 60, 7
    result = coreference_agreement(links, replicates=replicates, seed=seed)
    first, second = links.values()
    documents = list(dict.fromkeys(m[0] for m in [*first, *second]))  # in order of first appearance
    weights = document_weights(len(documents), replicates, seed)
    point = coreference_scores(first, second)
    pair = result.pairs[("annotator0", "annotator1")]
    for name in ("muc", "b_cubed", "ceaf_e"):
        for part in ("recall", "precision", "f1"):
            values = []
            for draw in weights:
                scores = coreference_scores(*(rebuilt(side, dict(zip(documents, draw.astype(int).tolist())))
                                              for side in (first, second)))
                value = getattr(getattr(scores, name), part).value
                values.append(np.nan if value is None else value)
            values = np.array(values)
            # The replicates are moved to the point estimate (their mean onto it), within [0, 1].
            estimate = getattr(getattr(point, name), part).value
            moved = np.clip(values + estimate - np.nanmean(values), 0, 1)
            expected = summarise(moved, seed)
            figure = getattr(getattr(pair, name), part)
            assert (figure.low, figure.high) == pytest.approx((expected.low, expected.high), abs=1e-12), (name, part)
            assert figure.replicates == expected.replicates_defined
    # Two annotators: the overall figure is the pair's, on the same draws.
    assert (result.conll.value, result.conll.low, result.conll.high) == pytest.approx(
        (pair.conll.value, pair.conll.low, pair.conll.high))


def test_a_document_drawn_twice_is_two_sets_of_mentions_in_the_same_entities():
    """The rebuilt resample, checked by hand: document 1 drawn twice, 2 once, 3 not."""
    side = {(1, 0, 1): "x", (1, 2, 3): "x", (2, 0, 1): "x", (1, 4, 5): "y", (3, 0, 1): "y"}
    resample = rebuilt(side, {1: 2, 2: 1, 3: 0})
    # x meets documents 1 and 2: one entity of 2 + 2 + 1 mentions; y meets only document 1:
    # an entity in each of its copies.
    assert sorted(map(str, resample.values())) == sorted(map(str, ["x"] * 5 + [("y", 0), ("y", 1)]))


def test_the_bootstrap_is_seeded():
    links = synthetic(30, annotators=3)
    first = coreference_agreement(links, replicates=200, seed=11)
    again = coreference_agreement(links, replicates=200, seed=11)
    other = coreference_agreement(links, replicates=200, seed=12)
    assert first == again
    assert (first.conll.low, first.conll.high) != (other.conll.low, other.conll.high)
    assert first.conll.seed == 11 and first.pairs[("annotator0", "annotator1")].muc.f1.seed == 11
    assert coreference_agreement(links, replicates=20).conll.seed == DEFAULT_SEED
    without = coreference_agreement(links, replicates=0)
    assert without.conll.seed is None and without.conll.low is None and without.conll.value == first.conll.value


def test_intervals_hold_the_point_estimate():
    result = coreference_agreement(synthetic(80, annotators=3), replicates=300)
    for figure in (result.muc, result.b_cubed, result.ceaf_e, result.conll):
        assert figure.low <= figure.value <= figure.high
        assert 0 < figure.high - figure.low < 0.3
        assert figure.replicates == 300


def test_one_document_gives_no_interval():
    links = {"A": {(1, 0, 1): "x", (1, 2, 3): "x"}, "B": {(1, 0, 1): "x", (1, 2, 3): "y"}}
    result = coreference_agreement(links, replicates=100)
    assert result.b_cubed.value is not None and result.b_cubed.interval_undefined == TOO_FEW_DOCUMENTS
    assert result.pairs[("A", "B")].b_cubed.f1.interval_undefined == TOO_FEW_DOCUMENTS
    # A second document with a mention is enough.
    links["A"][(2, 0, 1)] = "z"
    assert coreference_agreement(links, replicates=100).b_cubed.interval_undefined is None
