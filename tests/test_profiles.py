"""Profiles, pure (annotator.profiles): each figure computed by hand from hand-written records,
the weighting of readings, the spread across annotators, bootstrap intervals and differences
recomputed replicate by replicate, the groupings, the charts' coordinates and the downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import numpy as np
import pytest

from annotator import profiles
from annotator.agreement.bootstrap import document_weights
from annotator.agreement.results import FEWER_THAN_TWO_ANNOTATORS, TOO_FEW_DOCUMENTS
from annotator.codebook import codebook_from_dict, default_codebook
from annotator.profiles import (
    GOLD,
    Article,
    AttributionRow,
    CueRow,
    Entity,
    LabelRow,
    ProfileData,
    Reading,
    SourceRow,
    SpanRow,
    charts,
    render,
)

CODEBOOK = default_codebook()
RELATION = "attribution"


def index(profile: dict, key: str) -> int:
    return [f["key"] for f in profile["figures"]].index(key)


def value(profile: dict, group: dict, key: str):
    return group["value"][index(profile, key)]


def groups(profile: dict) -> dict[str, dict]:
    return {g["label"]: g for g in profile["groups"]}


def attribution(document, reader, count=1, **attributes) -> AttributionRow:
    return AttributionRow(document, reader, RELATION, attributes, count)


# A project of five articles: two outlets, three months and an undated one; article 1
# adjudicated (gold) and also read by annotators 10 and 11; article 2 read by 10 and 11;
# article 3 by 10 alone; article 4 by nobody (left out); article 5 by 11 alone.
ARTICLES = [
    Article(1, "One", "Dawn", dt.date(2024, 5, 3), 1000),
    Article(2, "Two", "Dawn", dt.date(2024, 7, 9), 500),
    Article(3, "Three", "ARY News", dt.date(2024, 5, 28), 2000),
    Article(4, "Four", "ARY News", None, 400),
    Article(5, "Five", None, None, 250),
]
READINGS = [Reading(1, GOLD), Reading(1, 10), Reading(1, 11), Reading(2, 10), Reading(2, 11), Reading(3, 10),
            Reading(5, 11)]
DATA = ProfileData(
    ARTICLES,
    READINGS,
    attributions=[
        attribution(1, GOLD, 3, identification="anonymous", source_kind="person"),
        attribution(1, GOLD, 1, identification="named"),
        attribution(1, 10, 5, identification="named"),  # annotators' readings of an adjudicated article:
        attribution(1, 11, 1, identification="anonymous"),  # in the spread, not in the headline
        attribution(2, 10, 2, identification="anonymous"),
        attribution(2, 11, 1, identification="role_only"),
        attribution(2, 11, 1),  # no identification: not in the shares' denominator
        attribution(3, 10, 4, identification="named", quote_type="not a codebook value"),
        attribution(4, 10, 9, identification="anonymous"),  # article 4 has no finished reading
        attribution(3, 11, 7, identification="anonymous"),  # 11 never finished article 3
    ],
    sources=[
        SourceRow(1, GOLD, RELATION, 2),
        SourceRow(2, 10, RELATION, 1), SourceRow(2, 10, RELATION, 2, entity=7), SourceRow(2, 10, RELATION, 1, entity=8),
        SourceRow(2, 11, RELATION, 1),
        SourceRow(3, 10, RELATION, 1),
        SourceRow(3, 11, RELATION, 5),  # 11 never finished article 3
    ],
    cues=[
        CueRow(1, GOLD, RELATION, "Said", 3), CueRow(1, GOLD, RELATION, "according to", 1),
        CueRow(2, 10, RELATION, "said,", 1), CueRow(2, 10, RELATION, "Claimed", 1),
        CueRow(2, 11, RELATION, "admitted", 2),
        CueRow(3, 10, RELATION, "  said ", 4),
    ],
    spans=[
        SpanRow(1, GOLD, "loaded_language", "DOUBT", {"polarity": "negative", "voice": "author"}, 2),
        SpanRow(2, 10, "loaded_language", "LOADED_LANGUAGE", {"polarity": "positive", "voice": None}, 1),
        SpanRow(2, 11, "loaded_language", "NOT_A_LABEL", {}, 1),  # counted in the layer's rate only
        SpanRow(3, 10, "attribution", "SOURCE", {}, 5),  # the relation's layer: counted as attributions
    ],
    labels=[
        LabelRow(1, GOLD, "claim_type", "event", 2), LabelRow(1, GOLD, "check_worthy", "yes", 1),
        LabelRow(2, 10, "claim_type", "opinion", 3), LabelRow(2, 11, "claim_type", "event", 1),
        LabelRow(2, 11, "claim_type", "not a value", 4),
        LabelRow(3, 10, "check_worthy", "no", 2),
    ],
    names={10: "zoe", 11: "adam"},
)


@pytest.fixture(scope="module")
def by_outlet() -> dict:
    return profiles.profile(DATA, CODEBOOK, by="outlet", replicates=500, seed=7)


def test_cue_words_are_compared_lower_cased_without_surrounding_punctuation():
    assert profiles.cue_word("  Said, ") == "said"
    assert profiles.cue_word("According  TO") == "according to"
    assert profiles.cue_word("“claimed”") == "claimed"
    assert profiles.cue_word(":") == ":"  # punctuation alone stays what it is
    assert profiles.cue_word("کہا۔") == "کہا"


def test_the_catalogue_reads_the_codebook():
    figures = profiles.figure_catalogue(CODEBOOK, ["said", "told"], ("female", "male"))
    keys = [f.key for f in figures]
    assert keys[:7] == ["attribution/per_1000_words", "attribution/sources_per_article", "attribution/mentions_per_source",
                        "attribution/linked_mentions", "attribution/gender_recorded", "attribution/source_gender/female",
                        "attribution/source_gender/male"]
    assert keys[7:12] == [f"attribution/attribute/source_kind/{v}" for v in
                          ("person", "organisation", "media_outlet", "document", "unspecified_group")]
    assert [k for k in keys if k.startswith("attribution/cue")] == ["attribution/cue/said", "attribution/cue/told",
                                                                     "attribution/cue_other"]
    assert "loaded_language/label/DOUBT" in keys and "loaded_language/attribute/voice/attributed" in keys
    assert keys[-3:] == ["check_worthy/value/no", "check_worthy/value/unsure", "check_worthy/value/yes"]
    assert not any(k.startswith("attribution/label") for k in keys)  # the relation's layer has no rates of its own
    share = figures[keys.index("attribution/attribute/identification/anonymous")]
    assert (share.kind, share.numerator, share.denominator, share.basis, share.undefined) == (
        "share", "attribution/attribute/identification/anonymous", "attribution/attribute/identification",
        "share of the attributions with an identification", "no attribution with an identification")
    rate = figures[keys.index("loaded_language/label/DOUBT")]
    assert (rate.kind, rate.numerator, rate.denominator, rate.per) == ("per_1000_words", "loaded_language/label/DOUBT",
                                                                       "words", 1000)
    mentions = figures[keys.index("attribution/mentions_per_source")]
    assert (mentions.kind, mentions.numerator, mentions.denominator, mentions.undefined) == (
        "per_source", "attribution/mentions", "attribution/sources", "no sources")
    female = figures[keys.index("attribution/source_gender/female")]
    assert (female.section, female.numerator, female.denominator, female.undefined) == (
        "attribution/source_gender", "attribution/source_gender/female", "attribution/gendered",
        "no linked person source with a gender recorded")
    # Without genders to count by, no figure by gender.
    assert not any("gender" in f.key for f in profiles.figure_catalogue(CODEBOOK, []))


def test_a_codebook_naming_two_figures_alike_is_refused():
    data = CODEBOOK.to_dict()
    data["relations"][0]["name"] = "loaded_language"  # its rate's key would be the span layer's
    with pytest.raises(ValueError, match="names two figures alike"):
        profiles.figure_catalogue(codebook_from_dict(data), [])


def test_counts_weights_and_what_is_left_out(by_outlet):
    assert by_outlet["counts"] == {"documents": 4, "left_out": 1, "adjudicated": 1, "readings": 5, "annotators": 2}
    assert [a["username"] for a in by_outlet["annotators"]] == ["adam", "zoe"]  # by name
    dawn, ary, none = (groups(by_outlet)[name] for name in ("Dawn", "ARY News", "(no outlet)"))
    assert [g["label"] for g in by_outlet["groups"]] == ["ARY News", "Dawn", "(no outlet)"]
    assert (dawn["documents"], dawn["readings"], dawn["adjudicated"]) == (2, 3, 1)
    assert (ary["documents"], ary["readings"]) == (1, 1)  # article 4 is left out
    # Attributions: article 1 gold 3 + 1 = 4; article 2 (10: 2, 11: 1 + 1) / 2 = 2; article 3: 4; article 5: 0.
    rate = index(by_outlet, "attribution/per_1000_words")
    assert (dawn["numerator"][rate], dawn["denominator"][rate]) == (6.0, 1500.0)
    assert dawn["value"][rate] == pytest.approx(4.0)
    assert ary["value"][rate] == pytest.approx(2.0)
    assert none["value"][rate] == 0.0  # words but no attribution: a rate of 0, not undefined
    assert by_outlet["overall"]["value"][rate] == pytest.approx(10 / 3750 * 1000)


def test_shares_leave_out_what_has_no_value(by_outlet):
    dawn, ary, none = (groups(by_outlet)[name] for name in ("Dawn", "ARY News", "(no outlet)"))
    anonymous = index(by_outlet, "attribution/attribute/identification/anonymous")
    # Article 1 gold: anonymous 3 of 4; article 2: 10 anonymous 2 of 2, 11 role only 1 of 1 (one without) -> 1 of 1.5.
    assert (dawn["numerator"][anonymous], dawn["denominator"][anonymous]) == (4.0, 5.5)
    assert value(by_outlet, ary, "attribution/attribute/identification/named") == 1.0
    assert none["value"][anonymous] is None
    assert none["undefined"][anonymous] == "no attribution with an identification"
    # A value the codebook does not have counts in no share.
    assert ary["undefined"][index(by_outlet, "attribution/attribute/quote_type/indirect")] == \
        "no attribution with a quote type"
    person = index(by_outlet, "attribution/attribute/source_kind/person")
    assert (dawn["numerator"][person], dawn["denominator"][person]) == (3.0, 3.0)


def test_sources_are_distinct_by_entity_where_linked_else_by_span(by_outlet):
    dawn = groups(by_outlet)["Dawn"]
    sources = index(by_outlet, "attribution/sources_per_article")
    # Article 1 gold: 2 spans; article 2: 10 has a span of no entity, two of entity 7 and one of
    # entity 8 -> 3 sources, 11 has 1 -> 2.
    assert (dawn["numerator"][sources], dawn["denominator"][sources]) == (4.0, 2.0)


def test_cue_words(by_outlet):
    words = [f["title"] for f in by_outlet["figures"] if f["section"] == "attribution/cue"]
    assert words == ["said", "admitted", "according to", "claimed", "other words"]  # said 8, admitted 2, then by word
    dawn = groups(by_outlet)["Dawn"]
    said = index(by_outlet, "attribution/cue/said")
    # Article 1 gold: said 3 of 4 cues; article 2: 10 said 1 of 2, 11 none of 2 -> 0.5 of 2.
    assert (dawn["numerator"][said], dawn["denominator"][said]) == (3.5, 6.0)
    assert value(by_outlet, dawn, "attribution/cue/admitted") == pytest.approx(1 / 6)
    assert value(by_outlet, dawn, "attribution/cue_other") == 0.0


def test_cue_words_past_the_most_common_are_counted_together():
    cues = [CueRow(1, 10, RELATION, f"verb{i:02d}", 30 - i) for i in range(profiles.MAX_CUE_WORDS + 2)]
    data = ProfileData([ARTICLES[0]], [Reading(1, 10)], cues=cues)
    profile = profiles.profile(data, CODEBOOK, replicates=0)
    assert value(profile, profile["overall"], "attribution/cue_other") == pytest.approx((30 - 25 + 30 - 26) / sum(30 - i for i in range(27)))


def test_loaded_language_rates(by_outlet):
    dawn = groups(by_outlet)["Dawn"]
    # Article 1 gold: 2 DOUBT (negative, author); article 2: 10 one positive (no voice), 11 one of no known label.
    assert value(by_outlet, dawn, "loaded_language/per_1000_words") == pytest.approx(3 / 1500 * 1000)
    assert value(by_outlet, dawn, "loaded_language/label/DOUBT") == pytest.approx(2 / 1500 * 1000)
    assert value(by_outlet, dawn, "loaded_language/label/LOADED_LANGUAGE") == pytest.approx(0.5 / 1500 * 1000)
    assert value(by_outlet, dawn, "loaded_language/attribute/polarity/positive") == pytest.approx(0.5 / 1500 * 1000)
    assert value(by_outlet, dawn, "loaded_language/attribute/voice/author") == pytest.approx(2 / 1500 * 1000)
    assert value(by_outlet, dawn, "loaded_language/attribute/voice/attributed") == 0.0


def test_sentence_shares(by_outlet):
    dawn, ary = groups(by_outlet)["Dawn"], groups(by_outlet)["ARY News"]
    event = index(by_outlet, "claim_type/value/event")
    # Article 1 gold: event 2 of 2; article 2: 10 opinion 3 of 3, 11 event 1 of 1 -> event 0.5 of 2.
    assert (dawn["numerator"][event], dawn["denominator"][event]) == (2.5, 4.0)
    assert value(by_outlet, dawn, "check_worthy/value/yes") == 1.0
    assert value(by_outlet, ary, "check_worthy/value/no") == 1.0
    assert ary["undefined"][event] == "no sentence with a claim type value"


def test_multiple_choice_values_count_once_each():
    data = CODEBOOK.to_dict()
    data["choice_layers"][0]["multiple"] = True
    codebook = codebook_from_dict(data)
    rows = ProfileData([ARTICLES[0]], [Reading(1, 10)],
                       labels=[LabelRow(1, 10, "claim_type", ["event", "causal"], 1), LabelRow(1, 10, "claim_type", ["event"], 1)])
    profile = profiles.profile(rows, codebook, replicates=0)
    overall = profile["overall"]
    assert value(profile, overall, "claim_type/value/event") == 1.0  # 2 of 2 sentences
    assert value(profile, overall, "claim_type/value/causal") == 0.5


def test_the_spread_is_each_annotators_own_figure(by_outlet):
    dawn, ary = groups(by_outlet)["Dawn"], groups(by_outlet)["ARY News"]
    rate = index(by_outlet, "attribution/per_1000_words")
    # Their own readings, the adjudicated article 1 included: 10: (5 + 2) / 1500; 11: (1 + 2) / 1500.
    own = {a["id"]: a["value"][rate] for a in dawn["annotators"]}
    assert own == pytest.approx({10: 7 / 1.5, 11: 3 / 1.5})
    assert (dawn["spread"]["low"][rate], dawn["spread"]["high"][rate], dawn["spread"]["annotators"][rate]) == \
        pytest.approx((2.0, 7 / 1.5, 2))
    assert [a["documents"] for a in dawn["annotators"]] == [2, 2]
    assert (ary["spread"]["low"][rate], ary["spread"]["undefined"][rate]) == (None, FEWER_THAN_TWO_ANNOTATORS)
    anonymous = index(by_outlet, "attribution/attribute/identification/anonymous")
    # 10: 2 of 7; 11: 1 of 2 -> a range of 2/7 to 1/2.
    assert (dawn["spread"]["low"][anonymous], dawn["spread"]["high"][anonymous]) == pytest.approx((2 / 7, 1 / 2))


def _ratio(weights: np.ndarray, numerators: list[float], denominators: list[float], per: float) -> list[float]:
    """A replicate's figure the long way: the redrawn articles' sums, one replicate at a time."""
    found = []
    for row in weights:
        numerator = sum(w * n for w, n in zip(row, numerators))
        denominator = sum(w * d for w, d in zip(row, denominators))
        found.append(per * numerator / denominator if denominator else np.nan)
    return found


def test_an_interval_is_the_percentiles_of_articles_redrawn(by_outlet):
    dawn = groups(by_outlet)["Dawn"]
    rate = index(by_outlet, "attribution/per_1000_words")
    seed = profiles.group_seed(7, "Dawn")
    assert dawn["interval"]["seed"] == seed
    # Dawn's articles in order (1, 2): attributions 4 and 2 over 1000 and 500 words.
    replicates = _ratio(document_weights(2, 500, seed), [4, 2], [1000, 500], 1000)
    low, high = np.quantile([r for r in replicates if not np.isnan(r)], [0.025, 0.975])
    assert (dawn["interval"]["low"][rate], dawn["interval"]["high"][rate]) == pytest.approx((low, high))
    assert dawn["interval"]["replicates"][rate] == 500
    # The check-worthy share: article 2 has no value, so only one article contributes.
    yes = index(by_outlet, "check_worthy/value/yes")
    assert (dawn["interval"]["low"][yes], dawn["interval"]["undefined"][yes]) == (None, TOO_FEW_DOCUMENTS)
    # A group of one article has no interval at all.
    assert groups(by_outlet)["ARY News"]["interval"] == {"seed": profiles.group_seed(7, "ARY News"),
                                                         "undefined": TOO_FEW_DOCUMENTS}
    overall = by_outlet["overall"]
    assert overall["interval"]["seed"] == 7
    replicates = _ratio(document_weights(4, 500, 7), [4, 2, 4, 0], [1000, 500, 2000, 250], 1000)
    assert (overall["interval"]["low"][rate], overall["interval"]["high"][rate]) == pytest.approx(
        tuple(np.quantile(replicates, [0.025, 0.975])))


def test_replicates_that_divide_by_zero_are_left_out():
    """A share whose redrawn articles have no denominator is undefined in that replicate."""
    data = ProfileData(ARTICLES[:3], [Reading(1, 10), Reading(2, 10), Reading(3, 10)],
                       attributions=[attribution(1, 10, 1, identification="named"),
                                     attribution(2, 10, 1, identification="anonymous")])
    profile = profiles.profile(data, CODEBOOK, by="outlet", replicates=300, seed=3)
    named = index(profile, "attribution/attribute/identification/named")
    overall = profile["overall"]
    replicates = _ratio(document_weights(3, 300, 3), [1, 0, 0], [1, 1, 0], 1)
    defined = [r for r in replicates if not np.isnan(r)]
    assert len(defined) < 300 and overall["interval"]["replicates"][named] == len(defined)
    assert (overall["interval"]["low"][named], overall["interval"]["high"][named]) == pytest.approx(
        tuple(np.quantile(defined, [0.025, 0.975])))


def test_a_difference_redraws_each_group_on_its_own():
    articles = [Article(i, f"A{i}", "Dawn" if i <= 3 else "ARY", None, 100 * i) for i in range(1, 7)]
    readings = [Reading(i, reader) for i in range(1, 7) for reader in (10, 11)]
    rows = [attribution(i, reader, i + (reader == 11)) for i in range(1, 7) for reader in (10, 11)]
    data = ProfileData(articles, readings, attributions=rows, names={10: "a", 11: "b"})
    profile = profiles.profile(data, CODEBOOK, by="outlet", replicates=400, seed=11, compare=("Dawn", "ARY"))
    comparison, rate = profile["comparison"], index(profile, "attribution/per_1000_words")
    # Headline: each article the mean of two readings, i + 0.5 attributions.
    dawn = sum(i + 0.5 for i in (1, 2, 3)) / 600 * 1000
    ary = sum(i + 0.5 for i in (4, 5, 6)) / 1500 * 1000
    assert comparison["value"][rate] == pytest.approx(dawn - ary)
    first = _ratio(document_weights(3, 400, profiles.group_seed(11, "Dawn")), [1.5, 2.5, 3.5], [100, 200, 300], 1000)
    second = _ratio(document_weights(3, 400, profiles.group_seed(11, "ARY")), [4.5, 5.5, 6.5], [400, 500, 600], 1000)
    expected = np.quantile(np.array(first) - np.array(second), [0.025, 0.975])
    assert (comparison["interval"]["low"][rate], comparison["interval"]["high"][rate]) == pytest.approx(tuple(expected))
    # Each annotator's own difference: a read i, b read i + 1.
    own = {a["id"]: a["value"][rate] for a in comparison["annotators"]}
    assert own == pytest.approx({10: 6 / 600 * 1000 - 15 / 1500 * 1000, 11: 9 / 600 * 1000 - 18 / 1500 * 1000})
    assert comparison["spread"]["low"][rate] == pytest.approx(min(own.values()))
    assert comparison["spread"]["high"][rate] == pytest.approx(max(own.values()))
    named = index(profile, "attribution/attribute/identification/named")
    assert comparison["undefined"][named] == profiles.UNDEFINED_IN_A_GROUP
    assert comparison["interval"]["undefined"][named] == profiles.UNDEFINED_IN_A_GROUP


def test_groupings_and_their_order():
    months = profiles.profile(DATA, CODEBOOK, by="month", replicates=0)
    assert [(g["key"], g["label"], g["documents"]) for g in months["groups"]] == [
        ("2024-05", "2024-05", 2), ("2024-07", "2024-07", 1), ("", "(no date)", 1)]
    documents = profiles.profile(DATA, CODEBOOK, by="document", replicates=0)
    assert [g["key"] for g in documents["groups"]] == ["1", "2", "3", "5"]
    readers = profiles.profile(DATA, CODEBOOK, by="annotator", replicates=0)
    assert [(g["key"], g["label"], g["documents"], g["adjudicated"]) for g in readers["groups"]] == [
        ("11", "adam", 3, 1), ("10", "zoe", 3, 1), ("gold", "gold", 1, 1)]
    zoe = readers["groups"][1]
    # zoe's own readings: articles 1 (5), 2 (2) and 3 (4): 11 attributions over 3,500 words.
    assert value(readers, zoe, "attribution/per_1000_words") == pytest.approx(11 / 3500 * 1000)
    assert zoe["spread"]["undefined"][0] == profiles.ONE_READER and zoe["annotators"] == []
    assert months["groups"][0]["interval"] is None  # no replicates asked for: no interval
    with pytest.raises(ValueError, match="by must be one of"):
        profiles.profile(DATA, CODEBOOK, by="weekday")


def test_groups_are_found_by_key_or_label():
    readers = profiles.profile(DATA, CODEBOOK, by="annotator", replicates=0, compare=("zoe", "11"))
    assert (readers["comparison"]["a"], readers["comparison"]["b"]) == ("10", "11")
    assert readers["comparison"]["spread"]["undefined"][0] == profiles.ONE_READER
    with pytest.raises(profiles.UnknownGroup, match="no group 'nobody'"):
        profiles.profile(DATA, CODEBOOK, by="annotator", replicates=0, compare=("zoe", "nobody"))


def test_an_empty_project_is_all_undefined_and_valid_json():
    profile = profiles.profile(ProfileData([ARTICLES[0]], []), CODEBOOK, replicates=100)
    assert profile["counts"]["documents"] == 0 and profile["counts"]["left_out"] == 1 and profile["groups"] == []
    assert set(profile["overall"]["undefined"]) == {"no words", "no articles", "no sources", "no source mentions",
                                                    "no attribution with a source kind",
                                                    "no attribution with an identification", "no attribution with a cue type",
                                                    "no attribution with a quote type", "no cue",
                                                    "no sentence with a claim type value", "no sentence with a check-worthy value"}
    json.dumps(profile, allow_nan=False)
    json.dumps(profiles.profile(DATA, CODEBOOK, replicates=50, compare=("Dawn", "ARY News")), allow_nan=False)


# -- sources and entities ---------------------------------------------------------------------------------

# Three articles of 100 words: A and B from Dawn, C from ARY News. A is adjudicated (gold) and also
# read by 10 and 11; B by 10 and 11 (a half each); C by 10 alone.
ENTITIES = {1: Entity(1, "Maulana Fazlur Rehman", "person", "named", "male"), 2: Entity(2, "Aslam Ghauri", "person", "named"),
            3: Entity(3, "Police", "organisation", "role_only"), 4: Entity(4, "Maryam Nawaz", "person", "named", "female")}
LINKED = ProfileData(
    [Article(1, "A", "Dawn", None, 100), Article(2, "B", "Dawn", None, 100), Article(3, "C", "ARY News", None, 100)],
    [Reading(1, GOLD), Reading(1, 10), Reading(1, 11), Reading(2, 10), Reading(2, 11), Reading(3, 10)],
    attributions=[attribution(1, GOLD, 3), attribution(1, 10, 2), attribution(1, 11, 1), attribution(2, 10, 4),
                  attribution(2, 11, 2), attribution(3, 10, 2)],
    sources=[
        # gold: Rehman named and then "he" (two mentions of entity 1, two attributions), one source not linked
        SourceRow(1, GOLD, RELATION, 2, 1, 2), SourceRow(1, GOLD, RELATION, 1, None, 1),
        SourceRow(1, 10, RELATION, 1, 1, 1), SourceRow(1, 10, RELATION, 1, 3, 1),  # in the spread only
        SourceRow(1, 11, RELATION, 1, None, 1),
        SourceRow(2, 10, RELATION, 1, 1, 2),  # one mention, the source of two attributions
        SourceRow(2, 10, RELATION, 1, 2, 1), SourceRow(2, 10, RELATION, 1, 4, 1),
        SourceRow(2, 11, RELATION, 1, 1, 1), SourceRow(2, 11, RELATION, 1, None, 1),
        SourceRow(3, 10, RELATION, 2, 3, 2),
    ],
    names={10: "zoe", 11: "adam"}, entities=ENTITIES, genders=("female", "male", "non_binary"),
)


@pytest.fixture(scope="module")
def linked() -> dict:
    return profiles.profile(LINKED, CODEBOOK, by="outlet", replicates=0)


def test_distinct_sources_mentions_and_gender_by_hand(linked):
    dawn, ary = groups(linked)["Dawn"], groups(linked)["ARY News"]
    # Sources: A gold 1 entity + 1 unlinked = 2; B: 10 has 3 entities, 11 1 entity + 1 unlinked: (3 + 2) / 2.
    sources = index(linked, "attribution/sources_per_article")
    assert (dawn["numerator"][sources], dawn["denominator"][sources]) == (4.5, 2.0)
    # Mentions: A gold 3; B (3 + 2) / 2.
    mentions = index(linked, "attribution/mentions_per_source")
    assert (dawn["numerator"][mentions], dawn["denominator"][mentions]) == (5.5, 4.5)
    assert ary["value"][mentions] == 2.0  # two mentions of the police, one source
    linked_share = index(linked, "attribution/linked_mentions")
    assert (dawn["numerator"][linked_share], dawn["denominator"][linked_share]) == (4.0, 5.5)
    # Person sources: A gold Rehman (male); B: 10 Rehman, Ghauri (no gender), Nawaz (female), 11 Rehman.
    recorded = index(linked, "attribution/gender_recorded")
    assert (dawn["numerator"][recorded], dawn["denominator"][recorded]) == (2.5, 3.0)
    assert value(linked, dawn, "attribution/source_gender/male") == pytest.approx(2 / 2.5)
    assert value(linked, dawn, "attribution/source_gender/female") == pytest.approx(0.5 / 2.5)
    assert value(linked, dawn, "attribution/source_gender/non_binary") == 0.0
    # ARY News cites the police only: no person source, so no gender share, and the reason.
    assert ary["undefined"][recorded] == "no linked person source"
    assert ary["undefined"][index(linked, "attribution/source_gender/male")] == \
        "no linked person source with a gender recorded"


def _top(group: dict) -> list[tuple]:
    top = group["top_sources"][RELATION]
    return list(zip(top["entity"], top["citations"], top["articles"], top["share"]))


def _rows(*expected: tuple) -> list:
    return [pytest.approx(row) for row in expected]


def test_top_quoted_sources_per_group_by_hand(linked):
    dawn, ary, overall = groups(linked)["Dawn"], groups(linked)["ARY News"], linked["overall"]
    # Dawn's attributions: A gold 3, B (4 + 2) / 2 = 3. Rehman: A gold 2, B 10 2 / 2 and 11 1 / 2;
    # Ghauri and Nawaz a half each (tied: by name). The police are cited in A by 10 only: not in the headline.
    assert dawn["top_sources"][RELATION]["attributions"] == 6.0 and dawn["top_sources"][RELATION]["cited"] == 3
    assert _top(dawn) == _rows((1, 3.5, 2.0, 3.5 / 6), (2, 0.5, 0.5, 0.5 / 6), (4, 0.5, 0.5, 0.5 / 6))
    assert _top(ary) == [(3, 2.0, 1.0, 1.0)]
    assert [row[0] for row in _top(overall)] == [1, 3, 2, 4]
    assert _top(overall)[0] == pytest.approx((1, 3.5, 2.0, 3.5 / 8))
    # The annotators' own shares on Dawn's articles (A included): 10 cites Rehman 3 times in 6
    # attributions, 11 once in 3; Ghauri: 10 1 of 6, 11 none of 3.
    spread = dawn["top_sources"][RELATION]["spread"]
    assert (spread["low"], spread["high"], spread["annotators"]) == (
        pytest.approx([1 / 3, 0.0, 0.0]), pytest.approx([1 / 2, 1 / 6, 1 / 6]), [2, 2, 2])
    # ARY News: only 10 has attributions there.
    assert ary["top_sources"][RELATION]["spread"]["undefined"] == [FEWER_THAN_TWO_ANNOTATORS]
    # The registry of the entities listed, by name.
    assert [entity["name"] for entity in linked["sources"]] == ["Aslam Ghauri", "Maryam Nawaz", "Maulana Fazlur Rehman", "Police"]
    assert linked["sources"][1] == {"id": 4, "name": "Maryam Nawaz", "kind": "person", "anonymity": "named", "gender": "female"}


def test_top_quoted_sources_by_annotator_and_the_limit():
    readers = groups(profiles.profile(LINKED, CODEBOOK, by="annotator", replicates=0))
    # zoe (10): Rehman 1 + 2 and the police 1 + 2, each in two articles: tied, by name.
    assert _top(readers["zoe"]) == _rows((1, 3.0, 2.0, 3 / 8), (3, 3.0, 2.0, 3 / 8), (2, 1.0, 1.0, 1 / 8),
                                         (4, 1.0, 1.0, 1 / 8))
    assert readers["zoe"]["top_sources"][RELATION]["spread"]["undefined"] == [profiles.ONE_READER] * 4
    assert _top(readers["gold"]) == [(1, 2.0, 1.0, 2 / 3)]
    many = ProfileData([Article(1, "A", "Dawn", None, 100)], [Reading(1, 10)], attributions=[attribution(1, 10, 30)],
                       sources=[SourceRow(1, 10, RELATION, 1, entity, 30 - entity) for entity in range(1, 13)])
    top = profiles.profile(many, CODEBOOK, replicates=0)["overall"]["top_sources"][RELATION]
    assert top["cited"] == 12 and top["entity"] == list(range(1, profiles.TOP_SOURCES + 1))
    assert top["spread"]["undefined"][0] == FEWER_THAN_TWO_ANNOTATORS


def test_top_quoted_sources_in_the_csv_and_html():
    profile = _with_project(profiles.profile(LINKED, CODEBOOK, by="outlet", replicates=0))
    rows = list(csv.DictReader(io.StringIO("".join(render.profile_csv(profile, {10: "a-zoe", 11: "a-adam"})))))
    top = [r for r in rows if r["scope"] == "top source" and r["group"] == "Dawn"]
    assert [(r["rank"], r["entity_id"], r["entity_name"], r["entity_kind"], r["entity_gender"]) for r in top] == [
        ("1", "1", "Maulana Fazlur Rehman", "person", "male"), ("2", "2", "Aslam Ghauri", "person", ""),
        ("3", "4", "Maryam Nawaz", "person", "female")]
    assert (float(top[0]["value"]), float(top[0]["numerator"]), float(top[0]["denominator"]), float(top[0]["articles"])) == (
        pytest.approx(3.5 / 6), 3.5, 6.0, 2.0)
    assert (float(top[0]["spread_low"]), float(top[0]["spread_high"])) == pytest.approx((1 / 3, 1 / 2))
    assert all(r["entity_id"] == "" for r in rows if r["scope"] != "top source")
    html = render.profile_html(profile, {10: "a-zoe", 11: "a-adam"})
    assert "Attribution: top quoted sources" in html and "Maulana Fazlur Rehman" in html
    assert "33.3% – 50.0% (2 annotators)" in html and "no attribution cites a linked source" not in html


# -- charts ------------------------------------------------------------------------------------------------


def test_nice_ceilings_and_formats():
    assert [charts.nice_ceiling(v) for v in (0, 0.7, 1, 1.2, 2.2, 3, 7, 42, 260)] == [1, 1, 1, 2, 2.5, 5, 10, 50, 500]
    assert charts.format_value(0.4567, "share") == "45.7%" and charts.format_value(3.14159, "per_1000_words") == "3.14"
    assert charts.format_difference(-0.05, "share") == "-5.0 pp" and charts.format_value(None, "share") == "—"


def test_bars_share_one_scale_from_zero():
    laid = charts.bars([{"value": 5.0, "low": 4.0, "high": 6.0, "spread_low": 4.5, "spread_high": 7.0},
                        {"value": None, "low": None, "high": None, "spread_low": None, "spread_high": None}], "per_1000_words")
    inner = charts.ROW_WIDTH - 2 * charts.PAD
    first, second = laid["rows"]
    assert first["bar"] == round(5 / 10 * inner, 1)  # the scale ends at 10, the next nice number above 7
    assert (first["low_x"], first["high_x"]) == (round(charts.PAD + 0.4 * inner, 1), round(charts.PAD + 0.6 * inner, 1))
    assert first["spread_high_x"] == round(charts.PAD + 0.7 * inner, 1)
    assert second["bar"] is None and second["low_x"] is None
    assert [t["label"] for t in laid["ticks"]] == ["0", "2.5", "5", "7.5", "10"]
    assert [t["label"] for t in charts.bars([{"value": 0.2}], "share")["ticks"]] == ["0%", "25%", "50%", "75%", "100%"]


def test_a_series_breaks_where_a_month_is_missing():
    rows = [{"key": key, "label": key, "value": v} for key, v in (("2024-01", 1.0), ("2024-02", 2.0), ("2024-04", 3.0),
                                                                  ("2024-05", 1.0))] + [{"key": "", "label": "(no date)", "value": 9.0}]
    laid = charts.series(rows, "per_1000_words")
    assert len(laid["points"]) == 4 and len(laid["lines"]) == 2  # January–February, April–May
    xs = [p["x"] for p in laid["points"]]
    assert xs[1] - xs[0] == pytest.approx((xs[2] - xs[1]) / 2, abs=0.1)  # March is a month wide, empty
    assert charts.series([{"key": "", "value": 1.0}], "share") is None


def test_a_breakdown_stacks_shares_and_a_difference_centres_zero():
    laid = charts.breakdown([{"values": [0.25, None, 0.75]}, {"values": [None, None, None]}], ["a", "b", "c"])
    first, second = laid["rows"]
    inner = charts.ROW_WIDTH - 2 * charts.PAD
    assert [(s["cls"], s["width"]) for s in first["segments"]] == [("seg-0", round(0.25 * inner, 1)), ("seg-2", round(0.75 * inner, 1))]
    assert second["empty"] and laid["legend"][1] == {"cls": "seg-1", "label": "b"}
    difference = charts.difference({"value": -0.1, "low": -0.3, "high": 0.05, "spread_low": -0.2, "spread_high": 0.1})
    assert difference["reach"] == 0.5 and difference["point"] < difference["zero"] < difference["high_x"]
    assert difference["zero"] - difference["low_x"] == pytest.approx(0.3 / 0.5 * (difference["zero"] - charts.PAD), abs=0.1)


# -- the downloads ------------------------------------------------------------------------------------------


def _with_project(profile: dict) -> dict:
    return {"project": {"id": 1, "name": "p", "codebook": {"name": "c", "version": 1}}, "generated_at": "now", **profile}


def test_the_csv_has_a_row_per_group_figure_and_annotator():
    profile = _with_project(profiles.profile(DATA, CODEBOOK, by="outlet", replicates=50, compare=("Dawn", "ARY News")))
    names = {10: "a-zoe", 11: "a-adam"}
    rows = list(csv.DictReader(io.StringIO("".join(render.profile_csv(profile, names)))))
    figures = len(profile["figures"])
    scopes = [r["scope"] for r in rows]
    # Overall and its 2 annotators, 3 groups (Dawn with 2 annotators, ARY News and no outlet with 1 each), the difference.
    assert scopes.count("overall") == figures and scopes.count("overall annotator") == 2 * figures
    assert scopes.count("group") == 3 * figures and scopes.count("group annotator") == 4 * figures
    assert scopes.count("difference") == figures
    dawn_rate = next(r for r in rows if r["scope"] == "group" and r["group"] == "Dawn" and r["figure"] == "attribution/per_1000_words")
    assert (float(dawn_rate["value"]), float(dawn_rate["numerator"]), dawn_rate["documents"]) == (4.0, 6.0, "2")
    undefined = next(r for r in rows if r["scope"] == "group" and r["label"] == "(no outlet)"
                     and r["figure"] == "claim_type/value/event")
    assert (undefined["value"], undefined["undefined"]) == ("", "no sentence with a claim type value")
    assert {r["annotator"] for r in rows if r["scope"].endswith("annotator")} == {"a-zoe", "a-adam"}
    assert all(None not in r and None not in r.values() for r in rows)  # every row as wide as the header


def test_labels_that_look_like_formulas_are_neutralised_in_the_csv():
    data = ProfileData([Article(1, "x", "=HYPERLINK(1)", None, 10)], [Reading(1, 10)])
    profile = _with_project(profiles.profile(data, CODEBOOK, replicates=0))
    rows = list(csv.DictReader(io.StringIO("".join(render.profile_csv(profile, {10: "a"})))))
    assert {r["group"] for r in rows if r["scope"] == "group"} == {"'=HYPERLINK(1)"}


def test_named_profiles_and_the_html_file():
    profile = _with_project(profiles.profile(DATA, CODEBOOK, by="annotator", replicates=20, compare=("zoe", "adam")))
    named = render.named(profile, {10: "a-1", 11: "a-2"})
    assert [g["label"] for g in named["groups"]] == ["a-2", "a-1", "gold"]
    assert named["annotators"] == [{"id": 11, "name": "a-2"}, {"id": 10, "name": "a-1"}]
    assert (named["comparison"]["a_label"], named["comparison"]["b_label"]) == ("a-1", "a-2")
    html = render.profile_html(profile, {10: "a-1", 11: "a-2"}, figure="claim_type/value/event")
    assert "<script" not in html and "zoe" not in html and "a-1" in html
    assert "Claim type — event" in html and html.count('<svg class="profile-bar"') == 4  # all, 2 annotators, gold
    assert 'a[aria-current="page"]' in html  # the stylesheet inline, unescaped
    figure = render.figure_of(profile["groups"][0], 0)
    assert set(figure) >= {"value", "low", "high", "interval_undefined", "spread_low", "spread_undefined"}


def test_percentiles_are_the_bootstrap_summary_of_every_column():
    from annotator.agreement.bootstrap import summarise
    from annotator.profiles.compute import percentiles

    rng = np.random.default_rng(5)
    values = rng.normal(size=(200, 4))
    values[rng.random((200, 4)) < 0.3] = np.nan
    values[:, 3] = np.nan
    found = percentiles(values, np.array([True, True, False, True]))
    for column in (0, 1):
        expected = summarise(values[:, column], 1)
        assert (found["low"][column], found["high"][column], found["replicates"][column]) == pytest.approx(
            (expected.low, expected.high, expected.replicates_defined))
    assert (found["low"][2], found["undefined"][2], found["replicates"][2]) == (None, TOO_FEW_DOCUMENTS, 0)
    assert (found["low"][3], found["undefined"][3]) == (None, summarise(values[:, 3], 1).undefined)
