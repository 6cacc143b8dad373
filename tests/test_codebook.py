"""The codebook: loading, validation on load, the default codebook and validation of annotations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator.codebook import (
    RESERVED_KEYS,
    SENTENCE_SCOPE,
    ChoiceLayer,
    Codebook,
    CodebookError,
    Prefill,
    SpanLayer,
    Value,
    codebook_from_dict,
    default_codebook,
    load_codebook,
)

DATA = Path(__file__).parent / "data" / "codebooks"
DOCS = Path(__file__).parent.parent / "docs" / "codebook.md"

# Paths into the default codebook's data, as used by the validation cases below.
ATTRIBUTION, LOADED = "span_layers[0]", "span_layers[1]"
CLAIM_TYPE, CHECK_WORTHY = "choice_layers[0]", "choice_layers[1]"


def default_data() -> dict[str, Any]:
    return default_codebook().to_dict()  # a fresh dict on every call, safe to change


def problems_of(data: Any) -> list[str]:
    with pytest.raises(CodebookError) as caught:
        codebook_from_dict(data)
    return caught.value.problems


def all_values(codebook: Codebook) -> list[tuple[str, Value]]:
    """Every value of every choice layer and attribute, with where it lives."""
    found = [(f"{layer.name}.{value.name}", value)
             for layer in codebook.choice_layers for value in layer.values]
    attributes = [(relation.name, attribute)
                  for relation in codebook.relations for attribute in relation.attributes]
    for layer in codebook.span_layers:
        attributes += [(layer.name, attribute) for attribute in layer.attributes]
        attributes += [(f"{layer.name}.{label.name}", attribute)
                       for label in layer.labels for attribute in label.attributes]
    found += [(f"{owner}.{attribute.name}.{value.name}", value)
              for owner, attribute in attributes for value in attribute.values]
    return found


# --- The default codebook ------------------------------------------------------------------


def test_default_codebook_loads_with_the_expected_layers() -> None:
    codebook = default_codebook()
    assert codebook.version == 1
    assert [layer.name for layer in codebook.span_layers] == ["attribution", "loaded_language"]
    assert [layer.name for layer in codebook.choice_layers] == ["claim_type", "check_worthy"]
    attribution = codebook.layer("attribution")
    assert isinstance(attribution, SpanLayer) and attribution.cross_sentence
    assert [label.name for label in attribution.labels] == ["SOURCE", "CUE", "CONTENT", "SUPPLEMENT"]
    assert [label.name for label in codebook.span_layers[1].labels] == [
        "LOADED_LANGUAGE", "NAME_CALLING_LABELING", "EXAGGERATION_MINIMISATION", "DOUBT",
        "APPEAL_TO_FEAR",
    ]
    assert [flag.name for flag in codebook.sentence_flags] == ["unsure", "comment"]


def test_default_attribution_relation() -> None:
    relation = default_codebook().relation("attribution")
    assert relation.layer == "attribution" and relation.anchor == "cue"
    assert [(r.name, r.label, r.required, r.multiple) for r in relation.roles] == [
        ("source", "SOURCE", False, False),
        ("cue", "CUE", True, False),
        ("content", "CONTENT", True, True),
        ("supplement", "SUPPLEMENT", False, True),
    ]
    assert {a.name: a.value_names for a in relation.attributes} == {
        "source_kind": ("person", "organisation", "media_outlet", "document", "unspecified_group"),
        "identification": ("named", "role_only", "anonymous"),
        "cue_type": ("reporting_verb", "according_to", "as_reported_by", "statement_frame", "other"),
        "quote_type": ("direct", "indirect", "mixed"),
    }


def test_default_loaded_language_attributes_and_voice_prefill() -> None:
    layer = default_codebook().span_layers[1]
    polarity, voice = layer.attributes
    assert polarity.value_names == ("negative", "positive") and polarity.required
    assert voice.value_names == ("author", "attributed") and voice.default == "author"
    assert voice.prefill == Prefill(inside_layer="attribution", inside_label="CONTENT",
                                    value="attributed")
    assert layer.attributes_for("DOUBT") == (polarity, voice)


def test_default_choice_layers() -> None:
    claim_type, check_worthy = default_codebook().choice_layers
    assert claim_type.required and not claim_type.multiple and not claim_type.ordered
    assert claim_type.value_names == ("event", "quantity", "causal", "prediction", "rule",
                                      "personal_experience", "opinion", "not_claim")
    assert [value.hotkey for value in claim_type.values] == list("12345678")
    assert check_worthy.ordered and not check_worthy.multiple
    assert check_worthy.value_names == ("no", "unsure", "yes")  # lowest to highest


def test_every_default_label_and_value_has_guidelines_and_a_hotkey() -> None:
    codebook = default_codebook()
    labels = [(f"{layer.name}.{label.name}", label)
              for layer in codebook.span_layers for label in layer.labels]
    for where, item in labels + all_values(codebook):
        assert item.description.strip(), f"{where} has no description"
        assert item.example.strip(), f"{where} has no example"
        assert item.hotkey, f"{where} has no hotkey"
    for layer in codebook.span_layers + codebook.choice_layers + codebook.relations:
        assert layer.title and layer.description.strip(), f"{layer.name} needs a title and description"


def test_default_hotkeys_do_not_conflict_and_avoid_reserved_keys() -> None:
    codebook = default_codebook()
    scopes = codebook.hotkeys()
    labels = sum(len(layer.labels) for layer in codebook.span_layers)
    assert len(scopes[SENTENCE_SCOPE]) == labels + 8 + 3
    assert len(scopes["span_layer:loaded_language"]) == 4
    assert len(scopes["relation:attribution"]) == 5 + 3 + 5 + 3
    # Every hotkey got its own binding: a conflict would have overwritten one.
    assert sum(map(len, scopes.values())) == labels + len(all_values(codebook))
    assert not {key for bindings in scopes.values() for key in bindings} & RESERVED_KEYS
    assert scopes[SENTENCE_SCOPE]["s"] == {"layer": "attribution", "label": "SOURCE"}
    assert scopes[SENTENCE_SCOPE]["1"] == {"layer": "claim_type", "value": "event"}
    assert scopes["relation:attribution"]["y"] == {"attribute": "identification",
                                                   "value": "anonymous"}


def test_docs_cover_every_name_in_the_default_codebook() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    codebook = default_codebook()
    names = [label.name for layer in codebook.span_layers for label in layer.labels]
    names += [value.name for _, value in all_values(codebook)]
    names += [layer.name for layer in codebook.span_layers + codebook.choice_layers]
    assert [name for name in names if f"`{name}`" not in docs] == []


# --- Round trips and other files -----------------------------------------------------------


def test_to_dict_round_trips() -> None:
    codebook = default_codebook()
    assert Codebook.from_dict(codebook.to_dict()) == codebook


def test_json_dump_and_load_round_trips(tmp_path: Path) -> None:
    codebook = default_codebook()
    assert codebook_from_dict(json.loads(json.dumps(codebook.to_dict()))) == codebook
    path = tmp_path / "codebook.json"
    path.write_text(json.dumps(codebook.to_dict(), indent=2), encoding="utf-8")
    assert load_codebook(path) == codebook


def test_custom_codebook_loads_without_code_changes() -> None:
    codebook = load_codebook(DATA / "custom.toml")
    assert codebook == load_codebook(DATA / "custom.json")
    assert (codebook.name, codebook.version) == ("policy_debates", 3)
    entities = codebook.layer("entities")
    assert isinstance(entities, SpanLayer) and not entities.allow_overlap
    assert codebook.span_label("evidence", "EVIDENCE").attributes[0].name == "evidence_kind"
    topics, sentiment = codebook.choice_layers
    assert topics.multiple and topics.required and not topics.ordered
    assert sentiment.ordered and sentiment.title == "Sentiment"  # title defaults from the name
    support = codebook.relation("support")
    assert support.anchor == "claim" and support.role("evidence").multiple
    assert support.attributes[0].default == "weak"
    assert codebook.validate_choice("topics", ["economy", "health"]) == []
    assert codebook.validate_span("evidence", "EVIDENCE", {"evidence_kind": "statistic"}) == []
    assert codebook.validate_relation_attributes("support", {"strength": "strong"}) == []
    assert Codebook.from_dict(codebook.to_dict()) == codebook


def test_null_counts_as_a_missing_key() -> None:
    data = default_data()
    data["span_layers"][0]["labels"][0]["hotkey"] = None
    data["description"] = None
    codebook = codebook_from_dict(data)
    assert codebook.span_label("attribution", "SOURCE").hotkey is None
    assert codebook.description == ""


# --- Validation on load --------------------------------------------------------------------

Change = Callable[[dict[str, Any]], None]
DELETE = object()


def put(path: str, value: Any) -> Change:
    """A change that sets (or DELETEs) the value at a dotted path like "span_layers.0.name"."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is DELETE:
            del target[last]
        else:
            target[last] = value

    return change

# (change to the default codebook's data, the one problem it must cause)
INVALID = {
    "missing name": (
        put("choice_layers.1.name", DELETE), f"{CHECK_WORTHY}.name: is required"),
    "empty name": (
        put("span_layers.1.labels.0.name", ""), f"{LOADED}.labels[0].name: must not be empty"),
    "blank codebook name": (put("name", "  "), "name: must not be empty"),
    "bad label name": (
        put("span_layers.1.labels.2.name", "EXAGGERATION/MINIMISATION"),
        f"{LOADED}.labels[2].name: 'EXAGGERATION/MINIMISATION' is not a valid name: "
        "use only letters, digits and underscores"),
    "name too long for the database": (
        put("span_layers.1.labels.2.name", "X" * 65),
        f"{LOADED}.labels[2].name: 'XXXXXXXXXXXXXXXXXXXX'… is 65 characters long; a name has at most 64"),
    "bad value name": (
        put("choice_layers.0.values.5.name", "personal experience"),
        f"{CLAIM_TYPE}.values[5].name: 'personal experience' is not a valid name: "
        "use only letters, digits and underscores"),
    "duplicate span layer": (
        put("span_layers.1.name", "attribution"),
        f"{LOADED}.name: 'attribution' is already used by {ATTRIBUTION}"),
    "choice layer named like a span layer": (
        put("choice_layers.1.name", "loaded_language"),
        f"{CHECK_WORTHY}.name: 'loaded_language' is already used by {LOADED}"),
    "duplicate label": (
        put("span_layers.1.labels.1.name", "LOADED_LANGUAGE"),
        f"{LOADED}.labels[1].name: 'LOADED_LANGUAGE' is already used by {LOADED}.labels[0]"),
    "duplicate choice value": (
        put("choice_layers.0.values.1.name", "event"),
        f"{CLAIM_TYPE}.values[1].name: 'event' is already used by {CLAIM_TYPE}.values[0]"),
    "duplicate attribute value": (
        put("relations.0.attributes.3.values.2.name", "direct"),
        "relations[0].attributes[3].values[2].name: 'direct' is already used by "
        "relations[0].attributes[3].values[0]"),
    "duplicate attribute": (
        put("relations.0.attributes.1.name", "source_kind"),
        "relations[0].attributes[1].name: 'source_kind' is already used by "
        "relations[0].attributes[0]"),
    "label attribute shadowing a layer attribute": (
        put("span_layers.1.labels.0.attributes", [{"name": "polarity", "values": [{"name": "x"}]}]),
        f"{LOADED}.labels[0].attributes[0].name: 'polarity' is already used by "
        f"{LOADED}.attributes[0]"),
    "duplicate role": (
        put("relations.0.roles.3.name", "content"),
        "relations[0].roles[3].name: 'content' is already used by relations[0].roles[2]"),
    "unknown key with a close match": (
        put("choice_layers.0.mulitple", True),
        f"{CLAIM_TYPE}.mulitple: unknown key (did you mean 'multiple'?)"),
    "unknown top-level key": (
        put("descripton", "x"), "descripton: unknown key (did you mean 'description'?)"),
    "unknown key without a close match": (
        put("span_layers.0.labels.0.weight", 2), f"{ATTRIBUTION}.labels[0].weight: unknown key"),
    "string for a boolean": (
        put("span_layers.0.cross_sentence", "yes"),
        f"{ATTRIBUTION}.cross_sentence: expected true or false, got a string"),
    "number for a string": (
        put("span_layers.0.description", 5),
        f"{ATTRIBUTION}.description: expected a string, got an integer"),
    "string for an array": (
        put("choice_layers.1.values", "yes"),
        f"{CHECK_WORTHY}.values: expected an array of tables, got a string"),
    "string for a table": (
        put("choice_layers.1.values.0", "no"),
        f"{CHECK_WORTHY}.values[0]: expected a table, got a string"),
    "hotkey shared by labels of two span layers": (
        put("span_layers.1.labels.0.hotkey", "s"),
        f"{LOADED}.labels[0].hotkey: 's' is already used by {ATTRIBUTION}.labels[0]"),
    "hotkey shared by a choice value and a span label": (
        put("choice_layers.1.values.0.hotkey", "l"),
        f"{CHECK_WORTHY}.values[0].hotkey: 'l' is already used by {LOADED}.labels[0]"),
    "hotkey shared within a relation's attributes": (
        put("relations.0.attributes.3.values.0.hotkey", "e"),
        "relations[0].attributes[3].values[0].hotkey: 'e' is already used by "
        "relations[0].attributes[0].values[0]"),
    "hotkey shared within a span layer's attributes": (
        put("span_layers.1.attributes.1.values.0.hotkey", "-"),
        f"{LOADED}.attributes[1].values[0].hotkey: '-' is already used by "
        f"{LOADED}.attributes[0].values[0]"),
    "hotkey of several characters": (
        put("span_layers.0.labels.0.hotkey", "so"),
        f"{ATTRIBUTION}.labels[0].hotkey: 'so' is not a single character"),
    "upper-case hotkey": (
        put("span_layers.0.labels.0.hotkey", "S"),
        f"{ATTRIBUTION}.labels[0].hotkey: 'S' must be lowercase: hotkeys ignore case"),
    "invisible hotkey": (
        put("span_layers.0.labels.0.hotkey", "\t"),
        f"{ATTRIBUTION}.labels[0].hotkey: '\\t' is not a visible character"),
    "missing version": (put("version", DELETE), "version: is required"),
    "role with an unknown label": (
        put("relations.0.roles.1.label", "CUES"),
        "relations[0].roles[1].label: 'CUES' is not a label of span layer 'attribution' "
        "(did you mean 'CUE'?)"),
    "relation over an unknown layer": (
        put("relations.0.layer", "attributions"),
        "relations[0].layer: 'attributions' is not a span layer (did you mean 'attribution'?)"),
    "relation over a choice layer": (
        put("relations.0.layer", "claim_type"),
        "relations[0].layer: 'claim_type' is not a span layer; "
        "choose from attribution, loaded_language"),
    "unknown anchor": (
        put("relations.0.anchor", "cues"),
        "relations[0].anchor: 'cues' is not a role of this relation (did you mean 'cue'?)"),
    "optional anchor": (
        put("relations.0.anchor", "source"),
        "relations[0].anchor: the anchor role 'source' must be required and single "
        "(required = true, multiple = false)"),
    "default not among the values": (
        put("span_layers.1.attributes.1.default", "narrator"),
        f"{LOADED}.attributes[1].default: 'narrator' is not one of its values; "
        "choose from author, attributed"),
    "prefill value not among the values": (
        put("span_layers.1.attributes.1.prefill.value", "quoted"),
        f"{LOADED}.attributes[1].prefill.value: 'quoted' is not one of its values; "
        "choose from author, attributed"),
    "prefill inside an unknown layer": (
        put("span_layers.1.attributes.1.prefill.inside_layer", "attributions"),
        f"{LOADED}.attributes[1].prefill.inside_layer: 'attributions' is not a span layer "
        "(did you mean 'attribution'?)"),
    "prefill inside an unknown label": (
        put("span_layers.1.attributes.1.prefill.inside_label", "CONTENTS"),
        f"{LOADED}.attributes[1].prefill.inside_label: 'CONTENTS' is not a label of span layer "
        "'attribution' (did you mean 'CONTENT'?)"),
    "prefill on a relation attribute": (
        put("relations.0.attributes.0.prefill",
            {"inside_layer": "attribution", "inside_label": "CONTENT", "value": "person"}),
        "relations[0].attributes[0].prefill: is only supported on span attributes"),
    "colour name": (
        put("span_layers.0.labels.0.color", "red"),
        f"{ATTRIBUTION}.labels[0].color: 'red' is not a colour of the form #rrggbb"),
    "short colour": (
        put("span_layers.0.labels.0.color", "#fff"),
        f"{ATTRIBUTION}.labels[0].color: '#fff' is not a colour of the form #rrggbb"),
    "missing colour": (
        put("span_layers.0.labels.0.color", DELETE), f"{ATTRIBUTION}.labels[0].color: is required"),
    "ordered multiple choice": (
        put("choice_layers.1.multiple", True),
        f"{CHECK_WORTHY}.ordered: an ordered scale must be single choice (multiple = false)"),
    "layer without labels": (put("span_layers.1.labels", []), f"{LOADED}.labels: must not be empty"),
    "attribute without values": (
        put("relations.0.attributes.2.values", DELETE), "relations[0].attributes[2].values: is required"),
}


@pytest.mark.parametrize(("change", "expected"), INVALID.values(), ids=INVALID.keys())
def test_invalid_codebook_is_rejected_with_path_and_reason(change: Change, expected: str) -> None:
    data = default_data()
    change(data)
    assert problems_of(data) == [f"codebook: {expected}"]


@pytest.mark.parametrize("key", sorted(RESERVED_KEYS) + ["J", "Z"])
def test_reserved_keys_are_rejected(key: str) -> None:
    data = default_data()
    data["choice_layers"][0]["values"][0]["hotkey"] = key
    assert problems_of(data) == [
        f"codebook: {CLAIM_TYPE}.values[0].hotkey: {key!r} is reserved for navigation"]


@pytest.mark.parametrize("version", [0, -1, 1.5, True, "1"])
def test_version_must_be_a_positive_integer(version: Any) -> None:
    data = default_data()
    data["version"] = version
    assert problems_of(data) == [f"codebook: version: must be a positive integer, got {version!r}"]


def test_hotkeys_in_different_scopes_may_repeat() -> None:
    codebook = default_codebook()  # 'c' is both the CUE label and the according_to cue type
    assert codebook.hotkeys()[SENTENCE_SCOPE]["c"]["label"] == "CUE"
    assert codebook.hotkeys()["relation:attribution"]["c"]["value"] == "according_to"


@given(st.text(max_size=3))
def test_any_hotkey_either_loads_or_gets_one_problem_naming_it(key: str) -> None:
    data = default_data()
    data["choice_layers"][1]["values"][2]["hotkey"] = key
    try:
        codebook = codebook_from_dict(data)
    except CodebookError as error:
        assert len(error.problems) == 1
        assert error.problems[0].startswith(f"codebook: {CHECK_WORTHY}.values[2].hotkey: ")
    else:
        assert codebook.choice_layers[1].values[2].hotkey == (key or None)


def test_all_problems_are_reported_together() -> None:
    data = default_data()
    data["version"] = 0
    data["span_layers"][0]["labels"][1]["color"] = "orange"
    data["choice_layers"][0]["values"][0]["hotkey"] = "?"
    with pytest.raises(CodebookError) as caught:
        codebook_from_dict(data, source="project 'x'")
    assert caught.value.problems == [
        "project 'x': version: must be a positive integer, got 0",
        f"project 'x': {ATTRIBUTION}.labels[1].color: 'orange' is not a colour of the form #rrggbb",
        f"project 'x': {CLAIM_TYPE}.values[0].hotkey: '?' is reserved for navigation",
    ]
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert isinstance(caught.value, ValueError)


def test_a_codebook_needs_a_table_and_a_layer() -> None:
    assert problems_of([]) == ["codebook: expected a table, got an array"]
    assert problems_of({"name": "empty", "version": 1}) == [
        "codebook: declare at least one span layer or choice layer"]


# --- Loading files -------------------------------------------------------------------------


def test_file_problems_name_the_file() -> None:
    path = DATA / "bad_schema.toml"
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    assert caught.value.problems == [
        f"{path}: version: must be a positive integer, got 0",
        f"{path}: span_layers[0].lables: unknown key (did you mean 'labels'?)",
        f"{path}: span_layers[0].labels: is required",
        f"{path}: choice_layers[0].values[0].hotkey: 'j' is reserved for navigation",
    ]


def test_toml_syntax_error_names_file_and_line() -> None:
    path = DATA / "bad_syntax.toml"
    with pytest.raises(CodebookError, match="invalid TOML") as caught:
        load_codebook(path)
    assert caught.value.problems[0].startswith(f"{path}: invalid TOML: ")
    assert "line 3" in str(caught.value)


def test_json_syntax_error_names_file_and_line() -> None:
    path = DATA / "bad_syntax.json"
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    assert caught.value.problems == [
        f"{path}: invalid JSON at line 4, column 1: Expecting property name enclosed in double quotes"]


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(CodebookError, match="cannot read file: No such file or directory"):
        load_codebook(missing)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(CodebookError, match="latin1.toml: cannot read file: not UTF-8"):
        load_codebook(latin1)
    yaml = tmp_path / "codebook.yaml"
    yaml.write_text("name: x\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="unsupported file type '.yaml'; use .toml or .json"):
        load_codebook(yaml)


# --- Lookups -------------------------------------------------------------------------------


def test_lookups() -> None:
    codebook = default_codebook()
    assert isinstance(codebook.layer("claim_type"), ChoiceLayer)
    assert codebook.span_label("attribution", "CUE").hotkey == "c"
    assert codebook.relation("attribution").role("content").multiple
    with pytest.raises(KeyError, match="'claims' is not a layer"):
        codebook.layer("claims")
    with pytest.raises(KeyError, match="'claim_type' is not a span layer"):
        codebook.span_label("claim_type", "event")
    with pytest.raises(KeyError, match="'QUOTE' is not a label of span layer 'attribution'"):
        codebook.span_label("attribution", "QUOTE")
    with pytest.raises(KeyError):
        codebook.relation("quotation")


# --- Validating annotations ----------------------------------------------------------------


def test_validate_span_accepts_good_spans() -> None:
    codebook = default_codebook()
    assert codebook.validate_span("attribution", "SOURCE", {}) == []
    assert codebook.validate_span(
        "loaded_language", "DOUBT", {"polarity": "negative", "voice": "attributed"}) == []
    assert codebook.validate_span("loaded_language", "DOUBT", {"polarity": None}) == []


def test_validate_span_rejects_bad_spans() -> None:
    codebook = default_codebook()
    assert codebook.validate_span("loaded", "DOUBT", {}) == [
        "'loaded' is not a span layer; choose from attribution, loaded_language"]
    assert codebook.validate_span("claim_type", "event", {}) == [
        "'claim_type' is not a span layer; choose from attribution, loaded_language"]
    assert codebook.validate_span("attribution", "SOURCES", {}) == [
        "'SOURCES' is not a label of span layer 'attribution' (did you mean 'SOURCE'?)"]
    assert codebook.validate_span("attribution", "SOURCE", {"polarity": "negative"}) == [
        "'polarity' is not an attribute of attribution.SOURCE"]
    assert codebook.validate_span(
        "loaded_language", "DOUBT", {"polarity": "neutral", "voise": "author", "voice": 1}
    ) == [
        "polarity: 'neutral' is not a value of 'polarity'; choose from negative, positive",
        "'voise' is not an attribute of loaded_language.DOUBT (did you mean 'voice'?)",
        "voice: expected a value name, got an integer",
    ]


def test_validate_span_complete_requires_required_attributes() -> None:
    codebook = default_codebook()
    assert codebook.validate_span("loaded_language", "DOUBT", {"voice": "author"},
                                  complete=True) == ["polarity: a value is required"]
    assert codebook.validate_span("loaded_language", "DOUBT",
                                  {"polarity": "positive", "voice": "author"}, complete=True) == []


def test_validate_choice_single() -> None:
    codebook = default_codebook()
    assert codebook.validate_choice("claim_type", "quantity") == []
    assert codebook.validate_choice("claim_type", "quantities") == [
        "'quantities' is not a value of choice layer 'claim_type' (did you mean 'quantity'?)"]
    assert codebook.validate_choice("claim_type", ["event"]) == [
        "claim_type: expected one value name, got an array"]
    assert codebook.validate_choice("attribution", "event") == [
        "'attribution' is not a choice layer; choose from claim_type, check_worthy"]


def test_validate_choice_multiple() -> None:
    codebook = load_codebook(DATA / "custom.toml")
    assert codebook.validate_choice("topics", ["health"]) == []
    assert codebook.validate_choice("topics", "health") == [
        "topics: expected a list of value names, got a string"]
    assert codebook.validate_choice("topics", ["health", "sport", "health"]) == [
        "'sport' is not a value of choice layer 'topics'; choose from economy, health, migration",
        "topics: 'health' chosen more than once",
    ]
    assert codebook.validate_choice("topics", []) == ["topics: choose at least one value"]


def test_validate_relation_attributes() -> None:
    codebook = default_codebook()
    good = {"source_kind": "media_outlet", "identification": "named",
            "cue_type": "as_reported_by", "quote_type": "indirect"}
    assert codebook.validate_relation_attributes("attribution", good) == []
    assert codebook.validate_relation_attributes("attribution", good, complete=True) == []
    assert codebook.validate_relation_attributes("attribution", {"quote_type": "verbatim"}) == [
        "quote_type: 'verbatim' is not a value of 'quote_type'; choose from direct, indirect, mixed"]
    assert codebook.validate_relation_attributes("attribution", {"source_knd": "person"}) == [
        "'source_knd' is not an attribute of attribution (did you mean 'source_kind'?)"]
    assert codebook.validate_relation_attributes("attribution", {}, complete=True) == [
        "cue_type: a value is required", "quote_type: a value is required"]
    assert codebook.validate_relation_attributes("quotation", {}) == [
        "'quotation' is not a relation; choose from attribution"]
