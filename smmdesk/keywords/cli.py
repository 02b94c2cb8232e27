"""`smmdesk keywords ...`: generate a workspace's queries, cluster queries read from stdin."""

import click


@click.group()
def keywords():
    """Keyword research."""


@keywords.command("generate")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
@click.option(
    "--out", "out", default=None, type=click.Path(dir_okay=False), help="Write the queries to this CSV."
)
def generate_command(slug, out):
    """Generate the workspace's queries from its business profile; print the counts and, with --out,
        write query,kind,intent,cluster,volume of the queries not excluded by negative keywords (cluster
    empty until the queries are clustered). Exit 2 on an
        unknown workspace or a file that cannot be written."""
    from smmdesk.cli import require_database, setup_django

    setup_django()
    require_database()
    from smmdesk.accounts.models import Membership, Workspace
    from smmdesk.accounts.roles import Role
    from smmdesk.keywords import generate

    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        click.echo(f"smmdesk keywords generate: no workspace {slug!r}", err=True)
        raise SystemExit(2)
    # The CLI is the server's operator: it acts with an owner's rights, with no user behind it.
    result = generate.run(Membership(workspace=workspace, role=Role.OWNER))
    try:
        from smmdesk.keywords import clusters
    except ImportError:
        clusters = None
    if clusters is not None and hasattr(clusters, "recluster"):
        clusters.recluster(Membership(workspace=workspace, role=Role.OWNER))
    click.echo(
        f"{result['unique']} queries ({result['created']} new, {result['excluded']} excluded) "
        f"from {result['candidates']} candidates"
    )
    if out:
        from smmdesk.keywords.exports import write_csv

        try:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                write_csv(workspace, handle)
        except OSError as error:
            click.echo(f"smmdesk keywords generate: cannot write {out}: {error.strerror}", err=True)
            raise SystemExit(2)
        click.echo(f"wrote {out}")


@keywords.command("cluster")
@click.option(
    "--lang", "language", required=True, type=click.Choice(["ru", "sk", "en"]), help="The queries' language."
)
@click.option("--no-embeddings", is_flag=True, help="Lemmas only: faster, synonyms stay apart.")
def cluster_command(language, no_embeddings):
    """Read one query per line on stdin; write one JSON line {"query", "cluster", "intent"} per query, in
    input order. Clusters are numbered 0..k-1 in order of first appearance; blank lines are skipped."""
    import json
    import sys

    from smmdesk.cli import setup_django

    setup_django()
    from smmdesk.keywords import cluster, intent
    from smmdesk.nlp import embed

    queries = [" ".join(line.split()) for line in sys.stdin.read().splitlines()]
    queries = [query for query in queries if query]
    use_embeddings = not no_embeddings
    if use_embeddings:
        try:
            embed.use_disk_cache()
        except OSError:
            pass  # a read-only data dir only costs speed
    labels = cluster.cluster_queries(queries, language, use_embeddings=use_embeddings)
    intents = intent.classify_many(queries, language, use_embeddings=use_embeddings)
    for query, label, found in zip(queries, labels, intents, strict=True):
        click.echo(json.dumps({"query": query, "cluster": label, "intent": str(found)}, ensure_ascii=False))
