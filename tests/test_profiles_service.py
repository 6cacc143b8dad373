"""Profiles from the database (annotator.services.profiles), on SQLite and PostgreSQL: a small
project made through the services, every figure checked by hand, and the figures equal to counts
taken independently from the CSV exports of the same project.

The project: two outlets, two months and an undated article; Dawn's first article adjudicated
(its gold standard counts, not its annotators), its second read by ann and bob (each weighs a
half), ARY News's read by ann alone (bob's unfinished work there does not count), and one
article nobody finished (left out). Sources are anonymous, role only and named.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict

import pytest
from sqlalchemy import select

from annotator import exporters, profiles
from annotator.agreement.results import FEWER_THAN_TWO_ANNOTATORS, TOO_FEW_DOCUMENTS
from annotator.errors import Forbidden, NotFound, ServiceError
from annotator.ingest import Article
from annotator.ingest.text import segment
from annotator.models import Document, Sentence
from annotator.services import adjudication, annotations, assignments, exports, projects
from annotator.services import profiles as profile_service
from annotator.services.permissions import SYSTEM

from .helpers import add_users, assign, project_with, span_payload

TEXTS = {
    "D1": "The minister said that prices rose. According to officials, the shocking plan failed.",
    "D2": "A source close to the army claimed the attack was planned. Critics said it was a disgrace.",
    "D3": "Police said two people died, as reported by ARY News. The rally was peaceful.",
    "D4": "Nothing here has been finished by anyone yet.",
}
WORDS = {"D1": 13, "D2": 17, "D3": 14, "D4": 8}  # counted by hand
ARTICLES = [
    Article(title="D1", text=TEXTS["D1"], sentences=segment(TEXTS["D1"]), outlet="Dawn", published=dt.date(2024, 5, 10)),
    Article(title="D2", text=TEXTS["D2"], sentences=segment(TEXTS["D2"]), outlet="Dawn", published=dt.date(2024, 6, 2)),
    Article(title="D3", text=TEXTS["D3"], sentences=segment(TEXTS["D3"]), outlet="ARY News", published=dt.date(2024, 5, 20)),
    Article(title="D4", text=TEXTS["D4"], sentences=segment(TEXTS["D4"]), outlet="ARY News"),
]


def _attributes(kind, identification, cue, quote):
    return {"source_kind": kind, "identification": identification, "cue_type": cue, "quote_type": quote}


def _sentence(session, document, number):
    return session.scalar(select(Sentence).where(Sentence.document_id == document.id, Sentence.position == number))


def profile_world(session) -> dict:
    """The project of the module's docstring, made through the services."""
    project = project_with(session, ARTICLES, name="profiled")
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor", "stranger": "supervisor"},
                       member=False)
    projects.add_members(session, SYSTEM, project.id, [people["sup"].id])
    docs = {d.title: d for d in session.scalars(select(Document).where(Document.project_id == project.id))}
    assign(session, project, [people["ann"], people["bob"]])

    def attribution(write_span, write_attribution, document, source, cue, content, attributes, reuse=None):
        spans = reuse or {}
        ids = {}
        for role, phrase, label in (("source", source, "SOURCE"), ("cue", cue, "CUE"), ("content", content, "CONTENT")):
            if phrase not in spans:
                spans[phrase] = write_span(document.id, span_payload(document, phrase, "attribution", label))["id"]
            ids[role] = spans[phrase]
        write_attribution(document.id, {"relation": "attribution", "attributes": attributes,
                                        "parts": [{"role": r, "span_id": s} for r, s in ids.items()]})
        return spans

    def as_user(user):
        return (lambda d, p: annotations.create_span(session, user, d, p),
                lambda d, p: annotations.create_attribution(session, user, d, p))

    def label(user, document, number, layer, value):
        annotations.set_sentence_label(session, user, _sentence(session, document, number).id, layer, {"value": value})

    ann, bob, sup = people["ann"], people["bob"], people["sup"]
    d1, d2, d3, d4 = docs["D1"], docs["D2"], docs["D3"], docs["D4"]
    # D1: both annotators, then adjudicated: only its gold standard counts in the headline.
    for user, identification, claim in ((ann, "role_only", "event"), (bob, "named", "opinion")):
        attribution(*as_user(user), d1, "The minister", "said", "prices rose",
                    _attributes("person", identification, "reporting_verb", "indirect"))
        label(user, d1, 0, "claim_type", claim)
    adjudication.start(session, sup, d1.id)
    gold = (lambda d, p: adjudication.create_gold_span(session, sup, d, p),
            lambda d, p: adjudication.create_gold_attribution(session, sup, d, p))
    attribution(*gold, d1, "The minister", "said", "prices rose", _attributes("person", "role_only", "reporting_verb", "indirect"))
    attribution(*gold, d1, "officials", "According to", "the shocking plan failed",
                _attributes("unspecified_group", "anonymous", "according_to", "indirect"))
    adjudication.create_gold_span(session, sup, d1.id, span_payload(d1, "shocking", "loaded_language", "LOADED_LANGUAGE",
                                                                    attributes={"polarity": "negative", "voice": "attributed"}))
    for number, value in ((0, "event"), (1, "event")):
        adjudication.set_gold_label(session, sup, _sentence(session, d1, number).id, "claim_type", {"value": value})
    adjudication.set_gold_label(session, sup, _sentence(session, d1, 0).id, "check_worthy", {"value": "yes"})
    # D2: ann and bob, each a half.
    attribution(*as_user(ann), d2, "A source close to the army", "claimed", "the attack was planned",
                _attributes("person", "anonymous", "reporting_verb", "indirect"))
    attribution(*as_user(ann), d2, "Critics", "said", "it was a disgrace",
                _attributes("unspecified_group", "role_only", "reporting_verb", "direct"))
    annotations.create_span(session, ann, d2.id, span_payload(d2, "disgrace", "loaded_language", "NAME_CALLING_LABELING",
                                                              attributes={"polarity": "negative", "voice": "attributed"}))
    for number, claim, worthy in ((0, "causal", "yes"), (1, "opinion", "no")):
        label(ann, d2, number, "claim_type", claim)
        label(ann, d2, number, "check_worthy", worthy)
    attribution(*as_user(bob), d2, "A source close to the army", "claimed", "the attack was planned",
                _attributes("person", "anonymous", "reporting_verb", "indirect"))
    annotations.create_span(session, bob, d2.id, span_payload(d2, "disgrace", "loaded_language", "LOADED_LANGUAGE",
                                                              attributes={"polarity": "negative", "voice": "author"}))
    label(bob, d2, 0, "claim_type", "event")
    label(bob, d2, 1, "claim_type", "opinion")
    label(bob, d2, 0, "check_worthy", "unsure")
    # D3: ann finished it; bob's work there is unfinished and does not count. One content span
    # serves two attributions.
    shared = attribution(*as_user(ann), d3, "Police", "said", "two people died",
                         _attributes("organisation", "role_only", "reporting_verb", "indirect"))
    attribution(*as_user(ann), d3, "ARY News", "as reported by", "two people died",
                _attributes("media_outlet", "named", "as_reported_by", "indirect"), reuse=shared)
    label(ann, d3, 0, "claim_type", "quantity")
    label(ann, d3, 1, "claim_type", "event")
    attribution(*as_user(bob), d3, "Police", "said", "two people died", _attributes("organisation", "named", "reporting_verb", "indirect"))
    label(bob, d3, 0, "claim_type", "opinion")
    # D4: work, nobody finished it.
    label(ann, d4, 0, "claim_type", "event")
    for user, document in ((ann, d1), (bob, d1), (ann, d2), (bob, d2), (ann, d3)):
        assignments.mark_done(session, user, document.id)
    adjudication.finish(session, sup, d1.id)
    return {"project": project, "docs": docs, **people}


@pytest.fixture
def world(session):
    return profile_world(session)


def value(profile: dict, group: dict, key: str):
    return group["value"][[f["key"] for f in profile["figures"]].index(key)]


def figure(profile: dict, group: dict, key: str) -> dict:
    return profiles.render.figure_of(group, [f["key"] for f in profile["figures"]].index(key))


def by_key(profile: dict) -> dict[str, dict]:
    return {group["key"]: group for group in profile["groups"]}


def test_who_may_see_a_profile(session, world):
    project = world["project"]
    with pytest.raises(Forbidden):
        profile_service.build_profile(session, world["ann"], project.id)
    with pytest.raises(NotFound):  # a supervisor of other projects: as if it did not exist
        profile_service.build_profile(session, world["stranger"], project.id)
    assert profile_service.build_profile(session, world["sup"], project.id)["project"]["name"] == "profiled"


def test_what_counts_and_the_words(session, world):
    profile = profile_service.build_profile(session, world["sup"], world["project"].id, by="document")
    assert profile["counts"] == {"documents": 3, "left_out": 1, "adjudicated": 1, "readings": 4, "annotators": 2}
    assert [a["username"] for a in profile["annotators"]] == ["ann", "bob"]
    assert [g["label"] for g in profile["groups"]] == ["D1", "D2", "D3"]
    assert {text: len(re.findall(r"\w+", TEXTS[text])) for text in TEXTS} == WORDS
    words = {g["label"]: figure(profile, g, "attribution/per_1000_words")["denominator"] for g in profile["groups"]}
    assert words == {"D1": 13, "D2": 17, "D3": 14}
    d1, d2, d3 = (by_key(profile)[str(world["docs"][t].id)] for t in ("D1", "D2", "D3"))
    # D1 is adjudicated: gold's two attributions, not the annotators' one each.
    assert figure(profile, d1, "attribution/per_1000_words")["numerator"] == 2
    assert [a["value"][0] for a in d1["annotators"]] == pytest.approx([1000 / 13, 1000 / 13])
    # D2: ann's two and bob's one, a half each.
    assert figure(profile, d2, "attribution/per_1000_words")["numerator"] == pytest.approx(1.5)
    assert (d1["readings"], d2["readings"], d3["readings"]) == (1, 2, 1)
    # D3: ann's two attributions only (bob has not finished it).
    assert figure(profile, d3, "attribution/per_1000_words")["numerator"] == 2
    assert [a["id"] for a in d3["annotators"]] == [world["ann"].id]


def test_every_figure_by_outlet_by_hand(session, world):
    profile = profile_service.build_profile(session, world["sup"], world["project"].id, by="outlet")
    groups = by_key(profile)
    assert [g["label"] for g in profile["groups"]] == ["ARY News", "Dawn"]
    dawn, ary, overall = groups["Dawn"], groups["ARY News"], profile["overall"]
    assert (dawn["documents"], dawn["adjudicated"], ary["documents"], ary["adjudicated"]) == (2, 1, 1, 0)
    hand = {
        # (Dawn, ARY News, all): D1 gold; D2 ann and bob a half each; D3 ann.
        "attribution/per_1000_words": (3.5 / 30 * 1000, 2 / 14 * 1000, 5.5 / 44 * 1000),
        "attribution/sources_per_article": (3.5 / 2, 2.0, 5.5 / 3),
        "attribution/attribute/identification/anonymous": (2 / 3.5, 0.0, 2 / 5.5),
        "attribution/attribute/identification/role_only": (1.5 / 3.5, 0.5, 2.5 / 5.5),
        "attribution/attribute/identification/named": (0.0, 0.5, 1 / 5.5),
        "attribution/attribute/source_kind/person": (2 / 3.5, 0.0, 2 / 5.5),
        "attribution/attribute/source_kind/unspecified_group": (1.5 / 3.5, 0.0, 1.5 / 5.5),
        "attribution/attribute/source_kind/organisation": (0.0, 0.5, 1 / 5.5),
        "attribution/attribute/source_kind/media_outlet": (0.0, 0.5, 1 / 5.5),
        "attribution/attribute/quote_type/direct": (0.5 / 3.5, 0.0, 0.5 / 5.5),
        "attribution/attribute/quote_type/indirect": (3 / 3.5, 1.0, 5 / 5.5),
        "attribution/attribute/quote_type/mixed": (0.0, 0.0, 0.0),
        "attribution/attribute/cue_type/according_to": (1 / 3.5, 0.0, 1 / 5.5),
        "attribution/attribute/cue_type/as_reported_by": (0.0, 0.5, 1 / 5.5),
        "attribution/attribute/cue_type/reporting_verb": (2.5 / 3.5, 0.5, 3.5 / 5.5),
        "attribution/cue/said": (1.5 / 3.5, 0.5, 2.5 / 5.5),
        "attribution/cue/claimed": (1 / 3.5, 0.0, 1 / 5.5),
        "attribution/cue/according to": (1 / 3.5, 0.0, 1 / 5.5),
        "attribution/cue/as reported by": (0.0, 0.5, 1 / 5.5),
        "attribution/cue_other": (0.0, 0.0, 0.0),
        "loaded_language/per_1000_words": (2 / 30 * 1000, 0.0, 2 / 44 * 1000),
        "loaded_language/label/LOADED_LANGUAGE": (1.5 / 30 * 1000, 0.0, 1.5 / 44 * 1000),
        "loaded_language/label/NAME_CALLING_LABELING": (0.5 / 30 * 1000, 0.0, 0.5 / 44 * 1000),
        "loaded_language/label/DOUBT": (0.0, 0.0, 0.0),
        "loaded_language/attribute/polarity/negative": (2 / 30 * 1000, 0.0, 2 / 44 * 1000),
        "loaded_language/attribute/polarity/positive": (0.0, 0.0, 0.0),
        "loaded_language/attribute/voice/attributed": (1.5 / 30 * 1000, 0.0, 1.5 / 44 * 1000),
        "loaded_language/attribute/voice/author": (0.5 / 30 * 1000, 0.0, 0.5 / 44 * 1000),
        "claim_type/value/event": (2.5 / 4, 0.5, 3.5 / 6),
        "claim_type/value/causal": (0.5 / 4, 0.0, 0.5 / 6),
        "claim_type/value/opinion": (1 / 4, 0.0, 1 / 6),
        "claim_type/value/quantity": (0.0, 0.5, 1 / 6),
        "check_worthy/value/yes": (1.5 / 2.5, None, 1.5 / 2.5),
        "check_worthy/value/no": (0.5 / 2.5, None, 0.5 / 2.5),
        "check_worthy/value/unsure": (0.5 / 2.5, None, 0.5 / 2.5),
    }
    for key, expected in hand.items():
        got = tuple(value(profile, group, key) for group in (dawn, ary, overall))
        assert got == pytest.approx(expected), key
    # The cue words in order of frequency over every finished reading (said 5, claimed 2, then 1 each).
    cue_words = [f["title"] for f in profile["figures"] if f["section"] == "attribution/cue"]
    assert cue_words == ["said", "claimed", "according to", "as reported by", "other words"]
    # Undefined, with the reason: no check-worthy value in ARY News' only article.
    assert figure(profile, ary, "check_worthy/value/yes")["undefined"] == "no sentence with a check-worthy value"
    # The spread: each annotator's own figure on the group's articles (D1 their own reading, not gold).
    rate = figure(profile, dawn, "attribution/per_1000_words")
    assert (rate["spread_low"], rate["spread_high"], rate["spread_annotators"]) == pytest.approx((2 / 30 * 1000, 3 / 30 * 1000, 2))
    anonymous = figure(profile, dawn, "attribution/attribute/identification/anonymous")
    # ann: D1 role only, D2 anonymous + role only -> 1/3; bob: D1 named, D2 anonymous -> 1/2.
    assert (anonymous["spread_low"], anonymous["spread_high"]) == pytest.approx((1 / 3, 1 / 2))
    only_ann = figure(profile, ary, "attribution/per_1000_words")
    assert (only_ann["spread_low"], only_ann["spread_undefined"]) == (None, FEWER_THAN_TWO_ANNOTATORS)
    overall_rate = figure(profile, overall, "attribution/per_1000_words")
    assert (overall_rate["spread_low"], overall_rate["spread_high"]) == pytest.approx((2 / 30 * 1000, 5 / 44 * 1000))
    # Intervals: Dawn's two articles resample; ARY News' one cannot.
    assert rate["low"] is not None and rate["low"] <= rate["value"] <= rate["high"]
    assert ary["interval"] == {"seed": profiles.group_seed(profile["parameters"]["seed"], "ARY News"),
                               "undefined": TOO_FEW_DOCUMENTS}


def test_by_month_and_by_annotator(session, world):
    project_id = world["project"].id
    months = profile_service.build_profile(session, world["sup"], project_id, by="month")
    assert [(g["key"], g["documents"]) for g in months["groups"]] == [("2024-05", 2), ("2024-06", 1)]
    may = months["groups"][0]
    assert value(months, may, "attribution/per_1000_words") == pytest.approx(4 / 27 * 1000)  # D1 gold 2 + D3 ann 2
    readers = profile_service.build_profile(session, world["sup"], project_id, by="annotator")
    groups = {g["label"]: g for g in readers["groups"]}
    assert list(groups) == ["ann", "bob", "gold"]
    assert value(readers, groups["ann"], "attribution/per_1000_words") == pytest.approx(5 / 44 * 1000)
    assert value(readers, groups["bob"], "attribution/per_1000_words") == pytest.approx(2 / 30 * 1000)
    assert value(readers, groups["gold"], "attribution/per_1000_words") == pytest.approx(2 / 13 * 1000)
    assert (groups["ann"]["documents"], groups["ann"]["adjudicated"], groups["gold"]["adjudicated"]) == (3, 1, 1)
    assert groups["ann"]["spread"]["undefined"][0] == profiles.ONE_READER


def test_a_comparison_and_its_refusals(session, world):
    project_id, sup = world["project"].id, world["sup"]
    profile = profile_service.build_profile(session, sup, project_id, by="outlet", compare=["Dawn", "ARY News"])
    comparison = profile["comparison"]
    assert (comparison["a_label"], comparison["b_label"]) == ("Dawn", "ARY News")
    index = [f["key"] for f in profile["figures"]].index("attribution/per_1000_words")
    assert comparison["value"][index] == pytest.approx(3.5 / 30 * 1000 - 2 / 14 * 1000)
    assert comparison["interval"]["undefined"] == TOO_FEW_DOCUMENTS  # ARY News has one article
    assert comparison["spread"]["undefined"][index] == FEWER_THAN_TWO_ANNOTATORS  # only ann read both
    with pytest.raises(NotFound, match="no group 'Reuters'"):
        profile_service.build_profile(session, sup, project_id, compare=["Dawn", "Reuters"])
    with pytest.raises(ServiceError, match="two different groups"):
        profile_service.build_profile(session, sup, project_id, compare=["Dawn", "Dawn"])
    with pytest.raises(ServiceError, match="by must be one of"):
        profile_service.build_profile(session, sup, project_id, by="weekday")


def test_the_cache_serves_until_the_annotations_change(session, world):
    project_id, sup = world["project"].id, world["sup"]
    first = profile_service.cached_profile(session, sup, project_id)
    assert profile_service.cached_profile(session, sup, project_id)["generated_at"] == first["generated_at"]
    assert profile_service.cached_profile(session, sup, project_id) == first
    d3 = world["docs"]["D3"]
    assignments.mark_done(session, world["bob"], d3.id)  # bob's reading of D3 now counts
    fresh = profile_service.cached_profile(session, sup, project_id)
    ary = by_key(fresh)["ARY News"]
    assert value(fresh, ary, "attribution/per_1000_words") == pytest.approx(1.5 / 14 * 1000)  # (2 + 1) / 2


# -- the same figures from the CSV exports -----------------------------------------------------------


def export_rows(session, project_id: int, name: str, *, gold: bool) -> list[dict]:
    records = exports.document_records(session, SYSTEM, project_id, secret_key="k", usernames=True, gold=gold)
    text = b"".join(exporters.stream(name, records, records.codebook)).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def counts_from_exports(session, project_id: int) -> tuple[dict, dict, dict]:
    """Per reading (document id, reader), the counts the figures are made of, read from the span
    and sentence CSV exports of the annotators and of gold; which readings are finished (the
    sentences CSV's status, and gold's documents), and each document's words and outlet."""
    spans = export_rows(session, project_id, "csv", gold=False) + export_rows(session, project_id, "csv", gold=True)
    sentences = (export_rows(session, project_id, "sentences-csv", gold=False)
                 + export_rows(session, project_id, "sentences-csv", gold=True))
    finished = {(int(r["document_id"]), r["annotator"]) for r in sentences if r["status"] == "done"}
    documents: dict[int, dict] = {}
    for r in sentences:
        document = documents.setdefault(int(r["document_id"]), {"outlet": r["outlet"], "sentences": {}})
        document["sentences"][r["sentence_id"]] = len(re.findall(r"\w+", r["sentence_text"]))
    counts: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    attributions: dict[tuple, dict] = defaultdict(dict)
    sources: dict[tuple, set] = defaultdict(set)
    for r in spans:
        reading = (int(r["document_id"]), r["annotator"])
        if r["attribution_id"]:
            attributions[reading][r["attribution_id"]] = r
            if r["role"] == "source":
                sources[reading].add((r["start"], r["end"]))
            if r["role"] == "cue":
                counts[reading]["cue:" + r["text"].lower()] += 1
        if r["layer"] == "loaded_language":
            counts[reading]["loaded"] += 1
            counts[reading]["loaded:" + r["attr_polarity"]] += 1
            counts[reading]["loaded:" + r["attr_voice"]] += 1
    for reading, found in attributions.items():
        counts[reading]["attributions"] = len(found)
        counts[reading]["sources"] = len(sources[reading])
        for r in found.values():
            counts[reading]["identification"] += bool(r["attribution_identification"])
            counts[reading]["identification:" + r["attribution_identification"]] += 1
            counts[reading]["quote:" + r["attribution_quote_type"]] += 1
    for r in sentences:
        reading = (int(r["document_id"]), r["annotator"])
        for layer in ("claim_type", "check_worthy"):
            if r[layer]:
                counts[reading][layer] += 1
                counts[reading][f"{layer}:{r[layer]}"] += 1
    return counts, finished, documents


def weights_from_exports(finished: set, documents: dict) -> dict[tuple, float]:
    """The rule, applied to the exported rows: gold where a document has it, else each finished
    annotator with weight 1/k; per reading (document id, reader)."""
    weights: dict[tuple, float] = {}
    for document in documents:
        if (document, "gold") in finished:
            weights[(document, "gold")] = 1.0
        else:
            readers = [reader for d, reader in finished if d == document and reader != "gold"]
            weights.update({(document, reader): 1 / len(readers) for reader in readers})
    return weights


def test_the_figures_equal_counts_from_the_csv_exports(session, world):
    project_id = world["project"].id
    counts, finished, documents = counts_from_exports(session, project_id)
    weights = weights_from_exports(finished, documents)
    by_outlet: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    for (document, reader), weight in weights.items():
        total = by_outlet[documents[document]["outlet"]]
        total["words"] += weight * sum(documents[document]["sentences"].values())
        total["articles"] += weight
        for name, count in counts[(document, reader)].items():
            total[name] += weight * count
    profile = profile_service.build_profile(session, world["sup"], project_id, by="outlet")
    pairs = {
        "attribution/per_1000_words": ("attributions", "words", 1000),
        "attribution/sources_per_article": ("sources", "articles", 1),
        "attribution/attribute/identification/anonymous": ("identification:anonymous", "identification", 1),
        "attribution/attribute/identification/role_only": ("identification:role_only", "identification", 1),
        "attribution/attribute/identification/named": ("identification:named", "identification", 1),
        "attribution/attribute/quote_type/direct": ("quote:direct", "attributions", 1),
        "attribution/cue/said": ("cue:said", "attributions", 1),
        "attribution/cue/claimed": ("cue:claimed", "attributions", 1),
        "loaded_language/per_1000_words": ("loaded", "words", 1000),
        "loaded_language/attribute/polarity/negative": ("loaded:negative", "words", 1000),
        "loaded_language/attribute/voice/author": ("loaded:author", "words", 1000),
        "claim_type/value/event": ("claim_type:event", "claim_type", 1),
        "claim_type/value/opinion": ("claim_type:opinion", "claim_type", 1),
        "check_worthy/value/yes": ("check_worthy:yes", "check_worthy", 1),
    }
    checked = 0
    for group in profile["groups"]:
        total = by_outlet[group["key"]]
        for key, (numerator, denominator, per) in pairs.items():
            got = figure(profile, group, key)
            assert got["numerator"] == pytest.approx(total[numerator]), (group["key"], key)
            assert got["denominator"] == pytest.approx(total[denominator]), (group["key"], key)
            if total[denominator]:
                assert got["value"] == pytest.approx(per * total[numerator] / total[denominator]), (group["key"], key)
            else:
                assert got["value"] is None
            checked += 1
    assert checked == 2 * len(pairs)


def test_the_command_line(cli, session, world, tmp_path):
    out = tmp_path / "profile.csv"
    result = cli("profile", "--project", "profiled", "--by", "outlet", "--format", "csv", "--out", str(out),
                 "--compare", "Dawn", "--compare", "ARY News", "--usernames", "--replicates", "50")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    rate = {(r["scope"], r["group"], r["annotator"]): r for r in rows if r["figure"] == "attribution/per_1000_words"}
    assert float(rate[("group", "Dawn", "")]["value"]) == pytest.approx(3.5 / 30 * 1000)
    assert float(rate[("group annotator", "Dawn", "bob")]["value"]) == pytest.approx(2 / 30 * 1000)
    assert [r["group_b"] for r in rows if r["scope"] == "difference"][:1] == ["ARY News"]
    as_json = cli("profile", "--project", "profiled", "--by", "annotator")
    assert as_json.exit_code == 0 and '"kind": "profile"' in as_json.output
    refused = cli("profile", "--project", "profiled", "--compare", "Dawn")
    assert refused.exit_code != 0 and "give two groups" in refused.output
    unknown = cli("profile", "--project", "profiled", "--compare", "Dawn", "--compare", "Reuters")
    assert unknown.exit_code == 1 and "no group 'Reuters'" in unknown.output
