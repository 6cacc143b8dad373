"""annotator: tag attribution, loaded language and claim types in news articles."""

# The app factory loads Flask and SQLAlchemy; it is imported on first use, so that
# `annotator --help` and the pure packages (ingest/, agreement/, exporters/) start without
# them. The database handle is annotator.db.db. No `from __future__ import annotations` here:
# it would bind the package attribute `annotations` and shadow the annotator.annotations module.

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'annotator' has no attribute {name!r}")
