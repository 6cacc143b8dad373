"""How long the learned suggester takes to train and to suggest, beside the rules
(docs/benchmarks.md, "The learned suggester").

The corpus: articles of 40 sentences drawn (seeded, with replacement) from the sentences of the
English evaluation articles of tests/data/suggest, each with its reference spans, so that each
has real news prose and the usual density of attributions; 300 of them by default, the "few
hundred gold articles" of the issue. Their vocabulary is that of eight articles: a real corpus
of 300 has more distinct words, so more features and a larger model, but CRFsuite's time per
iteration goes mostly with the tokens and the labels, which are as many.

Prints the training time (annotator.suggest.learned.train, one core) and the model's size,
then per 40-sentence article the median and slowest milliseconds of the learned suggester and
of rules-attribution on the same articles (the learned one runs the model-free suggesters too:
their tags are its features).

    python bench/learned_bench.py [--articles 300] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from pathlib import Path

from annotator import suggest
from annotator.ingest import segment
from annotator.suggest.learned import Example, LearnedSuggester, train

ARTICLES = Path(__file__).resolve().parent.parent / "tests" / "data" / "suggest"
SENTENCES = 40


def sentence_pool() -> list[tuple[str, list[tuple[str, int, int]]]]:
    """Each sentence of the English evaluation articles with its reference spans, offsets
    into the sentence."""
    pool = []
    for path in sorted(ARTICLES.glob("en_*.json")):
        data = json.loads(path.read_text())
        text = data["text"]
        for start, end in segment(text):
            spans = [(s["label"], s["start"] - start, s["end"] - start) for s in data["spans"]
                     if start <= s["start"] and s["end"] <= end]
            pool.append((text[start:end], spans))
    return pool


def article(rng: random.Random, pool) -> Example:
    """SENTENCES sentences drawn from the pool, five to a paragraph."""
    text, sentences, spans = "", [], []
    for number in range(SENTENCES):
        if number:
            text += "\n\n" if number % 5 == 0 else " "
        sentence, sentence_spans = rng.choice(pool)
        sentences.append((len(text), len(text) + len(sentence)))
        spans += [(label, len(text) + a, len(text) + b) for label, a, b in sentence_spans]
        text += sentence
    return Example(text, "en", "attribution", tuple(sentences), tuple(spans))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5, help="passes over 20 articles when suggesting")
    options = parser.parse_args()
    rng = random.Random(19)
    pool = sentence_pool()
    examples = [article(rng, pool) for _ in range(options.articles)]
    print(f"{options.articles} articles of {SENTENCES} sentences ({sum(len(e.spans) for e in examples):,} spans, "
          f"from {len(pool)} sentences); Python {platform.python_version()}, {platform.machine()}")

    iterations = []
    started, cpu = time.perf_counter(), time.process_time()
    model = train(examples, progress=lambda layer, iteration: iterations.append(iteration))
    trained, trained_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"training: {trained:.1f} s ({trained_cpu:.1f} s of CPU; {max(iterations)} iterations, "
          f"{trained / max(iterations) * 1000:.0f} ms each); model {len(model) / 1024:.0f} KiB")

    started = time.perf_counter()
    learned = LearnedSuggester(model, "bench")
    print(f"loading the model: {(time.perf_counter() - started) * 1000:.1f} ms")
    pieces = [article(rng, pool) for _ in range(20)]
    suggesters = (learned, suggest.get("rules-attribution"))
    timings: dict[str, list[float]] = {s.name: [] for s in suggesters}
    found = dict.fromkeys(timings, 0)
    for _ in range(options.runs):
        for piece in pieces:
            for suggester in suggesters:  # one after the other on each article: both see the same load
                started = time.perf_counter()
                found[suggester.name] += len(suggester.suggest(piece.text, piece.sentences, "en"))
                timings[suggester.name].append(time.perf_counter() - started)
    for suggester in suggesters:
        mine = timings[suggester.name]
        print(f"{suggester.name} {suggester.version}: median {statistics.median(mine) * 1000:.1f} ms per article, "
              f"slowest {max(mine) * 1000:.1f} ms; {found[suggester.name] / len(mine):.0f} suggestions per article")
    ratio = statistics.median(timings[learned.name]) / statistics.median(timings["rules-attribution"])
    print(f"learned / rules, medians: {ratio:.1f}")


if __name__ == "__main__":
    main()
