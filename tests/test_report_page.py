"""The agreement report pages over real HTTP: roles, figures as the report has them, undefined
figures, heatmap links, downloads, the disagreement browser, and no inline style or script."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from annotator import report as report_service
from annotator.ingest import build_article
from annotator.models import Document, Sentence, User
from annotator.pseudonyms import pseudonym
from annotator.services import projects
from annotator.services.permissions import SYSTEM

from .helpers import SUPERVISION_ROLES, Client, add_users, assign, project_with, span_payload

PROBE = "Officials said <script>alert(1)</script> & <b>more</b> was posted."
ARTICLE = [
    "The minister said the bridge would open next year.",
    "Critics called the plan a reckless waste of money.",
    PROBE,
    "Prices rose by ten percent in March.",
    "The council will vote on Tuesday.",
]
# claim_type per sentence: ann and bob differ on sentences 1 and 2 (0-based), agree elsewhere.
ANN = ["event", "opinion", "event", "quantity", "prediction"]
BOB = ["event", "causal", "opinion", "quantity", "prediction"]
SECRET = "test-secret"  # the app fixture's SECRET_KEY
TOO_FEW_DOCUMENTS = "too few documents for an interval"


def _sentences(session, document) -> list[Sentence]:
    return session.scalars(select(Sentence).where(Sentence.document_id == document.id).order_by(Sentence.position)).all()


def _label(client, sentence, value, layer="claim_type"):
    response = client.call("PUT", f"/api/sentences/{sentence.id}/labels/{layer}", {"value": value})
    assert response.status_code == 200, response.json


@pytest.fixture
def setup(app, session):
    """One project, one article of five sentences, ann and bob labelled it (two differences)
    and marked spans (one difference); a supervisor, an admin; cat is assigned, did nothing."""
    people = add_users(session, SUPERVISION_ROLES)
    project = project_with(session, [build_article("Bridge <i>story</i>", [" ".join(ARTICLE)], source="probe")], "agree")
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [people["ann"], people["bob"]], [document])
    sentences = _sentences(session, document)
    assert len(sentences) == len(ARTICLE)
    ann, bob = Client(app, "ann"), Client(app, "bob")
    for sentence, a_value, b_value in zip(sentences, ANN, BOB):
        _label(ann, sentence, a_value)
        _label(bob, sentence, b_value)
    for client, phrase in ((ann, "reckless waste"), (bob, "reckless")):
        payload = span_payload(document, phrase, "loaded_language", "LOADED_LANGUAGE")
        assert client.call("POST", f"/api/documents/{document.id}/spans", payload).status_code == 201
    session.rollback()
    return {"app": app, "session": session, "project": project, "document": document, "sentences": sentences,
            "people": people, "url": f"/projects/{project.id}/agreement"}


def _get(app, who, url):
    return Client(app, who).http.get(url)


def _page(app, who, url) -> str:
    response = _get(app, who, url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _no_inline_code(page: str) -> None:
    assert "style=" not in page.lower()
    assert "<style" not in page.lower()
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S | re.I):
        assert script.strip() == "", "inline script"
    assert not re.search(r"<[^>]+\son\w+=", page), "inline event handler"


def test_roles(setup):
    app, url = setup["app"], setup["url"]
    assert _get(app, "ann", url).status_code == 403
    assert _get(app, "sup", url).status_code == 200
    assert _get(app, "adm", url).status_code == 200
    anonymous = _get(app, None, url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for suffix in (".json", ".csv", ".html", "/disagreements?layer=claim_type", "/documents?layer=claim_type"):
        assert _get(app, "ann", url + suffix).status_code == 403, suffix
        assert _get(app, None, url + suffix).status_code == 302, suffix
    assert _get(app, "sup", "/projects/9999/agreement").status_code == 404


def test_the_page_shows_the_reports_figures(setup):
    app, session, project = setup["app"], setup["session"], setup["project"]
    page = _page(app, "sup", setup["url"])
    sup = session.scalar(select(User).where(User.username == "sup"))
    report = report_service.cached_report(session, sup, project.id)
    _no_inline_code(page)
    for layer in report["layers"]:
        assert f'id="layer-{layer["layer"]}"' in page
        if layer["kind"] == "choice":
            alpha = layer["metrics"]["alpha"]
            row = re.search(r'<tr data-metric="alpha">.*?</tr>', page[page.index(f'id="layer-{layer["layer"]}"'):], re.S).group(0)
            shown = f"{alpha['value']:.3f}" if alpha["value"] is not None else f"undefined — {alpha['undefined']}"
            assert shown in row, (layer["layer"], row)
            if alpha["band"]:
                assert alpha["band"] in row
    claim = next(layer for layer in report["layers"] if layer["layer"] == "claim_type")
    claim_html = page[page.index('id="layer-claim_type"'):page.index("</section>", page.index('id="layer-claim_type"'))]
    assert f"{claim['metrics']['alpha']['value']:.3f}" in claim_html
    assert "<svg" in claim_html and 'class="point"' in claim_html and 'class="band-tentative"' in claim_html
    assert "95% interval" in claim_html  # the text beside the chart, not colour only
    # Documents link to their review page with only the disagreements shown.
    assert f'href="/documents/{setup["document"].id}/review?disagree=1"' in page
    # The Agreement link on the project page.
    project_page = _page(app, "sup", f"/projects/{project.id}")
    assert f'href="/projects/{project.id}/agreement"' in project_page and ">Agreement<" in project_page


def test_overview_lists_the_lowest_documents_and_links_to_all(setup, monkeypatch):
    """A large project must not put every document on the overview (2,000 documents made it
    1.7 MB and 300 ms): the overview shows the lowest few, the documents page all of them."""
    from annotator.web import report as report_pages

    app, project, document = setup["app"], setup["project"], setup["document"]
    review = f'href="/documents/{document.id}/review?disagree=1"'
    monkeypatch.setattr(report_pages, "DOCUMENTS_SHOWN", 0)
    overview = _page(app, "sup", setup["url"])
    assert review not in overview
    everything = f'href="/projects/{project.id}/agreement/documents?layer=claim_type"'
    assert everything in overview and "All 1 documents of this layer" in overview
    listing = _page(app, "sup", f"/projects/{project.id}/agreement/documents?layer=claim_type")
    _no_inline_code(listing)
    assert review in listing and "Bridge" in listing and "1 document," in listing
    monkeypatch.setattr(report_pages, "DOCUMENTS_SHOWN", 20)
    assert everything not in _page(app, "sup", setup["url"])
    assert _get(app, "sup", f"/projects/{project.id}/agreement/documents?layer=nope").status_code == 404
    assert _get(app, "sup", f"/projects/{project.id}/agreement/documents?layer=attribution&page=1").status_code in (200, 404)


def test_heatmap_cells_link_to_the_disagreement_browser(setup):
    app, people, project = setup["app"], setup["people"], setup["project"]
    page = _page(app, "sup", setup["url"])
    a, b = sorted((people["ann"].id, people["bob"].id))
    for layer in ("claim_type", "loaded_language"):
        for x, y in ((a, b), (b, a)):
            link = f'href="/projects/{project.id}/agreement/disagreements?layer={layer}&amp;a={x}&amp;b={y}"'
            assert link in page, (layer, x, y)
    cells = re.findall(r'<td class="(heat-[^"]+)"><a class="heat-link"[^>]*>([^<]+)</a>', page)
    assert cells and all(re.fullmatch(r"-?\d\.\d{3}|undefined", text) for _, text in cells)


def test_undefined_with_one_annotator(app, session):
    people = add_users(session, SUPERVISION_ROLES)
    project = project_with(session, [build_article("Alone", ["One sentence here. Another one there."], source="alone")],
                           "alone")
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [people["ann"]], [document])
    ann = Client(app, "ann")
    for sentence in _sentences(session, document):
        _label(ann, sentence, "event")
    session.rollback()
    page = _page(app, "sup", f"/projects/{project.id}/agreement")
    _no_inline_code(page)
    assert "agreement needs at least two" in page
    row = re.search(r'<tr data-metric="alpha">.*?</tr>', page, re.S).group(0)
    assert "undefined — " in row and "0.000" not in row
    report = report_service.cached_report(session, people["sup"], project.id)
    reason = report["layers"][0]["metrics"]["alpha"]["undefined"]
    assert reason and f"undefined — {reason}" in row


def test_empty_project(app, session):
    project = projects.get_or_create_project(session, SYSTEM, "empty")
    add_users(session, SUPERVISION_ROLES)  # sup a member of it
    page = _page(app, "sup", f"/projects/{project.id}/agreement")
    assert "No annotations yet" in page and "undefined — " in page
    assert "heat-link" not in page


def test_downloads(setup):
    app, url, project = setup["app"], setup["url"], setup["project"]
    response = _get(app, "sup", url + ".json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    assert data["format"] == 1 and data["project"]["id"] == project.id
    assert {layer["layer"] for layer in data["layers"]} >= {"claim_type", "loaded_language"}

    response = _get(app, "sup", url + ".csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["layer", "metric", "scope"] and len(rows) > 1

    response = _get(app, "sup", url + ".html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Disposition"].startswith("attachment")
    html = response.get_data(as_text=True)
    assert "<script" not in html.lower() and project.name in html

    # Parameters are passed through: only ann -> fewer than two annotators.
    only_ann = json.loads(_get(app, "sup", f"{url}.json?annotators={setup['people']['ann'].id}").get_data(as_text=True))
    assert only_ann["parameters"]["annotators"] == [setup["people"]["ann"].id] and only_ann["counts"]["annotators"] == 1
    other = json.loads(_get(app, "sup", f"{url}.json?documents={setup['document'].id}&since=2000-01-01").get_data(as_text=True))
    assert other["parameters"]["documents"] == [setup["document"].id] and other["parameters"]["since"] == "2000-01-01"
    assert _get(app, "sup", f"{url}.json?documents=x").status_code == 400
    assert _get(app, "sup", f"{url}.json?since=yesterday").status_code == 400


def test_disagreement_browser(setup):
    app, people, project, sentences = setup["app"], setup["people"], setup["project"], setup["sentences"]
    a, b = people["ann"].id, people["bob"].id
    base = f"{setup['url']}/disagreements"
    page = _page(app, "sup", f"{base}?layer=claim_type&a={a}&b={b}")
    _no_inline_code(page)
    shown = [int(x) for x in re.findall(r'<tr class="disagreement" data-sentence="(\d+)"', page)]
    assert shown == [sentences[1].id, sentences[2].id]
    # Side by side, each annotator's value; the article text escaped, never markup.
    assert "<strong>opinion</strong>" in page and "<strong>causal</strong>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;more&lt;/b&gt;" in page and "Bridge &lt;i&gt;story&lt;/i&gt;" in page
    assert page.count(f'href="/documents/{setup["document"].id}/review?disagree=1#s') == 2
    assert "open in review" in page and f'href="/projects/{project.id}/agreement#layer-claim_type"' in page
    # One side only, and no pair: the same two sentences; a pair with no disagreement: none.
    assert re.findall(r'data-sentence="(\d+)"', _page(app, "sup", f"{base}?layer=claim_type&a={a}")) == [
        str(sentences[1].id), str(sentences[2].id)]
    assert "No disagreements" in _page(app, "sup", f"{base}?layer=claim_type&a={a}&b={people['cat'].id}")

    # Span layer: the sentence where their spans differ, both highlighted.
    spans = _page(app, "sup", f"{base}?layer=loaded_language&a={a}&b={b}")
    assert [int(x) for x in re.findall(r'data-sentence="(\d+)"', spans)] == [sentences[1].id]
    assert '<mark class="hl">reckless waste<span class="seg-label">LOADED_LANGUAGE</span></mark>' in spans
    assert '<mark class="hl">reckless<span class="seg-label">LOADED_LANGUAGE</span></mark>' in spans

    assert _get(app, "sup", f"{base}?layer=nope").status_code == 404
    assert _get(app, "sup", f"{base}?layer=claim_type&a=x").status_code == 400


def test_a_slow_report_shows_computing_then_the_report(setup, monkeypatch):
    """Cold and slow: "computing…" with a <progress> and a meta refresh (no script), then the page."""
    import threading
    from annotator.web import report as report_web

    release, real = threading.Event(), report_service.cached_report

    def slow(session, actor, project_id, **keywords):
        assert release.wait(30)
        return real(session, actor, project_id, **keywords)

    monkeypatch.setattr(report_web.reporting, "cached_report", slow)
    app = setup["app"]
    app.config["REPORT_WAIT_SECONDS"] = 0.05
    client = Client(app, "sup")
    response = client.http.get(setup["url"])
    page = response.get_data(as_text=True)
    assert response.status_code == 202 and "Computing the agreement report" in page
    assert '<meta http-equiv="refresh" content="2">' in page and "<progress" in page
    _no_inline_code(page)
    assert client.http.get(setup["url"]).status_code == 202  # the same job, still running
    release.set()
    app.config["REPORT_WAIT_SECONDS"] = 10
    response = client.http.get(setup["url"])
    assert response.status_code == 200 and 'id="layer-claim_type"' in response.get_data(as_text=True)


def _csv(response) -> list[dict]:
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_one_document_has_an_undefined_interval_everywhere(setup):
    """The project has one document: each interval is undefined, with the reason, on the page
    and in every download, never "0.544 to 0.544"."""
    app, url = setup["app"], setup["url"]
    page = _page(app, "sup", url)
    claim = page[page.index('id="layer-claim_type"'):]
    row = re.search(r'<tr data-metric="alpha">.*?</tr>', claim, re.S).group(0)
    assert f"95% interval undefined — {TOO_FEW_DOCUMENTS}" in row
    assert 'class="interval"' not in row and " to " not in row

    data = json.loads(_get(app, "sup", url + ".json").get_data(as_text=True))
    alpha = next(layer for layer in data["layers"] if layer["layer"] == "claim_type")["metrics"]["alpha"]
    assert alpha["value"] is not None and alpha["interval"]["undefined"] == TOO_FEW_DOCUMENTS
    assert alpha["interval"]["low"] is None and alpha["interval"]["high"] is None

    rows = _csv(_get(app, "sup", url + ".csv"))
    alpha_row = next(r for r in rows if (r["layer"], r["metric"], r["scope"]) == ("claim_type", "alpha", "overall"))
    assert (alpha_row["low"], alpha_row["high"], alpha_row["interval_undefined"]) == ("", "", TOO_FEW_DOCUMENTS)

    html = _get(app, "sup", url + ".html").get_data(as_text=True)
    file_row = re.search(r"<tr><th>Krippendorff's alpha</th>.*?</tr>", html, re.S).group(0)
    assert f"undefined: {TOO_FEW_DOCUMENTS}" in file_row


def test_fleiss_kappa_leaves_out_the_sentence_one_annotator_labelled_alone(setup):
    app, session, people = setup["app"], setup["session"], setup["people"]
    project = project_with(session, [build_article("Extra", [" ".join(ARTICLE)], source="extra")], "extra")
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    assign(session, project, [people["ann"], people["bob"]], [document])
    sentences = _sentences(session, document)
    ann, bob = Client(app, "ann"), Client(app, "bob")
    for sentence, a_value, b_value in zip(sentences, ANN, BOB):
        _label(ann, sentence, a_value)
        if sentence.position < len(ARTICLE) - 1:  # bob leaves the last sentence: ann labelled it alone
            _label(bob, sentence, b_value)
    session.rollback()
    url = f"/projects/{project.id}/agreement"
    page = _page(app, "sup", url)
    claim = page[page.index('id="layer-claim_type"'):]
    row = re.search(r'<tr data-metric="fleiss_kappa">.*?</tr>', claim, re.S).group(0)
    assert 'class="undefined"' not in row and "1 left out" in row  # defined, one unit left out
    data = json.loads(_get(app, "sup", url + ".json").get_data(as_text=True))
    fleiss = next(layer for layer in data["layers"] if layer["layer"] == "claim_type")["metrics"]["fleiss_kappa"]
    assert fleiss["value"] is not None and (fleiss["units"], fleiss["units_left_out"]) == (4, 1)
    assert f"{fleiss['value']:.3f}" in row
    fleiss_row = next(r for r in _csv(_get(app, "sup", url + ".csv"))
                      if (r["layer"], r["metric"], r["scope"]) == ("claim_type", "fleiss_kappa", "overall"))
    assert fleiss_row["units_left_out"] == "1"


def test_downloads_name_annotators_by_pseudonym_unless_asked(setup):
    app, url, project, people = setup["app"], setup["url"], setup["project"], setup["people"]
    ann, bob = people["ann"], people["bob"]
    aliases = {pseudonym(SECRET, project.id, user.id) for user in (ann, bob)}
    page = _page(app, "sup", url)
    assert 'name="usernames"' in page and "user names instead of pseudonyms" in page
    # The page itself shows user names to the supervisor.
    assert ">ann<" in page and not any(alias in page for alias in aliases)

    for query, expected in (("", aliases), ("?usernames=1", {"ann", "bob"})):
        rows = _csv(_get(app, "sup", f"{url}.csv{query}"))
        pairs = [r for r in rows if r["scope"] == "pair"]
        assert pairs and {r["a"] for r in pairs} | {r["b"] for r in pairs} == expected
        assert {r["a"] for r in rows if r["scope"] == "annotator"} == expected
        assert not {r["a"] for r in rows if r["scope"] in ("pair", "annotator")} & {str(ann.id), str(bob.id)}
        data = json.loads(_get(app, "sup", f"{url}.json{query}").get_data(as_text=True))
        assert {a["name"] for a in data["annotators"]} == expected
        html = _get(app, "sup", f"{url}.html{query}").get_data(as_text=True)
        assert all(name in html for name in expected)
    assert "ann" not in re.findall(r"<td>([^<]*)</td>", _get(app, "sup", f"{url}.html").get_data(as_text=True))
