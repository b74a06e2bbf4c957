"""Checks the stored log: version continuity, hash chain and signatures, per aggregate.

Each signature is checked against the key version the event names, which must be one the
acting state had published at the time of the event (its key history in the directory).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from crypto import GENESIS_HASH, CryptoError, verify_event

from .directory import State, state_id
from .errors import NotFound
from .ledger import Ledger


@dataclass(frozen=True)
class Finding:
    """The first bad record: where it is and which check failed."""

    notification_id: int
    aggregate: str
    version: int
    check: str
    detail: str


@dataclass(frozen=True)
class Verification:
    events_checked: int
    finding: Finding | None

    @property
    def ok(self) -> bool:
        return self.finding is None


def stored_events(ledger: Ledger, batch: int = 500) -> Iterator[tuple[int, Any]]:
    """Every stored event in notification order, decoded."""
    start = None
    while True:
        page = ledger.recorder.select_notifications(start, limit=batch,
                                                    inclusive_of_start=False)
        for notification in page:
            yield notification.id, ledger.mapper.to_domain_event(notification)
        if len(page) < batch:
            return
        start = page[-1].id


def verify_log(ledger: Ledger) -> Verification:
    """Walks the whole log; stops at the first bad record."""
    heads: dict[UUID, tuple[int, str]] = {}
    states: dict[str, State] = {}
    checked = 0
    for notification_id, event in stored_events(ledger):
        version, head = heads.get(event.originator_id, (0, GENESIS_HASH))
        failure = _check(ledger, states, event, version, head)
        if failure:
            return Verification(checked, Finding(notification_id, str(event.originator_id),
                                                 event.originator_version, *failure))
        heads[event.originator_id] = (event.originator_version, event.hash())
        checked += 1
    return Verification(checked, None)


def _check(ledger: Ledger, states: dict[str, State], event: Any, version: int,
           head: str) -> tuple[str, str] | None:
    """The failed check and why, or None when the event is sound."""
    if event.originator_version != version + 1:
        return "version", f"expected version {version + 1}"
    if event.prev_hash != head:
        return "chain", "prev_hash does not match the previous event's hash"
    try:
        if event.actor_state not in states:
            states[event.actor_state] = ledger.repository.get(state_id(event.actor_state))
        state = states[event.actor_state]
        keys = state.public_keys_at(event.signing_key_version)
        if keys.version > state.keys_valid_at(event.timestamp).version:
            return "signature", "signed with a key published after the event"
        verify_event(keys.signing, event.header(), event.body_bytes(),
                     bytes.fromhex(event.signature))
    except (CryptoError, ValueError) as error:
        return "signature", str(error)
    except (NotFound, AggregateNotFoundError) as error:
        return "signature", f"no key to check against: {error}"
    return None
