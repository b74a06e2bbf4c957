"""The auditors' application service: one stored event checked on its own, and the whole log.

Only users with the auditor role use it. They see, of every event, its ids, type, time, key
versions, digests and signature checks. The rest of a clear header (a status, a part's kind,
the acting user, the recipients) they see only for the cases and trace requests their own state
reads; content stays sealed (they read content only through `Cases`, where their state may).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cases.audit.checkpoint import Checkpoint
from cases.audit.log import LogRecord, Progress, Verification, verify_log
from cases.identity.directory import SECRETARIAT_CODE, State, state_id
from cases.kernel.errors import Forbidden, NotFound
from cases.kernel.keystore import KeyStore
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import AUDITOR, Viewer
from crypto import GENESIS_HASH, CryptoError
from crypto.note import Verifier
from crypto.signing import signing_bytes_of_digest, verify_signature

# Aggregates whose events concern one state's sealed case, and the header fields every auditor
# sees of them: what verification and routing need, and nothing of what the case says.
SEALED_KINDS = ("Case", "TraceRequest")
ALWAYS_SHOWN = {"type", "aggregate", "version", "timestamp", "actor_state",
                "signing_key_version", "key_version", "prev_hash"}
WITHHELD = "(withheld: your state does not read this case)"


@dataclass(frozen=True)
class AuditedEvent:
    """One stored event as the audit page shows it."""

    record: LogRecord
    kind: str
    signature_ok: bool
    signature_problem: str
    chain_ok: bool
    previous: int | None  # notification id of the aggregate's previous event
    next: int | None
    withheld: bool = False  # of a case the auditor's state does not read
    WITHHELD = WITHHELD  # the value shown in place of a withheld field

    @property
    def shown_header(self) -> dict[str, Any]:
        """The clear header as this auditor may see it (checked in full either way)."""
        header = self.record.header
        if not self.withheld:
            return dict(header)
        return {k: v if k in ALWAYS_SHOWN else WITHHELD for k, v in header.items()}


class AuditTrail:
    def __init__(self, ledger: Ledger, keystore: KeyStore) -> None:
        self.ledger = ledger
        self.keystore = keystore

    def withheld(self, viewer: Viewer, rows: Iterable[Any]) -> set[str]:
        """Of audit rows (``aggregate_id``, ``aggregate_kind``), the ids of the cases and trace
        requests whose headers the viewer's state may not see in full: it holds no key."""
        sealed = {r.aggregate_id for r in rows if r.aggregate_kind in SEALED_KINDS}
        if not sealed:
            return set()
        with self.ledger.transaction() as session:
            held = self.keystore.wrapped_keys_of(session, sealed, viewer.state)
        return sealed - set(held)

    def verify(self, viewer: Viewer, checkpoints: list[Checkpoint],
               progress: Progress | None = None,
               witnesses: Iterable[Verifier] = ()) -> Verification:
        require_auditor(viewer)
        return verify_log(self.ledger, checkpoints, progress, witnesses=witnesses)

    def event(self, viewer: Viewer, notification_id: int,
              neighbours: tuple[int | None, int | None]) -> AuditedEvent:
        """The event with that notification id, its signature checked against the key its
        state had then, and its link to the aggregate's previous event.

        ``neighbours`` are the notification ids of the previous and next events of the same
        aggregate (from the audit index).
        """
        require_auditor(viewer)
        record, event = self._load(notification_id)
        problem = self._signature_problem(record)
        if record.version == 1:
            chain_ok = record.header.get("prev_hash") == GENESIS_HASH
        else:
            previous = self._load(neighbours[0])[1] if neighbours[0] else None
            chain_ok = previous is not None and previous.hash() == record.header.get("prev_hash")
        kind = type(event).__qualname__
        row = _Row(record.aggregate, kind.split(".")[0])
        return AuditedEvent(record, kind, not problem, problem, chain_ok, *neighbours,
                            withheld=bool(self.withheld(viewer, [row])))

    def record(self, notification_id: int) -> LogRecord:
        """The stored event as an auditor's record (for its receipt)."""
        return self._load(notification_id)[0]

    def _load(self, notification_id: int) -> tuple[LogRecord, Any]:
        page = self.ledger.recorder.select_notifications(notification_id, limit=1)
        if not page or page[0].id != notification_id:
            raise NotFound("No event with notification id %(id)s.", id=notification_id)
        event = self.ledger.mapper.to_domain_event(page[0])
        return LogRecord.of(notification_id, event), event

    def _signature_problem(self, record: LogRecord) -> str:
        """Empty when the signature holds against the key the state had at the time."""
        header = record.header
        try:
            state = self.ledger.repository.get(state_id(header["actor_state"]))
            if not isinstance(state, State):
                return f"{header['actor_state']} is not a registered state"
            keys = state.public_keys_at(int(header["signing_key_version"]))
            self_signed = state.code == SECRETARIAT_CODE and record.version == 1 \
                and record.aggregate == str(state.id)
            if not self_signed and keys.version > state.keys_valid_at(record.timestamp).version:
                return "signed with a key published after the event"
            verify_signature(keys.signing, signing_bytes_of_digest(header, record.body_sha256),
                             bytes.fromhex(record.signature))
        except CryptoError:
            return "the signature does not match the header and body"
        except (NotFound, KeyError, ValueError) as error:
            return f"no key to check against: {error}"
        return ""


@dataclass(frozen=True)
class _Row:
    aggregate_id: str
    aggregate_kind: str


def require_auditor(viewer: Viewer) -> None:
    if not viewer.has(AUDITOR):
        raise Forbidden("Only auditors read the log.")
