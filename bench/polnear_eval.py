"""The attribution suggesters measured on PolNeAR, news annotated by people who did not write
them (docs/suggestions.md, "On PolNeAR, a corpus annotated by others").

PolNeAR (Newell, Margolin & Ruths, LREC 2018; https://github.com/networkdynamics/PolNeAR) has
1,008 US political news articles of 7 outlets with attributions in brat standoff (Source / Cue /
Content). This script downloads nothing: get the corpus first, e.g.

    git clone https://github.com/networkdynamics/PolNeAR

and pass its data/ folder (data/metadata.tsv, data/<compartment>/text/NAME.txt,
data/<compartment>/attributions/NAME_<annotator>.ann). Of each article it takes the .ann of the
first annotator metadata.tsv lists. It runs the `annotator` command, as a researcher would, in a
new instance (an SQLite file in a temporary folder):

1. project polnear-dev: the dev articles imported as gold (`import-annotations --format brat
   --mapping … --gold <their annotators>`), adjudicated (`gold finish`), `suggest run
   --suggester rules-attribution`, `suggest evaluate --against gold`;
2. project polnear-train: the train articles imported as gold and adjudicated, `suggest train`
   (its figures on its own held-out train articles), and the dev articles again, as the work of
   an annotator "polnear-dev" (not gold, so nothing is learned from them); the model enabled,
   `suggest run` of rules-attribution and learned, `suggest evaluate --against polnear-dev`: both
   suggesters on the dev articles. (A model belongs to the project it was trained in: the
   commands cannot run it on another project's documents, hence the dev articles twice.)

Prints each table (exact and overlap precision, recall, F1 per label and pooled) and how long
each step took.

    python bench/polnear_eval.py PATH/TO/PolNeAR/data [--train listed|all] [--annotator PATH]
                                 [--keep FOLDER]

--train listed (the default) takes the 80 train articles the figures in docs/suggestions.md
were measured with (TRAIN_ARTICLES: consecutive rows of metadata.tsv per outlet, 15 of Breitbart
and of HuffPost, 10 of each other outlet, chosen before anything was measured); --train all
takes the whole train compartment (839 articles).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# PolNeAR's labels: Source, Cue and Content are our SOURCE, CUE and CONTENT; Discard (headings,
# bylines, embedded tweets) and Discuss (what an annotator was unsure of) mark no attribution.
MAPPING = """relation = "attribution"

[labels]
Source = "SOURCE"
Cue = "CUE"
Content = "CONTENT"
Discard = ""
Discuss = ""
"""
DEV_ANNOTATOR = "polnear-dev"
TRAIN_ARTICLES = (
    "breitbart_2015-12-02_john-mccain-republican-populist-", "breitbart_2015-12-03_graham-trump-s-incredibly-hatefu",
    "breitbart_2015-12-04_bellwether-county-says-trump-sho", "breitbart_2015-12-04_san-bernardino-terror-suspect-na",
    "breitbart_2015-12-07_clinton-camp-trump-s-islamaphobi", "breitbart_2015-12-10_millennial-democratics-prefer-be",
    "breitbart_2015-12-11_charles-barkley-takes-on-donald-", "breitbart_2015-12-11_exclusive-maria-espinoza-anti-il",
    "breitbart_2015-12-11_trump-cruz-has-to-come-a-long-wa", "breitbart_2015-12-13_poll-finds-clinton-would-beat-ou",
    "breitbart_2015-12-16_newspaper-defense-secretary-used", "breitbart_2015-12-20_republican-donor-adelson-and-tru",
    "breitbart_2015-12-21_chelsea-clinton-husband-expectin", "breitbart_2015-12-21_nytimes-casually-conflates-ted-c",
    "breitbart_2016-01-01_jeb-bush-super-pac-chief-praises",
    "huff-post_2015-12-02_democrats-call-for-action-while-", "huff-post_2015-12-03_cnn-president-on-trump-we-do-not",
    "huff-post_2015-12-08_the-biggest-blow-to-obamacare-ye", "huff-post_2015-12-10_hillary-clinton-under-pressure-t",
    "huff-post_2015-12-10_white-supremacists-are-capitaliz", "huff-post_2015-12-12_bernie-sanders-isn-t-too-impress",
    "huff-post_2015-12-17_bernie-sanders-says-he-s-already", "huff-post_2015-12-17_st-paul-votes-to-condemn-donald-",
    "huff-post_2015-12-19_donald-trump-sounds-weirdly-soph", "huff-post_2015-12-20_hillary-clinton-s-claim-that-don",
    "huff-post_2015-12-20_why-the-democratic-party-s-move-", "huff-post_2015-12-22_of-the-most-powerful-things-lati",
    "huff-post_2015-12-30_hillary-clinton-calls-isis-viole", "huff-post_2016-01-02_donald-trump-featured-in-jihadis",
    "huff-post_2016-01-12_tuesday-s-morning-email-presiden",
    "nyt_2015-12-03_columbia-defends-exxon-articles", "nyt_2015-12-09_terrorists-mock-bids-to-block-th",
    "nyt_2015-12-10_immigrants-can-find-way-in-ameri", "nyt_2015-12-14_visa-screening-missed-attacker-s",
    "nyt_2015-12-15_white-house-schmoozing-season-ho", "nyt_2015-12-18_rubio-and-cruz-diverge-on-approa",
    "nyt_2015-12-19_putin-chides-turkey-and-praises-", "nyt_2015-12-22_trump-says-praise-from-putin-hel",
    "nyt_2015-12-29_u-s-commandos-take-on-larger-rol", "nyt_2015-12-30_roasts-and-toasts-for-dealbook",
    "politico_2015-12-01_could-an-accident-by-janet-yelle", "politico_2015-12-03_trump-carson-flop-with-jewish-re",
    "politico_2015-12-06_clinton-time-for-intensification", "politico_2015-12-09_the-presidential-candidates-favo",
    "politico_2015-12-11_politico-new-york-s-culture-busi", "politico_2015-12-15_carson-huckabee-fiorina-earned-s",
    "politico_2015-12-23_ben-carson-hints-at-major-campai", "politico_2015-12-24_gop-big-money-group-whacks-clint",
    "politico_2015-12-26_british-diplomat-praises-obama-s", "politico_2015-12-28_are-democrats-crippling-obamacar",
    "usa-today_2016-01-22_america-s-autistic-adults-a-moth", "usa-today_2016-01-22_some-republicans-promote-sanders",
    "usa-today_2016-01-26_candidates-fan-out-in-iowa-as-ca", "usa-today_2016-01-29_absent-trump-derides-debate-cruz",
    "usa-today_2016-02-02_maybe-trump-hasn-t-rewritten-rul", "usa-today_2016-02-04_clinton-and-sanders-face-the-vot",
    "usa-today_2016-02-05_independents-alone-won-t-decide-", "usa-today_2016-02-09_new-hampshire-primary-game-on-wh",
    "usa-today_2016-02-10_insurgent-tops-institution-in-sa", "usa-today_2016-02-11_sanders-faces-test-on-appeal-to-",
    "wash-post_2016-01-31_clinton-team-quietly-lining-up-l", "wash-post_2016-01-31_state-calls-emails-of-clinton-to",
    "wash-post_2016-02-02_no-clear-favorites-going-into-ne", "wash-post_2016-02-05_in-the-democrats-debate-some-fam",
    "wash-post_2016-02-09_barbs-and-pleas-before-n-h-vote", "wash-post_2016-02-10_after-a-big-loss-clinton-looks-f",
    "wash-post_2016-02-12_cruz-reboots-his-attacks-on-trum", "wash-post_2016-02-14_nomination-questions-are-likely-",
    "wash-post_2016-02-17_sanders-and-clinton-see-black-vo", "wash-post_2016-02-19_gowdy-promises-benghazi-panel-re",
    "west-journal_2015-12-01_just-leaked-look-at-hillary-s-sh", "west-journal_2015-12-03_cnn-just-responded-to-trump-s-ma",
    "west-journal_2015-12-07_immediately-after-obama-s-terror", "west-journal_2015-12-09_the-email-that-makes-benghazi-lo",
    "west-journal_2015-12-09_time-just-announced-its-person-o", "west-journal_2015-12-10_something-horrible-was-just-rele",
    "west-journal_2015-12-12_boom-trump-just-fired-a-word-mis", "west-journal_2015-12-16_after-isis-death-order-on-down-s",
    "west-journal_2015-12-16_right-after-the-debate-trump-lau", "west-journal_2015-12-19_dinesh-d-souza-just-made-huge-pr",
)


class Instance:
    """The `annotator` command on a new SQLite database."""

    def __init__(self, annotator: str, folder: Path):
        self.annotator = annotator
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("ANNOTATOR_")} | {
            "ANNOTATOR_DATABASE_URL": f"sqlite:///{folder / 'polnear.sqlite'}", "ANNOTATOR_SECRET_KEY": "bench"}
        self.timings: list[tuple[str, float]] = []

    def __call__(self, *args: str, step: str | None = None) -> str:
        started = time.perf_counter()
        done = subprocess.run([self.annotator, *args], env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"annotator {' '.join(args)} failed:\n{done.stderr[-4000:]}")
        if step:
            self.timings.append((step, time.perf_counter() - started))
        return done.stdout

    def json(self, *args: str) -> dict | list:
        return json.loads(self(*args))

    def finish_gold(self, project: str) -> None:
        status = self.json("gold", "status", "--project", project, "--json")
        pending = [str(row["document"]) for row in status["documents"] if row["status"] == "in_progress"]
        self("gold", "finish", "--project", project, *pending)


def articles(data: Path, compartment: str, names: set[str] | None) -> list[dict]:
    """The metadata rows of a compartment's articles (those named, if ``names``), each with the
    first annotator it lists."""
    with open(data / "metadata.tsv", encoding="utf-8", newline="") as table:
        rows = [row for row in csv.DictReader(table, delimiter="\t") if row["compartment"] == compartment]
    if names is not None:
        missing = names - {row["filename"] for row in rows}
        if missing:
            sys.exit(f"not {compartment} articles of {data}/metadata.tsv: {', '.join(sorted(missing))}")
        rows = [row for row in rows if row["filename"] in names]
    for row in rows:
        row["first_annotator"] = row["annotators"].split("|")[0]
    return rows


def stage(data: Path, compartment: str, rows: list[dict], folder: Path, *, annotator_suffix: bool) -> Path:
    """A brat corpus of the rows' texts and first annotators' .ann files, with their metadata
    rows: NAME_<annotator>.ann (whose work the file name says), or NAME.ann (--annotator says)."""
    for sub in ("text", "attributions"):
        (folder / sub).mkdir(parents=True)
    for row in rows:
        name, annotator = row["filename"], row["first_annotator"]
        shutil.copyfile(data / compartment / "text" / f"{name}.txt", folder / "text" / f"{name}.txt")
        target = f"{name}_{annotator}.ann" if annotator_suffix else f"{name}.ann"
        shutil.copyfile(data / compartment / "attributions" / f"{name}_{annotator}.ann", folder / "attributions" / target)
    columns = [column for column in rows[0] if column != "first_annotator"]
    with open(folder / "metadata.tsv", "w", encoding="utf-8", newline="") as table:
        writer = csv.DictWriter(table, columns, delimiter="\t", extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder


def figures_table(title: str, evaluation: dict) -> str:
    def shown(figure: dict) -> str:
        return "—" if figure["value"] is None else f"{figure['value']:.3f}"

    lines = [f"{title}: {evaluation['suggester']} {evaluation['version']}",
             "| label | suggested | reference | exact P | R | F1 | overlap P | R | F1 |", "|---|---|---|---|---|---|---|---|---|"]
    for row in [*evaluation["labels"], {**evaluation["overall"], "label": "overall"}]:
        lines.append(f"| {row['label']} | {row['suggested']:,} | {row['reference']:,} | "
                     + " | ".join(shown(row[kind][measure]) for kind in ("exact", "overlap")
                                  for measure in ("precision", "recall", "f1")) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="PolNeAR's data/ folder (metadata.tsv, dev/, train/)")
    parser.add_argument("--train", choices=("listed", "all"), default="listed",
                        help="the train articles: the 80 of TRAIN_ARTICLES (default) or the whole compartment")
    parser.add_argument("--annotator", default=str(Path(sys.executable).parent / "annotator"),
                        help="the annotator executable (default: this Python's)")
    parser.add_argument("--keep", type=Path, help="keep the database and the staged corpora in this new folder")
    args = parser.parse_args()
    dev = articles(args.data, "dev", None)
    train = articles(args.data, "train", set(TRAIN_ARTICLES) if args.train == "listed" else None)
    print(f"machine: {platform.node()} · {len(os.sched_getaffinity(0))} cores · Python {platform.python_version()}")
    print(f"PolNeAR at {args.data}: {len(dev)} dev and {len(train)} train article(s), the first annotator's .ann of each")
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=args.keep is None)
        mapping = folder / "polnear-mapping.toml"
        mapping.write_text(MAPPING, encoding="utf-8")
        run = Instance(args.annotator, folder)
        run("init")
        brat = ("--format", "brat", "--mapping", str(mapping))

        def gold_names(rows: list[dict]) -> str:
            return ",".join(sorted({row["first_annotator"] for row in rows}))

        run("project", "create", "polnear-dev")
        run("import-annotations", str(stage(args.data, "dev", dev, folder / "dev", annotator_suffix=True)),
            "--project", "polnear-dev", *brat, "--gold", gold_names(dev), step=f"import {len(dev)} dev articles as gold")
        run.finish_gold("polnear-dev")
        run("suggest", "run", "--project", "polnear-dev", "--suggester", "rules-attribution",
            step=f"suggest run rules-attribution on {len(dev)} articles")
        (rules_on_dev,) = run.json("suggest", "evaluate", "--project", "polnear-dev", "--suggester",
                                   "rules-attribution", "--format", "json")["suggesters"]

        run("project", "create", "polnear-train")
        run("import-annotations", str(stage(args.data, "train", train, folder / "train", annotator_suffix=True)),
            "--project", "polnear-train", *brat, "--gold", gold_names(train),
            step=f"import {len(train)} train articles as gold")
        run.finish_gold("polnear-train")
        run("import-annotations", str(stage(args.data, "dev", dev, folder / "dev-plain", annotator_suffix=False)),
            "--project", "polnear-train", *brat, "--annotator", DEV_ANNOTATOR)
        run("suggest", "train", "--project", "polnear-train", step=f"suggest train on {len(train)} articles' gold")
        (model,) = run.json("suggest", "models", "--project", "polnear-train", "--format", "json")
        run("suggest", "enable", "--project", "polnear-train", "--model", str(model["id"]))
        run("suggest", "run", "--project", "polnear-train", "--suggester", "rules-attribution", "--suggester",
            "learned", step=f"suggest run rules-attribution and learned on {len(train) + len(dev)} articles")
        on_dev = run.json("suggest", "evaluate", "--project", "polnear-train", "--against", DEV_ANNOTATOR,
                          "--format", "json")["suggesters"]

    print()
    print(figures_table(f"dev ({len(dev)} articles), against their gold", rules_on_dev))
    training = model["figures"]["training"]
    held_out = model["figures"]["evaluation"]
    for evaluation in held_out["suggesters"]:
        print()
        print(figures_table(f"trained on {training['gold_documents']} train articles, on the "
                            f"{held_out['documents']} held out", evaluation))
    for evaluation in on_dev:
        if evaluation["suggester"] in ("rules-attribution", "learned"):
            print()
            print(figures_table(f"dev ({len(dev)} articles), model trained on {training['gold_documents']} train "
                                "articles", evaluation))
    print()
    for step, seconds in run.timings:
        print(f"{step}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
