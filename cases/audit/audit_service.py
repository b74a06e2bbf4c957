"""The auditors' application service: one stored event checked on its own, and the whole log.

Only users with the auditor role use it. They see clear headers and body digests of every
aggregate, whichever state owns it; content stays sealed (they read content only through
`Cases`, where their own state may).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cases.audit.log import Checkpoint, LogRecord, Progress, Verification, verify_log
from cases.identity.directory import SECRETARIAT_CODE, State, state_id
from cases.kernel.errors import Forbidden, NotFound
from cases.kernel.ledger import Ledger
from cases.kernel.viewer import AUDITOR, Viewer
from crypto import GENESIS_HASH, CryptoError
from crypto.signing import signing_bytes_of_digest, verify_signature


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


class AuditTrail:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def verify(self, viewer: Viewer, checkpoints: list[Checkpoint],
               progress: Progress | None = None) -> Verification:
        require_auditor(viewer)
        return verify_log(self.ledger, checkpoints, progress)

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
        return AuditedEvent(record, type(event).__qualname__, not problem, problem, chain_ok,
                            *neighbours)

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


def require_auditor(viewer: Viewer) -> None:
    if not viewer.has(AUDITOR):
        raise Forbidden("Only auditors read the log.")
