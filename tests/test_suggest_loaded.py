"""The loaded-language suggester "lexicon-loaded" (annotator/suggest/loaded.py): which words it
suggests, with which label and polarity, at which exact offsets, in which languages, how fast.
The sentences are written for these tests, in the style of wire-service news."""

from __future__ import annotations


import pytest

from annotator import suggest
from annotator.codebook import default_codebook
from annotator.ingest.text import segment
from annotator.suggest import loaded
from annotator.suggest.loaded import LOADED_LANGUAGE, NAME_CALLING, LoadedLanguageLexicon

# Loaded wording: a condemnation in the writer's voice, a quoted label, an accusation.
LOADED_SENTENCES = (
    "Opposition leader Maria Santos called the crackdown a brutal assault on democracy. "
    '"These terrorists have no place in our society," the interior minister told reporters. '
    "Witnesses accused the militia of a massacre in the border village."
)
# Plain reporting of grim events and of the economy: nothing here is the writer's colouring.
NEUTRAL_SENTENCES = (
    "At least 42 people were killed and more than 100 injured when a car bomb exploded near a market, police said. "
    "The ministry of health said the death toll was expected to rise as rescue teams searched the rubble. "
    "The war has displaced more than two million people, according to the UN refugee agency. "
    "Officials said the drought was the worst in four decades and had caused a severe food crisis. "
    "The court sentenced the two men to life in prison for the murder of a journalist in 2019. "
    "The central bank raised interest rates by half a percentage point to curb inflation. "
    "Shares in Great Western Railway fell 3 percent after the company reported a quarterly loss. "
    "The president praised firefighters who worked through the night, and the talks ended without agreement."
)


def suggested(text: str, language: str | None = "en", suggester=None) -> list[tuple[str, str, str]]:
    """(text, label, polarity) of each suggestion, checking that its offsets hold its text."""
    found = (suggester or LoadedLanguageLexicon()).suggest(text, segment(text), language)
    return [(text[item.start:item.end], item.label, item.attributes["polarity"]) for item in found]


def test_strongly_loaded_words_are_suggested_with_their_label_and_polarity():
    assert suggested(LOADED_SENTENCES) == [
        ("brutal", LOADED_LANGUAGE, "negative"),
        ("terrorists", NAME_CALLING, "negative"),
        ("massacre", LOADED_LANGUAGE, "negative"),
    ]


def test_words_that_name_grim_events_plainly_are_not_suggested():
    assert suggested(NEUTRAL_SENTENCES) == []


def test_offsets_are_exact_document_offsets_and_each_lies_in_its_sentence():
    text = "Headline about the budget\n\n" + LOADED_SENTENCES
    sentences = segment(text)
    found = LoadedLanguageLexicon().suggest(text, sentences, "en")
    assert [(item.start, item.end) for item in found] == [
        (text.index("brutal"), text.index("brutal") + 6),
        (text.index("terrorists"), text.index("terrorists") + 10),
        (text.index("massacre"), text.index("massacre") + 8),
    ]
    assert all(any(start <= item.start < item.end <= end for start, end in sentences) for item in found)
    assert all(item.layer == "loaded_language" and item.suggester == "lexicon-loaded" and item.group is None
               and item.role is None for item in found)


@pytest.mark.parametrize(("sentence", "expected"), [
    # Case, inflection, possessives (straight and curly), phrases.
    ("Brutal reprisals followed the raid.", [("Brutal", LOADED_LANGUAGE, "negative")]),
    ("Soldiers massacred the villagers, survivors said.", [("massacred", LOADED_LANGUAGE, "negative")]),
    ("The report lists the atrocities committed in the camp.", [("atrocities", LOADED_LANGUAGE, "negative")]),
    ("The terrorist's brother was questioned.", [("terrorist", NAME_CALLING, "negative")]),
    ("The terrorist\u2019s brother was questioned.", [("terrorist", NAME_CALLING, "negative")]),
    ("He called the protesters thugs and criminals.",
     [("thugs", NAME_CALLING, "negative"), ("criminals", NAME_CALLING, "negative")]),
    ("The senator dismissed the inquiry as a politically motivated witch hunt.",
     [("witch hunt", LOADED_LANGUAGE, "negative")]),
    ("The senator dismissed the inquiries as witch hunts.", [("witch hunts", LOADED_LANGUAGE, "negative")]),
    ("He pledged to support our brothers and sisters in Gaza.",
     [("brothers and sisters", LOADED_LANGUAGE, "positive")]),
    # Praise, and labels meant to be admired.
    ("Supporters hailed the fallen fighters as martyrs and heroes.",
     [("martyrs", NAME_CALLING, "positive"), ("heroes", NAME_CALLING, "positive")]),
    ("The mayor thanked the heroic volunteers.", [("heroic", LOADED_LANGUAGE, "positive")]),
    # A name-calling noun is not a verb: "butchered" is loaded wording, "masterminded" no label.
    ("The prisoners were butchered, he said.", [("butchered", LOADED_LANGUAGE, "negative")]),
    ("He masterminded the merger of the two banks.", []),
    # Part of a word, a name, an abbreviation: nothing.
    ("The brutalist tower was listed in 1998.", []),
    ("The Evil Dead was screened at the festival.", []),
    ("The navy led Operation Valiant Shield in the Pacific.", []),
    ("Visitors queued for the Heroic Age exhibition at the museum.", []),
])
def test_matching_on_whole_words_with_simple_inflection(sentence, expected):
    assert suggested(sentence) == expected


def test_a_phrase_is_matched_within_one_sentence_only():
    text = "Thanks to our brothers and sisters"
    suggester = LoadedLanguageLexicon()
    assert suggester.suggest(text, [(0, 26), (27, 34)], "en") == []
    assert [(item.start, item.end) for item in suggester.suggest(text, [(0, 34)], "en")] == [(14, 34)]


def test_the_score_grows_with_the_lexicons_strength():
    found = LoadedLanguageLexicon().suggest(LOADED_SENTENCES, segment(LOADED_SENTENCES), "en")
    found = {LOADED_SENTENCES[item.start:item.end]: item.score for item in found}
    # massacre -3.5 and terrorist -3.4 (this project's), brutal -3.1 (VADER): a score is |valence| / 4.
    assert found == {"massacre": 0.875, "terrorists": 0.85, "brutal": 0.775}
    weak = suggested("Critics said the reforms were a sham.")
    assert weak == [("sham", LOADED_LANGUAGE, "negative")]


def test_every_suggestion_fits_the_default_codebook():
    codebook = default_codebook()
    text = LOADED_SENTENCES + " Supporters hailed the fallen fighters as martyrs."
    found = LoadedLanguageLexicon().suggest(text, segment(text), "en")
    assert {item.label for item in found} == {LOADED_LANGUAGE, NAME_CALLING}
    assert all(codebook.validate_span(item.layer, item.label, item.attributes) == [] for item in found)
    polarity = next(attribute for attribute in codebook.layer(loaded.LAYER).attributes if attribute.name == loaded.POLARITY)
    assert set(polarity.value_names) == {"negative", "positive"}


@pytest.mark.parametrize("language", ["en", "en-GB", "EN", None])
def test_english_and_an_unknown_language_are_read(language):
    assert suggested(LOADED_SENTENCES, language) != []


@pytest.mark.parametrize("language", ["ur", "ar", "fa", "de"])
def test_other_languages_get_no_suggestions(language):
    assert suggested(LOADED_SENTENCES, language) == []


def test_a_higher_threshold_keeps_only_the_stronger_words_and_says_so_in_the_version():
    strict = LoadedLanguageLexicon(threshold=3.3)
    assert suggested(LOADED_SENTENCES, suggester=strict) == [
        ("terrorists", NAME_CALLING, "negative"), ("massacre", LOADED_LANGUAGE, "negative")]
    assert strict.version == LoadedLanguageLexicon().version + ";threshold=3.3"
    with pytest.raises(ValueError, match="threshold"):
        LoadedLanguageLexicon(threshold=1.0)


def test_the_registry_builds_it_and_its_version_names_the_lexicons():
    built = suggest.get("lexicon-loaded")
    assert isinstance(built, LoadedLanguageLexicon)
    assert built.version.startswith(loaded.RULES_VERSION + "+vader3.")


def test_the_lists_are_consistent_with_the_lexicon():
    vader = loaded.vader_valences()
    # Every excluded word is one of VADER's, so that each exclusion does something.
    assert loaded.DESCRIPTIVE | loaded.CHAT_SLANG <= set(vader)
    # A supplement entry never repeats an excluded word: the two lists would contradict each other.
    assert not {expression for expression, _, _ in loaded.SUPPLEMENT} & loaded.DESCRIPTIVE
