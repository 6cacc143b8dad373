"""The report dict, format FORMAT (docs/report-format.md): the project, the parameters, who and
what was counted, a section per layer (choice layers, span layers, relations in codebook
order), each with its rows against gold, and the section on source entities."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..models import Project
from .choice_layers import choice_layer
from .entities import source_entities
from .gold import scores_against_gold
from .load import load
from .relations import relation_layer
from .span_layers import span_layer

FORMAT = 1


def report_parameters(documents, annotators, since: dt.date | None, replicates: int, seed: int) -> dict:
    """The parameters as the report states them and the cache keys them: lists sorted,
    duplicates removed."""
    return {
        "documents": sorted({int(d) for d in documents}) if documents is not None else None,
        "annotators": sorted({int(a) for a in annotators}) if annotators is not None else None,
        "since": since.isoformat() if since is not None else None,
        "replicates": int(replicates),
        "seed": int(seed),
    }


def assemble(session: Session, project: Project, parameters: dict, since: dt.date | None) -> dict:
    """The report of ``project`` for ``parameters`` (report_parameters; ``since`` as a date)."""
    replicates, seed = parameters["replicates"], parameters["seed"]
    data = load(session, project, parameters["documents"], parameters["annotators"], since)
    codebook = data.codebook
    layers = []
    for layer in codebook.choice_layers:
        layers.append(choice_layer(data, layer, replicates, seed))
    for layer in codebook.span_layers:
        layers.append(span_layer(data, layer, replicates, seed))
    for relation in codebook.relations:
        layers.append(relation_layer(data, relation, replicates, seed))
    against_gold = scores_against_gold(session, project, documents=parameters["documents"],
                                       annotators=parameters["annotators"])
    gold_rows = {(layer["kind"], layer["layer"]): layer["annotators"] for layer in against_gold["layers"]}
    for layer in layers:
        layer["gold"] = gold_rows.get((layer["kind"], layer["layer"]))
    return {
        "format": FORMAT,
        "project": {
            "id": project.id,
            "name": project.name,
            "codebook": {"name": codebook.name, "version": codebook.version},
        },
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "annotators": data.users,
        "counts": {
            "documents": len(data.docs),
            "sentences": len(data.sentence_ids),
            "annotators": len(data.users),
        },
        "gold": {"documents": against_gold["documents"]},
        "layers": layers,
        "source_entities": source_entities(data, replicates, seed),
    }
