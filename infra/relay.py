"""The relay: publishes every stored event to Kafka, in log order, as it is stored.

The position (last notification published) is saved only after the broker has acknowledged
every message up to it, so a crash re-sends and never skips; consumers absorb duplicates.
When the broker goes away the relay retries with back-off. With projection workers
(`projection_source = "kafka"`) it also watches their low-water mark: after an outage, or when
they have not applied an event for `resend_after_seconds` (a broker that lost messages), it
re-sends from there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Notification
from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import BigInteger, Column, MetaData, String, Table, select

from . import kafka_clients
from .envelope import encode
from .kafka_clients import BrokerUnreachable
from .wiring import Exchange

log = logging.getLogger("divex.relay")

BATCH = 500
MAX_BACKOFF = 30.0

metadata = MetaData()

relay_positions = Table(
    "relay_positions",
    metadata,
    Column("topic", String(249), primary_key=True),
    Column("notification_id", BigInteger, nullable=False),
)


class Relay:
    """Follows the notification log of one exchange into one Kafka topic."""

    def __init__(self, exchange: Exchange,
                 connect: Callable[[], KafkaProducer] | None = None) -> None:
        self.exchange = exchange
        self.settings = exchange.settings.stream
        self.connect = connect or (lambda: kafka_clients.producer(self.settings))
        self.engine = exchange.ledger.recorder.datastore.engine  # type: ignore[attr-defined]
        metadata.create_all(self.engine)
        self.position = self.saved_position()
        self.producer: KafkaProducer | None = None
        self._low: int | None = None  # the workers' low-water mark when last checked
        self._low_since = self._checked = time.monotonic()
        self._applied_below = 0
        self._resends = 1  # re-sends from the same mark, for back-off
        self._offsets: dict[int, int] = {}  # the last offset acknowledged in each partition

    # -- position ---------------------------------------------------------------------------

    def saved_position(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(relay_positions.c.notification_id).where(
                relay_positions.c.topic == self.settings.topic)).scalar() or 0

    def save_position(self, notification_id: int) -> None:
        with self.engine.begin() as connection:
            moved = connection.execute(relay_positions.update().where(
                relay_positions.c.topic == self.settings.topic).values(
                notification_id=notification_id)).rowcount
            if not moved:
                connection.execute(relay_positions.insert().values(
                    topic=self.settings.topic, notification_id=notification_id))
        self.position = notification_id

    # -- publishing -------------------------------------------------------------------------

    def start(self) -> None:
        """Connects and creates the topic; BrokerUnreachable if no broker answers."""
        kafka_clients.ensure_topic(self.settings)
        self.producer = self.connect()
        log.info("relay connected to %s, topic %s, from notification %d",
                 self.settings.bootstrap, self.settings.topic, self.position)

    def pending(self) -> list[Notification]:
        return self.exchange.ledger.recorder.select_notifications(
            self.position, limit=BATCH, inclusive_of_start=False)

    def publish(self, notifications: Sequence[Notification]) -> list[Any]:
        """Sends the events and waits until the broker has acknowledged every one (returns
        the acknowledgements); raises KafkaError otherwise. Does not move the position."""
        assert self.producer is not None, "start() first"
        sent = []
        for notification in notifications:
            key, value = encode(notification)
            sent.append(self.producer.send(self.settings.topic, key=key, value=value))
        self.producer.flush(timeout=self.settings.session_timeout_ms / 1000)
        return [future.get(timeout=0) for future in sent]  # raises a send's error

    def _check_offsets(self, acknowledged: list[Any]) -> None:
        """Offsets only grow in a partition; one that goes back means the broker lost what
        it had acknowledged (a restart without storage, a topic deleted): re-send what the
        workers lack."""
        regressed = False
        for metadata in acknowledged:
            regressed |= metadata.offset <= self._offsets.get(metadata.partition, -1)
            self._offsets[metadata.partition] = metadata.offset
        if regressed:
            self._offsets = {m.partition: m.offset for m in acknowledged}
            self._rewind("the broker's offsets went back")

    def step(self) -> int:
        """Publishes the next batch and saves the position; returns how many were sent."""
        notifications = self.pending()
        if notifications:
            acknowledged = self.publish(notifications)
            self.save_position(notifications[-1].id)
            log.info("published notifications %d-%d", notifications[0].id,
                     notifications[-1].id)
            self._check_offsets(acknowledged)
        return len(notifications)

    def run(self, stop: threading.Event | None = None, once: bool = False) -> None:
        """Publishes until ``stop`` is set (or, with ``once``, until the log is published)."""
        stop = stop or threading.Event()
        self.start()
        backoff = 0.5
        while not stop.is_set():
            try:
                sent = self.step()
            except KafkaError as error:
                # Tansu 0.6 on memory storage refuses idempotent producers with just this.
                hint = ("; if the broker refuses idempotent producers, set "
                        "DIVEX_KAFKA_IDEMPOTENT=0" if self.settings.idempotent
                        and type(error).__name__ == "UnknownError" else "")
                log.warning("broker unavailable (%s%s); retrying in %.1f s",
                            type(error).__name__, hint, backoff)
                self._drop_producer()
                if stop.wait(backoff):
                    break
                backoff = min(backoff * 2, MAX_BACKOFF)
                self._reconnect()
                continue
            backoff = 0.5
            if sent:
                continue
            if once:
                break
            self._resend_if_stalled()
            stop.wait(self.settings.poll_seconds)
        self._drop_producer()

    def _drop_producer(self) -> None:
        if self.producer is not None:
            self.producer.close(timeout=1)
            self.producer = None

    def _reconnect(self) -> None:
        """A new producer after an outage, and a rewind to what the workers lack: a broker
        that restarted may have lost what it had acknowledged."""
        try:
            self.start()
        except (BrokerUnreachable, KafkaError):
            return  # step() fails again and backs off
        self._rewind("the broker is back")

    def _rewind(self, why: str) -> None:
        """Moves the position back to the first event the projection workers lack."""
        low = self.low_water_mark()
        if low is not None and low <= self.position:
            log.warning("%s; re-sending from notification %d, the first the projection "
                        "workers have not applied", why, low)
            self.position = low - 1

    # -- projection workers' low-water mark -------------------------------------------------

    def low_water_mark(self) -> int | None:
        """The first notification some stream-fed read model has not applied, or None."""
        if self.exchange.settings.projection_source != "kafka":
            return None
        events = self.exchange.ledger.recorder.events_record_cls.__table__  # type: ignore
        marks = [p.view.first_unapplied(events, after=self._applied_below)
                 for p in self.exchange.streamable()]
        low = min((m for m in marks if m is not None), default=None)
        # Everything below the mark is applied for good: later scans start there.
        self._applied_below = (low if low is not None else self.position + 1) - 1
        return low

    def _resend_if_stalled(self) -> None:
        now = time.monotonic()
        if now - self._checked < max(1.0, self.settings.resend_after_seconds / 3):
            return
        self._checked = now
        low = self.low_water_mark()
        if low is None or low > self.position or low != self._low:
            self._low, self._low_since, self._resends = low, now, 1
            return
        if now - self._low_since >= self.settings.resend_after_seconds * self._resends:
            log.warning("projection workers have not applied notification %d for %.0f s; "
                        "re-sending from notification %d", low, now - self._low_since, low)
            self.position = low - 1
            self._low_since = now
            self._resends = min(self._resends * 2, 64)  # still stuck: wait longer next time
