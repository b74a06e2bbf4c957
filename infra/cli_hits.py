"""`divex hits`: a state's private hits (issue 20) on the command line, and its answer to one."""

from __future__ import annotations

from pathlib import Path

import click

from cases.hits.hit import ANSWERS

from .cli_cases import PASSWORD_FILE
from .cli_casework import ANALYST_USER, READER_USER
from .cli_support import CODE, exchange_of, refusals_as_messages, sign_in


@click.group()
def hits() -> None:
    """Items of your state's cases that another state recorded too (private hits)."""


@hits.command("list")
@READER_USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def list_hits(ctx: click.Context, username: str, password_file: Path | None,
              code: str | None) -> None:
    """Your state's hits, newest first: id, other state, your case, the marking of yours
    that matched, and both answers."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    found = exchange.hits.for_state(viewer)
    for hit in found:
        click.echo(f"{hit.id}  {hit.other}  {hit.case_id or '-'}  {hit.marking or '-'}  "
                   f"yours: {hit.mine or '-'}  theirs: {hit.theirs or '-'}  "
                   f"{hit.case_title or '(case gone)'}")
    click.echo(f"{len(found)} hits of {viewer.state}.", err=True)


@hits.command("answer")
@click.argument("hit_id", type=click.UUID)
@click.option("--answer", "answer", required=True, type=click.Choice(ANSWERS),
              help="case_shared shares your case with the other state; trace_sent records "
                   "the trace request you sent; dismissed closes it.")
@ANALYST_USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def answer_hit(ctx: click.Context, hit_id: object, answer: str, username: str,
               password_file: Path | None, code: str | None) -> None:
    """Answer a hit once; the other state sees your answer."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    hit = exchange.hits.answer(viewer, str(hit_id), answer)
    click.echo(f"Hit {hit.id} with {hit.other}: answered {answer}.")
