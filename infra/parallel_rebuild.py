"""`divex projections rebuild --processes N` on PostgreSQL: the read models split into groups
of about equal replay cost, each group dropped and replayed by a process of its own that
reads and decodes the log itself. One process is bound by its own CPU (threads did not help:
the read models' Python work holds the interpreter lock); the database takes writers in
parallel. SQLite takes one writer at a time, so there the rebuild stays in one process.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from multiprocessing import get_context

from projections.follower import rebuild

from .settings import Settings
from .wiring import open_exchange

# Replay cost per event of each read model, in µs on PostgreSQL: its rate rebuilt alone less
# the shared log read (~50 µs; 2026-12-04). A read model not named costs the median.
REPLAY_COST = {"audit_index": 157, "access_ledger": 145, "case_index": 89, "inbox": 69,
               "policy_summary": 38, "trace_board": 34}


def groups_of(names: list[str], processes: int) -> list[list[str]]:
    """The read models in at most ``processes`` groups of about equal cost, costliest
    placed first, each in the cheapest group so far."""
    median = sorted(REPLAY_COST.values())[len(REPLAY_COST) // 2]
    groups: list[list[str]] = [[] for _ in range(min(processes, len(names)))]
    costs = [0] * len(groups)
    for name in sorted(names, key=lambda n: -REPLAY_COST.get(n, median)):
        cheapest = costs.index(min(costs))
        groups[cheapest].append(name)
        costs[cheapest] += REPLAY_COST.get(name, median)
    return [group for group in groups if group]


def _rebuild_group(settings: Settings, names: list[str], steps: queue.Queue[int]) -> int:
    """Runs in a process of its own: drops and replays the named read models."""
    exchange = open_exchange(settings)
    try:
        chosen = [p for p in exchange.projections() if p.name in names]
        return rebuild(exchange.ledger, chosen, steps.put)
    finally:
        exchange.close()


def rebuild_in_processes(settings: Settings, names: list[str], processes: int,
                         progress: Callable[[int], None]) -> int:
    """Rebuilds the named read models in ``processes`` processes; returns how many
    applications there were. ``progress`` is told each batch of each process."""
    context = get_context("spawn")
    groups = groups_of(names, processes)
    with context.Manager() as manager, ProcessPoolExecutor(len(groups),
                                                           mp_context=context) as pool:
        steps = manager.Queue()
        running = [pool.submit(_rebuild_group, settings, group, steps) for group in groups]
        while wait(running, timeout=0.2).not_done:
            _drain(steps, progress)
        _drain(steps, progress)
        return sum(future.result() for future in running)


def _drain(steps: queue.Queue[int], progress: Callable[[int], None]) -> None:
    while True:
        try:
            progress(steps.get_nowait())
        except queue.Empty:
            return
