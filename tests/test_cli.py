"""The annotator command end to end: in-process on both databases, and as a real subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotator.models import Document, User

from .conftest import SEED_TXT, SEEDS
from .helpers import ENCODED, ENCODED_IDS, encoded_txt, html_page, over_limit


def test_import_reports_and_skips(cli, session):
    result = cli("import", str(SEEDS), "--project", "news")
    assert result.exit_code == 0, result.output
    assert "imported 4 document(s)" in result.output  # seeds/: English, Arabic, English (HTML), Urdu
    again = cli("import", str(SEEDS), "--project", "news")
    assert again.exit_code == 0 and "imported 0 document(s)" in again.output
    assert "skipped 4" in again.output
    assert session.scalar(select(func.count(Document.id))) == 4
    languages = session.execute(select(Document.meta["source_file"].as_string(), Document.language).order_by(Document.id)).all()
    assert languages == [("000_a8e75834ae8b6b50.txt", "en"), ("ar_meshaal_fazlur_rehman.txt", "ar"),
                         ("gulfledger_desalination.html", "en"), ("ur_meshaal_fazlur_rehman.txt", "ur")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        ("bad.jsonl", b'{"title": "A", "text": "Fine."}\n{not json\n', "bad.jsonl:2"),
        ("nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article paragraphs"),
    ],
)
def test_bad_input_names_the_file_and_writes_nothing(cli, session, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    result = cli("import", str(SEED_TXT), str(path))
    assert result.exit_code != 0
    assert name in result.output and message in result.output
    assert session.scalar(select(func.count(Document.id))) == 0


def test_missing_path_and_size_limit(cli, session, tmp_path):
    result = cli("import", str(tmp_path / "nope.txt"))
    assert result.exit_code != 0 and "nope.txt" in result.output
    result = cli("import", "--max-bytes", "100", str(SEED_TXT))
    assert result.exit_code != 0 and "limit" in result.output
    assert session.scalar(select(func.count(Document.id))) == 0


def _documents(session) -> list[tuple[str, str]]:
    session.rollback()
    return session.execute(select(Document.title, Document.text).order_by(Document.id)).all()


@pytest.mark.parametrize("name, encoding, title, body, reason", ENCODED, ids=ENCODED_IDS)
def test_import_of_text_that_is_not_utf8_needs_encoding(cli, session, tmp_path, name, encoding, title, body, reason):
    path = tmp_path / name
    path.write_bytes(encoded_txt(encoding, title, body))
    refused = cli("import", str(SEED_TXT), str(path))
    assert refused.exit_code == 1
    advice = reason.replace("give the file's encoding", "give the file's encoding with --encoding NAME")
    assert f"error: {path}: {advice}\n" in refused.output
    assert _documents(session) == []

    imported = cli("import", str(path), "--encoding", encoding)
    assert imported.exit_code == 0, imported.output
    assert _documents(session) == [(title, body)]


def test_import_of_html_declaring_its_charset(cli, session, tmp_path):
    title, body = ENCODED[0][2:4]
    path = tmp_path / "arabic.html"
    path.write_bytes(html_page(f'<meta charset="windows-1256"><title>{title}</title>', f"<p>{body}</p>").encode("windows-1256"))
    result = cli("import", str(path))
    assert result.exit_code == 0, result.output
    assert _documents(session) == [(title, body)]


def test_import_with_an_unknown_encoding_is_a_usage_error(cli, session):
    result = cli("import", str(SEED_TXT), "--encoding", "klingon")
    assert result.exit_code == 2
    assert "Invalid value for '--encoding': unknown encoding 'klingon'" in result.output
    assert _documents(session) == []


def test_import_of_a_folder_mixing_utf8_and_the_given_encoding(cli, session, tmp_path):
    (tmp_path / "utf8.txt").write_text("Title\n\nNaïve.", encoding="utf-8")
    (tmp_path / "arabic.txt").write_bytes("عاجل\n\nقال.".encode("windows-1256"))
    result = cli("import", str(tmp_path), "--encoding", "windows-1256")
    assert result.exit_code == 0, result.output
    assert sorted(_documents(session)) == [("Title", "Naïve."), ("عاجل", "قال.")]


def test_import_sentence_limit(app, cli, session, tmp_path):
    long_txt, feed = tmp_path / "long.txt", tmp_path / "feed.jsonl"
    long_txt.write_text("Title\n\nOne. Two. Three. Four.")
    feed.write_text('{"title": "A", "text": "One. Two."}\n{"title": "B", "text": "One. Two. Three."}\n')
    result = cli("import", str(SEED_TXT), str(long_txt), str(feed), "--max-sentences", "3")
    assert result.exit_code == 1
    assert f"error: {long_txt}: {over_limit(4, 3)}\n" in result.output
    assert f"error: {feed}" not in result.output
    assert _documents(session) == []

    app.config["MAX_SENTENCES"] = 2  # ANNOTATOR_MAX_SENTENCES
    result = cli("import", str(feed))
    assert result.exit_code == 1
    assert f"error: {feed}:2: {over_limit(3, 2)}\n" in result.output
    assert _documents(session) == []
    assert cli("import", str(feed), "--max-sentences", "3").exit_code == 0
    assert [title for title, _ in _documents(session)] == ["A", "B"]
    assert cli("import", str(feed), "--max-sentences", "0").exit_code == 2


def test_users_commands(cli, session):
    added = cli("users", "add", "maria", "--role", "annotator")
    assert added.exit_code == 0 and "shown once" in added.output
    piped = cli("users", "add", "omar", "--role", "supervisor", "--password-stdin", input="a long enough secret\n")
    assert piped.exit_code == 0 and "shown once" not in piped.output
    duplicate = cli("users", "add", "maria", "--role", "annotator")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    short = cli("users", "add", "x", "--role", "annotator", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "too short" in short.output
    listed = cli("users", "list")
    assert "maria" in listed.output and "supervisor" in listed.output
    assert cli("users", "set-password", "maria").exit_code == 0
    assert cli("users", "deactivate", "maria").exit_code == 0
    assert "deactivated" in cli("users", "list").output
    assert cli("users", "deactivate", "ghost").exit_code != 0
    assert session.scalar(select(User.active).where(User.username == "maria")) is False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("annotator")), *args]
    return subprocess.run(command, env=env, input=input, capture_output=True, text=True, timeout=120)


@pytest.fixture
def instance_env(tmp_path, request) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
    env["ANNOTATOR_INSTANCE"] = str(tmp_path / "instance")
    return env


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_console_script_end_to_end(kind, instance_env, request, tmp_path):
    if kind == "postgresql":
        server = request.getfixturevalue("require_postgres")
        instance_env["ANNOTATOR_DATABASE_URL"] = server.create_database()

    early = _run(instance_env, "import", str(SEEDS))
    assert early.returncode != 0 and "annotator init" in early.stderr

    assert _run(instance_env, "init").returncode == 0
    first = _run(instance_env, "quickstart", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("(shown once)") == 3
    second = _run(instance_env, "quickstart", "--no-serve")
    assert second.returncode == 0, second.stderr
    assert "(shown once)" not in second.stdout and "imported 0 document(s)" in second.stdout
    assert "4 document(s) in the database" in second.stdout

    if kind == "sqlite":
        instance = Path(instance_env["ANNOTATOR_INSTANCE"])
        assert (instance / "annotator.sqlite3").exists()
        key = instance / "secret_key"
        assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"

    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("annotator")), "serve", "--port", str(port)],
        env=instance_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status == 200 and "Log in" in body
        assert response.headers["Server"] == "annotator"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_project_commands(cli, session, tmp_path):
    created = cli("project", "create", "debates", "--codebook", "tests/data/codebooks/custom.toml")
    assert created.exit_code == 0 and "version 3" in created.output, created.output
    assert cli("project", "create", "debates").exit_code != 0
    bad = cli("project", "create", "broken", "--codebook", "tests/data/codebooks/bad_schema.toml")
    assert bad.exit_code != 0 and "did you mean 'labels'" in bad.output
    assert cli("project", "create", "default").exit_code == 0
    assert cli("import", str(SEEDS), "--project", "default").exit_code == 0
    listed = cli("project", "list").output
    assert "debates" in listed and "policy_debates" in listed
    assert any(line.split()[-2:] == ["4", "47"] for line in listed.splitlines() if line.startswith("default"))
    shown = cli("project", "show", "default").output
    assert "[c] CUE" in shown and "[1] event" in shown and "relation attribution" in shown
    as_json = json.loads(cli("project", "show", "default", "--json").output)
    assert as_json["version"] == 1 and as_json["name"] == "news_attribution"
    assert cli("project", "show", "nope").exit_code != 0


def test_assign_command(cli, session):
    assert cli("import", str(SEEDS)).exit_code == 0
    assert cli("users", "add", "maria", "--role", "annotator").exit_code == 0
    first = cli("assign", "--user", "maria")
    assert first.exit_code == 0 and "4 new assignment(s)" in first.output
    again = cli("assign", "--user", "maria")
    assert "0 new assignment(s)" in again.output
    assert cli("assign", "--user", "ghost").exit_code != 0
    missing = cli("assign", "--user", "maria", "--document", "999")
    assert missing.exit_code != 0 and "999" in missing.output
    assert cli("users", "add", "omar", "--role", "annotator").exit_code == 0
    assert cli("users", "add", "lina", "--role", "annotator").exit_code == 0
    several = cli("assign", "--user", "omar,lina", "--user", "maria")  # as README.md writes it
    assert several.exit_code == 0 and "8 new assignment(s)" in several.output, several.output


def _modules_loaded(env: dict, *args: str) -> set[str]:
    """The top-level packages, and the annotator modules, that a fresh interpreter has
    imported after running the command."""
    code = (
        "import sys\n"
        "from annotator.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(*sorted({name.split('.')[0] for name in sys.modules} | "
        "{name for name in sys.modules if name.startswith('annotator.')}), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    return set(done.stderr.splitlines()[-1].split())


def test_the_command_line_starts_without_what_it_does_not_use(instance_env):
    """`annotator --help` loads only click; a database command no Flask, numpy, alembic, HTML
    parser or web page (the seconds are in docs/benchmarks.md, from bench/cli_bench.py)."""
    heavy = {"flask", "sqlalchemy", "numpy", "alembic", "bs4", "sentencex", "annotator.models", "annotator.web"}
    assert _modules_loaded(instance_env, "--help") & heavy == set()
    assert _run(instance_env, "init").returncode == 0
    listed = _modules_loaded(instance_env, "users", "list")
    assert "annotator.models" in listed  # it did query the database
    assert listed & heavy == {"sqlalchemy", "annotator.models"}
