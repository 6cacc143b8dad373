"""Which way an article is read: right to left (Arabic, Urdu, Persian, Hebrew…) or left to right.

The text decides, not only its language tag: a text is right-to-left when most of its words
begin with a letter of a right-to-left script, so an Arabic article imported without a
language still reads right to left, and a Latin-script one tagged "ur" (Roman Urdu) left to
right. The language decides a tie, and a text without letters. static/annotate.js applies the
same rule to each paragraph (its RTL_LETTER is RTL_LETTER here). docs/annotation-ui.md,
"Right-to-left text".
"""

from __future__ import annotations

import re

# Languages written right to left (primary subtags).
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "pnb", "ps", "sd", "syr", "ug", "ur", "yi"})
LETTER = re.compile(r"[^\W\d_]")
# The blocks of the right-to-left scripts: Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan,
# Mandaic and their supplements; Hebrew and Arabic presentation forms; the historic RTL scripts
# of U+10800–U+10FFF; Mende Kikakui, Adlam and the Arabic mathematical letters.
RTL_LETTER = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\U00010800-\U00010fff\U0001e800-\U0001efff]")
# Enough words to tell, however long the article.
SAMPLE_WORDS = 2_000


def is_rtl_language(language: str | None) -> bool:
    return (language or "").split("-")[0].lower() in RTL_LANGUAGES


def text_direction(text: str, language: str | None = None) -> str:
    """"rtl" or "ltr": the direction of most of the text's words, else of its language."""
    rtl = ltr = 0
    for word in text.split(maxsplit=SAMPLE_WORDS)[:SAMPLE_WORDS]:
        letter = LETTER.search(word)
        if letter is None:
            continue
        if RTL_LETTER.match(letter.group()):
            rtl += 1
        else:
            ltr += 1
    if rtl == ltr:
        return "rtl" if is_rtl_language(language) else "ltr"
    return "rtl" if rtl > ltr else "ltr"


def isolate(text: str) -> str:
    """``text`` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: its own direction, and
    nothing around it reordered, where no element can do it (an <option>, a title, a dialog)."""
    return f"\u2068{text}\u2069"


# The bidirectional embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI):
# imports drop them (ingest.text.normalise) and names cannot hold them (printable only), but a
# comment, or a title stored before, can. docs/security.md, "Bidirectional controls".
BIDI_CONTROL_RANGE = "\u202a-\u202e\u2066-\u2069"
BIDI_CONTROLS = re.compile(f"[{BIDI_CONTROL_RANGE}]")


def bidi_controls_isolated(value):
    """Jinja's ``finalize`` for the pages and the HTML report: a value holding a bidirectional
    control is shown as an isolate of its own, so that its controls end with it and cannot
    reorder the page around it (UAX #9: a PDI closes whatever was opened inside its isolate).
    Markup (``__html__``) is the template's own, and is left as it is."""
    if isinstance(value, str) and not hasattr(value, "__html__") and BIDI_CONTROLS.search(value):
        # An isolate the value leaves open would take the closing PDI for its own: one more PDI
        # for each it opens (a PDI with nothing to close is ignored).
        return isolate(value + "\u2069" * sum(map(value.count, "\u2066\u2067\u2068")))
    return value
