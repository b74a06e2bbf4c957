"""Scale-out end to end: relay and projection workers on PostgreSQL through a real broker.

Read models built by two `divex projections run --source kafka` processes must equal the
in-process projection of the same log, table by table, after concurrent writers, a broker
that dies and comes back empty, a worker killed mid-batch, and a relay that crashed between
publishing and saving its position.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from cases.casework.case import Case
from cases.kernel.sealing import body_context
from cases.kernel.viewer import Viewer
from crypto import CaseKey, unwrap_case_key
from infra.envelope import decode
from infra.relay import Relay
from infra.settings import Settings, StreamSettings
from infra.wiring import Exchange, open_exchange, prepare_store
from tests.broker import Tansu, started_tansu
from tests.conftest import PASSWORD, cli_env, make_settings, rebuilt_from_zero, register_states
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.postgres

# Tansu: a group join waits about half the session timeout, so tests keep it short; its
# memory storage rejects idempotent producers (UnknownError), so the relay runs with one
# request in flight instead.
STREAM = {"partitions": 4, "idempotent": False, "session_timeout_ms": 6000,
          "heartbeat_interval_ms": 1000, "poll_seconds": 0.05, "resend_after_seconds": 15.0}
ENV_NAMES = {"bootstrap": "DIVEX_KAFKA_BOOTSTRAP", "topic": "DIVEX_KAFKA_TOPIC",
             "partitions": "DIVEX_KAFKA_PARTITIONS", "group": "DIVEX_KAFKA_GROUP",
             "session_timeout_ms": "DIVEX_KAFKA_SESSION_TIMEOUT_MS",
             "heartbeat_interval_ms": "DIVEX_KAFKA_HEARTBEAT_MS",
             "poll_seconds": "DIVEX_RELAY_POLL_SECONDS",
             "resend_after_seconds": "DIVEX_RELAY_RESEND_AFTER"}
SUMMARY = {"title": "Rifles found in a cache near the border",
           "narrative": "Forty rifles with erased serials.",
           "point_of_diversion": "at_or_after_delivery",
           "concerned": {"exporter": "DEU", "discovery": "MLI"}}
ITEM = {"category": "small_arms", "quantity": "40", "serial": "SN-123", "make": "Acme"}
NOTE = json.dumps({"text": "Serial numbers checked against the export licence."}).encode()
WRITERS = {"fra.analyst": "DEU", "deu.analyst": "MLI", "mli.analyst": "FRA"}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Tansu]:
    started = started_tansu(tmp_path / "tansu.log")
    yield started
    started.kill()


@pytest.fixture
def exchange(tmp_path: Path, broker: Tansu) -> Iterator[Exchange]:
    """An exchange on a fresh PostgreSQL database whose read models are left to workers."""
    with fresh_postgres_database() as url:
        stream = StreamSettings(bootstrap=broker.bootstrap, topic=f"divex.t{tmp_path.name}",
                                group=f"workers-{tmp_path.name}", **STREAM)
        settings = replace(make_settings(tmp_path, url), projection_source="kafka",
                           stream=stream)
        prepare_store(settings)
        opened = open_exchange(settings)
        register_states(opened.directory)
        yield opened
        opened.close()


def stream_env(exchange: Exchange) -> dict[str, str]:
    stream = asdict(exchange.settings.stream)
    env = cli_env(exchange, DIVEX_PROJECTION_SOURCE="kafka", DIVEX_KAFKA_IDEMPOTENT="0")
    env.update({name: str(stream[field]) for field, name in ENV_NAMES.items()})
    return env


class Divex:
    """A long-running `divex` command in its own process, its output in a file."""

    def __init__(self, exchange: Exchange, log: Path, *args: str) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.cli", *args],
                env={**os.environ, **stream_env(exchange)}, stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert time.monotonic() < deadline, f"no {text!r} in {self.log}:\n{self.output()}"
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def processes(exchange: Exchange, tmp_path: Path) -> Iterator[dict[str, Divex]]:
    """The relay and two projection workers, started in that order."""
    running = {"relay": Divex(exchange, tmp_path / "relay.log", "relay")}
    for name in ("worker1", "worker2"):
        running[name] = Divex(exchange, tmp_path / f"{name}.log", "projections", "run",
                              "--source", "kafka")
    yield running
    for process in running.values():
        process.stop()


def write_cases(settings: Settings, username: str, count: int, notes: int) -> None:
    """One writer (as a web worker would be): it opens ``count`` cases through the services,
    each given an item, shared, moved to investigation and traced (five events on two
    records; some are also proposed for the summaries), then appends ``notes`` sealed notes
    to each, one save per note, concurrently with the other writers."""
    exchange = open_exchange(settings)
    try:
        viewer = exchange.directory.authenticate(username, PASSWORD)
        partner, cases = WRITERS[username], exchange.cases
        opened = []
        for number in range(count):
            case_id = cases.open_case(viewer, SUMMARY)
            item = cases.add_part(viewer, case_id, 1, "item", ITEM)
            cases.share(viewer, case_id, 2, "bilateral", [partner])
            cases.change_status(viewer, case_id, 3, "under_investigation")
            exchange.traces.send(viewer, case_id, partner, [item], "Where were they sold?")
            if number % 10 == 0:  # proposing reads every trace request of the log
                exchange.policy.propose(viewer, case_id)
            opened.append(case_id)
        keyed = [loaded_with_key(exchange, viewer, case_id) for case_id in opened]
        for _ in range(notes):
            for case, key in keyed:
                body = key.seal(NOTE, body_context(case.id, case.version + 1, Case.PartAdded))
                case.add_part(viewer.actor, "note", uuid.uuid4().hex[:12], body)
                exchange.ledger.save(case)
    finally:
        exchange.close()


def loaded_with_key(exchange: Exchange, viewer: Viewer, case_id: UUID) -> tuple[Case, CaseKey]:
    """The case aggregate and its current key, unwrapped with the viewer's state keyring."""
    case: Case = exchange.ledger.repository.get(case_id)
    with exchange.ledger.transaction() as session:
        wrapped = exchange.keystore.wrapped_keys(session, str(case.id), viewer.state)
    return case, unwrap_case_key(wrapped[case.key_version], case_id=str(case.id),
                                 recipient=viewer.state, keyring=viewer.keyring)


def concurrent_writers(exchange: Exchange, cases_each: int,
                       notes: int = 0) -> list[threading.Thread]:
    threads = [threading.Thread(target=write_cases,
                                args=(exchange.settings, user, cases_each, notes))
               for user in WRITERS]
    for thread in threads:
        thread.start()
    return threads


def wait_until_applied(exchange: Exchange, processes: dict[str, Divex],
                       timeout: float = 120) -> None:
    """Until every stream-fed read model holds every stored event."""
    events = exchange.ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p.view.first_unapplied(events) is None for p in exchange.streamable()):
            return
        time.sleep(0.5)
    logs = "\n".join(f"--- {n}\n{p.output()[-3000:]}" for n, p in processes.items())
    raise AssertionError(f"read models did not catch up in {timeout} s\n{logs}")


def assert_equal_to_in_process_projection(exchange: Exchange) -> None:
    """Each worker-built read model, table by table, against replaying the log in-process."""
    for projection in exchange.streamable():
        streamed = projection.view.dump()
        assert any(streamed.values()), projection.name
        assert rebuilt_from_zero(exchange, projection) == streamed, projection.name


def topic_messages(exchange: Exchange) -> list[tuple[int, Any]]:
    """Every message on the topic, as (partition, notification), partition by partition."""
    stream = exchange.settings.stream
    consumer = KafkaConsumer(bootstrap_servers=stream.bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(stream.topic, p)
                  for p in sorted(consumer.partitions_for_topic(stream.topic) or ())]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    found: list[tuple[int, Any]] = []
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 3:
        for part, records in consumer.poll(500).items():
            found += [(part.partition, decode(r.value)) for r in records]
            quiet_since = time.monotonic()
    consumer.close()
    return found


def assert_per_record_order(messages: list[tuple[int, Any]]) -> None:
    """A consumer of any partition meets version n+1 of a record only after version n."""
    seen: dict[UUID, int] = {}
    partition_of: dict[UUID, int] = {}
    for partition, notification in messages:
        record, version = notification.originator_id, notification.originator_version
        assert partition_of.setdefault(record, partition) == partition
        assert version <= seen.get(record, 0) + 1, (record, version, seen.get(record))
        seen[record] = max(seen.get(record, 0), version)


def stored_events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def test_relay_and_two_workers_build_the_read_models_of_5000_events(
        exchange: Exchange, processes: dict[str, Divex]) -> None:
    before = stored_events(exchange)
    for thread in concurrent_writers(exchange, cases_each=20, notes=79):
        thread.join()
    assert stored_events(exchange) - before >= 5000
    wait_until_applied(exchange, processes)
    # Both workers held partitions and applied events.
    assert all("applied" in processes[w].output() for w in ("worker1", "worker2"))
    messages = topic_messages(exchange)
    stored = exchange.ledger.recorder.select_notifications(0, limit=10**6)
    assert sorted(n.id for _, n in messages) == [n.id for n in stored]  # each once
    assert_per_record_order(messages)
    assert_equal_to_in_process_projection(exchange)


def test_broker_lost_mid_stream_everything_is_resent_and_nothing_doubles(
        exchange: Exchange, processes: dict[str, Divex], broker: Tansu) -> None:
    for thread in concurrent_writers(exchange, cases_each=3, notes=5):
        thread.join()
    wait_until_applied(exchange, processes)
    # Messages the broker acknowledged but no worker consumed yet ...
    workers = [processes["worker1"], processes["worker2"]]
    for worker in workers:
        worker.process.send_signal(signal.SIGSTOP)
    for thread in concurrent_writers(exchange, cases_each=3, notes=10):
        thread.join()
    relay = Relay(exchange)  # only to read the saved position
    deadline = time.monotonic() + 60
    while relay.saved_position() < stored_events(exchange):
        assert time.monotonic() < deadline, processes["relay"].output()
        time.sleep(0.2)
    broker.kill()  # ... are lost with everything else: memory storage
    broker.start()
    for worker in workers:
        worker.process.send_signal(signal.SIGCONT)
    for thread in concurrent_writers(exchange, cases_each=2, notes=5):
        thread.join()
    wait_until_applied(exchange, processes)
    relay_log = processes["relay"].output()
    assert "offsets went back; re-sending from notification" in relay_log
    assert_equal_to_in_process_projection(exchange)


def test_a_worker_killed_mid_batch_leaves_its_partitions_to_the_other(
        exchange: Exchange, processes: dict[str, Divex]) -> None:
    writers = concurrent_writers(exchange, cases_each=10, notes=50)
    processes["worker1"].wait_for("applied")
    processes["worker1"].kill()
    for thread in writers:
        thread.join()
    wait_until_applied(exchange, processes)
    assert_equal_to_in_process_projection(exchange)


def test_a_relay_that_crashed_before_saving_its_position_resends_and_duplicates_are_absorbed(
        exchange: Exchange, tmp_path: Path) -> None:
    for thread in concurrent_writers(exchange, cases_each=10):
        thread.join()
    crashed = Relay(exchange)
    crashed.start()
    crashed.publish(crashed.pending())  # acknowledged by the broker ...
    crashed.producer.close()  # type: ignore[union-attr]  # ... and the position never saved
    restarted = Relay(exchange)
    assert restarted.position == 0
    restarted.run(once=True)
    assert restarted.saved_position() == stored_events(exchange)
    workers = {"worker1": Divex(exchange, tmp_path / "worker1.log", "projections", "run",
                                "--source", "kafka")}
    try:
        wait_until_applied(exchange, workers)
    finally:
        workers["worker1"].stop()
    messages = topic_messages(exchange)
    assert len(messages) == 2 * stored_events(exchange)  # every event went out twice
    assert_per_record_order(messages)
    assert "duplicate" in workers["worker1"].output()
    assert_equal_to_in_process_projection(exchange)


def test_a_message_that_is_not_an_event_is_skipped_and_the_worker_goes_on(
        exchange: Exchange, tmp_path: Path) -> None:
    stream = exchange.settings.stream
    producer = KafkaProducer(bootstrap_servers=stream.bootstrap)
    producer.send(stream.topic, key=b"x", value=b"not json").get(10)
    producer.close()
    for thread in concurrent_writers(exchange, cases_each=2):
        thread.join()
    Relay(exchange).run(once=True)
    workers = {"worker1": Divex(exchange, tmp_path / "worker1.log", "projections", "run",
                                "--source", "kafka")}
    try:
        wait_until_applied(exchange, workers)
    finally:
        workers["worker1"].stop()
    assert "skipped message" in workers["worker1"].output()
    assert_equal_to_in_process_projection(exchange)
