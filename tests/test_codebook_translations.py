"""A codebook in the annotators' language: translations in the codebook file, checked on load;
the default codebook's Urdu and Arabic names; a project's codebook language, set by its
supervisors, and the annotation, adjudication and guidelines pages showing the translated
names while annotations keep the names."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from annotator.codebook import CodebookError, codebook_from_dict, default_codebook, load_codebook
from annotator.errors import Forbidden, ServiceError
from annotator.ingest import read_file
from annotator.models import Event, Project
from annotator.services import adjudication, projects
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT
from .helpers import Client, add_users, assign, project_with, snapshot_rows

MINIMAL = {
    "name": "mini", "version": 1,
    "span_layers": [{"name": "attribution", "labels": [
        {"name": "SOURCE", "color": "#4e79a7", "translations": {"ur": {"name": "ذریعہ", "description": "جو کہے"}}},
        {"name": "CUE", "color": "#f28e2b"},
    ]}],
}


def problems_of(data: Any) -> list[str]:
    with pytest.raises(CodebookError) as caught:
        codebook_from_dict(data)
    return caught.value.problems


def _without(data: Any, key: str) -> Any:
    if isinstance(data, dict):
        return {k: _without(v, key) for k, v in data.items() if k != key}
    return [_without(item, key) for item in data] if isinstance(data, list) else data


def _items(shown: Any):
    """Every dict inside the shown codebook, the codebook first."""
    if isinstance(shown, dict):
        yield shown
        for value in shown.values():
            yield from _items(value)
    elif isinstance(shown, list):
        for item in shown:
            yield from _items(item)


# -- the file format ---------------------------------------------------------------------------


def test_default_codebook_names_everything_in_urdu_and_arabic():
    codebook = default_codebook()
    assert codebook.languages == ("ar", "ur")
    named = [label for layer in codebook.span_layers for label in layer.labels]
    named += [value for layer in codebook.choice_layers for value in layer.values]
    attributes = [a for layer in codebook.span_layers for a in layer.attributes]
    attributes += [a for relation in codebook.relations for a in relation.attributes]
    named += attributes + [value for attribute in attributes for value in attribute.values]
    named += [role for relation in codebook.relations for role in relation.roles]
    titled = [*codebook.span_layers, *codebook.choice_layers, *codebook.relations]
    for item in named + titled:
        assert set(item.translations) == {"ur", "ar"}, item.name
        wording = "name" if item in named else "title"
        for translation in item.translations.values():
            shown = getattr(translation, wording)
            assert shown and not shown.isascii() and translation.description is None, item.name
    labels = {label.name: label.translations["ur"].name for label in codebook.span_layers[0].labels}
    assert labels == {"SOURCE": "ذریعہ", "CUE": "اشارہ", "CONTENT": "مواد", "SUPPLEMENT": "اضافی تفصیل"}
    assert codebook.span_layers[0].labels[0].translations["ar"].name == "المصدر"


def test_shown_in_translates_display_names_titles_and_descriptions_not_names():
    codebook = default_codebook()
    urdu = codebook.shown_in("ur")
    source = urdu["span_layers"][0]["labels"][0]
    assert (source["name"], source["display"]) == ("SOURCE", "ذریعہ")
    assert source["description"].startswith("The person, group")  # not translated: as written
    assert urdu["span_layers"][0]["title"] == "نسبت" and urdu["choice_layers"][0]["title"] == "دعوے کی قسم"
    assert [role["display"] for role in urdu["relations"][0]["roles"]] == ["ذریعہ", "اشارہ", "مواد", "اضافی تفصیل"]
    assert (urdu["choice_layers"][0]["values"][0]["name"], urdu["choice_layers"][0]["values"][0]["display"]) == ("event", "واقعہ")
    assert urdu["span_layers"][1]["attributes"][0]["display"] == "رخ"
    assert all("translations" not in item for item in _items(urdu))
    # Everything else is the file format: the page's code reads names, hotkeys and colours as before.
    assert _without(codebook.shown_in(None), "display") == _without(codebook.to_dict(), "translations")
    as_written = codebook.shown_in(None)
    assert all(item["display"] == item["name"] for item in _items(as_written) if "display" in item)
    assert codebook.shown_in("de") == as_written  # a language it is not translated into


def test_translations_round_trip_and_read_the_same_from_toml_and_json(tmp_path):
    codebook = codebook_from_dict(MINIMAL)
    assert codebook.to_dict()["span_layers"][0]["labels"][0]["translations"] == {
        "ur": {"name": "ذریعہ", "description": "جو کہے"}}
    assert "translations" not in codebook.to_dict()["span_layers"][0]["labels"][1]  # none: as before
    assert codebook_from_dict(codebook.to_dict()) == codebook
    toml = tmp_path / "mini.toml"
    toml.write_text('''name = "mini"
version = 1
[[span_layers]]
name = "attribution"
[[span_layers.labels]]
name = "SOURCE"
color = "#4e79a7"
translations.ur = { name = "ذریعہ", description = "جو کہے" }
[[span_layers.labels]]
name = "CUE"
color = "#f28e2b"
''', encoding="utf-8")
    as_json = tmp_path / "mini.json"
    as_json.write_text(json.dumps(MINIMAL, ensure_ascii=False), encoding="utf-8")
    assert load_codebook(toml) == load_codebook(as_json) == codebook
    assert codebook.languages == ("ur",)


def _with(path: list, value: Any) -> dict:
    data = json.loads(json.dumps(MINIMAL))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


LABEL = ["span_layers", 0, "labels", 0, "translations"]
WHERE = "span_layers[0].labels[0].translations"


@pytest.mark.parametrize("translations, problem", [
    ("ذریعہ", f"{WHERE}: expected a table of languages, got a string"),
    ({"Urdu": {"name": "x"}}, f"{WHERE}.Urdu: 'Urdu' is not a language code"),
    ({"UR": {"name": "x"}}, f"{WHERE}.UR: 'UR' is not a language code"),
    ({"ur-" + "x" * 20: {"name": "x"}}, "is not a language code"),
    ({"ur": "ذریعہ"}, f"{WHERE}.ur: expected a table, got a string"),
    ({"ur": {"title": "x"}}, f"{WHERE}.ur.title: is not translated here; translate name, description, example"),
    ({"ur": {"nmae": "x"}}, f"{WHERE}.ur.nmae: is not translated here (did you mean 'name'?)"),
    ({"ur": {"name": 3}}, f"{WHERE}.ur.name: expected a string, got an integer"),
    ({"ur": {"name": "  "}}, f"{WHERE}.ur.name: must not be empty"),
    ({"ur": {"name": "ذ" * 65}}, f"{WHERE}.ur.name: is 65 characters long; at most 64"),
    ({"ur": {"description": "x" * 4001}}, f"{WHERE}.ur.description: is 4001 characters long; at most 4000"),
    ({"ur": {"name": "ذریعہ\nCUE"}}, f"{WHERE}.ur.name: must be one line without control or bidirectional formatting characters (U+000A)"),
    # Bidirectional overrides and isolates would reorder the text around the label on the page.
    ({"ur": {"name": "\u202eECRUOS"}}, f"{WHERE}.ur.name: must be one line without control or bidirectional formatting characters (U+202E)"),
    ({"ur": {"name": "ذریعہ\u2066x"}}, "(U+2066)"),
])
def test_bad_translations_are_reported_with_their_path(translations, problem):
    problems = problems_of(_with(LABEL, translations))
    assert len(problems) == 1 and problem in problems[0], problems


def test_translation_rules_per_kind_and_distinct_names():
    data = json.loads(json.dumps(MINIMAL))
    data["span_layers"][0]["translations"] = {"ur": {"name": "نسبت"}}  # a layer has a title, not a name
    data["span_layers"][0]["labels"][1]["translations"] = {"ur": {"name": "ذریعہ"}}
    data["translations"] = {"ur": {"description": "ٹھیک", "title": "x"}}
    assert sorted(problems_of(data)) == [
        "codebook: span_layers[0].labels[1].translations.ur.name: 'ذریعہ' is already the ur name of span_layers[0].labels[0]",
        "codebook: span_layers[0].translations.ur.name: is not translated here; translate title, description",
        "codebook: translations.ur.title: is not translated here; translate description",
    ]
    # The same translated name in two languages, or in two different arrays, is fine.
    data = json.loads(json.dumps(MINIMAL))
    data["span_layers"][0]["labels"][1]["translations"] = {"ar": {"name": "ذریعہ"}}
    data["span_layers"][0]["title"] = "Attribution"
    data["span_layers"][0]["translations"] = {"ur": {"title": "ذریعہ"}}
    assert codebook_from_dict(data).languages == ("ar", "ur")


# -- a project's codebook language ------------------------------------------------------------


@pytest.fixture
def world(app, session):
    project = project_with(session, read_file(SEED_TXT), "news")
    people = add_users(session, {"sup": "supervisor", "ann": "annotator", "root": "admin"})
    (assignment,) = assign(session, project, [people["ann"]])
    return {"app": app, "session": session, "project": project, "document_id": assignment.document_id, **people}


def _page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="annotator-data">(.*?)</script>', html, re.S).group(1))


def test_set_codebook_language_checks_the_language_and_the_role(world, session):
    project_id = world["project"].id
    before = snapshot_rows(session)
    with pytest.raises(ServiceError) as refused:
        projects.set_codebook_language(session, world["sup"], project_id, "de")
    assert refused.value.field == "language" and "translated into ar, ur" in refused.value.message
    with pytest.raises(Forbidden):
        projects.set_codebook_language(session, world["ann"], project_id, "ur")
    assert snapshot_rows(session) == before

    assert projects.set_codebook_language(session, world["sup"], project_id, "ur").codebook_language == "ur"
    assert projects.set_codebook_language(session, world["sup"], project_id, " ").codebook_language is None
    session.rollback()
    events = session.scalars(select(Event).where(Event.action == "codebook_language").order_by(Event.id)).all()
    assert [(e.before, e.after) for e in events] == [
        ({"codebook_language": None}, {"codebook_language": "ur"}),
        ({"codebook_language": "ur"}, {"codebook_language": None}),
    ]


def test_annotators_see_the_translated_names_the_page_stores_the_names(world, session):
    document_id, project_id = world["document_id"], world["project"].id
    ann = Client(world["app"], "ann")
    english = _page_data(ann.get(f"/documents/{document_id}").get_data(as_text=True))
    assert english["codebook_language"] is None
    assert english["codebook"]["span_layers"][0]["labels"][0]["display"] == "SOURCE"

    projects.set_codebook_language(session, world["sup"], project_id, "ur")
    html = ann.get(f"/documents/{document_id}").get_data(as_text=True)
    data = _page_data(html)
    assert data["codebook_language"] == "ur"
    source = data["codebook"]["span_layers"][0]["labels"][0]
    assert (source["name"], source["display"], source["hotkey"]) == ("SOURCE", "ذریعہ", "s")
    assert data["hotkeys"]["sentence"]["s"] == {"layer": "attribution", "label": "SOURCE"}
    assert "<bdi>ذریعہ</bdi> <bdi class=\"muted\">SOURCE</bdi>" in html  # the guidelines inside the page
    guidelines = ann.get(f"/documents/{document_id}/guidelines").get_data(as_text=True)
    assert "<bdi>واقعہ</bdi> <bdi class=\"muted\">event</bdi>" in guidelines and "دعوے کی قسم" in guidelines

    # The adjudication page shows the gold in the same language.
    adjudication.start(session, SYSTEM, document_id)
    sup = Client(world["app"], "sup")
    gold = _page_data(sup.get(f"/documents/{document_id}/adjudicate").get_data(as_text=True))
    assert gold["codebook"]["relations"][0]["roles"][1]["display"] == "اشارہ"

    # Saving goes on with the names: a display name is no value.
    first, second = (sentence["id"] for sentence in data["sentences"][:2])
    assert ann.call("PUT", f"/api/sentences/{first}/labels/claim_type", {"value": "event"}).status_code == 200
    refused = ann.call("PUT", f"/api/sentences/{second}/labels/claim_type", {"value": "واقعہ"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "value"


def test_project_page_form_sets_the_codebook_language(world, session):
    project_id = world["project"].id
    sup = Client(world["app"], "sup")
    page = sup.get(f"/projects/{project_id}").get_data(as_text=True)
    assert '<option value="ur">اردو (ur)</option>' in page and '<option value="ar">العربية (ar)</option>' in page

    before = snapshot_rows(session)
    refused = sup.post(f"/projects/{project_id}/codebook-language", {"language": "he"})
    assert refused.status_code == 302
    assert "not translated into &#39;he&#39;" in sup.get(refused.headers["Location"]).get_data(as_text=True)
    assert snapshot_rows(session) == before

    done = sup.post(f"/projects/{project_id}/codebook-language", {"language": "ar"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/projects/{project_id}#codebook-language")
    page = sup.get(done.headers["Location"]).get_data(as_text=True)
    assert "Annotators now see the codebook in ar." in page and '<option value="ar" selected>العربية (ar)</option>' in page
    session.rollback()
    assert session.get(Project, project_id).codebook_language == "ar"
    ann = Client(world["app"], "ann")
    assert ann.post(f"/projects/{project_id}/codebook-language", {"language": ""}).status_code == 403


def test_cli_project_codebook_language(world, cli, session):
    shown = cli("project", "codebook-language", "news")
    assert shown.exit_code == 0 and "codebook shown as written; translated into ar, ur" in shown.output
    assert "shown in ur" in cli("project", "codebook-language", "news", "ur").output
    refused = cli("project", "codebook-language", "news", "fa")
    assert refused.exit_code == 1 and "not translated into 'fa'" in refused.output
    assert cli("project", "codebook-language", "news", "ur", "--as-written").exit_code == 2
    assert "shown as written" in cli("project", "codebook-language", "news", "--as-written").output
    session.rollback()
    assert session.get(Project, world["project"].id).codebook_language is None
