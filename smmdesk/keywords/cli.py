"""`smmdesk keywords ...`: generate a workspace's queries, cluster queries read from stdin."""

import click


@click.group()
def keywords():
    """Keyword research."""
