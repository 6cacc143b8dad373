"""A relation's section of the report: per annotator pair, the attributions aligned on the
documents both hold, per-role exact and overlap F1 and attribute alpha; their means over
the pairs."""

from __future__ import annotations

from itertools import combinations

from .. import agreement
from ..agreement.pairs import mean_over_pairs
from ..agreement.results import NOT_PAIRABLE, undefined
from ..codebook import Relation
from .figures import figure_json
from .load import ReportData, shared_documents


def relation_roles(relation: Relation) -> dict:
    """The roles an attribution_agreement over this relation scores and aligns by: all of
    them, and those it requires (the default codebook: cue and content), else all."""
    roles = [role.name for role in relation.roles]
    return {"roles": roles, "aligning": [role.name for role in relation.roles if role.required] or roles}


def relation_layer(data: ReportData, relation: Relation, replicates: int, seed: int) -> dict:
    """The relation's section (docs/report-format.md, "LAYER, kind `relation`")."""
    owned = data.relations.get(relation.name, {})
    roles = [role.name for role in relation.roles]
    attribute_names = [attribute.name for attribute in relation.attributes]
    pair_rows, per_pair = [], {}
    for a, b in combinations(data.user_ids, 2):
        shared = shared_documents(data, [a, b])
        if shared:
            result = agreement.attribution_agreement(
                [owned.get((a, d), []) for d in shared], [owned.get((b, d), []) for d in shared],
                attribute_names, **relation_roles(relation), replicates=replicates, seed=seed,
            )
            aligned = sum(len(x) for x in result.alignment)
            role_figures = {r: (result.roles[r].exact, result.roles[r].overlap) for r in roles}
            attribute_figures = dict(result.attributes)
        else:
            nothing = undefined(NOT_PAIRABLE, annotators=2)
            aligned, role_figures = 0, {r: (nothing, nothing) for r in roles}
            attribute_figures = dict.fromkeys(attribute_names, nothing)
        per_pair[(a, b)] = (role_figures, attribute_figures)
        pair_rows.append({
            "a": a, "b": b, "aligned": aligned,
            "roles": {r: {"exact": figure_json(e), "overlap": figure_json(o)} for r, (e, o) in role_figures.items()},
            "attributes": {name: figure_json(f) for name, f in attribute_figures.items()},
        })
    pairs = list(per_pair)
    return {
        "layer": relation.name,
        "title": relation.title,
        "kind": "relation",
        "pairs": pair_rows,
        "metrics": {
            "roles": {
                r: {
                    "exact": figure_json(mean_over_pairs([(p, per_pair[p][0][r][0]) for p in pairs])),
                    "overlap": figure_json(mean_over_pairs([(p, per_pair[p][0][r][1]) for p in pairs])),
                }
                for r in roles
            },
            "attributes": {
                name: figure_json(mean_over_pairs([(p, per_pair[p][1][name]) for p in pairs]))
                for name in attribute_names
            },
        },
    }
