"""The profile page and its downloads (annotator/web/profiles.py), on SQLite and PostgreSQL: who may
see them, what they show, the charts as inline SVG without inline style or script, the
downloads' content, pseudonyms by default and the query carried over."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from annotator.pseudonyms import pseudonym
from annotator.services import users
from annotator.services.permissions import SYSTEM

from .helpers import PASSWORD, Client
from .test_profiles_service import profile_world


@pytest.fixture
def world(app, session):
    built = profile_world(session)
    users.add_user(session, SYSTEM, "root", "admin", PASSWORD)
    return {**built, "app": app}


def _url(world, suffix: str = "") -> str:
    return f"/projects/{world['project'].id}/profile{suffix}"


@pytest.mark.parametrize("suffix", ["", ".json", ".csv", ".html"])
def test_supervisors_of_the_project_and_admins_only(world, suffix):
    app = world["app"]
    anonymous = Client(app).get(_url(world, suffix))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert Client(app, "ann").get(_url(world, suffix)).status_code == 403
    assert Client(app, "stranger").get(_url(world, suffix)).status_code == 404
    assert Client(app, "sup").get(_url(world, suffix)).status_code == 200
    assert Client(app, "root").get(_url(world, suffix)).status_code == 200


def test_the_project_page_links_to_the_profile(world):
    page = Client(world["app"], "sup").get(f"/projects/{world['project'].id}").get_data(as_text=True)
    assert f'href="/projects/{world["project"].id}/profile"' in page


def test_the_page_shows_figures_charts_and_no_inline_style(world):
    client = Client(world["app"], "sup")
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Profiles · profiled" in page
    assert "3 articles counted" in page and "1 left out" in page
    # The chosen figure's bars: All articles first, then the outlets, each in words too.
    labels = re.findall(r'<svg class="profile-bar"[^>]*aria-label="([^"]*)"', page)
    assert [label.split(":")[0] for label in labels] == ["All articles", "ARY News", "Dawn"]
    assert labels[1].startswith("ARY News: 142.86, 95% interval undefined — too few documents for an interval")
    assert "annotators&#39; range undefined — fewer than two annotators" in labels[1]
    assert "2 annotators&#39; own figures 66.67 to 100.00" in labels[2]
    # The source-kind breakdown, and every section's table with undefined figures saying why.
    assert "Breakdown: Attribution: source kind" in page
    assert 'class="seg-0"' in page
    assert "undefined — no sentence with a check-worthy value" in page
    # No source is linked to the registry: a note instead of the table of top quoted sources.
    assert "no counted attribution cites a source linked to the project's registry" in page
    assert '<table class="profile-sources">' not in page
    assert "<td class=\"value\"><span class=\"figure-value\">57.1%</span>" in page  # Dawn: anonymous 2 of 3.5
    for bad in ("style=", "<style", "<script", " onclick="):
        assert bad not in page, bad


def test_figure_breakdown_and_by_are_chosen_in_the_query(world):
    client = Client(world["app"], "sup")
    page = client.get(_url(world, "?by=month&figure=claim_type/value/event&breakdown=claim_type")).get_data(as_text=True)
    assert "Claim type — event, by month" in page
    assert '<svg class="series"' in page and "<polyline" in page  # May and June join
    assert "Breakdown: Claim type" in page
    assert 'aria-current="page">Month</a>' in page
    # The downloads carry the query over.
    assert '<input type="hidden" name="figure" value="claim_type/value/event">' in page
    by_document = client.get(_url(world, "?by=document")).get_data(as_text=True)
    assert f'href="/documents/{world["docs"]["D1"].id}/review"' in by_document
    assert client.get(_url(world, "?by=weekday")).status_code == 400


def test_comparing_two_groups_on_the_page(world):
    client = Client(world["app"], "sup")
    page = client.get(_url(world, "?a=Dawn&b=ARY+News")).get_data(as_text=True)
    assert "Each difference is Dawn minus ARY News" in page
    assert "−26.19" in page or "-26.19" in page  # 116.67 - 142.86 per 1,000 words
    assert "95% interval undefined — too few documents for an interval" in page
    assert client.get(_url(world, "?a=Dawn&b=Reuters")).status_code == 404


def test_downloads_name_annotators_by_pseudonym_unless_asked(world):
    client, project_id = Client(world["app"], "sup"), world["project"].id
    ann = pseudonym("test-secret", project_id, world["ann"].id)
    body = json.loads(client.get(_url(world, ".json?by=annotator")).get_data(as_text=True))
    assert body["kind"] == "profile" and body["parameters"]["by"] == "annotator"
    assert [a["name"] for a in body["annotators"]][0] in {ann, pseudonym("test-secret", project_id, world["bob"].id)}
    assert "ann" not in {g["label"] for g in body["groups"]} and ann in {g["label"] for g in body["groups"]}
    assert "username" not in json.dumps(body["annotators"])
    named = json.loads(client.get(_url(world, ".json?by=annotator&usernames=1")).get_data(as_text=True))
    assert [g["label"] for g in named["groups"]] == ["ann", "bob", "gold"]

    response = client.get(_url(world, ".csv?a=Dawn&b=ARY+News"))
    assert response.headers["Content-Disposition"] == f'attachment; filename="profile-{project_id}-by-outlet.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    rate = {(r["scope"], r["group"], r["annotator"]): r for r in rows if r["figure"] == "attribution/per_1000_words"}
    assert float(rate[("overall", "", "")]["value"]) == pytest.approx(125.0)
    assert float(rate[("group", "Dawn", "")]["numerator"]) == pytest.approx(3.5)
    assert float(rate[("group annotator", "Dawn", ann)]["value"]) == pytest.approx(100.0)
    assert rate[("group", "ARY News", "")]["interval_undefined"] == "too few documents for an interval"
    difference = [r for r in rows if r["scope"] == "difference" and r["figure"] == "attribution/per_1000_words"]
    assert float(difference[0]["value"]) == pytest.approx(3.5 / 30 * 1000 - 2 / 14 * 1000)

    html = client.get(_url(world, ".html?figure=loaded_language/per_1000_words")).get_data(as_text=True)
    assert html.startswith("<!doctype html>") and "<script" not in html and "http" not in html.split("<body>")[1][:200]
    assert "<style>" in html and ".seg-0" in html  # the page's own style, inline
    assert "Loaded language — per 1,000 words" in html and '<svg class="profile-bar"' in html
    assert ann in html and ">ann<" not in html


def test_a_project_without_finished_readings(world, session):
    from .helpers import project_with

    empty = project_with(session, [], name="empty")
    client = Client(world["app"], "root")
    page = client.get(f"/projects/{empty.id}/profile").get_data(as_text=True)
    assert "No article has a finished reading yet" in page
    assert "Compare two groups" not in page  # nothing to compare
    assert "undefined — no words" in page
    assert client.get(f"/projects/{empty.id}/profile?page=0").status_code == 400
