"""An article's language: given by the user, else declared by its source, else detected.

Stored per document as the primary subtag of a language tag ("ur", not "ur-PK"); it chooses
sentencex's segmentation rules, and the pages' text direction follows it.

1. A language the user gives (``--language``, the upload form's field) is used as given.
2. Else the one the source declares (``<html lang>``, a JSONL record's ``"language"``), when it is
   written in the script the text is mostly in: pages often keep a site template's ``lang="en"``
   around an Urdu article, and a declaration that contradicts the text is the thing that is wrong.
3. Else the one the text's script says (detect_language, on its first SAMPLE characters): most
   letters Arabic-script means Urdu if at least URDU_SHARE of them are letters only Urdu uses
   (ے ں ٹ ڈ ڑ ہ ھ), else Persian if as many are Persian letters Arabic lacks (پ چ ژ گ ک ی),
   else Arabic; most letters Hebrew means Hebrew; anything else is DEFAULT_LANGUAGE, "en".
   Other languages written in these scripts (Pashto, Sindhi, Kurdish, Yiddish) are told apart
   only when given or declared.
"""

from __future__ import annotations

import re

DEFAULT_LANGUAGE = "en"

_LANGUAGE_SUBTAG = re.compile(r"([A-Za-z]{2,3})(?![A-Za-z])")
# A BCP 47-like tag a user may give: a primary subtag, then subtags ("ur", "pa-Arab", "zh-Hant-TW").
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
LANGUAGE_TAG_MAX = 16  # documents.language's length

# The letters of the two scripts (their blocks but for marks, digits, punctuation and symbols),
# any letter, and any character of the right-to-left blocks (an article without one is "en").
_ARABIC_LETTER = re.compile("[\u0620-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06e5\u06e6\u06ee\u06ef\u06fa-\u06fc"
                            "\u06ff\u0750-\u077f\u0870-\u0887\u0889-\u088e\u08a0-\u08c9\ufb50-\ufbb1\ufbd3-\ufd3d"
                            "\ufd50-\ufd8f\ufd92-\ufdc7\ufdf0-\ufdfb\ufe70-\ufe74\ufe76-\ufefc]")
_HEBREW_LETTER = re.compile("[\u05d0-\u05ea\u05ef-\u05f2\ufb1d\ufb1f-\ufb28\ufb2a-\ufb36\ufb38-\ufb3c\ufb3e"
                            "\ufb40\ufb41\ufb43\ufb44\ufb46-\ufb4f]")
_LETTER = re.compile(r"[^\W\d_]")
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# Enough text to tell, however long the article.
SAMPLE = 20_000
# Yeh barree (also with hamza), noon ghunna, the retroflex tteh, ddal and rreh, heh goal (also
# with hamza) and heh doachashmee: in everyday Urdu text (کے ہے میں), in neither Arabic nor Persian.
_URDU_LETTERS = frozenset("ےۓںٹڈڑہۂھ")
# Peh, tcheh, jeh, gaf, keheh and Farsi yeh: Persian (and Urdu) letters Arabic does not have;
# Arabic writes ك and ي where Persian writes ک and ی.
_PERSIAN_LETTERS = frozenset("پچژگکی")
URDU_SHARE = PERSIAN_SHARE = 0.02

# Languages written in the two right-to-left scripts detected, by primary subtag; everything
# else counts as written in another script.
ARABIC_SCRIPT_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "sd", "ug", "ckb", "ks", "bal", "azb", "prs", "pnb", "skr"})
HEBREW_SCRIPT_LANGUAGES = frozenset({"he", "iw", "yi", "lad", "jrb"})

# Names shown beside the codes the forms offer.
LANGUAGE_NAMES = {"en": "English", "ur": "اردو", "ar": "العربية", "fa": "فارسی", "he": "עברית"}


def language_code(value: str | None) -> str:
    """Primary subtag of a language tag ("en-GB" -> "en"); "en" if unusable."""
    match = _LANGUAGE_SUBTAG.match((value or "").strip())
    return match.group(1).lower() if match else DEFAULT_LANGUAGE


def check_language(value: str) -> str:
    """The primary subtag of a language tag a user gave ("ur-PK" -> "ur"); ValueError, saying
    why, for anything else."""
    tag = value.strip()
    if len(tag) > LANGUAGE_TAG_MAX or not _LANGUAGE_TAG.fullmatch(tag):
        raise ValueError(f"{tag[:40]!r} is not a language code; give one such as ur, ar, fa, he or en")
    return language_code(tag)


def detect_language(text: str) -> str:
    """The language the letters of the start of the text say, by script (module doc)."""
    sample = text[:SAMPLE]
    if not _RIGHT_TO_LEFT.search(sample):
        return DEFAULT_LANGUAGE
    arabic = "".join(_ARABIC_LETTER.findall(sample))
    hebrew = len(_HEBREW_LETTER.findall(sample))
    other = len(_LETTER.findall(sample)) - len(arabic) - hebrew
    if hebrew > max(len(arabic), other):
        return "he"
    if len(arabic) <= max(hebrew, other):
        return DEFAULT_LANGUAGE
    if sum(map(arabic.count, _URDU_LETTERS)) >= URDU_SHARE * len(arabic):
        return "ur"
    if sum(map(arabic.count, _PERSIAN_LETTERS)) >= PERSIAN_SHARE * len(arabic):
        return "fa"
    return "ar"


def _script(language: str) -> str:
    if language in ARABIC_SCRIPT_LANGUAGES:
        return "arabic"
    return "hebrew" if language in HEBREW_SCRIPT_LANGUAGES else "other"


def article_language(text: str, declared: str | None = None, given: str | None = None) -> str:
    """The language of an article of ``text``: ``given`` by the user, else ``declared`` by the
    source if its script is the text's, else detected (module doc)."""
    if given:
        return check_language(given)
    detected = detect_language(text)
    if declared and _LANGUAGE_SUBTAG.match(declared.strip()):
        declared = language_code(declared)
        if _script(declared) == _script(detected):
            return declared
    return detected
