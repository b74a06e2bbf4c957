"""Benchmark (run by hand, not a test): figures that grow with the log, at 1k, 10k and 100k
events (and 1M with --max), on SQLite and PostgreSQL, each with its goal (issue 26).

Figures measured so far:

- **witness step**: the consistency proof a member state's witness asks at sign-in, from the
  checkpoint it cosigned last (1,000 events back) to the newest one. Before: every leaf of
  the log read and hashed (`crypto.merkle.consistency_proof`, timed in the same run as
  "every leaf"); now: the stored subtree roots (`projections.subtrees`). Goal < 5 ms.
- **receipt proof**: the inclusion proof of an event under the newest checkpoint (a receipt,
  `divex audit prove`), the same two ways. Goal < 5 ms.
- **rebuild**: `divex projections rebuild` of every read model over a log of real sealed,
  signed case events (`bench/verify.py`'s log: cases of 20 events by five states, a key
  rotation halfway), in events/s; "before" is one pass over the log per read model, as the
  command did before, timed in the same run. Goal >= 10,000 events/s on SQLite, >= 5,000 on
  PostgreSQL. Its sizes stop at 100k unless --max (a 1M-event log takes long to build).

- **case page, 1,000 events** and **time travel to version 1,000**: `Cases.view_with_history`
  and `Cases.view(version=1000)` of one case of 1,000 events (notes of ~70 characters), in
  ms; "before" is the same call with the process's event cache turned off (every event read
  and decoded from the store, as before it). Goal < 20 ms.
- **follow on the next request**: `Exchange.follow()` on the request that comes 5 ms after
  a change (a redirect's round trip), with the background follower of `divex serve` running;
  "before" is the same without it (the request applies the change). Goal < 1 ms.
- **append crypto / floor**: the divex crypto of one appended note (seal, header, sign,
  hash, in memory) against the primitives alone (AES-GCM seal, Ed25519 sign, SHA-256 of
  the body), both timed in this run. Goal <= 2.

The log's index is filled with synthetic event hashes (the tree looks only at hashes and
positions), so a size of 1M builds in about a minute. The first proof after the fill also
stores the subtree roots (what a deployment does once, when its checkpointer first signs after
the upgrade); it is printed apart as "first". Prints one row per figure, backend and size,
and the line ``goal met: N of M``.

    .venv/bin/python bench/scale.py [--max] [--backend both|sqlite|postgres] [--repeat 20]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import create_engine, insert, text
from verify import build_log  # bench/verify.py

from cases.casework.case import Case
from cases.kernel.sealing import body_context, seal_body
from crypto.merkle import consistency_proof, inclusion_proof
from infra.settings import Settings, sqlite_url
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.audit_index import audit_log
from projections.follower import catch_up, rebuild

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import register_states

GOAL_MS = {"witness step": 5.0, "receipt proof": 5.0, "case page 1k": 20.0,
           "time travel 1k": 20.0, "follow next req": 1.0}
GOAL_APPEND = 2.0  # divex crypto per appended event / primitive floor
GOAL_REBUILD = {"sqlite": 10_000, "postgres": 5_000}  # events/s
BACK = 1000  # events since the checkpoint the witness cosigned last
SUMMARY = {"title": "Rifles diverted at a port", "narrative": "Twelve rifles.",
           "point_of_diversion": "in_transit", "concerned": {"exporter": "DEU"}}
POSTGRES = os.environ.get("DIVEX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_postgres(name: str) -> str:
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        db.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}"


def open_store(backend: str, folder: Path) -> Exchange:
    folder.mkdir(parents=True, exist_ok=True)
    url = sqlite_url(folder) if backend == "sqlite" else fresh_postgres("divex_bench_scale")
    settings = Settings(data_dir=folder, database_url=url, secret_key="bench",
                        kdf_memory_kib=8, kdf_iterations=1, kdf_lanes=1)
    prepare_store(settings)
    return open_exchange(settings)


def grow(exchange: Exchange, size: int) -> None:
    """Adds synthetic leaves to the audit index up to ``size``."""
    index = exchange.checkpointer.index
    start, moment = index.count(), datetime(2026, 1, 1, tzinfo=UTC)
    with index.datastore.engine.begin() as db:
        for first in range(start, size, 20_000):
            db.execute(insert(audit_log), [
                {"notification_id": 10_000_000 + p, "position": p,
                 "aggregate_id": "00000000-0000-0000-0000-000000000000",
                 "aggregate_kind": "case", "version": p, "event_type": "Synthetic",
                 "timestamp": moment, "actor_state": "FRA", "actor_user": "bench",
                 "event_hash": hashlib.sha256(p.to_bytes(8, "big")).hexdigest()}
                for p in range(first, min(first + 20_000, size))])


def best_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(backend: str, sizes: list[int], repeat: int) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        exchange = open_store(backend, Path(folder))
        checkpointer = exchange.checkpointer
        for size in sizes:
            grow(exchange, size)
            began = time.perf_counter()
            checkpointer.consistency(size - BACK, size)
            first = (time.perf_counter() - began) * 1000
            now = best_ms(lambda s=size: checkpointer.consistency(s - BACK, s), repeat)
            before = best_ms(lambda s=size: consistency_proof(checkpointer.leaves(s), s - BACK),
                             max(1, repeat // 10))
            rows.append(("witness step", backend, size, now, before, first))
            now = best_ms(lambda s=size: checkpointer.inclusion(s // 3, s), repeat)
            before = best_ms(lambda s=size: inclusion_proof(checkpointer.leaves(s), s // 3),
                             max(1, repeat // 10))
            rows.append(("receipt proof", backend, size, now, before, None))
        exchange.close()
    return rows


def measure_rebuild(backend: str, sizes: list[int]) -> list[tuple]:
    """events/s of the rebuild, single pass (now) and one pass per read model (before)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            exchange = open_store(backend, Path(folder) / str(size))
            build_log(exchange, size)
            events = exchange.ledger.recorder.max_notification_id() or 0
            projections = exchange.projections()
            began = time.perf_counter()
            rebuild(exchange.ledger, projections)
            now = events / (time.perf_counter() - began)
            began = time.perf_counter()
            for projection in projections:
                projection.view.drop()
                projection.view.create_table()
                catch_up(exchange.ledger, [projection])
            before = events / (time.perf_counter() - began)
            rows.append(("rebuild", backend, events, now, before))
            exchange.close()
    return rows


def long_case(exchange: Exchange, events: int) -> tuple[Any, UUID]:
    """A case of FRA's with ``events`` events (sealed notes, built in memory, saved in
    chunks); returns FRA's analyst and the case id."""
    fra = register_states(exchange.directory)["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    case = exchange.ledger.repository.get(case_id)
    key = exchange.cases.keys_to_read(fra, case_id)[1][case.key_version]
    while case.version < events:
        case.add_part(fra.actor, "note", uuid.uuid4().hex[:12], seal_body(
            key, case.id, case.version + 1, Case.PartAdded,
            {"text": f"Note {case.version}: twelve rifles seen at the port, KR-{case.version}."}))
        if case.version % 200 == 0:
            exchange.ledger.save(case)
    exchange.ledger.save(case)
    return fra, case_id


def measure_requests(backend: str, repeat: int) -> list[tuple]:
    """The long-case figures and the follow on the request after a change."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        exchange = open_store(backend, Path(folder))
        fra, case_id = long_case(exchange, 1000)
        exchange.follow()
        cases, recent = exchange.cases, exchange.ledger.recent
        for figure, call in (("case page 1k", lambda: cases.view_with_history(fra, case_id)),
                             ("time travel 1k", lambda: cases.view(fra, case_id, 1000))):
            call()
            now = best_ms(call, repeat)
            kept, recent.max_events = recent.max_events, 0
            before = best_ms(call, repeat)
            recent.max_events = kept
            rows.append((figure, backend, 1000, now, before, None))
        other = exchange.cases.open_case(fra, SUMMARY)
        version = 1

        def next_request() -> None:
            nonlocal version
            exchange.cases.add_part(fra, other, version, "note", {"text": f"Seen {version}."})
            version += 1
            time.sleep(0.005)

        def timed_follow() -> float:
            next_request()
            began = time.perf_counter()
            exchange.follow()
            return (time.perf_counter() - began) * 1000

        before = statistics.median(timed_follow() for _ in range(repeat))
        stop = exchange.start_following(every=1.0)
        now = statistics.median(timed_follow() for _ in range(repeat))
        stop()
        rows.append(("follow next req", backend, exchange.ledger.recorder.max_notification_id(),
                     now, before, None))
        exchange.close()
    return rows


def measure_append(repeat: int, n: int = 2000) -> tuple[float, float]:
    """µs per appended note: divex crypto in memory, and the primitives alone."""
    with tempfile.TemporaryDirectory() as folder:
        exchange = open_store("sqlite", Path(folder))
        fra = register_states(exchange.directory)["FRA"]
        case_id = exchange.cases.open_case(fra, SUMMARY)
        case = exchange.ledger.repository.get(case_id)
        key = exchange.cases.keys_to_read(fra, case_id)[1][case.key_version]
        text = json.dumps({"text": "x" * 1024}).encode()

        def divex() -> None:
            for _ in range(n):
                case.add_part(fra.actor, "note", uuid.uuid4().hex[:12], key.seal(
                    text, body_context(case.id, case.version + 1, Case.PartAdded)))
                case.collect_events()

        def floor() -> None:
            for _ in range(n):
                sealed = key.seal(text, b"context")
                fra.actor.keys.sign(hashlib.sha256(sealed).digest())

        now = best_ms(divex, repeat) * 1000 / n
        base = best_ms(floor, repeat) * 1000 / n
        exchange.close()
    return now, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", action="store_true", help="also 1,000,000 events")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    sizes = [1_000 + BACK, 10_000, 100_000] + ([1_000_000] if args.max else [])
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    rows = [row for backend in backends for row in measure(backend, sizes, args.repeat)]
    rows += [row for backend in backends for row in measure_requests(backend, args.repeat)]
    print("(before: every leaf for the proofs; without the event cache for the long case; "
          "without the background follower for follow)")
    print(f"{'figure':<16} {'backend':<9} {'events':>9} {'now ms':>8} {'before ms':>14} "
          f"{'speed-up':>9} {'first ms':>9} {'goal ms':>8} {'now/goal':>9}")
    met = 0
    for figure, backend, size, now, before, first in rows:
        goal = GOAL_MS[figure]
        met += now < goal
        print(f"{figure:<16} {backend:<9} {size:>9,} {now:>8.2f} {before:>14.1f} "
              f"{before / now:>8.0f}x {'' if first is None else f'{first:.0f}':>9} "
              f"{goal:>8.1f} {now / goal:>9.2f}")
    rebuilt = [row for backend in backends for row in measure_rebuild(
        backend, [2_000, 10_000, 100_000] + ([1_000_000] if args.max else []))]
    print(f"\n{'figure':<14} {'backend':<9} {'events':>9} {'now ev/s':>9} {'before ev/s':>12} "
          f"{'speed-up':>9} {'goal ev/s':>10} {'now/goal':>9}")
    for figure, backend, events, now, before in rebuilt:
        goal = GOAL_REBUILD[backend]
        met += now >= goal
        print(f"{figure:<14} {backend:<9} {events:>9,} {now:>9.0f} {before:>12.0f} "
              f"{now / before:>8.1f}x {goal:>10,} {now / goal:>9.2f}")
    now, floor = measure_append(max(3, args.repeat // 4))
    met += now / floor <= GOAL_APPEND
    print(f"\nappend crypto: {now:.0f} us per event, primitive floor {floor:.0f} us: "
          f"ratio {now / floor:.2f} (goal <= {GOAL_APPEND})")
    print(f"goal met: {met} of {len(rows) + len(rebuilt) + 1}")


if __name__ == "__main__":
    main()
