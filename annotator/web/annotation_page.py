"""The annotation page's data block (templates/annotate.html, static/annotate.js), shared by
the annotators' page and the adjudication page, which points its API URLs at /api/gold/."""

from __future__ import annotations

from flask import url_for

from ..codebook import Codebook
from ..direction import text_direction
from ..models import Document


def annotate_data(document: Document, codebook: Codebook, state: dict, api: dict, *,
                  codebook_language: str | None = None, suggestions: list[dict] | None = None) -> dict:
    """The article, the codebook as annotators reading ``codebook_language`` see it (each
    label, value, attribute and role with its ``display`` name; Codebook.shown_in), the saved
    state, the API URLs the page saves to, the one it searches the project's source entities at
    (static/entities.js) and the suggestions it offers (annotator.services.suggestions.for_page;
    none in the control condition and on the adjudication page)."""
    return {
        "document": {
            "id": document.id,
            "title": document.title,
            "text": document.text,
            "language": document.language,
            "direction": text_direction(document.text, document.language),
            "outlet": document.outlet,
            "url": document.url,
            "published": document.published.isoformat() if document.published else None,
        },
        "sentences": [
            {"id": s.id, "position": s.position, "start": s.start, "end": s.end} for s in document.sentences
        ],
        "codebook": codebook.shown_in(codebook_language),
        "codebook_language": codebook_language,
        "hotkeys": codebook.hotkeys(),
        "state": state,
        "suggestions": suggestions or [],
        "api": api,
        # Where static/entities.js searches the project's source entities (it saves through ``api``).
        "entity_search": url_for("entities.search", project_id=document.project_id),
    }
