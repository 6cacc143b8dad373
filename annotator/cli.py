"""The ``annotator`` command: database setup, imports, accounts, serving.

It must start fast: only click is imported here. Each command imports the app, the services
and the heavy libraries (numpy, alembic, the web layer) it uses when it runs, so
`annotator --help` and `annotator users list` pay for none of what they do not use.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence

import click

from .errors import ServiceError

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


def with_app(command=None, *, web: Callable[[dict], bool] = lambda _options: False):
    """Run the command inside an app context: the app of `FlaskCliRunner` in tests, else one
    made from the environment (ANNOTATOR_*), with the web layer only if ``web(options)`` says
    the command will serve pages."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            from flask.cli import ScriptInfo

            info = click.get_current_context().find_object(ScriptInfo)
            if info is not None:
                app = info.load_app()
            else:
                from .app import create_app

                app = create_app(web=web(kwargs))
            with app.app_context():
                return function(*args, **kwargs)

        return run

    return decorate(command) if command is not None else decorate


@click.group()
def main() -> None:
    """Annotate attribution, loaded language and claim types in news articles.

    Settings come from the environment: ANNOTATOR_DATABASE_URL, ANNOTATOR_SECRET_KEY,
    ANNOTATOR_INSTANCE, ANNOTATOR_MAX_IMPORT_BYTES, ANNOTATOR_MAX_SENTENCES (see README.md).
    """


def _database_label() -> str:
    from flask import current_app
    from sqlalchemy.engine import make_url

    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(
        hide_password=True
    )


def _session():
    """The database session, once the schema is known to be current (else a clear error)."""
    from . import migrate
    from .db import db

    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    if current != head:
        raise click.ClickException(
            f"the database {_database_label()} is at revision {current or 'none'}, "
            f"not {head}: run `annotator init` first"
        )
    return db.session


def _fail(error: ServiceError) -> None:
    raise click.ClickException(error.message)


def _names(values: Sequence[str]) -> list[str]:
    """User names given comma-separated, or repeating the option, or both."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


@main.command("init")
@with_app
def init_command() -> None:
    """Create or upgrade the database schema (Alembic upgrade head)."""
    from . import migrate
    from .db import db

    migrate.upgrade(db.engine)
    click.echo(f"Database {_database_label()} is at revision {migrate.current_revision(db.engine)}.")


def _import(paths: list[str], project_name: str, max_bytes: int, max_sentences: int, encoding: str | None = None) -> None:
    from tqdm import tqdm

    from . import projects
    from .db import db
    from .documents import import_articles
    from .ingest import Article, EncodingNeeded, IngestError, read_paths

    results = read_paths(paths, max_bytes=max_bytes, max_sentences=max_sentences, encoding=encoding)
    errors = [result for result in results if isinstance(result, IngestError)]
    articles = [result for result in results if isinstance(result, Article)]
    if errors:
        for error in errors:
            shown = error.message("with --encoding NAME") if isinstance(error, EncodingNeeded) else error
            click.echo(f"error: {shown}", err=True)
        raise click.ClickException(
            f"{len(errors)} input(s) could not be read; nothing was imported"
        )
    project = projects.get_or_create_project(db.session, project_name)
    db.session.commit()
    with tqdm(total=len(articles), unit="doc", desc="Importing", disable=None) as bar:
        summary = import_articles(db.session, project, articles, on_progress=lambda _: bar.update())
    click.echo(
        f"Project {project_name!r}: imported {len(summary.imported)} document(s) "
        f"({summary.sentences} sentences), skipped {len(summary.skipped)} already present."
    )


def _encoding_option(_context, _parameter, value: str | None) -> str | None:
    """--encoding: a text encoding Python knows, or a usage error."""
    if value is None:
        return None
    from .ingest import check_encoding

    try:
        check_encoding(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return value


@main.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--max-bytes", type=int, help="Largest file accepted (default 5 MB, or ANNOTATOR_MAX_IMPORT_BYTES).")
@click.option("--max-sentences", type=click.IntRange(min=1),
              help="Most sentences per document (default ANNOTATOR_MAX_SENTENCES, see README.md).")
@click.option("--encoding", callback=_encoding_option,
              help="The files' encoding when they are not UTF-8, e.g. windows-1256 (Arabic), windows-1252 "
                   "(Western European), iso-8859-8 (Hebrew), shift_jis (Japanese), utf-16-le.")
@with_app
def import_command(
    paths: tuple[str, ...], project_name: str, max_bytes: int | None, max_sentences: int | None, encoding: str | None,
) -> None:
    """Import articles from .txt, .html and .jsonl files or folders of them.

    Every input is read and checked first; if any is invalid, nothing is imported.
    Without --encoding a file must be UTF-8, start with a byte-order mark (UTF-16, UTF-32)
    or, for HTML, declare its charset; with it, every file is read in that encoding.
    """
    from flask import current_app

    _session()
    _import(list(paths), project_name, max_bytes or current_app.config["MAX_IMPORT_BYTES"],
            max_sentences or current_app.config["MAX_SENTENCES"], encoding)


def _reject(problems: list) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    raise click.ClickException(f"{len(problems)} problem(s); nothing was imported")


@main.command("import-annotations")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--project", "project_name", required=True, help="An existing project (`annotator project create`).")
@click.option("--format", "input_format", type=LazyChoice(_annotation_formats), required=True)
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False), help="Label mapping (TOML or JSON) for doccano and Label Studio files.")
@click.option("--annotator", "annotator_name", help="Who made annotations the file does not attribute to anyone.")
@click.option("--replace", is_flag=True, help="Delete an annotator's existing annotations of a document first.")
@with_app
def import_annotations_command(
    path: str, project_name: str, input_format: str, mapping_path: str | None, annotator_name: str | None, replace: bool,
) -> None:
    """Import annotations from this project's JSONL, doccano JSONL or Label Studio JSON.

    Everything is checked first (offsets against the text, labels against the codebook);
    every problem is printed as FILE:LINE: message and, if there is any, nothing is written.
    See docs/interop.md.
    """
    from . import projects
    from .annotations import project_codebook
    from .ingest import IngestError
    from .ingest.annotations import load_mapping, read_annotation_file
    from .interop_import import ImportRejected, import_annotations

    session = _session()
    try:
        project = projects.get_project(session, project_name)
    except ServiceError as error:
        _fail(error)
    mapping = load_mapping(mapping_path) if mapping_path else None
    if isinstance(mapping, list):
        _reject(mapping)
    read = read_annotation_file(path, input_format, mapping, codebook=project_codebook(project), annotator=annotator_name)
    records = [item for item in read if not isinstance(item, IngestError)]
    try:
        summary = import_annotations(
            session, None, project.id, records, source=path, replace=replace,
            read_problems=[item for item in read if isinstance(item, IngestError)],
        )
    except ImportRejected as error:
        _reject(error.problems)
    except ServiceError as error:
        _fail(error)
    created = f", created {len(summary.annotators_created)} inactive account(s): {', '.join(summary.annotators_created)}" if summary.annotators_created else ""
    click.echo(
        f"Project {project_name!r}: imported {summary.spans} span(s), {summary.attributions} attribution(s) and "
        f"{summary.sentence_labels} sentence label(s) of {summary.entries} document-annotator pair(s) "
        f"({summary.documents_created} new document(s), {summary.documents_matched} matched; "
        f"{summary.replaced} replaced){created}."
    )


@main.group("project")
def project_group() -> None:
    """Manage projects and their codebooks."""


@project_group.command("create")
@click.argument("name")
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False), help="A TOML or JSON codebook; the default codebook if omitted.")
@with_app
def project_create(name: str, codebook_path: str | None) -> None:
    """Create a project with a codebook, validated on load."""
    from . import projects
    from .codebook import CodebookError, load_codebook

    session = _session()
    try:
        codebook = load_codebook(codebook_path) if codebook_path else None
    except CodebookError as error:
        raise click.ClickException(f"the codebook is invalid:\n{error}") from error
    try:
        project = projects.create_project(session, name, codebook)
    except ServiceError as error:
        _fail(error)
    session.commit()
    click.echo(f"Created project {project.name!r} with codebook {project.codebook['name']!r} version {project.codebook_version}.")


@project_group.command("list")
@with_app
def project_list() -> None:
    """List projects with their numbers."""
    from . import projects

    session = _session()
    rows = projects.project_counts(session)
    if not rows:
        click.echo("No projects yet: `annotator project create NAME` or `annotator import PATH --project NAME`.")
        return
    click.echo(f"{'project':<24} {'codebook':<24} {'documents':>9} {'sentences':>9}")
    for row in rows:
        click.echo(f"{row.name:<24} {row.codebook:<24} {row.documents:>9} {row.sentences:>9}")


@project_group.command("show")
@click.argument("name", default=DEFAULT_PROJECT)
@click.option("--json", "as_json", is_flag=True, help="Print the codebook as JSON.")
@with_app
def project_show(name: str, as_json: bool) -> None:
    """Show a project's codebook: layers, labels, values and hotkeys."""
    from . import projects
    from .codebook import codebook_from_dict

    session = _session()
    try:
        project = projects.get_project(session, name)
    except ServiceError as error:
        _fail(error)
    codebook = codebook_from_dict(project.codebook)
    if as_json:
        click.echo(json.dumps(project.codebook, indent=2, ensure_ascii=False))
        return
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


@main.group("users")
def users_group() -> None:
    """Manage accounts."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=LazyChoice(_roles), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_app
def users_add(username: str, role: str, password_stdin: bool) -> None:
    """Create an account; without --password-stdin a strong password is generated and printed once."""
    from . import users

    session = _session()
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        user, generated = users.create_user(session, username, role, password)
    except ServiceError as error:
        _fail(error)
    session.commit()
    click.echo(f"Created {user.role} {user.username!r}.")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@users_group.command("list")
@with_app
def users_list() -> None:
    """List accounts."""
    from sqlalchemy import select

    from .models import User

    session = _session()
    rows = session.scalars(select(User).order_by(User.username)).all()
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
@with_app
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a password (generated and printed once unless --password-stdin)."""
    from . import users

    session = _session()
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else users.generate_password()
    try:
        users.set_password(session, users.get_user(session, username), password)
    except ServiceError as error:
        _fail(error)
    session.commit()
    click.echo(f"Password of {username!r} changed.")
    if not password_stdin:
        click.echo(f"Password (shown once): {password}")


@users_group.command("deactivate")
@click.argument("username")
@with_app
def users_deactivate(username: str) -> None:
    """Stop an account from logging in; its annotations stay."""
    from . import users

    session = _session()
    try:
        users.deactivate(session, users.get_user(session, username))
    except ServiceError as error:
        _fail(error)
    session.commit()
    click.echo(f"{username!r} can no longer log in.")


def _assign(project_name: str, usernames: list[str], document_ids: list[int]) -> int:
    from sqlalchemy import select

    from . import assignments, projects, users
    from .db import db
    from .models import Document

    project = projects.get_project(db.session, project_name)
    query = select(Document).where(Document.project_id == project.id).order_by(Document.id)
    if document_ids:
        query = query.where(Document.id.in_(document_ids))
    documents = db.session.scalars(query).all()
    missing = set(document_ids) - {document.id for document in documents}
    if missing:
        raise ServiceError(f"no document {', '.join(map(str, sorted(missing)))} in project {project_name!r}")
    created = 0
    for username in usernames:
        created += len(assignments.assign(db.session, users.get_user(db.session, username), documents))
    db.session.commit()
    return created


def _print_loads(loads: list) -> None:
    width = max([len("annotator"), *(len(load.user.username) for load in loads)])
    click.echo(f"{'annotator':<{width}} {'documents':>9} {'sentences':>9} {'new':>5}")
    for load in loads:
        click.echo(f"{load.user.username:<{width}} {load.documents:>9} {load.sentences:>9} {load.new_documents:>5}")


def _auto_assign(project_name: str, per_document: int, seed: int, calibration: int, names: list[str]) -> None:
    from . import assignments, projects, users
    from .db import db

    project = projects.get_project(db.session, project_name)
    chosen = [users.get_user(db.session, name) for name in names] or None
    result = assignments.auto_assign(
        db.session, project, per_document, seed=seed, calibration=calibration, annotators=chosen
    )
    db.session.commit()
    _print_loads(result.loads)
    click.echo(f"{len(result.created)} new assignment(s), {per_document} annotator(s) per document, seed {seed}.")
    if result.calibration:
        click.echo(f"Calibration documents (every annotator): {', '.join(str(d.id) for d in result.calibration)}")
    if result.short:
        click.echo(f"Still below {per_document} annotators (too few left who were not withdrawn from them): "
                   f"{', '.join(str(d.id) for d in result.short)}")


@main.command("assign")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--user", "user_options", multiple=True, help="By hand: annotators, comma-separated or repeated.")
@click.option("--document", "document_ids", multiple=True, type=int, help="By hand: document id; all of the project's if omitted.")
@click.option("--per-document", type=int, help="Automatic: give each document to K annotators, balancing sentences.")
@click.option("--seed", type=int, help="Automatic: same seed and inputs, same assignment (default 0).")
@click.option("--calibration", type=int, default=0, show_default=True, help="Automatic: N documents every annotator gets.")
@click.option("--annotator", "annotator_options", multiple=True, help="Automatic: only these, comma-separated or repeated (default: every active annotator).")
@with_app
def assign_command(
    project_name: str, user_options: tuple[str, ...], document_ids: tuple[int, ...], per_document: int | None,
    seed: int | None, calibration: int, annotator_options: tuple[str, ...],
) -> None:
    """Assign documents of a project to annotators, by hand or automatically.

    By hand: --user NAME[,NAME...] [--document ID...]; already assigned documents are left as
    they are. Automatically: --per-document K [--seed S] [--calibration N] [--annotator NAME...]; run it
    again when annotators join: documents below K are topped up, newcomers get the calibration
    documents, and nothing already assigned moves (docs/supervision.md).
    """
    from . import assignments, projects, users

    session = _session()
    usernames, annotator_names = _names(user_options), _names(annotator_options)
    automatic = per_document is not None
    if automatic and (usernames or document_ids):
        raise click.UsageError("choose one mode: --user/--document (by hand) or --per-document (automatic), not both")
    if not automatic and (annotator_names or calibration or seed is not None):
        raise click.UsageError("--seed, --calibration and --annotator go with --per-document (automatic mode)")
    if not automatic and not usernames:
        raise click.UsageError("say whom to assign: --user NAME[,NAME...] (by hand) or --per-document K (automatic)")
    try:
        if automatic:
            _auto_assign(project_name, per_document, seed or 0, calibration, annotator_names)
            return
        created = _assign(project_name, usernames, list(document_ids))
        project = projects.get_project(session, project_name)
        _print_loads(assignments.loads_of(session, project, [users.get_user(session, n) for n in usernames]))
    except ServiceError as error:
        _fail(error)
    click.echo(f"{created} new assignment(s).")


@main.command("progress")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@with_app
def progress_command(project_name: str) -> None:
    """Show how far each annotator of a project is, and the overall completion."""
    from . import progress, projects

    session = _session()
    try:
        report = progress.project_progress(session, projects.get_project(session, project_name).id, actor=None)
    except ServiceError as error:
        _fail(error)
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


def _serve(host: str, port: int, threads: int) -> None:
    from flask import current_app
    from waitress import serve

    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
    serve(current_app._get_current_object(), host=host, port=port, threads=threads, ident="annotator")


def _serve_options(command):
    command = click.option("--threads", default=16, show_default=True, help="Worker threads.")(command)
    command = click.option("--port", default=5000, show_default=True)(command)
    return click.option("--host", default="127.0.0.1", show_default=True)(command)


@main.command("serve")
@_serve_options
@with_app(web=lambda _options: True)
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the app with the production WSGI server (waitress)."""
    _session()
    _serve(host, port, threads)


@main.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The backup file to write.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@with_app
def backup_command(out: str, force: bool) -> None:
    """A consistent copy of the whole database, taken while the app serves (SQLite: its
    online backup API; PostgreSQL: pg_dump)."""
    from . import backup
    from .db import db

    try:
        result = backup.backup(db.engine, out, overwrite=force)
    except ServiceError as error:
        _fail(error)
    click.echo(f"backed up {_database_label()} to {result.path} ({result.size:,} bytes, {result.method})")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_app
def restore_command(file: str, force: bool) -> None:
    """Replace the database with a backup made by `annotator backup`; stop the app first."""
    from . import backup, migrate
    from .db import db

    try:
        backup.restore(db.engine, file, force=force)
    except ServiceError as error:
        _fail(error)
    click.echo(f"restored {file} into {_database_label()} (schema at {migrate.head_revision()})")


@main.command("quickstart")
@_serve_options
@click.option("--no-serve", is_flag=True, help="Set everything up, then exit.")
@with_app(web=lambda options: not options["no_serve"])
def quickstart_command(host: str, port: int, threads: int, no_serve: bool) -> None:
    """Init the database, import seeds/, create demo accounts, and serve.

    Safe to run again: existing data and accounts are kept, nothing is duplicated.
    """
    from flask import current_app
    from sqlalchemy import func, select

    from . import migrate, users
    from .db import db
    from .models import Document, User
    from .paths import resource_dir

    migrate.upgrade(db.engine)
    click.echo(f"Database: {_database_label()}")
    _import([str(resource_dir("seeds"))], DEFAULT_PROJECT, current_app.config["MAX_IMPORT_BYTES"],
            current_app.config["MAX_SENTENCES"])
    for username, role in DEMO_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.username == username)) is not None:
            click.echo(f"Account {username!r} ({role}) exists; reset with `annotator users set-password {username}`.")
            continue
        user, password = users.create_user(db.session, username, role)
        db.session.commit()
        click.echo(f"Account {username!r} ({role}) password (shown once): {password}")
    annotators = [username for username, role in DEMO_ACCOUNTS if role == "annotator"]
    created = _assign(DEFAULT_PROJECT, annotators, [])
    documents = db.session.scalar(select(func.count(Document.id)))
    click.echo(f"{documents} document(s) in the database; {created} new assignment(s) for {', '.join(annotators)}.")
    if not no_serve:
        _serve(host, port, threads)


def _id_list(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of document ids", param_hint="--documents") from None


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
@with_app
def report_command(
    project_name: str, output_format: str, out_path: str | None, documents_option: str | None,
    annotator_options: tuple[str, ...], since_option: str | None, replicates: int | None, seed: int | None,
    usernames: bool,
) -> None:
    """Inter-annotator agreement report of a project as JSON, HTML or CSV (docs/report-format.md).

    Annotators are named by pseudonym, as in the exports, unless --usernames.
    """
    import datetime as dt
    import time

    from flask import current_app

    from . import projects, users
    from . import report as reporting

    session = _session()
    since = None
    if since_option:
        try:
            since = dt.date.fromisoformat(since_option)
        except ValueError:
            raise click.BadParameter(f"{since_option!r} is not a date YYYY-MM-DD", param_hint="--since") from None
    documents = _id_list(documents_option)
    annotator_ids = None
    try:
        project = projects.get_project(session, project_name)
        if annotator_options:
            annotator_ids = [users.get_user(session, name).id for name in _names(annotator_options)]
        started = time.perf_counter()
        click.echo(f"Computing the agreement report of project {project_name!r}...", err=True)
        bootstrap = {name: value for name, value in (("replicates", replicates), ("seed", seed)) if value is not None}
        body = reporting.build_report(
            session, None, project.id, documents=documents, annotators=annotator_ids, since=since, **bootstrap,
        )
        names = reporting.annotator_names(body, secret_key=current_app.config["SECRET_KEY"], usernames=usernames)
    except ServiceError as error:
        _fail(error)
    if output_format == "json":
        text = reporting.report_json(body, names)
    elif output_format == "csv":
        text = "".join(reporting.report_csv(body, names))
    else:
        text = reporting.report_html(body, names)
    if out_path:
        with open(out_path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"Wrote {out_path} ({time.perf_counter() - started:.1f} s).", err=True)
    else:
        click.echo(text, nl=False)
        click.echo(f"Done in {time.perf_counter() - started:.1f} s.", err=True)


@main.command("export")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--format", "format_name", type=LazyChoice(_export_formats), required=True)
@click.option("--layer", help="csv: only this span layer; sentences-csv: only this sentence layer.")
@click.option("--annotators", "annotator_options", multiple=True, help="Only these (user names): comma-separated or repeated.")
@click.option("--usernames", is_flag=True, help="Name annotators by user name instead of by pseudonym.")
@click.option("--gold", is_flag=True, help="Export the gold standard (adjudicated documents) instead, as annotator gold.")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark (for Excel).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
@with_app
def export_command(
    project_name: str, format_name: str, layer: str | None, annotator_options: tuple[str, ...], usernames: bool,
    gold: bool, bom: bool, out_path: str | None,
) -> None:
    """Export a project's annotations, streamed (formats: docs/export-format.md, docs/interop.md).

    Annotators are pseudonymous ids unless --usernames; work under withdrawn assignments is left out.
    """
    from flask import current_app
    from tqdm import tqdm

    from . import exporters, exports, projects

    session = _session()
    names = _names(annotator_options)
    try:
        project = projects.get_project(session, project_name)
        records = exports.document_records(
            session, None, project.id, secret_key=current_app.config["SECRET_KEY"],
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
    except ServiceError as error:
        _fail(error)


@main.group("gold")
def gold_group() -> None:
    """The gold standard: pre-fill it where annotators agree, see how far adjudication is."""


@gold_group.command("auto")
@click.option("--project", "project_name", default=DEFAULT_PROJECT, show_default=True)
@click.option("--min-agree", type=click.IntRange(min=1), help="Annotators who must agree (default: the project's setting).")
@click.option("--matching", type=click.Choice(["exact", "overlap"]), help="Span matching (default: the project's setting).")
@with_app
def gold_auto_command(project_name: str, min_agree: int | None, matching: str | None) -> None:
    """Pre-fill gold on every document not adjudicated yet where at least --min-agree
    annotators agree (docs/adjudication.md); ties and everything else stay open for a person."""
    from sqlalchemy import func, select
    from tqdm import tqdm

    from . import adjudication, projects
    from .models import Document

    session = _session()
    try:
        project = projects.get_project(session, project_name)
        total = session.scalar(select(func.count(Document.id)).where(Document.project_id == project.id))
        with tqdm(total=total, unit="doc", desc="Pre-filling gold", disable=None) as bar:
            counts = adjudication.auto(session, None, project.id, min_agree=min_agree, matching=matching,
                                       progress=bar.update)
    except ServiceError as error:
        _fail(error)
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
@with_app
def gold_status_command(project_name: str, as_json: bool) -> None:
    """How many documents are not started, in progress and adjudicated, and each one's gold."""
    from . import adjudication, projects

    session = _session()
    try:
        result = adjudication.status(session, None, projects.get_project(session, project_name).id)
    except ServiceError as error:
        _fail(error)
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
