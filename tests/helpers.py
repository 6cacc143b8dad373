"""What the tests share: a logged-in client, the builders of their worlds (accounts, a project
with the seed articles, assignments) and span payloads. Builders act as the command line does
(permissions.SYSTEM) through the services, so a world is made exactly as an operator makes one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import select

from annotator.ingest import Article, read_paths
from annotator.models import Document, Project, Sentence, User
from annotator.services import assignments, imports, projects, users
from annotator.services.permissions import SYSTEM

from .conftest import SEED_TXT, SEEDS

PASSWORD = "a long test password"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SEED_TITLE = "Hamas top leader"
# The two English articles of seeds/ (its Urdu and Arabic ones are tests/test_languages.py's).
ENGLISH_SEEDS = [SEED_TXT, SEEDS / "gulfledger_desalination.html"]


class Client:
    """A browser-like client: the session cookie and the CSRF token of the pages (anonymous
    too). ``call`` sends JSON to the API, ``get``/``post`` what a page's links and forms send."""

    def __init__(self, app, username: str | None = None, password: str = PASSWORD):
        self.http = app.test_client()
        self.token = TOKEN.search(self.http.get("/login").get_data(as_text=True)).group(1)
        if username:
            response = self.login(username, password)
            assert response.status_code == 302, response.get_data(as_text=True)

    def login(self, username: str, password: str = PASSWORD):
        response = self.http.post("/login", data={"username": username, "password": password, "csrf_token": self.token})
        if response.status_code == 302:  # a fresh session on login, so a fresh token
            self.token = TOKEN.search(self.http.get("/account").get_data(as_text=True)).group(1)
        return response

    def call(self, method: str, url: str, json=None, *, csrf: bool = True):
        headers = {"X-CSRFToken": self.token} if csrf and self.token else {}
        return self.http.open(url, method=method, json=json, headers=headers)

    def get(self, url: str, **kwargs):
        return self.http.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.http.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)


# -- builders ------------------------------------------------------------------------------------


def add_users(session, roles: Mapping[str, str], password: str = PASSWORD, *, member: bool = True) -> dict[str, User]:
    """Accounts by name: {"ann": "annotator", ...}. The supervisors among them become members of
    every project there is (``member=False``: of none), as :func:`project_with` makes every
    supervisor there is a member of its project: a test's supervisor sees the test's projects
    unless the test is about membership."""
    accounts = {name: users.add_user(session, SYSTEM, name, role, password)[0] for name, role in roles.items()}
    supervisors = [user.id for user in accounts.values() if user.role == "supervisor"]
    if member and supervisors:
        for project in projects.list_projects(session, SYSTEM):
            projects.add_members(session, SYSTEM, project.id, supervisors)
    return accounts


def project_with(session, articles: Iterable[Article], name: str = "default", codebook=None) -> Project:
    """A project (made with ``codebook``, else the default one) holding ``articles``, of which
    every supervisor there is is a member."""
    project = projects.create_project(session, SYSTEM, name, codebook) if codebook is not None \
        else projects.get_or_create_project(session, SYSTEM, name)
    supervisors = session.scalars(select(User.id).where(User.role == "supervisor")).all()
    if supervisors:
        projects.add_members(session, SYSTEM, project.id, supervisors)
    imports.import_articles(session, SYSTEM, project.id, list(articles))
    return project


def seeded_project(session, name: str = "default", codebook=None) -> Project:
    """A project with the two English seed articles of seeds/."""
    return project_with(session, read_paths(ENGLISH_SEEDS), name, codebook)


def seed_document(session, project: Project | None = None) -> Document:
    """The seed article about Hamas and Pakistan."""
    query = select(Document).where(Document.title.like(f"{SEED_TITLE}%"))
    if project is not None:
        query = query.where(Document.project_id == project.id)
    return session.scalar(query)


def assign(session, project: Project, people: Iterable[User], documents: Iterable[Document] | None = None) -> list:
    """Give the documents (all the project's by default) to each of ``people``."""
    ids = None if documents is None else [document.id for document in documents]
    return assignments.assign(session, SYSTEM, project.id, [user.id for user in people], ids)


# -- payloads ------------------------------------------------------------------------------------


def span_payload(document: Document, phrase: str, layer: str, label: str, **extra) -> dict:
    """A span over the first occurrence of ``phrase``, as the annotation page sends it."""
    start = document.text.index(phrase)
    return {"layer": layer, "label": label, "start": start, "end": start + len(phrase), "text": phrase, **extra}


def sentence_of(session, document: Document, phrase: str) -> Sentence:
    offset = document.text.index(phrase)
    return session.scalar(
        select(Sentence).where(Sentence.document_id == document.id, Sentence.start <= offset, Sentence.end > offset)
    )


# -- group A: the worlds of several modules, and the fuzzing bodies of the JSON API ----------------

from hypothesis import strategies as st  # noqa: E402

from annotator.models import Assignment  # noqa: E402

# Everyone of the supervision tests: an admin, a supervisor and three annotators.
SUPERVISION_ROLES = {"adm": "admin", "sup": "supervisor", "ann": "annotator", "bob": "annotator", "cat": "annotator"}


def annotation_world(app, session) -> dict:
    """The seed article assigned to annotators ann and bob; a supervisor sup; an unassigned
    second document (other)."""
    project = seeded_project(session)
    accounts = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor"})
    seed = seed_document(session)
    other = session.scalar(select(Document).where(Document.id != seed.id))
    assign(session, project, [accounts["ann"], accounts["bob"]], [seed])
    return {"app": app, "session": session, "project": project, "seed": seed, "other": other, **accounts}


def supervision_world(app, session) -> dict:
    """SUPERVISION_ROLES' accounts and the seed articles: ann and bob have the first (seed),
    cat nothing yet; ``assignment`` holds the ids of ann's and bob's assignments."""
    people = add_users(session, SUPERVISION_ROLES)
    project = seeded_project(session)
    seed = seed_document(session, project)
    other = session.scalar(select(Document).where(Document.project_id == project.id, Document.id != seed.id))
    assign(session, project, [people["ann"], people["bob"]], [seed])
    mine = {name: session.scalar(select(Assignment.id).where(Assignment.user_id == people[name].id)) for name in ("ann", "bob")}
    return {"app": app, "session": session, "project": project, "seed": seed, "other": other, "assignment": mine, **people}


# Bodies for the JSON API: any JSON value, and near misses of the real bodies (any value in a
# real field name: where the bugs would hide).
FUZZ_FIELDS = ("layer", "label", "start", "end", "text", "version", "value", "unsure", "comment", "attributes",
               "relation", "parts", "role", "span_id", "ms", "sentence_id")
fuzz_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
    # A lone surrogate (sent as the JSON escape \ud800), which st.text() never makes.
    | st.sampled_from(["", "SOURCE", "CUE", "attribution", "claim_type", "event", "x" * 5000, "x\ud800y"])
)
json_values = st.recursive(fuzz_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
near_misses = st.dictionaries(st.sampled_from(FUZZ_FIELDS), json_values, max_size=8)
fuzz_bodies = st.one_of(json_values, near_misses)
DEEP_JSON = "[" * 100_000 + "]" * 100_000

# Raw bodies: not a JSON object at all (each with its content type), and odd JSON objects.
NOT_A_JSON_OBJECT = [
    (b"\xff\xfe\x00not utf-8 \xc3\x28", "application/json"),
    (DEEP_JSON.encode(), "application/json"),
    (b"layer=attribution&label=SOURCE", "application/x-www-form-urlencoded"),
    (b"", "application/json"),
    (b"[1, 2, 3]", "application/json"),
]
ODD_OBJECTS = [
    b'{"layer": "attribution", "label": "SOURCE", "start": 1, "end": 2, "text": "\xed\xa0\x80"}',
    # Lone surrogates (JSON escapes) in a value, a nested value and a key (500s before).
    b'{"value": "event", "comment": "x\\ud800y", "note": "\\udfff", "attributes": {"a": ["\\udbff"]}}',
    b'{"\\ud800": 1, "ms": 1000}',
    b'{"start": 1e999999, "end": -1e999999, "version": 1e999999}',
    b'{"start": 99999999999999999999999999999999999, "end": 1, "ms": 99999999999999999999999999}',
    # Ids no row can have, where a valid body has ids: past SQLite's integers, past PostgreSQL's.
    b'{"ms": 1000, "sentence_id": 99999999999999999999999, "relation": "attribution", "version": 1,'
    b' "parts": [{"role": "source", "span_id": 99999999999999999999999}]}',
    b'{"ms": 1000, "sentence_id": 2147483648, "relation": "attribution", "version": 1,'
    b' "parts": [{"role": "source", "span_id": 2147483648}]}',
]


# == group B: admin pages, fuzzing of forms / pages / the gold API, adjudication ==================
# Shared by test_admin, test_fuzz_forms, test_fuzz_queries, test_fuzz_gold_api,
# test_adjudicate_web and test_adjudication (the JSON bodies are group A's, above). The encoded
# files come from test_ingest.py (test_cli.py imports them from there too): both can import them
# from here.

from hypothesis import HealthCheck  # noqa: E402

from annotator.models import Base  # noqa: E402
from annotator.services import adjudication as _adjudication  # noqa: E402
from annotator.services import entities as _entities  # noqa: E402

# -- files that are not UTF-8, HTML pages, the sentence limit (from test_ingest.py) ---------------


def html_page(head="", body="", lang=None):
    lang_attribute = f' lang="{lang}"' if lang else ""
    return f"<!DOCTYPE html><html{lang_attribute}><head>{head}</head><body>{body}</body></html>"


# Files in encodings other than UTF-8, made from the text they hold: (file name, encoding,
# title, body, the reason given without an encoding).
ENCODED = [
    ("arabic.txt", "windows-1256", "عاجل: الحكومة تعلن خطة جديدة",
     "قال المتحدث باسم الحكومة إن الاجتماع سيعقد غدا. وأضاف أن الوزراء سيناقشون الميزانية.",
     "not UTF-8 (first bad byte 0xDA at line 1, column 1); give the file's encoding (likely windows-1256 for Arabic)"),
    ("western.txt", "windows-1252", "Café crème in Zürich",
     "Der Bürgermeister sagte: „Die Straße bleibt gesperrt.“ Le café a répondu “bienvenue” à tous.",
     "not UTF-8 (first bad byte 0xE9 at line 1, column 4); give the file's encoding (likely windows-1252 for "
     "Western European, windows-1250 for Central European or windows-1254 for Turkish)"),
    ("hebrew.txt", "iso-8859-8", "הממשלה מודיעה על תוכנית",
     "הממשלה הודיעה היום על תוכנית חדשה. השר אמר כי היא תיושם בקרוב.",
     "not UTF-8 (first bad byte 0xE4 at line 1, column 1); give the file's encoding (likely windows-1255 for Hebrew)"),
    ("japanese.txt", "shift_jis", "政府、新計画を発表",
     "政府は本日、新しい計画を発表した。大臣は「すぐに実施する」と述べた。",
     "not UTF-8 (first bad byte 0x90 at line 1, column 1); give the file's encoding (likely shift_jis for Japanese)"),
    ("utf16.txt", "utf-16-le", "Naïve café", "Smart “quotes” and العربية in one file.",
     "not UTF-8: NUL bytes at every other position, as in UTF-16 without a byte-order mark; give the file's "
     "encoding (likely utf-16-le for little-endian UTF-16)"),
]
ENCODED_IDS = [case[1] for case in ENCODED]


def encoded_txt(encoding, title, body):
    return f"{title}\n\n{body}\n".encode(encoding)


def over_limit(count, limit):
    return (
        f"{count:,} sentences, over the limit of {limit:,} per document; split the article into parts of at most "
        f"{limit:,} sentences (for example one file per chapter or section, or one JSONL line per part), "
        "or raise ANNOTATOR_MAX_SENTENCES"
    )


# -- hypothesis settings, odd values, every row of every table (from test_fuzz_forms.py) -----------

EXAMPLES = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])
ODD_TEXT = [
    "", " ", "0", "1", "2", "3", "-1", "-2147483649", "2147483648", "9223372036854775808",
    "-99999999999999999999", "99999999999999999999999999999", "9" * 5000, "1e3", "1.5", "0x1f",
    "1_000", "²", "١٢", " 7 ", "+3", "NaN", "inf", "true", "null", "[]", "{}",
    "admin", "supervisor", "annotator", "gold", "root", "news", "exact", "overlap", "files",
    PASSWORD, "another long password", "\x00", "a\x00b", "\r\n", "\t", "\u202eevil", "\ufeff",
    "<script>alert(1)</script>", "' OR 1=1 --", "x" * 81, "x" * 201, "x" * 1025, "x" * 100_000,
]
# Ids no row has: zero, past PostgreSQL's INTEGER, past SQLite's and anything 64-bit.
ODD_IDS = [0, 999_999, 2**31, 2**63, 10**40]


# Written by whichever request comes when it is due (a login session's last use, every few
# minutes: annotator.services.users.SEEN_EVERY), so not what any one request changes.
NOT_SNAPSHOT = {"login_sessions": {"last_seen_at"}}


def snapshot_rows(session) -> dict[str, list[tuple]]:
    """Every row of every table, as the requests committed them (but NOT_SNAPSHOT)."""
    session.rollback()
    rows = {table.name: [tuple(row) for row in session.execute(
                select(*(c for c in table.columns if c.name not in NOT_SNAPSHOT.get(table.name, ())))
                .order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables}
    session.rollback()
    return rows


def changed_tables(before: dict, after: dict) -> set[str]:
    """The tables whose rows differ between two :func:`snapshot_rows`."""
    return {name for name in before if before[name] != after[name]}


# -- the world of the form and page fuzzers (from test_fuzz_forms.py) ------------------------------


def fuzz_world(app, session) -> dict:
    """An admin, a supervisor, annotators (victim's account is the one the user forms change;
    carol and dave get assignments by hand; leaver logs out, guest in); project "news" with two
    documents, both assigned to ann and bob; ann's assignment to the second is done; the first
    is being adjudicated, the second adjudicated; two source entities in its registry.
    Logged-in clients of root, sup and ann."""
    app.config["MAX_IMPORT_BYTES"] = 20_000  # so an upload request may carry about 460 KB
    project = seeded_project(session, "news")
    accounts = add_users(session, {
        "root": "admin", "sup": "supervisor", "ann": "annotator", "bob": "annotator", "victim": "annotator",
        "carol": "annotator", "dave": "annotator", "leaver": "annotator", "guest": "annotator"})
    seed, other = session.scalars(select(Document).order_by(Document.id)).all()
    ids = {"project": project.id, "seed": seed.id, "other": other.id}
    for name in ("ann", "bob"):
        for key, document in (("seed", seed), ("other", other)):
            (assignment,) = assign(session, project, [accounts[name]], [document])
            ids[f"{name}_{key}"] = assignment.id
    assignments.mark_done(session, accounts["ann"], other.id)
    _adjudication.start(session, SYSTEM, seed.id)
    _adjudication.start(session, SYSTEM, other.id)
    _adjudication.finish(session, SYSTEM, other.id)
    ids |= {name: account.id for name, account in accounts.items()} | {"gold": _adjudication.gold_id(session)}
    # Two source entities, for the registry's forms (merge the second into the first, split its alias off).
    entity = _entities.create_entity(session, SYSTEM, project.id, {"name": "ARY News", "aliases": ["ARY"]})
    other = _entities.create_entity(session, SYSTEM, project.id, {"name": "ARY Digital"})
    ids |= {"entity": entity["id"], "entity_version": entity["version"], "other_entity": other["id"]}
    clients = {name: Client(app, name) for name in ("root", "sup", "ann")}
    return {"app": app, "session": session, "ids": ids, "clients": clients}


def world_client(world: dict, name: str) -> Client:
    """The fuzz world's client of that name ("anonymous": not logged in); the anonymous one and
    the one who logs out are made again after each success (the session changes)."""
    clients = world["clients"]
    if name not in clients:
        clients[name] = Client(world["app"], None if name == "anonymous" else name)
        world.pop("rows", None)  # logging in wrote a login attempt
    return clients[name]


# -- the adjudication world (from test_adjudicate_web.py) ------------------------------------------

SPLIT_PHRASE = "Khaled Meshaal, the leader of Hamas"  # ann: event, bob: quantity: a tie
AGREED_PHRASE = "In an official statement"  # both: event
ONE_SIDED_PHRASE = "devastating"  # ann marks it (loaded language), bob does not


def ok(response, status: int = 200):
    """The JSON of a response that must have this status."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.json


def gold_span_payload(document: Document, phrase: str, layer: str = "loaded_language", label: str = "LOADED_LANGUAGE",
                      **extra) -> dict:
    """:func:`span_payload`, loaded language unless told otherwise."""
    return span_payload(document, phrase, layer, label, **extra)


def adjudication_world(app, session) -> dict:
    """Two documents both annotated by ann and bob: the seed article with a tie on one
    sentence's claim type and a span only ann marked, the other document in full agreement;
    a supervisor; logged-in clients of the three (``ann_client``, ...)."""
    project = seeded_project(session)
    accounts = add_users(session, {"ann": "annotator", "bob": "annotator", "sup": "supervisor"})
    seed = seed_document(session)
    other = session.scalar(select(Document).where(Document.id != seed.id))
    assign(session, project, [accounts["ann"], accounts["bob"]], [seed, other])
    split, agreed = sentence_of(session, seed, SPLIT_PHRASE), sentence_of(session, seed, AGREED_PHRASE)
    first_other = session.scalar(select(Sentence).where(Sentence.document_id == other.id).order_by(Sentence.position))
    clients = {name: Client(app, name) for name in ("ann", "bob", "sup")}
    for name, split_value in (("ann", "event"), ("bob", "quantity")):
        client = clients[name]
        ok(client.call("PUT", f"/api/sentences/{split.id}/labels/claim_type", {"value": split_value}))
        ok(client.call("PUT", f"/api/sentences/{agreed.id}/labels/claim_type", {"value": "event"}))
        ok(client.call("PUT", f"/api/sentences/{first_other.id}/labels/claim_type", {"value": "opinion"}))
    ok(clients["ann"].call("POST", f"/api/documents/{seed.id}/spans", gold_span_payload(seed, ONE_SIDED_PHRASE)), 201)
    return {"app": app, "session": session, "project": project, "seed": seed, "other": other,
            "split": split, "agreed": agreed, **accounts, **{f"{name}_client": c for name, c in clients.items()}}
