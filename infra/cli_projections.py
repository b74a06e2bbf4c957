"""The `divex projections` commands: rebuild the read models from the log, show positions."""

from __future__ import annotations

import time

import click

from projections.follower import rebuild as rebuild_read_models

from .cli_stream import run_projections
from .cli_support import exchange_of, progress_bar, refusals_as_messages
from .parallel_rebuild import groups_of, rebuild_in_processes


@click.group()
def projections() -> None:
    """Read models: rebuild them from the log."""


@projections.command("rebuild")
@click.option("--processes", type=click.IntRange(1, 16), default=1, show_default=True,
              help="PostgreSQL only: rebuild the read models in this many processes, each "
                   "reading the log for its group of read models.")
@click.pass_context
@refusals_as_messages
def rebuild(ctx: click.Context, processes: int) -> None:
    """Drop every read model and replay the whole log into them.

    The log is read and each event decoded once for all the read models (of a process's
    group), batch by batch. Signed checkpoints are records, not read models: they are
    kept, and the rebuilt audit index must give the same Merkle roots (`divex audit
    verify` checks it).
    """
    exchange = exchange_of(ctx)
    if processes > 1 and not exchange.settings.is_postgres:
        raise click.UsageError("SQLite takes one writer at a time: rebuild with one process "
                               "(--processes 1), or move the store to PostgreSQL.")
    total = exchange.ledger.recorder.max_notification_id() or 0
    rebuilt = exchange.projections()
    started = time.perf_counter()
    names = ", ".join(p.name for p in rebuilt)
    groups = groups_of([p.name for p in rebuilt], processes)
    with progress_bar(total * len(groups), f"Rebuilding {names}") as step:
        if len(groups) == 1:
            applied = rebuild_read_models(exchange.ledger, rebuilt, step)
        else:
            applied = rebuild_in_processes(exchange.settings, [p.name for p in rebuilt],
                                           processes, step)
    seconds = time.perf_counter() - started
    click.echo(f"{names}: {total} events replayed ({applied} applications) in {seconds:.1f} s"
               f" ({total / max(seconds, 1e-9):.0f} events/s"
               + (f", {len(groups)} processes: {'; '.join(', '.join(g) for g in groups)})"
                  if len(groups) > 1 else ")"))


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
