"""Kafka producers, consumers and the events topic, configured from `StreamSettings`."""

from __future__ import annotations

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from .settings import StreamSettings


class BrokerUnreachable(Exception):
    """No broker answered at the bootstrap address."""

    def __init__(self, settings: StreamSettings, error: Exception) -> None:
        super().__init__(f"Cannot reach the Kafka broker at {settings.bootstrap} "
                         f"(DIVEX_KAFKA_BOOTSTRAP): {error}")


def producer(settings: StreamSettings) -> KafkaProducer:
    """A producer that waits for every in-sync replica (acks=all) and keeps per-partition
    order when it retries: idempotent, or else one request in flight per connection."""
    order = {"enable_idempotence": True} if settings.idempotent else \
        {"max_in_flight_requests_per_connection": 1}
    try:
        return KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", linger_ms=5,
                             request_timeout_ms=5000, delivery_timeout_ms=15000,
                             max_block_ms=10000, reconnect_backoff_max_ms=2000, **order)
    except KafkaError as error:
        raise BrokerUnreachable(settings, error) from error


def consumer(settings: StreamSettings) -> KafkaConsumer:
    """A member of the projection workers' group; offsets are committed by hand, after the
    read models commit."""
    try:
        return KafkaConsumer(
            settings.topic, bootstrap_servers=settings.bootstrap, group_id=settings.group,
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=500,
            fetch_max_wait_ms=50,  # a broker's fetch returns within 50 ms (lag, not load)
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
            reconnect_backoff_max_ms=2000)
    except KafkaError as error:
        raise BrokerUnreachable(settings, error) from error


def ensure_topic(settings: StreamSettings) -> None:
    """Creates the events topic with the configured partitions, unless it exists."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap)
    except KafkaError as error:
        raise BrokerUnreachable(settings, error) from error
    try:
        admin.create_topics([NewTopic(settings.topic, settings.partitions,
                                      settings.replication)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
