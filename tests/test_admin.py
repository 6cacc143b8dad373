"""Admin and supervisor pages over real HTTP through the app: projects, uploads, users, accounts.

Every test runs on SQLite and PostgreSQL. The test's own session rolls back before reading
what the requests wrote, and holds no write transaction while requests run.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotator.ingest import read_paths
from annotator.models import Assignment, Document, Event, Project, Sentence, SentenceLabel, User
from annotator.services import users
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT
from .helpers import (
    ENCODED,
    PASSWORD,
    Client,
    add_users,
    assign,
    encoded_txt,
    html_page,
    over_limit,
    project_with,
)

CODEBOOKS = Path(__file__).parent / "data" / "codebooks"
SHOWN_PASSWORD = re.compile(r'<code class="password">([^<]+)</code>')


def _can_login(app, username: str, password: str) -> bool:
    return Client(app).login(username, password).status_code == 302


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def _events(session, action: str | None = None) -> list[Event]:
    session.rollback()
    query = select(Event).order_by(Event.id)
    if action:
        query = query.where(Event.action == action)
    return list(session.scalars(query))


def _assert_no_password_material(session, *passwords: str) -> None:
    hashes = session.scalars(select(User.password_hash)).all()
    for event in _events(session):
        stored = json.dumps([event.before, event.after])
        assert "password" not in stored
        for secret in (*passwords, *hashes):
            assert secret not in stored


@pytest.fixture
def world(app, session):
    """An admin, a supervisor, two annotators; project "news" with the seed article assigned."""
    accounts = add_users(session, {"root": "admin", "sup": "supervisor", "ann": "annotator", "victim": "annotator"})
    project = project_with(session, read_paths([SEED_TXT]), "news")
    seed = session.scalar(select(Document))
    assign(session, project, [accounts["ann"], accounts["victim"]], [seed])
    return {"app": app, "session": session, "project": project, "seed": seed, **accounts}


# Who may do what.

GOOD_TXT = b"An upload\n\nThe first paragraph has two sentences. This is the second.\n\nA last paragraph.\n"


def _routes(world) -> list[tuple[str, str, dict, set[str], int]]:
    """(method, url, form data, roles allowed, status when allowed)."""
    project_id, victim_id = world["project"].id, world["victim"].id
    return [
        ("GET", "/projects", {}, {"admin", "supervisor"}, 200),
        ("GET", "/projects/new", {}, {"admin"}, 200),
        ("POST", "/projects/new", {"name": "matrix"}, {"admin"}, 302),
        ("GET", f"/projects/{project_id}", {}, {"admin", "supervisor"}, 200),
        ("POST", f"/projects/{project_id}/documents", {"files": [(io.BytesIO(GOOD_TXT), "a.txt")]}, {"admin", "supervisor"}, 200),
        ("GET", "/users", {}, {"admin"}, 200),
        ("POST", "/users", {"username": "matrix", "role": "annotator"}, {"admin"}, 200),
        ("POST", f"/users/{victim_id}/role", {"role": "annotator"}, {"admin"}, 302),
        ("POST", f"/users/{victim_id}/deactivate", {}, {"admin"}, 302),
        ("POST", f"/users/{victim_id}/reactivate", {}, {"admin"}, 302),
        ("POST", f"/users/{victim_id}/password", {}, {"admin"}, 200),
        ("GET", "/account", {}, {"admin", "supervisor", "annotator"}, 200),
    ]


@pytest.mark.parametrize("username", ["root", "sup", "ann", None])
def test_each_page_and_post_for_each_role(world, username):
    client = Client(world["app"], username)
    role = world[username].role if username else None
    for method, url, data, allowed, status in _routes(world):
        before = len(_events(world["session"]))
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data, content_type="multipart/form-data")
        label = f"{method} {url} as {role}"
        if role is None:
            assert response.status_code == 302 and "/login" in response.location, label
        elif role in allowed:
            assert response.status_code == status, (label, response.get_data(as_text=True))
        else:
            assert response.status_code == 403, label
            assert response.mimetype == "text/html" and "403" in response.get_data(as_text=True)
        if role not in allowed:
            assert len(_events(world["session"])) == before, f"{label} wrote an event"


def test_nav_links_follow_the_role(world):
    pages = {name: Client(world["app"], name).get("/").get_data(as_text=True) for name in ("root", "sup", "ann")}
    assert all('href="/account"' in page for page in pages.values())
    assert 'href="/projects"' in pages["root"] and 'href="/users"' in pages["root"]
    assert 'href="/projects"' in pages["sup"] and 'href="/users"' not in pages["sup"]
    assert 'href="/projects"' not in pages["ann"] and 'href="/users"' not in pages["ann"]


# Projects.


def test_projects_list_shows_numbers_and_empty_state(app, session):
    users.add_user(session, SYSTEM, "root", "admin", PASSWORD)
    admin = Client(app, "root")
    assert "No projects yet" in admin.get("/projects").get_data(as_text=True)


def test_projects_list_counts(world):
    sup = Client(world["app"], "sup")
    page = sup.get("/projects").get_data(as_text=True)
    session = world["session"]
    sentences = _count(session, Sentence)
    row = re.search(r"<tr>\s*<td><a href=\"/projects/(\d+)\">news</a></td>(.*?)</tr>", page, re.S)
    cells = re.findall(r'<td class="num">(\d+)</td>', row.group(2))
    assert cells == ["1", str(sentences), "2"]  # documents, sentences, annotators assigned
    assert "news_attribution v1" in row.group(2)
    # A withdrawn assignment no longer counts.
    session.rollback()
    assignment = session.scalar(select(Assignment).where(Assignment.user_id == world["victim"].id))
    assignment.status = "withdrawn"
    session.commit()
    page = sup.get("/projects").get_data(as_text=True)
    assert re.findall(r'<td class="num">(\d+)</td>', page)[-1] == "1"
    project_page = sup.get(f"/projects/{world['project'].id}").get_data(as_text=True)
    assert re.findall(r'<td class="num">(\d+)</td>', project_page) == [str(sentences), "1"]


def test_create_project_with_default_codebook(world):
    admin = Client(world["app"], "root")
    response = admin.post("/projects/new", {"name": "  alpha  "})
    assert response.status_code == 302
    session = world["session"]
    session.rollback()
    project = session.scalar(select(Project).where(Project.name == "alpha"))
    assert response.location.endswith(f"/projects/{project.id}")
    assert project.codebook["name"] == "news_attribution"
    event = _events(session, "create")[-1]
    assert event.entity_type == "projects" and event.user_id == world["root"].id
    page = admin.get(response.location).get_data(as_text=True)
    assert "Project &#39;alpha&#39; created" in page and "No documents yet: upload .txt, .html or .jsonl files" in page


@pytest.mark.parametrize("name", ["custom.toml", "custom.json"])
def test_create_project_with_uploaded_codebook(world, name):
    admin = Client(world["app"], "root")
    data = {"name": "debates", "codebook": (io.BytesIO((CODEBOOKS / name).read_bytes()), name)}
    response = admin.post("/projects/new", data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    world["session"].rollback()
    project = world["session"].scalar(select(Project).where(Project.name == "debates"))
    assert project.codebook["name"] == "policy_debates" and project.codebook_version == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "bad_schema.toml",
            [
                "bad_schema.toml: version: must be a positive integer, got 0",
                "bad_schema.toml: span_layers[0].lables: unknown key (did you mean 'labels'?)",
                "bad_schema.toml: span_layers[0].labels: is required",
                "bad_schema.toml: choice_layers[0].values[0].hotkey: 'j' is reserved for navigation",
            ],
        ),
        ("bad_syntax.json", ["bad_syntax.json: invalid JSON at line 4, column 1"]),
        ("bad_syntax.toml", ["bad_syntax.toml: invalid TOML"]),
        ("custom.yaml", ["custom.yaml: unsupported file type '.yaml'"]),
    ],
)
def test_bad_codebook_lists_every_problem_and_writes_nothing(world, name, expected):
    admin = Client(world["app"], "root")
    path = CODEBOOKS / name if (CODEBOOKS / name).exists() else CODEBOOKS / "custom.toml"
    before = (_count(world["session"], Project), len(_events(world["session"])))
    data = {"name": "broken", "codebook": (io.BytesIO(path.read_bytes()), name)}
    response = admin.post("/projects/new", data, content_type="multipart/form-data")
    assert response.status_code == 400
    page = _text(response)
    assert "The codebook is invalid; nothing was created" in page
    problems = re.findall(r"<li>(.*?)</li>", page.split("The codebook is invalid")[1].split("</section>")[0], re.S)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected):
        assert problem.startswith(start)
    assert (_count(world["session"], Project), len(_events(world["session"]))) == before


def test_duplicate_or_empty_project_name_is_shown_on_the_form(world):
    admin = Client(world["app"], "root")
    duplicate = admin.post("/projects/new", {"name": "news"})
    assert duplicate.status_code == 400 and "project &#39;news&#39; already exists" in duplicate.get_data(as_text=True)
    empty = admin.post("/projects/new", {"name": "   "})
    assert empty.status_code == 400 and 'class="field-error"' in empty.get_data(as_text=True)
    assert _count(world["session"], Project) == 1


def test_missing_project_is_404(world):
    assert Client(world["app"], "sup").get("/projects/999").status_code == 404


# Uploads.


def _jsonl(*records: dict) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def test_upload_imports_valid_files_and_reports_the_others(world):
    app, session = world["app"], world["session"]
    app.config["MAX_IMPORT_BYTES"] = 2000
    files = [
        (io.BytesIO(GOOD_TXT), "good.txt"),
        (io.BytesIO(_jsonl(
            {"title": "First <b>JSONL</b> article", "text": "One sentence here. Another one.", "outlet": "Wire"},
            {"title": "Second JSONL article", "text": "Para one.\n\nPara two."},
        )), "two.jsonl"),
        (io.BytesIO(GOOD_TXT), "copy-of-good.txt"),
        (io.BytesIO(b""), "empty.txt"),
        (io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)), "photo.txt"),
        (io.BytesIO(b"<html><head><title>Nothing</title></head><body><nav>menu</nav></body></html>"), "empty.html"),
        (io.BytesIO(b"Big\n\n" + b"word " * 500), "big.txt"),
        (io.BytesIO(_jsonl({"title": "ok", "text": "fine."}) + b"\n{not json}\n"), "bad.jsonl"),
    ]
    sup = Client(app, "sup")
    response = sup.post(f"/projects/{world['project'].id}/documents", {"files": files}, content_type="multipart/form-data")
    assert response.status_code == 200
    page = _text(response)
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", re.search(r'<p class="summary".*?</p>', page, re.S).group(0)))
    assert summary == "Imported 3 documents, skipped 1 already present, 5 files failed."
    for reason in (
        "empty.txt: file is empty",
        "photo.txt: binary file",
        "empty.html: no article paragraphs found",
        "big.txt: file is 2.4 KB, over the 2.0 KB limit",
        "bad.jsonl:2: invalid JSON",
    ):
        assert reason in page, reason
    assert "First <b>JSONL</b> article" not in response.get_data(as_text=True)  # titles are escaped

    session.rollback()
    titles = set(session.scalars(select(Document.title).where(Document.project_id == world["project"].id)))
    assert titles == {world["seed"].title, "An upload", "First <b>JSONL</b> article", "Second JSONL article"}
    imports = _events(session, "import")[1:]  # the first is the fixture's seed
    assert len(imports) == 3 and {event.user_id for event in imports} == {world["sup"].id}
    assert {event.after["source"] for event in imports} == {"good.txt", "two.jsonl"}

    # The documents are listed on the project page, with their numbers.
    listing = sup.get(f"/projects/{world['project'].id}").get_data(as_text=True)
    assert "First &lt;b&gt;JSONL&lt;/b&gt; article" in listing and "Wire" in listing


def test_upload_without_files_and_too_large_request(world):
    app, project_id = world["app"], world["project"].id
    admin = Client(app, "root")
    response = admin.post(f"/projects/{project_id}/documents", {}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Choose one or more files" in admin.get(response.location).get_data(as_text=True)

    app.config["MAX_IMPORT_BYTES"] = 1000  # so the whole request may carry about 85 KB
    huge = {"files": [(io.BytesIO(b"x" * 200_000), "huge.txt")]}
    response = admin.post(f"/projects/{project_id}/documents", huge, content_type="multipart/form-data")
    assert response.status_code == 302 and response.location.endswith(f"/projects/{project_id}")
    assert "nothing was imported" in admin.get(response.location).get_data(as_text=True)
    assert _count(world["session"], Document) == 1


def _upload(client, project_id: int, files: list[tuple[bytes, str]], encoding: str = ""):
    data = {"files": [(io.BytesIO(content), name) for content, name in files], "encoding": encoding}
    return client.post(f"/projects/{project_id}/documents", data, content_type="multipart/form-data")


def _uploaded(session, world) -> list[tuple[str, str]]:
    session.rollback()
    query = select(Document.title, Document.text).where(Document.id != world["seed"].id).order_by(Document.id)
    return session.execute(query).all()


def test_upload_of_text_that_is_not_utf8_needs_the_encoding_field(world):
    session, project_id = world["session"], world["project"].id
    sup = Client(world["app"], "sup")
    files = [(encoded_txt(encoding, title, body), name) for name, encoding, title, body, _ in ENCODED]
    response = _upload(sup, project_id, files)
    assert response.status_code == 200
    page = _text(response)
    assert "Imported 0 documents, skipped 0 already present, 5 files failed." in _words(page)
    for name, _, _, _, reason in ENCODED:
        advice = reason.replace("give the file's encoding", "give the file's encoding in the Encoding field")
        assert f"<li>{name}: {advice}</li>" in page
    assert "--encoding" not in page
    assert _uploaded(session, world) == []

    for name, encoding, title, body, _ in ENCODED:
        response = _upload(sup, project_id, [(encoded_txt(encoding, title, body), name)], encoding)
        assert response.status_code == 200 and _imported(response) == 1
        assert f'value="{encoding}"' in response.get_data(as_text=True)  # the field keeps what was given
    assert _uploaded(session, world) == [(title, body) for _, _, title, body, _ in ENCODED]


def test_upload_of_html_declaring_its_charset(world):
    title, body = ENCODED[0][2:4]
    page = html_page(f'<meta charset="windows-1256"><title>{title}</title>', f"<p>{body}</p>").encode("windows-1256")
    response = _upload(Client(world["app"], "sup"), world["project"].id, [(page, "arabic.html")])
    assert response.status_code == 200 and _imported(response) == 1
    assert _uploaded(world["session"], world) == [(title, body)]


@pytest.mark.parametrize("encoding, message", [
    ("klingon", "unknown encoding &#39;klingon&#39;; give a name such as windows-1256"),
    ("base64", "unknown encoding &#39;base64&#39;"),
    ("x" * 41, "Field cannot be longer than 40 characters."),
])
def test_upload_with_an_unknown_encoding_is_a_form_error(world, encoding, message):
    before = len(_events(world["session"]))
    response = _upload(Client(world["app"], "sup"), world["project"].id, [(GOOD_TXT, "good.txt")], encoding)
    assert response.status_code == 400
    assert f'<p class="field-error">{message}' in response.get_data(as_text=True)
    assert _uploaded(world["session"], world) == [] and len(_events(world["session"])) == before


def test_upload_sentence_limit(world):
    app, session = world["app"], world["session"]
    app.config["MAX_SENTENCES"] = 3
    sup = Client(app, "sup")
    assert "and at most 3 sentences per document" in _words(_text(sup.get(f"/projects/{world['project'].id}")))
    files = [
        (b"Too long\n\nOne. Two. Three. Four.", "long.txt"),
        (_jsonl({"title": "Short", "text": "One. Two."}, {"title": "Long", "text": "One. Two. Three. Four."}), "feed.jsonl"),
        (GOOD_TXT, "good.txt"),
    ]
    page = _text(_upload(sup, world["project"].id, files))
    assert f"long.txt: {over_limit(4, 3)}" in page
    assert f"feed.jsonl:2: {over_limit(4, 3)}" in page
    assert [title for title, _ in _uploaded(session, world)] == ["An upload"]


def _words(page: str) -> str:
    """The page's text without tags, its whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


def _imported(response) -> int:
    return int(re.search(r"Imported <strong>(\d+)</strong> document", response.get_data(as_text=True)).group(1))


# Users.


def test_create_user_shows_the_password_once_and_it_works(world):
    app = world["app"]
    admin = Client(app, "root")
    response = admin.post("/users", {"username": "newbie", "role": "supervisor"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = SHOWN_PASSWORD.search(response.get_data(as_text=True)).group(1)
    assert len(password) >= users.MIN_PASSWORD_LENGTH
    assert password not in admin.get("/users").get_data(as_text=True)
    assert _can_login(app, "newbie", password)
    session = world["session"]
    created = _events(session, "create")[-1]
    assert created.user_id == world["root"].id
    assert created.after == {"username": "newbie", "role": "supervisor", "active": True}
    _assert_no_password_material(session, password)

    duplicate = admin.post("/users", {"username": "newbie", "role": "annotator"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.get_data(as_text=True)
    assert SHOWN_PASSWORD.search(duplicate.get_data(as_text=True)) is None
    assert admin.post("/users", {"username": "x", "role": "king"}).status_code == 400
    assert _count(session, User) == 5


def test_set_role(world):
    app, session = world["app"], world["session"]
    admin = Client(app, "root")
    victim = Client(app, "victim")
    assert victim.get("/projects").status_code == 403
    response = admin.post(f"/users/{world['victim'].id}/role", {"role": "supervisor"})
    assert response.status_code == 302 and response.location.endswith("/users")
    assert "victim is now supervisor" in admin.get("/users").get_data(as_text=True)
    assert victim.get("/projects").status_code == 302  # a role change ends the account's sessions
    assert victim.login("victim").status_code == 302 and victim.get("/projects").status_code == 200
    event = _events(session, "set_role")[-1]
    assert event.before["role"] == "annotator" and event.after["role"] == "supervisor"
    assert event.user_id == world["root"].id
    bad = admin.post(f"/users/{world['victim'].id}/role", {"role": "king"})
    assert bad.status_code == 302 and "role must be one of" in admin.get("/users").get_data(as_text=True)
    assert admin.post("/users/999/role", {"role": "admin"}).status_code == 404


def test_deactivate_and_reactivate_keep_annotations(world):
    app, session = world["app"], world["session"]
    sentence = session.scalar(select(Sentence).where(Sentence.document_id == world["seed"].id))
    session.add(SentenceLabel(user_id=world["victim"].id, sentence_id=sentence.id, layer="claim_type", value="event"))
    session.commit()
    admin, victim = Client(app, "root"), Client(app, "victim")

    assert admin.post(f"/users/{world['victim'].id}/deactivate").status_code == 302
    assert "deactivated" in admin.get("/users").get_data(as_text=True)
    assert victim.get("/").status_code == 302  # the open session ends
    assert not _can_login(app, "victim", PASSWORD)
    assert _count(session, SentenceLabel) == 1
    event = _events(session, "deactivate")[-1]
    assert event.before["active"] is True and event.after["active"] is False and event.user_id == world["root"].id

    assert admin.post(f"/users/{world['victim'].id}/reactivate").status_code == 302
    assert _can_login(app, "victim", PASSWORD)
    event = _events(session, "reactivate")[-1]
    assert event.before["active"] is False and event.after["active"] is True
    _assert_no_password_material(session, PASSWORD)


def test_reset_password(world):
    app, session = world["app"], world["session"]
    admin = Client(app, "root")
    response = admin.post(f"/users/{world['victim'].id}/password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = SHOWN_PASSWORD.search(response.get_data(as_text=True)).group(1)
    assert not _can_login(app, "victim", PASSWORD)
    assert _can_login(app, "victim", password)
    event = _events(session, "set_password")[-1]  # the one users.set_password, generating the password
    assert event.entity_id == world["victim"].id and event.user_id == world["root"].id
    assert event.before is None and event.after is None
    _assert_no_password_material(session, password, PASSWORD)


def test_the_last_active_admin_cannot_deactivate_or_demote_themself(world):
    app, session = world["app"], world["session"]
    admin = Client(app, "root")
    root_id = world["root"].id
    before = len(_events(session))
    for url, data in ((f"/users/{root_id}/deactivate", {}), (f"/users/{root_id}/role", {"role": "supervisor"})):
        response = admin.post(url, data)
        assert response.status_code == 302
        assert "is the last active admin" in _text(admin.get("/users"))
    session.rollback()
    root = session.get(User, root_id)
    assert (root.role, root.active, len(_events(session))) == ("admin", True, before)

    # With a second admin, the first may step down (and then no longer sees the user list).
    admin.post(f"/users/{world['sup'].id}/role", {"role": "admin"})
    response = admin.post(f"/users/{root_id}/role", {"role": "supervisor"})
    assert response.status_code == 302 and response.location.endswith("/")
    assert admin.get("/users").status_code == 403
    # The second admin, now the last, is protected in turn; deactivating another admin is fine.
    other = Client(app, "sup")
    other.post(f"/users/{world['sup'].id}/deactivate")
    assert "is the last active admin" in _text(other.get("/users"))
    session.rollback()
    assert session.get(User, world["sup"].id).active


# One's own password.


def test_change_own_password(world):
    app, session = world["app"], world["session"]
    ann = Client(app, "ann")
    page = ann.get("/account")
    assert page.status_code == 200 and 'for="current_password"' in page.get_data(as_text=True)
    new = "a brand new passphrase"

    wrong = ann.post("/account", {"current_password": "not it at all", "new_password": new, "confirm": new})
    assert wrong.status_code == 400 and "the current password is wrong" in wrong.get_data(as_text=True)
    mismatch = ann.post("/account", {"current_password": PASSWORD, "new_password": new, "confirm": new + "x"})
    assert mismatch.status_code == 400 and "The two new passwords differ." in mismatch.get_data(as_text=True)
    short = ann.post("/account", {"current_password": PASSWORD, "new_password": "short", "confirm": "short"})
    assert short.status_code == 400
    assert _can_login(app, "ann", PASSWORD) and _events(session, "change_password") == []

    done = ann.post("/account", {"current_password": PASSWORD, "new_password": new, "confirm": new})
    assert done.status_code == 302
    assert "Your password was changed." in ann.get("/account").get_data(as_text=True)
    assert not _can_login(app, "ann", PASSWORD) and _can_login(app, "ann", new)
    [event] = _events(session, "change_password")
    assert event.user_id == event.entity_id == world["ann"].id
    _assert_no_password_material(session, new, PASSWORD)


def test_account_page_needs_login(app):
    response = app.test_client().get("/account")
    assert response.status_code == 302 and "/login" in response.location
