"""Which way a text is read (annotator/direction.py), and the templates' isolate filter. The
pages themselves are checked in Chromium: tests/browser/test_rtl.py."""

from __future__ import annotations

import pytest
from flask import render_template_string

from annotator.direction import is_rtl_language, isolate, text_direction


@pytest.mark.parametrize(("text", "language", "direction"), [
    ("اے آر وائی نیوز کے مطابق وزیر اعظم نے کہا", "ur", "rtl"),
    ("اے آر وائی نیوز کے مطابق وزیر اعظم نے کہا", "en", "rtl"),  # imported without its language
    ("Reuters کی ایک رپورٹ کے مطابق قافلہ پہنچا", "ur", "rtl"),  # starting with a Latin name
    ("ARY News کے مطابق، Hamas نے کہا", None, "rtl"),  # most words
    ("Aap kaise hain? Main theek hoon.", "ur", "ltr"),  # Roman Urdu
    ("The situation is «كارثي», the UN chief said.", "ar", "ltr"),
    ("שלום Benjamin Netanyahu אמר", "he", "rtl"),  # a tie: the language decides
    ("שלום Benjamin Netanyahu אמר", "en", "ltr"),
    ("١٢٠٠ — 2024", "fa", "rtl"),  # no letters: the language decides
    ("١٢٠٠ — 2024", None, "ltr"),
    ("قُتِلوا ﷺ", None, "rtl"),  # harakat, a presentation form
])
def test_a_text_reads_the_way_most_of_its_words_do(text, language, direction):
    assert text_direction(text, language) == direction


def test_right_to_left_languages_by_their_primary_subtag():
    assert all(map(is_rtl_language, ["ur", "ar", "fa", "he", "ur-PK", "AR", "yi"]))
    assert not any(map(is_rtl_language, ["en", "de", "", None, "tr"]))


def test_the_isolate_filter_isolates_escaped_text_once(app):
    assert isolate("x") == "\u2068x\u2069"
    with app.test_request_context():
        shown = render_template_string("<option>1 · {{ title|isolate }} (4)</option>", title="<b>حماس</b>")
        assert shown == "<option>1 · \u2068&lt;b&gt;حماس&lt;/b&gt;\u2069 (4)</option>"
        # Controls of its own are closed inside the isolate, as those of every value are.
        opened = render_template_string("{{ title|isolate }} (4)", title="\u2067حماس")
        assert opened.endswith("\u2069 (4)") and opened.count("\u2069") >= opened.count("\u2068") + opened.count("\u2067")
