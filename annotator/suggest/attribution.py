"""The rule-based attribution suggester, "rules-attribution": cues, sources and contents.

Each sentence is read on its own. A cue is found first (a reporting verb in any of its forms,
"according to", "as reported by", a belief or intention verb, a colon after a name before a
quotation); its source and content are then read off the words around it by position (a
quotation just before or after it, a clause after "that", the clause before ", X said", the
noun phrase before or after it). Then, in English, a cue may take as its content a quotation
in a neighbouring sentence (_across_sentences), one span per sentence in its group. The
patterns, what each sets and their scores: docs/suggestions.md, "Attribution rules". The
relation's attributes (source_kind, identification, cue_type, quote_type) travel on the cue's
suggestion, the relation's anchor, and only where the pattern tells them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from . import Suggestion, register

NAME = "rules-attribution"
VERSION = "2"
LAYER = "attribution"

# Reporting verbs by lemma, with the forms a regular inflection would get wrong.
_IRREGULAR = {
    "say": ("said",), "tell": ("told",), "write": ("wrote", "written"), "think": ("thought",),
    "hold": ("held",), "find": ("found",), "foresee": ("foresaw", "foreseen"),
}
_REPORTING_VERBS = (
    "say tell state claim add note warn announce insist deny admit confirm accuse argue explain report "
    "write tweet describe urge assert allege declare stress emphasise emphasize reiterate acknowledge "
    "concede maintain contend disclose reveal convey inform mention indicate testify recount complain "
    "conclude observe remark comment estimate predict promise vow pledge ask reply threaten suggest recall "
    "caution charge post quote find"
).split()
# Verbs that as often take a noun as a clause ("rejected the results", "cited his health"):
# a cue only before "that", a colon or a quotation.
_CLAUSE_ONLY_VERBS = "reject dismiss condemn blame praise cite demand welcome".split()
# Belief and intention: a source's state of mind rather than an act of saying; less often meant
# as an attribution, so scored lower.
_BELIEF_VERBS = "believe think hope fear expect want doubt feel".split()
# Forms that are as often nouns ("the claims", "fears of war"): taken as a cue only where the
# neighbours make them a verb (_is_verb_here).
_NOUN_HOMOGRAPHS = {
    "claim", "claims", "note", "notes", "report", "reports", "state", "states", "tweet", "tweets",
    "fear", "fears", "hope", "hopes", "estimate", "estimates", "demand", "demands", "promise",
    "promises", "pledge", "pledges", "vow", "vows", "quote", "quotes", "comment", "comments",
    "remark", "remarks", "charge", "charges", "post", "posts", "want", "wants", "doubt", "doubts",
    "warning", "warnings", "ask", "reply", "replies", "feel", "feels", "think", "found", "thought",
    "find", "mention", "mentions", "suggest", "caution", "charge", "charges", "finds",
}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "his", "her", "their", "our",
                "my", "your", "no", "any", "some", "such", "of", "and", "or", "to", "for", "in", "on",
                "with", "by", "whose", "every", "each", "new", "former", "latest"}
_PRONOUNS = {"he", "she", "they", "we", "i", "it", "you"}
_PERSON_PRONOUNS = {"he", "she"}
# Words between a subject and its verb: auxiliaries, negation, adverbs ("has also said").
_BETWEEN = {"has", "have", "had", "also", "later", "then", "previously", "again", "repeatedly", "further",
            "will", "would", "could", "may", "might", "did", "does", "do", "not", "is", "was", "were", "are",
            "be", "been", "being", "once", "recently", "publicly", "earlier", "separately", "reportedly",
            "allegedly", "privately", "openly", "first", "already", "just", "still", "even", "often",
            "shall", "should", "can", "must", "never", "only", "flatly", "strongly", "firmly", "widely"}
# Words that end a noun phrase read leftwards from the cue (clause openers, time, prepositions
# of setting).
_LEFT_STOPS = {"that", "which", "when", "while", "as", "because", "if", "after", "before", "but", "and",
               "or", "so", "where", "since", "although", "though", "whether", "than", "on", "during",
               "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "yesterday",
               "today", "tonight", "week", "month", "year", "morning", "evening", "night", "afternoon",
               "earlier", "however", "meanwhile", "now", "there", "here", "what", "how", "why", "not",
               "is", "was", "were", "are", "has", "had", "have", "been", "will", "would", "could", "said",
               "told", "says", "added", "to", "be"}
_LEADING_PREPOSITIONS = {"in", "at", "after", "before", "during", "speaking", "addressing", "with", "from",
                         "by", "under", "following", "despite", "for", "amid", "against", "over"}
# Words that open a setting rather than what was said ("said on Monday", "said in a statement").
_SETTINGS = _LEADING_PREPOSITIONS | _LEFT_STOPS | {"last", "late", "earlier"}
# What a setting after a cue opens with; the most words a setting alone has ("in an interview").
_SETTING_OPENERS = _LEADING_PREPOSITIONS | {"on", "during", "last", "yesterday", "today", "tonight", "earlier", "this"}
_SETTING_WORDS = 4
# Words that end a noun phrase read rightwards from the cue.
_RIGHT_STOPS = {"that", "who", "which", "when", "while", "as", "because", "if", "after", "before", "but",
                "and", "said", "says", "told", "on", "during", "last", "this", "yesterday", "today",
                "earlier", "is", "was", "were", "are", "has", "had", "have", "will", "would", "could",
                "in", "at", "following", "amid", "citing", "quoting", "adding", "saying", "where"}
_SETTING_PREPOSITIONS = {"in", "at"}  # kept inside a phrase when a name follows: "officials in Gaza"
_MEDIA_WORDS = {"news", "times", "post", "reuters", "ap", "afp", "bbc", "cnn", "jazeera", "tv", "television",
                "radio", "newspaper", "daily", "broadcaster", "guardian", "dawn", "tribune", "journal",
                "gazette", "herald", "telegraph", "agency", "channel", "outlet", "media", "wire", "press",
                "bloomberg", "xinhua", "tass", "wafa", "ary", "geo", "website", "magazine", "network"}
_ORGANISATION_WORDS = {"ministry", "army", "police", "military", "government", "hamas", "hezbollah",
                       "party", "council", "commission", "authority", "authorities", "department", "office",
                       "committee", "un", "union", "bank", "company", "corporation", "corp", "inc", "fund",
                       "organization", "organisation", "forces", "court", "parliament", "embassy",
                       "association", "university", "institute", "administration", "cabinet", "senate",
                       "congress", "board", "group", "movement", "front", "coalition", "alliance", "jui-f",
                       "idf", "nato", "who", "unicef", "unrwa", "agency", "directorate", "secretariat",
                       "federation", "league", "brigades", "wing", "regime", "state", "kremlin",
                       "pentagon", "white", "house", "firm", "service", "services", "mission"}
_PERSON_WORDS = {"spokesperson", "spokesman", "spokeswoman", "minister", "president", "official", "leader",
                 "chief", "director", "secretary", "ambassador", "governor", "mayor", "general", "commander",
                 "prime", "senator", "analyst", "expert", "professor", "doctor", "resident", "witness",
                 "representative", "chairman", "chairwoman", "head", "envoy", "researcher", "lawyer",
                 "diplomat", "officer", "economist", "father", "mother", "survivor", "worker", "negotiator",
                 "adviser", "advisor", "aide", "scientist", "author", "founder", "ceo", "executive", "judge",
                 "candidate", "activist", "member", "deputy", "speaker", "lawmaker", "mp", "king", "emir",
                 "cleric", "imam", "rabbi", "pope", "teacher", "student", "nurse", "farmer", "owner"}
_GROUP_WORDS = {"officials", "residents", "witnesses", "experts", "analysts", "critics", "observers",
                "activists", "diplomats", "people", "villagers", "protesters", "locals", "doctors", "medics",
                "economists", "investors", "traders", "lawmakers", "leaders", "scientists", "researchers",
                "families", "survivors", "workers", "others", "many", "some"}

_QUOTE = re.compile(r"“[^“”]*”|\"[^\"]*\"|«[^«»]*»")
# Titles and ranks written with a full stop before a name ("Dr. Ahmed Khan", "Lt. Gen."), and
# the suffixes of names and companies ("Jr.", "Inc.").
_TITLES = (
    "Dr Mr Mrs Ms Mx Prof Gen Lt Col Maj Capt Cmdr Cdr Adm Brig Sgt Cpl Pvt Sen Rep Gov Pres Amb Atty Hon Rev "
    "Fr St Supt Insp Det Messrs Mme Mlle Sec Cllr Rt Jr Sr Inc Corp Ltd Co Bros"
).split()
# A full stop inside a sentence that does not end it, read as part of its word: after a title
# followed by a word or a comma, in a dotted abbreviation ("U.S.", "a.m."), after an initial
# before a name ("John F. Kennedy"). A phrase read off the words then goes on past it
# ("according to Gen. Asim Munir"). The sentence's own full stop stays a token of its own.
_ABBREVIATION = rf"(?:{'|'.join(_TITLES)})\.(?=\s*[\w,])|(?:[^\W\d_]\.){{2,}}|[A-Z]\.(?=\s+[A-Z])"
_TOKEN = re.compile(rf"{_ABBREVIATION}|\w+(?:[-'’.]\w+)*|[^\w\s]")
_EDGE = " \t\n.,;:!?\"“”«»‘’'()[]—–-…۔،؛؟"
_ANONYMOUS = re.compile(
    r"\b(?:sources?|officials?|diplomats?|people|insiders?|aides?|persons?)\b[^.;:\"“”]*?"
    r"\b(?:anonymity|not (?:to be |being )?(?:named|identified|authori[sz]ed)|declined to be (?:named|identified)"
    r"|close to|familiar with|with knowledge of|privy to)\b"
    r"|, who (?:spoke|asked|requested|declined|was not|were not)\b[^.;:\"“”,]*?\b(?:anonymity|named|identified)\b",
    re.IGNORECASE)
_BARE_SOURCES = re.compile(r"^(?:(?:some|several|two|three|other|unnamed|anonymous|informed)\s+)?sources?$",
                           re.IGNORECASE)

# Scores: how often each pattern, read on its own, is an attribution cue (estimates, not
# fitted to any corpus: docs/suggestions.md).
_SCORES = {"according_to": 0.95, "as_reported_by": 0.9, "reporting_verb": 0.85, "told": 0.9,
           "belief": 0.6, "called_for": 0.8, "colon": 0.7, "hearsay": 0.6, "homograph": 0.7}

_PHRASE_CUES = [
    (re.compile(r"\baccording to\b", re.IGNORECASE), "according_to", "according_to"),
    (re.compile(r"\bin the (?:words|view) of\b", re.IGNORECASE), "according_to", "according_to"),
    (re.compile(r"\b(?:as |first )?(?:reported|cited|quoted|broadcast|published) by\b", re.IGNORECASE),
     "as_reported_by", "as_reported_by"),
    (re.compile(r"\b(?:call|appeal)(?:ed|s|ing)? (?:for|on|upon)\b", re.IGNORECASE), "reporting_verb", "called_for"),
    (re.compile(r"\b(?:reportedly|allegedly)\b", re.IGNORECASE), "other", "hearsay"),
]


def _forms(lemma: str) -> set[str]:
    """The forms of a regular English verb: say, says, said, saying (with the irregular ones)."""
    if lemma.endswith("e"):
        ing, past = lemma[:-1] + "ing", lemma + "d"
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        ing, past = lemma + "ing", lemma[:-1] + "ied"
    elif lemma in {"admit", "regret", "commit", "submit"}:
        ing, past = lemma + "ting", lemma + "ted"
    else:
        ing, past = lemma + "ing", lemma + "ed"
    if lemma.endswith(("s", "sh", "ch", "x", "z")):
        third = lemma + "es"
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        third = lemma[:-1] + "ies"
    else:
        third = lemma + "s"
    return {lemma, third, ing, *(_IRREGULAR.get(lemma) or (past,))}


_VERB_KIND = {form: "reporting_verb" for lemma in _REPORTING_VERBS + _CLAUSE_ONLY_VERBS for form in _forms(lemma)}
_CLAUSE_ONLY = {form for lemma in _CLAUSE_ONLY_VERBS for form in _forms(lemma)}
_DEGREE = {"most", "least", "very", "more", "less", "much", "well", "so", "too"}
_IDIOM_AFTER_CLAIM = re.compile(r"(?:the )?(?:lives?|life)\b")  # "the attack claimed the lives of 40 people"
_BE = {"is", "was", "were", "are", "be", "been", "being", "'s"}
# Nouns that head a source phrase, so that "..., the report found." reads "found" as a verb.
_DOCUMENT_WORDS = {"report", "study", "survey", "statement", "data", "analysis", "letter", "document", "memo",
                   "poll", "figures", "research", "review", "audit", "investigation", "inquiry", "filing"}
_VERB_KIND |= {form: "belief" for lemma in _BELIEF_VERBS for form in _forms(lemma)}
_VERB_KIND |= {form: "told" for form in _forms("tell")}


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    @property
    def word(self) -> bool:
        return self.text[:1].isalnum() or self.text[:1] == "_"


@dataclass
class _Cue:
    start: int
    end: int
    cue_type: str
    pattern: str
    first: int  # index of the cue's first token
    last: int  # index of its last token


@register(NAME)
class AttributionSuggester:
    """Suggests attribution cues with their sources and contents, by rules (see the module)."""

    name = NAME
    version = VERSION

    def suggest(self, text: str, sentences: Sequence[tuple[int, int]], language: str | None) -> list[Suggestion]:
        read = {"ur": _urdu_sentence, "ar": _arabic_sentence}.get((language or "en").split("-")[0], _english_sentence)
        quotes = quotations(text)
        per_sentence = [read(text, start, end, quotes) for start, end in sentences]
        if read is _english_sentence:
            _across_sentences(text, sentences, per_sentence, quotes)
        found: list[Suggestion] = []
        groups = 0
        for attributions in per_sentence:
            for attribution in attributions:
                groups += 1
                spans = [_suggestion(text, group=f"a{groups}", **span) for span in attribution]
                found += [suggestion for suggestion in spans if suggestion is not None]
        return sorted(found, key=lambda s: (s.start, s.end, s.label))


def quotations(text: str) -> list[tuple[int, int]]:
    """The extents of the quotations in ``text``, their marks included, as the rules read them."""
    return [match.span() for match in _QUOTE.finditer(text)]


def quote_type(content: tuple[int, int], quotes: Sequence[tuple[int, int]]) -> str:
    """A content's quote_type: "direct" inside a quotation, "mixed" holding one, else "indirect"."""
    if any(q0 <= content[0] and content[1] <= q1 for q0, q1 in quotes):
        return "direct"
    if any(content[0] <= q0 and q1 <= content[1] for q0, q1 in quotes):
        return "mixed"
    return "indirect"


def cue_matches(text: str, start: int, end: int, language: str | None) -> list[tuple[int, int, str, str]]:
    """Where the rules' lists name a cue in text[start:end], whatever its context (a noun
    "claims", a passive): each word or phrase as (start, end, cue_type, pattern), the pattern
    being the list it is on ("reporting_verb", "belief", "according_to", ...; an Urdu "نے … کہا"
    whole, from نے to the verb). Not what the rules suggest (they weigh the context): what the
    learned suggester reads as features (annotator.suggest.learned)."""
    base = (language or "en").split("-")[0]
    if base == "ur":
        return [(m.start(), m.end(), cue_type, "ur_" + cue_type) for pattern, cue_type, _ in _URDU_CUES
                for m in pattern.finditer(text, start, end)]
    if base == "ar":
        return [(m.start(), m.end(), cue_type, "ar_" + cue_type) for pattern, cue_type in _ARABIC_CUES
                for m in pattern.finditer(text, start, end)]
    found = [(m.start(), m.end(), cue_type, kind) for pattern, cue_type, kind in _PHRASE_CUES
             for m in pattern.finditer(text, start, end)]
    for m in _TOKEN.finditer(text, start, end):
        kind = _VERB_KIND.get(m.group().lower())
        if kind is not None:
            found.append((m.start(), m.end(), "reporting_verb", kind))
    return sorted(found)


def _suggestion(text: str, *, group: str, label: str, role: str, start: int, end: int, score: float,
                attributes: dict | None = None) -> Suggestion | None:
    trimmed = _trim(text, start, end, keep_colon=label == "CUE")
    if trimmed is None:
        return None
    return Suggestion(layer=LAYER, label=label, start=trimmed[0], end=trimmed[1], attributes=attributes or {},
                      score=score, suggester=NAME, version=VERSION, group=group, role=role)


def _trim(text: str, start: int, end: int, *, keep_colon: bool = False) -> tuple[int, int] | None:
    piece = text[start:end]
    if keep_colon and piece.strip() == ":":  # a colon after a name is the cue itself
        stripped = piece.strip()
    else:
        stripped = piece.strip(_EDGE)
    if not stripped:
        return None
    start += len(piece) - len(piece.lstrip(_EDGE if stripped != ":" else " \t\n"))
    return start, start + len(stripped)


# --- Across sentences ----------------------------------------------------------------------

# A content in a neighbouring sentence of its cue scores this share of the cue's score (.8 in
# the cue's own sentence).
_ACROSS_SENTENCES = 0.7


def _across_sentences(text: str, sentences: Sequence[tuple[int, int]], per_sentence: list[list[list[dict]]],
                      quotes: list[tuple[int, int]]) -> None:
    """Give attributions the quotations in neighbouring sentences that are theirs, as CONTENT
    spans of their group, one per sentence (docs/suggestions.md, "Across sentences"), in order:

    1. the rest of a quotation the cue's sentence holds only part of (the sentence splitter cut it);
    2. a cue sentence ending in a colon ("The mayor told reporters:"): the quotation opening
       the next sentence, which has no cue of its own, replacing what the colon sentence gave;
    3. a cue without content whose sentence follows one that is only a quotation, with no cue
       ("We will rebuild." He said.): that quotation;
    4. a sentence that is only a quotation, with no cue, after one whose last attribution quotes
       directly ("…," she said. "…"): the same speaker going on, as news writing attributes a new
       speaker; again for the next such sentence.

    Only quotations: their marks say where a content begins and ends. ``per_sentence`` (each
    sentence's attributions, each a list of span dicts, the cue first) is changed in place."""
    claimed: set[int] = set()  # sentences whose quotation is some attribution's content now

    def pieces(quotation: tuple[int, int]) -> list[tuple[int, int, int]] | None:
        """The quotation cut at the sentences it covers: (sentence, start, end); None if one of
        them is another attribution's content already."""
        q0, q1 = quotation
        cut = [(i, max(q0, s0), min(q1, s1)) for i, (s0, s1) in enumerate(sentences) if s0 < q1 and q0 < s1]
        return cut if all(i not in claimed for i, _, _ in cut) else None

    def give(attribution: list[dict], quotation: tuple[int, int], cues_allowed_in: int | None = None) -> bool:
        """Make the quotation the attribution's content, unless a sentence of it is taken or has
        a cue (but ``cues_allowed_in``, the attribution's own); whether it did."""
        cut = pieces(quotation)
        if cut is None or any(per_sentence[i] and i != cues_allowed_in for i, _, _ in cut):
            return False
        cue = attribution[0]
        known = {(span["start"], span["end"]) for span in attribution if span["label"] == "CONTENT"}
        for i, start, end in cut:
            claimed.add(i)
            if (start, end) not in known and not any(k0 <= start and end <= k1 for k0, k1 in known):
                attribution.append(dict(label="CONTENT", role="content", start=start, end=end,
                                        score=cue["score"] * _ACROSS_SENTENCES))
        cue["attributes"]["quote_type"] = "direct"
        return True

    def only_quotation(i: int) -> tuple[int, int] | None:
        """The quotation sentence ``i`` is, when it is nothing else and has no cue."""
        start, end = sentences[i]
        if per_sentence[i] or i in claimed:
            return None
        return next(((q0, q1) for q0, q1 in quotes if q0 <= start < q1 and not re.search(r"\w", text[q1:end])), None)

    for i, (start, end) in enumerate(sentences):  # 1
        for attribution in per_sentence[i]:
            for span in [span for span in attribution if span["label"] == "CONTENT"]:
                quotation = next(((q0, q1) for q0, q1 in quotes if q0 <= span["start"] and span["end"] <= q1
                                  and (q0 < start or q1 > end)), None)
                if quotation is not None:
                    give(attribution, quotation, cues_allowed_in=i)
    for i in range(len(sentences) - 1):  # 2
        start, end = sentences[i]
        following = sentences[i + 1][0]
        if not per_sentence[i] or not text[start:end].endswith(":"):
            continue
        attribution = per_sentence[i][-1]
        quotation = next(((q0, q1) for q0, q1 in quotes if q0 == following), None)
        if attribution[0]["attributes"]["cue_type"] != "other" and quotation is not None:
            without_content = [span for span in attribution if span["label"] != "CONTENT"]
            if give(without_content, quotation):
                attribution[:] = without_content
    for i in range(1, len(sentences)):  # 3
        if len(per_sentence[i]) != 1:
            continue
        attribution = per_sentence[i][0]
        quotation = only_quotation(i - 1)
        if quotation is not None and attribution[0]["attributes"]["cue_type"] != "other" \
                and not any(span["label"] == "CONTENT" for span in attribution):
            give(attribution, quotation)
    speaking = None  # 4: the attribution whose direct quotation may go on
    for i in range(len(sentences)):
        if per_sentence[i]:
            last = per_sentence[i][-1]
            direct = last[0]["attributes"].get("quote_type") == "direct"
            speaking = last if direct and any(span["label"] == "CONTENT" for span in last) else None
        elif (quotation := only_quotation(i)) is not None and speaking is not None:
            give(speaking, quotation)
        elif i not in claimed:
            speaking = None


# --- English -------------------------------------------------------------------------------

def _english_sentence(text: str, start: int, end: int, quotes: list[tuple[int, int]]) -> list[list[dict]]:
    tokens = [_Token(start + m.start(), start + m.end(), m.group()) for m in _TOKEN.finditer(text[start:end])]
    if not tokens:
        return []
    sentence_quotes = [(max(q0, start), min(q1, end)) for q0, q1 in quotes if q0 < end and q1 > start]
    cues = _cues(text, start, end, tokens, sentence_quotes)
    attributions = []
    for number, cue in enumerate(cues):
        before = cues[number - 1].end if number else start
        after = cues[number + 1].start if number + 1 < len(cues) else end
        attributions.append(_attribution(text, start, end, tokens, cue, sentence_quotes, before, after))
    return attributions


def _cues(text: str, start: int, end: int, tokens: list[_Token], quotes) -> list[_Cue]:
    index_at = {token.start: i for i, token in enumerate(tokens)}
    index_ending = {token.end: i for i, token in enumerate(tokens)}
    cues: list[_Cue] = []
    taken: set[int] = set()
    for pattern, cue_type, kind in _PHRASE_CUES:
        for match in pattern.finditer(text, start, end):
            first, last = index_at.get(match.start()), index_ending.get(match.end())
            if first is None or last is None or taken & set(range(first, last + 1)):
                continue
            taken |= set(range(first, last + 1))
            cues.append(_Cue(match.start(), match.end(), cue_type, kind, first, last))
    anonymity = [(start + m.start(), start + m.end()) for m in _ANONYMOUS.finditer(text[start:end])]
    for i, token in enumerate(tokens):
        kind = _VERB_KIND.get(token.text)  # lower case only: "States", "Says" are names or headlines
        if (kind is None or i in taken or _inside(token.start, quotes) or _inside(token.start, anonymity)
                or not _is_verb_here(tokens, i)):
            continue
        last = i + 1 if i + 1 < len(tokens) and tokens[i + 1].lower == "that" else i
        if kind != "told" and token.text in _NOUN_HOMOGRAPHS:
            kind = "homograph" if kind == "reporting_verb" else kind
        cues.append(_Cue(token.start, tokens[last].end, "reporting_verb", kind, i, last))
        taken |= set(range(i, last + 1))
    colon = _colon_frame(tokens, quotes)
    if colon is not None and not any(cue.pattern != "hearsay" for cue in cues):
        cues.append(colon)
    return sorted(cues, key=lambda cue: cue.start)


def _inside(offset: int, quotes) -> bool:
    return any(q0 < offset < q1 for q0, q1 in quotes)


def _is_verb_here(tokens: list[_Token], i: int) -> bool:
    """Whether a reporting-verb form is used as a verb here, not as a noun ("the claims")."""
    token = tokens[i]
    previous = tokens[i - 1].lower if i else ""
    following = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    introduces_clause = following in {"that", ":", "\"", "“", "«"} or (following == "," and i + 2 < len(tokens)
                                                                       and tokens[i + 2].text in {"\"", "“", "«"})
    if previous in _DETERMINERS - {"that", "and", "to"} or previous in _DEGREE:
        return False  # a noun ("the claims") or an adjective ("most wanted")
    if token.text.startswith("claim") and _IDIOM_AFTER_CLAIM.match(" ".join(t.lower for t in tokens[i + 1:i + 3])):
        return False
    if token.text in _CLAUSE_ONLY:
        return introduces_clause
    if previous in _BE and token.text.endswith(("ed", "en")) | (token.text in {"said", "told", "thought", "found"}):
        # a passive without its agent ("was expected to", "cases were reported"): nobody speaks
        return introduces_clause or following == "by"
    if previous == "to" and following in {".", ",", "on", "about", "further"}:
        return False  # "declined to comment", "refused to say further"
    if token.text not in _NOUN_HOMOGRAPHS:
        return True
    if following in {"of", "about", "over", "against", "for", "on", "to", "from", "in", "at", "'", "’", "s"}:
        return False
    before = tokens[i - 1] if i else None
    subject_like = before is not None and before.word and (
        before.lower in _PRONOUNS | _BETWEEN or before.capitalised
        or before.lower in _PERSON_WORDS | _ORGANISATION_WORDS | _GROUP_WORDS | _MEDIA_WORDS | _DOCUMENT_WORDS
        or (before.lower.endswith("s") and not token.text.endswith("s")))
    if token.text.endswith("s") and not token.text.endswith("ss") or token.text.endswith(("ed", "ing")):
        return subject_like or (introduces_clause and before is not None and before.word)
    # a bare form shared with a noun ("report", "claim"): a verb after a plural subject, pronoun or auxiliary
    return subject_like and not (before.capitalised and before.lower not in _PRONOUNS and i > 0
                                 and not before.lower.endswith("s"))


def _colon_frame(tokens: list[_Token], quotes) -> _Cue | None:
    """``Name Surname: "quote"``: a colon after up to five capitalised words, before a quotation."""
    for i, token in enumerate(tokens[:7]):
        if token.text == ":":
            words = tokens[:i]
            if (words and all(w.capitalised or w.lower in {"of", "the", "al", "bin"} for w in words)
                    and any(q0 >= token.end and q0 - token.end <= 2 for q0, _ in quotes)):
                return _Cue(token.start, token.end, "statement_frame", "colon", i, i)
            return None
    return None


def _attribution(text: str, start: int, end: int, tokens: list[_Token], cue: _Cue, quotes,
                 before: int, after: int) -> list[dict]:
    """The cue's suggestions, with the source and content its position tells."""
    attributes: dict[str, str] = {"cue_type": cue.cue_type}
    source: tuple[int, int] | None = None
    content: tuple[int, int] | None = None
    quote_before = next((q for q in reversed(quotes) if before <= q[0] and q[1] <= cue.start
                         and _words_between(text, q[1], cue.start) <= 6), None)
    quote_after = next((q for q in quotes if cue.end <= q[0] < after and _words_between(text, cue.end, q[0]) <= 4), None)
    if cue.pattern in {"according_to", "as_reported_by"}:
        source = _noun_phrase_after(tokens, cue.last + 1, after)
        if cue.pattern == "as_reported_by":
            attributes["source_kind"] = "media_outlet"
        if source and _clause_is_empty(text, before, cue.start):
            comma = text.find(",", source[1], after)
            content = (comma + 1, after) if comma >= 0 else None
        else:
            content = (_clause_start(text, before, cue.start), cue.start)
    elif cue.pattern == "hearsay":
        pass
    elif quote_before:
        content = quote_before
        source = _noun_phrase_between(tokens, quote_before[1], cue.start) or _noun_phrase_after(tokens, cue.last + 1, after)
    elif cue.pattern == "colon" or (quote_after and text[cue.end:quote_after[0]].strip() in {"", ":", ","}):
        content = quote_after
        source = _noun_phrase_before(text, tokens, cue.first, before)
    else:
        source = _noun_phrase_before(text, tokens, cue.first, before)
        content = _content_after(text, tokens, cue, after)
        inverted = source is None and _inverted(tokens, cue, after)
        if inverted or not _says_something_after(text, tokens, cue, content):
            # What follows is the source ("…, said Dr. Khan") or opens with a setting: its "that"
            # clause ("said in a statement that …"), else all of it unless it is only the setting
            # ("said on Monday").
            if inverted:
                content = None
            elif content is not None:
                content = _that_clause(text, tokens, cue, after) or \
                    (content if _words_between(text, *content) > _SETTING_WORDS else None)
            if _clause_has_comma_before(text, before, cue.start, source):
                # "CONTENT, SOURCE said." or "CONTENT, said SOURCE."
                comma = text.rfind(",", before, source[0] if source else cue.start)
                content = (_clause_start(text, before, comma), comma)
                if source is None:
                    source = _noun_phrase_after(tokens, cue.last + 1, after)
    if content:
        attributes["quote_type"] = quote_type(content, quotes)
    if source:
        attributes |= _source_attributes(text, source, cue)
    score = _SCORES[cue.pattern]
    spans = [dict(label="CUE", role="cue", start=cue.start, end=cue.end, score=score, attributes=attributes)]
    if source:
        spans.append(dict(label="SOURCE", role="source", start=source[0], end=source[1], score=score * 0.8))
    if content and content[1] - content[0] > 1:
        spans.append(dict(label="CONTENT", role="content", start=content[0], end=content[1], score=score * 0.8))
    return spans


def _says_something_after(text: str, tokens: list[_Token], cue: _Cue, content) -> bool:
    """Whether what follows the cue is its content rather than a setting ("said on Monday",
    "said in a statement"): after a "that", or a clause not opening with a preposition of setting."""
    if content is None:
        return False
    if tokens[cue.last].lower == "that" or cue.pattern == "told":
        return True
    first = text[content[0]:content[1]].split()[0].lower()
    return first not in _SETTINGS


def _inverted(tokens: list[_Token], cue: _Cue, after: int) -> bool:
    """Whether the words after a cue that follows a comma are its source, subject and verb
    inverted ("…, said Dr. Khan." / "…, said the minister on Monday."): a name or a noun phrase
    with its determiner that ends the clause."""
    following = cue.last + 1
    if cue.first == 0 or tokens[cue.first - 1].text != "," or following >= len(tokens):
        return False
    first = tokens[following]
    if not (first.capitalised and first.word or first.lower in {"the", "a", "an"}):
        return False
    phrase = _noun_phrase_after(tokens, following, after)
    rest = [token for token in tokens if phrase and phrase[1] <= token.start < after]
    return phrase is not None and (not rest or not rest[0].word or rest[0].lower in _SETTING_OPENERS)


def _that_clause(text: str, tokens: list[_Token], cue: _Cue, after: int) -> tuple[int, int] | None:
    """The clause after a "that" following the cue's setting ("said in a statement that …")."""
    that = next((j for j in range(cue.last + 1, min(cue.last + 9, len(tokens)))
                 if tokens[j].lower == "that" and tokens[j].start < after), None)
    if that is None or that + 1 >= len(tokens) or _words_between(text, tokens[that + 1].start, after) < 2:
        return None
    return tokens[that + 1].start, after


def _words_between(text: str, start: int, end: int) -> int:
    return len(re.findall(r"\w+", text[start:end]))


def _clause_is_empty(text: str, start: int, end: int) -> bool:
    return not re.search(r"\w", text[start:end])


def _clause_start(text: str, start: int, end: int) -> int:
    """Where the clause ending at ``end`` begins: after the last ; or : before it (or ``start``)."""
    boundary = max(text.rfind(";", start, end), text.rfind(":", start, end))
    return boundary + 1 if boundary >= 0 else start


def _clause_has_comma_before(text: str, start: int, cue_start: int, source) -> bool:
    """Whether the cue closes a sentence after a comma: "..., the minister said." / "..., said X"."""
    head = source[0] if source else cue_start
    if "," not in text[start:head] or not re.search(r"\w", text[start:text.rfind(",", start, head)]):
        return False
    between = text[text.rfind(",", start, head) + 1:head]
    return source is not None or not between.strip()


def _content_after(text: str, tokens: list[_Token], cue: _Cue, after: int) -> tuple[int, int] | None:
    """The clause after the cue: after its "that", after the hearer of "told", or what follows."""
    i = cue.last + 1
    if cue.pattern == "told":
        that = next((j for j in range(i, min(i + 7, len(tokens))) if tokens[j].lower == "that"), None)
        if that is not None:
            i = that + 1
        else:
            i += 1
            while i < len(tokens) and (tokens[i].capitalised or tokens[i - 1].lower in {"the", "a", "an"}):
                i += 1
    if i >= len(tokens) or tokens[i].start >= after:
        return None
    stop = after
    for j in range(i, len(tokens)):  # a following ", according to" or ", he said" ends the content
        if tokens[j].start >= after:
            break
        if tokens[j].text == "," and j + 1 < len(tokens) and tokens[j + 1].lower in {"according", "as", "citing"}:
            stop = tokens[j].start
            break
    if _words_between(text, tokens[i].start, stop) < 2:
        return None
    return tokens[i].start, stop


def _noun_phrase_before(text: str, tokens: list[_Token], cue_first: int, before: int) -> tuple[int, int] | None:
    """The subject of the cue: the noun phrase or pronoun before it, up to a clause boundary."""
    anonymous = _anonymous_before(text, tokens, cue_first, before)
    if anonymous:
        return anonymous
    i = cue_first - 1
    while i >= 0 and tokens[i].lower in _BETWEEN:
        i -= 1
    if i < 0 or tokens[i].start < before:
        return None
    if tokens[i].lower in _PRONOUNS:
        return tokens[i].start, tokens[i].end
    if tokens[i].text == ",":
        return _apposition(text, tokens, i, before)
    last = i
    while i >= 0 and tokens[i].start >= before and len(range(i, last)) < 10:
        token = tokens[i]
        if not token.word and token.text not in {"-", "'", "’", "&", "."}:
            break
        if token.lower in _LEFT_STOPS and not (token.lower in _SETTING_PREPOSITIONS and tokens[i + 1].capitalised):
            break
        if token.lower in _VERB_KIND or (token.lower.endswith("ed") and not token.capitalised and i != last):
            break
        i -= 1
    first = i + 1
    while first <= last and (tokens[first].lower in _LEADING_PREPOSITIONS or not tokens[first].word):
        determiner = next((j for j in range(first + 1, last + 1) if tokens[j].lower in {"the", "a", "an"}), None)
        if determiner is None:
            return None
        first = determiner
    if first > last:
        return None
    return tokens[first].start, tokens[last].end


def _apposition(text: str, tokens: list[_Token], comma: int, before: int) -> tuple[int, int] | None:
    """``Name, the spokesperson for X, said``: the name with its apposition; ``The clinic's
    director, Dr. Sarah Ali, said``: the role with the name."""
    opening = next((j for j in range(comma - 1, max(comma - 12, -1), -1) if tokens[j].text == ","), None)
    if opening is None or opening == 0:
        return None
    inner = tokens[opening + 1:comma]
    named = len(inner) <= 6 and all(token.capitalised and token.word for token in inner)
    if named and not tokens[opening - 1].capitalised:  # the role a lower-case noun: not a list of names
        role = _noun_phrase_before(text, tokens, opening, before)
        return (role[0], tokens[comma - 1].end) if role else None
    if tokens[opening + 1].lower not in {"the", "a", "an", "who", "its", "his", "her"} \
            and tokens[opening + 1].lower not in _PERSON_WORDS:
        return None
    name_end = opening - 1
    name_start = name_end
    while name_start - 1 >= 0 and tokens[name_start - 1].capitalised and tokens[name_start - 1].word \
            and tokens[name_start - 1].start >= before:
        name_start -= 1
    if not tokens[name_end].capitalised or tokens[name_start].start < before:
        return None
    return tokens[name_start].start, tokens[comma - 1].end


def _anonymous_before(text: str, tokens: list[_Token], cue_first: int, before: int) -> tuple[int, int] | None:
    """"Officials who spoke on condition of anonymity", "a source close to Hamas": the whole phrase."""
    cue_start = tokens[cue_first].start
    clause_start = max([before] + [t.end for t in tokens[:cue_first] if t.text in {".", ";"} and t.start >= before])
    left = text[clause_start:cue_start]
    for match in _ANONYMOUS.finditer(left):
        opening = left.rfind(",", 0, match.start())
        if match.group().startswith(","):  # "One aid worker, who asked not to be named, said"
            phrase = left[opening + 1:]
            return clause_start + opening + 1 + len(phrase) - len(phrase.lstrip()), cue_start
        phrase_start = clause_start + (opening + 1 if opening >= 0 else 0)
        begin = re.search(r"\b(?:an?|the|some|several|two|three|other|senior|\w+)\s+(?:\w+\s+)?(?=" +
                          re.escape(match.group().split()[0]) + ")", text[phrase_start:clause_start + match.end()])
        if begin is not None:
            phrase_start += begin.start()
        return phrase_start, cue_start
    return None


def _noun_phrase_between(tokens: list[_Token], start: int, end: int) -> tuple[int, int] | None:
    inner = [t for t in tokens if start <= t.start and t.end <= end and t.word]
    return (inner[0].start, inner[-1].end) if inner else None


def _noun_phrase_after(tokens: list[_Token], i: int, after: int) -> tuple[int, int] | None:
    """The noun phrase after a cue ("according to the health ministry in Gaza"), to a clause boundary."""
    first = i
    while i < len(tokens) and tokens[i].start < after and len(range(first, i)) < 12:
        token = tokens[i]
        if not token.word and token.text not in {"-", "'", "’", "&"}:
            break
        if token.lower in _RIGHT_STOPS and i > first:
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if not (token.lower in _SETTING_PREPOSITIONS and following is not None and following.capitalised):
                break
        i += 1
    return (tokens[first].start, tokens[i - 1].end) if i > first else None


def _source_attributes(text: str, source: tuple[int, int], cue: _Cue) -> dict[str, str]:
    """source_kind and identification, where the source's words tell them."""
    phrase = text[source[0]:source[1]]
    words = re.findall(r"[\w-]+", phrase)
    lower = [w.lower() for w in words]
    # the head: before any apposition or prepositional phrase ("a spokesperson for the ministry")
    head_phrase = re.split(r",|\b(?:of|for|in|at|to|from|with|close)\b", phrase)[0]
    head_words = re.findall(r"[\w-]+", head_phrase) or words
    attributes: dict[str, str] = {}
    if _ANONYMOUS.search(phrase) or _BARE_SOURCES.match(phrase):
        attributes["identification"] = "anonymous"
        return attributes
    if lower == [lower[0]] and lower[0] in _PRONOUNS:
        if lower[0] in _PERSON_PRONOUNS:
            attributes["source_kind"] = "person"
        return attributes
    head_lower = {w.lower() for w in head_words}
    if cue.pattern == "as_reported_by" or head_lower & _MEDIA_WORDS:
        attributes["source_kind"] = "media_outlet"
    elif head_lower & _PERSON_WORDS:
        attributes["source_kind"] = "person"
    elif head_lower & _ORGANISATION_WORDS:
        attributes["source_kind"] = "organisation"
    elif head_lower & _GROUP_WORDS:
        attributes["source_kind"] = "unspecified_group"
    elif head_lower & _DOCUMENT_WORDS:
        attributes["source_kind"] = "document"
    elif len(head_words) >= 2 and all(w[:1].isupper() for w in head_words):
        attributes["source_kind"] = "person"  # a name: "Aslam Ghauri"
    elif set(lower) & _ORGANISATION_WORDS:
        attributes["source_kind"] = "organisation"
    head = head_words[-1]
    common_noun = head.lower() in _GROUP_WORDS | _PERSON_WORDS | _DOCUMENT_WORDS | {"the", "a", "an"}
    if head[:1].isupper() and (len(head_words) > 1 or not common_noun):  # not just capitalised to start a sentence
        attributes["identification"] = "named"
    elif head_words and head_words[0].lower() in {"the", "a", "an"} and head.lower() in _PERSON_WORDS | _ORGANISATION_WORDS:
        attributes["identification"] = "role_only"
    return attributes


# --- Urdu and Arabic -----------------------------------------------------------------------

_URDU_CUES = [
    (re.compile(r"اطلاعات کے مطابق"), "according_to", "none"),
    (re.compile(r"کی رپورٹ کے مطابق"), "as_reported_by", "before"),
    (re.compile(r"کے مطابق"), "according_to", "before"),
    (re.compile(r"نے\s+(?:[^\s،۔]+\s+){0,6}?(?:کہا|بتایا|دعویٰ کیا|اعلان کیا|مطالبہ کیا|تصدیق کی)(?:\s+کہ)?"), "reporting_verb", "ne"),
    (re.compile(r"(?:کہنا ہے کہ|کا کہنا تھا کہ)"), "reporting_verb", "before"),
]
_ARABIC_CUES = [
    (re.compile(r"وفق(?:ا|اً|ًا)\s+ل(?:ـ)?"), "according_to"),
    (re.compile(r"نقل(?:ا|اً|ًا)\s+عن"), "as_reported_by"),
    (re.compile(r"حسبما\s+(?:أفادت|أفاد|ذكرت|ذكر|أوردت|أورد)(?!\w)"), "as_reported_by"),
    (re.compile(r"(?<![\w])و?(?:قال|قالت|يقول|تقول|أضاف|أضافت|أكد|أكدت|أعلن|أعلنت|ذكر|ذكرت|أوضح|أوضحت|صرح|صرحت)(?![\w])"),
     "reporting_verb"),
]
_ARABIC_THAT = re.compile(r"(?<![\w])(?:إن|أن|بأن)(?![\w])")
_URDU_POSTPOSITIONS = {"کے", "کی", "کا", "نے", "میں", "سے", "کو", "پر", "اور"}
_URDU_THAT = re.compile(r"(?<![\w])کہ(?![\w])")
_ANONYMOUS_WORDS = re.compile(r"ذرائع|مصادر|مصدر")
_RTL_CLAUSE = "،,؛;:"


def _urdu_sentence(text: str, start: int, end: int, quotes) -> list[list[dict]]:
    attributions = []
    taken: list[tuple[int, int]] = []
    for pattern, cue_type, where in _URDU_CUES:
        for match in pattern.finditer(text, start, end):
            if any(t0 < match.end() and match.start() < t1 for t0, t1 in taken):
                continue
            taken.append((match.start(), match.end()))
            cue_start = match.start()
            if where == "ne":  # "SOURCE نے ... کہا کہ CONTENT": the cue is the verb, the source before نے
                verb = re.search(r"(?:کہا|بتایا|دعویٰ کیا|اعلان کیا|مطالبہ کیا|تصدیق کی)(?:\s+کہ)?$", match.group())
                cue_start = match.start() + verb.start()
                source = _words_before(text, start, match.start(), 6)
            else:
                source = _words_before(text, start, match.start(), 6) if where == "before" else None
            that = _URDU_THAT.search(text, cue_start, min(end, match.end() + 1))
            content_start = that.end() if that else match.end()
            attributions.append(_rtl_attribution(text, (cue_start, match.end()), cue_type, source,
                                                 (content_start, end), quotes))
    return attributions


def _arabic_sentence(text: str, start: int, end: int, quotes) -> list[list[dict]]:
    """Verb first, then its subject (the source), then إن / أن and the content."""
    matches = sorted(((match, cue_type) for pattern, cue_type in _ARABIC_CUES
                      for match in pattern.finditer(text, start, end)), key=lambda found: found[0].start())
    attributions = []
    for number, (match, cue_type) in enumerate(matches):
        # the next cue ends this one's content ("… ؛ وأضاف أن …")
        stop = matches[number + 1][0].start() if number + 1 < len(matches) else end
        cue_start = match.start() + (1 if match.group().startswith("و") and cue_type == "reporting_verb" else 0)
        that = _ARABIC_THAT.search(text, match.end(), stop)
        clause_end = min([i for i in (text.find(c, match.end(), stop) for c in _RTL_CLAUSE) if i >= 0] or [stop])
        # without إن / أن the verb's subject cannot be told from its object: take two words
        source = _words_after(text, match.end(), min(that.start() if that else stop, clause_end),
                              7 if that or cue_type != "reporting_verb" else 2)
        if cue_type == "reporting_verb" and source and re.match(r"\s*(?:في|على|إلى|خلال)(?!\w)", text[source[0]:]):
            source = None
        if that:
            content = (that.end(), stop)
        elif cue_type != "reporting_verb" and clause_end < stop:
            content = (clause_end + 1, stop)
        elif cue_type != "reporting_verb":  # "CONTENT، حسبما أفادت X": the sentence before the cue
            content = (start, match.start())
        else:
            content = (source[1] if source else match.end(), stop)
        attributions.append(_rtl_attribution(text, (cue_start, match.end()), cue_type, source, content, quotes))
    return attributions


def _rtl_attribution(text, cue, cue_type, source, content, quotes) -> list[dict]:
    attributes = {"cue_type": cue_type}
    if source and _ANONYMOUS_WORDS.search(text[source[0]:source[1]]):
        attributes["identification"] = "anonymous"
    if cue_type == "as_reported_by":
        attributes["source_kind"] = "media_outlet"
    if content and any(q0 <= content[0] and content[1] <= q1 for q0, q1 in quotes):
        attributes["quote_type"] = "direct"
    score = _SCORES["according_to" if cue_type != "reporting_verb" else "reporting_verb"] * 0.9
    spans = [dict(label="CUE", role="cue", start=cue[0], end=cue[1], score=score, attributes=attributes)]
    if source:
        spans.append(dict(label="SOURCE", role="source", start=source[0], end=source[1], score=score * 0.8))
    if content and _words_between(text, *content) >= 2:
        spans.append(dict(label="CONTENT", role="content", start=content[0], end=content[1], score=score * 0.8))
    return spans


def _rtl_clause_start(text: str, start: int, end: int) -> int:
    return max([start] + [text.rfind(c, start, end) + 1 for c in _RTL_CLAUSE if text.rfind(c, start, end) >= 0])


def _words_before(text: str, start: int, end: int, limit: int) -> tuple[int, int] | None:
    """Up to ``limit`` words ending at ``end``, not across a clause mark."""
    clause_start = _rtl_clause_start(text, start, end)
    words = list(re.finditer(r"\S+", text[clause_start:end]))[-limit:]
    while words and words[0].group() in _URDU_POSTPOSITIONS:  # "… کے ترجمان": the phrase starts after کے
        words.pop(0)
    return (clause_start + words[0].start(), clause_start + words[-1].end()) if words else None


def _words_after(text: str, start: int, end: int, limit: int) -> tuple[int, int] | None:
    words = list(re.finditer(r"\S+", text[start:end]))[:limit]
    return (start + words[0].start(), start + words[-1].end()) if words else None
