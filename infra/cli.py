"""The `divex` command line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cases.errors import DivexError

from .settings import Settings, load_settings
from .wiring import Exchange, open_exchange


def refusals_as_messages(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turns a domain refusal into a one-line error and exit code 1, never a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DivexError as error:
            where = f" ({error.field})" if error.field else ""
            raise click.ClickException(f"{error.message}{where}") from None

    return run


def read_password(password_file: Path | None, prompt: str) -> str:
    if password_file is None:
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    try:
        return password_file.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise click.ClickException(f"Cannot read {password_file}: {error.strerror}") from None


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """divex: the diversion case exchange of Arms Trade Treaty States Parties."""
    ctx.obj = load_settings()


def exchange_of(ctx: click.Context) -> Exchange:
    settings: Settings = ctx.obj
    exchange = open_exchange(settings)
    ctx.call_on_close(exchange.close)
    return exchange


@main.command()
@click.option("--username", default="secretariat", show_default=True,
              help="User name of the first secretariat user.")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Read the password from this file instead of prompting.")
@click.pass_context
@refusals_as_messages
def init(ctx: click.Context, username: str, password_file: Path | None) -> None:
    """Create the stores and the first secretariat user (safe to run twice)."""
    exchange = exchange_of(ctx)
    if exchange.directory.is_initialised():
        click.echo(f"Already initialised: {describe(exchange)}. Nothing changed.")
        return
    password = read_password(password_file, f"Password for {username}")
    secret = exchange.directory.initialise(username, password, "Secretariat")
    click.echo(f"Initialised {describe(exchange)}.")
    click.echo(f"Secretariat user: {username}")
    click.echo("Recovery secret of the secretariat keys (shown once, keep it offline):")
    click.echo(f"  {secret}")


@main.command()
@click.pass_context
@refusals_as_messages
def status(ctx: click.Context) -> None:
    """Print where the data lives and what it holds."""
    exchange = exchange_of(ctx)
    click.echo(status_text(exchange))


def describe(exchange: Exchange) -> str:
    url = exchange.settings.database_url
    return f"event store at {url.split('@')[-1] if '@' in url else url}"


def status_text(exchange: Exchange) -> str:
    if not exchange.directory.is_initialised():
        return f"Not initialised ({describe(exchange)}). Run `divex init`."
    states = exchange.directory.states()
    users = sum(len(exchange.directory.users_of_state(s.code)) for s in states)
    events = exchange.ledger.recorder.max_notification_id() or 0
    lines = [f"divex: {describe(exchange)}",
             f"  events stored: {events}",
             f"  states: {len(states)} ({', '.join(s.code for s in states)})",
             f"  active users: {users}"]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
