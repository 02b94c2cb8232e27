"""`smmdesk ads ...`: list campaigns, export one to a platform's import file, import platform stats."""

import click


@click.group()
def ads():
    """Ad campaigns."""


EXPORT_FORMATS = ["google-ads-editor", "direct-commander-xlsx", "direct-commander-tsv", "vk"]


@ads.command("export")
@click.option(
    "--campaign", "campaign_id", required=True, type=int, help="The campaign's id (see `ads list`)."
)
@click.option(
    "--format", "fmt", required=True, type=click.Choice(EXPORT_FORMATS), help="The import file's format."
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the file.")
def export_command(campaign_id, fmt, out):
    """Write a campaign as the file its platform imports. Exit 2 on an unknown campaign, a format for
    another platform, a campaign breaking its platform's limits (each problem listed) or an unwritable
    file; nothing is written then."""
    from smmdesk.cli import require_database, setup_django

    setup_django()
    require_database()
    from smmdesk.ads.exports import ExportError, export
    from smmdesk.ads.models import Campaign

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        click.echo(f"smmdesk ads export: no campaign {campaign_id}", err=True)
        raise SystemExit(2)
    try:
        data, _name, _type = export(campaign, fmt)
    except ExportError as error:
        click.echo(f"smmdesk ads export: {error}", err=True)
        raise SystemExit(2)
    try:
        with open(out, "wb") as file:
            file.write(data)
    except OSError as error:
        click.echo(f"smmdesk ads export: cannot write {out}: {error.strerror}", err=True)
        raise SystemExit(2)
    click.echo(f"{out}: {len(data)} bytes, {fmt}")


@ads.command("list")
@click.option("--workspace", "slug", default="", help="Only this workspace's campaigns (its slug).")
def list_command(slug):
    """One line per campaign: <id> <workspace slug> <targeting|contextual> <platform> <name>."""
    from smmdesk.cli import require_database, setup_django

    setup_django()
    require_database()
    from smmdesk.accounts.models import Workspace
    from smmdesk.ads.models import Campaign

    rows = Campaign.objects.select_related("workspace").order_by("pk")
    if slug:
        if not Workspace.objects.filter(slug=slug).exists():
            click.echo(f"smmdesk ads list: no workspace {slug!r}", err=True)
            raise SystemExit(2)
        rows = rows.filter(workspace__slug=slug)
    for campaign in rows:
        name = " ".join(campaign.name.split())
        click.echo(f"{campaign.pk} {campaign.workspace.slug} {campaign.kind} {campaign.platform} {name}")


@ads.command("import-stats")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
@click.option(
    "--platform", required=True, type=click.Choice(["yandex", "google", "vk"]), help="Whose report."
)
@click.option(
    "--mapping", "mapping_json", default=None, help='JSON {"field": "header name" or column index}.'
)
def import_stats_command(file, slug, platform, mapping_json):
    """Import a platform's statistics report (CSV or XLSX). Good rows are imported even when others are
    bad. Exit 0: all rows good; 1: some rows bad (each on stderr); 2: unusable input, nothing imported."""
    from smmdesk.cli import file_import_inputs

    def refuse(message: str):
        click.echo(f"smmdesk ads import-stats: {message}", err=True)
        raise SystemExit(2)

    workspace, mapping = file_import_inputs(file, mapping_json, slug, refuse)
    from smmdesk.ads.stats import StatsRefused, import_file

    try:
        job = import_file(workspace, file, platform, mapping)
    except StatsRefused as error:
        refuse(f"{file}: {error.field}: {error.message}")
    for error in job.errors:
        click.echo(f"row {error['row']}, {error['field']}: {error['message']}", err=True)
    bad = len({error["row"] for error in job.errors})
    click.echo(f"imported {job.imported} rows, {bad} bad rows")
    if bad:
        raise SystemExit(1)
