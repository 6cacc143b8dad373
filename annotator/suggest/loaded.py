"""The loaded-language suggester "lexicon-loaded": strongly valenced words of a lexicon.

Its lexicon is VADER's (Hutto & Gilbert 2014; the ``vaderSentiment`` package, MIT licence):
7,500 English words and expressions with the mean valence ten raters gave each, from -4
(most negative) to +4. A word whose valence reaches ``threshold`` in either direction is a
candidate loaded word, its sign the polarity. Three lists of this project's own adapt it to
news: DESCRIPTIVE drops the words that name what happened rather than colour it ("killed",
"war", "crisis": the event is bad, the wording is not loaded), CHAT_SLANG VADER's social-media
abbreviations; SUPPLEMENT adds the loaded words of conflict reporting VADER lacks ("massacre",
"barbaric") and the labels for people that are name-calling ("terrorists", "thugs",
"martyrs"). docs/suggestions.md, "Loaded-language lexicon", says why each list is what it is.

Matching is on whole words, case-insensitive, with simple inflection (-s, -es, -ies, -ed, -ied,
-ing, a possessive 's), and phrases word by word. Proper names are left alone: a capitalised
word next to another inside a sentence ("Great Britain", "Hope Street") is part of a name, a word
in capitals ("KIA") an abbreviation. English only: any other language gets no suggestions.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.resources
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from . import Suggestion, register

NAME = "lexicon-loaded"
# Bumped whenever a list below or the matching changes; the lexicon's own version is appended.
RULES_VERSION = "1"
LAYER = "loaded_language"
LOADED_LANGUAGE = "LOADED_LANGUAGE"
NAME_CALLING = "NAME_CALLING_LABELING"
POLARITY = "polarity"
# VADER's valence scale runs from -4 to +4; a score is a valence's share of it.
MAX_VALENCE = 4.0
# Strongly valenced: about one VADER word in ten. Below 2.0 everyday words ("help", "fight",
# "support") come in, and CHAT_SLANG lists VADER's abbreviations only down to 2.0.
DEFAULT_THRESHOLD = 2.5
MIN_THRESHOLD = 2.0

# VADER words of news that name an event, an act, a legal or medical fact, a reported emotion or
# speech act, an outcome, a title or a common phrase's head, rather than choosing a colouring
# word for it. Written as the base forms; their inflections go too.
DESCRIPTIVE = frozenset("""
    abduction abuse abuses anger angry arrest arrested assassination assault attack attacker award
    bad badly ban bankrupt best blessed bomb bonus cancer care celebrate champion choke condemnation
    corpse crime criminal crisis crude dead death depression destroy destroyed destruction die died
    disaster drown drowned emergency enemy enjoy excellency fail fatal fatalities fatality fear
    felony fired fraud free freedom gain glad grand great greatest grief hand happy harass
    harassment harm hate heart honor honorable honored honour honoured hostility hurt ideal illegal
    injured kill killer killing kind laugh love loved medal murder negative pain paradise peace
    perfect perfectly poison poisoning poor poorest positive praise precious prison prisoner prize
    racism rape raped raper rapist rejection reward rich riot rob robber save scam sick slavery
    smiled sophisticated stab starved steal stealing strangled success successful suffer suicidal
    suicide super superior supreme terrorism thief torture tortured trust violate violence violent
    violently war win winner winnings won worse worst wrong
""".split())

# VADER's social-media abbreviations and interjections at or above MIN_THRESHOLD.
CHAT_SLANG = frozenset("""
    aas aayf afu alol ambw aml aok bfd bfe bff bl bsod btd bwahahah cwot doa dx effin fab fav ffs fkm
    ftw fu fubar fwb gj gla gratz haha hahaha hagd hagn hhoj hugz ilu iluaaf ily iyq kfy kia kmuf
    lmao lmfao lmso lol lolz lulz ly lya lyb lyl lylab lylas mml mofo muah mwah nfc nfw nh nme okays
    pita po ptl qq rofl roflmao rotfl rotflmao rotflmfao rotflol rotgl sete sfete sgtm slaw snafu
    swak tgif tia tyvm vbg vbs vip vwd vwp wd woo wow wowed wowing wows wtf wtg wth x-d xd xlnt xoxo
    yay ywia
""".split())


@dataclass(frozen=True)
class Entry:
    """A lexicon word or phrase: its valence (VADER's scale) and the label it suggests. A
    name-calling label is a noun: it matches in the plural and possessive, not as a verb."""
    words: tuple[str, ...]
    valence: float
    label: str

    @property
    def nominal(self) -> bool:
        return self.label == NAME_CALLING


# This project's entries, on VADER's scale; they take precedence over VADER's for the same words.
SUPPLEMENT: tuple[tuple[str, float, str], ...] = (
    # Violence described so as to condemn it.
    ("massacre", -3.5, LOADED_LANGUAGE),
    ("slaughter", -3.5, LOADED_LANGUAGE),
    ("butchered", -3.3, LOADED_LANGUAGE),
    ("butchery", -3.3, LOADED_LANGUAGE),
    ("bloodbath", -3.4, LOADED_LANGUAGE),
    ("carnage", -3.2, LOADED_LANGUAGE),
    ("atrocity", -3.4, LOADED_LANGUAGE),
    ("barbaric", -3.3, LOADED_LANGUAGE),
    ("barbarity", -3.3, LOADED_LANGUAGE),
    ("barbarism", -3.2, LOADED_LANGUAGE),
    ("bloodthirsty", -3.4, LOADED_LANGUAGE),
    ("cold-blooded", -3.2, LOADED_LANGUAGE),
    ("genocidal", -3.4, LOADED_LANGUAGE),
    ("heinous", -3.4, LOADED_LANGUAGE),
    ("despicable", -3.3, LOADED_LANGUAGE),
    ("diabolical", -3.2, LOADED_LANGUAGE),
    ("dastardly", -3.0, LOADED_LANGUAGE),
    ("inhuman", -3.0, LOADED_LANGUAGE),
    ("inhumane", -3.0, LOADED_LANGUAGE),
    ("merciless", -2.9, LOADED_LANGUAGE),
    ("nefarious", -2.8, LOADED_LANGUAGE),
    ("ruthless", -2.7, LOADED_LANGUAGE),
    ("rampage", -2.8, LOADED_LANGUAGE),
    ("scourge", -2.8, LOADED_LANGUAGE),
    ("sham", -2.7, LOADED_LANGUAGE),
    ("draconian", -2.6, LOADED_LANGUAGE),
    ("onslaught", -2.6, LOADED_LANGUAGE),
    ("witch hunt", -3.0, LOADED_LANGUAGE),
    ("witch-hunt", -3.0, LOADED_LANGUAGE),
    ("reign of terror", -3.4, LOADED_LANGUAGE),
    # Wording that ennobles.
    ("valiant", 2.8, LOADED_LANGUAGE),
    ("brothers and sisters", 2.5, LOADED_LANGUAGE),
    # Labels for people, to be feared, despised or admired (the codebook's name-calling).
    ("terrorist", -3.4, NAME_CALLING),
    ("thug", -3.0, NAME_CALLING),
    ("henchman", -2.6, NAME_CALLING),
    ("henchmen", -2.6, NAME_CALLING),
    ("butcher", -3.3, NAME_CALLING),
    ("murderer", -3.3, NAME_CALLING),
    ("criminals", -2.6, NAME_CALLING),
    ("traitor", -3.0, NAME_CALLING),
    ("coward", -2.8, NAME_CALLING),
    ("savages", -3.0, NAME_CALLING),
    ("monster", -2.8, NAME_CALLING),
    ("villain", -2.8, NAME_CALLING),
    ("evildoer", -3.1, NAME_CALLING),
    ("warmonger", -3.0, NAME_CALLING),
    ("extremist", -2.6, NAME_CALLING),
    ("fanatic", -2.8, NAME_CALLING),
    ("zealot", -2.6, NAME_CALLING),
    ("tyrant", -3.0, NAME_CALLING),
    ("despot", -2.8, NAME_CALLING),
    ("puppet", -2.5, NAME_CALLING),
    ("infidel", -2.8, NAME_CALLING),
    ("mastermind", -2.5, NAME_CALLING),
    ("martyr", 2.6, NAME_CALLING),
    ("hero", 2.6, NAME_CALLING),
    ("freedom fighter", 2.8, NAME_CALLING),
)

# A word: letters, joined by apostrophes or hyphens ("cold-blooded", "Israel's").
WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
POSSESSIVE = ("'s", "\u2019s")


def plural_stems(word: str) -> list[str]:
    """The singulars `word` may be the plural (or third person) of."""
    if word.endswith("ies") and len(word) > 4:
        return [word[:-3] + "y"]
    if word.endswith("es"):
        return [word[:-1], word[:-2]]
    if word.endswith("s") and not word.endswith("ss"):
        return [word[:-1]]
    return []


def verbal_stems(word: str) -> list[str]:
    """The base forms `word` may be the past or the -ing form of."""
    if word.endswith("ied"):
        return [word[:-3] + "y"]
    if word.endswith("ed"):
        return [word[:-2], word[:-1]]  # slaughtered, massacred
    if word.endswith("ing") and len(word) > 5:
        return [word[:-3], word[:-3] + "e"]
    return []


def _forms(word: str) -> Iterator[tuple[str, bool]]:
    """`word` and what it may inflect, each with whether the inflection suits a noun."""
    yield word, True
    for stem in plural_stems(word):
        yield stem, True
    for stem in verbal_stems(word):
        yield stem, False


def vader_valences() -> dict[str, float]:
    """VADER's lexicon: expression -> mean valence (a later line for the same one wins, as in VADER)."""
    text = importlib.resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    valences = {}
    for line in text.splitlines():
        expression, valence, *_ = line.split("\t")
        valences[expression] = float(valence)
    return valences


def _descriptive(word: str) -> bool:
    return any(form in DESCRIPTIVE for form, _ in _forms(word))


@functools.cache
def lexicon(threshold: float) -> Mapping[str, tuple[Entry, ...]]:
    """The entries at or above ``threshold``, by first word, the longest phrases first. A VADER
    word that is a form of a SUPPLEMENT word gives way to it ("terrorists" to "terrorist")."""
    supplemented = {expression for expression, _, _ in SUPPLEMENT}
    entries = {(expression,): Entry((expression,), valence, LOADED_LANGUAGE)
               for expression, valence in vader_valences().items()
               if WORD.fullmatch(expression) and len(expression) > 2 and expression not in CHAT_SLANG
               and not _descriptive(expression) and not any(form in supplemented for form, _ in _forms(expression))}
    for expression, valence, label in SUPPLEMENT:
        words = tuple(expression.split())
        entries[words] = Entry(words, valence, label)
    by_first: dict[str, list[Entry]] = {}
    for entry in entries.values():
        if abs(entry.valence) >= threshold:
            by_first.setdefault(entry.words[0], []).append(entry)
    return {first: tuple(sorted(found, key=lambda entry: -len(entry.words))) for first, found in by_first.items()}


@dataclass(frozen=True)
class Token:
    start: int
    end: int  # without a possessive 's
    word: str  # lower case, without a possessive 's
    proper: bool  # part of a name or an abbreviation: matched by no entry


def _tokens(text: str, start: int, end: int) -> list[Token]:
    found = list(WORD.finditer(text, start, end))
    surfaces = [match.group() for match in found]
    capitalised = [surface[0].isupper() and not surface.isupper() for surface in surfaces]
    tokens = []
    for index, match in enumerate(found):
        surface = surfaces[index]
        name_neighbour = (index > 0 and capitalised[index - 1]) or (index + 1 < len(found) and capitalised[index + 1])
        proper = (len(surface) > 1 and surface.isupper()) or (capitalised[index] and index > 0 and name_neighbour)
        cut = 2 if surface.endswith(POSSESSIVE) else 0
        tokens.append(Token(match.start(), match.end() - cut, surface[:len(surface) - cut].lower(), proper))
    return tokens


def _match(tokens: Sequence[Token], index: int, entries: Mapping[str, tuple[Entry, ...]]) -> Entry | None:
    """The longest entry whose words begin at tokens[index] (its last word may be inflected)."""
    for form, nominal_form in _forms(tokens[index].word):
        for entry in entries.get(form, ()):
            if entry.nominal and not nominal_form:
                continue
            size = len(entry.words)
            if size == 1:
                return entry
            following = tokens[index:index + size]
            if len(following) == size and form == tokens[index].word and not any(token.proper for token in following) \
                    and all(token.word == word for token, word in zip(following[1:-1], entry.words[1:-1])) \
                    and any(candidate == entry.words[-1] for candidate, _ in _forms(following[-1].word)):
                return entry
    return None


@register(NAME)
class LoadedLanguageLexicon:
    """Suggests the loaded words of the lexicon above in the codebook's loaded-language layer."""

    name = NAME

    def __init__(self, threshold: float = DEFAULT_THRESHOLD):
        if not MIN_THRESHOLD <= threshold <= MAX_VALENCE:
            raise ValueError(f"the threshold is a valence from {MIN_THRESHOLD} to {MAX_VALENCE}, not {threshold}")
        self.threshold = threshold
        self.version = f"{RULES_VERSION}+vader{importlib.metadata.version('vaderSentiment')}"
        if threshold != DEFAULT_THRESHOLD:
            self.version += f";threshold={threshold:g}"

    def suggest(self, text: str, sentences: Sequence[tuple[int, int]], language: str | None) -> list[Suggestion]:
        """None for the language is taken as English, the language a document has unless told."""
        if language is not None and re.split(r"[-_]", language, maxsplit=1)[0].lower() != "en":
            return []
        entries = lexicon(self.threshold)
        found = []
        for sentence_start, sentence_end in sentences:
            tokens = _tokens(text, sentence_start, sentence_end)
            index = 0
            while index < len(tokens):
                entry = None if tokens[index].proper else _match(tokens, index, entries)
                if entry is None:
                    index += 1
                    continue
                last = tokens[index + len(entry.words) - 1]
                found.append(Suggestion(
                    layer=LAYER, label=entry.label, start=tokens[index].start, end=last.end,
                    attributes={POLARITY: "negative" if entry.valence < 0 else "positive"},
                    score=round(abs(entry.valence) / MAX_VALENCE, 3), suggester=self.name, version=self.version))
                index += len(entry.words)
        return sorted(found, key=lambda suggestion: (suggestion.start, suggestion.end))
