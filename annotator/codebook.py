"""The codebook: the label schema a project annotates with.

A codebook is a versioned project setting, loaded from a TOML or JSON file whose keys are
the field names of the dataclasses below. It declares

* span layers: labels that annotators mark on stretches of text (SOURCE, LOADED_LANGUAGE);
* choice layers: one or several values picked per sentence (claim type);
* relations: units linking spans by role, such as an attribution (source, cue, content);
* attributes: extra choices on a span or a relation (polarity, source kind).

Every item may carry translations of its wording (a label's name and guideline in Urdu, say):
shown_in() gives the codebook as annotators reading one of those languages see it, while the
names stored in annotations stay the names.

Everything is checked on load and every problem is reported at once, each naming the path
of the bad field, so a broken file fails when it is loaded, not halfway through annotation.
docs/codebook.md describes the format and the default codebook.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, TypeVar

__all__ = [
    "RESERVED_KEYS",
    "SENTENCE_FLAGS",
    "SENTENCE_SCOPE",
    "Attribute",
    "ChoiceLayer",
    "Codebook",
    "CodebookError",
    "Label",
    "Prefill",
    "Relation",
    "Role",
    "SentenceFlag",
    "SpanLayer",
    "Translation",
    "Value",
    "codebook_from_dict",
    "default_codebook",
    "load_codebook",
]

# Keys the annotation UI keeps for navigation and commands, as KeyboardEvent.key spells them.
# Letters are reserved in both cases.
RESERVED_KEYS = frozenset(
    {"j", "k", "n", "p", "u", "z", "?", "@", "#", " ", "Escape", "Enter"}
    | {"ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"}
)

# Hotkey scope of everything that applies to the focused sentence: the labels of all span
# layers and the values of all choice layers. Attribute values have one scope per span layer
# (span_layer:<name>) and per relation (relation:<name>), active while that panel has focus.
SENTENCE_SCOPE = "sentence"

DEFAULT_CODEBOOK_PATH = Path(__file__).parent / "codebooks" / "default.toml"

_NAME = re.compile(r"[A-Za-z0-9_]+")
MAX_NAME = 64  # the database keeps layer, label, relation and role names in 64 characters
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# A translation's language: a lowercase primary subtag, then any subtags ("ur", "pt-BR"), in
# the 16 characters projects.codebook_language keeps.
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
MAX_LANGUAGE = 16
# The longest translation of each kind of wording.
MAX_TRANSLATION = {"name": MAX_NAME, "title": 120, "description": 4000, "example": 1000}
# What a one-line translation (a name, a title) must not hold: control characters and line
# breaks, and the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
# U+2066-U+2069) that would reorder the page's text around it (the page isolates every label).
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)


class CodebookError(ValueError):
    """A codebook that cannot be used; ``problems`` lists every problem, one message each."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, kw_only=True)
class Translation:
    """An item's wording in another language; None: the item's own. Each kind of item
    translates the wording it has (its TRANSLATED): a name is only ever displayed."""

    name: str | None = None
    title: str | None = None
    description: str | None = None
    example: str | None = None


Translations = Mapping[str, Translation]  # by language


@dataclass(frozen=True, kw_only=True)
class Value:
    """One option of a choice layer or of an attribute."""

    name: str
    description: str = ""
    example: str = ""
    hotkey: str | None = None
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("name", "description", "example")


@dataclass(frozen=True, kw_only=True)
class Prefill:
    """The value an attribute starts with when its span lies inside a span of another label."""

    inside_layer: str
    inside_label: str
    value: str


@dataclass(frozen=True, kw_only=True)
class Attribute:
    """A choice made about a span or a relation, such as polarity or source kind."""

    name: str
    description: str = ""
    values: tuple[Value, ...]
    required: bool = False
    default: str | None = None
    prefill: Prefill | None = None
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("name", "description")

    @property
    def value_names(self) -> tuple[str, ...]:
        return tuple(value.name for value in self.values)


@dataclass(frozen=True, kw_only=True)
class Label:
    """A span label; ``attributes`` apply to spans of this label only."""

    name: str
    description: str = ""
    example: str = ""
    hotkey: str | None = None
    color: str
    attributes: tuple[Attribute, ...] = ()
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("name", "description", "example")


@dataclass(frozen=True, kw_only=True)
class SpanLayer:
    """Labels marked on text spans; ``attributes`` apply to spans of every label of the layer."""

    name: str
    title: str
    description: str = ""
    labels: tuple[Label, ...]
    attributes: tuple[Attribute, ...] = ()
    cross_sentence: bool = False
    allow_overlap: bool = True
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("title", "description")

    def label(self, name: str) -> Label:
        return _named(self.labels, name, f"label of span layer {self.name!r}")

    def attributes_for(self, label: str) -> tuple[Attribute, ...]:
        """The attributes a span of ``label`` can carry: the layer's, then the label's own."""
        return self.attributes + self.label(label).attributes


@dataclass(frozen=True, kw_only=True)
class ChoiceLayer:
    """Values picked per sentence. ``ordered`` layers list their values from lowest to highest."""

    name: str
    title: str
    description: str = ""
    values: tuple[Value, ...]
    multiple: bool = False
    ordered: bool = False
    required: bool = False
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("title", "description")

    @property
    def value_names(self) -> tuple[str, ...]:
        return tuple(value.name for value in self.values)


@dataclass(frozen=True, kw_only=True)
class Role:
    """A part of a relation, filled by spans of ``label``."""

    name: str
    label: str
    required: bool = False
    multiple: bool = False
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("name",)


@dataclass(frozen=True, kw_only=True)
class Relation:
    """A unit linking spans of ``layer`` by role; annotators start one from its ``anchor`` role."""

    name: str
    title: str
    description: str = ""
    layer: str
    roles: tuple[Role, ...]
    attributes: tuple[Attribute, ...] = ()
    anchor: str = "cue"
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("title", "description")

    def role(self, name: str) -> Role:
        return _named(self.roles, name, f"role of relation {self.name!r}")


@dataclass(frozen=True, kw_only=True)
class SentenceFlag:
    """A note annotators can attach to any sentence; ``kind`` is how the UI asks for it."""

    name: str
    title: str
    description: str
    kind: Literal["boolean", "text"]


# Fixed rather than configurable: the database stores them as columns of every sentence label.
SENTENCE_FLAGS = (
    SentenceFlag(
        name="unsure",
        title="Unsure",
        description="Tick when you are not confident about your annotation of this sentence, "
        "so that an adjudicator takes a second look.",
        kind="boolean",
    ),
    SentenceFlag(
        name="comment",
        title="Comment",
        description="A note for adjudicators: why you were unsure, a badly split sentence, "
        "or a case the guidelines do not cover.",
        kind="text",
    ),
)


@dataclass(frozen=True, kw_only=True)
class Codebook:
    """A whole label schema. Bump ``version`` whenever a change alters what labels mean."""

    name: str
    version: int
    description: str = ""
    span_layers: tuple[SpanLayer, ...] = ()
    choice_layers: tuple[ChoiceLayer, ...] = ()
    relations: tuple[Relation, ...] = ()
    translations: Translations = field(default_factory=dict)

    TRANSLATED: ClassVar[tuple[str, ...]] = ("description",)
    sentence_flags: ClassVar[tuple[SentenceFlag, ...]] = SENTENCE_FLAGS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "codebook") -> Codebook:
        return codebook_from_dict(data, source=source)

    def to_dict(self) -> dict[str, Any]:
        """The codebook as JSON data in the file format, leaving out optional fields not set."""
        return _plain(self)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages anything in the codebook is translated into, sorted."""
        return tuple(sorted({language for item in _translatable(self) for language in item.translations}))

    def shown_in(self, language: str | None) -> dict[str, Any]:
        """The codebook as annotators reading ``language`` see it (None: as written): to_dict()
        without the translations, each title, description and example in that language where
        the codebook translates it, and beside the name of every label, value, attribute and
        role its ``display`` name, the translated one or else the name itself. Names stay as
        they are: annotations store them."""
        return _shown(self, language)

    def layer(self, name: str) -> SpanLayer | ChoiceLayer:
        return _named(self.span_layers + self.choice_layers, name, "layer")

    def span_label(self, layer: str, label: str) -> Label:
        return _named(self.span_layers, layer, "span layer").label(label)

    def relation(self, name: str) -> Relation:
        return _named(self.relations, name, "relation")

    def validate_span(
        self, layer: str, label: str, attributes: Mapping[str, Any], *, complete: bool = False
    ) -> list[str]:
        """Problems with a span's layer, label and attribute values; [] if there are none.

        A None attribute value means "not chosen yet". With ``complete``, required attributes
        that have no value are problems too.
        """
        span_layer = _find(self.span_layers, layer)
        if span_layer is None:
            return [_unknown(layer, "a span layer", _names(self.span_layers))]
        if _find(span_layer.labels, label) is None:
            return [_unknown(label, f"a label of span layer {layer!r}", _names(span_layer.labels))]
        return _attribute_problems(
            span_layer.attributes_for(label), attributes, f"{layer}.{label}", complete=complete
        )

    def validate_choice(self, layer: str, value: str | list[str]) -> list[str]:
        """Problems with a sentence's value for a choice layer: a value name, or a list of them
        for a multiple-choice layer; [] if there are none."""
        choice_layer = _find(self.choice_layers, layer)
        if choice_layer is None:
            return [_unknown(layer, "a choice layer", _names(self.choice_layers))]
        allowed = choice_layer.value_names
        what = f"a value of choice layer {layer!r}"
        if not choice_layer.multiple:
            if not isinstance(value, str):
                return [f"{layer}: expected one value name, got {_type_name(value)}"]
            return [] if value in allowed else [_unknown(value, what, allowed)]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return [f"{layer}: expected a list of value names, got {_type_name(value)}"]
        problems = [_unknown(v, what, allowed) for v in value if v not in allowed]
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            problems.append(f"{layer}: {', '.join(map(repr, repeated))} chosen more than once")
        if choice_layer.required and not value:
            problems.append(f"{layer}: choose at least one value")
        return problems

    def validate_relation_attributes(
        self, name: str, attributes: Mapping[str, Any], *, complete: bool = False
    ) -> list[str]:
        """Problems with a relation's attribute values, as for validate_span."""
        relation = _find(self.relations, name)
        if relation is None:
            return [_unknown(name, "a relation", _names(self.relations))]
        return _attribute_problems(relation.attributes, attributes, name, complete=complete)

    def hotkeys(self) -> dict[str, dict[str, dict[str, str]]]:
        """Hotkey bindings by scope, for the UI: {scope: {key: target}}.

        In SENTENCE_SCOPE a target is {"layer", "label"} or {"layer", "value"}; in the
        span_layer:<name> and relation:<name> scopes it is {"attribute", "value"}.
        """
        scopes: dict[str, dict[str, dict[str, str]]] = {SENTENCE_SCOPE: {}}
        sentence = scopes[SENTENCE_SCOPE]
        for span_layer in self.span_layers:
            for label in span_layer.labels:
                if label.hotkey:
                    sentence[label.hotkey] = {"layer": span_layer.name, "label": label.name}
            attributes = span_layer.attributes + tuple(
                attribute for label in span_layer.labels for attribute in label.attributes
            )
            _bind_attribute_values(scopes, _span_attribute_scope(span_layer.name), attributes)
        for choice_layer in self.choice_layers:
            for value in choice_layer.values:
                if value.hotkey:
                    sentence[value.hotkey] = {"layer": choice_layer.name, "value": value.name}
        for relation in self.relations:
            _bind_attribute_values(scopes, _relation_scope(relation.name), relation.attributes)
        return scopes


def load_codebook(path: str | os.PathLike[str]) -> Codebook:
    """Read a codebook from a .toml or .json file; CodebookError names the file on problems."""
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise CodebookError([f"{source}: unsupported file type {suffix or '(none)'!r}; "
                             "use .toml or .json"])
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CodebookError([f"{source}: cannot read file: {error.strerror or error}"]) from error
    except UnicodeDecodeError as error:
        raise CodebookError([f"{source}: cannot read file: not UTF-8 ({error})"]) from error
    try:
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as error:  # its message ends "(at line L, column C)"
        raise CodebookError([f"{source}: invalid TOML: {error}"]) from error
    except json.JSONDecodeError as error:
        raise CodebookError(
            [f"{source}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from error
    return codebook_from_dict(data, source=source)


def codebook_from_dict(data: Mapping[str, Any], *, source: str = "codebook") -> Codebook:
    """Build and validate a codebook from parsed TOML or JSON. A null counts as a missing key."""
    parser = _Parser()
    codebook = parser.codebook(data)
    if parser.problems or codebook is None:
        raise CodebookError(f"{source}: {problem}" for problem in parser.problems)
    return codebook


@functools.cache
def default_codebook() -> Codebook:
    """The codebook shipped with the package (codebooks/default.toml)."""
    return load_codebook(DEFAULT_CODEBOOK_PATH)


class _Parser:
    """Turns parsed file data into a Codebook, collecting problems instead of stopping at one.

    Fields that fail a check get a neutral stand-in so that parsing goes on and later
    problems are found too; the result is only returned when there are no problems.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        # Scope -> hotkey -> path of the item that took it first.
        self.hotkeys: dict[str, dict[str, str]] = {}
        # Layer name -> path of its layer: span and choice layers share one namespace.
        self.layer_names: dict[str, str] = {}
        # Prefills whose label references can only be checked once all span layers are read.
        self.prefills: list[tuple[str, Prefill]] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    # Whole objects, from the top down.

    def codebook(self, data: object) -> Codebook | None:
        table = self.table(data, "", Codebook)
        if table is None:
            return None
        name = self.text(table, "name", "", required=True)
        version = table.get("version")
        if version is None:
            self.problem("version", "is required")
        elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.problem("version", f"must be a positive integer, got {version!r}")
            version = None
        span_layers = self.array(table, "span_layers", "", SpanLayer, self.span_layer,
                                 names=self.layer_names)
        choice_layers = self.array(table, "choice_layers", "", ChoiceLayer, self.choice_layer,
                                   names=self.layer_names)
        if not table.get("span_layers") and not table.get("choice_layers"):
            self.problem("", "declare at least one span layer or choice layer")
        self.check_prefills(span_layers)
        relations = self.array(table, "relations", "", Relation,
                               lambda item, path: self.relation(item, path, span_layers))
        return Codebook(
            name=name,
            version=version or 1,
            description=self.text(table, "description", ""),
            span_layers=span_layers,
            choice_layers=choice_layers,
            relations=relations,
            translations=self.translations(table, "", Codebook),
        )

    def span_layer(self, table: dict[str, Any], path: str) -> SpanLayer:
        name = self.name(table, path)
        scope = _span_attribute_scope(name)
        layer_attribute_names: dict[str, str] = {}
        attributes = self.array(table, "attributes", path, Attribute,
                                lambda item, item_path: self.attribute(item, item_path, scope),
                                names=layer_attribute_names)
        labels = self.array(
            table, "labels", path, Label,
            lambda item, item_path: self.label(item, item_path, scope, layer_attribute_names),
            required=True,
        )
        return SpanLayer(
            name=name,
            title=self.title(table, path, name),
            description=self.text(table, "description", path),
            labels=labels,
            attributes=attributes,
            cross_sentence=self.boolean(table, "cross_sentence", path, default=False),
            allow_overlap=self.boolean(table, "allow_overlap", path, default=True),
            translations=self.translations(table, path, SpanLayer),
        )

    def label(self, table: dict[str, Any], path: str, attribute_scope: str,
              layer_attribute_names: dict[str, str]) -> Label:
        name = self.name(table, path)
        color = self.text(table, "color", path, required=True)
        if color and not _COLOR.fullmatch(color):
            self.problem(_join(path, "color"), f"{color!r} is not a colour of the form #rrggbb")
        return Label(
            name=name,
            description=self.text(table, "description", path),
            example=self.text(table, "example", path),
            hotkey=self.hotkey(table, path, SENTENCE_SCOPE),
            color=color,
            # A label's attribute must not shadow one the whole layer already has.
            attributes=self.array(
                table, "attributes", path, Attribute,
                lambda item, item_path: self.attribute(item, item_path, attribute_scope),
                names=dict(layer_attribute_names),
            ),
            translations=self.translations(table, path, Label),
        )

    def choice_layer(self, table: dict[str, Any], path: str) -> ChoiceLayer:
        name = self.name(table, path)
        multiple = self.boolean(table, "multiple", path, default=False)
        ordered = self.boolean(table, "ordered", path, default=False)
        if ordered and multiple:
            self.problem(_join(path, "ordered"), "an ordered scale must be single choice "
                         "(multiple = false)")
        return ChoiceLayer(
            name=name,
            title=self.title(table, path, name),
            description=self.text(table, "description", path),
            values=self.values(table, path, SENTENCE_SCOPE),
            multiple=multiple,
            ordered=ordered,
            required=self.boolean(table, "required", path, default=False),
            translations=self.translations(table, path, ChoiceLayer),
        )

    def relation(self, table: dict[str, Any], path: str,
                 span_layers: tuple[SpanLayer, ...]) -> Relation:
        name = self.name(table, path)
        layer_name = self.text(table, "layer", path, required=True)
        layer = _find(span_layers, layer_name)
        if layer_name and layer is None:
            self.problem(_join(path, "layer"),
                         _unknown(layer_name, "a span layer", _names(span_layers)))
        roles = self.array(table, "roles", path, Role,
                           lambda item, item_path: self.role(item, item_path, layer),
                           required=True)
        anchor = self.text(table, "anchor", path) or "cue"
        anchor_role = _find(roles, anchor)
        if roles and anchor_role is None:
            self.problem(_join(path, "anchor"), _unknown(anchor, "a role of this relation",
                                                         _names(roles)))
        elif anchor_role is not None and (not anchor_role.required or anchor_role.multiple):
            self.problem(_join(path, "anchor"), f"the anchor role {anchor!r} must be required "
                         "and single (required = true, multiple = false)")
        scope = _relation_scope(name)
        return Relation(
            name=name,
            title=self.title(table, path, name),
            description=self.text(table, "description", path),
            layer=layer_name,
            roles=roles,
            attributes=self.array(
                table, "attributes", path, Attribute,
                lambda item, item_path: self.attribute(item, item_path, scope,
                                                       allow_prefill=False),
            ),
            anchor=anchor,
            translations=self.translations(table, path, Relation),
        )

    def role(self, table: dict[str, Any], path: str, layer: SpanLayer | None) -> Role:
        label = self.text(table, "label", path, required=True)
        if label and layer is not None and _find(layer.labels, label) is None:
            self.problem(_join(path, "label"), _unknown(
                label, f"a label of span layer {layer.name!r}", _names(layer.labels)))
        return Role(
            name=self.name(table, path),
            label=label,
            required=self.boolean(table, "required", path, default=False),
            multiple=self.boolean(table, "multiple", path, default=False),
            translations=self.translations(table, path, Role),
        )

    def attribute(self, table: dict[str, Any], path: str, scope: str, *,
                  allow_prefill: bool = True) -> Attribute:
        values = self.values(table, path, scope)
        value_names = _names(values)
        default = self.text(table, "default", path) or None
        if default is not None and default not in value_names:
            self.problem(_join(path, "default"), _unknown(default, "one of its values",
                                                          value_names))
        prefill = None
        if "prefill" in table and not allow_prefill:
            self.problem(_join(path, "prefill"), "is only supported on span attributes")
        elif "prefill" in table:
            prefill = self.prefill(table["prefill"], _join(path, "prefill"), value_names)
        return Attribute(
            name=self.name(table, path),
            description=self.text(table, "description", path),
            values=values,
            required=self.boolean(table, "required", path, default=False),
            default=default,
            prefill=prefill,
            translations=self.translations(table, path, Attribute),
        )

    def prefill(self, data: object, path: str, value_names: tuple[str, ...]) -> Prefill | None:
        table = self.table(data, path, Prefill)
        if table is None:
            return None
        prefill = Prefill(
            inside_layer=self.text(table, "inside_layer", path, required=True),
            inside_label=self.text(table, "inside_label", path, required=True),
            value=self.text(table, "value", path, required=True),
        )
        if prefill.value and prefill.value not in value_names:
            self.problem(_join(path, "value"), _unknown(prefill.value, "one of its values",
                                                        value_names))
        self.prefills.append((path, prefill))
        return prefill

    def check_prefills(self, span_layers: tuple[SpanLayer, ...]) -> None:
        for path, prefill in self.prefills:
            layer = _find(span_layers, prefill.inside_layer)
            if layer is None:
                self.problem(_join(path, "inside_layer"), _unknown(
                    prefill.inside_layer, "a span layer", _names(span_layers)))
            elif _find(layer.labels, prefill.inside_label) is None:
                self.problem(_join(path, "inside_label"), _unknown(
                    prefill.inside_label, f"a label of span layer {layer.name!r}",
                    _names(layer.labels)))

    def values(self, table: dict[str, Any], path: str, scope: str) -> tuple[Value, ...]:
        return self.array(
            table, "values", path, Value,
            lambda item, item_path: Value(
                name=self.name(item, item_path),
                description=self.text(item, "description", item_path),
                example=self.text(item, "example", item_path),
                hotkey=self.hotkey(item, item_path, scope),
                translations=self.translations(item, item_path, Value),
            ),
            required=True,
        )

    # Building blocks: one table, one array, one field.

    def table(self, data: object, path: str, kind: type) -> dict[str, Any] | None:
        """``data`` as a table whose keys all belong to ``kind``; None keys count as missing."""
        if not isinstance(data, Mapping):
            self.problem(path, f"expected a table, got {_type_name(data)}")
            return None
        known = [field.name for field in fields(kind)]
        for key in data:
            if key not in known:
                self.problem(_join(path, str(key)), "unknown key" + _did_you_mean(str(key), known))
        return {key: value for key, value in data.items() if value is not None}

    def array(self, table: dict[str, Any], key: str, path: str, kind: type[T],
              parse: Callable[[dict[str, Any], str], T], *, required: bool = False,
              names: dict[str, str] | None = None) -> tuple[T, ...]:
        """The array of tables at ``key``, each parsed; names must be unique within ``names``."""
        path = _join(path, key)
        items = table.get(key)
        if items is None:
            if required:
                self.problem(path, "is required")
            return ()
        if not isinstance(items, list):
            self.problem(path, f"expected an array of tables, got {_type_name(items)}")
            return ()
        if required and not items:
            self.problem(path, "must not be empty")
        names = {} if names is None else names
        translated_names: dict[tuple[str, str], str] = {}
        parsed = []
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            item_table = self.table(item, item_path, kind)
            if item_table is None:
                continue
            result = parse(item_table, item_path)
            if result.name:
                first = names.setdefault(result.name, item_path)
                if first != item_path:
                    self.problem(_join(item_path, "name"),
                                 f"{result.name!r} is already used by {first}")
            self.distinct_translated_names(result, item_path, translated_names)
            parsed.append(result)
        return tuple(parsed)

    def distinct_translated_names(self, item: Any, path: str, seen: dict[tuple[str, str], str]) -> None:
        """Two items of one array must not show the same name in a language (``seen``: the
        path of the first to show each (language, name))."""
        for language, translation in getattr(item, "translations", {}).items():
            if translation.name:
                first = seen.setdefault((language, translation.name), path)
                if first != path:
                    self.problem(_join(path, f"translations.{language}.name"),
                                 f"{translation.name!r} is already the {language} name of {first}")

    def translations(self, table: dict[str, Any], path: str, kind: type) -> dict[str, Translation]:
        """The item's translations: a table of languages, each a table of the wording ``kind``
        translates (its TRANSLATED), every one a non-blank string within MAX_TRANSLATION."""
        path = _join(path, "translations")
        data = table.get("translations")
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.problem(path, f"expected a table of languages, got {_type_name(data)}")
            return {}
        translations = {}
        for language, wording in data.items():
            language_path = _join(path, str(language))
            if len(str(language)) > MAX_LANGUAGE or not _LANGUAGE.fullmatch(str(language)):
                self.problem(language_path, f"{str(language)[:20]!r} is not a language code such as ur, ar "
                             "or pt-BR (lowercase, then any subtags)")
                continue
            if not isinstance(wording, Mapping):
                self.problem(language_path, f"expected a table, got {_type_name(wording)}")
                continue
            for key in wording:
                if key not in kind.TRANSLATED:
                    self.problem(_join(language_path, str(key)), "is not translated here" +
                                 _did_you_mean(str(key), kind.TRANSLATED) + "; translate "
                                 + ", ".join(kind.TRANSLATED))
            translated = {key: self.translated_text(wording, key, language_path) for key in kind.TRANSLATED}
            translations[language] = Translation(**{key: text for key, text in translated.items() if text})
        return translations

    def translated_text(self, wording: dict[str, Any], key: str, path: str) -> str | None:
        if wording.get(key) is None:
            return None
        text = self.text(wording, key, path, required=True)
        path = _join(path, key)
        if len(text) > MAX_TRANSLATION[key]:
            self.problem(path, f"is {len(text)} characters long; at most {MAX_TRANSLATION[key]}")
        elif key in ("name", "title") and (bad := _NOT_ONE_LINE.search(text)):
            self.problem(path, f"must be one line without control or bidirectional formatting characters "
                         f"(U+{ord(bad.group()):04X})")
        return text or None

    def name(self, table: dict[str, Any], path: str) -> str:
        name = self.text(table, "name", path, required=True)
        if name and not _NAME.fullmatch(name):
            self.problem(_join(path, "name"), f"{name!r} is not a valid name: use only letters, "
                         "digits and underscores")
        elif len(name) > MAX_NAME:
            self.problem(_join(path, "name"), f"{name[:20]!r}… is {len(name)} characters long; a name has at most {MAX_NAME}")
        return name

    def title(self, table: dict[str, Any], path: str, name: str) -> str:
        return self.text(table, "title", path) or name.replace("_", " ").capitalize()

    def text(self, table: dict[str, Any], key: str, path: str, *, required: bool = False) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(_join(path, key), "is required")
            return ""
        if not isinstance(value, str):
            self.problem(_join(path, key), f"expected a string, got {_type_name(value)}")
            return ""
        if required and not value.strip():
            self.problem(_join(path, key), "must not be empty")
        return value

    def boolean(self, table: dict[str, Any], key: str, path: str, *, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(_join(path, key), f"expected true or false, got {_type_name(value)}")
            return default
        return value

    def hotkey(self, table: dict[str, Any], path: str, scope: str) -> str | None:
        key = self.text(table, "hotkey", path) or None
        if key is None:
            return None
        problem = _hotkey_problem(key)
        if problem:
            self.problem(_join(path, "hotkey"), problem)
            return None
        first = self.hotkeys.setdefault(scope, {}).setdefault(key, path)
        if first != path:
            self.problem(_join(path, "hotkey"), f"{key!r} is already used by {first}")
        return key


def _hotkey_problem(key: str) -> str | None:
    if key in RESERVED_KEYS or key.lower() in RESERVED_KEYS:
        return f"{key!r} is reserved for navigation"
    if len(key) != 1:
        return f"{key!r} is not a single character"
    if not key.isprintable() or key.isspace():
        return f"{key!r} is not a visible character"
    if key != key.lower():
        return f"{key!r} must be lowercase: hotkeys ignore case"
    return None


def _attribute_problems(defined: tuple[Attribute, ...], given: Mapping[str, Any], owner: str,
                        *, complete: bool) -> list[str]:
    by_name = {attribute.name: attribute for attribute in defined}
    problems = []
    for name, value in given.items():
        attribute = by_name.get(name)
        if attribute is None:
            problems.append(_unknown(name, f"an attribute of {owner}", list(by_name)))
        elif value is None:
            continue
        elif not isinstance(value, str):
            problems.append(f"{name}: expected a value name, got {_type_name(value)}")
        elif value not in attribute.value_names:
            problems.append(
                f"{name}: " + _unknown(value, f"a value of {name!r}", attribute.value_names))
    if complete:
        problems += [f"{attribute.name}: a value is required" for attribute in defined
                     if attribute.required and given.get(attribute.name) is None]
    return problems


def _bind_attribute_values(scopes: dict[str, dict[str, dict[str, str]]], scope: str,
                           attributes: Iterable[Attribute]) -> None:
    for attribute in attributes:
        for value in attribute.values:
            if value.hotkey:
                bindings = scopes.setdefault(scope, {})
                bindings[value.hotkey] = {"attribute": attribute.name, "value": value.name}


def _span_attribute_scope(layer: str) -> str:
    return f"span_layer:{layer}"


def _relation_scope(relation: str) -> str:
    return f"relation:{relation}"


def _find(items: Iterable[T], name: str) -> T | None:
    return next((item for item in items if item.name == name), None)


def _named(items: Iterable[T], name: str, what: str) -> T:
    item = _find(items, name)
    if item is None:
        raise KeyError(f"{name!r} is not a {what}")
    return item


def _names(items: Iterable[_Named]) -> tuple[str, ...]:
    return tuple(item.name for item in items)


def _unknown(word: str, what: str, choices: Iterable[str]) -> str:
    """Says that ``word`` is not ``what``, suggesting the closest choice or else listing them."""
    choices = list(choices)
    suggestion = _did_you_mean(word, choices)
    if suggestion or not choices:
        return f"{word!r} is not {what}{suggestion}"
    return f"{word!r} is not {what}; choose from {', '.join(choices)}"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "an array", tuple: "an array", dict: "a table", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in fields(value)
                if getattr(value, field.name) not in (None, {})}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _translatable(value: Any) -> Iterable[Any]:
    """The codebook's items that may be translated (all but prefills), the codebook first."""
    if is_dataclass(value) and hasattr(value, "translations"):
        yield value
        for field in fields(value):
            items = getattr(value, field.name)
            for item in items if isinstance(items, tuple) else ():
                yield from _translatable(item)


def _shown(value: Any, language: str | None) -> Any:
    """Codebook.shown_in of an item (or a tuple of items, or a plain value)."""
    if isinstance(value, tuple):
        return [_shown(item, language) for item in value]
    if not is_dataclass(value):
        return value
    shown = {field.name: _shown(getattr(value, field.name), language) for field in fields(value)
             if field.name != "translations" and getattr(value, field.name) is not None}
    translation = getattr(value, "translations", {}).get(language) if language else None
    for key in getattr(value, "TRANSLATED", ()):
        wording = getattr(translation, key) if translation else None
        if key == "name":
            shown["display"] = wording or value.name
        elif wording:
            shown[key] = wording
    return shown
