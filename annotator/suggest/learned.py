"""The learned suggester, "learned": a conditional random field (CRFsuite, through
python-crfsuite) per span layer, trained on a project's own gold standard and accepted
suggestions (annotator.services.training chooses them; docs/suggestions.md, "The learned
suggester").

Each sentence is cut into tokens with exact code-point offsets (annotator.exporters.conll's
tokens: runs of word characters with their combining marks, numbers, single punctuation marks;
any script). Each token is described by word features (below) and tagged B-LABEL, I-LABEL or O
per layer. A layer's spans become tags by tokens: a token takes the tag of a span it shares a
character with. BIO cannot hold two spans of one layer on one token, so where they overlap the
innermost wins: spans are taken shortest first (in tokens), then by start, and one sharing a
token with a span already taken is left out of training. In nested attributions ("officials
said [Washington wants a deal]") the inner source, cue and content are kept and the outer
content is left out. A discontinuous span's fragments are tagged as spans of their own.

The features of a token: its lower-cased form, prefixes and suffixes, shape (``Xx``, ``d``,
…), whether it is capitalised, in capitals, a number or punctuation, whether it lies inside a
quotation, the kind of cue the rules' lists name it (annotator.suggest.attribution.cue_matches)
and whether such a cue comes before or after it in the sentence, the tag the model-free
suggesters (``annotator.suggest.names()``) give it in the same layer, and the words, cue kinds
and tags of its neighbours up to two tokens away.

A model is a zip archive: ``manifest.json`` (the format, the layers with their labels, the
suggesters whose tags are features, with their versions) and one CRFsuite model per layer.
Training is deterministic: the same examples give the same bytes. Pure: no database, no Flask.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import pycrfsuite

from . import Suggestion, Suggester, get as get_suggester, names as suggester_names
from .attribution import LAYER as ATTRIBUTION_LAYER, cue_matches, quotations, quote_type
from ..exporters.conll import tokens as sentence_tokens

NAME = "learned"
FORMAT = 1
OUTSIDE = "O"
# CRFsuite's L-BFGS with elastic-net regularisation c1 = c2 = 0.1 (sklearn-crfsuite's tutorial
# has them), fixed beforehand and not tuned to any corpus; at most 150 iterations bounds the time
# (about 25 s of one core for 300 articles: docs/benchmarks.md).
MAX_ITERATIONS = 150
TRAINING = {"c1": 0.1, "c2": 0.1, "max_iterations": MAX_ITERATIONS, "feature.possible_transitions": True}
# The roles the attribution layer's labels take in the relation (the default codebook's).
ROLES = {"CUE": "cue", "SOURCE": "source", "CONTENT": "content", "SUPPLEMENT": "supplement"}
SINGLE_ROLES = {"source"}  # an attribution has one source at most, and any number of contents
_DATE = (1980, 1, 1, 0, 0, 0)  # the archive's members carry a fixed date: the same model, the same bytes


@dataclass(frozen=True)
class Example:
    """What one document teaches one layer: its text and language, the sentences to learn from
    (code-point offsets; the others are not read), and the reference spans of the layer in them
    as (label, start, end)."""

    text: str
    language: str | None
    layer: str
    sentences: tuple[tuple[int, int], ...]
    spans: tuple[tuple[str, int, int], ...]


# -- features --------------------------------------------------------------------------------------


def _shape(word: str) -> str:
    """Xx for "Reuters", x for "said", X for "UN", d for "2024", Xd for "G7", p for ",": each
    kind of character (m: a combining mark) once per run, in order."""
    kinds = []
    for char in word:
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else \
            "m" if unicodedata.category(char)[0] == "M" else "p"
        if not kinds or kinds[-1] != kind:
            kinds.append(kind)
    return "".join(kinds)


class TokenisedSentence:
    """One sentence read for the CRF: its tokens and each token's own features; a layer's
    features add the model-free suggesters' tags in that layer and the neighbours'."""

    def __init__(self, text: str, start: int, end: int, quotes: Sequence[tuple[int, int]], language: str | None):
        self.start, self.end = start, end
        self.tokens = sentence_tokens(text, start, end)
        self.quotes = [(q0, q1) for q0, q1 in quotes if q0 < end and start < q1]  # those it has a part of
        self.cues = cues = cue_matches(text, start, end, language)
        first_cue = min((a for a, _, _, _ in cues), default=None)
        last_cue = max((b for _, b, _, _ in cues), default=None)
        self.own = []
        for a, b in self.tokens:
            features = _word_features(text[a:b], a, b, self.quotes, cues)
            if first_cue is None:
                features.append("no_cue")
            else:
                features += ["cue_before"] if first_cue < a else []
                features += ["cue_after"] if last_cue > b else []
            self.own.append(features)

    def features(self, tags: Sequence[tuple[str, Sequence[tuple[str, int, int]]]]) -> list[list[str]]:
        """Each token's features in a layer, given each model-free suggester's spans in it."""
        own = [list(features) for features in self.own]
        for name, spans in tags:
            for position, tag in enumerate(bio_tags(self.tokens, spans)):
                if tag != OUTSIDE:
                    own[position].append(f"s:{name}={tag}")
        features = []
        for i in range(len(own)):
            token = ["bias", *own[i]]
            for offset in (-2, -1, 1, 2):
                j = i + offset
                if not 0 <= j < len(own):
                    token.append(f"{offset}:edge")
                    continue
                # the next tokens in full; two away their words, cue kinds and tags only
                token += [f"{offset}:{feature}" for feature in own[j]
                          if abs(offset) == 1 or feature.startswith(("w=", "cue=", "s:"))]
            features.append(token)
        return features


def _word_features(word: str, start: int, end: int, quotes, cues) -> list[str]:
    lower = word.lower()
    features = [f"w={lower}", f"p3={lower[:3]}", f"s3={lower[-3:]}", f"s2={lower[-2:]}", f"shape={_shape(word)}"]
    if word[:1].isupper():
        features.append("title")
    if word.isupper() and len(word) > 1:
        features.append("upper")
    if word.isdigit():
        features.append("digit")
    if not (word[:1].isalnum() or word[:1] == "_"):
        features.append("punct")
    if any(q0 < start and end < q1 for q0, q1 in quotes):
        features.append("quoted")
    features += [f"cue={kind}" for a, b, _, kind in cues if a < end and start < b]
    return features


def bio_tags(tokens: Sequence[tuple[int, int]], spans: Iterable[tuple[str, int, int]]) -> list[str]:
    """The BIO tag of each token for ``spans`` (label, start, end): the innermost of overlapping
    spans wins (the module doc); a span covering no token is left out."""
    covering = []
    for label, start, end in spans:
        if not tokens or end <= tokens[0][0] or tokens[-1][1] <= start:
            continue
        covered = [i for i, (a, b) in enumerate(tokens) if a < end and start < b]
        if covered:
            covering.append((len(covered), covered[0], label, covered))
    tags = [OUTSIDE] * len(tokens)
    for _, _, label, covered in sorted(covering):
        if all(tags[i] == OUTSIDE for i in covered):
            for n, i in enumerate(covered):
                tags[i] = ("B-" if n == 0 else "I-") + label
    return tags


def _stacked(suggesters: Sequence[Suggester], text: str, sentences: Sequence[tuple[int, int]],
             language: str | None) -> dict[str, list[tuple[str, Sequence[tuple[str, int, int]]]]]:
    """Per layer, each model-free suggester's spans on the document: features of the tokens."""
    by_layer: dict[str, dict[str, list[tuple[str, int, int]]]] = {}
    for suggester in suggesters:
        for s in suggester.suggest(text, sentences, language):
            by_layer.setdefault(s.layer, {}).setdefault(suggester.name, []).append((s.label, s.start, s.end))
    return {layer: sorted(spans.items()) for layer, spans in by_layer.items()}


def _feature_suggesters(versions: dict[str, str] | None = None) -> list[Suggester]:
    """The model-free suggesters whose tags are features: every registered one (training), or
    those whose tags a model learned from that are still registered (suggesting)."""
    chosen = suggester_names() if versions is None else [name for name in versions if name in suggester_names()]
    return [get_suggester(name) for name in chosen]


# -- training --------------------------------------------------------------------------------------


class _Trainer(pycrfsuite.Trainer):
    """A trainer that tells ``progress`` each iteration instead of printing its log."""

    def __init__(self, progress: Callable[[int], None] | None):
        super().__init__(algorithm="lbfgs", params=TRAINING, verbose=False)
        self.progress = progress

    def message(self, message: str) -> None:
        if self.logparser.feed(message) == "iteration" and self.progress is not None:
            self.progress(self.logparser.last_iteration["num"])


def train(examples: Iterable[Example], *, progress: Callable[[str, int], None] | None = None) -> bytes:
    """A model (the module doc) of every layer with at least one span in ``examples``: the
    archive's bytes. ``progress(layer, iteration)`` is called as each layer's training goes on
    (at most MAX_ITERATIONS iterations each). ValueError when no example has a span."""
    feature_suggesters = _feature_suggesters()
    trainers: dict[str, _Trainer] = {}  # CRFsuite keeps the sequences appended, compactly
    labels: dict[str, set[str]] = {}
    tagging: dict[str, set[str]] = {}  # layer -> the suggesters that tagged something in it
    for example in examples:
        layer = example.layer
        if layer not in trainers:
            told = None if progress is None else lambda iteration, layer=layer: progress(layer, iteration)
            trainers[layer] = _Trainer(told)
            labels[layer], tagging[layer] = set(), set()
        tags = _stacked(feature_suggesters, example.text, example.sentences, example.language).get(layer, [])
        tagging[layer].update(name for name, _ in tags)
        quotes = quotations(example.text)
        for start, end in example.sentences:
            sentence = TokenisedSentence(example.text, start, end, quotes, example.language)
            if not sentence.tokens:
                continue
            inside = [span for span in example.spans if span[1] < end and start < span[2]]
            trainers[layer].append(sentence.features(tags), bio_tags(sentence.tokens, inside))
            labels[layer].update(label for label, _, _ in inside)
    layers = sorted(layer for layer, found in labels.items() if found)
    if not layers:
        raise ValueError("the examples have no spans to learn from")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        used = set().union(*(tagging[layer] for layer in layers))  # only these need to run when suggesting
        manifest = {"format": FORMAT, "layers": {layer: sorted(labels[layer]) for layer in layers},
                    "features": {s.name: s.version for s in feature_suggesters if s.name in used}}
        out.writestr(zipfile.ZipInfo("manifest.json", _DATE), json.dumps(manifest, sort_keys=True))
        for layer in layers:
            out.writestr(zipfile.ZipInfo(f"{layer}.crfsuite", _DATE), _trained(trainers[layer]))
    return archive.getvalue()


def _trained(trainer: pycrfsuite.Trainer) -> bytes:
    """CRFsuite writes its model to a file only: through a temporary one."""
    handle, path = tempfile.mkstemp(suffix=".crfsuite")
    os.close(handle)
    try:
        trainer.train(path)
        with open(path, "rb") as model:
            return model.read()
    finally:
        os.unlink(path)


# -- suggesting ------------------------------------------------------------------------------------


class LearnedSuggester:
    """Suggests the spans of a trained model (:func:`train`'s bytes); ``version`` names the
    model (annotator.services.training gives each stored model its own). Not registered with
    ``annotator.suggest.register``: it needs a model, which a project stores; the service
    builds it from the project's enabled one."""

    name = NAME

    def __init__(self, model: bytes, version: str):
        self.version = version
        with zipfile.ZipFile(io.BytesIO(model)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise ValueError(f"a learned model of format {manifest.get('format')!r}; this version reads {FORMAT}")
            # CRFsuite reads a model in place: the bytes stay referenced as long as the tagger.
            self._models = {layer: archive.read(f"{layer}.crfsuite") for layer in manifest["layers"]}
        self.labels: dict[str, list[str]] = manifest["layers"]
        self.features: dict[str, str] = manifest["features"]
        self._feature_suggesters = _feature_suggesters(self.features)
        self._taggers = {}
        for layer, data in self._models.items():
            tagger = pycrfsuite.Tagger()
            tagger.open_inmemory(data)
            self._taggers[layer] = tagger

    @property
    def layers(self) -> list[str]:
        return sorted(self._taggers)

    def suggest(self, text: str, sentences: Sequence[tuple[int, int]], language: str | None) -> list[Suggestion]:
        stacked = _stacked(self._feature_suggesters, text, sentences, language)
        quotes = quotations(text)
        found: list[Suggestion] = []
        groups = 0
        for start, end in sentences:
            sentence = TokenisedSentence(text, start, end, quotes, language)
            if not sentence.tokens:
                continue
            for layer, tagger in self._taggers.items():
                spans = self._spans(tagger, text, sentence.tokens, sentence.features(stacked.get(layer, [])), layer)
                if layer == ATTRIBUTION_LAYER:
                    spans, groups = _grouped(spans, sentence, groups)
                found += spans
        return sorted(found, key=lambda s: (s.start, s.end, s.layer, s.label))

    def _spans(self, tagger: pycrfsuite.Tagger, text: str, tokens: Sequence[tuple[int, int]],
               features: list[list[str]], layer: str) -> list[Suggestion]:
        """The tagged spans of one sentence, trimmed of punctuation tokens at their edges, each
        scored by the mean marginal probability of its tokens' tags."""
        tags = tagger.tag(features)
        spans: list[tuple[str, list[int]]] = []
        for i, tag in enumerate(tags):
            if tag == OUTSIDE:
                continue
            prefix, label = tag.split("-", 1)
            if prefix == "I" and spans and spans[-1][0] == label and spans[-1][1][-1] == i - 1:
                spans[-1][1].append(i)
            else:  # a B-, or an I- after another label or O: a span starts here
                spans.append((label, [i]))
        found = []
        for label, positions in spans:
            kept = _trimmed(text, tokens, positions)
            if not kept:
                continue
            score = sum(tagger.marginal(tags[i], i) for i in kept) / len(kept)
            found.append(Suggestion(layer=layer, label=label, start=tokens[kept[0]][0],
                                    end=tokens[kept[-1]][1], score=min(max(score, 0.0), 1.0),
                                    suggester=self.name, version=self.version))
        return found


def _trimmed(text: str, tokens: Sequence[tuple[int, int]], positions: list[int]) -> list[int]:
    """The positions without punctuation tokens at either end; a colon alone stays (the cue of
    ``Walsh: "…"``, as the rules have it)."""
    def word(i: int) -> bool:
        first = text[tokens[i][0]]
        return first.isalnum() or first == "_"

    if len(positions) == 1 and text[tokens[positions[0]][0]:tokens[positions[0]][1]] == ":":
        return positions
    first, last = 0, len(positions) - 1
    while first <= last and not word(positions[first]):
        first += 1
    while last >= first and not word(positions[last]):
        last -= 1
    return positions[first:last + 1]


def _grouped(spans: list[Suggestion], sentence: TokenisedSentence, groups: int) -> tuple[list[Suggestion], int]:
    """The attribution spans of one sentence grouped as the rules group theirs: each cue
    anchors a group (``a1``, ``a2``, … in the document); each source and content joins the
    nearest cue of the sentence (the distance between the spans, in characters; ties to the
    earlier cue), a source only a cue without one yet, nearest pairs first. A span no cue takes
    stays outside any group. The cue carries the relation's attributes its text tells:
    ``cue_type`` when the rules' lists name its words, ``quote_type`` from the quotation marks
    around its contents."""
    cues = [s for s in spans if s.label == "CUE"]
    if not cues:
        return spans, groups
    others = [s for s in spans if s.label != "CUE" and s.label in ROLES]
    pairs = sorted((max(s.start - c.end, c.start - s.end, 0), c.start, n, k)
                   for n, s in enumerate(others) for k, c in enumerate(cues))
    member_of: dict[int, int] = {}
    with_source: set[int] = set()
    for _, _, n, k in pairs:
        role = ROLES[others[n].label]
        if n in member_of or (role in SINGLE_ROLES and k in with_source):
            continue
        member_of[n] = k
        if role in SINGLE_ROLES:
            with_source.add(k)
    names = [f"a{groups + k + 1}" for k in range(len(cues))]
    sentence_quotes = [(max(q0, sentence.start), min(q1, sentence.end)) for q0, q1 in sentence.quotes]
    grouped = []
    for k, cue in enumerate(cues):
        attributes = {}
        cue_type = next((kind for a, b, kind, _ in sentence.cues if a < cue.end and cue.start < b), None)
        if cue_type is not None:
            attributes["cue_type"] = cue_type
        contents = [others[n] for n, owner in member_of.items() if owner == k and others[n].label == "CONTENT"]
        if contents:
            types = {quote_type((c.start, c.end), sentence_quotes) for c in contents}
            attributes["quote_type"] = types.pop() if len(types) == 1 else "mixed"
        grouped.append(replace(cue, group=names[k], role="cue", attributes=attributes))
    for n, span in enumerate(others):
        k = member_of.get(n)
        grouped.append(span if k is None else replace(span, group=names[k], role=ROLES[span.label]))
    grouped += [s for s in spans if s.label != "CUE" and s.label not in ROLES]
    return grouped, groups + len(cues)
