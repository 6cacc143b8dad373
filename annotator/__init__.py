"""annotator: tag attribution, loaded language and claim types in news articles."""

# The app factory loads Flask and SQLAlchemy; it is imported on first use, so that
# `annotator --help` and the pure packages (ingest/, agreement/, exporters/) start without
# them.

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'annotator' has no attribute {name!r}")
