"""Profiles count distinct sources (entities) and list the top quoted sources, on SQLite and
PostgreSQL: a project made through the services, every new figure and table checked by hand, and
equal to counts taken independently from the span CSV export and the registry download of the
same project; the cached profile read a part at a time; the page's table.

The project: Dawn's D1, read by ann and bob (a half each), names Maulana Fazlur Rehman and then
quotes "He": ann links the pronoun to him, bob leaves it unlinked (its own source). Dawn's D2 is
adjudicated: gold links Aslam Ghauri and "A police official" (to Police); ann's reading of it is
in the spread only. ARY News's D3, read by ann and bob: ann links "Fazlur Rehman" to an entity
of that name made on the spot, which the supervisor then merges into Maulana Fazlur Rehman
(quoted in both outlets), and quotes Police and Maryam Nawaz; bob quotes the Maulana only.
Genders, set by the supervisor: the Maulana male, Maryam Nawaz female, Aslam Ghauri not set.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

import pytest
from sqlalchemy import select

from annotator.agreement.results import FEWER_THAN_TWO_ANNOTATORS
from annotator.exporters import entities as registry_files
from annotator.ingest import Article
from annotator.ingest.text import segment
from annotator.models import Document, Report
from annotator.services import adjudication, annotations, assignments, entities, projects
from annotator.services import profiles as profile_service
from annotator.services.permissions import SYSTEM

from .helpers import Client, add_users, assign, project_with, span_payload
from .test_profiles_service import counts_from_exports, export_rows, weights_from_exports

TEXTS = {
    "D1": "Maulana Fazlur Rehman said the talks had failed. He added that the march would go on.",
    "D2": "Aslam Ghauri said the party would march. A police official noted that roads were closed.",
    "D3": "Fazlur Rehman told reporters he was ready. Police said the roads were open. Maryam Nawaz warned of chaos.",
}
OUTLETS = {"D1": "Dawn", "D2": "Dawn", "D3": "ARY News"}
RELATION = "attribution"


def _attributes(kind, identification):
    return {"source_kind": kind, "identification": identification, "cue_type": "reporting_verb", "quote_type": "indirect"}


def sourced_world(session) -> dict:
    """The project of the module's docstring, made through the services."""
    project = project_with(session, [Article(title=t, text=text, sentences=segment(text), outlet=OUTLETS[t],
                                             published=dt.date(2024, 5, 1)) for t, text in TEXTS.items()], name="sourced")
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor"}, member=False)
    projects.add_members(session, SYSTEM, project.id, [people["sup"].id])
    docs = {d.title: d for d in session.scalars(select(Document).where(Document.project_id == project.id))}
    assign(session, project, [people["ann"], people["bob"]])
    ann, bob, sup = people["ann"], people["bob"], people["sup"]

    def quote(write_span, write_attribution, document, source, cue, content, link=None, kind="person"):
        """An attribution with its three spans; ``link``: the source span's entity_id or entity_name."""
        ids = {}
        for role, phrase, label in (("source", source, "SOURCE"), ("cue", cue, "CUE"), ("content", content, "CONTENT")):
            extra = link if role == "source" and link else {}
            ids[role] = write_span(document.id, span_payload(document, phrase, "attribution", label, **extra))["id"]
        write_attribution(document.id, {"relation": RELATION, "attributes": _attributes(kind, "named"),
                                        "parts": [{"role": r, "span_id": s} for r, s in ids.items()]})
        return ids["source"]

    def as_user(user):
        return (lambda d, p: annotations.create_span(session, user, d, p),
                lambda d, p: annotations.create_attribution(session, user, d, p))

    d1, d2, d3 = docs["D1"], docs["D2"], docs["D3"]
    rehman = entities.create_entity(session, ann, project.id, {"name": "Maulana Fazlur Rehman", "kind": "person",
                                                               "anonymity": "named"})
    # D1: the pronoun linked to the entity named in the sentence before (ann), or not (bob).
    quote(*as_user(ann), d1, "Maulana Fazlur Rehman", "said", "the talks had failed", {"entity_id": rehman["id"]})
    quote(*as_user(ann), d1, "He", "added", "the march would go on", {"entity_id": rehman["id"]})
    quote(*as_user(bob), d1, "Maulana Fazlur Rehman", "said", "the talks had failed", {"entity_id": rehman["id"]})
    quote(*as_user(bob), d1, "He", "added", "the march would go on")
    # D2: ann links Ghauri and leaves the police official unlinked; gold links both.
    quote(*as_user(ann), d2, "Aslam Ghauri", "said", "the party would march", {"entity_name": "Aslam Ghauri"})
    quote(*as_user(ann), d2, "A police official", "noted", "roads were closed", kind="organisation")
    police = entities.create_entity(session, sup, project.id, {"name": "Police", "kind": "organisation"})
    adjudication.start(session, sup, d2.id)
    gold = (lambda d, p: adjudication.create_gold_span(session, sup, d, p),
            lambda d, p: adjudication.create_gold_attribution(session, sup, d, p))
    quote(*gold, d2, "Aslam Ghauri", "said", "the party would march", {"entity_name": "Aslam Ghauri"})
    quote(*gold, d2, "A police official", "noted", "roads were closed", {"entity_id": police["id"]}, kind="organisation")
    # D3: ann links "Fazlur Rehman" to an entity of that name, made on the spot (merged below).
    quote(*as_user(ann), d3, "Fazlur Rehman", "told", "he was ready", {"entity_name": "Fazlur Rehman"})
    quote(*as_user(ann), d3, "Police", "said", "the roads were open", {"entity_id": police["id"]}, kind="organisation")
    quote(*as_user(ann), d3, "Maryam Nawaz", "warned", "of chaos", {"entity_name": "Maryam Nawaz"})
    quote(*as_user(bob), d3, "Fazlur Rehman", "told", "he was ready", {"entity_id": rehman["id"]})
    for user, document in ((ann, d1), (bob, d1), (ann, d2), (ann, d3), (bob, d3)):
        assignments.mark_done(session, user, document.id)
    adjudication.finish(session, sup, d2.id)
    named = {e["name"]: e for e in entities.registry_records(session, sup, project.id)}
    return {"project": project, "docs": docs, "entities": named, "rehman": rehman["id"], "police": police["id"], **people}


def set_genders_and_merge(session, world) -> None:
    """What the supervisor does after the linking: genders recorded, "Fazlur Rehman" merged into the Maulana."""
    sup, named = world["sup"], world["entities"]
    for name, fields in (("Maulana Fazlur Rehman", {"gender": "male"}), ("Maryam Nawaz", {"kind": "person", "gender": "female"}),
                         ("Aslam Ghauri", {"kind": "person"})):
        entity = entities.get_entity(session, sup, named[name]["id"])
        entities.update_entity(session, sup, entity["id"], {"version": entity["version"], **fields})
    entities.merge_entities(session, sup, world["rehman"], {"other_id": named["Fazlur Rehman"]["id"]})


@pytest.fixture
def world(session):
    built = sourced_world(session)
    set_genders_and_merge(session, built)
    return built


def index(profile: dict, key: str) -> int:
    return [f["key"] for f in profile["figures"]].index(key)


def by_label(profile: dict) -> dict[str, dict]:
    return {group["label"]: group for group in profile["groups"]}


def top_rows(profile: dict, group: dict) -> list[tuple]:
    """(name, (attributions, articles, share)) of the group's top quoted sources."""
    names = {entity["id"]: entity["name"] for entity in profile["sources"]}
    top = group["top_sources"][RELATION]
    return [(names[e], (c, a, s)) for e, c, a, s in zip(top["entity"], top["citations"], top["articles"], top["share"])]


def rows(*expected: tuple) -> list:
    """``top_rows`` as expected: (name, attributions, articles, share) each, compared approximately."""
    return [(name, pytest.approx(tuple(numbers))) for name, *numbers in expected]


def test_distinct_sources_mentions_and_genders_by_hand(session, world):
    profile = profile_service.build_profile(session, world["sup"], world["project"].id, by="outlet")
    dawn, ary, overall = by_label(profile)["Dawn"], by_label(profile)["ARY News"], profile["overall"]

    def figure(group, key):
        i = index(profile, key)
        return group["numerator"][i], group["denominator"][i], group["value"][i]

    # Distinct sources: D1 ann 1 (the Maulana twice), bob 2 (the unlinked "He" is a source of its
    # own): 1.5; D2 gold 2. D3 ann 3, bob 1: 2.
    assert figure(dawn, f"{RELATION}/sources_per_article") == pytest.approx((3.5, 2, 1.75))
    assert figure(ary, f"{RELATION}/sources_per_article") == pytest.approx((2, 1, 2))
    # Mentions: D1 2 and 2, D2 gold 2 -> 4 mentions of 3.5 sources; D3 (3 + 1) / 2 of 2.
    assert figure(dawn, f"{RELATION}/mentions_per_source") == pytest.approx((4, 3.5, 4 / 3.5))
    assert figure(ary, f"{RELATION}/mentions_per_source") == pytest.approx((2, 2, 1))
    assert figure(dawn, f"{RELATION}/linked_mentions") == pytest.approx((3.5, 4, 3.5 / 4))  # bob's "He" unlinked
    # Linked person sources: D1 the Maulana (male); D2 Aslam Ghauri (no gender recorded); D3 ann
    # the Maulana and Maryam Nawaz (female), bob the Maulana.
    assert figure(dawn, f"{RELATION}/gender_recorded") == pytest.approx((1, 2, 0.5))
    assert figure(dawn, f"{RELATION}/source_gender/male") == pytest.approx((1, 1, 1.0))
    assert figure(ary, f"{RELATION}/source_gender/male") == pytest.approx((1, 1.5, 2 / 3))
    assert figure(ary, f"{RELATION}/source_gender/female") == pytest.approx((0.5, 1.5, 1 / 3))
    assert figure(overall, f"{RELATION}/source_gender/female") == pytest.approx((0.5, 2.5, 0.2))
    assert figure(overall, f"{RELATION}/gender_recorded") == pytest.approx((2.5, 3.5, 2.5 / 3.5))
    assert figure(ary, f"{RELATION}/source_gender/non_binary") == pytest.approx((0, 1.5, 0))


def test_top_quoted_sources_by_hand(session, world):
    profile = profile_service.build_profile(session, world["sup"], world["project"].id, by="outlet")
    dawn, ary, overall = by_label(profile)["Dawn"], by_label(profile)["ARY News"], profile["overall"]
    # Dawn: 4 attributions (D1 (2 + 2) / 2, D2 gold 2). The Maulana: ann 2, bob 1 -> 1.5 in D1;
    # Ghauri and Police once each in D2's gold (tied: by name).
    assert dawn["top_sources"][RELATION]["attributions"] == 4 and dawn["top_sources"][RELATION]["cited"] == 3
    assert top_rows(profile, dawn) == rows(("Maulana Fazlur Rehman", 1.5, 1, 0.375), ("Aslam Ghauri", 1, 1, 0.25),
                                           ("Police", 1, 1, 0.25))
    # ARY News: 2 attributions; the Maulana by both (ann's link moved to him by the merge).
    assert top_rows(profile, ary) == rows(("Maulana Fazlur Rehman", 1, 1, 0.5), ("Maryam Nawaz", 0.5, 0.5, 0.25),
                                          ("Police", 0.5, 0.5, 0.25))
    # One entity quoted in two outlets: overall 2.5 of 6 attributions, in two articles.
    assert top_rows(profile, overall) == rows(("Maulana Fazlur Rehman", 2.5, 2, 2.5 / 6), ("Police", 1.5, 1.5, 0.25),
                                              ("Aslam Ghauri", 1, 1, 1 / 6), ("Maryam Nawaz", 0.5, 0.5, 0.5 / 6))
    # The annotators' own shares: Dawn, ann 2 of 4 (D2 hers: Ghauri 1 of 4, police unlinked), bob 1 of 2.
    spread = dawn["top_sources"][RELATION]["spread"]
    assert (spread["low"], spread["high"]) == (pytest.approx([0.5, 0, 0]), pytest.approx([0.5, 0.25, 0]))
    spread = ary["top_sources"][RELATION]["spread"]
    assert (spread["low"], spread["high"]) == (pytest.approx([1 / 3, 0, 0]), pytest.approx([1, 1 / 3, 1 / 3]))
    # The registry's fields, as the supervisor set them; the merged entity is not listed.
    fields = {entity["name"]: (entity["kind"], entity["gender"]) for entity in profile["sources"]}
    assert fields == {"Maulana Fazlur Rehman": ("person", "male"), "Aslam Ghauri": ("person", None),
                      "Police": ("organisation", None), "Maryam Nawaz": ("person", "female")}
    # By annotator: each group one reader's, no spread.
    readers = profile_service.build_profile(session, world["sup"], world["project"].id, by="annotator", replicates=0)
    ann = by_label(readers)["ann"]
    assert top_rows(readers, ann)[0] == rows(("Maulana Fazlur Rehman", 3, 2, 3 / 7))[0]
    assert ann["top_sources"][RELATION]["spread"]["undefined"][0] == "each group is one reader's"
    month = profile_service.build_profile(session, world["sup"], world["project"].id, by="month", replicates=0)
    assert month["groups"][0]["top_sources"][RELATION]["spread"]["undefined"][0] is None


def test_the_merge_after_linking_renews_the_cached_profile(session):
    world = sourced_world(session)
    sup, project_id = world["sup"], world["project"].id
    before = profile_service.cached_profile(session, sup, project_id, replicates=0)
    ary = by_label(before)["ARY News"]
    # Before the merge ann's "Fazlur Rehman" is an entity of its own, bob's link the Maulana.
    assert [name for name, _ in top_rows(before, ary)] == ["Fazlur Rehman", "Maryam Nawaz", "Maulana Fazlur Rehman", "Police"]
    assert ary["value"][index(before, f"{RELATION}/gender_recorded")] == 0.0  # the Maulana, no gender recorded yet
    assert ary["undefined"][index(before, f"{RELATION}/source_gender/male")] == "no linked person source with a gender recorded"
    set_genders_and_merge(session, world)
    after = profile_service.cached_profile(session, sup, project_id, replicates=0)
    assert [name for name, _ in top_rows(after, by_label(after)["ARY News"])] == ["Maulana Fazlur Rehman", "Maryam Nawaz", "Police"]


# -- the same counts from the exports -------------------------------------------------------------------


def test_sources_equal_counts_from_the_span_export_and_the_registry(session, world):
    project_id = world["project"].id
    _, finished, documents = counts_from_exports(session, project_id)
    weights = weights_from_exports(finished, documents)
    registry_csv = "".join(registry_files.export(entities.registry_records(session, SYSTEM, project_id), "csv"))
    registry = {int(r["id"]): r for r in csv.DictReader(io.StringIO(registry_csv))}
    spans = export_rows(session, project_id, "csv", gold=False) + export_rows(session, project_id, "csv", gold=True)
    # Per reading: source mentions (span extents), their entities, the attributions citing each.
    mentions: dict[tuple, dict] = defaultdict(dict)
    attributions: dict[tuple, set] = defaultdict(set)
    citing: dict[tuple, dict] = defaultdict(lambda: defaultdict(set))
    for r in spans:
        reading = (int(r["document_id"]), r["annotator"])
        if r["attribution_id"]:
            attributions[reading].add(r["attribution_id"])
        if r["role"] == "source":
            mentions[reading][(r["start"], r["end"])] = r["entity_id"]
            if r["entity_id"]:
                citing[reading][int(r["entity_id"])].add(r["attribution_id"])
    totals: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    cited: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for (document, reader), weight in weights.items():
        reading, outlet = (document, reader), documents[document]["outlet"]
        linked = {int(e) for e in mentions[reading].values() if e}
        persons = [e for e in linked if registry[e]["kind"] == "person"]
        gendered = [registry[e]["gender"] for e in persons if registry[e]["gender"]]
        for group in (outlet, "overall"):
            total = totals[group]
            total["articles"] += weight
            total["attributions"] += weight * len(attributions[reading])
            total["mentions"] += weight * len(mentions[reading])
            total["linked"] += weight * sum(1 for e in mentions[reading].values() if e)
            total["sources"] += weight * (len(linked) + sum(1 for e in mentions[reading].values() if not e))
            total["persons"] += weight * len(persons)
            total["gendered"] += weight * len(gendered)
            for gender in gendered:
                total[gender] += weight
            for entity, ids in citing[reading].items():
                cited[group][entity][0] += weight * len(ids)
                cited[group][entity][1] += weight
    profile = profile_service.build_profile(session, world["sup"], project_id, by="outlet", replicates=0)
    pairs = {"sources_per_article": ("sources", "articles"), "mentions_per_source": ("mentions", "sources"),
             "linked_mentions": ("linked", "mentions"), "gender_recorded": ("gendered", "persons"),
             "source_gender/male": ("male", "gendered"), "source_gender/female": ("female", "gendered")}
    for group in [profile["overall"], *profile["groups"]]:
        total = totals[group["key"] or "overall"]
        for key, (numerator, denominator) in pairs.items():
            i = index(profile, f"{RELATION}/{key}")
            assert (group["numerator"][i], group["denominator"][i]) == pytest.approx(
                (total[numerator], total[denominator])), (group["label"], key)
        ranked = sorted(cited[group["key"] or "overall"].items(),
                        key=lambda item: (-item[1][0], -item[1][1], registry[item[0]]["name"].casefold()))
        expected = [(registry[e]["name"], c, a, c / total["attributions"]) for e, (c, a) in ranked]
        assert top_rows(profile, group) == rows(*expected), group["label"]
        assert group["top_sources"][RELATION]["attributions"] == pytest.approx(total["attributions"])


# -- the cache, a part at a time --------------------------------------------------------------------------


def test_the_cached_profile_is_read_a_part_at_a_time(session, world, monkeypatch):
    sup, project_id = world["sup"], world["project"].id
    monkeypatch.setattr(profile_service, "PART_GROUPS", 2)  # D1, D2 | D3
    full = profile_service.build_profile(session, sup, project_id, by="document", replicates=0, compare=["D3", "D1"])
    page = profile_service.cached_profile_page(session, sup, project_id, by="document", replicates=0, compare=["D3", "D1"],
                                               start=1, stop=2)
    assert page.total == 3 and page.labels == [(g["key"], g["label"]) for g in full["groups"]]
    assert [g["label"] for g in page.profile["groups"]] == ["D2"]
    assert [g["label"] for g in page.compared] == ["D3", "D1"]
    keys = session.scalars(select(Report.key).where(Report.project_id == project_id)).all()
    key = profile_service.profile_key(project_id, profile_service.profile_parameters("document", ["D3", "D1"], 0, 20261125))
    assert sorted(keys) == sorted([key, profile_service.part_key(key, 0), profile_service.part_key(key, 1)])
    # Read back: the page's part only, the same groups as computed; the whole profile from every part.
    again = profile_service.cached_profile_page(session, sup, project_id, by="document", replicates=0, compare=["D3", "D1"],
                                                start=2, stop=3)
    assert again.profile["generated_at"] == page.profile["generated_at"]
    assert again.profile["groups"] == [{**full["groups"][2]}]
    whole = profile_service.cached_profile(session, sup, project_id, by="document", replicates=0, compare=["D3", "D1"])
    assert {**whole, "generated_at": None} == {**full, "generated_at": None}
    # A part gone from the cache: computed and stored anew.
    session.execute(Report.__table__.delete().where(Report.key == profile_service.part_key(key, 1)))
    session.commit()
    fresh = profile_service.cached_profile_page(session, sup, project_id, by="document", replicates=0, compare=["D3", "D1"],
                                                start=2, stop=3)
    assert [g["label"] for g in fresh.profile["groups"]] == ["D3"]
    assert session.scalar(select(Report.id).where(Report.key == profile_service.part_key(key, 1))) is not None


# -- the page and the downloads ---------------------------------------------------------------------------


def test_the_page_shows_the_top_quoted_sources(app, session, world):
    client = Client(app, "sup")
    page = client.get(f"/projects/{world['project'].id}/profile").get_data(as_text=True)
    assert "Top quoted sources, by outlet" in page
    table = page[page.index('<table class="profile-sources">'):]
    table = table[:table.index("</table>")]
    bodies = table.split("<tbody")[1:]
    assert [body.count("<tr>") for body in bodies] == [4, 3, 3]  # All articles, ARY News, Dawn
    assert "6 attributions, 4 linked sources cited" in bodies[0]
    first = bodies[2].split("<tr>")[1]  # Dawn's first row
    for cell in ("Maulana Fazlur Rehman", "person", "named", "male", ">1.5<", ">1<", "37.5%", "50.0% – 50.0% (2 annotators)"):
        assert cell in first, cell
    assert '<rect class="bar" width="37.5" height="10">' in first
    assert "undefined — " + FEWER_THAN_TWO_ANNOTATORS not in table
    assert "person sources with a gender recorded" in page and "Attribution: gender of linked person sources" in page
    for bad in ("style=", "<script"):
        assert bad not in page
    rows_ = list(csv.DictReader(io.StringIO(client.get(f"/projects/{world['project'].id}/profile.csv").get_data(as_text=True))))
    top = [(r["group"], r["rank"], r["entity_name"], r["entity_gender"], float(r["value"])) for r in rows_
           if r["scope"] == "top source" and r["group"] == "Dawn"]
    assert top == [("Dawn", "1", "Maulana Fazlur Rehman", "male", 0.375), ("Dawn", "2", "Aslam Ghauri", "", 0.25),
                   ("Dawn", "3", "Police", "", 0.25)]
    html = client.get(f"/projects/{world['project'].id}/profile.html").get_data(as_text=True)
    assert "Top quoted sources" in html and "Maryam Nawaz" in html
