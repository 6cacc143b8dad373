"""Property-based fuzzing of every page and download's address (hypothesis): the path's ids
and names, and any query parameter the app reads, over real HTTP through the app on SQLite and
PostgreSQL, as an admin, a supervisor and an annotator (each reaching what the authorization
table allows, and refused the rest).

Whatever the query — ids past any integer type, lists of them, dates that are not dates, NUL
and control characters, overlong strings, a parameter twice — the answer is never a 5xx, a
4xx says why, and a GET changes no row (the agreement report's cache aside).

A test enumerates the app's GET routes: a new one without a place here fails.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from .helpers import EXAMPLES, ODD_IDS, ODD_TEXT, changed_tables, fuzz_world, snapshot_rows, world_client

# Every query parameter a page or download reads (web/*.py), and a few it does not.
PARAMETERS = ("documents", "annotators", "since", "page", "layer", "a", "b", "gold", "usernames", "bom",
              "hide_names", "next", "annotator", "disagree", "blind", "format", "by", "figure", "breakdown", "q", "limit",
              "x")
# The path's variables: the world's ids (by key) or anything.
PATH_VALUES = {"project_id": ("project",), "document_id": ("seed", "other"), "entity_id": ("entity", "other_entity"),
               "format_name": ()}
FORMATS = ("csv", "sentences-csv", "jsonl", "jsonl-documents", "doccano", "labelstudio", "brat", "conll")
# What a GET may write: the agreement report caches what it computed.
CACHE = {"reports"}

texts = st.sampled_from(ODD_TEXT) | st.text(max_size=20) | st.integers(-(2**70), 2**70).map(str) \
    | st.lists(st.sampled_from(["1", "2", "3", str(2**31), "x", ""]), max_size=4).map(",".join)
anything = st.lists(st.tuples(st.sampled_from(PARAMETERS), texts), max_size=5)
# Half of them after the one parameter some pages need (the layer), to get past it.
queries = anything | anything.map(lambda query: [("layer", "claim_type"), *query])
CLIENTS = ("root", "sup", "ann")


@pytest.fixture
def world(app, session):
    """The world of the form fuzzer (helpers.fuzz_world): every kind of page has something to show."""
    return fuzz_world(app, session)


def _rules(app) -> dict[str, str]:
    """Every GET route but the static files, by endpoint."""
    return {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint != "static"}


def test_every_page_is_fuzzed(app):
    variables = {name for rule in _rules(app).values() for name in rule.split("<")[1:]}
    variables = {name.split(">")[0].split(":")[-1] for name in variables}
    assert variables <= PATH_VALUES.keys(), "give the new path variable its values in PATH_VALUES"
    assert _rules(app), "no GET route found"


def _path(world, rule: str, choice: int) -> str:
    path = rule
    for name, keys in PATH_VALUES.items():
        if f"<int:{name}>" in path:
            candidates = [world["ids"][key] for key in keys] + ODD_IDS
            path = path.replace(f"<int:{name}>", str(candidates[choice % len(candidates)]))
        elif f"<{name}>" in path:
            candidates = [*FORMATS, "x", "..", "%00", "a" * 300]
            path = path.replace(f"<{name}>", quote(candidates[choice % len(candidates)], safe="%"))
    return path


def _get(world, endpoint: str, url: str, client: str, query: list[tuple[str, str]]) -> int:
    """GET as the client and check the answer: never a 5xx, a 4xx that says why, nothing
    written but the report cache. The status."""
    before = world.pop("rows", None) or snapshot_rows(world["session"])
    response = world_client(world, client).http.get(url, query_string=query)
    status, text = response.status_code, response.get_data(as_text=True)
    assert status < 500, (url, query, status, text[:1000])
    if status >= 400 and response.is_json:
        assert isinstance(response.json.get("error"), str) and response.json["error"]
    elif status >= 400:  # the error page, or the page of a form with the reason in an alert (a refused export)
        assert f"<h1>{status}</h1>" in text or re.search(r'role="alert"[^>]*>[^<\s]', text), (url, query, status, text[:500])
    world["rows"] = after = snapshot_rows(world["session"])
    assert changed_tables(before, after) <= CACHE, (url, query, changed_tables(before, after))
    return status


def test_any_query_to_any_page_is_answered_without_a_server_error(world):
    rules = _rules(world["app"])
    seen: dict[str, set[int]] = {}
    for endpoint in sorted(rules):  # each page in turn: as many examples for each

        @settings(max_examples=8, **EXAMPLES)
        @example(client="sup", choice=0, query=[("layer", "claim_type")])  # a page for each, as a baseline
        @given(client=st.sampled_from(CLIENTS), choice=st.just(0) | st.integers(0, 12), query=queries)
        def run(client, choice, query):
            url = _path(world, rules[endpoint], choice)
            seen.setdefault(endpoint, set()).add(_get(world, endpoint, url, client, query))

        run()
    # Every page answered at least one of these requests with a page, not only with refusals.
    assert {endpoint for endpoint, statuses in seen.items() if statuses & {200, 202}} == set(rules), seen


# The values that broke pages before (a number past PostgreSQL's INTEGER, past SQLite's, NUL).
WORST = ("a\x00b", str(2**31), str(2**63), "1," + "9" * 30)


def test_each_parameter_of_each_page_with_the_worst_values(world):
    """Every parameter on every page, as the supervisor who may see them all, with each of the
    values that broke pages before: what a few random examples per page could miss."""
    rules = _rules(world["app"])
    for endpoint, rule in sorted(rules.items()):
        url = _path(world, rule, 0)
        for name in PARAMETERS:
            for value in WORST:
                _get(world, endpoint, url, "sup", [("layer", "claim_type"), (name, value)])
