"""`smmdesk contests ...`: list contests, export a draw's proof, verify a proof offline.

`verify` needs no database and does not set Django up: it is the same arithmetic anyone can run
(contests/draw.py and proof.py use only hashlib and hmac). Exit status: 0 the proof holds, 1 something in
it differs (each difference on its own line), 2 the file cannot be read as a proof.
"""

from __future__ import annotations

import sys

import click

EXIT_MISMATCH = 1
EXIT_UNREADABLE = 2


@click.group()
def contests():
    """Contests and their verifiable draws."""


def _django():
    from smmdesk.cli import require_database, setup_django

    setup_django()
    require_database()


@contests.command("list")
@click.option("--workspace", "slug", default="", help="Only this workspace's contests (its slug).")
def list_contests(slug):
    """One line per contest: <id> <workspace slug> <status> <title>."""
    _django()
    from smmdesk.accounts.models import Workspace
    from smmdesk.contests.models import Contest

    rows = Contest.objects.select_related("workspace").order_by("pk")
    if slug:
        if not Workspace.objects.filter(slug=slug).exists():
            raise click.BadParameter(f"no workspace {slug!r}", param_hint="--workspace")
        rows = rows.filter(workspace__slug=slug)
    for contest in rows:
        title = " ".join(contest.title.split())
        click.echo(f"{contest.pk} {contest.workspace.slug} {contest.status} {title}")


@contests.command("proof")
@click.argument("contest_id", type=int)
def export_proof(contest_id):
    """Print the proof of a drawn contest as JSON (redirect it to a file)."""
    _django()
    from smmdesk.contests import actions, proof
    from smmdesk.contests.models import Contest

    contest = Contest.objects.select_related("channel").filter(pk=contest_id).first()
    if contest is None:
        click.echo(f"smmdesk contests: no contest {contest_id}", err=True)
        sys.exit(EXIT_UNREADABLE)
    try:
        document = actions.proof_for(contest)
    except actions.ContestError as error:
        click.echo(f"smmdesk contests: contest {contest_id}: {error.message}", err=True)
        sys.exit(EXIT_MISMATCH)
    click.echo(proof.dumps(document), nl=False)


@contests.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
def verify_proof(path):
    """Recompute a proof offline: commitment, list hash, draw seed and every winner. Prints OK, or each
    input or winner that differs."""
    from smmdesk.contests import proof

    try:
        if path == "-":
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8")
        document = proof.load(text)
    except OSError as exc:
        click.echo(f"smmdesk contests verify: {path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except UnicodeDecodeError:
        click.echo(f"smmdesk contests verify: {path}: not UTF-8 text", err=True)
        sys.exit(EXIT_UNREADABLE)
    except proof.ProofError as exc:
        click.echo(f"smmdesk contests verify: {path}: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    problems = proof.verify(document)
    if problems:
        for problem in problems:
            click.echo(problem)
        sys.exit(EXIT_MISMATCH)
    click.echo("OK")
