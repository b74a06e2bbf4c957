"""States and users as last stored, kept in process memory between changes to any of them.

Every request reads its user and their state, and a list page every state; from the log that
was a query (and a fold) for each, and a scan of every state's events. Kept here, each read
first asks the log whether a state or user event was stored since it last looked (one
query: the ids and topics of the events since) and drops what it kept if one was: another
process's change is seen by the next read, as before. Aggregates are handed out as copies,
so a command that changes one and then fails to save leaves nothing changed here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any
from uuid import UUID

from cases.kernel.ledger import Ledger, event_topics


class DirectoryCache:
    """The aggregates of ``kinds`` by id, and all of one kind, as of the newest of their
    events; ``load`` reads one from the log (None if there is none)."""

    def __init__(self, ledger: Ledger, kinds: Iterable[type],
                 load: Callable[[UUID], Any]) -> None:
        self.ledger = ledger
        self.topics = [topic for kind in kinds for topic in event_topics(kind)]
        self.load = load
        self._lock = threading.Lock()
        self._looked = 0  # the log position up to which changes were looked for
        self._mark = 0  # moves at each change seen: what was read under an older one is old
        self._found: dict[UUID, Any] = {}
        self._all: dict[type, list[Any]] = {}

    def get(self, aggregate_id: UUID) -> Any:
        """A copy of the aggregate as last stored, or None."""
        if self.ledger.in_transaction():  # it may hold changes not committed: none kept
            return self.load(aggregate_id)
        mark = self._fresh()
        with self._lock:
            found = self._found.get(aggregate_id)
        if found is None:
            found = self.load(aggregate_id)
            self._keep(mark, lambda: self._found.__setitem__(aggregate_id, found))
        return deepcopy(found)

    def all_of(self, kind: type) -> list[Any]:
        """Every aggregate of the kind, in the order they were started (not copies: for
        reading only)."""
        if self.ledger.in_transaction():
            return self.ledger.all_of(kind)
        mark = self._fresh()
        with self._lock:
            found = self._all.get(kind)
        if found is None:
            found = self.ledger.all_of(kind)
            self._keep(mark, lambda: self._all.__setitem__(kind, found))
        return list(found)

    def _fresh(self) -> int:
        changed, looked = self.ledger.changes_after(self.topics, after=self._looked)
        with self._lock:
            if changed:
                self._found.clear()
                self._all.clear()
                self._mark += 1
            self._looked = max(self._looked, looked)
            return self._mark

    def _keep(self, mark: int, keep: Callable[[], None]) -> None:
        """Keeps what was read after seeing ``mark``, unless a newer change was seen since
        (then it may be older than that change)."""
        with self._lock:
            if mark == self._mark:
                keep()
