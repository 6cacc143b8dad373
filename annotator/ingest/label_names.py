"""Another corpus's names in the codebook: the codebook's name closest to one it does not
have (every reader's suggestion), and placing label names once per name, for the readers of
files with thousands of uses of a few names (CoNLL tags, technique span files): an unmapped
name is one problem, at its first use, with a suggestion, not one per token or span."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from .text import IngestError

if TYPE_CHECKING:
    from .annotations import _Reader


def closest(name: str, names: list[str], *, cutoff: float = 0.6) -> str | None:
    """The one of ``names`` most like ``name``, letter case aside, if it is at least
    ``cutoff`` alike (difflib's ratio: 0 takes whichever is closest); None if none is."""
    folded = {candidate.casefold(): candidate for candidate in names}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def suggestion(name: str, names: list[str]) -> str:
    """"; did you mean 'X'?" for the closest of ``names``, else ""."""
    found = closest(name, names)
    return f"; did you mean {found!r}?" if found else ""


class LabelPlacer:
    """(span layer, label) of the codebook for each name of the file, through the mapping
    file's [labels] and [layers] (and ``built_in``, names the format itself maps, which the
    mapping file overrides); None, reported once, for a name that places nowhere."""

    def __init__(self, reader: _Reader, built_in: dict[str, str] | None = None):
        self.reader = reader
        self.built_in = built_in or {}
        self.placed: dict[str, tuple[str, str] | None] = {}

    def __call__(self, name: str, line: int, source: str | None = None) -> tuple[str, str] | None:
        """``source``: the file the name was read from, if not the reader's."""
        if name in self.placed:
            return self.placed[name]
        mapped = name if name in self.reader.mapping.labels else self.built_in.get(name, name)
        reported = len(self.reader.problems)
        placed = self.reader.place(mapped, f"label {name!r}", line)
        if placed is None:
            del self.reader.problems[reported:]
            codebook = self.reader.codebook
            labels = [label.name for layer in codebook.span_layers for label in layer.labels] if codebook else []
            self.reader.problems.append(IngestError(
                source or self.reader.source, f"label {name!r} is not a label of the codebook and the mapping file "
                f"does not map it in [labels]{suggestion(mapped, labels)} (reported at its first use only; every use "
                "is refused)", line))
        self.placed[name] = placed
        return placed
