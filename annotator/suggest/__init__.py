"""Suggesters: pure functions that propose spans for annotators to accept or reject.

A suggester takes an article's text, its sentences (code-point offsets into the text) and its
language, and returns `Suggestion`s: a span of a layer of the default codebook with its label,
attributes, a score in [0, 1], and the suggester's name and version. Spans an attribution would
link share a `group` and say which `role` they would take. No database and no Flask here
(docs/architecture.md): storing and evaluating them is annotator/services/suggestions.py.

Offsets are exact: ``text[start:end]`` is the suggested text, trimmed of spaces and
punctuation at its edges, and lies within one sentence. docs/suggestions.md, "The interface".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class Suggestion:
    layer: str
    label: str
    start: int
    end: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    score: float
    suggester: str
    version: str
    # The spans of one proposed attribution share a group ("a3"); `role` is the relation role
    # the span would take in it (source, cue, content), None for a span outside any relation.
    group: str | None = None
    role: str | None = None

    def __post_init__(self):
        if not 0 <= self.start < self.end:
            raise ValueError(f"a suggestion needs 0 <= start < end, not {self.start}..{self.end}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"a suggestion's score lies in [0, 1], not {self.score}")


class Suggester(Protocol):
    name: str
    version: str

    def suggest(self, text: str, sentences: Sequence[tuple[int, int]], language: str | None) -> list[Suggestion]:
        """Suggestions for ``text``, each within one of ``sentences``, ordered by start."""
        ...


SUGGESTERS: dict[str, Callable[[], Suggester]] = {}


def register(name: str) -> Callable[[Callable[[], Suggester]], Callable[[], Suggester]]:
    """Class or factory decorator: make it the suggester `get(name)` builds."""
    def registered(factory: Callable[[], Suggester]) -> Callable[[], Suggester]:
        if name in SUGGESTERS:
            raise ValueError(f"two suggesters are named {name!r}")
        SUGGESTERS[name] = factory
        return factory
    return registered


def get(name: str) -> Suggester:
    """A new suggester of that name; KeyError, naming the known ones, for any other."""
    try:
        factory = SUGGESTERS[name]
    except KeyError:
        raise KeyError(f"no suggester is named {name!r}; known: {', '.join(names())}") from None
    return factory()


def names() -> list[str]:
    return sorted(SUGGESTERS)


# The modules register their suggesters when imported; they import the names above.
from . import attribution, loaded  # noqa: E402
