"""The `divex projections` commands: rebuild the read models from the log, show positions."""

from __future__ import annotations

import time

import click

from projections.follower import rebuild as rebuild_read_models

from .cli_stream import run_projections
from .cli_support import exchange_of, progress_bar, refusals_as_messages


@click.group()
def projections() -> None:
    """Read models: rebuild them from the log."""


@projections.command("rebuild")
@click.pass_context
@refusals_as_messages
def rebuild(ctx: click.Context) -> None:
    """Drop every read model and replay the whole log into them.

    The log is read and each event decoded once for all the read models, batch by batch.
    Signed checkpoints are records, not read models: they are kept, and the rebuilt audit
    index must give the same Merkle roots (`divex audit verify` checks it).
    """
    exchange = exchange_of(ctx)
    total = exchange.ledger.recorder.max_notification_id() or 0
    rebuilt = exchange.projections()
    started = time.perf_counter()
    names = ", ".join(p.name for p in rebuilt)
    with progress_bar(total, f"Rebuilding {names}") as step:
        applied = rebuild_read_models(exchange.ledger, rebuilt, step)
    seconds = time.perf_counter() - started
    click.echo(f"{names}: {total} events replayed ({applied} applications) in {seconds:.1f} s"
               f" ({total / max(seconds, 1e-9):.0f} events/s)")


@projections.command("run")
@click.option("--source", type=click.Choice(["log", "kafka"]), default="log", show_default=True,
              help="log: follow the event store in-process; kafka: join the workers' consumer "
                   "group on DIVEX_KAFKA_TOPIC.")
@click.option("--once", is_flag=True, help="With --source log: catch up once, then exit.")
@click.pass_context
@refusals_as_messages
def run(ctx: click.Context, source: str, once: bool) -> None:
    """Keep the read models up to date until stopped."""
    run_projections(ctx, source, once)


@projections.command("status")
@click.pass_context
@refusals_as_messages
def status(ctx: click.Context) -> None:
    """Each read model's position against the end of the log."""
    exchange = exchange_of(ctx)
    last = exchange.ledger.recorder.max_notification_id() or 0
    click.echo(f"log: {last} events")
    events = exchange.ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    for projection in exchange.projections():
        if projection in exchange.followed():
            position = projection.view.max_tracking_id(exchange.ledger.name) or 0
            behind = f"{last - position} behind" if position < last else "up to date"
            click.echo(f"  {projection.name}: at {position} ({behind})")
            continue
        lacking = projection.view.first_unapplied(events)
        click.echo(f"  {projection.name} (Kafka workers): " + (
            "up to date" if lacking is None else f"lacks notification {lacking} and later"))
