"""The `divex cases` commands."""

from __future__ import annotations

import click


@click.group()
def cases() -> None:
    """Case housekeeping: retention rules and crypto-shredding."""
