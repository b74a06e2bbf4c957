"""The `divex cases` commands of casework: log a case, add to it, share it, list and show.

Options are drawn from the same field specs as the web forms and the API bodies, so the
command line takes exactly what they take and the domain checks it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from cases.casework.case import BILATERAL, PORTAL
from cases.casework.content import CHOICE, CHOICES, PARTS, SERIALS, SUMMARY, Spec
from cases.casework.view import CaseView
from projections.case_index import CaseFilter
from web.cases import open_portal_to_new_parties

from .cli_cases import PASSWORD_FILE
from .cli_support import CODE, exchange_of, refusals_as_messages, sign_in

ANALYST_USER = click.option("--user", "username", required=True, help="Act as this analyst.")
READER_USER = click.option("--user", "username", required=True,
                           help="Act as this user (any role that reads cases).")


def case_id_argument(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("case_id", type=click.UUID)(command)


def spec_options(specs: tuple[Spec, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One option per field: `--marking-condition`, choices listed, flags repeatable."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for spec in reversed(specs):
            flag = "--" + spec.name.replace("_", "-")
            if spec.type == CHOICES:
                option = click.option(flag, spec.name, multiple=True,
                                      type=click.Choice(spec.choices),
                                      help="Repeat for several.")
            elif spec.type == SERIALS:
                option = click.option(flag, spec.name, multiple=True,
                                      help="Repeat for several serial numbers.")
            elif spec.type == CHOICE:
                option = click.option(flag, spec.name, type=click.Choice(spec.choices),
                                      required=spec.required)
            else:
                option = click.option(flag, spec.name, required=spec.required)
            command = option(command)
        return command

    return decorate


def given(specs: tuple[Spec, ...], values: dict[str, Any]) -> dict[str, Any]:
    """The fields the user gave; the others stay unknown (never a default they did not pick)."""
    return {spec.name: values[spec.name] for spec in specs
            if values.get(spec.name) not in (None, ())}


@click.command("open")
@spec_options(SUMMARY)
@ANALYST_USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def open_case(ctx: click.Context, username: str, password_file: Path | None, code: str | None,
              **fields: Any) -> None:
    """Log a new case, readable by your state only; prints its id."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    case_id = exchange.cases.open_case(viewer, given(SUMMARY, fields))
    exchange.follow()
    click.echo(f"Case logged. Only {viewer.state} can read it until you share it. Its id:",
               err=True)
    click.echo(str(case_id))


PART_NAMES = {"item": "an item (weapon, ammunition, part) and its markings",
              "actor": "an actor", "leg": "a leg of the route", "note": "an evidence note"}


def add_command(kind: str) -> click.Command:
    """`divex cases add-item|add-actor|add-leg|add-note CASE_ID --field …`."""
    specs = PARTS[kind]

    @click.command(f"add-{kind}", help=f"Add {PART_NAMES[kind]} to a case of your state.")
    @case_id_argument
    @spec_options(specs)
    @ANALYST_USER
    @PASSWORD_FILE
    @CODE
    @click.pass_context
    @refusals_as_messages
    def add(ctx: click.Context, case_id: UUID, username: str, password_file: Path | None,
            code: str | None, **fields: Any) -> None:
        exchange = exchange_of(ctx)
        viewer = sign_in(exchange, username, password_file, code)
        case = exchange.cases.view_to_change(viewer, case_id)
        exchange.cases.add_part(viewer, case_id, case.version, kind, given(specs, fields))
        exchange.follow()
        click.echo(f"The {kind} is added to case {case_id}.")

    return add


@click.command("share")
@case_id_argument
@click.option("--tier", type=click.Choice((BILATERAL.value, PORTAL.value)), required=True,
              help="bilateral: the states named with --state; portal: every State Party.")
@click.option("--state", "states", multiple=True,
              help="A state to share with (ISO 3166-1 alpha-3; repeat for several).")
@ANALYST_USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def share(ctx: click.Context, case_id: UUID, tier: str, states: tuple[str, ...], username: str,
          password_file: Path | None, code: str | None) -> None:
    """Let other states read a case of your state, its whole history included.

    Sharing cannot be taken back for what they have read; un-sharing rotates the case key so
    they cannot read what comes after. To share with a meeting, table the case there.
    """
    if tier == BILATERAL and not states:
        raise click.ClickException("Name the states to share with: --state CODE.")
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    case = exchange.cases.view_to_change(viewer, case_id)
    added = exchange.cases.share(viewer, case_id, case.version, tier,
                                 [s.strip().upper() for s in states])
    exchange.follow()
    if added:
        click.echo(f"Case {case_id} is shared ({tier}); now also read by: {', '.join(added)}.")
    else:
        click.echo(f"Case {case_id}: every state named could already read it.")


@click.command("list")
@READER_USER
@PASSWORD_FILE
@CODE
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.pass_context
@refusals_as_messages
def list_cases(ctx: click.Context, username: str, password_file: Path | None, code: str | None,
               limit: int) -> None:
    """The cases your state can read, most recently changed first."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    exchange.follow()
    for case_id, added in open_portal_to_new_parties(exchange, viewer).items():
        click.echo(f"Portal case {case_id} is now also read by {', '.join(added)} (joined as "
                   "States Parties since it was shared).", err=True)
    rows, total = exchange.case_index.view.list_for(viewer.state, CaseFilter(), 0, limit)
    titles = exchange.cases.titles(viewer, rows)
    for row in rows:
        title = titles.get(str(row.case_id)) or "(title unreadable)"
        click.echo(f"{row.case_id}  {row.owner}  {row.status:<19} {row.tier:<9} {title}")
    click.echo(f"{len(rows)} of {total} cases {viewer.state} can read.", err=True)


@click.command("show")
@case_id_argument
@READER_USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def show(ctx: click.Context, case_id: UUID, username: str, password_file: Path | None,
         code: str | None) -> None:
    """A case as your state reads it: summary, items, actors, route, notes."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    click.echo(case_text(exchange.cases.view(viewer, case_id)))


def case_text(case: CaseView) -> str:
    lines = [case.title,
             f"  id {case.id} · owner {case.owner} · {case.status} · tier {case.tier} · "
             f"read by {', '.join(case.recipients)} · version {case.version}"]
    for name, value in case.summary.items():
        if name != "title" and value:
            lines.append(f"  {name.replace('_', ' ')}: {value}")
    for heading, parts in (("Items", case.items), ("Actors", case.actors),
                           ("Route", case.legs)):
        if parts:
            lines.append(f"{heading}:")
            lines.extend(f"  - {_fields(content)}" for content in parts.values())
    if case.notes:
        lines.append("Evidence notes:")
        lines.extend(f"  - {note['text']} ({note['by']}, {note['on']:%Y-%m-%d %H:%M} UTC)"
                     for note in case.notes)
    if case.unreadable_events:
        lines.append(f"({case.unreadable_events} changes are sealed from your state.)")
    return "\n".join(lines)


def _fields(content: dict[str, Any]) -> str:
    shown = {k: v for k, v in content.items() if v not in ("", None, [], ()) and k != "id"}
    return "; ".join(f"{k.replace('_', ' ')}: "
                     f"{', '.join(v) if isinstance(v, list) else v}" for k, v in shown.items())


CASEWORK_COMMANDS = (open_case, *(add_command(kind) for kind in PARTS), share, list_cases, show)
