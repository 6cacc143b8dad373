"""The profile pages: what the annotations say per outlet, article, month or annotator, with
its downloads (JSON, CSV, HTML).

``annotator.services.profiles`` computes, caches and checks the supervisor role;
``annotator.profiles.render`` lays the figures out for the templates (the downloaded HTML
file uses the same templates' macros). A cold profile is computed within the request: a
project of 2,000 articles takes a few seconds once (docs/benchmarks.md), then comes from the
cache until the annotations change; the page reads only the groups it shows from there.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from .. import report as reporting
from ..app import db
from ..profiles import render
from ..errors import ServiceError
from ..services import profiles
from ..services.paging import Page
from .params import flag, page_number

bp = Blueprint("profiles", __name__)

GROUPS_PER_PAGE = 25  # groups in the tables and charts of one page; the downloads hold them all
CHOICES = 100  # groups the comparison form lists to choose from; more are typed (an article's id)
CARRIED = ("by", "a", "b", "figure", "breakdown")  # the query the links, forms and downloads carry over


def _parameters() -> dict:
    """The service's keywords from the query: ``by``, and ``compare`` when both a and b are given."""
    a, b = (request.args.get(name, "").strip() for name in ("a", "b"))
    return {"by": request.args.get("by", "outlet").strip() or "outlet", "compare": [a, b] if a and b else None}


def _query() -> dict[str, str]:
    return {key: request.args[key] for key in CARRIED if request.args.get(key)}


@bp.get("/projects/<int:project_id>/profile", endpoint="page")
@login_required
def profile_page(project_id: int):
    number = page_number()
    if number < 1:
        raise ServiceError("page must be a whole number from 1", field="page")
    parameters = _parameters()
    start = (number - 1) * GROUPS_PER_PAGE
    # The cache gives the page's groups only; by month every group, which the time series draws.
    every_month = parameters["by"] == "month"
    view = profiles.cached_profile_page(db.session, current_user, project_id, start=0 if every_month else start,
                                        stop=None if every_month else start + GROUPS_PER_PAGE, **parameters)
    profile = view.profile
    shown = profile["groups"][start:start + GROUPS_PER_PAGE] if every_month else profile["groups"]
    page = Page(shown, number, GROUPS_PER_PAGE, view.total)
    index = render.figure_index(profile, request.args.get("figure"))
    section = render.breakdown_section(profile, request.args.get("breakdown"))
    by = profile["parameters"]["by"]

    def link(group: dict) -> str | None:
        """Where a group's label leads: an article's review page."""
        return url_for("supervise.review", document_id=int(group["key"])) if by == "document" and group["key"] else None

    return render_template(
        "profiles/page.html", profile=profile, groups=shown, page=page, query=_query(), group_labels=view.labels,
        sections=render.sections(profile), chosen=profile["figures"][index] if profile["figures"] else None,
        bars=render.bar_chart(profile, shown, index) if profile["figures"] else None,
        series=render.month_series(profile, index) if every_month and profile["figures"] else None,
        breakdown=section and render.breakdown_chart(profile, shown, section), breakdown_section=section,
        breakdown_sections=render.breakdown_sections(profile), comparison=render.comparison_sections(profile, view.compared),
        top_sources=render.top_sources(profile, shown), link=link, choices=CHOICES, **render.template_helpers(),
    )


def _download(project_id: int, extension: str, mimetype: str, body, disposition: str = "attachment"):
    """``body(profile, names)``: annotators by pseudonym, or by user name with ``usernames=1``."""
    profile = profiles.cached_profile(db.session, current_user, project_id, **_parameters())
    names = reporting.annotator_names(profile, secret_key=current_app.config["SECRET_KEY"], usernames=flag("usernames"))
    response = Response(body(profile, names), mimetype=mimetype)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"profile-{profile['project']['id']}-by-{profile['parameters']['by']}")
    response.headers["Content-Disposition"] = f'{disposition}; filename="{stem}.{extension}"'
    return response


@bp.get("/projects/<int:project_id>/profile.json", endpoint="download_json")
@login_required
def download_json(project_id: int):
    return _download(project_id, "json", "application/json", render.profile_json, "inline")


@bp.get("/projects/<int:project_id>/profile.csv", endpoint="download_csv")
@login_required
def download_csv(project_id: int):
    return _download(project_id, "csv", "text/csv", lambda profile, names: "".join(render.profile_csv(profile, names)))


@bp.get("/projects/<int:project_id>/profile.html", endpoint="download_html")
@login_required
def download_html(project_id: int):
    return _download(project_id, "html", "text/html", lambda profile, names: render.profile_html(
        profile, names, figure=request.args.get("figure"), breakdown=request.args.get("breakdown")))
