"""The sealing kernel: every grant, unwrap, seal and open of sealed content goes through here.

A sealed thing (a case, a trace request, a meeting's lesson) has random data keys, one per key
version, each wrapped for every state allowed to read it; the wrapped keys live in the keystore,
outside the log, and the events record only the grants. Event bodies are JSON sealed under the
current key; their associated data binds the owner's id, the event's version and its type, so
a body cannot be moved to another event. Titles of the case index are sealed the same way.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic

from cases.kernel.errors import DivexError
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import Viewer
from crypto import CaseKey, CryptoError, canonical_json, sha256_hex, unwrap_case_key, wrap_case_key

Keys = Mapping[int, CaseKey]


class StateDirectory(Protocol):
    """Where a grant finds each state's current public keys (the identity directory)."""

    def state(self, code: str) -> Any: ...


def body_context(owner_id: UUID | str, version: int, event_class: type) -> bytes:
    """Associated data of a case's or trace request's event body (the event's stored topic)."""
    return canonical_json({"case": str(owner_id), "version": version,
                           "type": get_topic(event_class)})


def title_context(case_id: UUID | str, version: int) -> bytes:
    """Associated data of a case title as the case index holds it."""
    return canonical_json({"case": str(case_id), "version": version, "field": "title"})


def meeting_context(meeting_id: UUID | str, version: int, event_class: type) -> bytes:
    """Associated data of a meeting's outcome or lesson (the event's class name)."""
    return canonical_json({"meeting": str(meeting_id), "version": version,
                           "type": event_class.__qualname__})


def seal_json(key: CaseKey, content: dict[str, Any], context: bytes) -> bytes:
    return key.seal(json.dumps(content).encode(), context)


def open_json(key: CaseKey, token: bytes, context: bytes) -> dict[str, Any]:
    """Raises `CryptoError` if the token was not sealed under `key` with `context`."""
    return json.loads(key.open(token, context))


def seal_body(key: CaseKey, owner_id: UUID, version: int, event_class: type,
              content: dict[str, Any]) -> bytes:
    """The body of the event `event_class` that will be version `version` of `owner_id`."""
    return seal_json(key, content, body_context(owner_id, version, event_class))


def open_body(keys: Keys, owner_id: UUID, event: Any) -> dict[str, Any] | None:
    """An event's body opened with the key of its key version; None when it has no body or
    the viewer holds no such key. A body that does not open raises `CryptoError`."""
    body = event.body_bytes()
    key = keys.get(getattr(event, "key_version", 0))
    if not body or key is None:
        return None
    return open_json(key, body, body_context(owner_id, event.originator_version, type(event)))


def seal_title(key: CaseKey, case_id: UUID, version: int, title: str) -> str:
    """A title token: '<event version>:<hex of sealed title>' (for the case index)."""
    return f"{version}:{key.seal(title.encode(), title_context(case_id, version)).hex()}"


def open_title(key: CaseKey, case_id: UUID | str, token: str) -> str:
    """Raises `CryptoError` or `ValueError` for a token not sealed under `key` for this case."""
    version, sealed = token.split(":", 1)
    return key.open(bytes.fromhex(sealed), title_context(case_id, int(version))).decode()


@dataclass
class Grant:
    """Keys wrapped for states: the grants an event records, the blobs the keystore keeps."""

    grants: list[dict[str, Any]] = field(default_factory=list)
    wrapped: dict[tuple[int, str], bytes] = field(default_factory=dict)


UNWRAPPED_KEPT = 20_000  # data keys kept unwrapped in a process (~100 bytes each)


class Sealing:
    """Wraps data keys for states and unwraps them with a viewer's keyring.

    A key unwrapped once is kept in the process, by the state, its owner and the wrapped
    blob itself: only a reader whose state holds that very blob in the keystore (the access
    check) asks for it, so a list page does not pay an HPKE unwrap per title on every
    request. Memory only: a stolen database holds no unwrapped key. Shredding forgets them.
    """

    def __init__(self, ledger: Ledger, keystore: KeyStore, directory: StateDirectory) -> None:
        self.ledger = ledger
        self.keystore = keystore
        self.directory = directory
        self._unwrapped: OrderedDict[tuple[str, str, bytes], CaseKey] = OrderedDict()
        self._lock = threading.Lock()

    def grant(self, owner_id: UUID | str, keys: Iterable[CaseKey], states: Iterable[str],
              known: Mapping[str, Any] | None = None) -> Grant:
        """Wraps each key for each state's current public key (``known``: public keys the
        caller looked up already, by state)."""
        granted, keys = Grant(), list(keys)
        for state in states:
            public = (known or {}).get(state) or self.directory.state(state).public_keys
            for key in keys:
                blob = wrap_case_key(key, case_id=str(owner_id), recipient=state,
                                     recipient_keys=public)
                granted.wrapped[(key.version, state)] = blob
                granted.grants.append({"recipient": state, "key_version": key.version,
                                       "wrapped_sha256": sha256_hex(blob)})
        return granted

    def keys(self, viewer: Viewer, owner_id: UUID | str,
             refusal: DivexError) -> dict[int, CaseKey]:
        """Every key version of `owner_id` the viewer's state holds (none: an empty dict);
        a wrapped key that does not open with the viewer's keyring raises `refusal`."""
        with self.ledger.transaction() as session:
            wrapped = self.keystore.wrapped_keys(session, str(owner_id), viewer.state)
        try:
            return {version: self.unwrap(viewer, owner_id, blob)
                    for version, blob in wrapped.items()}
        except CryptoError as error:
            raise refusal from error

    def wrapped_of(self, viewer: Viewer, owner_ids: Iterable[str],
                   ) -> dict[str, dict[int, bytes]]:
        """The wrapped keys the viewer's state holds of several owners, in one query."""
        with self.ledger.transaction() as session:
            return self.keystore.wrapped_keys_of(session, set(owner_ids), viewer.state)

    def unwrap(self, viewer: Viewer, owner_id: UUID | str, blob: bytes) -> CaseKey:
        """Raises `CryptoError` if the blob was not wrapped for the viewer's state and owner."""
        held = (viewer.state, str(owner_id), bytes(blob))
        with self._lock:
            key = self._unwrapped.get(held)
            if key is not None:
                self._unwrapped.move_to_end(held)
                return key
        key = unwrap_case_key(blob, case_id=str(owner_id), recipient=viewer.state,
                              keyring=viewer.keyring)
        with self._lock:
            self._unwrapped[held] = key
            while len(self._unwrapped) > UNWRAPPED_KEPT:
                self._unwrapped.popitem(last=False)
        return key

    def forget(self, owner_id: UUID | str) -> None:
        """Drops the owner's unwrapped keys from this process (its wrapped ones are gone)."""
        with self._lock:
            for held in [h for h in self._unwrapped if h[1] == str(owner_id)]:
                del self._unwrapped[held]
