"""`divex cases import FILE`: a state's existing records brought in from a CSV or Excel file,
checked whole first (every problem with its row and column), then stored as one batch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cases.casework.bulk_import import Plan, read_csv, read_table, xlsx_table

from .cli_cases import PASSWORD_FILE
from .cli_casework import ANALYST_USER
from .cli_support import CODE, exchange_of, refusals_as_messages, sign_in


def read_file(path: Path) -> Plan:
    if path.suffix.lower() == ".xlsx":
        return read_table(xlsx_table(path.read_bytes()))
    try:
        return read_csv(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text: save it from your spreadsheet "
                                   "as 'CSV UTF-8', or as an Excel workbook (.xlsx).") from None


@click.command("import")
@click.argument("path", metavar="FILE",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; store nothing.")
@ANALYST_USER
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def import_cases(ctx: click.Context, path: Path, dry_run: bool, username: str,
                 password_file: Path | None, code: str | None) -> None:
    """Import cases and their item lines from FILE (the web's CSV template, or an Excel
    workbook laid out the same way): every case is national, all are stored or none."""
    plan = read_file(path)
    for problem in plan.problems:
        where = f"row {problem.row}" + (f", column {problem.column}" if problem.column else "")
        click.echo(f"{path.name}: {where}: {problem.error.message}", err=True)
    if plan.problems:
        raise click.ClickException(f"Nothing was imported: {len(plan.problems)} problem(s) "
                                   "in the file.")
    summary = f"{len(plan.cases)} cases with {plan.items} item lines"
    if dry_run:
        click.echo(f"The file is right: importing it would log {summary}. Nothing was stored.")
        return
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    with click.progressbar(length=len(plan.cases), label="Sealing and signing",
                           file=sys.stderr) as bar:
        done = 0

        def progress(now: int) -> None:
            nonlocal done
            bar.update(now - done)
            done = now

        ids = exchange.cases.import_cases(viewer, plan.cases, progress)
    events = len(plan.cases) + plan.items
    with click.progressbar(length=events, label="Updating the read models",
                           file=sys.stderr) as bar:
        exchange.follow(bar.update)
    click.echo(f"Imported {summary}; only {viewer.state} reads them until they are shared.",
               err=True)
    for case_id in ids:
        click.echo(str(case_id))
