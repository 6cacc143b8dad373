"""Proposed gold from annotators' work (annotator.agreement.consensus): pure, no database.
Attributions: tests/test_attribution_proposal.py."""

from __future__ import annotations

import pytest

from annotator.agreement.consensus import Open, majority, span_consensus


# -- sentence labels ------------------------------------------------------------------------


def test_majority_proposes_the_plurality_value_with_those_who_chose_it():
    assert majority({1: "event", 2: "event", 3: "opinion"}, 2) == ("event", [1, 2], False)
    assert majority({3: "a", 1: "a", 2: "b", 4: "c"}, 2) == ("a", [1, 3], False)


def test_majority_threshold():
    votes = {1: "event", 2: "event", 3: "opinion"}
    assert majority(votes, 3) == (None, [], False)  # two votes, three needed
    assert majority({1: "event"}, 1) == ("event", [1], False)
    assert majority({1: "event"}, 2) == (None, [], False)


def test_a_tie_is_never_resolved_whatever_the_threshold():
    assert majority({1: "event", 2: "opinion"}, 1) == (None, [], True)
    assert majority({1: "a", 2: "a", 3: "b", 4: "b"}, 2) == (None, [], True)
    assert majority({1: "a", 2: "a", 3: "b", 4: "b", 5: "c"}, 1) == (None, [], True)
    # A third value with fewer votes does not break a tie between the first two.
    assert majority({1: "a", 2: "b", 3: "a", 4: "b", 5: "c"}, 2)[2] is True


def test_majority_ignores_missing_values_and_compares_multiple_choices_as_sets():
    assert majority({1: None, 2: [], 3: "yes"}, 1) == ("yes", [3], False)
    assert majority({1: None, 2: []}, 1) == (None, [], False)
    assert majority({}, 1) == (None, [], False)
    value, agreed, tie = majority({1: ["b", "a"], 2: ["a", "b"], 3: ["a"]}, 2)
    assert (sorted(value), agreed, tie) == (["a", "b"], [1, 2], False)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_min_agree_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match="min_agree"):
        majority({1: "a"}, bad)


# -- spans ----------------------------------------------------------------------------------


def test_exact_spans_need_min_agree_annotators_on_the_same_extent_and_label():
    spans = {
        1: [(0, 5, "SOURCE"), (10, 20, "CUE")],
        2: [(0, 5, "SOURCE"), (10, 20, "CONTENT")],
        3: [(0, 5, "SOURCE"), (30, 35, "CUE")],
    }
    result = span_consensus(spans, 2, "exact")
    assert result.proposed == [((0, 5, "SOURCE"), [1, 2, 3])]
    assert result.ties == []
    assert span_consensus(spans, 1, "exact").proposed == [
        ((0, 5, "SOURCE"), [1, 2, 3]), ((10, 20, "CONTENT"), [2]), ((10, 20, "CUE"), [1]), ((30, 35, "CUE"), [3])]
    assert span_consensus(spans, 4, "exact").proposed == []


def test_exact_spans_differing_by_a_character_do_not_agree_but_overlapping_ones_do():
    spans = {1: [(0, 10, "CUE")], 2: [(0, 11, "CUE")], 3: [(0, 10, "CUE")]}
    assert span_consensus(spans, 2, "exact").proposed == [((0, 10, "CUE"), [1, 3])]
    # Overlap: all three agree; the extent most of them share is proposed.
    assert span_consensus(spans, 3, "overlap").proposed == [((0, 10, "CUE"), [1, 2, 3])]
    assert span_consensus(spans, 3, "exact").proposed == []


def test_overlap_tie_on_the_extent_stays_open():
    spans = {1: [(0, 10, "CUE")], 2: [(2, 12, "CUE")]}
    result = span_consensus(spans, 2, "overlap")
    assert result.proposed == []
    assert result.ties == [Open([(0, 10, "CUE"), (2, 12, "CUE")], [1, 2])]
    # Below the threshold it is not a tie but simply not proposed.
    assert span_consensus(spans, 3, "overlap") == span_consensus({}, 3, "overlap")


def test_exact_tie_between_two_extents_each_above_the_threshold_stays_open():
    spans = {1: [(0, 10, "CUE")], 2: [(0, 10, "CUE")], 3: [(0, 12, "CUE")], 4: [(0, 12, "CUE")]}
    result = span_consensus(spans, 2, "exact")
    assert result.proposed == []
    assert result.ties == [Open([(0, 10, "CUE"), (0, 12, "CUE")], [1, 2, 3, 4])]
    # One more vote breaks the tie; never two overlapping proposals of one label.
    spans[5] = [(0, 10, "CUE")]
    assert span_consensus(spans, 2, "exact").proposed == [((0, 10, "CUE"), [1, 2, 5])]


def test_spans_of_different_labels_or_apart_never_match():
    spans = {1: [(0, 10, "CUE")], 2: [(0, 10, "SOURCE")], 3: [(10, 20, "CUE")]}
    assert span_consensus(spans, 2, "overlap").proposed == []
    assert span_consensus(spans, 2, "overlap").ties == []


def test_an_annotators_duplicate_span_votes_once():
    spans = {1: [(0, 10, "CUE"), (0, 10, "CUE")], 2: [(5, 8, "CUE")]}
    assert span_consensus(spans, 2, "exact").proposed == []
    assert span_consensus(spans, 2, "overlap").ties == [Open([(0, 10, "CUE"), (5, 8, "CUE")], [1, 2])]


def test_span_consensus_of_nothing_and_bad_matching():
    assert span_consensus({}, 1, "exact").proposed == []
    assert span_consensus({1: [], 2: None}, 1, "overlap").proposed == []
    with pytest.raises(ValueError, match="matching"):
        span_consensus({}, 1, "fuzzy")
