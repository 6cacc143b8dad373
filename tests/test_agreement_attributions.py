"""Attributions as units (annotator.agreement.attributions): alignment, per-role F1 and
attribute alpha on a small example with answers worked out by hand."""

from __future__ import annotations

import pytest

from annotator.agreement import Attribution, align, attribution_agreement
from annotator.agreement.results import NO_SPANS, NO_VARIATION, NOT_PAIRABLE


def attribution(source=(), cue=(), content=(), supplement=(), **attributes):
    return Attribution(
        parts={
            "source": list(source),
            "cue": list(cue),
            "content": list(content),
            "supplement": list(supplement),
        },
        attributes=attributes,
    )


# Document 0. First annotator: a0 "The minister said ...", a1 "The agency announced ...".
A0 = attribution(
    [(0, 5)],
    [(6, 10)],
    [(12, 40)],
    source_kind="person",
    identification="named",
    cue_type="verb",
    quote_type="direct",
)
A1 = attribution(
    [(50, 55)],
    [(56, 60)],
    [(61, 90)],
    source_kind="organisation",
    identification="named",
    cue_type="verb",
    quote_type="indirect",
)
# Second annotator: the same two (in the other order, one content split in two, one
# identification differing) and a third attribution nobody else saw.
B0 = attribution(
    [(50, 55)],
    [(56, 60)],
    [(61, 80), (82, 90)],
    source_kind="organisation",
    identification="named",
    cue_type="verb",
    quote_type="indirect",
)
B1 = attribution(
    [(0, 5)],
    [(6, 10)],
    [(12, 40)],
    source_kind="person",
    identification="anonymous",
    cue_type="verb",
    quote_type="direct",
)
B2 = attribution([], [(100, 104)], [(105, 120)], cue_type="verb")

FIRST = [[A0, A1]]
SECOND = [[B0, B1, B2]]


def test_alignment_by_cue_and_content_overlap():
    assert align([A0, A1], [B0, B1, B2]) == ((0, 1), (1, 0))
    assert align([A0], []) == ()
    # Only source parts overlap: not aligned (cue and content drive the alignment).
    assert align([attribution([(0, 5)])], [attribution([(0, 5)])]) == ()


def test_greedy_alignment_takes_the_heaviest_pair_first():
    # x overlaps y by 10 characters and z by 20; w overlaps only y. Greedy: (x, z), then (w, y).
    x = attribution(content=[(0, 30)])
    w = attribution(content=[(40, 50)])
    y = attribution(content=[(0, 10), (40, 45)])
    z = attribution(content=[(10, 30)])
    assert align([x, w], [y, z]) == ((0, 1), (1, 0))


def test_per_role_scores():
    result = attribution_agreement(FIRST, SECOND)
    assert result.alignment == (((0, 1), (1, 0)),)
    roles = result.roles
    # source: 2 parts each, both identical in aligned pairs.
    assert roles["source"].exact.value == 1.0 and roles["source"].overlap.value == 1.0
    # cue: 2 + 3 parts, 2 identical; partial credit P = 2/2, R = 2/3 -> F1 0.8.
    assert roles["cue"].exact.value == pytest.approx(4 / 5)
    assert roles["cue"].overlap.value == pytest.approx(0.8)
    # content: first (12,40),(61,90); second (61,80),(82,90),(12,40),(105,120).
    # Exact: one match of 2 + 4 parts. Partial: P = (1 + 19/29 + 8/29)/2 = 28/29,
    # R = (1 + 1 + 1 + 0)/4 = 3/4, F1 = 2PR/(P+R) = 168/199.
    assert roles["content"].exact.value == pytest.approx(2 / 6)
    assert roles["content"].overlap.value == pytest.approx(168 / 199)
    assert (roles["content"].exact.pairs, roles["content"].exact.annotators) == (6, 2)
    # supplement: nobody marked one.
    assert roles["supplement"].exact.undefined == NO_SPANS


def test_attribute_alpha_on_aligned_pairs():
    attributes = attribution_agreement(FIRST, SECOND, replicates=0).attributes
    # Two aligned pairs; unaligned B2 takes no part.
    assert attributes["source_kind"].value == 1.0
    assert attributes["quote_type"].value == 1.0
    # identification: (named, anonymous) and (named, named): o_nn = 2, o_na = o_an = 1,
    # n = 4, α = 1 - 3 · 2 / (2 · 3 · 1) = 0.
    assert attributes["identification"].value == pytest.approx(0.0)
    assert attributes["identification"].units == 2 and attributes["identification"].pairs == 4
    # cue_type: "verb" everywhere.
    assert attributes["cue_type"].undefined == NO_VARIATION


def test_no_aligned_attributions():
    result = attribution_agreement([[A0]], [[B2]])
    assert result.alignment == ((),)
    assert result.attributes["source_kind"].undefined == NOT_PAIRABLE
    assert result.roles["cue"].exact.value == 0.0


def test_documents_are_aligned_separately():
    result = attribution_agreement([[A0], [A1]], [[B0], [B1]])
    # A0 and B1 are identical spans but sit in different documents.
    assert result.alignment == ((), ())
    with pytest.raises(ValueError):
        attribution_agreement([[A0]], [])


def test_a_codebooks_own_roles_are_scored_and_aligned_by():
    """A relation of another codebook (tests/data/codebooks/custom.json: support, with a claim
    and evidence): its roles are scored, and its attributions aligned by the roles named."""
    first = [[Attribution(parts={"claim": [(0, 10)], "evidence": [(20, 30)]}, attributes={"strength": "weak"}),
              Attribution(parts={"claim": [(40, 50)], "evidence": [(60, 70)]}, attributes={"strength": "strong"})]]
    second = [[Attribution(parts={"claim": [(40, 50)], "evidence": [(60, 65)]}, attributes={"strength": "strong"}),
               Attribution(parts={"claim": [(0, 10)], "evidence": [(20, 30)]}, attributes={"strength": "weak"})]]
    result = attribution_agreement(first, second, ("strength",), roles=("claim", "evidence"),
                                   aligning=("claim", "evidence"), replicates=0)
    assert result.alignment == (((0, 1), (1, 0)),)
    assert set(result.roles) == {"claim", "evidence"}
    assert result.roles["claim"].exact.value == 1.0
    assert result.roles["evidence"].exact.value == pytest.approx(2 * 1 / 4)
    assert result.attributes["strength"].value == 1.0
    # By the default codebook's roles nothing would align, and every figure would say "no spans".
    assert attribution_agreement(first, second, ("strength",), replicates=0).alignment == ((),)
