"""The events of recently read long aggregates (long cases), kept decoded in process memory.

Stored events never change, and they hold only what the store holds (clear headers, sealed
bodies): keeping them costs memory, not secrecy. Reading the 1,000 events of a long case
from the store and decoding them was most of its page's time; with them kept, a read asks
the store only for the events after the last one kept, and for that last one again: if the
store does not hold it as it was kept (read inside a transaction that then rolled back),
every event is read again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

Reader = Callable[[UUID, "int | None"], list[Any]]  # (aggregate id, after version) -> events
ManyReader = Callable[[list[UUID]], dict[UUID, list[Any]]]  # ids -> each one's events


class EventCache:
    """Least recently used aggregates' events, for aggregates of at least ``min_events``
    (short ones cost one quick read) and at most ``max_events`` events kept in all."""

    def __init__(self, read: Reader, read_many: ManyReader, min_events: int = 64,
                 max_events: int = 20_000) -> None:
        self.read = read
        self.read_many = read_many
        self.min_events = min_events
        self.max_events = max_events
        self._kept: OrderedDict[UUID, list[Any]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()

    def events(self, aggregate_id: UUID) -> list[Any]:
        """Every stored event of the aggregate, in version order."""
        with self._lock:
            kept = self._kept.get(aggregate_id)
        events = None
        if kept:
            tail = self.read(aggregate_id, kept[-1].originator_version - 1)
            if tail and _same(tail[0], kept[-1]):
                events = kept + tail[1:]
        if events is None:
            events = self.read(aggregate_id, None)
        self._keep(aggregate_id, events)
        return events

    def events_of(self, aggregate_ids: list[UUID]) -> dict[UUID, list[Any]]:
        """`events` of several aggregates: those not kept are read in one query."""
        with self._lock:
            kept = [i for i in aggregate_ids if i in self._kept]
        found = {i: self.events(i) for i in kept}
        rest = [i for i in aggregate_ids if i not in found]
        if rest:
            for aggregate_id, events in self.read_many(rest).items():
                self._keep(aggregate_id, events)
                found[aggregate_id] = events
        return found

    def _keep(self, aggregate_id: UUID, events: list[Any]) -> None:
        with self._lock:
            self._count -= len(self._kept.pop(aggregate_id, ()))
            if not self.min_events <= len(events) <= self.max_events:
                return
            self._kept[aggregate_id] = events
            self._count += len(events)
            while self._count > self.max_events:
                _, dropped = self._kept.popitem(last=False)
                self._count -= len(dropped)


def _same(stored: Any, kept: Any) -> bool:
    return (stored.originator_version == kept.originator_version
            and getattr(stored, "signature", None) == getattr(kept, "signature", None))
