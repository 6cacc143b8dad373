"""Attributions adjudicated as units (issue 17): the pure grouping and proposal rules of
annotator.agreement.consensus, then the service (proposal, pre-fill with provenance detail, the
gold export) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from annotator.agreement import Attribution
from annotator.agreement.consensus import (
    OpenAttribute,
    OpenPart,
    ProposedPart,
    attribution_groups,
    attribution_proposals,
)
from annotator.models import GoldProvenance
from annotator.services import adjudication, annotations, exports

from .helpers import add_users, assign, seed_document, seeded_project, span_payload

REQUIRED = {"required_roles": ("cue", "content"), "required_attributes": ("quote_type",)}


def _attribution(cue, content, source=None, **attributes) -> Attribution:
    parts = {"cue": [cue], "content": content if isinstance(content, list) else [content]}
    if source:
        parts["source"] = [source]
    return Attribution(parts=parts, attributes=attributes)


def _only(proposals):
    (proposal,) = proposals
    return proposal


# -- grouping ---------------------------------------------------------------------------------


def test_groups_link_attributions_by_cue_or_content_one_per_annotator():
    a = _attribution((10, 15), (20, 40))
    b = _attribution((10, 15), (22, 40))
    c = _attribution((60, 65), (20, 30))  # shares only content characters with a and b
    far = _attribution((100, 105), (110, 120))
    assert attribution_groups({1: [a, far], 2: [b], 3: [c]}) == [{1: 0, 2: 0, 3: 0}, {1: 1}]
    # Only the source overlaps: the alignment does not link them.
    only_source = Attribution(parts={"source": [(0, 5)], "cue": [(50, 55)]})
    assert attribution_groups({1: [Attribution(parts={"source": [(0, 5)], "cue": [(10, 15)]})], 2: [only_source]}) == [
        {1: 0}, {2: 0}]


def test_of_two_attributions_of_one_annotator_the_better_overlapping_joins():
    """Annotator 2 split one attribution into two on the same cue: the one sharing more with
    annotator 1's joins its group, the other stays alone (and, alone, is not proposed at m=2)."""
    whole = _attribution((10, 15), (20, 60))
    small = _attribution((10, 15), (20, 25))
    large = _attribution((10, 15), (25, 60))
    assert attribution_groups({1: [whole], 2: [small, large]}) == [{1: 0, 2: 1}, {2: 0}]
    proposal = _only(attribution_proposals({1: [whole], 2: [small, large]}, 2, "overlap"))
    assert proposal.members == {1: 0, 2: 1}


# -- parts and attributes ---------------------------------------------------------------------


def test_two_of_three_decide_each_part_and_attribute_separately():
    """No two annotators made the same attribution, yet every part and attribute has a majority
    of two: the proposal is complete, each piece agreed by its own pair."""
    one = _attribution((10, 15), (20, 40), (0, 5), quote_type="direct", cue_type="reporting_verb")
    two = _attribution((10, 15), (20, 40), (0, 8), quote_type="indirect", cue_type="reporting_verb")
    three = _attribution((10, 15), (20, 44), (0, 5), quote_type="direct", cue_type="other")
    proposal = _only(attribution_proposals({1: [one], 2: [two], 3: [three]}, 2, "exact", **REQUIRED))
    assert proposal.parts == [ProposedPart("content", 20, 40, [1, 2]), ProposedPart("cue", 10, 15, [1, 2, 3]),
                              ProposedPart("source", 0, 5, [1, 3])]
    assert proposal.attributes == {"cue_type": "reporting_verb", "quote_type": "direct"}
    assert proposal.attribute_agreed == {"cue_type": [1, 2], "quote_type": [1, 3]}
    assert (proposal.open_parts, proposal.open_attributes, proposal.complete) == ([], [], True)
    assert proposal.agreed == [1, 2, 3]
    assert proposal.unit() == Attribution(parts={"content": [(20, 40)], "cue": [(10, 15)], "source": [(0, 5)]},
                                          attributes={"cue_type": "reporting_verb", "quote_type": "direct"})
    # Three must agree: only the cue is shared by all; the rest is open (three filled it).
    strict = _only(attribution_proposals({1: [one], 2: [two], 3: [three]}, 3, "exact", **REQUIRED))
    assert strict.parts == [ProposedPart("cue", 10, 15, [1, 2, 3])]
    assert {part.role for part in strict.open_parts} == {"content", "source"}
    assert {attribute.name for attribute in strict.open_attributes} == {"cue_type", "quote_type"}
    assert strict.complete is False


def test_a_tie_on_a_part_stays_open_with_its_candidates():
    ann = _attribution((10, 15), (20, 40), quote_type="direct")
    bob = _attribution((10, 15), (20, 44), quote_type="direct")
    proposal = _only(attribution_proposals({1: [ann], 2: [bob]}, 2, "exact", **REQUIRED))
    assert proposal.parts == [ProposedPart("cue", 10, 15, [1, 2])]
    assert proposal.open_parts == [OpenPart("content", [(20, 40, [1]), (20, 44, [2])])]
    assert proposal.attributes == {"quote_type": "direct"} and proposal.complete is False
    # Overlap matching does not resolve a tie of extents either: one vote each.
    overlap = _only(attribution_proposals({1: [ann], 2: [bob]}, 2, "overlap", **REQUIRED))
    assert overlap.open_parts == proposal.open_parts and overlap.complete is False


def test_a_tie_on_an_attribute_stays_open_and_none_does_not_vote():
    ann = _attribution((10, 15), (20, 40), quote_type="direct", source_kind=None)
    bob = _attribution((10, 15), (20, 40), quote_type="mixed", source_kind="person")
    proposal = _only(attribution_proposals({1: [ann], 2: [bob]}, 2, "exact", **REQUIRED))
    assert proposal.open_attributes == [OpenAttribute("quote_type", [("direct", [1]), ("mixed", [2])])]
    assert "quote_type" not in proposal.attributes and proposal.complete is False
    # source_kind: one value, below m and not required: neither proposed nor open.
    assert "source_kind" not in proposal.attributes and [a.name for a in proposal.open_attributes] == ["quote_type"]
    # A third annotator breaks the tie.
    cat = _attribution((10, 15), (20, 40), quote_type="mixed")
    broken = _only(attribution_proposals({1: [ann], 2: [bob], 3: [cat]}, 2, "exact", **REQUIRED))
    assert (broken.attributes, broken.attribute_agreed["quote_type"], broken.complete) == (
        {"quote_type": "mixed"}, [2, 3], True)


def test_overlap_takes_the_majority_extent_with_everyone_overlapping_it():
    spans = {1: [_attribution((10, 15), (20, 40))], 2: [_attribution((10, 15), (20, 40))],
             3: [_attribution((10, 15), (22, 40))]}
    exact = _only(attribution_proposals(spans, 3, "exact"))
    assert [part.role for part in exact.parts] == ["cue"]
    assert exact.open_parts == [OpenPart("content", [(20, 40, [1, 2]), (22, 40, [3])])]
    overlap = _only(attribution_proposals(spans, 3, "overlap"))
    assert ProposedPart("content", 20, 40, [1, 2, 3]) in overlap.parts and overlap.open_parts == []
    assert ProposedPart("content", 20, 40, [1, 2]) in _only(attribution_proposals(spans, 2, "exact")).parts


def test_overlap_votes_per_piece_of_a_multiple_role():
    """Content in two pieces: each piece is decided (or left open) on its own; exact matching
    takes all of a member's pieces as one value."""
    ann = _attribution((10, 15), [(20, 40), (50, 60)])
    bob = _attribution((10, 15), [(20, 40), (50, 62)])
    cat = _attribution((10, 15), [(20, 40), (52, 62)])
    overlap = _only(attribution_proposals({1: [ann], 2: [bob], 3: [cat]}, 2, "overlap"))
    assert [part for part in overlap.parts if part.role == "content"] == [ProposedPart("content", 20, 40, [1, 2, 3])]
    assert overlap.open_parts == [OpenPart("content", [(50, 60, [1]), (50, 62, [2]), (52, 62, [3])])]  # one vote each
    exact = _only(attribution_proposals({1: [ann], 2: [bob], 3: [cat]}, 2, "exact"))
    assert [part.role for part in exact.parts] == ["cue"]  # three different pairs of pieces: a three-way tie
    assert exact.open_parts == [OpenPart("content", [(20, 40, [1, 2, 3]), (50, 60, [1]), (50, 62, [2]), (52, 62, [3])])]
    # Two of three mark the second piece alike: decided both ways, agreed as each rule says.
    cat = _attribution((10, 15), [(20, 40), (50, 62)])
    overlap = _only(attribution_proposals({1: [ann], 2: [bob], 3: [cat]}, 2, "overlap"))
    assert [part for part in overlap.parts if part.role == "content"] == [
        ProposedPart("content", 20, 40, [1, 2, 3]), ProposedPart("content", 50, 62, [1, 2, 3])]
    exact = _only(attribution_proposals({1: [ann], 2: [bob], 3: [cat]}, 2, "exact"))
    assert [part for part in exact.parts if part.role == "content"] == [
        ProposedPart("content", 20, 40, [1, 2, 3]), ProposedPart("content", 50, 62, [2, 3])]
    assert exact.open_parts == [] and overlap.open_parts == []


def test_a_part_one_member_left_out():
    """The source two of three marked is proposed with those two; with three needed it is
    not, and it is open only when the role is required."""
    with_source = _attribution((10, 15), (20, 40), (0, 5))
    without = _attribution((10, 15), (20, 40))
    votes = {1: [with_source], 2: [with_source], 3: [without]}
    assert ProposedPart("source", 0, 5, [1, 2]) in _only(attribution_proposals(votes, 2, "exact")).parts
    strict = _only(attribution_proposals(votes, 3, "exact"))
    assert "source" not in {part.role for part in strict.parts} and strict.open_parts == [] and strict.complete
    required = _only(attribution_proposals(votes, 3, "exact", required_roles=("cue", "content", "source")))
    assert required.open_parts == [OpenPart("source", [(0, 5, [1, 2])])] and required.complete is False
    # A required role nobody filled: nothing to show as a candidate, but never complete.
    missing = _only(attribution_proposals({1: [without], 2: [without]}, 2, "exact", required_roles=("source",)))
    assert missing.open_parts == [] and missing.complete is False


def test_groups_fewer_than_min_agree_share_are_not_proposed():
    ann = _attribution((10, 15), (20, 40))
    alone = _attribution((100, 105), (110, 120))
    proposals = attribution_proposals({1: [ann, alone], 2: [ann]}, 2, "exact")
    assert [proposal.members for proposal in proposals] == [{1: 0, 2: 0}]
    assert len(attribution_proposals({1: [ann, alone], 2: [ann]}, 1, "exact")) == 2
    assert attribution_proposals({}, 2) == []
    with pytest.raises(ValueError, match="matching"):
        attribution_proposals({1: [ann]}, 1, "fuzzy")


# -- the service: the seed article, attributions that differ in a part or an attribute ---------

AGREED_ATTRIBUTES = {"source_kind": "person", "identification": "named", "cue_type": "reporting_verb"}
# (source, cue, content, quote_type) per attribution and annotator; None: the part is left out.
GHAURI = ("Aslam Ghauri, the spokesperson for JUI-F", "conveyed",
          "Khaled Meshaal updated Maulana Fazlur Rehman on the current situation between Palestine and Israel")
NOTED = {"ann": ("The JUI-F representative", "noted", "Meshaal commended JUI-F for commemorating the 'Al-Aqsa Flood,'", "indirect"),
         "bob": ("The JUI-F representative", "noted", "Meshaal commended JUI-F", "mixed"),
         "cat": ("The JUI-F representative", "noted", "Meshaal commended JUI-F for commemorating the 'Al-Aqsa Flood,'", "mixed")}


def _annotate(session, user, document, source, cue, content, **attributes) -> int:
    """One attribution made as the annotation page makes it: its spans, then the unit."""
    parts = []
    for role, phrase in (("source", source), ("cue", cue), ("content", content)):
        if phrase is not None:
            span = annotations.create_span(session, user, document.id, span_payload(document, phrase, "attribution", role.upper()))
            parts.append({"span_id": span["id"], "role": role})
    return annotations.create_attribution(session, user, document.id, {"attributes": attributes, "parts": parts})["id"]


@pytest.fixture
def seed_world(app, session):
    """ann and bob (and cat, with no work yet) on the seed article: the same Ghauri attribution;
    on "noted" they differ in the content's end and in the quote type."""
    project = seeded_project(session)
    people = add_users(session, {"ann": "annotator", "bob": "annotator", "cat": "annotator", "sup": "supervisor"})
    seed = seed_document(session)
    assign(session, project, [people["ann"], people["bob"]], [seed])
    for name in ("ann", "bob"):
        _annotate(session, people[name], seed, *GHAURI, quote_type="indirect", **AGREED_ATTRIBUTES)
        source, cue, content, quote_type = NOTED[name]
        _annotate(session, people[name], seed, source, cue, content, quote_type=quote_type, **AGREED_ATTRIBUTES)
    return {"project": project, "seed": seed, **people}


def _text(seed, part) -> str:
    return seed.text[part["start"]:part["end"]]


def test_the_proposal_keeps_what_two_share_and_opens_what_they_differ_on(seed_world, session):
    seed, ann, bob = seed_world["seed"], seed_world["ann"], seed_world["bob"]
    items = adjudication.view(session, seed_world["sup"], seed.id)["proposal"]["attributions"]
    assert [item["group"] for item in items] == ["g1", "g2"]
    ghauri, noted = items
    assert ghauri["complete"] and ghauri["agreed"] == sorted([ann.id, bob.id]) and not ghauri["in_gold"]
    assert {(part["role"], part["text"]) for part in ghauri["parts"]} == set(zip(("source", "cue", "content"), GHAURI))
    assert ghauri["attributes"] == AGREED_ATTRIBUTES | {"quote_type": "indirect"}
    theirs = {user.id: annotations.annotation_state(session, user, seed.id)["attributions"] for user in (ann, bob)}
    assert ghauri["members"] == {str(user): attributions[0]["id"] for user, attributions in theirs.items()}
    # "noted": source and cue agreed, the content's end and the quote type open, never chosen.
    assert [(part["role"], part["text"], part["agreed"]) for part in noted["parts"]] == [
        ("cue", "noted", sorted([ann.id, bob.id])), ("source", "The JUI-F representative", sorted([ann.id, bob.id]))]
    (content,) = noted["open_parts"]
    assert content["role"] == "content" and content["label"] == "CONTENT"
    assert [(c["text"], c["annotators"]) for c in content["candidates"]] == [
        (NOTED["bob"][2], [bob.id]), (NOTED["ann"][2], [ann.id])]
    assert noted["attributes"] == AGREED_ATTRIBUTES
    assert noted["attribute_agreed"]["cue_type"] == sorted([ann.id, bob.id])
    assert noted["open_attributes"] == [{"name": "quote_type", "candidates": [
        {"value": "indirect", "annotators": [ann.id]}, {"value": "mixed", "annotators": [bob.id]}]}]
    assert noted["complete"] is False


def test_pre_fill_writes_whole_attributions_with_provenance_per_part_and_attribute(seed_world, session):
    seed, ann, bob, sup = seed_world["seed"], seed_world["ann"], seed_world["bob"], seed_world["sup"]
    both = sorted([ann.id, bob.id])
    written = adjudication.apply_proposal(session, sup, seed.id)
    assert written["attributions"] == 2 and written["ties"] >= 1  # the "noted" attribution stays open
    view = adjudication.view(session, sup, seed.id)
    spans = {span["id"]: span for span in view["gold"]["spans"]}
    by_cue = {}
    for attribution in view["gold"]["attributions"]:
        parts = {part["role"]: spans[part["span_id"]]["text"] for part in attribution["parts"]}
        by_cue[parts["cue"]] = (parts, attribution)
    ghauri_parts, ghauri = by_cue["conveyed"]
    assert ghauri_parts == dict(zip(("source", "cue", "content"), GHAURI))
    assert ghauri["attributes"] == AGREED_ATTRIBUTES | {"quote_type": "indirect"}
    noted_parts, noted = by_cue["noted"]
    assert noted_parts == {"source": "The JUI-F representative", "cue": "noted"}  # no content chosen for them
    assert noted["attributes"] == AGREED_ATTRIBUTES  # nor a quote type
    provenance = view["provenance"][f"attribution:{noted['id']}"]
    assert (provenance["method"], provenance["agreed"]) == ("auto", both)
    detail = provenance["detail"]
    assert [(part["role"], part["agreed"]) for part in detail["parts"]] == [("cue", both), ("source", both)]
    assert detail["attributes"] == {name: both for name in AGREED_ATTRIBUTES}
    assert [part["role"] for part in detail["open_parts"]] == ["content"]
    assert detail["open_parts"][0]["candidates"][0].keys() == {"start", "end", "annotators"}
    assert [attribute["name"] for attribute in detail["open_attributes"]] == ["quote_type"]
    row = session.scalar(select(GoldProvenance).where(GoldProvenance.entity_type == "attribution",
                                                      GoldProvenance.entity_id == noted["id"]))
    assert row.detail == detail
    cue_span = next(part["span_id"] for part in noted["parts"] if part["role"] == "cue")
    assert view["provenance"][f"span:{cue_span}"]["agreed"] == both and view["provenance"][f"span:{cue_span}"]["detail"] is None
    # In gold now, as proposed: pre-filling again writes nothing, and never a second attribution
    # over the one a person is still to complete.
    proposal = view["proposal"]["attributions"]
    assert [item["in_gold"] for item in proposal] == [True, True]
    again = adjudication.apply_proposal(session, sup, seed.id)
    assert (again["attributions"], again["spans"]) == (0, 0)
    # A person completes it: the pre-fill's detail gives way to the person's decision.
    content = adjudication.create_gold_span(session, sup, seed.id, span_payload(seed, NOTED["ann"][2], "attribution", "CONTENT"))
    updated = adjudication.update_gold_attribution(session, sup, noted["id"], {
        "version": noted["version"], "attributes": AGREED_ATTRIBUTES | {"quote_type": "indirect"},
        "parts": noted["parts"] + [{"span_id": content["id"], "role": "content"}]})
    provenance = adjudication.view(session, sup, seed.id)["provenance"][f"attribution:{updated['id']}"]
    assert (provenance["method"], provenance["agreed"], provenance["detail"]) == ("accepted", [ann.id], None)


def test_three_annotators_two_of_three_pre_fill_complete_attributions_into_the_gold_export(seed_world, session):
    seed, cat, sup = seed_world["seed"], seed_world["cat"], seed_world["sup"]
    assign(session, seed_world["project"], [cat], [seed])
    # cat agrees with ann on the content of "noted" and with bob on its quote type; on Ghauri,
    # cat leaves out the source and calls it direct: two of three still decide every piece.
    source, cue, content, quote_type = NOTED["cat"]
    _annotate(session, cat, seed, source, cue, content, quote_type=quote_type, **AGREED_ATTRIBUTES)
    _annotate(session, cat, seed, None, *GHAURI[1:], quote_type="direct", **AGREED_ATTRIBUTES)
    items = adjudication.view(session, sup, seed.id)["proposal"]["attributions"]
    assert [item["complete"] for item in items] == [True, True]
    assert len(items[0]["members"]) == 3 and items[0]["attribute_agreed"]["quote_type"] == sorted(
        [seed_world["ann"].id, seed_world["bob"].id])
    written = adjudication.apply_proposal(session, sup, seed.id)
    assert (written["attributions"], written["ties"]) == (2, 0)
    adjudication.finish(session, sup, seed.id)

    (record,) = [r for r in exports.document_records(session, sup, seed_world["project"].id, secret_key="k", gold=True)
                 if r["document"]["id"] == seed.id]
    (entry,) = record["annotations"]
    spans = {span["id"]: span for span in entry["spans"]}
    exported = {}
    for attribution in entry["attributions"]:
        parts = {part["role"]: spans[part["span_id"]]["text"] for part in attribution["parts"]}
        exported[parts["cue"]] = (parts, attribution["attributes"])
    assert exported == {
        "conveyed": (dict(zip(("source", "cue", "content"), GHAURI)), AGREED_ATTRIBUTES | {"quote_type": "indirect"}),
        "noted": ({"source": NOTED["ann"][0], "cue": "noted", "content": NOTED["ann"][2]}, AGREED_ATTRIBUTES | {"quote_type": "mixed"}),
    }
