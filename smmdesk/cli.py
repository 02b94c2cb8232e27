"""The `smmdesk` command. Django is set up lazily so `--help` and `--version` work without configuration."""

from __future__ import annotations

import os
import sys

import click

from smmdesk import __version__

EXIT_CONFIG = 2


def setup_django():
    """Load settings; a bad environment ends here with one line per bad variable."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smmdesk.settings")
    from smmdesk.lib.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"smmdesk: configuration error: {problem}", err=True)
        sys.exit(EXIT_CONFIG)


def require_reachable():
    from smmdesk.lib import health

    problems = [p for p in (health.check_database(), health.check_queue()) if p]
    for problem in problems:
        click.echo(f"smmdesk: {problem}", err=True)
    if problems:
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smmdesk")
def main():
    """smmdesk: a self-hosted social-media manager for small businesses."""


@main.command()
def check():
    """Check configuration, database and queue; one line per problem."""
    setup_django()
    from django.core import checks as django_checks

    from smmdesk.lib import health

    problems = [p for p in (health.check_database(), health.check_queue()) if p]
    for message in django_checks.run_checks(include_deployment_checks=False):
        if message.is_serious():
            problems.append(f"{message.id}: {message.msg}")
    if problems:
        for problem in problems:
            click.echo(f"smmdesk: {problem}", err=True)
        sys.exit(1)
    from django.conf import settings

    queue = "redis" if settings.REDIS_URL else "sqlite"
    click.echo(
        f"ok: database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, queue {queue}, "
        f"data dir {settings.DATA_DIR}"
    )


@main.command()
def migrate():
    """Create or update the database schema."""
    setup_django()
    require_database()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


def require_database():
    from smmdesk.lib import health

    problem = health.check_database()
    if problem:
        click.echo(f"smmdesk: {problem}", err=True)
        sys.exit(1)


def file_import_inputs(file: str, mapping_json: str | None, slug: str, refuse):
    """The common start of a file import command: the --mapping JSON, the file, Django, the database and
    the workspace; `refuse(message)` ends the command (exit 2) on the first problem. Returns (workspace,
    mapping or None)."""
    import json

    mapping = None
    if mapping_json is not None:
        try:
            mapping = json.loads(mapping_json)
        except ValueError as exc:
            refuse(f"--mapping is not JSON: {exc}")
        if not isinstance(mapping, dict):
            refuse('--mapping must be a JSON object: {"field": "header name" or column index}')
    if not os.path.isfile(file):
        refuse(f"no such file: {file}")
    setup_django()
    require_database()
    from smmdesk.accounts.models import Workspace

    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        refuse(f"no workspace {slug!r}")
    return workspace, mapping


@main.command()
def demo():
    """Load the demo workspaces (idempotent) and print the demo logins."""
    setup_django()
    require_database()
    from smmdesk.core import demo as demo_data

    for line in demo_data.load():
        click.echo(line)


@main.command()
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="")
@click.option("--superuser", is_flag=True, help="May open the admin (if also an owner of a workspace).")
@click.option("--workspace", "workspace_slug", default="", help="Add the user to this workspace (slug).")
@click.option(
    "--role",
    default="owner",
    show_default=True,
    type=click.Choice(["owner", "smm_manager", "content_manager", "agent", "viewer"]),
)
def createuser(email, password, name, superuser, workspace_slug, role):
    """Create a user, optionally as a member of a workspace."""
    setup_django()
    require_database()
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from smmdesk.accounts import actions
    from smmdesk.accounts.models import Workspace

    try:
        validate_email(email)
    except ValidationError:
        raise click.BadParameter("not a valid e-mail address", param_hint="--email")
    workspace = None
    if workspace_slug:
        workspace = Workspace.objects.filter(slug=workspace_slug).first()
        if workspace is None:
            raise click.BadParameter(f"no workspace {workspace_slug!r}", param_hint="--workspace")
    try:
        user = actions.create_user(email, password, name=name, superuser=superuser)
    except actions.ActionError as exc:
        raise click.ClickException(f"--email: {exc.message}")
    if workspace is not None:
        actions.add_member(workspace, user, role)
    click.echo(f"created {user.email}")


def _keep_sqlite_connections():
    """Worker threads keep their SQLite connection from task to task. Huey's db_task closes connections
    older than CONN_MAX_AGE after every task, and SQLite's is 0: reopening the file and setting its
    pragmas costs more than a short task itself. A file has no server to drop an idle connection."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database["CONN_MAX_AGE"] = None


def _consumer(workers: int, periodic: bool = True):
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    # Each app's tasks module registers its tasks when imported; nothing else imports them in a worker
    # (Huey's own run_huey command does the same), and a task the consumer does not know is dropped.
    autodiscover_modules("tasks")
    _keep_sqlite_connections()
    from smmdesk.nlp.lemmas import lemma
    from smmdesk.nlp.triage import classify_many

    # The Russian dictionaries, the language detector and the sentiment model load on first use (several
    # seconds); load them now, not inside the first message's write transaction, which on SQLite would
    # hold the database's write lock meanwhile.
    lemma("сообщение")
    classify_many(["Добрый день", "Dobrý deň", "Good morning"], ("ru", "sk", "en"))

    # A short idle poll keeps webhook-to-inbox under a second on the SQLite queue (RedisHuey blocks on
    # the list instead, so the delay does not apply there).
    return HUEY.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=periodic,
        check_worker_health=True,
        initial_delay=0.1,
        backoff=1.15,
        max_delay=0.5,
    )


def _uvicorn(host: str, port: int, workers: int = 1):
    import uvicorn

    uvicorn.run(
        "smmdesk.asgi:application",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        lifespan="off",
        # Open pages hold live-update streams for minutes; a stop must not wait for them (the pages
        # reconnect to whichever process answers next).
        timeout_graceful_shutdown=3,
    )


@main.command()
@click.option(
    "--workers", default=2, show_default=True, help="Worker threads of the embedded queue consumer."
)
def serve(workers):
    """Web and an embedded worker in one process: the one-machine mode."""
    setup_django()
    require_reachable()
    from django.conf import settings

    consumer = _consumer(workers)
    # uvicorn owns the process's signals; the embedded consumer only runs its threads.
    consumer._set_signal_handlers = lambda: None
    consumer.start()
    click.echo(
        f"smmdesk {__version__} on http://{settings.SMMDESK_HOST}:{settings.SMMDESK_PORT} "
        f"(web + worker, data dir {settings.DATA_DIR})"
    )
    try:
        _uvicorn(settings.SMMDESK_HOST, settings.SMMDESK_PORT)
    finally:
        consumer.stop(graceful=True)


@main.command()
@click.option("--workers", default=1, show_default=True, help="Web processes.")
def web(workers):
    """Only the web server, for running behind a load balancer."""
    setup_django()
    require_reachable()
    from django.conf import settings

    _uvicorn(settings.SMMDESK_HOST, settings.SMMDESK_PORT, workers=workers)


@main.command()
@click.option("--workers", default=4, show_default=True, help="Worker threads.")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Schedule periodic tasks. With several workers, leave it on for exactly one of them.",
)
def worker(workers, periodic):
    """Only a queue worker; run any number of them against one Redis."""
    setup_django()
    require_reachable()
    _consumer(workers, periodic).run()


@main.command("mail-in")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=click.IntRange(1, 65535))
def mail_in(host, port):
    """Receive departments' e-mail replies to hand-offs (SMTP); point the reply domain's MX here."""
    setup_django()
    require_database()
    from smmdesk.inbox.mail import run_smtp_receiver

    click.echo(f"smmdesk mail-in on {host}:{port}")
    run_smtp_receiver(host, port)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
def backup(file):
    """Write a consistent archive of the database and media to FILE."""
    setup_django()
    require_database()
    from pathlib import Path

    from smmdesk.lib.backup import BackupError, create_backup

    try:
        summary = create_backup(Path(file))
    except BackupError as exc:
        raise click.ClickException(str(exc))
    rows = sum(summary["objects"].values())
    click.echo(f"backup written to {file}: {rows} rows, {summary['media_files']} media files")
    click.echo("The archive holds the encryption keys: keep it as secret as the data dir.", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Restore even if the database already has data.")
def restore(file, force):
    """Restore an archive made by `smmdesk backup` into this (empty) data dir and database."""
    setup_django()
    require_database()
    from pathlib import Path

    from smmdesk.lib.backup import BackupError, restore_backup

    try:
        summary = restore_backup(Path(file), force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(
        f"restored from {file}: {summary['objects']} rows, {summary['media_files']} media files, "
        f"{summary['secrets_reencrypted']} secrets re-encrypted"
    )


@main.command("rotate-key")
@click.option("--generate", is_flag=True, help="Only print a new key and the steps to put it in place.")
def rotate_key(generate):
    """Re-encrypt every stored secret under the first key of SMMDESK_ENCRYPTION_KEY."""
    if generate:
        from smmdesk.lib.config import new_fernet_key

        click.echo(new_fernet_key())
        click.echo(ROTATE_STEPS, err=True)
        return
    setup_django()
    require_database()
    from smmdesk.lib import keys

    try:
        for line in keys.rotate():
            click.echo(line)
    except keys.RotationRefused as exc:
        for line in exc.lines:
            click.echo(f"smmdesk: {line}", err=True)
        sys.exit(1)


ROTATE_STEPS = """To rotate to this key:
  1. put it first in SMMDESK_ENCRYPTION_KEY (or the data dir's encryption_key file), keeping the old
     key(s) after it, comma-separated: NEW,OLD
  2. restart every smmdesk process (web, worker, mail-in), so all of them encrypt with NEW
  3. run `smmdesk rotate-key`; it says when the old key(s) can be removed"""


@main.group()
def channels():
    """Channel adapters."""


@channels.command("kinds")
def channel_kinds():
    """List every adapter kind with its capabilities."""
    setup_django()
    from smmdesk.channels.actions import describe_kinds

    for info in describe_kinds():
        click.echo(f"{info.kind:<12} {info.label}")
        click.echo(f"{'':<12} capabilities: {', '.join(info.capabilities)}")
        if info.paid:
            click.echo(f"{'':<12} paid API tier needed for: {', '.join(info.paid)}")
        limits = info.limits
        click.echo(
            f"{'':<12} limits: text {limits.max_text} chars"
            f"{f' ({limits.max_caption} with media)' if limits.max_caption else ''}, media {limits.max_media}, "
            f"link {'yes' if limits.supports_link else 'no'}, "
            f"first comment {'yes' if limits.supports_first_comment else 'no'}, "
            f"picture {'required' if limits.media_required else 'optional'}"
        )


def _register_groups():
    # These command groups import nothing heavy until they run, so `smmdesk --help` stays quick.
    from smmdesk.ads.cli import ads
    from smmdesk.audience.cli import audience
    from smmdesk.bench.cli import bench
    from smmdesk.contests.cli import contests
    from smmdesk.keywords.cli import keywords
    from smmdesk.listening.cli import trends
    from smmdesk.nlp.cli import nlp

    main.add_command(bench)
    main.add_command(nlp)
    main.add_command(trends)
    main.add_command(contests)
    main.add_command(audience)
    main.add_command(keywords)
    main.add_command(ads)


_register_groups()


if __name__ == "__main__":
    main()
