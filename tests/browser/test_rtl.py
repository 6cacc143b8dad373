"""Right-to-left articles (issue 16): Urdu, Arabic, Persian and Hebrew news mixed with Latin
names, digits and emoji, read and annotated as easily as English (docs/annotation-ui.md,
"Right-to-left text").

- direction: the article, its paragraphs and title read right to left, an English paragraph
  inside stays left to right, the reader can turn a document round; chips and labels are
  isolated so that they never reorder the sentence; lists show titles apart from their counts;
- joining: a span inside an Arabic-script word leaves its letters joined (the word is as wide
  as without the span);
- selection: mouse drags between character positions computed from the rendered text, and
  keyboard selections with the arrows of an RTL reader, store exactly the intended range
  (at least 50 cases across the four scripts);
- fonts: Debian's Noto Nastaliq Urdu, Naskh Arabic and Hebrew fonts draw the text;
- axe-core finds no violation on the RTL pages that the English page does not have;
- screenshots of each script before and after marking, for docs/screenshots/.
"""

from __future__ import annotations

import json
import shutil

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, REPO, SEED_TITLE, log_in, wait_saved
from .test_annotate_keys import assert_clean, open_by_id

pytestmark = pytest.mark.browser

PROJECT = "rtl"
# Short news articles written for these tests: the languages' own punctuation (۔ ، ؛ ؟),
# Latin names, European, Arabic-Indic and Extended Arabic-Indic digits, harakat, the
# zero-width non-joiner inside Urdu and Persian words, Hebrew gershayim, emoji.
ARTICLES = {
    "ur": {
        "title": "غزہ میں جنگ بندی کا مطالبہ: پاکستان کا ردعمل",
        "outlet": "اے آر وائی نیوز",
        "text": (
            "اے آر وائی نیوز کے مطابق وزیر اعظم Shehbaz Sharif نے غزہ میں فوری جنگ بندی کا مطالبہ کیا ہے۔ "
            "انہوں نے کہا کہ اب تک 1,200 سے زائد افراد ہلاک ہو چکے ہیں۔\n\n"
            "Reuters کی ایک رپورٹ کے مطابق امدادی قافلہ ۱۵ اکتوبر کو رفح پہنچا۔ "
            "ترجمان دفتر خارجہ Mumtaz Zahra Baloch نے کہا کہ پاکستان ہر ممکن مدد کرے گا 📺۔\n\n"
            "کیا عالمی برادری اب بھی خاموش رہے گی؟ سوشل میڈیا پر صارفین نے یہ سوال بار بار اٹھایا، "
            "اور کئی نے خوش\u200cآمدید کے بجائے احتجاج کا پیغام لکھا۔"
        ),
    },
    "ar": {
        "title": "حماس تطلب دعماً من باكستان",
        "outlet": "وكالة الأنباء",
        "text": (
            "قالت مصادر مقربة من حماس في غزة إن القائد محمد الضيف اتصل بـ Shehbaz Sharif يوم الأحد. "
            "وأضافت المصادر، وفقاً لوكالة Reuters، أن ١٢٠٠ شخص قُتِلوا منذ ٧ أكتوبر.\n\n"
            "هل سيتدخل المجتمع الدولي؟ قال الأمين العام للأمم المتحدة António Guterres إن الوضع «كارثي» 🚨؛ "
            "ودعا إلى وقف فوري لإطلاق النار.\n\n"
            "The situation in Gaza is catastrophic, the UN chief told reporters in New York."
        ),
    },
    "fa": {
        "title": "واکنش تهران به آتش\u200cبس در غزه",
        "outlet": "خبرگزاری ایرنا",
        "text": (
            "به گزارش خبرگزاری IRNA، سخنگوی وزارت خارجه می\u200cگوید که ایران از آتش\u200cبس حمایت می\u200cکند. "
            "او افزود که ۱۲۰۰ نفر در این درگیری\u200cها کشته شده\u200cاند.\n\n"
            "آیا سازمان ملل اقدام خواهد کرد؟ خبرنگار BBC Persian گزارش داد که کاروان\u200cهای کمک\u200cرسانی "
            "روز ۲۳ مهر به مرز رسیدند 🚚."
        ),
    },
    "he": {
        "title": "ראש הממשלה נפגש עם משלחת מ-Washington",
        "outlet": "הארץ",
        "text": (
            "לדברי כתב Haaretz, ראש הממשלה Benjamin Netanyahu נפגש ביום ראשון עם שר החוץ האמריקאי. "
            "בפגישה, שנמשכה 3 שעות, נדונה עסקת החטופים.\n\n"
            "דובר צה״ל אמר כי 1,200 בני אדם נהרגו ב-7 באוקטובר 🕯️. האם תושג הפסקת אש בקרוב?"
        ),
    },
}
# Mouse drags: the context locates them in the text; the drag goes from the character after ⟦
# to the one before ⟧ (pointing at each on its side that comes first, or last, in reading
# order), and the span stored must be `expected` (the selection snaps to whole words, without
# spaces or punctuation at its ends).
MOUSE = {
    "ur": [
        ("⟦اے آر وائی نیوز⟧", "اے آر وائی نیوز"),  # the sentence's first words
        ("⟦مطالبہ کیا ہے⟧۔", "مطالبہ کیا ہے"),  # its last words
        ("مطالبہ ⟦کیا ہے۔⟧", "کیا ہے"),  # the full stop ۔ left out
        ("وزیر ⟦اعظم Shehbaz Sharif نے⟧", "اعظم Shehbaz Sharif نے"),  # across a Latin name
        ("⟦Mumtaz Zahra Baloch⟧", "Mumtaz Zahra Baloch"),  # the Latin name alone
        ("⟦Reuters کی ایک رپورٹ⟧", "Reuters کی ایک رپورٹ"),  # a sentence starting with a Latin name
        ("⟦1,200 سے زائد افراد⟧", "1,200 سے زائد افراد"),  # European digits
        ("قافلہ ⟦۱۵ اکتوبر⟧", "۱۵ اکتوبر"),  # Extended Arabic-Indic digits
        ("⟦جنگ بندی کا مطالبہ کیا ہے۔ انہوں نے⟧", "جنگ بندی کا مطالبہ کیا ہے۔ انہوں نے"),  # across sentences
        ("برا⟦دری اب بھی خام⟧وش", "برادری اب بھی خاموش"),  # from inside a word to inside another
        ("کئی نے خو⟦ش\u200cآمد⟧ید", "خوش\u200cآمدید"),  # a word with a zero-width non-joiner
        ("⟦مدد کرے گا 📺⟧۔", "مدد کرے گا"),  # an emoji left out
        ("⟦عالمی برادری اب بھی خاموش رہے گی؟⟧", "عالمی برادری اب بھی خاموش رہے گی"),  # the question mark ؟ left out
        ("⟦بار بار اٹھایا، اور کئی⟧", "بار بار اٹھایا، اور کئی"),  # the Arabic comma kept inside
    ],
    "ar": [
        ("⟦قالت مصادر مقربة⟧", "قالت مصادر مقربة"),
        ("⟦يوم الأحد.⟧", "يوم الأحد"),
        ("⟦اتصل بـ Shehbaz Sharif⟧", "اتصل بـ Shehbaz Sharif"),  # a tatweel, then a Latin name
        ("⟦Shehbaz Sharif يوم⟧", "Shehbaz Sharif يوم"),
        ("⟦١٢٠٠ شخص قُتِلوا⟧", "١٢٠٠ شخص قُتِلوا"),  # Arabic-Indic digits, harakat
        ("شخص قُ⟦تِلو⟧ا", "قُتِلوا"),  # inside a word with harakat
        ("⟦وفقاً لوكالة Reuters⟧،", "وفقاً لوكالة Reuters"),
        ("⟦المجتمع الدولي؟⟧", "المجتمع الدولي"),
        ("⟦«كارثي» 🚨؛ ودعا⟧", "كارثي» 🚨؛ ودعا"),  # punctuation and an emoji inside kept, the first « left out
        ("⟦الدولي؟ قال الأمين⟧", "الدولي؟ قال الأمين"),  # across sentences
        ("⟦The situation in Gaza⟧", "The situation in Gaza"),  # the English paragraph
    ],
    "fa": [
        ("⟦به گزارش خبرگزاری IRNA⟧،", "به گزارش خبرگزاری IRNA"),
        ("می\u200c⟦گوید که⟧", "می\u200cگوید که"),  # from after a zero-width non-joiner inside a word
        ("⟦حمایت می\u200cکند.⟧", "حمایت می\u200cکند"),
        ("⟦۱۲۰۰ نفر⟧", "۱۲۰۰ نفر"),
        ("⟦درگیری\u200cها کشته شده\u200cاند⟧.", "درگیری\u200cها کشته شده\u200cاند"),
        ("⟦BBC Persian گزارش داد⟧", "BBC Persian گزارش داد"),
        ("⟦خبرنگار BBC Persian⟧", "خبرنگار BBC Persian"),
        ("⟦آیا سازمان ملل اقدام خواهد کرد؟⟧", "آیا سازمان ملل اقدام خواهد کرد"),
        ("⟦رسیدند 🚚.⟧", "رسیدند"),
        ("کاروان\u200cه⟦ای کمک\u200cرس⟧انی", "کاروان\u200cهای کمک\u200cرسانی"),
    ],
    "he": [
        ("⟦לדברי כתב Haaretz⟧,", "לדברי כתב Haaretz"),
        ("⟦Benjamin Netanyahu⟧", "Benjamin Netanyahu"),
        ("⟦הממשלה Benjamin Netanyahu נפגש⟧", "הממשלה Benjamin Netanyahu נפגש"),
        ("⟦שר החוץ האמריקאי.⟧", "שר החוץ האמריקאי"),
        ("⟦שנמשכה 3 שעות⟧", "שנמשכה 3 שעות"),
        ("⟦דובר צה״ל אמר⟧", "דובר צה״ל אמר"),
        ("צ⟦ה⟧״ל", "צה״ל"),  # inside an acronym with gershayim
        ("⟦1,200 בני אדם⟧", "1,200 בני אדם"),
        ("⟦נהרגו ב-7 באוקטובר 🕯️.⟧", "נהרגו ב-7 באוקטובר"),
        ("⟦האמריקאי. בפגישה⟧", "האמריקאי. בפגישה"),  # across sentences
    ],
}
# Keyboard selections: a click on the character after ⟦ (the word caret goes to its word),
# then the keys; in right-to-left text ← goes forwards in reading order, → backwards.
FWD, BACK = "Shift+ArrowLeft", "Shift+ArrowRight"
KEYBOARD = {
    "ur": [
        ("⟦اے آر", [FWD] * 4, "اے آر وائی نیوز"),
        ("⟦اے آر", ["End", BACK, BACK], "کیا ہے"),
        ("⟦وزیر", [FWD] * 4, "وزیر اعظم Shehbaz Sharif"),
        ("⟦نے کہا کہ پاکستان", [BACK] * 3, "Zahra Baloch نے"),
        ("⟦انہوں", ["Shift+End"], "انہوں نے کہا کہ اب تک 1,200 سے زائد افراد ہلاک ہو چکے ہیں"),
        ("⟦Reuters", ["ArrowLeft", "ArrowLeft", FWD, FWD], "ایک رپورٹ"),
        ("⟦پاکستان ہر", ["Control+Shift+ArrowLeft"] * 4, "پاکستان ہر ممکن مدد"),
        ("⟦خوش", [FWD] * 2, "خوش\u200cآمدید کے"),
        ("⟦کیا عالمی", ["End", "Shift+Home"], "کیا عالمی برادری اب بھی خاموش رہے گی"),
    ],
    "ar": [
        ("⟦قالت", [FWD] * 3, "قالت مصادر مقربة"),
        ("⟦محمد الضيف", [FWD] * 4, "محمد الضيف اتصل بـ"),
        ("⟦اتصل", [FWD] * 4, "اتصل بـ Shehbaz Sharif"),
        ("⟦وأضافت", ["Shift+End"], "وأضافت المصادر، وفقاً لوكالة Reuters، أن ١٢٠٠ شخص قُتِلوا منذ ٧ أكتوبر"),
        ("⟦إن الوضع", ["ArrowLeft", FWD, FWD], "الوضع «كارثي"),
        ("⟦الدولي", ["Home", "Control+Shift+ArrowLeft", "Control+Shift+ArrowLeft"], "هل سيتدخل"),
        ("⟦النار", [BACK] * 3, "فوري لإطلاق النار"),
        ("⟦The situation", ["Shift+ArrowRight"] * 4, "The situation in Gaza"),  # left to right: → goes forwards
    ],
    "fa": [
        ("⟦سخنگوی", [FWD] * 3, "سخنگوی وزارت خارجه"),
        ("⟦می\u200cگوید", [FWD] * 2, "می\u200cگوید که"),
        ("⟦او افزود", ["Shift+End"], "او افزود که ۱۲۰۰ نفر در این درگیری\u200cها کشته شده\u200cاند"),
        ("⟦خبرنگار", ["ArrowLeft", FWD, FWD], "BBC Persian"),
        ("⟦مرز", [BACK] * 3, "مهر به مرز"),
    ],
    "he": [
        ("⟦לדברי", [FWD] * 3, "לדברי כתב Haaretz"),
        ("⟦דובר", [FWD] * 2, "דובר צה״ל"),
        ("⟦נהרגו", [FWD] * 2, "נהרגו ב-7"),
        ("⟦בפגישה", ["Shift+End"], "בפגישה, שנמשכה 3 שעות, נדונה עסקת החטופים"),
        ("⟦Netanyahu", [BACK] * 3, "הממשלה Benjamin Netanyahu"),
        ("⟦בקרוב", ["Home", "Shift+End"], "האם תושג הפסקת אש בקרוב"),
        ("⟦ראש הממשלה Benjamin", ["Control+ArrowLeft", "Control+Shift+ArrowLeft", "Control+Shift+ArrowLeft"], "הממשלה Benjamin"),
    ],
}
# A point inside the character at UTF-16 offset `at` of the article: on the side where it
# starts in reading order ("start": the right side of a right-to-left letter) or ends ("end").
_POINT = """([at, size, side]) => {
  const walker = document.createTreeWalker(document.querySelector('#doc'), NodeFilter.SHOW_TEXT);
  let node = walker.nextNode(), seen = 0;
  while (at >= seen + node.data.length) { seen += node.data.length; node = walker.nextNode(); }
  const range = document.createRange();
  range.setStart(node, at - seen);
  range.setEnd(node, at - seen + size);
  const r = range.getBoundingClientRect(), ch = range.toString(), q = r.width / 4;
  const letter = /\\p{L}/u.test(ch), rtl = letter && /[\\u0590-\\u08ff\\ufb1d-\\ufdff\\ufe70-\\ufefe]/.test(ch);  // digits go left to right
  const first = rtl ? r.right - q : r.left + q, last = rtl ? r.left + q : r.right - q;
  return {x: side === 'start' ? first : last, y: r.top + r.height / 2};
}"""


def utf16(text: str, at: int) -> int:
    return len(text[:at].encode("utf-16-le")) // 2


def locate(text: str, context: str) -> tuple[int, int, int]:
    """The code-point offsets of the context's ⟦ and ⟧ marks in the text (⟧ may be absent),
    and where the context starts."""
    plain = context.replace("⟦", "").replace("⟧", "")
    assert text.count(plain) == 1, f"{plain!r} is not in the article exactly once"
    at = text.index(plain)
    start = at + context.index("⟦")
    end = at + context.index("⟧") - 2 if "⟧" in context else start  # (⟦ comes before it)
    return start, end, at


def point(page, text: str, at: int, side: str) -> dict:
    return page.evaluate(_POINT, [utf16(text, at), len(text[at].encode("utf-16-le")) // 2, side])


def scroll_to(page, text: str, at: int) -> None:
    page.evaluate("""at => {
      const walker = document.createTreeWalker(document.querySelector('#doc'), NodeFilter.SHOW_TEXT);
      let node = walker.nextNode(), seen = 0;
      while (at >= seen + node.data.length) { seen += node.data.length; node = walker.nextNode(); }
      node.parentElement.scrollIntoView({block: 'center'});
    }""", utf16(text, at))


def drag(page, text: str, first: int, last: int) -> None:
    """The mouse from character `first` to character `last` (code points), as a reader drags:
    from inside the first character to inside the last, on their sides towards the middle of
    the selection, so inside the first and last words (none is a single character). A
    character's outer edge can be where a right-to-left run meets a left-to-right one (a Latin
    name, a number), and there a point is no one place in the text: the browser may take it for
    the end of one run or the start of the other (docs/annotation-ui.md)."""
    scroll_to(page, text, first)
    a, b = point(page, text, first, "end"), point(page, text, last, "start")
    page.mouse.move(a["x"], a["y"])
    page.mouse.down()
    page.mouse.move((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2, steps=3)
    page.mouse.move(b["x"], b["y"], steps=3)
    page.mouse.up()


def click(page, text: str, at: int) -> None:
    """A click on character `at`: the word caret goes to its word."""
    scroll_to(page, text, at)
    where = point(page, text, at, "end")  # inside its word (see drag)
    page.mouse.click(where["x"], where["y"])


@pytest.fixture(scope="module")
def rtl_documents(live_server, tmp_path_factory) -> dict[str, dict]:
    """The four articles, imported by the real command into a project of their own, each
    with its language; by language: id, text and the rest of its row."""
    path = tmp_path_factory.mktemp("rtl") / "rtl.jsonl"
    path.write_text("".join(json.dumps({**article, "language": language}, ensure_ascii=False) + "\n"
                            for language, article in ARTICLES.items()), encoding="utf-8")
    live_server.cli("import", str(path), "--project", PROJECT)
    documents = {}
    for language, article in ARTICLES.items():
        [row] = live_server.rows("SELECT id, title, text, language FROM documents WHERE title = :title", title=article["title"])
        assert (row["text"], row["language"]) == (article["text"], language)
        documents[language] = row
    return documents


_users = iter(range(1, 1000))


@pytest.fixture
def rtl_annotator(live_server, rtl_documents):
    """A fresh annotator, assigned the four articles."""
    def make() -> str:
        name = f"rtl_reader{next(_users)}"
        live_server.cli("users", "add", name, "--role", "annotator", "--password-stdin", stdin=PASSWORD + "\n")
        live_server.cli("assign", "--project", PROJECT, "--user", name)
        return name
    return make


def spans_of(live_server, username: str, document_id: int) -> list[dict]:
    return live_server.rows(
        'SELECT s.id, s.label, s.start, s."end", s.text FROM spans s JOIN users u ON u.id = s.user_id '
        "WHERE u.username = :name AND s.document_id = :document ORDER BY s.id", name=username, document=document_id)


def mark_and_undo(page, live_server, username: str, document_id: int) -> tuple | str:
    """Mark the selection SOURCE, read the span stored, undo it: (start, end, text), or what went wrong."""
    selected = page.locator("#sel-info bdi")
    if selected.count() != 1:
        return f"nothing selected ({page.locator('#sel-info').inner_text()!r})"
    page.keyboard.press("s")
    wait_saved(page)
    stored = spans_of(live_server, username, document_id)
    page.keyboard.press("z")
    wait_saved(page)
    assert spans_of(live_server, username, document_id) == [], "undo did not delete the span"
    if len(stored) != 1:
        return f"{len(stored)} spans stored"
    return stored[0]["start"], stored[0]["end"], stored[0]["text"]


def test_there_are_at_least_fifty_selection_cases():
    assert sum(len(MOUSE[language]) + len(KEYBOARD[language]) for language in ARTICLES) >= 50


@pytest.mark.parametrize("language", list(ARTICLES))
def test_mouse_and_keyboard_selections_store_exactly_the_intended_range(live_server, new_context, rtl_documents,
                                                                      rtl_annotator, language):
    document, user = rtl_documents[language], rtl_annotator()
    text = document["text"]
    page = log_in(new_context(), user)
    open_by_id(page, document["id"])
    cases = [(context, None, expected) for context, expected in MOUSE[language]] + KEYBOARD[language]
    wrong = []
    for context, keys, expected in cases:
        first, last, at = locate(text, context)
        if keys is None:
            drag(page, text, first, last)
        else:
            click(page, text, first)
            for key in keys:
                page.keyboard.press(key)
        plain = context.replace("⟦", "").replace("⟧", "")
        start = at + plain.index(expected) if expected in plain else text.index(expected)
        assert expected in plain or text.count(expected) == 1, expected
        stored = mark_and_undo(page, live_server, user, document["id"])
        if stored != (start, start + len(expected), expected):
            wrong.append(f"{'mouse' if keys is None else ' '.join(keys)} over {context!r}: "
                         f"wanted {(start, start + len(expected), expected)}, got {stored}")
    assert wrong == [], f"{len(wrong)} of {len(cases)} selections stored another range:\n" + "\n".join(wrong)
    assert_clean(page)


_RECT = """([at, size]) => {  // the text may be cut into several text nodes (the segments of spans)
  const walker = document.createTreeWalker(document.querySelector('#doc'), NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let node = walker.nextNode(), seen = 0;
  while (at >= seen + node.data.length) { seen += node.data.length; node = walker.nextNode(); }
  range.setStart(node, at - seen);
  while (at + size > seen + node.data.length) { seen += node.data.length; node = walker.nextNode(); }
  range.setEnd(node, at + size - seen);
  const r = range.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width};
}"""


def rect(page, text: str, what: str, skip: int = 0, size: int | None = None) -> dict:
    """Where the article shows `what` (its first occurrence), or `size` characters of it after `skip`."""
    at = text.index(what) + skip
    part = text[at:at + (len(what) - skip if size is None else size)]
    return page.evaluate(_RECT, [utf16(text, at), len(part.encode("utf-16-le")) // 2])


def computed(page, selector: str, prop: str) -> str:
    return page.evaluate("([s, p]) => getComputedStyle(document.querySelector(s)).getPropertyValue(p)", [selector, prop])


def test_rtl_articles_read_right_to_left_with_tags_isolated_and_names_in_order(live_server, new_context, rtl_documents,
                                                                             rtl_annotator):
    user = rtl_annotator()
    page = log_in(new_context(), user)
    ur, ar = rtl_documents["ur"], rtl_documents["ar"]

    # The Urdu article, its title and every paragraph, the one starting with "Reuters" too,
    # read right to left: the first word at the right edge, the full stop ۔ at the left end.
    open_by_id(page, ur["id"])
    text = ur["text"]
    assert computed(page, "#doc", "direction") == "rtl" and computed(page, "#ann-title", "direction") == "rtl"
    assert page.evaluate("() => [...document.querySelectorAll('#doc .para')].map(p => getComputedStyle(p).direction)") == ["rtl"] * 3
    assert page.evaluate("() => [...document.querySelectorAll('#doc .chunk')].map(c => c.lang)") == ["ur"]
    para = page.locator("#doc .para").first.bounding_box()
    assert para["x"] + para["width"] - rect(page, text, "اے")["right"] < 12  # the padding of the current sentence's box
    assert rect(page, text, "ہے۔", skip=2)["right"] <= rect(page, text, "ہے۔", size=2)["left"] + 1  # ۔ left of ہے, at the end
    # Latin names and numbers keep their order inside the right-to-left text.
    assert rect(page, text, "Shehbaz")["right"] <= rect(page, text, "Sharif")["left"]
    assert rect(page, text, "اعظم")["left"] >= rect(page, text, "Sharif")["right"] - 1  # before the name: right of it
    assert rect(page, text, "نے غزہ", size=2)["right"] <= rect(page, text, "Shehbaz")["left"] + 1  # after it: left of it
    assert rect(page, text, "1,200", size=1)["left"] < rect(page, text, "1,200", skip=4)["left"]

    # Marked, the source at the start of the sentence stays where a reader starts: the tag
    # (isolated) right of its first word, not pulled to the far left by its English label.
    select = lambda what: drag(page, text, text.index(what), text.index(what) + len(what) - 1)  # noqa: E731
    select("اے آر وائی نیوز")
    page.keyboard.press("s")
    select("Mumtaz Zahra Baloch")
    page.keyboard.press("s")
    wait_saved(page)
    tags = page.locator("#doc .tag")
    expect(tags).to_have_count(2)
    for i in range(2):
        assert tags.nth(i).evaluate("t => getComputedStyle(t).unicodeBidi") == "isolate"
    source_tag, name_tag = tags.nth(0).bounding_box(), tags.nth(1).bounding_box()
    assert rect(page, text, "اے")["right"] <= source_tag["x"] + 1 and source_tag["x"] + source_tag["width"] <= para["x"] + para["width"]
    # The Latin name is read as one run: its tag comes before it in reading order, at its right.
    assert rect(page, text, "Baloch")["right"] <= name_tag["x"] + 1 < rect(page, text, "خارجہ")["left"]
    # The side panel quotes the span isolated in English text, in the document's language.
    expect(page.locator("#sent-spans .quote bdi").first).to_have_attribute("lang", "ur")

    # The Arabic article's English paragraph reads left to right: its paragraph is its own.
    open_by_id(page, ar["id"])
    directions = page.evaluate("() => [...document.querySelectorAll('#doc .para')].map(p => [p.dir, getComputedStyle(p).direction])")
    assert directions == [["", "rtl"], ["", "rtl"], ["ltr", "ltr"]]
    # The English seed article stays left to right.
    seed = live_server.rows("SELECT id FROM documents WHERE title = :t", t=SEED_TITLE)[0]["id"]
    live_server.cli("assign", "--project", "default", "--user", user)
    open_by_id(page, seed)
    assert computed(page, "#doc", "direction") == "ltr"
    expect(page.locator("#text-dir")).to_be_hidden()  # nothing in it to read the other way
    assert_clean(page)


def test_a_reader_turns_a_document_round_and_the_arrows_follow(live_server, new_context, rtl_documents, rtl_annotator):
    user = rtl_annotator()
    page = log_in(new_context(), user)
    document = rtl_documents["he"]
    open_by_id(page, document["id"])
    button = page.locator("#text-dir")
    expect(button).to_have_text("Text: right to left")
    click(page, document["text"], document["text"].index("לדברי"))
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("#sel-info bdi")).to_have_text("לדברי כתב")
    expect(page.locator("#sel-info")).to_contain_text("Selected")

    # Turned round: left to right, kept for this document after a reload; → goes forwards now.
    button.click()
    expect(button).to_have_text("Text: left to right")
    assert computed(page, "#doc", "direction") == "ltr" and computed(page, "#ann-title", "direction") == "ltr"
    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    expect(button).to_have_text("Text: left to right")
    assert computed(page, "#doc .para", "direction") == "ltr"
    page.keyboard.press("Escape")
    expect(page.locator("#sel-info")).to_contain_text("Shift+→")
    click(page, document["text"], document["text"].index("לדברי"))
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#sel-info bdi")).to_have_text("לדברי כתב")
    # Only that document: the Urdu one still reads right to left. Back again: the text decides.
    open_by_id(page, rtl_documents["ur"]["id"])
    assert computed(page, "#doc", "direction") == "rtl"
    open_by_id(page, document["id"])
    page.locator("#text-dir").click()
    expect(page.locator("#text-dir")).to_have_text("Text: right to left")
    assert page.evaluate(f"() => localStorage.getItem('annotator:dir:{document['id']}')") is None
    assert_clean(page)


def add_span(live_server, username: str, document_id: int, start: int, end: int, label: str = "SOURCE") -> None:
    """A span stored as an import or another tool might leave it (the page snaps to whole words)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from annotator.models import Document, Span, User

    engine = sa.create_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            user = session.scalar(sa.select(User).where(User.username == username))
            document = session.get(Document, document_id)
            sentence = next(s for s in document.sentences if s.start <= start < s.end)
            session.add(Span(user_id=user.id, document_id=document_id, sentence_id=sentence.id, layer="attribution",
                             label=label, start=start, end=end, text=document.text[start:end], attributes={}))
            session.commit()
    finally:
        engine.dispose()


def test_a_span_inside_or_next_to_an_arabic_word_keeps_its_letters_joined(live_server, new_context, rtl_documents,
                                                                          rtl_annotator):
    """Joined letters are narrower than the same letters apart: each word is as wide with a span
    starting, ending or lying inside it as without (an isolate, a padding-free inline label or
    any break of the shaping would widen it by a letter's width or more)."""
    user = rtl_annotator()
    page = log_in(new_context(), user)
    document = rtl_documents["ar"]
    text = document["text"]
    # word: (span start, span end) in it: لوكالة → وكالة Reuters (the preposition ل left out),
    # الضيف → محمد الضي (ending inside), قُتِلوا → تِلو (inside, between harakat), مقربة next to a span.
    spans = {"لوكالة": ("وكالة Reuters", 1), "الضيف": ("محمد الضي", None), "قُتِلوا": ("تِلو", 2), "مقربة": ("مصادر", None)}
    open_by_id(page, document["id"])
    before = {word: rect(page, text, word)["width"] for word in spans}
    for word, (marked, _) in spans.items():
        start = text.index(marked)
        add_span(live_server, user, document["id"], start, start + len(marked))
    page.reload()
    expect(page.locator("#annotate")).to_have_attribute("data-decorated", "true")
    expect(page.locator("#doc .tag")).to_have_count(4)
    after = {word: rect(page, text, word)["width"] for word in spans}
    assert after == pytest.approx(before, abs=0.5)
    # The tags of the spans starting inside a word are raised above it, the others isolated.
    inside = page.locator("#doc .tag.in-word")
    expect(inside).to_have_count(2)
    assert inside.evaluate_all("ts => ts.map(t => [getComputedStyle(t).unicodeBidi, getComputedStyle(t, '::before').position])") == [
        ["normal", "absolute"]] * 2
    expect(page.locator("#doc .tag:not(.in-word)")).to_have_count(2)
    assert_clean(page)


# The font each script is drawn in (Debian's fonts-noto-core, fonts-noto-color-emoji): the
# article's sentence holding `sample`, and the family most of its glyphs must come from.
FONTS = {"ur": ("اے آر وائی نیوز", "Noto Nastaliq Urdu"), "ar": ("قالت مصادر", "Noto Naskh Arabic"),
         "fa": ("به گزارش", "Noto Naskh Arabic"), "he": ("לדברי כתב", "Noto Serif Hebrew")}
EMOJI = {"ur": "📺", "ar": "🚨", "fa": "🚚", "he": "🕯️"}
LATIN = {"ur": "Shehbaz", "ar": "Shehbaz", "fa": "IRNA", "he": "Benjamin"}


def platform_fonts(page, selector: str) -> dict[str, int]:
    """The fonts Chromium drew the element's text in, with their glyph counts (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        cdp.send("CSS.enable")
        return {font["familyName"]: font["glyphCount"] for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]}
    finally:
        cdp.detach()


@pytest.mark.parametrize("language", list(ARTICLES))
def test_each_script_is_drawn_in_its_noto_font_latin_names_and_emoji_in_theirs(live_server, new_context, rtl_documents,
                                                                               rtl_annotator, language):
    page = log_in(new_context(), rtl_annotator())
    document = rtl_documents[language]
    open_by_id(page, document["id"])
    sample, family = FONTS[language]
    sentence = page.locator("#doc .sent", has_text=sample).get_attribute("id")
    fonts = platform_fonts(page, f"#{sentence}")
    assert max(fonts, key=fonts.get) == family, fonts
    emoji = page.locator("#doc .sent", has_text=EMOJI[language]).get_attribute("id")
    assert "Noto Color Emoji" in platform_fonts(page, f"#{emoji}")
    # The title, in the page's sans-serif style: Urdu in Nastaliq still, the others' sans fonts.
    title_family = {"ur": "Noto Nastaliq Urdu", "ar": "Noto Sans Arabic", "fa": "Noto Sans Arabic", "he": "Noto Sans Hebrew"}
    title = platform_fonts(page, "#ann-title span")
    assert max(title, key=title.get) == title_family[language], title
    # Latin names in a right-to-left sentence keep the article's Latin font.
    latin = page.locator("#doc .sent", has_text=LATIN[language]).get_attribute("id")
    assert "Liberation Serif" in platform_fonts(page, f"#{latin}")
    assert_clean(page)


def axe_violations(page) -> dict[str, list[str]]:
    """axe-core's violations on the page: rule id → the elements concerned."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return {rule["id"]: [" ".join(node["target"]) for node in rule["nodes"]] for rule in found}


def test_axe_finds_no_violation_on_rtl_pages_that_the_english_page_lacks(live_server, new_context, rtl_documents,
                                                                         rtl_annotator):
    user = rtl_annotator()
    live_server.cli("assign", "--project", "default", "--user", user)
    page = log_in(new_context(), user)
    seed = live_server.rows("SELECT id, text FROM documents WHERE title = :t", t=SEED_TITLE)[0]
    # Each page as annotators use it: a span marked, its panel open.
    found = {}
    for name, document, words in [("en", seed, "ARY News"), *((language, rtl_documents[language], FONTS[language][0])
                                                              for language in ARTICLES)]:
        open_by_id(page, document["id"])
        text = document["text"]
        drag(page, text, text.index(words), text.index(words) + len(words) - 1)
        page.keyboard.press("s")
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_visible()
        wait_saved(page)
        found[name] = axe_violations(page)
    english = found.pop("en")
    new = {name: {rule: nodes for rule, nodes in rules.items() if rule not in english} for name, rules in found.items()}
    assert new == {language: {} for language in ARTICLES}, f"on the English page: {english}"
    assert_clean(page)


# What the screenshots mark, as an annotator would: (label key, the words between ⟦ and ⟧).
MARKS = {
    "ur": [("s", "⟦اے آر وائی نیوز⟧"), ("c", "⟦کے مطابق⟧ وزیر"), ("t", "⟦غزہ میں فوری جنگ بندی کا مطالبہ⟧"),
           ("s", "⟦ترجمان دفتر خارجہ Mumtaz Zahra Baloch⟧"), ("c", "Baloch ⟦نے کہا⟧"), ("t", "⟦پاکستان ہر ممکن مدد کرے گا⟧")],
    "ar": [("c", "⟦قالت⟧"), ("s", "⟦مصادر مقربة من حماس في غزة⟧"), ("t", "⟦القائد محمد الضيف اتصل بـ Shehbaz Sharif يوم الأحد⟧"),
           ("c", "⟦قال⟧ الأمين"), ("s", "⟦الأمين العام للأمم المتحدة António Guterres⟧"), ("t", "⟦الوضع «كارثي⟧")],
    "fa": [("c", "⟦به گزارش⟧"), ("s", "⟦خبرگزاری IRNA⟧"), ("t", "⟦ایران از آتش\u200cبس حمایت می\u200cکند⟧"),
           ("s", "⟦خبرنگار BBC Persian⟧"), ("c", "⟦گزارش داد⟧")],
    "he": [("c", "⟦לדברי⟧"), ("s", "⟦כתב Haaretz⟧"), ("s", "⟦דובר צה״ל⟧"), ("c", "⟦אמר⟧ כי"), ("t", "⟦1,200 בני אדם נהרגו ב-7 באוקטובר⟧")],
}
LABELS = {"s": "SOURCE", "c": "CUE", "t": "CONTENT"}


@pytest.mark.parametrize("language", list(ARTICLES))
def test_screenshots_of_each_script_before_and_after_marking(live_server, new_context, rtl_documents, rtl_annotator,
                                                             language, tmp_path):
    """docs/screenshots/rtl-<language>-before.png and -after.png, for docs/annotation-ui.md and README."""
    user = rtl_annotator()
    document = rtl_documents[language]
    text = document["text"]
    page = log_in(new_context(), user)
    open_by_id(page, document["id"])
    shots = REPO / "docs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=tmp_path / name, clip={"x": 0, "y": 0, "width": 1360, "height": 660})
        shutil.copy(tmp_path / name, shots / name)

    shoot(f"rtl-{language}-before.png")
    if language == "ar":  # a source inside a word too: لوكالة, the preposition ل left out (its tag raised above)
        start = text.index("وكالة Reuters")
        add_span(live_server, user, document["id"], start, start + len("وكالة Reuters"))
        page.reload()
        expect(page.locator("#annotate")).to_have_attribute("data-ready", "true")
    marked = set()
    for key, context in MARKS[language]:
        first, last, _ = locate(text, context)
        drag(page, text, first, last)
        expect(page.locator("#sel-info bdi")).to_have_text(text[first:last + 1])
        page.keyboard.press(key)
        marked.add((LABELS[key], text[first:last + 1]))
    wait_saved(page)
    assert marked <= {(row["label"], row["text"]) for row in spans_of(live_server, user, document["id"])}
    page.locator("#doc .tag").first.click()
    expect(page.locator("#panel")).to_be_visible()
    shoot(f"rtl-{language}-after.png")
    assert_clean(page)


def direction_of(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).direction")


def test_every_page_showing_article_text_shows_it_in_its_direction(live_server, new_context, rtl_documents, rtl_annotator):
    """Home, project, assignments, progress, review, adjudication queue and the disagreement
    browser: titles by their first strong letter, sentences and spans in the article's
    direction and language, labels and counts isolated from them."""
    document = rtl_documents["ur"]
    text, title = document["text"], document["title"]
    project_id = live_server.rows("SELECT project_id FROM documents WHERE id = :d", d=document["id"])[0]["project_id"]
    # Two annotators differ on the first sentence: its source and its claim type.
    workers = [rtl_annotator(), rtl_annotator()]
    for name, source, key in zip(workers, ("اے آر وائی نیوز", "وائی نیوز"), ("1", "2")):
        worker = log_in(new_context(), name)
        link = worker.get_by_role("link", name=title, exact=True)
        assert (direction_of(link), link.get_attribute("lang")) == ("rtl", "ur")
        open_by_id(worker, document["id"])
        drag(worker, text, text.index(source), text.index(source) + len(source) - 1)
        worker.keyboard.press("s")
        worker.keyboard.press(key)
        wait_saved(worker)
    admin = f"rtl_admin{next(_users)}"
    live_server.cli("users", "add", admin, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    page = log_in(new_context(), admin)

    page.goto(f"/projects/{project_id}")
    assert direction_of(page.locator("#documents td", has_text=title)) == "rtl"
    page.goto(f"/projects/{project_id}/assignments")
    # An <option> holds text only: the title is isolated there by FSI … PDI, so that the
    # count after it stays after it ("6 · (4) حماس…" was the count pulled into the title).
    option = page.locator(f'select[name="documents"] option[value="{document["id"]}"]')
    assert option.text_content() == f"{document['id']} · \u2068{title}\u2069 (6)"
    assert direction_of(page.locator("#matrix td", has_text=title)) == "rtl"
    page.goto(f"/projects/{project_id}/progress")
    assert direction_of(page.locator("#documents td", has_text=title)) == "rtl"
    page.goto(f"/projects/{project_id}/adjudication")
    assert direction_of(page.locator("#documents td", has_text=title)) == "rtl"
    # The adjudication page is the annotation page: the article right to left, and each
    # annotator's spans quoted isolated, in the article's language and direction.
    page.goto(f"/documents/{document['id']}/adjudicate#s0")
    expect(page.locator("#annotate")).to_have_attribute("data-adjudicating", "ready")
    assert computed(page, "#doc", "direction") == "rtl"
    quotes = page.locator("#adj-body .adj-spans .quote bdi")
    expect(quotes.last).to_have_text("وائی نیوز")
    assert {"اے آر وائی نیوز", "وائی نیوز"} <= set(quotes.all_inner_texts())
    assert set(quotes.evaluate_all("qs => qs.map(q => q.lang + ' ' + getComputedStyle(q).direction)")) == {"ur rtl"}

    page.goto(f"/documents/{document['id']}/review")
    assert page.locator("h1 bdi").get_attribute("dir") == "rtl"
    first = page.locator("#s0")
    assert (direction_of(first.locator("td.sentence")), first.locator("td.sentence").get_attribute("lang")) == ("rtl", "ur")
    segments = first.locator("p.segments").first
    expect(segments).to_be_visible()
    assert (direction_of(segments), segments.get_attribute("lang")) == ("rtl", "ur")
    assert first.locator(".seg-label").first.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    # Each sentence in its own direction: the Arabic article's English one left to right.
    page.goto(f"/documents/{rtl_documents['ar']['id']}/review")
    sentences = page.locator("td.sentence")
    assert [direction_of(sentences.nth(i)) for i in range(sentences.count())] == ["rtl"] * 4 + ["ltr"]

    page.goto(f"/projects/{project_id}/agreement")
    expect(page.locator("#layer-claim_type")).to_be_visible()
    a, b = (live_server.rows("SELECT id FROM users WHERE username = :n", n=name)[0]["id"] for name in workers)
    page.goto(f"/projects/{project_id}/agreement/disagreements?layer=claim_type&a={a}&b={b}")
    row = page.locator("tr.disagreement")
    expect(row).to_have_count(1)
    assert direction_of(row.locator("td.sentence")) == "rtl" and direction_of(row.locator("td").first) == "rtl"
    assert_clean(page)


def test_with_the_codebook_in_urdu_every_name_on_the_page_is_urdu_and_the_names_are_stored(
        live_server, new_context, rtl_documents, rtl_annotator):
    """The project's codebook language set to Urdu: label and choice buttons, the span list,
    the panel's label, attribute and role names, and the hints read in Urdu; what is saved is
    the codebook's names."""
    document = rtl_documents["ur"]
    text, source = document["text"], "اے آر وائی نیوز"
    live_server.cli("project", "codebook-language", PROJECT, "ur")
    try:
        name = rtl_annotator()
        page = log_in(new_context(), name)
        open_by_id(page, document["id"])
        expect(page.locator("#label-buttons button.lab").first).to_contain_text("ذریعہ")
        expect(page.locator('#choices button.choice[data-value="event"]')).to_contain_text("واقعہ")
        drag(page, text, text.index(source), text.index(source) + len(source) - 1)
        page.keyboard.press("s")
        wait_saved(page)
        expect(page.locator("#hint")).to_contain_text("ذریعہ")
        expect(page.locator("#sent-spans li").first).to_contain_text("ذریعہ")
        assert "SOURCE" not in page.locator("#sent-spans").inner_text()
        page.keyboard.press("Enter")
        panel = page.locator("#panel")
        expect(panel.locator("#panel-title")).to_contain_text("ذریعہ")
        assert "SOURCE" not in panel.inner_text() and "CUE" not in panel.inner_text()
        assert [row["label"] for row in spans_of(live_server, name, document["id"])] == ["SOURCE"]
        page.keyboard.press("Escape")
        page.keyboard.press("1")  # the claim type: event
        wait_saved(page)
        assert_clean(page)

        # The adjudication panel names the annotator's value and span as the annotators read them.
        admin = f"rtl_admin{next(_users)}"
        live_server.cli("users", "add", admin, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
        gold = log_in(new_context(), admin)
        gold.goto(f"/documents/{document['id']}/adjudicate#s0")
        expect(gold.locator("#annotate")).to_have_attribute("data-adjudicating", "ready")
        mine = gold.locator(".adj-ann", has_text=name)
        expect(mine.locator(".adj-values")).to_contain_text("واقعہ")
        expect(mine).to_contain_text("ذریعہ")
        assert "SOURCE" not in mine.inner_text() and "event" not in mine.inner_text()
    finally:
        live_server.cli("project", "codebook-language", PROJECT, "--as-written")
