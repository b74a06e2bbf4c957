"""The `divex projections` commands."""

from __future__ import annotations

import click


@click.group()
def projections() -> None:
    """Read models: rebuild them from the log."""
