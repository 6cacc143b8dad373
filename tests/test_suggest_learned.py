"""The learned suggester, pure (annotator.suggest.learned; docs/suggestions.md, "The learned
suggester"): tokens and features at exact offsets in English and Urdu, BIO tags with the
innermost of overlapping spans, training on the evaluation articles of tests/data/suggest and
suggesting on articles it did not see: exact offsets, groups like the rules', determinism."""

from __future__ import annotations

import io
import json
import unicodedata
import zipfile
from pathlib import Path

import pytest

from annotator import suggest
from annotator.ingest import segment
from annotator.suggest.attribution import quotations
from annotator.suggest.learned import NAME, Example, LearnedSuggester, TokenisedSentence, bio_tags, train

ARTICLES = sorted((Path(__file__).parent / "data" / "suggest").glob("*.json"))
# Learned from: all but one English, one Urdu and one Arabic article; those three are unseen.
UNSEEN = ("en_08_court.json", "ur_02_budget.json", "ar_02_health.json")
EDGE = " \t\n.,;!?\"“”«»‘’'()[]—–-…۔،؛؟"


def _article(name: str) -> tuple[str, str, tuple[tuple[int, int], ...], list[dict]]:
    data = json.loads((ARTICLES[0].parent / name).read_text())
    return data["text"], data["language"], segment(data["text"], data["language"]), data["spans"]


def _example(name: str) -> Example:
    text, language, sentences, spans = _article(name)
    return Example(text, language, "attribution", sentences, tuple((s["label"], s["start"], s["end"]) for s in spans))


@pytest.fixture(scope="module")
def model() -> bytes:
    return train([_example(path.name) for path in ARTICLES if path.name not in UNSEEN])


# -- tokens and features ---------------------------------------------------------------------------


def _features(text: str, language: str = "en") -> tuple[list[str], list[list[str]]]:
    sentence = TokenisedSentence(text, 0, len(text), quotations(text), language)
    return [text[a:b] for a, b in sentence.tokens], sentence.features([])


def test_tokens_and_features_of_an_english_sentence():
    text = 'The minister said: "We will win." Reuters reported 1,200 cases.'
    words, features = _features(text)
    assert words == ["The", "minister", "said", ":", '"', "We", "will", "win", ".", '"', "Reuters", "reported",
                     "1,200", "cases", "."]
    said, we, reuters, number = (features[words.index(w)] for w in ("said", "We", "Reuters", "1,200"))
    assert {"w=said", "cue=reporting_verb", "s3=aid", "shape=x", "-1:w=minister", "-2:w=the", "1:punct",
            "cue_after"} <= set(said)
    assert "quoted" in we and "quoted" not in said and "title" in we
    assert {"title", "shape=Xx", "cue_before", "1:cue=reporting_verb"} <= set(reuters)
    assert "shape=dpd" in number and "digit" not in number  # one token, not all digits
    assert "-2:edge" in features[0] and "2:edge" in features[-1]
    according = _features("According to the ministry, 40 people died.")[1]
    assert "cue=according_to" in according[0] and "cue=according_to" in according[1]
    assert "no_cue" in _features("Forty people died.")[1][0]


def test_tokens_of_urdu_keep_their_combining_marks_at_exact_offsets():
    text, language, sentences, _ = _article("ur_01_flood.json")
    start, end = next(s for s in sentences if "اعلیٰ" in text[s[0]:s[1]])
    sentence = TokenisedSentence(text, start, end, quotations(text), language)
    words = [text[a:b] for a, b in sentence.tokens]
    assert "اعلیٰ" in words  # the superscript alef (a combining mark) stays on its word
    assert all(unicodedata.category(text[a])[0] != "M" for a, _ in sentence.tokens)
    assert "".join(words) == "".join(text[start:end].split())
    features = sentence.features([])
    said = words.index("کہا")
    assert "cue=ur_reporting_verb" in features[said] and "w=کہا" in features[said]


def test_bio_tags_keep_the_innermost_of_overlapping_spans():
    text = "Officials said Washington wants a deal soon."
    tokens = TokenisedSentence(text, 0, len(text), [], "en").tokens
    at = lambda phrase: (text.index(phrase), text.index(phrase) + len(phrase))  # noqa: E731
    spans = [("CONTENT", *at("Washington wants a deal soon")), ("SOURCE", *at("Washington")), ("CUE", *at("wants")),
             ("CONTENT", *at("a deal soon")), ("SOURCE", *at("Officials")), ("CUE", *at("said"))]
    assert bio_tags(tokens, spans) == ["B-SOURCE", "B-CUE", "B-SOURCE", "B-CUE", "B-CONTENT", "I-CONTENT",
                                       "I-CONTENT", "O"]
    # A span starting or ending inside a word tags the whole word; one covering no token is left out.
    assert bio_tags(tokens, [("CUE", text.index("said") + 1, text.index("said") + 2), ("SOURCE", 9, 10)]) == \
        ["O", "B-CUE", "O", "O", "O", "O", "O", "O"]


# -- trained -----------------------------------------------------------------------------------------


def _suggest(model: bytes, name: str) -> tuple[str, list]:
    text, language, sentences, _ = _article(name)
    return text, LearnedSuggester(model, "7").suggest(text, sentences, language)


@pytest.mark.parametrize("name", UNSEEN)
def test_suggestions_on_unseen_articles_are_whole_trimmed_spans_within_a_sentence(model, name):
    text, suggestions = _suggest(model, name)
    _, _, sentences, reference = _article(name)
    assert suggestions, "nothing suggested"
    assert suggestions == sorted(suggestions, key=lambda s: (s.start, s.end, s.layer, s.label))
    for s in suggestions:
        assert (s.suggester, s.version, s.layer) == (NAME, "7", "attribution")
        piece = text[s.start:s.end]
        assert piece == piece.strip(EDGE) or piece == ":", piece
        assert any(a <= s.start and s.end <= b for a, b in sentences)
        assert s.end == len(text) or not (text[s.end].isalnum() or unicodedata.category(text[s.end])[0] == "M")
        assert 0 < s.score <= 1
    found = {(s.label, s.start, s.end) for s in suggestions}
    exact = found & {(r["label"], r["start"], r["end"]) for r in reference}
    assert len(exact) >= len(reference) / 2, (len(exact), len(reference))


@pytest.mark.parametrize("name", UNSEEN)
def test_each_cue_anchors_a_group_like_the_rules(model, name):
    text, suggestions = _suggest(model, name)
    _, _, sentences, _ = _article(name)
    sentence_of = lambda s: next(i for i, (a, b) in enumerate(sentences) if a <= s.start < b)  # noqa: E731
    groups: dict[str, list] = {}
    for s in suggestions:
        assert (s.group is None) == (s.role is None)
        if s.group is not None:
            groups.setdefault(s.group, []).append(s)
    assert groups
    for members in groups.values():
        roles = [s.role for s in members]
        assert roles.count("cue") == 1 and roles.count("source") <= 1, roles
        assert len({sentence_of(s) for s in members}) == 1
        assert all(s.role == {"CUE": "cue", "SOURCE": "source", "CONTENT": "content"}[s.label] for s in members)
        cue = next(s for s in members if s.role == "cue")
        assert set(cue.attributes) <= {"cue_type", "quote_type"}
        assert ("quote_type" in cue.attributes) == any(s.role == "content" for s in members)
        assert all(not s.attributes for s in members if s.role != "cue")
    assert sorted(groups, key=lambda g: int(g[1:])) == [f"a{n}" for n in range(1, len(groups) + 1)]


def test_a_plain_attribution_is_suggested_exactly_with_its_attributes(model):
    text = 'The minister said the budget would pass. "We are ready," Khan told reporters.'
    suggestions = LearnedSuggester(model, "7").suggest(text, segment(text), "en")
    spans = {(s.label, text[s.start:s.end]): s for s in suggestions}
    assert {("SOURCE", "The minister"), ("CUE", "said"), ("CONTENT", "the budget would pass")} <= set(spans)
    said = spans["CUE", "said"]
    assert spans["SOURCE", "The minister"].group == said.group == spans["CONTENT", "the budget would pass"].group
    assert said.attributes == {"cue_type": "reporting_verb", "quote_type": "indirect"}
    told = spans.get(("CUE", "told"))
    assert told is not None and told.group != said.group
    assert told.attributes.get("quote_type") in (None, "direct")


def test_training_is_deterministic_and_the_model_is_an_archive(model):
    progress = []
    again = train([_example(path.name) for path in ARTICLES if path.name not in UNSEEN],
                  progress=lambda layer, iteration: progress.append((layer, iteration)))
    assert again == model
    assert progress == [("attribution", n) for n in range(1, len(progress) + 1)] and len(progress) > 10
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
        assert sorted(archive.namelist()) == ["attribution.crfsuite", "manifest.json"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["layers"] == {"attribution": ["CONTENT", "CUE", "SOURCE"]}
    # The suggesters whose tags it learned from: the loaded-language lexicon tags no attribution.
    assert manifest["features"] == {"rules-attribution": suggest.get("rules-attribution").version}
    text, language, sentences, _ = _article("en_08_court.json")
    first, second = (LearnedSuggester(m, "1").suggest(text, sentences, language) for m in (model, again))
    assert first == second


def test_a_layer_without_spans_gets_no_model_and_nothing_to_learn_is_refused(model):
    text, language, sentences, spans = _article("en_01_gaza_ceasefire.json")
    loaded = Example(text, language, "loaded_language", sentences, ())
    two_layers = train([_example("en_01_gaza_ceasefire.json"), loaded])
    assert LearnedSuggester(two_layers, "1").layers == ["attribution"]
    with pytest.raises(ValueError, match="no spans"):
        train([loaded])
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": 99, "layers": {}, "features": {}}))
    with pytest.raises(ValueError, match="format 99"):
        LearnedSuggester(broken.getvalue(), "1")


def test_a_second_layer_is_learned_apart(model):
    text, language, sentences, spans = _article("en_01_gaza_ceasefire.json")
    word = "stalled"
    loaded = Example(text, language, "loaded_language", sentences,
                     (("LOADED_LANGUAGE", text.index(word), text.index(word) + len(word)),))
    suggester = LearnedSuggester(train([_example("en_01_gaza_ceasefire.json"), loaded]), "1")
    assert suggester.layers == ["attribution", "loaded_language"]
    assert suggester.labels["loaded_language"] == ["LOADED_LANGUAGE"]
    found = suggester.suggest(text, sentences, language)
    assert all(s.group is None for s in found if s.layer == "loaded_language")
