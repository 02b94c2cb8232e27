"""`smmdesk ads ...`: list campaigns, export one to a platform's import file, import platform stats."""

import click


@click.group()
def ads():
    """Ad campaigns."""
