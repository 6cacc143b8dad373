"""How fast the suggesters are on news articles of 40 sentences (docs/benchmarks.md, "Suggestions").

The articles are made from the evaluation articles in tests/data/suggest (English), laid end to
end and cut into 40-sentence pieces, so each is real news prose with the usual density of
attributions. For each registered suggester (or those named), prints the median and the slowest
milliseconds per article over --runs passes, and suggestions per second. The issue's target:
a 40-sentence article in under 20 ms (rules).

    python bench/suggest_bench.py [--runs 20] [--suggester NAME ...]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from annotator import suggest
from annotator.ingest import segment

ARTICLES = Path(__file__).resolve().parent.parent / "tests" / "data" / "suggest"
SENTENCES = 40


def articles() -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    """The English evaluation articles end to end, in pieces of SENTENCES sentences."""
    paragraphs = [json.loads(path.read_text())["text"] for path in sorted(ARTICLES.glob("en_*.json"))]
    text = "\n\n".join(paragraphs * 3)
    sentences = segment(text)
    pieces = []
    for first in range(0, len(sentences) - SENTENCES + 1, SENTENCES):
        chunk = sentences[first:first + SENTENCES]
        start = chunk[0][0]
        pieces.append((text[start:chunk[-1][1]], tuple((a - start, b - start) for a, b in chunk)))
    return pieces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--suggester", action="append", choices=suggest.names())
    options = parser.parse_args()
    pieces = articles()
    print(f"{len(pieces)} articles of {SENTENCES} sentences, {options.runs} runs; "
          f"Python {platform.python_version()}, {platform.machine()}")
    for name in options.suggester or suggest.names():
        suggester = suggest.get(name)
        timings, found = [], 0
        for _ in range(options.runs):
            for text, sentences in pieces:
                started = time.perf_counter()
                found += len(suggester.suggest(text, sentences, "en"))
                timings.append(time.perf_counter() - started)
        print(f"{name} {suggester.version}: median {statistics.median(timings) * 1000:.2f} ms per article, "
              f"slowest {max(timings) * 1000:.2f} ms; {found / sum(timings):,.0f} suggestions/s")


if __name__ == "__main__":
    main()
