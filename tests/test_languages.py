"""Non-English news in: the language of an article given, declared or detected from its script,
stored per document and used to split its sentences; the Urdu and Arabic seed articles and the
Persian and Hebrew samples of tests/data/languages split exactly; the repairs of sentencex's
splits after one-letter abbreviations, English titles and Hebrew gershayim."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from annotator.ingest import build_article, check_language, detect_language, read_bytes, read_file, segment
from annotator.ingest.language import article_language
from annotator.models import Document, Sentence
from annotator.services import imports, projects
from annotator.services.permissions import SYSTEM

from .conftest import REPO, SEEDS
from .helpers import Client, add_users

SAMPLES = REPO / "tests" / "data" / "languages"
URDU_SEED, ARABIC_SEED = SEEDS / "ur_meshaal_fazlur_rehman.txt", SEEDS / "ar_meshaal_fazlur_rehman.txt"
PERSIAN, HEBREW = SAMPLES / "fa_kuhsar_water.txt", SAMPLES / "he_north_port.txt"
URDU_PARAGRAPH = "اے آر وائی نیوز کے مطابق اجلاس ملتوی ہو گیا۔ ترجمان نے تصدیق کی۔"


def sentences(article) -> list[str]:
    return [article.text[start:end] for start, end in article.sentences]


# -- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, language", [
    (URDU_PARAGRAPH, "ur"),
    ("وفقا لمصادر مقربة من حماس، أسفرت العملية عن مقتل أكثر من ١٢٠٠ شخص.", "ar"),
    ("به گزارش روزنامه «صبح کوهسار»، مدیرعامل شرکت آب گفت که ذخایر سد کم است.", "fa"),
    ("לפי דיווח באתר \"חדשות המפרץ\", מנהל הנמל אמר כי המצב קשה.", "he"),
    ("Prices rose, ARY News reported.", "en"),
    # Latin names and digits inside an article do not outvote its script.
    ("ARY News اور Reuters کے مطابق JUI-F کے 1,200 کارکنوں نے شرکت کی۔", "ur"),
    # An English article quoting a few Arabic words stays English.
    ("The crowd chanted «الله أكبر» as the convoy of the Red Crescent entered Rafah on Monday.", "en"),
    ("", "en"),
    ("1234 — !!!", "en"),
])
def test_detect_language_by_script_and_letters(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text, declared, given, language", [
    (URDU_PARAGRAPH, None, None, "ur"),
    (URDU_PARAGRAPH, "en", None, "ur"),  # a site template's lang="en" around an Urdu article
    ("Prices rose.", "ur-PK", None, "en"),  # an English section of an Urdu site
    ("Prices rose.", "de-AT", None, "de"),  # the same script: the declaration stands
    (URDU_PARAGRAPH, "ps", None, "ps"),  # Pashto: Arabic script too, told apart only when declared
    (URDU_PARAGRAPH, "en", "sd", "sd"),  # given by the user: used as given
    ("Prices rose.", None, "ur-PK", "ur"),
])
def test_article_language_given_else_declared_if_its_script_fits_else_detected(text, declared, given, language):
    assert article_language(text, declared, given) == language


@pytest.mark.parametrize("value", ["", "u", "urdu1", "ur PK", "ur;drop", "x" * 17, "اردو", "ur-"])
def test_a_given_language_must_be_a_language_code(value):
    with pytest.raises(ValueError, match="not a language code"):
        check_language(value)
    with pytest.raises(ValueError):
        read_bytes("a.txt", b"Title\n\nBody.", language=value)


# -- segmentation ----------------------------------------------------------------------------


def test_urdu_seed_is_detected_and_split_on_urdu_full_stops_and_question_marks():
    (article,) = read_file(URDU_SEED)
    assert article.language == "ur"
    assert article.title == "حماس کے رہنما خالد مشعل کا مولانا فضل الرحمان کو ٹیلیفون، اسرائیل کے خلاف حمایت کی اپیل"
    assert sentences(article) == [
        "اے آر وائی نیوز کے مطابق حماس کے رہنما خالد مشعل نے جمعیت علمائے اسلام (ف) کے سربراہ مولانا فضل الرحمان سے ٹیلیفون پر رابطہ کیا۔",
        "دونوں رہنماؤں نے اسرائیل فلسطین تنازع پر تبادلۂ خیال کیا۔",
        "جے یو آئی (ف) کے ترجمان اسلم غوری نے ایک سرکاری بیان میں بتایا کہ خالد مشعل نے مولانا فضل الرحمان کو فلسطین اور اسرائیل کی موجودہ صورتحال سے آگاہ کیا۔",
        "ترجمان کے مطابق مشعل نے ’طوفانِ اقصیٰ‘ کی یاد منانے پر JUI-F کو سراہا۔",
        "مولانا فضل الرحمان نے فلسطینیوں سے مکمل یکجہتی کا اظہار کیا اور ہر حال میں فلسطینی بہن بھائیوں کی حمایت جاری رکھنے کا عزم دہرایا۔",
        "انہوں نے انسانی حقوق کی تنظیموں سے مطالبہ کیا کہ وہ غزہ میں اسرائیلی مظالم کا نوٹس لیں، جن میں اب تک 1800 سے زائد فلسطینی جاں بحق ہو چکے ہیں۔",
        "اس کارروائی کی منصوبہ بندی کب شروع ہوئی؟",
        "رپورٹ کے مطابق اس کی تیاری مئی 2021 میں مسجد اقصیٰ پر چھاپے کے بعد شروع ہوئی، جس پر عرب اور مسلم دنیا میں غم و غصہ پھیل گیا تھا۔",
        "غزہ میں حماس کے قریبی ایک ذریعے کا اندازہ ہے کہ اس کارروائی میں اسرائیل میں 1,200 سے زائد افراد ہلاک ہوئے۔",
        "اسرائیل نے اس حملے کو اپنا ”9/11“ قرار دیا۔",
        "خالد مشعل 1996 سے 2017 تک حماس کے سربراہ رہے، جس کے بعد اسماعیل ہنیہ نے قیادت سنبھالی۔",
    ]


def test_arabic_seed_is_split_on_full_stops_and_question_marks_not_semicolons():
    (article,) = read_file(ARABIC_SEED)
    assert article.language == "ar"
    assert sentences(article) == [
        "أجرى القيادي في حركة حماس خالد مشعل اتصالا هاتفيا مع مولانا فضل الرحمن، رئيس جمعية علماء الإسلام (ف) في باكستان، تناول فيه تطورات الصراع الفلسطيني الإسرائيلي، حسبما أفادت قناة ARY News الباكستانية.",
        # The Arabic semicolon joins clauses of one sentence.
        "وقال المتحدث باسم الجمعية أسلم غوري في بيان رسمي إن مشعل أطلع فضل الرحمن على آخر المستجدات في فلسطين؛ وأضاف أن مشعل أشاد بإحياء الجمعية ذكرى \"طوفان الأقصى\".",
        "وأكد فضل الرحمن تضامنه الكامل مع الشعب الفلسطيني.",
        "وفقا لمصادر مقربة من حماس في غزة، أسفرت العملية عن مقتل أكثر من ١٢٠٠ شخص في إسرائيل.",
        "فمتى بدأ التخطيط لها؟",
        "يقول التقرير إن التخطيط بدأ في مايو/أيار 2021، عقب اقتحام المسجد الأقصى الذي أثار غضب العالمين العربي والإسلامي.",
        "ودعا فضل الرحمن منظمات حقوق الإنسان إلى الالتفات إلى ما وصفه بـ\"الوحشية الإسرائيلية\" في غزة، حيث تجاوز عدد القتلى الفلسطينيين 1800 شخص.",
    ]


def test_persian_sample_keeps_zwnj_words_decimals_and_the_solar_hijri_abbreviation():
    (article,) = read_file(PERSIAN)
    assert article.language == "fa"
    assert sentences(article) == [
        "به گزارش روزنامه «صبح کوهسار»، مدیرعامل شرکت آب منطقه\u200cای روز دوشنبه گفت: «اگر مصرف کاهش نیابد، چاره\u200cای جز کاهش فشار آب در شب نداریم.»",
        "به گفته او، ذخایر سد شهر به ۱۲ درصد رسیده است.",
        "آیا این تصمیم کافی است؟",
        "دکتر مریم رضایی، کارشناس منابع آب، می\u200cگوید مصرف خانگی باید دست\u200cکم ۲۰ درصد کم شود.",
        "این گزارش نخستین بار در وب\u200cسایت Kuhsar Daily منتشر شد.",
        "رضایی در سال ۱۳۹۸ ه.ش. نیز درباره خطر خشکسالی هشدار داده بود!",
        "شورای شهر بودجه\u200cای ۳٫۵ میلیارد تومانی برای طرح اضطراری تصویب کرد.",
    ]


def test_hebrew_sample_keeps_gershayim_and_initials_inside_sentences():
    (article,) = read_file(HEBREW)
    assert article.language == "he"
    assert sentences(article) == [
        "לפי דיווח באתר \"חדשות המפרץ\", מנהל נמל הצפון אמר ביום שני כי \"ללא עובדים נוספים, לא נוכל לפרוק את כל האוניות בזמן\".",
        "לדבריו, כ־40% מהמשמרות לא אוישו בחודש האחרון.",
        "האם המשבר יסתיים בקרוב?",
        # Before the repair, the gershayim of ד"ר paired with the next quotation mark and
        # this sentence ended after it: ...סבורה שלא. "
        "ד\"ר נועה לוי, כלכלנית תחבורה, סבורה שלא.",
        "\"הבעיה היא מבנית\", אמרה בראיון ל-Harbor Weekly.",
        "ועד העובדים, בראשות א. כהן, מסר כי 3 אוניות ממתינות מחוץ לנמל.",
        "הנהלת הנמל לא הגיבה לפנייה עד לשעת פרסום הידיעה.",
    ]


@pytest.mark.parametrize("language, text, expected", [
    # One-letter abbreviations and initials, where sentencex alone ends a sentence.
    ("ar", "قال د. أحمد خليل إن المشروع سيكتمل. وأضاف أن الكلفة 3.5 مليون دولار.",
     ["قال د. أحمد خليل إن المشروع سيكتمل.", "وأضاف أن الكلفة 3.5 مليون دولار."]),
    ("ar", "أعلن أ.د. محمد سالم النتائج. وقال إن 12 طالبا نجحوا.",
     ["أعلن أ.د. محمد سالم النتائج.", "وقال إن 12 طالبا نجحوا."]),
    ("ar", "وقع ذلك عام 1948 ق.م. وفق المؤرخين. انتهى.", ["وقع ذلك عام 1948 ق.م. وفق المؤرخين.", "انتهى."]),
    ("fa", "دکتر م. رضایی گفت که جلسه لغو شد. خبرنگاران منتظر ماندند.",
     ["دکتر م. رضایی گفت که جلسه لغو شد.", "خبرنگاران منتظر ماندند."]),
    ("ur", "مسٹر ع. خان نے کہا کہ حالات خراب ہیں۔ انہوں نے تفصیل نہیں بتائی۔",
     ["مسٹر ع. خان نے کہا کہ حالات خراب ہیں۔", "انہوں نے تفصیل نہیں بتائی۔"]),
    ("he", "אמר א. כהן כי המצב קשה. הוא לא פירט.", ["אמר א. כהן כי המצב קשה.", "הוא לא פירט."]),
    # A sentence may still begin with one: the repair joins forwards only.
    ("ar", "انتهى الاجتماع. د. أحمد قال ذلك.", ["انتهى الاجتماع.", "د. أحمد قال ذلك."]),
    # Gershayim typed as an ASCII double quote.
    ("he", "צה\"ל הודיע כי הוא בודק. \"אין שינוי\", אמר דובר. ח\"כ לוי הגיב.",
     ["צה\"ל הודיע כי הוא בודק.", "\"אין שינוי\", אמר דובר.", "ח\"כ לוי הגיב."]),
    # Arabic's and Urdu's own punctuation: ۔ ends a sentence in Arabic text too, ؛ never does.
    ("ar", "وصل الوفد يوم الأحد۔ ثم غادر يوم الإثنين؟ نعم؛ غادر.", ["وصل الوفد يوم الأحد۔", "ثم غادر يوم الإثنين؟", "نعم؛ غادر."]),
    ("ur", "کیا حکومت مستعفی ہو گی؟ وزیر نے جواب دیا: ”بالکل نہیں۔“ اجلاس ملتوی ہو گیا۔",
     ["کیا حکومت مستعفی ہو گی؟", "وزیر نے جواب دیا: ”بالکل نہیں۔“", "اجلاس ملتوی ہو گیا۔"]),
    # Latin one-letter words are left to sentencex, as before.
    ("en", "Plan B. That was it.", ["Plan B.", "That was it."]),
    # A title before a name, where sentencex ends a sentence ("Ms." and "Ft." opening one,
    # "Amb." and "Atty." anywhere); "St." still ends one.
    ("en", "The talks ended. Ms. Lee said they would resume. Talks with Amb. Rao and Atty. Gen. Smith went on.",
     ["The talks ended.", "Ms. Lee said they would resume.", "Talks with Amb. Rao and Atty. Gen. Smith went on."]),
    ("en", "Ft. Worth was quiet. He lives on Main St. The next day it rained.",
     ["Ft. Worth was quiet.", "He lives on Main St.", "The next day it rained."]),
])
def test_segmentation_repairs(language, text, expected):
    assert [text[start:end] for start, end in segment(text, language)] == expected


# -- where the language comes from -----------------------------------------------------------


def test_each_format_declares_detects_or_is_given_its_language():
    urdu = URDU_PARAGRAPH.encode()
    page = (b'<html lang="en"><head><title>\xd8\xae\xd8\xa8\xd8\xb1</title></head><body><article><p>'
            + urdu + b"</p></article></body></html>")
    (html,) = read_bytes("page.html", page)
    assert html.language == "ur"  # lang="en" contradicts the text's script
    lines = "\n".join(json.dumps(record, ensure_ascii=False) for record in [
        {"title": "خبر", "text": URDU_PARAGRAPH},
        {"title": "خبر", "text": URDU_PARAGRAPH, "language": "ur-PK"},
        {"title": "Khabar", "text": URDU_PARAGRAPH, "language": "en"},
        {"title": "News", "text": "Prices rose.", "language": "fr"},
    ]).encode()
    assert [article.language for article in read_bytes("a.jsonl", lines)] == ["ur", "ur", "ur", "fr"]
    (txt,) = read_bytes("a.txt", "عنوان\n\n".encode() + urdu)
    assert txt.language == "ur"
    # Given: every article of the input, whatever it declares or its script says.
    assert [a.language for a in read_bytes("a.jsonl", lines, language="pa-Arab")] == ["pa"] * 4
    assert read_bytes("page.html", page, language="ur")[0].language == "ur"
    # build_article, the one place all formats go through.
    assert build_article("T", [URDU_PARAGRAPH], language="en", given_language="fa").language == "fa"


def test_cli_import_language_option(cli, session, tmp_path):
    path = tmp_path / "article.txt"
    path.write_text("Title\n\n" + URDU_PARAGRAPH, encoding="utf-8")
    refused = cli("import", str(path), "--language", "urdu!")
    assert refused.exit_code == 2 and "not a language code" in refused.output
    assert session.scalar(select(func.count(Document.id))) == 0
    assert cli("import", str(path), "--project", "detected").exit_code == 0
    assert cli("import", str(path), "--project", "given", "--language", "sd").exit_code == 0
    session.rollback()
    stored = dict(session.execute(select(Document.project_id, Document.language)).all())
    detected, given = (projects.project_named(session, SYSTEM, name).id for name in ("detected", "given"))
    assert (stored[detected], stored[given]) == ("ur", "sd")


def test_quickstart_seeds_hold_urdu_and_arabic_articles_after_the_first(cli, session):
    assert cli("import", str(SEEDS)).exit_code == 0
    session.rollback()
    documents = session.execute(select(Document.id, Document.language, Document.title).order_by(Document.id)).all()
    assert [language for _, language, _ in documents] == ["en", "ar", "en", "ur"]
    assert documents[0].title.startswith("Hamas top leader")
    counts = dict(session.execute(select(Sentence.document_id, func.count(Sentence.id)).group_by(Sentence.document_id)).all())
    assert [counts[document.id] for document in documents] == [14, 7, 15, 11]


def _upload(client, project_id: int, content: bytes, name: str, language: str = ""):
    data = {"files": [(io.BytesIO(content), name)], "language": language}
    return client.post(f"/projects/{project_id}/documents", data, content_type="multipart/form-data")


def test_upload_form_language_field(app, session):
    project = projects.get_or_create_project(session, SYSTEM, "news")
    add_users(session, {"sup": "supervisor"})
    sup = Client(app, "sup")
    content = ("Title\n\n" + URDU_PARAGRAPH).encode()
    page = sup.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'name="language"' in page and '<option value="ur" label="اردو">' in page

    refused = _upload(sup, project.id, content, "a.txt", language="ur PK")
    assert refused.status_code == 400 and "not a language code" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count(Document.id))) == 0

    assert _upload(sup, project.id, content, "a.txt").status_code == 200
    assert _upload(sup, project.id, content + "\n\nPersian-typed twin.".encode(), "b.txt", language="fa").status_code == 200
    session.rollback()
    assert session.scalars(select(Document.language).order_by(Document.id)).all() == ["ur", "fa"]
    listed = sup.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "<th>Language</th>" in listed and "<td>ur</td>" in listed and "<td>fa</td>" in listed


def test_imported_annotation_records_without_a_language_get_the_detected_one(session):
    project = projects.create_project(session, SYSTEM, "copy")
    text = URDU_PARAGRAPH
    record = {"document": {"title": "خبر", "text": text},
              "annotations": [{"annotator": "maria", "spans": [
                  {"layer": "attribution", "label": "SOURCE", "start": 0, "end": 15, "text": text[:15]}]}]}
    imports.import_annotations(session, SYSTEM, project.id, [record], source="a.jsonl")
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assert document.language == "ur"
    assert [(s.start, s.end) for s in document.sentences] == [(0, 44), (45, 64)]

