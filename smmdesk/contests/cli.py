"""`smmdesk contests ...`: list contests, export a draw's proof, verify a proof offline."""

import click


@click.group()
def contests():
    """Contests and their verifiable draws."""
