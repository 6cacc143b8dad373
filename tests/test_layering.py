"""The architecture, checked (docs/architecture.md): who may import, query and commit what."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from annotator import services

PACKAGE = Path(__file__).resolve().parent.parent / "annotator"
PURE = ["agreement", "exporters", "ingest", "profiles", "suggest", "codebook.py", "direction.py", "spandiff.py"]
# The database, Flask and the layers above them: none of it in the pure parts.
NOT_PURE = ("sqlalchemy", "flask", "flask_login", "flask_wtf", "werkzeug", "annotator.db", "annotator.app",
            "annotator.models", "annotator.services", "annotator.web", "annotator.report", "annotator.cli")
SESSION_CALLS = {"commit", "rollback", "flush", "add", "add_all", "delete", "merge", "execute", "scalar", "scalars",
                 "get", "query", "begin", "refresh", "expire", "expunge"}


def _modules(*parts: str) -> list[Path]:
    found = []
    for part in parts:
        path = PACKAGE / part
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module the file imports (relative imports resolved), with its line."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found += [(node.lineno, module)] + [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("path", _modules(*PURE), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_the_pure_parts_import_neither_the_database_nor_flask(path):
    wrong = [f"line {line}: {name}" for line, name in _imports(path)
             if any(name == banned or name.startswith(banned + ".") for banned in NOT_PURE)]
    assert not wrong, f"{path.name} imports " + ", ".join(wrong)


def _session_calls(path: Path) -> list[str]:
    """Calls such as ``db.session.commit()``, ``session.execute(...)``, ``instance.session.get(...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_CALLS:
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if name == "session":
                found.append(f"line {node.lineno}: {ast.unparse(node.func)}()")
    return found


@pytest.mark.parametrize("path", _modules("web", "cli.py", "app.py"), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_web_and_command_line_never_query_or_commit(path):
    """They call services, which read, write and commit (annotator.db.writes)."""
    assert _session_calls(path) == []


def test_the_session_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f(db, instance, session):\n    db.session.commit()\n    instance.session.get(1)\n"
                      "    session.execute(x)\n    other.commit()\n")
    assert _session_calls(sample) == ["line 2: db.session.commit()", "line 3: instance.session.get()",
                                      "line 4: session.execute()"]


def test_blueprints_do_not_import_each_other():
    blueprints = {_module_name(path) for path in _modules("web") if "Blueprint(" in path.read_text()}
    assert len(blueprints) >= 9
    for path in _modules("web"):
        if path.name == "__init__.py":  # registers them
            continue
        imported = {name for _, name in _imports(path)} & (blueprints - {_module_name(path)})
        assert not imported, f"{path.name} imports the blueprint(s) {sorted(imported)}: move what they share out"


def _service_functions():
    for path in _modules("services"):
        if path.stem == "audit":  # what every service appends to, not an entry point
            continue
        module = __import__(_module_name(path), fromlist=["_"])
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(inspect.unwrap(function)).parameters)
            if parameters[:2] == ["session", "actor"]:
                yield f"{module.__name__.removeprefix('annotator.services.')}.{name}", function


def test_every_service_entry_point_checks_its_actor():
    """A function taking (session, actor, ...) is a service entry point: it is wrapped in
    writes, reads or batch, which check the role (a private helper taking them is called from
    a wrapped one and is not an entry point)."""
    entry_points = dict(_service_functions())
    assert len(entry_points) > 50
    unchecked = [name for name, function in entry_points.items()
                 if function is inspect.unwrap(function) and not name.split(".")[-1].startswith("_")]
    assert unchecked == []
    assert services.__doc__ and "writes" in services.__doc__
