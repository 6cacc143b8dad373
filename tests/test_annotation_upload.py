"""The project page's annotation upload (POST /projects/ID/annotations): another tool's
annotations, as `annotator import-annotations` takes them, checked whole and written all or
nothing, on SQLite and PostgreSQL. The brat corpus is tests/data/brat's, zipped as a browser
would send it."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotator.models import Document, Event, Span, User

from .helpers import Client, add_users, changed_tables, project_with, snapshot_rows

BRAT = Path(__file__).parent / "data" / "brat"


def _zipped(folder: Path) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped.write(path, f"events/{path.relative_to(folder).as_posix()}")
    return archive.getvalue()


def _upload(client: Client, project_id: int, file: tuple[bytes, str], format: str, *,
            mapping: tuple[bytes, str] | None = None, **fields):
    data = {"format": format, "file": (io.BytesIO(file[0]), file[1]), **fields}
    if mapping:
        data["mapping"] = (io.BytesIO(mapping[0]), mapping[1])
    return client.post(f"/projects/{project_id}/annotations", data, content_type="multipart/form-data")


def _text(response) -> str:
    """The page's words, tags dropped and whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


@pytest.fixture
def world(app, session):
    """An empty project "reference" of which supervisor sup is a member; outsider is a
    supervisor who is not; an admin."""
    accounts = add_users(session, {"root": "admin", "sup": "supervisor"})
    project = project_with(session, [], "reference")
    add_users(session, {"outsider": "supervisor", "ann": "annotator"}, member=False)
    return {"app": app, "session": session, "project": project, **accounts}


def test_the_form_offers_every_format_with_its_hint(world):
    page = Client(world["app"], "sup").get(f"/projects/{world['project'].id}").get_data(as_text=True)
    form = page[page.index('id="annotations-upload"'):]
    for name in ("jsonl", "doccano", "labelstudio", "brat", "conll", "techniques", "sentence-csv"):
        assert f'<option value="{name}"' in form, name
    assert "SemEval-2020 Task 11" in form and "NAME_&lt;annotator&gt;.ann" in form
    assert 'name="csrf_token"' in form


def test_a_brat_zip_with_its_mapping_is_imported_and_counted(world):
    session, project_id = world["session"], world["project"].id
    response = _upload(Client(world["app"], "sup"), project_id, (_zipped(BRAT / "events"), "events.zip"), "brat",
                       mapping=((BRAT / "mapping.toml").read_bytes(), "mapping.toml"))
    assert response.status_code == 200, _text(response)
    summary = _text(response)
    assert "3 document-annotator pair(s)" in summary and "2 new document(s), 0 matched" in summary
    assert "created 2 inactive account(s): alice, bob" in summary
    session.rollback()
    march = session.scalar(select(Document).where(Document.title == "March ends peacefully"))
    assert (march.project_id, march.outlet, march.meta) == (project_id, "Daily Planet",
                                                            {"author": "J. Olsen", "section": "city"})
    users = dict(session.execute(select(User.id, User.username)).all())
    contents = sorted((users[user], start, end) for user, start, end in session.execute(
        select(Span.user_id, Span.start, Span.end).where(Span.document_id == march.id, Span.label == "CONTENT")))
    assert contents == [("alice", 19, 42), ("alice", 43, 59), ("alice", 62, 82),
                        ("bob", 19, 42), ("bob", 33, 41), ("bob", 43, 59), ("bob", 62, 82)]
    # The audit events name who uploaded and the upload's file name.
    events = session.scalars(select(Event).where(Event.action == "import_annotations")).all()
    assert events and {event.user_id for event in events} == {world["sup"].id}
    assert all(event.after.get("source") == "events.zip" for event in events if event.after)


def test_a_bad_upload_lists_every_problem_and_writes_nothing(world):
    session, project_id = world["session"], world["project"].id
    client = Client(world["app"], "sup")
    before = snapshot_rows(session)

    # Without the mapping file the corpus's names are not the codebook's: listed at once.
    response = _upload(client, project_id, (_zipped(BRAT / "events"), "events.zip"), "brat")
    assert response.status_code == 400
    page = _text(response)
    assert "2 problems; nothing was imported" in page
    assert "events.zip/events/ann/march_bob.ann:1: 3 label name(s) the codebook does not have" in page
    assert "events.zip/events/ann/march_bob.ann:7: 1 attribute name(s) the codebook does not have" in page

    # Every bad line of a JSONL file, each with its line.
    lines = [{"document": {"text": "One sentence here."}, "annotator": "ann",
              "spans": [{"layer": "attribution", "label": "NOT_A_LABEL", "start": 0, "end": 3, "text": "One"}]},
             "not json",
             {"document": {"text": "Another one."}, "annotator": "ann",
              "spans": [{"layer": "attribution", "label": "SOURCE", "start": 0, "end": 7, "text": "Wrong!!"}]}]
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()
    response = _upload(client, project_id, (body, "bad.jsonl"), "jsonl")
    assert response.status_code == 400
    problems = re.findall(r"<li>(.*?)</li>", response.get_data(as_text=True)[
        response.get_data(as_text=True).index('id="annotation-problems"'):], re.S)
    assert [html.unescape(problem).split(": ", 1)[0] for problem in problems] == \
        ["bad.jsonl:1", "bad.jsonl:2", "bad.jsonl:3"]

    # A mapping file that is not one: its problem, before the file is read.
    response = _upload(client, project_id, (_zipped(BRAT / "events"), "events.zip"), "brat",
                       mapping=(b"[labels\n", "mapping.toml"))
    assert response.status_code == 400 and "mapping.toml: invalid TOML" in _text(response)

    # A .zip expected, something else sent.
    response = _upload(client, project_id, (b"T1\tSource 0 3\tOne\n", "one.ann"), "brat")
    assert response.status_code == 400 and "one.ann: a brat corpus is a folder or a .zip" in _text(response)

    # No file chosen: the form says so.
    response = client.post(f"/projects/{project_id}/annotations", {"format": "brat"},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose the file (or the .zip) to import." in _text(response)

    # Over the upload limit (20 files' worth, as the document upload): refused before it is read.
    world["app"].config["MAX_IMPORT_BYTES"] = 1000  # so the whole request may carry about 85 KB
    response = _upload(client, project_id, (b"x" * 200_000, "huge.zip"), "brat")
    assert response.status_code == 302 and response.location.endswith(f"/projects/{project_id}")
    assert "nothing was imported" in _text(client.get(response.location))
    assert changed_tables(before, snapshot_rows(session)) == set()


def test_only_the_projects_supervisors_and_admins_may_upload(world):
    session, project_id = world["session"], world["project"].id
    clients = {who: Client(world["app"], who) for who in ("outsider", "ann")}  # logging in writes
    before = snapshot_rows(session)
    upload = ((BRAT / "mapping.toml").read_bytes(), "mapping.toml")
    for who, status in (("outsider", 404), ("ann", 403)):
        response = _upload(clients[who], project_id, (_zipped(BRAT / "events"), "events.zip"), "brat", mapping=upload)
        assert response.status_code == status, who
    assert changed_tables(before, snapshot_rows(session)) == set()
    # Without the CSRF token, refused too.
    client = Client(world["app"], "root")
    client.token = "forged"
    response = _upload(client, project_id, (_zipped(BRAT / "events"), "events.zip"), "brat", mapping=upload)
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(Document)) == 0
    # An admin may, member or not.
    response = _upload(Client(world["app"], "root"), project_id, (_zipped(BRAT / "events"), "events.zip"), "brat",
                       mapping=upload)
    assert response.status_code == 200, _text(response)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Document)) == 2
