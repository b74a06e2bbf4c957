"""A projection worker: builds the read models from the Kafka topic, as one member of a
consumer group.

Each event goes through the same projections as in-process (`projections.follower.apply`);
its tracking commits with the view update, and an event applies only as the next version of
its record, so a re-delivered message is absorbed. Offsets are committed after the database
commits: a worker that dies mid-batch leaves its partitions to another, which re-reads from
the last commit. An event that arrives before an earlier version of its record (the broker
lost that one) is left for the relay to re-send in order.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import TopicPartition

from projections.follower import Outcome, apply_batch, tracking_of

from . import kafka_clients
from .envelope import decode
from .wiring import Exchange

log = logging.getLogger("divex.worker")


class StreamWorker:
    """Applies the events of the partitions the group assigns it to the stream-fed read
    models of one exchange."""

    def __init__(self, exchange: Exchange,
                 connect: Callable[[], KafkaConsumer] | None = None) -> None:
        self.exchange = exchange
        self.connect = connect or (lambda: kafka_clients.consumer(exchange.settings.stream))
        self.counts: Counter[Outcome] = Counter()

    def handle(self, batches: dict[TopicPartition, list[ConsumerRecord]]
               ) -> list[TopicPartition]:
        """Applies a poll's messages, from every partition, to every stream-fed projection
        in one transaction (one per partition cost a commit each); if it raced another
        worker (a rebalance), applies them again one by one. Returns the partitions where an
        event came before an earlier version of its record."""
        events, partitions = [], {}
        for partition, records in batches.items():
            for record in records:
                try:
                    notification = decode(record.value)
                except ValueError as error:
                    log.error("skipped message %s/%d@%d: %s", record.topic, record.partition,
                              record.offset, error)
                    continue
                event = self.exchange.ledger.mapper.to_domain_event(notification)
                events.append((tracking_of(self.exchange.ledger, notification), event))
                partitions[notification.id] = partition
        result = apply_batch(self.exchange.ledger, self.exchange.streamable(), events)
        for name, tracking in result.early:
            log.warning("%s: notification %d (%s v%d) came before an earlier version",
                        name, tracking.notification_id, tracking.aggregate_id,
                        tracking.version)
        self.counts.update(result.outcomes)
        return sorted({partitions[t.notification_id] for _, t in result.early})

    def run(self, stop: threading.Event | None = None) -> None:
        """Consumes until ``stop`` is set; leaves the group on the way out."""
        stop = stop or threading.Event()
        consumer = self.connect()
        log.info("worker joined group %s on %s", self.exchange.settings.stream.group,
                 self.exchange.settings.stream.topic)
        try:
            while not stop.is_set():
                batches = consumer.poll(timeout_ms=500)
                early = self.handle(batches) if batches else []
                if early:
                    # The broker lost messages (a restart without storage) and this worker
                    # read past where the relay re-sent them: read the partitions again.
                    log.warning("reading %s again from the start: an earlier version is "
                                "missing", ", ".join(str(p.partition) for p in early))
                    consumer.seek_to_beginning(*early)
                    continue
                if not batches:
                    continue
                # After every event of the batch has committed; not waited for: an offset
                # lost with a worker is re-read by the next owner, and absorbed.
                consumer.commit_async(callback=_committed)
                log.info("applied %d messages (%s)", sum(map(len, batches.values())),
                         ", ".join(f"{o.value} {n}" for o, n in self.counts.items()))
        finally:
            consumer.close()


def _committed(offsets: dict, response: Any) -> None:
    if isinstance(response, Exception):  # a rebalance: the new owner re-reads from before
        log.warning("offsets not committed: %s", response)
