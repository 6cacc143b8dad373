"""Where the top-level templates/ and migrations/ live.

In a checkout or an editable install they sit beside the package; a wheel carries them
inside it (pyproject.toml force-includes them).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder beside or inside {PACKAGE_DIR}")


TEMPLATES_DIR = resource_dir("templates")
MIGRATIONS_DIR = resource_dir("migrations")
STATIC_DIR = PACKAGE_DIR / "static"
