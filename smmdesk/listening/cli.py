"""`smmdesk trends ...`: the product's own burst detector on any count series."""

import click


@click.group()
def trends():
    """Trend detection."""
