"""A brat corpus in the shape of PolNeAR (Newell, Margolin & Ruths, LREC 2018), written here by
hand: NAME_<annotator>.ann beside NAME.txt with a different annotator per article, Source / Cue /
Content spans tied by events whose trigger is an "Attribution" span, discontinuous contents
whose fragments are written out of text order (and brat's covered text in that written order),
fragments that touch, "Discard" and "Discuss" spans that are not attributions, and a metadata
table naming the outlet "publisher" and the date "publication_date". Reading it, then importing
it as gold from the command line on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from annotator.codebook import default_codebook
from annotator.ingest import IngestError
from annotator.ingest.annotations import load_mapping, read_annotation_file
from annotator.models import Document, Span, User

POLL = 'Polls tighten, aides say.\n\n"We will win," the senator said on Monday. "The count is close." ' \
       'She added that the race was tied. Jane Doe reported from Ohio.\n'
POLL_ANN = """T1\tContent 0 13\tPolls tighten
T2\tSource 15 20\taides
T3\tCue 21 24\tsay
T4\tAttribution 21 24\tsay
E1\tAttribution:T4 Content:T1 Cue:T3 Source:T2
T5\tDiscuss 15 20\taides
T6\tContent 70 91;27 41\t"The count is close." "We will win,"
T7\tSource 42 53\tthe senator
T8\tCue 54 58\tsaid
T9\tAttribution 54 58\tsaid
E2\tAttribution:T9 Source:T7 Cue:T8 Content:T6
T10\tSource 92 95\tShe
T11\tCue 96 100;100 101\tadde d
T12\tContent 102 124\tthat the race was tied
T13\tAttribution 96 101\tadded
E3\tAttribution:T13 Content:T12 Cue:T11 Source:T10
T14\tDiscard 126 154\tJane Doe reported from Ohio.
"""
RALLY = "Crowds cheer, police say.\n"
RALLY_ANN = """T1\tContent 0 12\tCrowds cheer
T2\tSource 14 20\tpolice
T3\tCue 21 24\tsay
T4\tAttribution-no-source 21 24\tsay
E1\tAttribution-no-source:T4 Content:T1 Cue:T3 Source:T2
"""
METADATA = ("compartment\tfilename\tlevel\tannotators\tpublisher\tpublication_date\ttitle\n"
            "train\tpoll\t4\t4b22|d473\tdaily-planet\t2016-09-12\tPolls tighten\n"
            "dev\trally\t7\td473\tle-quotidien\t2016-10-01\tCrowds cheer\n")
MAPPING = 'relation = "attribution"\n[labels]\nSource = "SOURCE"\nCue = "CUE"\nContent = "CONTENT"\n' \
          'Discard = ""\nDiscuss = ""\n'


def corpus(tmp_path: Path, **extra: str) -> tuple[Path, Path]:
    """The corpus folder (texts in text/, annotations in attributions/, as PolNeAR has them)
    and the mapping file."""
    root = tmp_path / "polnear"
    for folder in ("text", "attributions"):
        (root / folder).mkdir(parents=True)
    files = {"text/poll.txt": POLL, "text/rally.txt": RALLY, "attributions/poll_4b22.ann": POLL_ANN,
             "attributions/rally_d473.ann": RALLY_ANN, "metadata.tsv": METADATA, **extra}
    for name, content in files.items():
        (root / name).write_text(content, encoding="utf-8", newline="")
    mapping = tmp_path / "polnear.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return root, mapping


def read(root: Path, mapping: Path) -> tuple[list[str], dict[str, dict]]:
    found = read_annotation_file(root, "brat", load_mapping(mapping), codebook=default_codebook())
    return ([str(item) for item in found if isinstance(item, IngestError)],
            {item["document"]["title"]: item for item in found if not isinstance(item, IngestError)})


def test_out_of_order_and_touching_fragments_left_out_labels_and_metadata(tmp_path):
    problems, records = read(*corpus(tmp_path))
    assert problems == []
    poll = records["Polls tighten"]
    assert {key: poll["document"][key] for key in ("outlet", "published", "metadata")} == {
        "outlet": "daily-planet", "published": "2016-09-12",
        "metadata": {"compartment": "train", "level": "4", "annotators": "4b22|d473"}}
    (entry,) = poll["annotations"]
    assert entry["annotator"] == "4b22"
    spans = {span["id"]: span for span in entry["spans"]}
    # No Discard or Discuss span; the touching fragments of "added" are one piece; the content
    # written "70 91;27 41" is one part per sentence, in text order.
    assert sorted((span["label"], span["start"], span["end"]) for span in spans.values()) == [
        ("CONTENT", 0, 13), ("CONTENT", 27, 41), ("CONTENT", 70, 91), ("CONTENT", 102, 124),
        ("CUE", 21, 24), ("CUE", 54, 58), ("CUE", 96, 101),
        ("SOURCE", 15, 20), ("SOURCE", 42, 53), ("SOURCE", 92, 95)]
    assert all("fragments" not in span for span in spans.values())
    assert [sorted((part["role"], POLL[spans[part["span_id"]]["start"]:spans[part["span_id"]]["end"]])
                   for part in attribution["parts"]) for attribution in entry["attributions"]] == [
        [("content", "Polls tighten"), ("cue", "say"), ("source", "aides")],
        [("content", '"The count is close."'), ("content", '"We will win,"'), ("cue", "said"),
         ("source", "the senator")],
        [("content", "that the race was tied"), ("cue", "added"), ("source", "She")]]
    rally = records["Crowds cheer"]
    assert (rally["document"]["outlet"], [e["annotator"] for e in rally["annotations"]]) == ("le-quotidien", ["d473"])


def test_out_of_order_fragments_within_one_sentence_are_one_span_with_its_fragments(tmp_path):
    ann = "T1\tContent 42 53;27 41\tthe senator \"We will win,\"\nT2\tCue 54 58\tsaid\n" \
          "E1\tAttribution:T2 Content:T1\n"
    problems, records = read(*corpus(tmp_path, **{"attributions/poll_4b22.ann": ann}))
    assert problems == []
    (content,) = [span for span in records["Polls tighten"]["annotations"][0]["spans"] if span["label"] == "CONTENT"]
    assert (content["start"], content["end"], content["fragments"]) == (27, 53, [[27, 41], [42, 53]])


def test_a_covered_text_in_neither_order_is_still_a_problem(tmp_path):
    ann = "T1\tContent 70 91;27 41\t\"We will win,\" \"The count is close.\"\n"
    problems, _ = read(*corpus(tmp_path, **{"attributions/poll_4b22.ann": ann}))
    assert problems == [f"{tmp_path}/polnear/attributions/poll_4b22.ann:1: T1: the text says "
                        "'\"The count is close.\" \"We will win,\"' at 70 91;27 41, the .ann "
                        "'\"We will win,\" \"The count is close.\"'"]


def test_an_event_naming_a_left_out_span_is_a_problem(tmp_path):
    ann = POLL_ANN + "E4\tAttribution:T4 Content:T14 Cue:T3\n"
    problems, _ = read(*corpus(tmp_path, **{"attributions/poll_4b22.ann": ann}))
    assert problems == [f"{tmp_path}/polnear/attributions/poll_4b22.ann:18: E4: argument T14 is a Discard span, "
                        "a label the mapping leaves out"]


def test_cli_imports_articles_of_different_annotators_as_gold(cli, session, tmp_path):
    root, mapping = corpus(tmp_path)
    assert cli("project", "create", "polnear").exit_code == 0
    result = cli("import-annotations", str(root), "--project", "polnear", "--format", "brat", "--mapping",
                 str(mapping), "--gold", "4b22, d473")
    assert result.exit_code == 0, result.output
    assert "2 document-annotator pair(s), 2 of them as gold" in result.output
    session.rollback()
    gold = session.scalar(select(User.id).where(User.username == "gold"))
    assert dict(session.execute(select(Document.outlet, func.count(Span.id)).join(Span)
                                .where(Span.user_id == gold).group_by(Document.outlet)).all()) == {
        "daily-planet": 10, "le-quotidien": 3}
    assert session.scalar(select(func.count(User.id)).where(User.username.in_(["4b22", "d473"]))) == 0


def test_two_named_gold_annotators_on_one_article_are_refused(cli, session, tmp_path):
    root, mapping = corpus(tmp_path, **{"attributions/rally_4b22.ann": RALLY_ANN})
    assert cli("project", "create", "polnear").exit_code == 0
    result = cli("import-annotations", str(root), "--project", "polnear", "--format", "brat", "--mapping",
                 str(mapping), "--gold", "4b22,d473")
    assert result.exit_code != 0
    assert "account 'gold' is already imported for document" in result.stderr
    session.rollback()
    assert session.scalar(select(func.count(Document.id))) == 0
