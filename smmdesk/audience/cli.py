"""`smmdesk audience ...`: import orders from a file, print the audience report."""

import click


@click.group()
def audience():
    """Orders and the audience report."""


EXIT_BAD_INPUT = 2


def _report_day(value: str | None, option: str):
    """A YYYY-MM-DD date, or None when the option was left out; anything else ends with exit 2."""
    if value is None:
        return None
    from datetime import datetime

    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        click.echo(f"smmdesk audience report: {option} {value!r}: expected a date as YYYY-MM-DD", err=True)
        raise SystemExit(EXIT_BAD_INPUT)


@audience.command("report")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (default: the first order).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (default: the last order).")
@click.option("--format", "output", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def report_command(slug, start, end, output):
    """Print the audience report: orders per service with their share, revenue, gender, age groups and
    districts (shares are fractions of 1). Exit 2 on a bad date or an unknown workspace."""
    first, last = _report_day(start, "--from"), _report_day(end, "--to")
    from smmdesk.cli import require_database, setup_django

    setup_django()
    require_database()
    import json

    from smmdesk.accounts.models import Workspace
    from smmdesk.audience import actions

    workspace = Workspace.objects.filter(slug=slug).select_related("profile").first()
    if workspace is None:
        click.echo(f"smmdesk audience report: no workspace {slug!r}", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    try:
        if output == "json":
            click.echo(json.dumps(actions.report_json(workspace, first, last), ensure_ascii=False))
        else:
            data = actions.report(workspace, *actions.report_period(workspace, first, last))
            click.echo(actions.export_csv(data), nl=False)
    except actions.AudienceError as error:
        click.echo(f"smmdesk audience report: {error.message}", err=True)
        raise SystemExit(EXIT_BAD_INPUT)


@audience.command("weekly")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
@click.option("--week", "week", default=None, help="Any day of the week, YYYY-MM-DD (default: last week).")
@click.option(
    "--pdf", "pdf_path", default=None, help="Where to write the PDF (default: weekly-SLUG-MONDAY.pdf)."
)
@click.option("--language", default=None, help="en, ru or sk (default: the business's first language).")
def weekly_command(slug, week, pdf_path, language):
    """Write a week's report as a PDF, the same one the owners get by e-mail on Mondays (nothing is
    sent). Exit 2 on a bad date, language or workspace, or a file that cannot be written."""
    from datetime import date

    try:
        day = date.fromisoformat(week) if week is not None else None
    except ValueError:
        click.echo(f"smmdesk audience weekly: --week {week!r}: expected a date as YYYY-MM-DD", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    from smmdesk.cli import require_database, setup_django

    setup_django()
    require_database()
    from django.conf import settings

    from smmdesk.accounts.models import Workspace
    from smmdesk.audience import weekly, weekly_pdf

    known = [code for code, _name in settings.LANGUAGES]
    if language is not None and language not in known:
        click.echo(f"smmdesk audience weekly: --language {language!r}: one of {', '.join(known)}", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    workspace = Workspace.objects.filter(slug=slug).select_related("profile").first()
    if workspace is None:
        click.echo(f"smmdesk audience weekly: no workspace {slug!r}", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    monday = weekly.week_of(day) if day else weekly.last_complete_week(workspace)
    data = weekly.build(workspace, monday)
    pdf = weekly_pdf.render(data, language or weekly.language_for(None, workspace))
    target = pdf_path or weekly.file_name(workspace, monday)
    try:
        with open(target, "wb") as handle:
            handle.write(pdf)
    except OSError as exc:
        click.echo(f"smmdesk audience weekly: --pdf {target}: {exc.strerror or exc}", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    click.echo(f"wrote {target}: week {monday.isoformat()}, {len(pdf)} bytes")


@audience.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
@click.option(
    "--mapping",
    "mapping_json",
    default=None,
    help='JSON {"field": "header name" or column index (0 first)} over the recognised headers.',
)
def import_command(file, slug, mapping_json):
    """Import orders from a CSV or XLSX file, whole or not at all. Exit 0: the counts; 1: each bad row and
    field on stderr, nothing imported; 2: unusable input (file, workspace or mapping)."""
    from smmdesk.cli import file_import_inputs

    def refuse(message: str):
        click.echo(f"smmdesk audience import: {message}", err=True)
        raise SystemExit(EXIT_BAD_INPUT)

    workspace, mapping = file_import_inputs(file, mapping_json, slug, refuse)
    from smmdesk.audience import imports

    try:
        job = imports.import_path(workspace, file, mapping)
    except imports.InvalidMapping as error:
        for field, message in error.errors:
            click.echo(f"smmdesk audience import: mapping, {field}: {message}", err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    except imports.ImportRefused as error:
        refuse(f"{file}: {error.message}")
    if job.status != job.Status.DONE:
        for error in job.errors:
            if error["row"] is None:
                click.echo(f"file: {error['message']}", err=True)
            else:
                click.echo(f"row {error['row']}, {error['field']}: {error['message']}", err=True)
        if job.error_count > len(job.errors):
            click.echo(f"... and {job.error_count - len(job.errors)} more", err=True)
        plural = "" if job.error_count == 1 else "s"
        click.echo(f"nothing imported: {job.error_count} error{plural}", err=True)
        raise SystemExit(1)
    total = job.created + job.updated + job.unchanged
    click.echo(
        f"imported {total} orders (created {job.created}, updated {job.updated}, unchanged {job.unchanged})"
    )
    if job.unknown_services:
        names = ", ".join(f"{name} ({count})" for name, count in job.unknown_services.items())
        click.echo(f"services not in the profile, kept as written: {names}", err=True)
