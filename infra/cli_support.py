"""What every `divex` command shares: settings, the exchange, refusals as one-line errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from cases.kernel.errors import DivexError
from cases.kernel.viewer import Viewer

from .settings import Settings
from .wiring import Exchange, open_exchange, prepare_store


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


def exchange_of(ctx: click.Context) -> Exchange:
    """The exchange the settings point at, its store prepared first (any command may be the
    first to run after an upgrade); a store that cannot be opened is a one-line error."""
    settings: Settings = ctx.obj
    try:
        prepare_store(settings)
        exchange = open_exchange(settings)
    except (SQLAlchemyError, ImportError, OSError) as error:
        # e.g. an unparsable DIVEX_DATABASE_URL, a server that refuses, a missing driver,
        # a data folder that cannot be written.
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        if settings.database_url.startswith("postgresql://") and isinstance(
                error, ImportError | ModuleNotFoundError):
            reason += (" (divex uses the psycopg 3 driver: write the URL as "
                       "postgresql+psycopg://…, and install the postgres extra)")
        raise click.ClickException(f"Cannot open the store ({_where(settings)}): {reason}") \
            from None
    ctx.call_on_close(exchange.close)
    return exchange


def _where(settings: Settings) -> str:
    """The store's address for messages, without a password."""
    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "DIVEX_DATABASE_URL"


CODE = click.option("--code", help="The code from your authenticator app, or a recovery code "
                    "(asked for when your account has a second factor and it is not given).")


def sign_in(exchange: Exchange, username: str, password_file: Path | None,
            code: str | None = None) -> Viewer:
    """The user a command acts as, unlocked with their password (prompted or from a file)
    and, as on the web, their second factor: the command line is no way around it."""
    if password_file is None:
        password = click.prompt(f"Password for {username}", hide_input=True)
    else:
        password = read_password(password_file, "")
    unlocked = exchange.directory.unlock(username, password)
    if unlocked.user.second_factor:
        if code is None:
            code = click.prompt("Code from your authenticator app (or a recovery code)")
        return exchange.directory.second_factors.verify(unlocked, code)
    if unlocked.user.needs_second_factor:
        raise click.ClickException(
            f"{unlocked.user.username} must set up a second factor first: sign in on the web "
            "once and follow the steps.")
    return unlocked.viewer


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update
