"""Property-based fuzzing of every HTML form of the app (hypothesis), over real HTTP through the
app on SQLite and PostgreSQL, by a logged-in user with a valid CSRF token, so that every
request reaches its handler.

Whatever a form is sent — missing, duplicated and unknown fields, wrong types, negative and
enormous numbers, overlong strings, control characters and NUL, bytes that are not UTF-8,
bodies over the size limit, uploads of random bytes under hostile file names — the answer is
never a 5xx. A request the app refuses (a 4xx page, the form back with its errors and status
400, or a redirect with an error flashed) changes no row of any table: every row of every
table of annotator.models is compared before and after (the login form records its attempt
in login_attempts, on purpose). An accepted request changes only the tables its endpoint
writes, and no upload ever becomes a file at a path derived from its name.

A test enumerates the app's POST routes outside /api/: a new form without a fuzzer here fails.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from annotator.models import Document, Event, Project
from annotator.web import UPLOAD_ENDPOINTS

from .conftest import REPO
from .helpers import (
    EXAMPLES,
    ODD_IDS,
    ODD_TEXT,
    PASSWORD,
    Client,
    changed_tables,
    fuzz_world,
    json_values,
    snapshot_rows,
    world_client,
)

CODEBOOKS = Path(__file__).parent / "data" / "codebooks"

# -- what to send --------------------------------------------------------------------------------

HUGE = b"x" * (3 * 1024 * 1024)  # over every form's limit (2 MB; uploads: see the world)
ODD_BYTES = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\x80", b"\x80", b"%", b"&=&", b"a=b", HUGE]
texts = st.sampled_from(ODD_TEXT) | st.text(max_size=20) | st.integers(-(2**70), 2**70).map(str)
values = st.one_of(
    texts.map(lambda text: text.encode()),
    st.binary(max_size=20),
    st.sampled_from(ODD_BYTES),
)


def _names(real: tuple[str, ...]):
    """Field names: the form's own mostly, the CSRF field again, or anything."""
    return st.one_of(
        st.sampled_from(real or ("x",)).map(str.encode),
        st.sampled_from([b"csrf_token", b"", b"\xff", b"name[]", b"a\x00b"]),
        st.text(max_size=8).map(str.encode),
    )


def _fields(real: tuple[str, ...]):
    return st.lists(st.tuples(_names(real), values), max_size=7)


@st.composite
def _form_fields(draw, form: Form) -> list[tuple[bytes, bytes | str]]:
    """Anything under the form's field names, or half the time (when the form has a valid
    request) that request with fields dropped, sent twice or replaced, and a few more."""
    if not form.valid or draw(st.booleans()):
        return draw(_fields(form.fields + form.files))
    pairs = []
    for name, value in form.valid:
        change = draw(st.sampled_from(("keep", "keep", "drop", "replace", "again")))
        if change != "drop":
            pairs.append((name.encode(), draw(values) if change == "replace" else value))
        if change == "again":
            pairs.append((name.encode(), draw(values)))
    return pairs + draw(st.lists(st.tuples(_names(form.fields), values), max_size=2))


def _filled(world, pairs: list[tuple[bytes, bytes | str]]) -> list[tuple[bytes, bytes]]:
    """The valid request's values, with the world's ids and a fresh name put in."""
    fresh = uuid.uuid4().hex
    return [(name, value if isinstance(value, bytes) else value.format(**world["ids"], fresh=fresh).encode())
            for name, value in pairs]


def _urlencoded(pairs: list[tuple[bytes, bytes]]) -> bytes:
    return b"&".join(quote_from_bytes(name).encode() + b"=" + quote_from_bytes(value).encode() for name, value in pairs)


BOUNDARY = "fuzz-" + uuid.uuid4().hex


def _header_value(raw: bytes) -> bytes:
    # As a browser writes names: quote, CR and LF escaped; anything else as it is.
    return raw.replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")


def _multipart(pairs: list[tuple[bytes, bytes]], files: list[tuple[bytes, bytes, bytes]] = ()) -> bytes:
    """pairs: (name, value); files: (field name, file name, content)."""
    out = []
    for name, value in pairs:
        out += [f"--{BOUNDARY}\r\n".encode(), b'Content-Disposition: form-data; name="', _header_value(name),
                b'"\r\n\r\n', value, b"\r\n"]
    for name, filename, content in files:
        out += [f"--{BOUNDARY}\r\n".encode(), b'Content-Disposition: form-data; name="', _header_value(name),
                b'"; filename="', _header_value(filename), b'"\r\nContent-Type: application/octet-stream\r\n\r\n',
                content, b"\r\n"]
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"

# -- every form, who posts it, what it may write -------------------------------------------------

# A change of an account ends its login sessions.
USERS, ASSIGNMENTS = ("users", "events", "login_sessions"), ("assignments", "events")
ENTITIES = ("source_entities", "source_entity_aliases", "events")
ENTITY_FIELDS = ("name", "kind", "affiliation", "anonymity", "wikidata_id", "gender", "aliases")
NEW = "a new long password"


@dataclass(frozen=True)
class Form:
    client: str  # the world's client that posts it
    url: str  # with {placeholders} filled from the world's ids
    ids: tuple[str, ...] = ()  # world keys tried for the {id} of the url, besides odd numbers
    fields: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # file fields
    writes: tuple[str, ...] = ()  # the tables an accepted request may change
    valid: tuple[tuple[str, str], ...] = ()  # a request it accepts: {placeholders} from the world's ids
    last: bool = False  # may take away what other forms need (sup's membership): fuzzed after them


FORMS = {
    "auth.login": Form("anonymous", "/login", fields=("username", "password"), writes=("login_attempts", "login_sessions"),
                       valid=(("username", "guest"), ("password", PASSWORD))),
    "auth.logout": Form("leaver", "/logout", writes=("login_sessions",)),
    "admin.account": Form("root", "/account", fields=("current_password", "new_password", "confirm"), writes=USERS,
                          valid=(("current_password", PASSWORD), ("new_password", NEW), ("confirm", NEW))),
    "admin.new_project": Form("root", "/projects/new", fields=("name",), files=("codebook",),
                              writes=("projects", "events"), valid=(("name", "{fresh}"),)),
    "admin.upload": Form("sup", "/projects/{id}/documents", ids=("project",), fields=("encoding", "language"),
                         files=("files",), writes=("documents", "sentences", "events")),
    "admin.upload_annotations": Form("sup", "/projects/{id}/annotations", ids=("project",),
                                     fields=("format", "annotator", "replace"), files=("file", "mapping"),
                                     writes=("documents", "sentences", "users", "assignments", "spans", "attributions",
                                             "attribution_parts", "sentence_labels", "adjudications",
                                             "gold_provenance", "events")),
    "admin.codebook_language": Form("sup", "/projects/{id}/codebook-language", ids=("project",), fields=("language",),
                                    writes=("projects", "events"), valid=(("language", "ur"),)),
    "admin.add_member": Form("root", "/projects/{id}/members", ids=("project",), fields=("user",),
                             writes=("project_members", "events"), valid=(("user", "{sup}"),)),
    "admin.remove_member": Form("root", "/projects/{id}/members/remove", ids=("project",), fields=("user",),
                                writes=("project_members", "events"), valid=(("user", "{sup}"),), last=True),
    "admin.create_user": Form("root", "/users", fields=("username", "role"), writes=USERS,
                              valid=(("username", "{fresh}"), ("role", "annotator"))),
    "admin.set_role": Form("root", "/users/{id}/role", ids=("victim", "root", "gold"), fields=("role", "page"), writes=USERS,
                           valid=(("role", "supervisor"),)),
    "admin.deactivate": Form("root", "/users/{id}/deactivate", ids=("victim", "root", "gold"), fields=("page",), writes=USERS),
    "admin.reactivate": Form("root", "/users/{id}/reactivate", ids=("victim", "root", "gold"), fields=("page",), writes=USERS),
    "admin.reset_password": Form("root", "/users/{id}/password", ids=("victim", "root", "gold"), writes=USERS),
    "supervise.auto_assign": Form("sup", "/projects/{id}/assignments/auto", ids=("project",),
                                  fields=("annotators", "per_document", "seed", "calibration"), writes=ASSIGNMENTS,
                                  valid=(("annotators", "{ann}"), ("annotators", "{carol}"), ("per_document", "2"),
                                         ("seed", "7"), ("calibration", "1"))),
    "supervise.assign": Form("sup", "/projects/{id}/assignments", ids=("project",), fields=("user", "documents", "page"),
                             writes=ASSIGNMENTS,
                             valid=(("user", "{carol}"), ("documents", "{seed}"), ("documents", "{other}"))),
    "supervise.withdraw": Form("sup", "/assignments/{id}/withdraw", ids=("ann_seed", "bob_seed"), fields=("page",),
                               writes=ASSIGNMENTS),
    "supervise.reassign": Form("sup", "/assignments/{id}/reassign", ids=("ann_seed", "bob_seed"), fields=("user", "page"),
                               writes=ASSIGNMENTS, valid=(("user", "{dave}"),)),
    "supervise.reopen": Form("sup", "/assignments/{id}/reopen", ids=("ann_other", "bob_seed"), fields=("page",),
                             writes=ASSIGNMENTS),
    "supervise.mark_done": Form("ann", "/documents/{id}/done", ids=("seed", "other"), fields=("page",), writes=ASSIGNMENTS),
    "adjudicate.settings": Form("sup", "/projects/{id}/adjudication/settings", ids=("project",),
                                fields=("min_agree", "matching"), writes=("projects", "events"),
                                valid=(("min_agree", "1"), ("matching", "overlap"))),
    "entities.add": Form("sup", "/projects/{id}/entities", ids=("project",), fields=ENTITY_FIELDS, writes=ENTITIES,
                         valid=(("name", "{fresh}"), ("kind", "person"), ("aliases", "{fresh} alias"))),
    "entities.edit": Form("sup", "/entities/{id}", ids=("entity",), fields=("version", *ENTITY_FIELDS), writes=ENTITIES,
                          valid=(("version", "{entity_version}"), ("gender", "female"), ("wikidata_id", "Q42"))),
    "entities.merge": Form("sup", "/entities/{id}/merge", ids=("entity",), fields=("other_id",),
                           writes=(*ENTITIES, "spans"), valid=(("other_id", "{other_entity}"),)),
    "entities.split": Form("sup", "/entities/{id}/split", ids=("entity",), fields=("span_ids", "aliases", *ENTITY_FIELDS),
                           writes=(*ENTITIES, "spans"), valid=(("name", "{fresh}"), ("aliases", "ARY"))),
    "adjudicate.reopen": Form("sup", "/documents/{id}/adjudication/reopen", ids=("other", "seed"),
                              writes=("adjudications", "assignments", "events")),
}


def _in_order() -> list[str]:
    """The forms' endpoints, those marked ``last`` after the others."""
    return sorted(FORMS, key=lambda endpoint: (FORMS[endpoint].last, endpoint))


def test_every_form_is_fuzzed(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and not rule.rule.startswith("/api/")}
    assert posts - FORMS.keys() == set(), "add the new forms to FORMS"
    assert FORMS.keys() - posts == set(), "FORMS names forms that no longer exist"


# -- the world -----------------------------------------------------------------------------------


@pytest.fixture
def world(app, session):
    """helpers.fuzz_world (accounts for every form, project "news" with two documents in every
    state a form changes), and ``roots``: where an upload's name could lead (_watched)."""
    return fuzz_world(app, session) | {"roots": _watched(app)}


# -- checking what happened ----------------------------------------------------------------------


def _flashes(client: Client) -> list[tuple[str, str]]:
    """The messages a redirect left for the next page (taken, so they do not pile up)."""
    with client.http.session_transaction() as flask_session:
        return list(flask_session.pop("_flashes", []))


SAYS_WHY = ('class="field-error"', 'class="flash error"', 'class="problems"')


def _refused(response, client: Client) -> bool:
    """Whether the app refused the request; fails on a 5xx or a refusal that says nothing."""
    status, text = response.status_code, response.get_data(as_text=True)
    assert status < 500, (status, text[:1000])
    if status >= 400:
        assert response.mimetype == "text/html", (status, response.mimetype)
        assert any(marker in text for marker in SAYS_WHY) or f"<h1>{status}</h1>" in text \
            or "CSRF" in text, (status, text[:1000])
        return True
    if 300 <= status < 400:
        return any(category == "error" for category, _ in _flashes(client))
    return False


def _imported(response) -> int | None:
    """The number of documents an upload page reports imported (None: not an upload page)."""
    found = re.search(r"Imported <strong>(\d+)</strong> document", response.get_data(as_text=True))
    return int(found.group(1)) if found else None


def _check(endpoint: str, response, client: Client, before: dict, session) -> tuple[bool, dict]:
    """Fail on a 5xx, a refusal that wrote something, or an acceptance that wrote elsewhere;
    whether it was refused, and the rows after it."""
    refused = _refused(response, client)
    after = snapshot_rows(session)
    changed = changed_tables(before, after)
    if endpoint == "auth.login":
        changed -= {"login_attempts"}  # every checked attempt is recorded, refused or not
    if refused or (endpoint == "admin.upload" and _imported(response) == 0):
        assert changed == set(), f"{endpoint}: a refused request ({response.status_code}) changed {sorted(changed)}"
    else:
        assert changed <= set(FORMS[endpoint].writes), f"{endpoint} changed {sorted(changed)}"
    if endpoint == "admin.upload" and response.status_code == 200:
        assert len(after["documents"]) - len(before["documents"]) == _imported(response)
    return refused, after


# -- the filesystem ------------------------------------------------------------------------------


def _watched(app) -> dict[str, list[Path]]:
    """Where an upload's name could lead a careless app. The test's own directory, with the
    instance folder in it, is watched whole; the current directory, the repository, the
    temporary directory, /etc, the root and every parent of the test's directory are watched
    for new names from HOSTILE_NAMES (other programs may add files there meanwhile)."""
    own = Path(app.instance_path).parent
    loose = {Path.cwd(), REPO, Path(tempfile.gettempdir()), Path("/"), Path("/etc"), *own.parents}
    return {"whole": [own], "names": sorted(loose)}


def _files(roots: dict[str, list[Path]]) -> dict[tuple[str, Path], set[str]]:
    listing = {("whole", root): {str(path.relative_to(root)) for path in root.rglob("*")} for root in roots["whole"]}
    for root in roots["names"]:
        listing["names", root] = {path.name for path in root.iterdir()} if root.is_dir() else set()
    return listing


def _assert_no_new_files(before: dict, after: dict) -> None:
    for (how, root), listed in after.items():
        new = listed - before[how, root]
        if how == "whole":  # only the database may change here
            new = {entry for entry in new if not entry.startswith("annotator.sqlite3")}
        else:  # the hostile names (HOSTILE_NAMES) all have the marker
            new = {entry for entry in new if MARKER in entry or "passwd" in entry}
        assert not new, f"new files in {root}: {sorted(new)}"


# -- the fuzzers ---------------------------------------------------------------------------------


def _url(world, form: Form, choice: int) -> str:
    """The form's URL with its id: the world's (choice 0 the first), or one no row has."""
    if "{id}" not in form.url:
        return form.url
    candidates = [world["ids"][key] for key in form.ids] + ODD_IDS
    return form.url.replace("{id}", str(candidates[choice % len(candidates)]))


@dataclass
class Counter:
    """Examples per endpoint, and how many of them were refused."""

    seen: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)

    def add(self, endpoint: str, refused: bool) -> None:
        self.seen[endpoint] = self.seen.get(endpoint, 0) + 1
        self.refused[endpoint] = self.refused.get(endpoint, 0) + refused


def _post(world, endpoint: str, url: str, body: bytes, content_type: str, address: int = 1):
    """Post as the form's client and check the outcome (_check); the response and whether it was refused."""
    client = world_client(world, FORMS[endpoint].client)
    before = world.pop("rows", None) or snapshot_rows(world["session"])
    # Each from an address of its own, so that the address limit of logins does not hide the rest.
    address = f"10.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}"
    response = client.http.post(url, data=body, content_type=content_type, environ_base={"REMOTE_ADDR": address})
    refused, world["rows"] = _check(endpoint, response, client, before, world["session"])
    if endpoint in ("auth.login", "auth.logout") and response.status_code == 302:
        world["clients"].pop(FORMS[endpoint].client)  # a fresh session: log in (or out) again
    return response, refused


def test_any_input_to_any_form_is_refused_cleanly_or_accepted(world):
    counter = Counter()
    addresses = iter(range(1, 2**24))
    for endpoint in _in_order():  # each form in turn: as many examples for each
        form = FORMS[endpoint]

        @settings(max_examples=12, **EXAMPLES)
        @given(choice=st.one_of(st.just(0), st.integers(0, 20)), pairs=_form_fields(form), multipart=st.booleans())
        def run(choice, pairs, multipart):
            token = world_client(world, form.client).token.encode()
            pairs = [(b"csrf_token", token), *_filled(world, pairs)]
            body = _multipart(pairs) if multipart else _urlencoded(pairs)
            _, refused = _post(world, endpoint, _url(world, form, choice), body,
                               MULTIPART if multipart else URLENCODED, next(addresses))
            counter.add(endpoint, refused)

        run()
    # Each form with a valid request got through at least once, and was refused at least once.
    for endpoint, form in FORMS.items():
        assert counter.refused[endpoint] < counter.seen[endpoint] or not form.valid, (endpoint, counter)
        assert counter.refused[endpoint] > 0 or not form.fields, (endpoint, counter)


# -- uploads: documents and codebooks ------------------------------------------------------------

MARKER = "fuzz-" + uuid.uuid4().hex[:8]
HOSTILE_NAMES = [
    f"../../{MARKER}.txt", f"..\\..\\{MARKER}.txt", f"{'../' * 12}tmp/{MARKER}.txt", f"/tmp/{MARKER}.txt",
    f"/etc/{MARKER}.txt", "../../etc/passwd", "/etc/passwd", f"C:\\Windows\\{MARKER}.txt", f"sub/dir/{MARKER}.txt",
    f"{MARKER}\x00.txt", f"{MARKER}.txt\x00.html", f"\x01\x1b[31m{MARKER}\x7f.txt", f"{MARKER}\u202etxt.exe",
    f".{MARKER}.txt", f"{MARKER}.", f"{MARKER}/", "..", ".", "", " ", f"{'x' * 300}{MARKER}.txt",
    f"{MARKER}.TXT", f"{MARKER}.jsonl", f"{MARKER}.html", f"{MARKER}.htm", f"{MARKER}.png", f"{MARKER}",
    f"~/{MARKER}.txt", f"$HOME/{MARKER}.txt", f"%2e%2e%2f{MARKER}.txt", f"{MARKER}:stream.txt",
]
GOOD_TXT = b"An upload\n\nThe first paragraph has two sentences. This is the second.\n\nA last paragraph.\n"
GOOD_HTML = b"<html><head><title>T</title></head><body><article><p>One sentence. Two.</p></article></body></html>"
CUSTOM_TOML = (CODEBOOKS / "custom.toml").read_bytes()
CUSTOM_JSON = (CODEBOOKS / "custom.json").read_bytes()
CONTENTS = [
    b"", GOOD_TXT, GOOD_HTML, CUSTOM_TOML, CUSTOM_JSON,
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),  # binary under any name
    b"\xff\xfe" + "utf-16".encode("utf-16-le"), CUSTOM_TOML.decode().encode("utf-16"),
    b"\xef\xbb\xbf" + GOOD_TXT, GOOD_TXT.replace(b"two", b"\xc3\x28"), GOOD_TXT + b"\x00",  # BOM, not UTF-8, NUL
    b"Title\n\n" + b"word " * 5000, HUGE[:600_000],  # over the file limit, over the request limit
    b'{"title": "t", "text": "One. Two."}\n{"title": 1}\n', b"<html>" * 10_000,
    CUSTOM_TOML + b"\n[[", CUSTOM_TOML.replace(b"=", b"", 3), CUSTOM_JSON.replace(b'"', b"'", 4),
    b'name = "' + b"x" * 1_100_000 + b'"',  # a codebook over its limit
    b"a = " + b"[" * 50_000 + b"]" * 50_000, b"[" * 50_000 + b"]" * 50_000,  # nested past any parser
    b'{"name": "\\u0000", "version": 1}',
]


def _spliced(base: bytes):
    """A valid file with a few bytes inserted or cut somewhere: past the parser, into the checks."""
    return st.tuples(st.integers(0, len(base)), st.integers(0, 8), st.binary(max_size=12)).map(
        lambda cut: base[:cut[0]] + cut[2] + base[cut[0] + cut[1]:])


contents = st.one_of(
    st.sampled_from(CONTENTS), st.binary(max_size=200),
    st.sampled_from([GOOD_TXT, GOOD_HTML, CUSTOM_TOML, CUSTOM_JSON]).flatmap(_spliced),
    st.lists(json_values, min_size=1, max_size=3).map(lambda lines: "\n".join(json.dumps(v) for v in lines).encode()),
)
filenames = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.tuples(st.text(max_size=12), st.sampled_from([".txt", ".html", ".jsonl", ".toml", ".json", ".yaml", ""])).map(
        lambda parts: parts[0] + parts[1]),
).map(lambda name: name.encode("utf-8", "surrogatepass"))
VALID_FILES = [(b"custom.toml", CUSTOM_TOML), (b"custom.json", CUSTOM_JSON), (b"a.txt", GOOD_TXT),
               (b"a.html", GOOD_HTML)]
upload_files = st.one_of(
    st.tuples(filenames, contents),
    st.sampled_from(VALID_FILES).flatmap(
        lambda file: st.tuples(st.just(file[0]), st.just(file[1]) | _spliced(file[1]))),
    st.tuples(st.sampled_from(HOSTILE_NAMES).map(str.encode), _spliced(GOOD_TXT)),  # importable, under a hostile name
)
UPLOADS = {"admin.upload": "files", "admin.new_project": "codebook"}


def test_uploads_of_anything_under_any_name(world):
    counter = Counter()

    @settings(max_examples=70, **EXAMPLES)
    @given(endpoint=st.sampled_from(sorted(UPLOADS)), files=st.lists(upload_files, max_size=3),
           name=st.one_of(st.just(b"fresh"), values), field_name=st.sampled_from(["", "other"]))
    @example(endpoint="admin.new_project", files=[(b"custom.toml", CUSTOM_TOML)], name=b"fresh", field_name="")
    @example(endpoint="admin.upload", files=[(HOSTILE_NAMES[0].encode(), GOOD_TXT)], name=b"", field_name="")
    def run(endpoint, files, name, field_name):
        form = FORMS[endpoint]
        client = world_client(world, form.client)
        pairs = [(b"csrf_token", client.token.encode())]
        if endpoint == "admin.new_project":
            pairs.append((b"name", name if name != b"fresh" else uuid.uuid4().hex.encode()))
        field_name = (field_name or UPLOADS[endpoint]).encode()  # mostly the form's own file field
        parts = [(field_name, filename, content) for filename, content in files]
        before = _files(world["roots"])
        _, refused = _post(world, endpoint, _url(world, form, 0), _multipart(pairs, parts), MULTIPART)
        _assert_no_new_files(before, _files(world["roots"]))
        counter.add(endpoint, refused)

    run()
    assert set(counter.seen) == set(UPLOADS)
    # Some got through: documents imported, projects made with an uploaded codebook.
    session = world["session"]
    assert len(session.scalars(select(Document.id)).all()) > 2
    assert len(session.scalars(select(Project.id).where(Project.codebook_version != 1)).all()) > 0
    session.rollback()


# -- fixed cases: each odd value in each field, odd ids, hostile names, huge bodies --------------

ODD_FIELD_VALUES = [b"\x00", b"a\x00b", b"9" * 5000, b"2147483648", b"-2147483649", b"\xff\xfe", b"x" * 100_000,
                    "²".encode(), b""]


def _cases():
    """Each form's valid request with one field changed to each odd value, dropped or sent
    twice; and with each odd id in its URL."""
    for endpoint in _in_order():
        form = FORMS[endpoint]
        for index, (name, _) in enumerate(form.valid):
            for value in [*ODD_FIELD_VALUES, None, "twice"]:
                pairs = list(form.valid)
                if value is None:
                    del pairs[index]
                elif value == "twice":
                    pairs.insert(index, pairs[index])
                else:
                    pairs[index] = (name, value)
                yield endpoint, 0, [(key.encode(), value) for key, value in pairs]
        for choice in range(len(form.ids), len(form.ids) + len(ODD_IDS) if form.ids else 0):
            yield endpoint, choice, [(key.encode(), value) for key, value in form.valid]


def test_each_odd_value_in_each_field_and_odd_ids(world):
    for number, (endpoint, choice, pairs) in enumerate(_cases()):
        form = FORMS[endpoint]
        pairs = [(b"csrf_token", world_client(world, form.client).token.encode()), *_filled(world, pairs)]
        _post(world, endpoint, _url(world, form, choice), _urlencoded(pairs), URLENCODED, number)


def test_upload_names_never_become_paths(world):
    """Each hostile name on an importable file: imported or refused by its suffix, shown and
    stored as a printable base name, and never a file anywhere."""
    session = world["session"]
    sup = world_client(world, "sup")
    before_files, before = _files(world["roots"]), snapshot_rows(session)
    parts = [(b"files", name.encode(), GOOD_TXT.replace(b"first", f"first ({n})".encode()))
             for n, name in enumerate(HOSTILE_NAMES)]
    body = _multipart([(b"csrf_token", sup.token.encode())], parts)
    url = f"/projects/{world['ids']['project']}/documents"
    response = sup.http.post(url, data=body, content_type=MULTIPART)
    assert response.status_code == 200
    _assert_no_new_files(before_files, _files(world["roots"]))
    assert changed_tables(before, snapshot_rows(session)) <= {"documents", "sentences", "events"}
    imported = session.scalars(select(Document).where(Document.id > max(row[0] for row in before["documents"]))).all()
    events = session.scalars(select(Event).where(Event.action == "import",
                                                 Event.id > max(row[0] for row in before["events"]))).all()
    session.rollback()
    # Each file is shown under its base name, printable; the .txt ones are imported, the
    # others refused by their suffix or for their (text, not HTML or JSONL) content.
    rows = re.findall(r'<tr class="(ok|failed)">\s*<td>([^<]*)</td>', response.get_data(as_text=True))
    assert len(rows) == len([name for name in HOSTILE_NAMES if name])  # no name: no file (as browsers send it)
    for result, name in rows:
        name = html.unescape(name)
        assert name.isprintable() and "/" not in name and "\\" not in name and name, name
        assert (result == "ok") == name.lower().endswith(".txt"), (result, name)
    assert len(imported) == _imported(response) == sum(result == "ok" for result, _ in rows)
    stored = [document.meta["source_file"] for document in imported] + [event.after["source"] for event in events]
    assert len(stored) == 2 * len(imported)
    for name in stored:
        assert name.isprintable() and "/" not in name and "\\" not in name and name.lower().endswith(".txt"), name


def test_huge_bodies_to_every_form(world):
    """Over the limit (2 MB for a form, about 460 KB for an upload here): 413, or back to the
    project page with the reason for an upload; nothing read, nothing written."""
    for number, (endpoint, form) in enumerate(sorted(FORMS.items())):
        token = (b"csrf_token", world_client(world, form.client).token.encode())
        url = _url(world, form, 0)
        for body, content_type in ((_urlencoded([token, (b"x", HUGE)]), URLENCODED),
                                   (_multipart([token], [(b"files", b"huge.txt", HUGE)]), MULTIPART)):
            response, refused = _post(world, endpoint, url, body, content_type, number)
            expected = 302 if endpoint in UPLOAD_ENDPOINTS else 413
            assert refused and response.status_code == expected, (endpoint, response.status_code)
