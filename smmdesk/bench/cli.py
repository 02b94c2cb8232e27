"""`smmdesk bench ...`: one command per benchmark; each imports its module only when it runs."""

import click


@click.group()
def bench():
    """Benchmarks; each feature adds its own. Each runs in a throwaway data dir."""


def _run_bench(run, *args, **options):
    from smmdesk.bench import BenchError

    try:
        run(*args, echo=click.echo, **options)
    except BenchError as exc:
        raise click.ClickException(str(exc))


@bench.command("ingest")
@click.option("--messages", type=click.IntRange(min=1), default=20000, show_default=True)
def bench_ingest(messages):
    """Time the inbox pipeline (parse, dedup, thread, triage, route, SLA) against raw sqlite3 inserts."""
    from smmdesk.bench.ingest import run_ingest

    _run_bench(run_ingest, messages)


@bench.command("inbox")
@click.option("--messages", type=click.IntRange(min=1), default=1_000_000, show_default=True)
@click.option(
    "--database-url",
    default=None,
    help="Fill this (throwaway) database instead of a fresh SQLite file; a later run tops it up.",
)
def bench_inbox(messages, database_url):
    """Time the first inbox page, filtered by status and department, over 200 requests."""
    from smmdesk.bench.inbox import run_inbox

    _run_bench(run_inbox, messages, database_url)


@bench.command("nlp")
@click.option("--messages", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option(
    "--banking77",
    default=None,
    metavar="DIR",
    help="banking77 train.csv/test.csv (default ../shared/data/banking77 if present; none to skip).",
)
@click.option(
    "--slovak",
    default=None,
    metavar="DIR",
    help="Slovak review CSVs (default ../shared/data/slovak_reviews if present; none to skip).",
)
def bench_nlp(messages, banking77, slovak):
    """Time classify (fast and refined) and route; accuracy on banking77, F1 on Slovak reviews."""
    from smmdesk.bench.nlp import run_nlp

    _run_bench(run_nlp, messages, banking77, slovak)


@bench.command("publish")
@click.option("--posts", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Worker processes.")
@click.option("--kill-worker", is_flag=True, help="SIGKILL one worker mid-run and start it again.")
@click.option(
    "--database-url",
    default=None,
    help="Run on PostgreSQL: a throwaway database the bench creates and drops (needs --redis-url).",
)
@click.option("--redis-url", default=None, help="With --database-url: an empty Redis database for the queue.")
def bench_publish(posts, workers, kill_worker, database_url, redis_url):
    """Schedule N posts due in the same minute on the fake network; time them out, count duplicates and losses."""
    from smmdesk.bench.publish import run_publish

    _run_bench(run_publish, posts, workers, kill_worker, database_url=database_url, redis_url=redis_url)


@bench.command("trends")
@click.option(
    "--data",
    default=None,
    metavar="DIR",
    help="NAB Twitter volume CSVs and labels.json (default ../shared/data/nab_tweets).",
)
def bench_trends(data):
    """Run the burst detector on the NAB tweet series: windows hit, delay, false alerts per week."""
    from smmdesk.bench.trends import run_trends

    _run_bench(run_trends, data)


@bench.command("import")
@click.option("--rows", type=click.IntRange(min=1), default=100_000, show_default=True)
def bench_import(rows):
    """Import N orders of the demo hairdresser from a CSV (checked, written in one transaction)."""
    from smmdesk.bench.importing import run_import

    _run_bench(run_import, rows)


@bench.command("keywords")
@click.option("--candidates", type=click.IntRange(min=1), default=1_000_000, show_default=True)
def bench_keywords(candidates):
    """Generate N candidate queries from a big made-up profile, dedup them by lemma set and cluster them."""
    from smmdesk.bench.keywords import run_keywords

    _run_bench(run_keywords, candidates)


@bench.command("faults")
@click.option(
    "--rate",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Share of network calls that fail.",
)
@click.option("--replies", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--posts", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--channels", type=click.IntRange(min=1), default=8, show_default=True, help="Fake channels.")
@click.option(
    "--revoked",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Channels whose token is revoked.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the fault injector.")
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True, help="Worker threads.")
def bench_faults(rate, replies, posts, channels, revoked, seed, threads):
    """Send replies and publish posts while the fake network fails; count what was lost or doubled."""
    from smmdesk.bench.faults import run_faults

    if replies + posts < 1:
        raise click.BadParameter("send at least one reply or post", param_hint="--replies/--posts")
    if revoked > channels:
        raise click.BadParameter("cannot revoke more channels than --channels", param_hint="--revoked")
    _run_bench(run_faults, rate, replies, posts, channels, revoked, seed, threads)


@bench.command("load")
@click.option("--agents", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=10, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=50,
    show_default=True,
    help="Inbound messages per second, through the fake network's webhook.",
)
@click.option(
    "--web-workers", type=click.IntRange(min=1), default=2, show_default=True, help="smmdesk web --workers"
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=2, show_default=True, help="smmdesk worker processes."
)
@click.option(
    "--history",
    type=click.IntRange(min=0),
    default=100_000,
    show_default=True,
    help="Messages of past conversations in the inbox before the load starts.",
)
@click.option(
    "--database-url",
    required=True,
    help="A PostgreSQL database for this run only: created, and dropped afterwards; an existing one with "
    "tables is refused unless an earlier run made it.",
)
@click.option(
    "--redis-url", required=True, help="An empty Redis database (redis://host:port/N), emptied afterwards."
)
@click.option("--keep", is_flag=True, help="Keep the database and Redis contents after the run, to look at.")
@click.option(
    "--poll",
    is_flag=True,
    help="Open pages poll every second, as they did before their live stream (to compare the two).",
)
def bench_load(agents, minutes, rate, web_workers, workers, history, database_url, redis_url, keep, poll):
    """N agents work the inbox in the real web and worker processes while messages arrive; latency per action."""
    from smmdesk.bench.load import run_load

    _run_bench(
        run_load, agents, minutes, rate, web_workers, workers, database_url, redis_url, history, keep, poll
    )
