"""The `divex audit` commands: verify (live or offline), export, checkpoint, cosign, prove."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click

from cases.audit.bundle import Bundle, verify_bundle, write_bundle
from cases.audit.log import Verification, merkle_leaf, stored_records, verify_log
from cases.casework.content import parse_moment
from cases.kernel.errors import NotFound
from crypto import CryptoError
from crypto.merkle import verify_inclusion
from projections.checkpoints import now_text

from .cli_support import CODE, exchange_of, progress_bar, refusals_as_messages, sign_in


@click.group()
def audit() -> None:
    """Auditors: verify the log, export an offline bundle, replay history."""


@audit.command("verify")
@click.option("--bundle", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Verify an exported bundle, without any access to the exchange.")
@click.option("--trust-secretariat", metavar="FINGERPRINT",
              help="Fail unless the log's root of trust is this secretariat key.")
@click.option("--trust-log", metavar="FINGERPRINT",
              help="Fail unless the checkpoints are signed with this log key.")
@click.option("--workers", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
              show_default="the number of CPUs", help="Processes checking signatures.")
@click.pass_context
@refusals_as_messages
def verify_command(ctx: click.Context, bundle: Path | None, trust_secretariat: str | None,
                   trust_log: str | None, workers: int) -> None:
    """Check every event's chain, version and signature, and every checkpoint."""
    if bundle is not None:
        with progress_bar(Bundle(bundle).record_count, "Verifying bundle") as step:
            result = verify_bundle(bundle, step, workers)
    else:
        exchange = exchange_of(ctx)
        exchange.follow()
        total = exchange.ledger.recorder.max_notification_id() or 0
        with progress_bar(total, "Verifying log") as step:
            result = verify_log(exchange.ledger, exchange.checkpoints.all(), step, workers)
    report(result, {"secretariat": trust_secretariat, "log": trust_log})


def report(result: Verification, pinned: dict[str, str | None]) -> None:
    click.echo(f"Checked {result.events_checked} events, {result.checkpoints_checked} "
               f"checkpoints, {result.cosignatures_checked} cosignatures.")
    for role, fingerprint in sorted(result.trust.items()):
        click.echo(f"  {role} key fingerprint: {fingerprint}")
    finding = result.finding
    if finding is not None:
        raise click.ClickException(
            f"FAILED at notification {finding.notification_id} (aggregate {finding.aggregate}, "
            f"version {finding.version}): {finding.check}: {finding.detail}")
    for role, expected in pinned.items():
        if expected and result.trust.get(role) != expected.strip().lower():
            raise click.ClickException(
                f"FAILED: the {role} key is {result.trust.get(role, 'absent')}, "
                f"not the trusted {expected}.")
    click.echo("OK: every event and checkpoint verifies.")


@audit.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The bundle file to write (gzip JSON lines).")
@click.pass_context
@refusals_as_messages
def export_command(ctx: click.Context, out: Path) -> None:
    """Write an offline bundle: headers, body digests, checkpoints, key history; no content."""
    exchange = exchange_of(ctx)
    exchange.follow()
    total = exchange.ledger.recorder.max_notification_id() or 0
    checkpoints = exchange.checkpoints.all()
    with progress_bar(total, "Exporting") as step:
        def counted() -> Iterator:
            for record in stored_records(exchange.ledger):
                step(1)
                yield record
        try:
            written = write_bundle(out, counted(), checkpoints, total, now_text())
        except OSError as error:
            raise click.ClickException(f"Cannot write {out}: {error.strerror}") from None
    click.echo(f"Wrote {written} events and {len(checkpoints)} checkpoints to {out}.")
    click.echo(f"Check it anywhere with: divex audit verify --bundle {out}")


@audit.command("checkpoint")
@click.pass_context
@refusals_as_messages
def checkpoint_command(ctx: click.Context) -> None:
    """Sign a checkpoint of the whole log now (they are also made every N events)."""
    exchange = exchange_of(ctx)
    exchange.follow()
    checkpoint = exchange.checkpointer.record()
    click.echo(f"Checkpoint: {checkpoint.size} events, root {checkpoint.root}, "
               f"at {checkpoint.time}, log key {checkpoint.log_key}.")


@audit.command("cosign")
@click.option("--user", "username", required=True, help="A user of the witness state.")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False))
@CODE
@click.pass_context
@refusals_as_messages
def cosign_command(ctx: click.Context, username: str, password_file: Path | None,
                   code: str | None) -> None:
    """As a witness state, cosign the newest checkpoint if it extends the last one you did."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    exchange.follow()
    cosigned = exchange.witness.cosign(viewer)
    if cosigned is None:
        click.echo(f"Nothing to cosign: {viewer.state} has cosigned the newest checkpoint.")
    else:
        click.echo(f"{viewer.state} cosigned the checkpoint of {cosigned.size} events.")


@audit.command("prove")
@click.argument("notification_id", type=int)
@click.pass_context
@refusals_as_messages
def prove_command(ctx: click.Context, notification_id: int) -> None:
    """Prove that an event is in the newest checkpoint (RFC 6962 inclusion proof)."""
    exchange = exchange_of(ctx)
    exchange.follow()
    row = exchange.audit_index.view.row(notification_id)
    checkpoint = exchange.checkpoints.latest()
    if row is None:
        raise click.ClickException(f"No event with notification id {notification_id}.")
    if checkpoint is None or checkpoint.size <= row.position:
        raise click.ClickException("No checkpoint covers that event yet; "
                                   "run `divex audit checkpoint`.")
    proof = exchange.checkpointer.inclusion(row.position, checkpoint.size)
    try:
        verify_inclusion(merkle_leaf(row.event_hash), row.position, checkpoint.size, proof,
                         bytes.fromhex(checkpoint.root))
    except CryptoError as error:
        raise click.ClickException(f"The inclusion proof FAILED: {error}") from None
    click.echo(f"Event {notification_id} is leaf {row.position} of the checkpoint of "
               f"{checkpoint.size} events (root {checkpoint.root}).")
    for step in proof:
        click.echo(f"  {step.hex()}")
    click.echo("OK: the inclusion proof verifies.")


@audit.command("replay")
@click.option("--case", "case_id", required=True, help="The case id.")
@click.option("--at", "moment", required=True, metavar="TIMESTAMP",
              help="ISO date or date and time (UTC unless an offset is given).")
@click.option("--user", "username", required=True, help="The auditor (or reader) replaying.")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False))
@CODE
@click.pass_context
@refusals_as_messages
def replay_command(ctx: click.Context, case_id: str, moment: str, username: str,
                   password_file: Path | None, code: str | None) -> None:
    """Show a case as it was at a moment: its content if your state can read it, else its
    clear header history."""
    when = parse_moment(moment, "at", end_of_day=True)
    if when is None:
        raise click.ClickException("Give --at as YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    exchange.follow()
    version = exchange.audit_index.view.version_at(case_id.strip(), when)
    if version is None:
        raise click.ClickException(f"No case {case_id} existed at {when.isoformat()}.")
    history = exchange.cases.history(viewer, case_id.strip(), version=version)
    click.echo(f"Case {case_id} at {when.isoformat()}: version {version}.")
    try:
        case = exchange.cases.view(viewer, case_id.strip(), version=version)
    except NotFound:
        click.echo(f"{viewer.state} could not read this case then: clear header history only.")
    else:
        click.echo(f"Title: {case.title}\nStatus: {case.status}  tier: {case.tier}  "
                   f"readable by: {', '.join(case.recipients)}")
        if case.summary.get("narrative"):
            click.echo(f"Narrative: {case.summary['narrative']}")
        for item in case.items.values():
            click.echo("Item: " + ", ".join(f"{k}={v}" for k, v in item.items() if v))
        for note in case.notes:
            click.echo(f"Note: {note.get('text', '')}")
    click.echo("History:")
    for entry in history:
        click.echo(f"  {entry.version:>4} {entry.timestamp.isoformat()} {entry.event:<16} "
                   f"{entry.state} {entry.user}")
