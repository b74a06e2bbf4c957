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
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from verify import build_log  # bench/verify.py

from crypto.merkle import consistency_proof, inclusion_proof
from infra.settings import Settings, sqlite_url
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.audit_index import audit_log
from projections.follower import catch_up, rebuild

GOAL_MS = {"witness step": 5.0, "receipt proof": 5.0}
GOAL_REBUILD = {"sqlite": 10_000, "postgres": 5_000}  # events/s
BACK = 1000  # events since the checkpoint the witness cosigned last
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", action="store_true", help="also 1,000,000 events")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    sizes = [1_000 + BACK, 10_000, 100_000] + ([1_000_000] if args.max else [])
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    rows = [row for backend in backends for row in measure(backend, sizes, args.repeat)]
    print(f"{'figure':<14} {'backend':<9} {'events':>9} {'now ms':>8} {'every leaf ms':>14} "
          f"{'speed-up':>9} {'first ms':>9} {'goal ms':>8} {'now/goal':>9}")
    met = 0
    for figure, backend, size, now, before, first in rows:
        goal = GOAL_MS[figure]
        met += now < goal
        print(f"{figure:<14} {backend:<9} {size:>9,} {now:>8.2f} {before:>14.1f} "
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
    print(f"goal met: {met} of {len(rows) + len(rebuilt)}")


if __name__ == "__main__":
    main()
