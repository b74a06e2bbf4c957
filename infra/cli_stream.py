"""Long-running commands of a scaled-out exchange: `divex relay` and
`divex projections run`. Both stop cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading

import click

from .cli_support import exchange_of, refusals_as_messages
from .kafka_clients import BrokerUnreachable


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so a loop can finish its batch and leave."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop


def log_lines() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # reconnect chatter: we log outages


@click.command()
@click.option("--once", is_flag=True, help="Publish what the log holds, then exit.")
@click.pass_context
@refusals_as_messages
def relay(ctx: click.Context, once: bool) -> None:
    """Publish every stored event to Kafka (DIVEX_KAFKA_*), in log order, as it is stored."""
    from .relay import Relay

    log_lines()
    exchange = exchange_of(ctx)
    try:
        Relay(exchange).run(threading.Event() if once else stop_on_signals(), once=once)
    except BrokerUnreachable as error:
        raise click.ClickException(str(error)) from None


def run_projections(ctx: click.Context, source: str, once: bool) -> None:
    """Builds the read models from the log or, as a consumer group member, from Kafka."""
    log_lines()
    exchange = exchange_of(ctx)
    stop = stop_on_signals()
    if source == "log":
        while True:
            applied = exchange.follow()
            if applied:
                logging.getLogger("divex.follower").info(
                    "%d event applications to the read models", applied)
            if once or stop.wait(exchange.settings.follow_seconds):
                return
    from .stream_worker import StreamWorker

    if exchange.settings.projection_source != "kafka":
        raise click.ClickException(
            "Set DIVEX_PROJECTION_SOURCE=kafka for every process of the exchange first, so "
            "the web app leaves these read models to the workers.")
    try:
        StreamWorker(exchange).run(stop)
    except BrokerUnreachable as error:
        raise click.ClickException(str(error)) from None
