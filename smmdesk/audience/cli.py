"""`smmdesk audience ...`: import orders from a file, print the audience report."""

import click


@click.group()
def audience():
    """Orders and the audience report."""
