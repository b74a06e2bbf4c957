"""The `divex audit` commands: verify (live or offline), export, checkpoint, cosign, submit
to witnesses, prove (a tlog-proof receipt) and verify-proof."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click

from cases.audit.bundle import Bundle, verify_bundle, write_bundle
from cases.audit.checkpoint import Checkpoint
from cases.audit.log import Verification, stored_records, verify_log
from cases.audit.receipt import check_receipt
from cases.casework.content import parse_moment
from cases.kernel.errors import NotFound
from crypto import CryptoError
from crypto.note import Verifier, parse_note, parse_vkey
from crypto.tlog import PROOF_HEADER, parse_tlog_proof
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
@click.option("--checkpoint", "seen", multiple=True, metavar="FILE",
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A checkpoint note or .tlog-proof seen elsewhere (a witness, another "
                   "state's receipt): it must agree with the log. Repeatable.")
@click.option("--witness", "witness_keys", multiple=True, metavar="VKEY",
              help="Also check the cosignatures of this external witness. Repeatable.")
@click.pass_context
@refusals_as_messages
def verify_command(ctx: click.Context, bundle: Path | None, trust_secretariat: str | None,
                   trust_log: str | None, workers: int, seen: tuple[Path, ...],
                   witness_keys: tuple[str, ...]) -> None:
    """Check every event's chain, version and signature, and every checkpoint: that it
    covers the log as it is, and that no two of one size differ (a split view)."""
    observed = [_seen_checkpoint(path) for path in seen]
    witnesses = [_vkey(k, "--witness") for k in witness_keys]
    if bundle is not None:
        with progress_bar(Bundle(bundle).record_count, "Verifying bundle") as step:
            result = verify_bundle(bundle, step, workers, observed, witnesses)
    else:
        exchange = exchange_of(ctx)
        exchange.follow()
        total = exchange.ledger.recorder.max_notification_id() or 0
        witnesses += exchange.external_witnesses.verifiers()
        with progress_bar(total, "Verifying log") as step:
            result = verify_log(exchange.ledger, exchange.checkpoints.for_audit() + observed,
                                step, workers, witnesses)
    report(result, {"secretariat": trust_secretariat, "log": trust_log})


def _seen_checkpoint(path: Path) -> Checkpoint:
    try:
        text = path.read_text(encoding="utf-8")
        note = parse_tlog_proof(text).checkpoint if text.startswith(PROOF_HEADER) \
            else parse_note(text)
        return Checkpoint.from_note(note, f"seen in {path.name}")
    except (OSError, UnicodeDecodeError, CryptoError) as error:
        raise click.ClickException(f"{path} is not a checkpoint note nor a tlog-proof: "
                                   f"{error}") from None


def _vkey(text: str, option: str) -> Verifier:
    try:
        return parse_vkey(text)
    except CryptoError as error:
        raise click.ClickException(f"{option} {text!r}: {error}") from None


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
    checkpoints = exchange.checkpoints.for_audit()  # with any split view a witness refused
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
    click.echo(f"Log vkey: {exchange.checkpointer.signer.verifier().vkey()}")
    for failure in exchange.external_witnesses.submit_latest():
        click.echo(f"Witness did not cosign: {failure}", err=True)


@audit.command("submit")
@click.pass_context
@refusals_as_messages
def submit_command(ctx: click.Context) -> None:
    """Submit the newest checkpoint to the external witnesses (DIVEX_WITNESSES) again."""
    exchange = exchange_of(ctx)
    exchange.follow()
    witnesses = exchange.external_witnesses
    if not witnesses.witnesses:
        raise click.ClickException("No external witness is configured (DIVEX_WITNESSES).")
    failures = witnesses.submit_latest()
    for failure in failures:
        click.echo(f"Witness did not cosign: {failure}", err=True)
    click.echo(f"{len(witnesses.witnesses) - len(failures)} of {len(witnesses.witnesses)} "
               "witnesses cosigned the newest checkpoint.")
    if failures:
        raise click.exceptions.Exit(1)


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
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="The receipt file to write (default: event-ID.tlog-proof).")
@click.pass_context
@refusals_as_messages
def prove_command(ctx: click.Context, notification_id: int, out: Path | None) -> None:
    """Write the event's receipt: a c2sp.org/tlog-proof (its index, inclusion proof and the
    cosigned checkpoint) that `divex audit verify-proof` checks offline."""
    exchange = exchange_of(ctx)
    exchange.follow()
    receipt = exchange.receipt(notification_id)
    path = out or Path(f"event-{notification_id}.tlog-proof")
    try:
        path.write_text(receipt, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror}") from None
    checked = check_receipt(receipt, exchange.checkpointer.signer.verifier())
    click.echo(f"Event {notification_id} is leaf {checked.index} of the checkpoint of "
               f"{checked.size} events of {checked.origin}; receipt written to {path}.")
    click.echo(f"Check it anywhere with: divex audit verify-proof {path} --log-key "
               f"{exchange.checkpointer.signer.verifier().vkey()}")


@audit.command("verify-proof")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--log-key", "log_vkey", required=True, metavar="VKEY",
              help="The log's verifier key (its name is the log's origin).")
@click.option("--witness", "witness_keys", multiple=True, metavar="VKEY",
              help="A witness whose cosignature counts. Repeatable.")
@click.option("--min-witnesses", type=click.IntRange(0), default=0, show_default=True,
              help="Fail unless at least this many of the given witnesses cosigned.")
def verify_proof_command(path: Path, log_vkey: str, witness_keys: tuple[str, ...],
                         min_witnesses: int) -> None:
    """Check a .tlog-proof receipt offline: the log's signature, the witnesses'
    cosignatures, and the event's inclusion in the checkpoint."""
    witnesses = [_vkey(k, "--witness") for k in witness_keys]
    try:
        checked = check_receipt(path.read_text(encoding="utf-8"), _vkey(log_vkey, "--log-key"),
                                witnesses)
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"Cannot read {path}: {error}") from None
    except CryptoError as error:
        raise click.ClickException(f"FAILED: {error}") from None
    header = checked.header
    click.echo(f"Event {header.get('type', '?')} version {header.get('version', '?')} of "
               f"{header.get('aggregate', '?')}, by {header.get('actor_state', '?')} at "
               f"{header.get('timestamp', '?')}: leaf {checked.index} of {checked.size} "
               f"in {checked.origin}.")
    click.echo(f"Cosigned by {len(checked.witnesses)} of the {len(witnesses)} witnesses given"
               + (f": {', '.join(checked.witnesses)}." if checked.witnesses else "."))
    if len(checked.witnesses) < min_witnesses:
        raise click.ClickException(f"FAILED: fewer than {min_witnesses} witnesses cosigned.")
    click.echo("OK: the receipt verifies.")


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
