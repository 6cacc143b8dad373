"""The ``annotator`` command: database setup, imports, accounts, reports, exports, serving.

It must start fast: only click is imported here. Each command imports the services and the
heavy libraries (numpy, alembic) it uses when it runs, and only the commands that serve pages
build the Flask app: `annotator --help` and `annotator users list` pay for none of it.

Every command acts as ``SYSTEM`` (annotator.services.permissions): whoever runs it owns the
database. It only calls services, which check, write and commit; a ServiceError becomes the
command's error message.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from .errors import ServiceError
from .services.permissions import SYSTEM

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .db import Database

DEMO_ACCOUNTS = (("supervisor", "supervisor"), ("annotator1", "annotator"), ("annotator2", "annotator"))
# The project the commands work on when none is named, and that `annotator import` fills.
DEFAULT_PROJECT = "default"


class LazyChoice(click.Choice):
    """A choice whose values come from a module imported only when the command runs or shows
    its own help, not when `annotator --help` lists the commands."""

    def __init__(self, load: Callable[[], Sequence[str]]):
        super().__init__(())
        self._load = load

    @property
    def choices(self) -> Sequence[str]:
        return tuple(self._load())

    @choices.setter
    def choices(self, _value) -> None:
        pass


def _roles() -> Sequence[str]:
    from .models import ROLES

    return ROLES


def _export_formats() -> Sequence[str]:
    from .exporters import FORMATS

    return list(FORMATS)


def _annotation_formats() -> Sequence[str]:
    from .ingest.annotations import FORMATS

    return FORMATS


def _groupings() -> Sequence[str]:
    from .profiles import GROUPINGS

    return GROUPINGS


@dataclass
class Instance:
    """What a command works with: the settings (ANNOTATOR_*, see annotator.config) and the
    database they name, with a session."""

    settings: dict
    database: Database
    session: Session

    @property
    def label(self) -> str:
        """The database, for messages (without its password)."""
        return self.database.engine.url.render_as_string(hide_password=True)


def with_instance(*, schema: bool = True):
    """Run the command with the Instance as its first argument; ``schema``: refuse to run
    unless the database's schema is current. The settings are the environment's, overridden
    by the mapping a caller passes as click's ``obj`` (the tests pass their app's)."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            from . import config

            settings = config.load(click.get_current_context().find_object(dict))
            database = config.database(settings)
            instance = Instance(settings, database, database.session())
            try:
                if schema:
                    _require_schema(instance)
                return function(instance, *args, **kwargs)
            except ServiceError as error:
                from .services.imports import ImportRejected

                if isinstance(error, ImportRejected):
                    _reject(error.problems)
                raise click.ClickException(error.message) from None
            finally:
                instance.session.close()
                database.dispose()

        return run

    return decorate


def _require_schema(instance: Instance) -> None:
    from . import migrate

    current, head = migrate.current_revision(instance.database.engine), migrate.head_revision()
    if current != head:
        raise click.ClickException(
            f"the database {instance.label} is at revision {current or 'none'}, not {head}: run `annotator init` first"
        )


def _reject(problems: list) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    raise click.ClickException(f"{len(problems)} problem(s); nothing was imported")


def _names(values: Sequence[str]) -> list[str]:
    """User names given comma-separated, or repeating the option, or both."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _user_ids(session: Session, names: Sequence[str]) -> list[int]:
    from .services import users

    return [users.user_named(session, SYSTEM, name).id for name in names]


def _project_id(session: Session, name: str) -> int:
    from .services import projects

    return projects.project_named(session, SYSTEM, name).id


@click.group()
def main() -> None:
    """Annotate attribution, loaded language and claim types in news articles.

    Settings come from the environment: ANNOTATOR_DATABASE_URL, ANNOTATOR_SECRET_KEY,
    ANNOTATOR_INSTANCE, ANNOTATOR_MAX_IMPORT_BYTES, ANNOTATOR_MAX_SENTENCES (see README.md).
    """


@main.command("init")
@with_instance(schema=False)
def init_command(instance: Instance) -> None:
    """Create or upgrade the database schema (Alembic upgrade head)."""
    from . import migrate

    migrate.upgrade(instance.database.engine)
    click.echo(f"Database {instance.label} is at revision {migrate.current_revision(instance.database.engine)}.")


# -- articles and annotations in ------------------------------------------------------------------


def _import(instance: Instance, paths: list[str], project_name: str, *, max_bytes: int | None = None,
            max_sentences: int | None = None, encoding: str | None = None, language: str | None = None) -> None:
    from tqdm import tqdm

    from .ingest import Article, EncodingNeeded, IngestError, read_paths
    from .services import imports, projects

    settings = instance.settings
    results = read_paths(paths, max_bytes=max_bytes or settings["MAX_IMPORT_BYTES"],
                         max_sentences=max_sentences or settings["MAX_SENTENCES"], encoding=encoding,
                         language=language)
    errors = [result for result in results if isinstance(result, IngestError)]
    articles = [result for result in results if isinstance(result, Article)]
    if errors:
        for error in errors:
            shown = error.message("with --encoding NAME") if isinstance(error, EncodingNeeded) else error
            click.echo(f"error: {shown}", err=True)
        raise click.ClickException(f"{len(errors)} input(s) could not be read; nothing was imported")
    project = projects.get_or_create_project(instance.session, SYSTEM, project_name)
    with tqdm(total=len(articles), unit="doc", desc="Importing", disable=None) as bar:
        summary = imports.import_articles(instance.session, SYSTEM, project.id, articles,
                                          on_progress=lambda _: bar.update())
    click.echo(
        f"Project {project_name!r}: imported {len(summary.imported)} document(s) "
        f"({summary.sentences} sentences), skipped {len(summary.skipped)} already present."
    )


def _checked_by(check: str):
    """The callback of an option whose value annotator.ingest's function ``check`` must accept
    (check_encoding: a text encoding Python knows; check_language: a language code), else a
    usage error."""

    def callback(_context, _parameter, value: str | None) -> str | None:
        if value is None:
            return None
        from . import ingest

        try:
            getattr(ingest, check)(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
        return value

    return callback


@main.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--max-bytes", type=int, help="Largest file accepted (default 5 MB, or ANNOTATOR_MAX_IMPORT_BYTES).")
@click.option("--max-sentences", type=click.IntRange(min=1),
              help="Most sentences per document (default ANNOTATOR_MAX_SENTENCES, see README.md).")
@click.option("--encoding", callback=_checked_by("check_encoding"),
              help="The files' encoding when they are not UTF-8, e.g. windows-1256 (Arabic), windows-1252 "
                   "(Western European), iso-8859-8 (Hebrew), shift_jis (Japanese), utf-16-le.")
@click.option("--language", callback=_checked_by("check_language"),
              help="The articles' language, e.g. ur, ar, fa, he or en, for every file; without it, each "
                   "article's declared language if it fits the text's script, else the language its script "
                   "says (README.md, \"Languages\").")
@with_instance()
def import_command(
    instance: Instance, paths: tuple[str, ...], project_name: str, max_bytes: int | None, max_sentences: int | None,
    encoding: str | None, language: str | None,
) -> None:
    """Import articles from .txt, .html and .jsonl files or folders of them.

    Every input is read and checked first; if any is invalid, nothing is imported.
    A file is read as its byte-order mark says, else as UTF-8, else in the --encoding given,
    else (HTML) in the charset it declares (README.md, "Encodings"). Each article's language
    (its sentences are split by that language's rules) is the --language given, else declared
    by the file, else detected from the script (README.md, "Languages").
    """
    _import(instance, list(paths), project_name, max_bytes=max_bytes, max_sentences=max_sentences, encoding=encoding,
            language=language)


@main.command("import-annotations")
@click.argument("path", type=click.Path())  # a brat corpus may be a folder
@click.option("--project", "project_name", required=True, help="An existing project (`annotator project create`).")
@click.option("--format", "input_format", type=LazyChoice(_annotation_formats), required=True)
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False), help="Mapping (TOML or JSON) of the file's label, role, attribute and column names to the "
                   "codebook's (docs/interop.md).")
@click.option("--annotator", "annotator_name", help="Who made annotations the file does not attribute to anyone.")
@click.option("--replace", is_flag=True, help="Delete an annotator's existing annotations of a document first.")
@click.option("--gold", "gold_name", metavar="NAME[,NAME...]",
              help="Import annotator NAME's entries as the gold layer (provenance \"imported\"); with --annotator "
                   "NAME, a whole corpus of one annotator; several names, comma-separated, for a corpus whose "
                   "documents different annotators did.")
@with_instance()
def import_annotations_command(
    instance: Instance, path: str, project_name: str, input_format: str, mapping_path: str | None,
    annotator_name: str | None, replace: bool, gold_name: str | None,
) -> None:
    """Import annotations: this project's JSONL, doccano JSONL, Label Studio JSON, brat standoff
    (a folder or zip), CoNLL / BIO, technique span files, or per-annotator sentence labels from a
    CSV (matched to the project's documents by the sentence's text).

    Everything is checked first (offsets against the text, labels against the codebook);
    every problem is printed as FILE:LINE: message and, if there is any, nothing is written.
    See docs/interop.md.
    """
    from .ingest import IngestError
    from .ingest.annotations import load_mapping, read_annotation_file
    from .services import imports, projects

    project = projects.project_named(instance.session, SYSTEM, project_name)
    mapping = load_mapping(mapping_path) if mapping_path else None
    if isinstance(mapping, list):
        _reject(mapping)
    click.echo(f"Reading {path} ...")
    read = read_annotation_file(path, input_format, mapping, codebook=projects.project_codebook(project),
                                annotator=annotator_name)
    records = [item for item in read if not isinstance(item, IngestError)]
    click.echo(f"Checking {len(records)} record(s), then writing them if all is well ...")
    summary = imports.import_annotations(
        instance.session, SYSTEM, project.id, records, source=path, replace=replace,
        gold=gold_name and [name.strip() for name in gold_name.split(",") if name.strip()],
        read_problems=[item for item in read if isinstance(item, IngestError)],
    )
    created = (f", created {len(summary.annotators_created)} inactive account(s): {', '.join(summary.annotators_created)}"
               if summary.annotators_created else "")
    gold = f", {summary.gold_entries} of them as gold" if summary.gold_entries else ""
    click.echo(
        f"Project {project_name!r}: imported {summary.spans} span(s), {summary.attributions} attribution(s) and "
        f"{summary.sentence_labels} sentence label(s) of {summary.entries} document-annotator pair(s){gold} "
        f"({summary.documents_created} new document(s), {summary.documents_matched} matched; "
        f"{summary.replaced} replaced){created}."
    )
    if summary.links:
        click.echo(f"Linked {summary.links} span(s) to source entities: {summary.entities_created} made, "
                   f"{summary.entities_matched} matched by name in the project's registry.")
    for skipped in summary.aliases_skipped:
        click.echo(f"Alias not added: {skipped}.")
    if summary.trimmed:
        click.echo(f"Trimmed the whitespace at the edges of {summary.trimmed} span(s).")
    if summary.warnings:
        click.echo(f"{len(summary.warnings)} warning(s) from reading the file:")
        for warning in summary.warnings:
            click.echo(f"  {warning}")


# -- projects -------------------------------------------------------------------------------------


@main.group("project")
def project_group() -> None:
    """Manage projects, their codebooks and their members."""


@project_group.command("create")
@click.argument("name")
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False), help="A TOML or JSON codebook; the default codebook if omitted.")
@with_instance()
def project_create(instance: Instance, name: str, codebook_path: str | None) -> None:
    """Create a project with a codebook, validated on load."""
    from .codebook import CodebookError, load_codebook
    from .services import projects

    try:
        codebook = load_codebook(codebook_path) if codebook_path else None
    except CodebookError as error:
        raise click.ClickException(f"the codebook is invalid:\n{error}") from error
    project = projects.create_project(instance.session, SYSTEM, name, codebook)
    click.echo(f"Created project {project.name!r} with codebook {project.codebook['name']!r} version {project.codebook_version}.")


@project_group.command("list")
@with_instance()
def project_list(instance: Instance) -> None:
    """List projects with their numbers."""
    from .services import projects

    rows = projects.list_projects(instance.session, SYSTEM)
    if not rows:
        click.echo("No projects yet: `annotator project create NAME` or `annotator import PATH --project NAME`.")
        return
    click.echo(f"{'project':<24} {'codebook':<24} {'documents':>9} {'sentences':>9}")
    for row in rows:
        click.echo(f"{row.name:<24} {row.codebook:<24} {row.documents:>9} {row.sentences:>9}")


@project_group.command("show")
@click.argument("name", default=DEFAULT_PROJECT)
@click.option("--json", "as_json", is_flag=True, help="Print the codebook as JSON.")
@with_instance()
def project_show(instance: Instance, name: str, as_json: bool) -> None:
    """Show a project's codebook: layers, labels, values and hotkeys."""
    import json

    from .services import projects

    project = projects.project_named(instance.session, SYSTEM, name)
    if as_json:
        click.echo(json.dumps(project.codebook, indent=2, ensure_ascii=False))
        return
    codebook = projects.project_codebook(project)
    click.echo(f"Project {project.name!r}: codebook {codebook.name!r} version {codebook.version}")
    for layer in codebook.span_layers:
        click.echo(f"\nspan layer {layer.name} ({layer.title}){' · may cross sentences' if layer.cross_sentence else ''}")
        for label in layer.labels:
            click.echo(f"  [{label.hotkey or ' '}] {label.name}")
        for attribute in layer.attributes:
            click.echo(f"  attribute {attribute.name}: {', '.join(attribute.value_names)}")
    for layer in codebook.choice_layers:
        kind = "multiple choice" if layer.multiple else "single choice"
        click.echo(f"\nsentence layer {layer.name} ({layer.title}, {kind}{', ordered' if layer.ordered else ''})")
        for value in layer.values:
            click.echo(f"  [{value.hotkey or ' '}] {value.name}")
    for relation in codebook.relations:
        roles = ", ".join(f"{role.name}={role.label}{'' if role.required else '?'}{'+' if role.multiple else ''}" for role in relation.roles)
        click.echo(f"\nrelation {relation.name} over {relation.layer}: {roles}")
        for attribute in relation.attributes:
            click.echo(f"  attribute {attribute.name}: {', '.join(attribute.value_names)}")


@project_group.command("codebook-language")
@click.argument("name")
@click.argument("language", required=False)
@click.option("--as-written", is_flag=True, help="Show the codebook as written again.")
@with_instance()
def project_codebook_language(instance: Instance, name: str, language: str | None, as_written: bool) -> None:
    """Show or set the language annotators see the codebook's names and titles in: one it is
    translated into (docs/codebook.md, "Translations")."""
    from .services import projects

    project = projects.project_named(instance.session, SYSTEM, name)
    if language is not None or as_written:
        if language is not None and as_written:
            raise click.UsageError("give a LANGUAGE or --as-written, not both")
        project = projects.set_codebook_language(instance.session, SYSTEM, project.id, language)
    offered = projects.project_codebook(project).languages
    click.echo(f"Project {project.name!r}: codebook shown {f'in {project.codebook_language}' if project.codebook_language else 'as written'}; "
               f"translated into {', '.join(offered) or 'no language'}.")


@project_group.group("members")
def members_group() -> None:
    """The supervisors who see a project (admins see every project)."""


@members_group.command("add")
@click.argument("project_name", metavar="PROJECT")
@click.argument("names", nargs=-1, required=True, metavar="SUPERVISOR[,SUPERVISOR…]…")
@with_instance()
def members_add(instance: Instance, project_name: str, names: tuple[str, ...]) -> None:
    """Make supervisors members of a project; those already members are left as they are."""
    from .services import projects

    session = instance.session
    wanted = _names(names)
    added = [user.username for user in projects.add_members(
        session, SYSTEM, _project_id(session, project_name), _user_ids(session, wanted))]
    already = sorted(set(wanted) - set(added))
    click.echo(f"Project {project_name!r}: added {', '.join(added) or 'nobody'}"
               f"{'; already members: ' + ', '.join(already) if already else ''}.")


@members_group.command("remove")
@click.argument("project_name", metavar="PROJECT")
@click.argument("name", metavar="SUPERVISOR")
@with_instance()
def members_remove(instance: Instance, project_name: str, name: str) -> None:
    """Take a supervisor off a project: they no longer see it (what they did in it stays)."""
    from .services import projects

    session = instance.session
    (user_id,) = _user_ids(session, [name])
    user = projects.remove_member(session, SYSTEM, _project_id(session, project_name), user_id)
    click.echo(f"Project {project_name!r}: {user.username} is no longer a member.")


@members_group.command("list")
@click.argument("project_name", metavar="PROJECT", default=DEFAULT_PROJECT)
@with_instance()
def members_list(instance: Instance, project_name: str) -> None:
    """The supervisors who are members of a project."""
    from .services import projects

    members = projects.project_members(instance.session, SYSTEM, _project_id(instance.session, project_name)).members
    if not members:
        click.echo(f"Project {project_name!r} has no members: only admins see it "
                   f"(`annotator project members add {project_name} NAME`).")
    for user in members:
        click.echo(f"{user.username}{'' if user.active else ' (deactivated)'}")


# -- accounts -------------------------------------------------------------------------------------


@main.group("users")
def users_group() -> None:
    """Manage accounts."""


def _password_from_stdin(given: bool) -> str | None:
    return sys.stdin.readline().rstrip("\r\n") if given else None


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=LazyChoice(_roles), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_instance()
def users_add(instance: Instance, username: str, role: str, password_stdin: bool) -> None:
    """Create an account; without --password-stdin a strong password is generated and printed once."""
    from .services import users

    user, generated = users.add_user(instance.session, SYSTEM, username, role, _password_from_stdin(password_stdin))
    click.echo(f"Created {user.role} {user.username!r}.")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@users_group.command("list")
@with_instance()
def users_list(instance: Instance) -> None:
    """List accounts."""
    from .services import users
    from .services.paging import every_item

    rows = every_item(lambda number: users.list_users(instance.session, SYSTEM, number))
    if not rows:
        click.echo("No users yet: create one with `annotator users add NAME --role ROLE`.")
        return
    width = max(len(user.username) for user in rows)
    for user in rows:
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.username:<{width}}  {user.role:<10}  {state}")


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_instance()
def users_set_password(instance: Instance, username: str, password_stdin: bool) -> None:
    """Set a password (generated and printed once unless --password-stdin)."""
    from .services import users

    user_id = _user_ids(instance.session, [username])[0]
    _, generated = users.set_password(instance.session, SYSTEM, user_id, _password_from_stdin(password_stdin))
    click.echo(f"Password of {username!r} changed.")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@users_group.command("deactivate")
@click.argument("username")
@with_instance()
def users_deactivate(instance: Instance, username: str) -> None:
    """Stop an account from logging in; its annotations stay."""
    from .services import users

    users.deactivate(instance.session, SYSTEM, _user_ids(instance.session, [username])[0])
    click.echo(f"{username!r} can no longer log in.")


# -- assignments and progress ---------------------------------------------------------------------


def _print_loads(loads: list) -> None:
    width = max([len("annotator"), *(len(load.user.username) for load in loads)])
    click.echo(f"{'annotator':<{width}} {'documents':>9} {'sentences':>9} {'new':>5}")
    for load in loads:
        click.echo(f"{load.user.username:<{width}} {load.documents:>9} {load.sentences:>9} {load.new_documents:>5}")


@main.command("assign")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--user", "user_options", multiple=True, help="By hand: annotators, comma-separated or repeated.")
@click.option("--document", "document_ids", multiple=True, type=int, help="By hand: document id; all of the project's if omitted.")
@click.option("--per-document", type=int, help="Automatic: give each document to K annotators, balancing sentences.")
@click.option("--seed", type=int, help="Automatic: same seed and inputs, same assignment (default 0).")
@click.option("--calibration", type=int, default=0, show_default=True, help="Automatic: N documents every annotator gets.")
@click.option("--annotator", "annotator_options", multiple=True, help="Automatic: only these, comma-separated or repeated (default: every active annotator).")
@with_instance()
def assign_command(
    instance: Instance, project_name: str, user_options: tuple[str, ...], document_ids: tuple[int, ...],
    per_document: int | None, seed: int | None, calibration: int, annotator_options: tuple[str, ...],
) -> None:
    """Assign documents of a project to annotators, by hand or automatically.

    By hand: --user NAME[,NAME...] [--document ID...]; already assigned documents are left as
    they are. Automatically: --per-document K [--seed S] [--calibration N] [--annotator NAME...]; run it
    again when annotators join: documents below K are topped up, newcomers get the calibration
    documents, and nothing already assigned moves (docs/supervision.md).
    """
    from .services import assignments

    usernames, annotator_names = _names(user_options), _names(annotator_options)
    automatic = per_document is not None
    if automatic and (usernames or document_ids):
        raise click.UsageError("choose one mode: --user/--document (by hand) or --per-document (automatic), not both")
    if not automatic and (annotator_names or calibration or seed is not None):
        raise click.UsageError("--seed, --calibration and --annotator go with --per-document (automatic mode)")
    if not automatic and not usernames:
        raise click.UsageError("say whom to assign: --user NAME[,NAME...] (by hand) or --per-document K (automatic)")
    session, project_id = instance.session, _project_id(instance.session, project_name)
    if automatic:
        result = assignments.auto_assign(
            session, SYSTEM, project_id, per_document, seed=seed or 0, calibration=calibration,
            annotator_ids=_user_ids(session, annotator_names) or None,
        )
        _print_loads(result.loads)
        click.echo(f"{len(result.created)} new assignment(s), {per_document} annotator(s) per document, seed {seed or 0}.")
        if result.calibration:
            click.echo(f"Calibration documents (every annotator): {', '.join(str(d.id) for d in result.calibration)}")
        if result.short:
            click.echo(f"Still below {per_document} annotators (too few left who were not withdrawn from them): "
                       f"{', '.join(str(d.id) for d in result.short)}")
        return
    user_ids = _user_ids(session, usernames)
    created = assignments.assign(session, SYSTEM, project_id, user_ids, list(document_ids) or None)
    _print_loads(assignments.loads_of(session, SYSTEM, project_id, user_ids))
    click.echo(f"{len(created)} new assignment(s).")


@main.command("progress")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@with_instance()
def progress_command(instance: Instance, project_name: str) -> None:
    """Show how far each annotator of a project is, and the overall completion."""
    from .services import progress

    report = progress.project_progress(instance.session, SYSTEM, _project_id(instance.session, project_name))
    if not report.annotators:
        click.echo(f"Nothing is assigned in project {project_name!r} yet: `annotator assign --project {project_name} ...`.")
        return
    width = max([len("annotator"), *(len(p.user.username) for p in report.annotators)])
    click.echo(f"{'annotator':<{width}} {'documents done':>14} {'sentences labelled':>18} {'spans':>6} {'active time':>11}  last activity")
    for p in report.annotators:
        click.echo(
            f"{p.user.username:<{width}} {f'{p.documents_done}/{p.documents_assigned}':>14} "
            f"{f'{p.sentences_labelled}/{p.sentences_total}':>18} {p.spans:>6} "
            f"{progress.format_duration(p.active_ms):>11}  {progress.format_time(p.last_activity)}"
        )
    click.echo(
        f"Overall: {report.assignments_done}/{report.assignments} assignments done ({_percent(report.assignments_done, report.assignments)}), "
        f"{report.sentences_labelled}/{report.sentences_total} sentences labelled ({_percent(report.sentences_labelled, report.sentences_total)}), "
        f"{report.documents_complete}/{report.documents_assigned} documents done by all their annotators."
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


# -- serving, backups, the quick start ------------------------------------------------------------


def _serve(instance: Instance, host: str, port: int, threads: int) -> None:
    from waitress import serve

    from .app import create_app

    app = create_app(instance.settings)
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
    serve(app, host=host, port=port, threads=threads, ident="annotator")


def _serve_options(command):
    command = click.option("--threads", default=16, show_default=True, help="Worker threads.")(command)
    command = click.option("--port", default=5000, show_default=True)(command)
    return click.option("--host", default="127.0.0.1", show_default=True)(command)


@main.command("serve")
@_serve_options
@with_instance()
def serve_command(instance: Instance, host: str, port: int, threads: int) -> None:
    """Serve the app with the production WSGI server (waitress)."""
    _serve(instance, host, port, threads)


@main.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The backup file to write.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@with_instance(schema=False)
def backup_command(instance: Instance, out: str, force: bool) -> None:
    """A consistent copy of the whole database, taken while the app serves (SQLite: its
    online backup API; PostgreSQL: pg_dump)."""
    from . import backup

    result = backup.backup(instance.database.engine, out, overwrite=force)
    click.echo(f"backed up {instance.label} to {result.path} ({result.size:,} bytes, {result.method})")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_instance(schema=False)
def restore_command(instance: Instance, file: str, force: bool) -> None:
    """Replace the database with a backup made by `annotator backup`; stop the app first."""
    from . import backup, migrate

    backup.restore(instance.database.engine, file, force=force)
    click.echo(f"restored {file} into {instance.label} (schema at {migrate.head_revision()})")


@main.command("quickstart")
@_serve_options
@click.option("--no-serve", is_flag=True, help="Set everything up, then exit.")
@with_instance(schema=False)
def quickstart_command(instance: Instance, host: str, port: int, threads: int, no_serve: bool) -> None:
    """Init the database, import seeds/, create demo accounts, and serve.

    Safe to run again: existing data and accounts are kept, nothing is duplicated.
    """
    from . import migrate
    from .errors import NotFound
    from .paths import resource_dir
    from .services import assignments, projects, users

    session = instance.session
    migrate.upgrade(instance.database.engine)
    click.echo(f"Database: {instance.label}")
    _import(instance, [str(resource_dir("seeds"))], DEFAULT_PROJECT)
    for username, role in DEMO_ACCOUNTS:
        try:
            users.user_named(session, SYSTEM, username)
            click.echo(f"Account {username!r} ({role}) exists; reset with `annotator users set-password {username}`.")
        except NotFound:
            _, password = users.add_user(session, SYSTEM, username, role)
            click.echo(f"Account {username!r} ({role}) password (shown once): {password}")
    annotators = [username for username, role in DEMO_ACCOUNTS if role == "annotator"]
    supervisors = [username for username, role in DEMO_ACCOUNTS if role == "supervisor"]
    project_id = _project_id(session, DEFAULT_PROJECT)
    projects.add_members(session, SYSTEM, project_id, _user_ids(session, supervisors))
    created = assignments.assign(session, SYSTEM, project_id, _user_ids(session, annotators))
    documents = sum(row.documents for row in projects.list_projects(session, SYSTEM))
    click.echo(f"{documents} document(s) in the database; {len(created)} new assignment(s) for {', '.join(annotators)}.")
    if not no_serve:
        _serve(instance, host, port, threads)


# -- measuring and exporting ----------------------------------------------------------------------


def _id_list(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of document ids", param_hint="--documents") from None


def _bootstrap_options(replicates: int | None, seed: int | None) -> dict[str, int]:
    """The bootstrap settings given on the command line; the others keep the service's defaults."""
    return {name: value for name, value in (("replicates", replicates), ("seed", seed)) if value is not None}


def _write_output(text: str, out_path: str | None, started: float) -> None:
    """A report or profile to its file (saying so on stderr) or to stdout, with the time it took."""
    import time

    if out_path:
        with open(out_path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"Wrote {out_path} ({time.perf_counter() - started:.1f} s).", err=True)
    else:
        click.echo(text, nl=False)
        click.echo(f"Done in {time.perf_counter() - started:.1f} s.", err=True)


@main.command("report")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--format", "output_format", type=click.Choice(["json", "html", "csv"]), default="json", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
@click.option("--documents", "documents_option", help="Only these document ids, comma-separated.")
@click.option("--annotators", "annotator_options", multiple=True, help="Only these annotators (user names), comma-separated or repeated.")
@click.option("--since", "since_option", help="Only annotations updated on or after this date (YYYY-MM-DD).")
@click.option("--replicates", type=click.IntRange(min=0), help="Bootstrap replicates (default: the report's, docs/agreement.md).")
@click.option("--seed", type=int, help="Bootstrap seed (default: the report's).")
@click.option("--usernames", is_flag=True, help="Name annotators by user name instead of by pseudonym.")
@with_instance()
def report_command(
    instance: Instance, project_name: str, output_format: str, out_path: str | None, documents_option: str | None,
    annotator_options: tuple[str, ...], since_option: str | None, replicates: int | None, seed: int | None,
    usernames: bool,
) -> None:
    """Inter-annotator agreement report of a project as JSON, HTML or CSV (docs/report-format.md).

    Annotators are named by pseudonym, as in the exports, unless --usernames.
    """
    import datetime as dt
    import time

    from . import report as reporting

    since = None
    if since_option:
        try:
            since = dt.date.fromisoformat(since_option)
        except ValueError:
            raise click.BadParameter(f"{since_option!r} is not a date YYYY-MM-DD", param_hint="--since") from None
    documents = _id_list(documents_option)
    session = instance.session
    project_id = _project_id(session, project_name)
    annotator_ids = _user_ids(session, _names(annotator_options)) if annotator_options else None
    started = time.perf_counter()
    click.echo(f"Computing the agreement report of project {project_name!r}...", err=True)
    bootstrap = _bootstrap_options(replicates, seed)
    body = reporting.build_report(session, SYSTEM, project_id, documents=documents, annotators=annotator_ids,
                                  since=since, **bootstrap)
    names = reporting.annotator_names(body, secret_key=instance.settings["SECRET_KEY"], usernames=usernames)
    if output_format == "json":
        text = reporting.report_json(body, names)
    elif output_format == "csv":
        text = "".join(reporting.report_csv(body, names))
    else:
        text = reporting.report_html(body, names)
    _write_output(text, out_path, started)


@main.command("profile")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--by", type=LazyChoice(_groupings), default="outlet", show_default=True)
@click.option("--format", "output_format", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
@click.option("--compare", "compare", multiple=True, metavar="GROUP",
              help="Twice: the difference between these two groups (keys or labels: an outlet, YYYY-MM, a user name).")
@click.option("--figure", help="html: the figure charted per group (a key of the JSON's figures; the first by default).")
@click.option("--replicates", type=click.IntRange(min=0), help="Bootstrap replicates (default 1,000).")
@click.option("--seed", type=int, help="Bootstrap seed (default: the agreement report's).")
@click.option("--usernames", is_flag=True, help="Name annotators by user name instead of by pseudonym.")
@with_instance()
def profile_command(
    instance: Instance, project_name: str, by: str, output_format: str, out_path: str | None, compare: tuple[str, ...],
    figure: str | None, replicates: int | None, seed: int | None, usernames: bool,
) -> None:
    """What the annotations say per outlet, article, month or annotator: rates, shares, their
    intervals and the annotators' spread (docs/profiles.md)."""
    import time

    from . import report as reporting
    from .profiles import render
    from .services import profiles

    if compare and len(compare) != 2:
        raise click.BadParameter("give two groups, --compare A --compare B", param_hint="--compare")
    started = time.perf_counter()
    click.echo(f"Computing the profile of project {project_name!r} by {by}...", err=True)
    bootstrap = _bootstrap_options(replicates, seed)
    body = profiles.build_profile(instance.session, SYSTEM, _project_id(instance.session, project_name), by=by,
                                  compare=list(compare) or None, **bootstrap)
    names = reporting.annotator_names(body, secret_key=instance.settings["SECRET_KEY"], usernames=usernames)
    if output_format == "json":
        text = render.profile_json(body, names)
    elif output_format == "csv":
        text = "".join(render.profile_csv(body, names))
    else:
        text = render.profile_html(body, names, figure=figure)
    _write_output(text, out_path, started)


@main.command("export")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--format", "format_name", type=LazyChoice(_export_formats), required=True)
@click.option("--layer", help="csv: only this span layer; sentences-csv: only this sentence layer.")
@click.option("--annotators", "annotator_options", multiple=True, help="Only these (user names): comma-separated or repeated.")
@click.option("--usernames", is_flag=True, help="Name annotators by user name instead of by pseudonym.")
@click.option("--gold", is_flag=True, help="Export the gold standard (adjudicated documents) instead, as annotator gold.")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark (for Excel).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
@with_instance()
def export_command(
    instance: Instance, project_name: str, format_name: str, layer: str | None, annotator_options: tuple[str, ...],
    usernames: bool, gold: bool, bom: bool, out_path: str | None,
) -> None:
    """Export a project's annotations, streamed (formats: docs/export-format.md, docs/interop.md).

    Annotators are pseudonymous ids unless --usernames; work under withdrawn assignments is left out.
    """
    from tqdm import tqdm

    from . import exporters
    from .services import exports

    names = _names(annotator_options)
    records = exports.document_records(
        instance.session, SYSTEM, _project_id(instance.session, project_name), secret_key=instance.settings["SECRET_KEY"],
        annotators=names or None, usernames=usernames, gold=gold,
    )
    bar = tqdm(records, total=records.documents, unit="doc", desc="Exporting", disable=None if out_path else True)
    chunks = exporters.stream(format_name, bar, records.codebook, layer=layer, bom=bom)
    if out_path:
        with open(out_path, "wb") as handle:
            handle.writelines(chunks)
        bar.close()
        click.echo(f"Wrote {out_path} ({records.documents} document(s), format {format_name}).", err=True)
    else:
        sys.stdout.buffer.writelines(chunks)


# -- the gold standard ----------------------------------------------------------------------------


@main.group("gold")
def gold_group() -> None:
    """The gold standard: pre-fill it where annotators agree, finish or reopen documents, see how
    far adjudication is."""


@gold_group.command("auto")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--min-agree", type=click.IntRange(min=1), help="Annotators who must agree (default: the project's setting).")
@click.option("--matching", type=click.Choice(["exact", "overlap"]), help="Span matching (default: the project's setting).")
@with_instance()
def gold_auto_command(instance: Instance, project_name: str, min_agree: int | None, matching: str | None) -> None:
    """Pre-fill gold on every document not adjudicated yet where at least --min-agree
    annotators agree (docs/adjudication.md); ties and everything else stay open for a person."""
    from tqdm import tqdm

    from .services import adjudication, projects

    session = instance.session
    project = projects.project_named(session, SYSTEM, project_name)
    total = next(row.documents for row in projects.list_projects(session, SYSTEM) if row.id == project.id)
    with tqdm(total=total, unit="doc", desc="Pre-filling gold", disable=None) as bar:
        counts = adjudication.auto(session, SYSTEM, project.id, min_agree=min_agree, matching=matching,
                                   progress=bar.update)
    rule = counts["settings"]
    click.echo(
        f"Project {project_name!r} (min agree {rule['min_agree']}, {rule['matching']} matching): "
        f"{counts['documents']} document(s) pre-filled with {counts['labels']} label(s), {counts['spans']} span(s), "
        f"{counts['attributions']} attribution(s); {counts['ties']} tie(s) left open; skipped "
        f"{counts['skipped_few_annotators']} with fewer annotators and {counts['skipped_adjudicated']} already adjudicated."
    )


@gold_group.command("status")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@with_instance()
def gold_status_command(instance: Instance, project_name: str, as_json: bool) -> None:
    """How many documents are not started, in progress and adjudicated, and each one's gold."""
    import json

    from .services import adjudication

    result = adjudication.status(instance.session, SYSTEM, _project_id(instance.session, project_name))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for row in result["documents"]:
        gold = row["gold"]
        click.echo(f"{row['document']:>6}  {row['status']:<12} {row['annotators']} annotator(s)  "
                   f"gold: {gold['labels']} label(s), {gold['spans']} span(s), {gold['attributions']} attribution(s)  {row['title']}")
    counts = result["counts"]
    click.echo(f"Adjudicated {counts['adjudicated']}/{counts['total']} ({_percent(counts['adjudicated'], counts['total'])}), "
               f"in progress {counts['in_progress']}, not started {counts['not_started']}.")


def _set_gold_status(instance: Instance, project_name: str, document_ids: tuple[int, ...], note: str | None,
                     change: str) -> None:
    """Run adjudication.finish or .reopen (``change``) on each document of the project, one
    transaction each; print what became of each, and fail naming those that could not."""
    from .services import adjudication

    session = instance.session
    in_project = {row["document"] for row in adjudication.status(session, SYSTEM, _project_id(session, project_name))["documents"]}
    strangers = [str(d) for d in document_ids if d not in in_project]
    if strangers:
        raise click.ClickException(f"no document {', '.join(strangers)} in project {project_name!r}; nothing was changed")
    failed = []
    for document_id in document_ids:
        try:
            result = getattr(adjudication, change)(session, SYSTEM, document_id, note=note)
        except ServiceError as error:
            click.echo(f"Document {document_id}: {error.message}", err=True)
            failed.append(str(document_id))
        else:
            click.echo(f"Document {document_id}: {result['status'].replace('_', ' ')}.")
    if failed:
        raise click.ClickException(f"could not {change} document(s) {', '.join(failed)}")


@gold_group.command("finish")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--note", help="A note kept with each document's adjudication.")
@click.argument("document_ids", metavar="DOCUMENT_ID...", nargs=-1, required=True, type=int)
@with_instance()
def gold_finish_command(instance: Instance, project_name: str, note: str | None, document_ids: tuple[int, ...]) -> None:
    """Mark documents adjudicated (their gold becomes read-only, scored and exported), as the
    adjudication page's "Mark adjudicated" does. Each document must be in progress."""
    _set_gold_status(instance, project_name, document_ids, note, "finish")


@gold_group.command("reopen")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--note", help="A note kept with each document's adjudication (else the note stays).")
@click.argument("document_ids", metavar="DOCUMENT_ID...", nargs=-1, required=True, type=int)
@with_instance()
def gold_reopen_command(instance: Instance, project_name: str, note: str | None, document_ids: tuple[int, ...]) -> None:
    """Make adjudicated documents in progress again, so their gold can change."""
    _set_gold_status(instance, project_name, document_ids, note, "reopen")


# -- suggestions -----------------------------------------------------------------------------------


@main.group("suggest")
def suggest_group() -> None:
    """Suggestions: precompute them on a project's documents, measure them against gold or an
    annotator (docs/suggestions.md)."""


@suggest_group.command("run")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--suggester", "suggester_options", multiple=True,
              help="Only these suggesters, comma-separated or repeated (default: every one).")
@click.option("--documents", "documents_option", help="Only these document ids, comma-separated.")
@with_instance()
def suggest_run_command(instance: Instance, project_name: str, suggester_options: tuple[str, ...],
                        documents_option: str | None) -> None:
    """Compute and store suggestions on the project's documents, replacing what the same
    suggester version stored on them before."""
    from tqdm import tqdm

    from .services import projects, suggestions

    session = instance.session
    project = projects.project_named(session, SYSTEM, project_name)
    documents = _id_list(documents_option)
    total = len(documents) if documents is not None else \
        next(row.documents for row in projects.list_projects(session, SYSTEM) if row.id == project.id)
    with tqdm(total=total, unit="doc", desc="Suggesting", disable=None) as bar:
        result = suggestions.run(session, SYSTEM, project.id, suggesters=_names(suggester_options) or None,
                                 documents=documents, progress=bar.update)
    for row in result["suggesters"]:
        outside = f"; {row['outside_codebook']:,} left out, of layers or labels the codebook lacks" \
            if row["outside_codebook"] else ""
        click.echo(f"{row['suggester']} {row['version']}: {row['suggestions']:,} suggestion(s) on "
                   f"{row['documents']:,} document(s), replacing {row['replaced']:,}{outside}.")


def _score(figure: dict) -> str:
    """A score for the table: 3 decimals, or a dash when it is undefined (never 0)."""
    return "—" if figure["value"] is None else f"{figure['value']:.3f}"


def _print_evaluation(result: dict) -> None:
    from .services.training import HELD_OUT

    held_out = result["against"] == HELD_OUT  # suggestions computed there, not stored
    against = {"gold": "the gold standard", HELD_OUT: "the held-out gold documents"}.get(
        result["against"], f"annotator {result['against']!r}")
    for entry in result["suggesters"]:
        click.echo(f"{entry['suggester']} {entry['version']} against {against}: {result['documents']:,} document(s), "
                   f"suggestions {'' if held_out else 'stored '}on {entry['documents_with_suggestions']:,}.")
        missing = result["documents"] - entry["documents_with_suggestions"]
        if missing:
            click.echo(f"  {missing:,} document(s) have none: " + ("it suggested nothing there." if held_out else
                       "not run there (`annotator suggest run`), or it suggested nothing there."))
        overall = {**entry["overall"], "layer": "overall", "label": "(" + ", ".join(
            label for _, label in entry["overall"]["labels"]) + ")"}
        rows = [*entry["labels"], overall]
        width = max(len(f"{row['layer']} {row['label']}") for row in rows)
        click.echo(f"{'label':<{width}} {'suggested':>9} {'reference':>9}   {'exact P':>7} {'R':>5} {'F1':>5}   "
                   f"{'overlap P':>9} {'R':>5} {'F1':>5}")
        for row in rows:
            exact, overlap = row["exact"], row["overlap"]
            click.echo(f"{row['layer'] + ' ' + row['label']:<{width}} {row['suggested']:>9,} {row['reference']:>9,}   "
                       f"{_score(exact['precision']):>7} {_score(exact['recall']):>5} {_score(exact['f1']):>5}   "
                       f"{_score(overlap['precision']):>9} {_score(overlap['recall']):>5} {_score(overlap['f1']):>5}")
    click.echo("Overlap: a suggestion is correct if it shares a character with a reference span of its label; "
               "— is undefined (no suggestions, or no reference spans).")


@suggest_group.command("design")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--on/--off", "enabled", required=True, help="Whether annotators in the suggestions condition see them.")
@click.option("--control-share", type=float, default=0.2, show_default=True,
              help="The share of each annotator's documents they annotate without suggestions.")
@click.option("--seed", type=int, default=0, show_default=True, help="The seed of the draw: the same seed, the same draw.")
@with_instance()
def suggest_design_command(instance: Instance, project_name: str, enabled: bool, control_share: float, seed: int) -> None:
    """Turn suggestions on or off and draw the half-blind design: each live assignment gets the
    condition "suggestions" or "control" (docs/suggestions.md, "The design")."""
    from .services import suggestions

    result = suggestions.design(instance.session, SYSTEM, _project_id(instance.session, project_name),
                                enabled=enabled, control_share=control_share, seed=seed)
    click.echo(f"{result['project']}: suggestions {'on' if enabled else 'off'}, control share {control_share:g}, "
               f"seed {seed}.")
    for condition, count in result["conditions"].items():
        click.echo(f"  {condition}: {count:,} assignment(s)")


def _shown(figure: dict, digits: int = 3) -> str:
    """A figure of the anchoring report: its value, or — and why it has none (never 0)."""
    return f"{figure['value']:.{digits}f}" if figure["value"] is not None else f"— ({figure['undefined']})"


ANCHORING_ROWS = (("wrong_adopted", "suggestions gold rejects, adopted"), ("f1_against_gold", "span F1 against gold"),
                  ("f1_between_annotators", "span F1 between annotators"), ("token_alpha", "token alpha"),
                  ("seconds_per_sentence", "seconds per sentence"))


@suggest_group.command("report")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@with_instance()
def suggest_report_command(instance: Instance, project_name: str, output_format: str) -> None:
    """The anchoring report: what seeing suggestions changed, suggestions against control
    (docs/suggestions.md, "Reading the anchoring report")."""
    import csv
    import io
    import json

    from .services import suggestions

    result = suggestions.anchoring_report(instance.session, SYSTEM, _project_id(instance.session, project_name))
    if output_format == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if output_format == "csv":
        table = io.StringIO()
        writer = csv.writer(table)
        writer.writerow(["figure", "suggestions", "control", "difference", "low", "high", "undefined"])
        for key, _ in ANCHORING_ROWS:
            row = result[key]
            writer.writerow([key, row["suggestions"]["value"], row["control"]["value"], row["difference"]["value"],
                             row["difference"]["low"], row["difference"]["high"],
                             row["difference"]["undefined"] or row["difference"]["interval_undefined"] or ""])
        click.echo(table.getvalue(), nl=False)
        return
    counts = ", ".join(f"{condition} {count:,}" for condition, count in result["assignments"].items())
    click.echo(f"{result['project']}: assignments {counts}; {result['adjudicated_documents']:,} adjudicated document(s).")
    for key, title in ANCHORING_ROWS:
        row, difference = result[key], result[key]["difference"]
        interval = (f"[{difference['low']:.3f}, {difference['high']:.3f}]" if difference["low"] is not None
                    else f"no interval ({difference['interval_undefined'] or difference['undefined']})")
        click.echo(f"{title}: suggestions {_shown(row['suggestions'])}, control {_shown(row['control'])}, "
                   f"difference {_shown(difference)} {interval}{' *' if row['detected'] else ''}")
    click.echo(f"suggestions gold rejects, accepted: {_shown(result['wrong_accepted'])}")
    for row in result["acceptance"]:
        click.echo(f"accepted: {row['suggester']} {row['version']} {row['layer']} {row['label']}: {_shown(row['rate'])}")
    click.echo("* the 95% interval of the difference (bootstrap over documents) excludes 0.")


@suggest_group.command("evaluate")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--suggester", help="Only this suggester (default: every one).")
@click.option("--against", default="gold", show_default=True,
              help="gold (the adjudicated documents' gold standard) or an annotator's user name (their done documents).")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_instance()
def suggest_evaluate_command(instance: Instance, project_name: str, suggester: str | None, against: str,
                             output_format: str) -> None:
    """Precision, recall and F1 of the stored suggestions per label, exact and overlap."""
    import json

    from .services import suggestions

    result = suggestions.evaluate(instance.session, SYSTEM, _project_id(instance.session, project_name),
                                  suggester=suggester, against=against)
    if output_format == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_evaluation(result)


@suggest_group.command("train")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--held-out", "held_out", type=float, default=0.2, show_default=True,
              help="The share of the gold documents held out of training, to measure the model on.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The seed of the split: the same seed and gold, the same held-out documents.")
@with_instance()
def suggest_train_command(instance: Instance, project_name: str, held_out: float, seed: int) -> None:
    """Train the learned suggester on the project's gold standard and accepted suggestions,
    measure it and the rules on held-out gold documents, and store it disabled
    (docs/suggestions.md, "The learned suggester")."""
    import shlex

    from tqdm import tqdm

    from .services import training
    from .suggest.learned import MAX_ITERATIONS

    bars: dict = {}

    def progress(layer: str, iteration: int) -> None:
        if layer not in bars:
            bars[layer] = tqdm(total=MAX_ITERATIONS, unit="it", desc=f"Training {layer}", disable=None)
        bars[layer].update(iteration - bars[layer].n)

    try:
        model = training.train(instance.session, SYSTEM, _project_id(instance.session, project_name),
                               held_out_share=held_out, seed=seed, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    trained, held = model["figures"]["training"], model["figures"]["held_out"]
    accepted = f" and the accepted suggestions of {trained['accepted_sentences']:,} sentence(s) in " \
               f"{trained['accepted_documents']:,} other document(s)" if trained["accepted_sentences"] else ""
    click.echo(f"Model {model['id']}, {model['suggester']} {model['version']}: trained on the gold standard of "
               f"{trained['gold_documents']:,} document(s){accepted}, {model['sentences']:,} sentence(s) in all; "
               f"{len(held['documents']):,} gold document(s) held out (seed {held['seed']}).")
    _print_evaluation(model["figures"]["evaluation"])
    project = shlex.quote(project_name)
    click.echo(f"Stored disabled. To use it: annotator suggest enable --project {project} --model {model['id']}, "
               f"then annotator suggest run --project {project} --suggester {model['suggester']}")


def _held_out_f1(model: dict) -> str:
    """Each suggester's overall exact / overlap F1 on the model's held-out documents."""
    return "; ".join(f"{entry['suggester']} {_score(entry['overall']['exact']['f1'])} / "
                     f"{_score(entry['overall']['overlap']['f1'])}"
                     for entry in model["figures"]["evaluation"]["suggesters"])


@suggest_group.command("models")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_instance()
def suggest_models_command(instance: Instance, project_name: str, output_format: str) -> None:
    """The project's trained models, newest first: what each was trained on, its held-out
    figures beside the rules', and which is enabled."""
    import json

    from .services import training

    rows = training.models(instance.session, SYSTEM, _project_id(instance.session, project_name))
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"No trained model in project {project_name!r}: `annotator suggest train` makes one.")
        return
    for row in rows:
        click.echo(f"model {row['id']}: {row['suggester']} {row['version']}{'  ENABLED' if row['enabled'] else ''}, "
                   f"trained {row['trained_at'][:16].replace('T', ' ')} UTC "
                   f"by {row['trained_by'] or 'the command line'} "
                   f"on {row['documents']:,} document(s), {row['sentences']:,} sentence(s); held-out "
                   f"({len(row['figures']['held_out']['documents']):,} document(s)) overall F1 exact / overlap: "
                   f"{_held_out_f1(row)}")


@suggest_group.command("enable")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--model", "model_id", type=int, required=True,
              help="The model's id, as `annotator suggest models` lists it.")
@with_instance()
def suggest_enable_command(instance: Instance, project_name: str, model_id: int) -> None:
    """Make a trained model the project's learned suggester (the one enabled before is disabled)."""
    import shlex

    from .services import training

    result = training.enable(instance.session, SYSTEM, _project_id(instance.session, project_name), model_id)
    enabled, disabled = result["enabled"], result["disabled"]
    replaced = f"; model {disabled['id']} ({disabled['suggester']} {disabled['version']}) disabled" if disabled else ""
    click.echo(f"Model {enabled['id']} ({enabled['suggester']} {enabled['version']}) enabled in project "
               f"{project_name!r}{replaced}. Store its suggestions: annotator suggest run --project "
               f"{shlex.quote(project_name)} --suggester {enabled['suggester']}")


@suggest_group.command("disable")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@with_instance()
def suggest_disable_command(instance: Instance, project_name: str) -> None:
    """Leave the project without a learned suggester: its suggestions leave the page (they stay stored)."""
    from .services import training

    disabled = training.disable(instance.session, SYSTEM, _project_id(instance.session, project_name))["disabled"]
    if disabled is None:
        click.echo(f"No learned model was enabled in project {project_name!r}.")
    else:
        click.echo(f"Model {disabled['id']} ({disabled['suggester']} {disabled['version']}) disabled in project "
                   f"{project_name!r}.")
