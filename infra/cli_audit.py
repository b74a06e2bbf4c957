"""The `divex audit` commands."""

from __future__ import annotations

import click


@click.group()
def audit() -> None:
    """Auditors: verify the log, export an offline bundle, replay history."""
