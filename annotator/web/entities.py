"""Sources as entities (docs/entities.md): the JSON API the annotation page searches the
registry through, and the supervisors' pages (the registry, an entity, merging and splitting).

Thin: ``annotator.services.entities`` checks who may do what (annotators of the project search,
create and change the entities they made; its supervisors change any, merge and split) and
audits every change. A span is linked through the span's own update (annotator/web/api.py).
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from ..app import db
from ..errors import ServiceError
from ..exporters import entities as registry_files
from ..models import GENDERS
from ..services import entities, projects
from .forms import finish_form
from .params import flag, idempotency_key, json_body, page_number, whole_number

bp = Blueprint("entities", __name__)


# -- the JSON API -----------------------------------------------------------------------------------


@bp.get("/api/projects/<int:project_id>/entities")
@login_required
def search(project_id: int):
    """The type-ahead: ``q`` (a name, an alias, a span's text), ``limit`` (1 to 50, 10 by default)."""
    raw = request.args.get("limit", "").strip()
    limit = whole_number("limit", raw) if raw else entities.SEARCH_LIMIT
    return jsonify(entities.search(db.session, current_user, project_id, request.args.get("q", ""), limit))


@bp.post("/api/projects/<int:project_id>/entities")
@login_required
def create(project_id: int):
    return jsonify(entities.create_entity(db.session, current_user, project_id, json_body(), idempotency_key=idempotency_key())), 201


@bp.get("/api/entities/<int:entity_id>")
@login_required
def entity_json(entity_id: int):
    """The entity, with what the signed-in user may change (the annotation page's editor, #)."""
    return jsonify(entities.entity_for(db.session, current_user, entity_id))


@bp.patch("/api/entities/<int:entity_id>")
@login_required
def update(entity_id: int):
    return jsonify(entities.update_entity(db.session, current_user, entity_id, json_body(), idempotency_key=idempotency_key()))


@bp.post("/api/entities/<int:entity_id>/merge")
@login_required
def merge_json(entity_id: int):
    return jsonify(entities.merge_entities(db.session, current_user, entity_id, json_body(), idempotency_key=idempotency_key()))


@bp.post("/api/entities/<int:entity_id>/split")
@login_required
def split_json(entity_id: int):
    return jsonify(entities.split_entity(db.session, current_user, entity_id, json_body(), idempotency_key=idempotency_key())), 201


@bp.get("/api/entities/<int:entity_id>/history")
@login_required
def history_json(entity_id: int):
    return jsonify(entities.history(db.session, current_user, entity_id))


# -- supervisors' pages ---------------------------------------------------------------------------


def _fields() -> dict:
    """An entity form's fields, as the API takes them (the aliases one per line)."""
    form = request.form
    data = {name: form.get(name, "") for name in ("name", "kind", "affiliation", "anonymity", "wikidata_id", "gender")
            if name in form}
    if "aliases" in form:
        data["aliases"] = [line for line in form.get("aliases", "").splitlines() if line.strip()]
    return data


def _options(codebook) -> dict:
    """The values an entity's kind, anonymity and gender may take (none: the codebook has no such attribute)."""
    return {"kinds": entities.attribute_values(codebook, entities.KIND_ATTRIBUTE) or (),
            "anonymities": entities.attribute_values(codebook, entities.ANONYMITY_ATTRIBUTE) or (),
            "genders": GENDERS}


@bp.get("/projects/<int:project_id>/entities", endpoint="registry")
@login_required
def registry(project_id: int):
    page = entities.registry(db.session, current_user, project_id, page_number(), request.args.get("q", ""))
    return render_template("entities/registry.html", registry=page, **_options(page["codebook"]))


@bp.post("/projects/<int:project_id>/entities", endpoint="add")
@login_required
def add(project_id: int):
    projects.get_project(db.session, current_user, project_id)  # 403/404 before the form's fields are read and judged
    back = url_for(".registry", project_id=project_id)
    return finish_form(back, lambda: entities.create_entity(db.session, current_user, project_id, _fields()),
                       lambda entity: f"Added {entity['name']} to the registry.")


def _filename(project_name: str, extension: str) -> str:
    """ASCII letters, digits, dots, dashes and underscores only: safe in the header."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", project_name).strip("-.") or "project"
    return f"{stem}-sources.{extension}"


@bp.get("/projects/<int:project_id>/entities/export", endpoint="download")
@login_required
def download(project_id: int):
    """The registry as ``format`` jsonl (default) or csv (``bom=1``: with a byte order mark)."""
    project = projects.get_project(db.session, current_user, project_id)
    format_name = request.args.get("format", "jsonl").strip() or "jsonl"
    if format_name not in registry_files.FORMATS:
        raise ServiceError(f"the registry is exported as {' or '.join(registry_files.FORMATS)}", field="format")
    records = entities.registry_records(db.session, current_user, project_id)
    media_type, extension = registry_files.FORMATS[format_name]
    response = Response(registry_files.export(records, format_name, bom=flag("bom")), content_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(project.name, extension)}"'
    return response


@bp.get("/entities/<int:entity_id>", endpoint="entity")
@login_required
def entity(entity_id: int):
    page = entities.entity_page(db.session, current_user, entity_id, page_number())
    return render_template("entities/entity.html", page=page, **_options(page["codebook"]))


@bp.post("/entities/<int:entity_id>", endpoint="edit")
@login_required
def edit(entity_id: int):
    entities.supervised_entity(db.session, current_user, entity_id)  # 403/404 before the form is judged

    def run():
        version = whole_number("version", request.form.get("version", "").strip())
        return entities.update_entity(db.session, current_user, entity_id, _fields() | {"version": version})

    return finish_form(url_for(".entity", entity_id=entity_id), run, lambda saved: f"Saved {saved['name']}.")


@bp.get("/entities/<int:entity_id>/merge", endpoint="merge_form")
@login_required
def merge_form(entity_id: int):
    query = request.args.get("q", "")
    page = entities.entity_page(db.session, current_user, entity_id)
    candidates = entities.merge_candidates(db.session, current_user, entity_id, query)
    return render_template("entities/merge.html", page=page, candidates=candidates, query=query)


@bp.post("/entities/<int:entity_id>/merge", endpoint="merge")
@login_required
def merge(entity_id: int):
    entities.supervised_entity(db.session, current_user, entity_id)  # 403/404 before the form is judged

    def run():
        other = whole_number("other_id", request.form.get("other_id", "").strip())
        return entities.merge_entities(db.session, current_user, entity_id, {"other_id": other})

    def report(result) -> str:
        return (f"Merged entity {result['merged']} into {result['name']}: {len(result['spans'])} mention(s) "
                f"and {len(result['moved_aliases'])} alias(es) moved.")

    return finish_form(url_for(".entity", entity_id=entity_id), run, report)


@bp.get("/entities/<int:entity_id>/split", endpoint="split_form")
@login_required
def split_form(entity_id: int):
    page = entities.entity_page(db.session, current_user, entity_id, page_number())
    return render_template("entities/split.html", page=page, **_options(page["codebook"]))


@bp.post("/entities/<int:entity_id>/split", endpoint="split")
@login_required
def split(entity_id: int):
    entities.supervised_entity(db.session, current_user, entity_id)  # 403/404 before the form is judged

    def run():
        spans = [whole_number("span_ids", raw) for raw in request.form.getlist("span_ids")]
        data = _fields() | {"span_ids": spans, "aliases": request.form.getlist("aliases")}
        return entities.split_entity(db.session, current_user, entity_id, data)

    def report(result) -> str:
        return f"Split off {result['name']} (entity {result['id']}) with {len(result['spans'])} mention(s)."

    return finish_form(url_for(".entity", entity_id=entity_id), run, report)
