"""The `divex cases` commands: retention rules and crypto-shredding (two people)."""

from __future__ import annotations

from pathlib import Path

import click

from cases.casework.case import ITI_RETENTION_YEARS

from .cli_support import CODE, exchange_of, refusals_as_messages, sign_in

USER = click.option("--user", "username", required=True, help="A state admin of the owner.")
PASSWORD_FILE = click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False),
                             help="Read the password from this file instead of prompting.")


@click.group()
def cases() -> None:
    """Log, add to, share, list and show cases; retention rules and crypto-shredding."""


@cases.command("retention")
@click.argument("case_id")
@click.option("--years", type=click.IntRange(0, 100),
              help="Keep the case this many years after it is closed.")
@click.option("--indefinite", is_flag=True, help="Keep the case indefinitely (the default).")
@USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def retention(ctx: click.Context, case_id: str, years: int | None, indefinite: bool,
              username: str, password_file: Path | None, code: str | None) -> None:
    """Set how long a case is kept once closed."""
    if (years is None) == (not indefinite):
        raise click.ClickException("Give either --years N or --indefinite.")
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    exchange.cases.set_retention(viewer, case_id, None if indefinite else years)
    if indefinite:
        click.echo(f"Case {case_id} is kept indefinitely.")
        return
    click.echo(f"Case {case_id} is kept {years} years after it is closed.")
    if years is not None and years < ITI_RETENTION_YEARS:
        click.echo(f"Note: the ITI asks that records of transfers be kept at least "
                   f"{ITI_RETENTION_YEARS} years.")


@cases.command("shred")
@click.argument("case_id")
@click.option("--confirm", is_flag=True,
              help="Confirm another state admin's request: the keys are deleted now.")
@click.option("--withdraw", is_flag=True, help="Withdraw a pending request.")
@USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def shred(ctx: click.Context, case_id: str, confirm: bool, withdraw: bool, username: str,
          password_file: Path | None, code: str | None) -> None:
    """Crypto-shred a case: ask for it, then a second state admin confirms with --confirm.

    Confirming deletes every wrapped key of the case and of its trace requests: the content
    becomes unreadable for everyone, while the signed log (headers) stays verifiable.
    """
    if confirm and withdraw:
        raise click.ClickException("Give --confirm or --withdraw, not both.")
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    if withdraw:
        exchange.cases.withdraw_shred(viewer, case_id)
        click.echo(f"The request to shred case {case_id} is withdrawn.")
        return
    if not confirm:
        exchange.cases.request_shred(viewer, case_id)
        click.echo(f"Shredding of case {case_id} requested. A second state admin of "
                   f"{viewer.state} confirms it with: divex cases shred {case_id} --confirm "
                   "--user NAME")
        return
    case_rows, trace_rows = exchange.cases.confirm_shred(viewer, case_id)
    exchange.follow()
    click.echo(f"Case {case_id} is crypto-shredded: deleted {case_rows} wrapped case keys and "
               f"{trace_rows} wrapped keys of its trace requests.")
