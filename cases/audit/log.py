"""Proves the log complete and unaltered, from what an auditor holds: no bodies, no keys.

The auditor's view of an event is a `LogRecord`: its clear header, the SHA-256 of its sealed
body and its signature. From records alone `verify` checks, per aggregate, version continuity
and the hash chain; every signature against the key the acting state had published at that
time (the key history is read from the log itself, starting from the secretariat's
self-signed registration); and every `Checkpoint`: its Merkle root over the records' hashes,
the log key's signature and each witness state's cosignature. The same code runs on the live
store and on an exported bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic

from cases.audit.checkpoint import Checkpoint
from cases.audit.signature_checks import Job, SignatureChecks
from cases.identity.directory import SECRETARIAT_CODE, State
from cases.identity.invitations import FIRST_ADMIN, Invitation
from cases.kernel.ledger import Ledger
from crypto import GENESIS_HASH, CryptoError, canonical_json, sha256_hex
from crypto.chain import event_hash_of_encoded
from crypto.logkey import key_fingerprint
from crypto.merkle import EMPTY_ROOT, CompactRange, leaf_hash
from crypto.note import ED25519, CosignatureVerifier, Ed25519Verifier, Verifier, key_id
from crypto.signing import signing_bytes_of_encoded, verify_signature

_REGISTERED = get_topic(State.Registered)
_ROTATED = get_topic(State.KeysRotated)
_LOG_KEY = get_topic(State.LogKeyPublished)
_INVITED = get_topic(Invitation.Issued)
_COSIGNING_KEY = get_topic(State.CosigningKeyNamed)
_COSIGNING_KEY_UNVERSIONED = get_topic(State.CosigningKeyPublished)


@dataclass(frozen=True)
class LogRecord:
    """One stored event as an auditor sees it."""

    notification_id: int
    header: dict[str, Any]
    body_sha256: str
    signature: str

    @classmethod
    def of(cls, notification_id: int, event: Any) -> LogRecord:
        return cls(notification_id, event.header(), sha256_hex(event.body_bytes()),
                   event.signature)

    @property
    def aggregate(self) -> str:
        return str(self.header.get("aggregate", ""))

    @property
    def version(self) -> int:
        return int(self.header.get("version", 0))

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.header["timestamp"])

    def hash(self) -> str:
        return event_hash_of_encoded(self.encoded_header(), self.body_sha256, self.signature)

    def encoded_header(self) -> bytes:
        """The header's canonical JSON, encoded once for both the signature and the hash."""
        if "_encoded" not in self.__dict__:
            object.__setattr__(self, "_encoded", canonical_json(self.header))
        return self.__dict__["_encoded"]


def merkle_leaf(record_hash: str) -> bytes:
    """The RFC 6962 leaf hash of one event in the tree (its data is the event's hash)."""
    return leaf_hash(bytes.fromhex(record_hash))


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
    checkpoints_checked: int = 0
    cosignatures_checked: int = 0
    trust: dict[str, str] = field(default_factory=dict)
    keys: dict[str, Any] = field(default_factory=dict)  # the key history the log publishes

    @property
    def ok(self) -> bool:
        return self.finding is None


class KeyHistory:
    """Every public signing key the log has published, with the moment it took effect."""

    def __init__(self) -> None:
        self.states: dict[str, list[tuple[datetime, int, bytes]]] = {}
        self.log_keys: dict[str, tuple[datetime, bytes]] = {}
        # Member states' witness keys: (name, key ID hex) -> since, state, version, verifier.
        self.witnesses: dict[tuple[str, str],
                             tuple[datetime, str, int | None, CosignatureVerifier]] = {}
        self._codes: dict[str, str] = {}  # state aggregate id -> state code
        # States whose first admin the secretariat invited: their registration is
        # self-signed with the key made when the admin accepted (cases.onboarding_service).
        self.invited: set[str] = set()

    def learn(self, record: LogRecord) -> None:
        """Takes note of the keys a (verified) directory event publishes."""
        kind, header = record.header.get("type"), record.header
        if kind == _REGISTERED:
            self._codes[record.aggregate] = header["code"]
        if kind in (_REGISTERED, _ROTATED):
            keys = header["public_keys"]
            self.states.setdefault(self._codes[record.aggregate], []).append(
                (record.timestamp, int(keys["version"]), bytes.fromhex(keys["signing"])))
        elif kind == _INVITED and header.get("kind") == FIRST_ADMIN \
                and header.get("actor_state") == SECRETARIAT_CODE:
            self.invited.add(header["state"])
        elif kind == _LOG_KEY:
            public = bytes.fromhex(header["log_key"])
            self.log_keys[key_fingerprint(public)] = (record.timestamp, public)
        elif kind in (_COSIGNING_KEY, _COSIGNING_KEY_UNVERSIONED):
            # The older event's signed header holds no key version (see its class).
            version = header["key_version"] if kind == _COSIGNING_KEY else None
            verifier = CosignatureVerifier(header["name"], bytes.fromhex(header["public"]))
            self.witnesses[(verifier.name, verifier.key_id.hex())] = (
                record.timestamp, self._codes[record.aggregate], version, verifier)

    def log_note_key(self, origin: str, note_key_id: str) -> Ed25519Verifier | None:
        """The published log key that has this note key ID under this origin."""
        for _, public in self.log_keys.values():
            if key_id(origin, ED25519, public).hex() == note_key_id:
                return Ed25519Verifier(origin, public)
        return None

    def signing_key(self, state: str, version: int, moment: datetime) -> bytes:
        """The key to check a signature with; `CryptoError` saying why there is none."""
        history = self.states.get(state)
        if not history:
            raise CryptoError(f"{state} has published no key before this event")
        for since, number, public in history:
            if number == version:
                if since > moment:
                    raise CryptoError(f"signed with {state}'s key version {version}, "
                                      "published after the event")
                return public
        raise CryptoError(f"{state} never published key version {version}")

    def entries(self) -> dict[str, list[dict[str, Any]]]:
        """The history as plain data (for the bundle and the audit page)."""
        out = {code: [{"since": since.isoformat(), "version": version,
                       "signing": public.hex()} for since, version, public in history]
               for code, history in self.states.items()}
        out["log"] = [{"since": since.isoformat(), "fingerprint": fpr, "signing": public.hex()}
                      for fpr, (since, public) in self.log_keys.items()]
        if self.witnesses:  # absent from bundles of logs without any (older bundles)
            out["witnesses"] = [{"since": since.isoformat(), "state": state,
                                 "version": version, "vkey": verifier.vkey()}
                                for since, state, version, verifier in self.witnesses.values()]
        return out


Progress = Callable[[int], None]


def verify(records: Iterable[LogRecord], checkpoints: Iterable[Checkpoint] = (),
           progress: Progress | None = None, workers: int = 1,
           witnesses: Iterable[Verifier] = ()) -> Verification:
    """Walks the records in notification order and names the first bad one.

    Signatures are checked in ``workers`` processes when there are several. The Merkle tree
    is streamed (a compact range): each checkpoint's root is taken when the walk reaches its
    size, so no leaf is kept. ``checkpoints`` may hold several of one size (the log's and
    those seen elsewhere): two log-signed roots for one size are a split view. Cosignatures
    are checked against the member states' published witness keys and ``witnesses`` (other
    trusted witnesses); others are ignored, as signed-note asks.
    """
    heads: dict[str, tuple[int, str]] = {}
    history = KeyHistory()
    tree = CompactRange()
    pending = sorted(checkpoints, key=lambda c: c.size)
    sizes = {c.size for c in pending}
    roots: dict[int, bytes] = {}
    places: list[tuple[int, str, int]] = []  # per position: notification id, aggregate, version
    finding: Finding | None = None
    with SignatureChecks(workers) as signatures:
        for record in records:
            version, head = heads.get(record.aggregate, (0, GENESIS_HASH))
            failure, job = _check(history, record, version, head)
            if failure is None and job is not None and not signatures.add(tree.size, job):
                failure = ("signature", BAD_SIGNATURE)
            if failure:
                finding = Finding(record.notification_id, record.aggregate, record.version,
                                  *failure)
                break
            places.append((record.notification_id, record.aggregate, record.version))
            history.learn(record)
            digest = record.hash()
            heads[record.aggregate] = (record.version, digest)
            tree.append(merkle_leaf(digest))
            if tree.size in sizes:
                roots[tree.size] = tree.root()
            if progress:
                progress(1)
        forged = signatures.first_failure()
    if forged is not None:  # earlier than any other failure: the walk stopped after it
        return Verification(forged, Finding(*places[forged], "signature", BAD_SIGNATURE))
    if finding is not None:
        return Verification(tree.size, finding)
    trust, keys = _trust_anchors(history), history.entries()
    split = _split_view(history, pending)
    if split is not None:
        return Verification(tree.size, split, trust=trust, keys=keys)
    trusted = {(w.name, w.key_id.hex()): w for w in witnesses}
    cosigned = 0
    for checkpoint in pending:
        failure = _check_checkpoint(history, checkpoint, roots, tree.size)
        if failure is None and checkpoint.origin is not None:
            failure, counted = _check_witnessed(history, trusted, checkpoint)
            cosigned += counted
        if failure:
            at = places[-1][0] if checkpoint.size > tree.size and places else checkpoint.size
            return Verification(tree.size, Finding(at, "checkpoint", checkpoint.size,
                                                   *failure), trust=trust, keys=keys)
        cosigned += len(checkpoint.cosignatures)
    return Verification(tree.size, None, len(pending), cosigned, trust, keys)


BAD_SIGNATURE = "signature does not match the header and body"


def _check(history: KeyHistory, record: LogRecord, version: int, head: str,
           ) -> tuple[tuple[str, str] | None, Job | None]:
    """The failed check and why, or the signature check still to run."""
    header = record.header
    if record.version != version + 1:
        return ("version", (f"expected version {version + 1} of this aggregate "
                            "(an event is missing, repeated or out of order)")), None
    if header.get("prev_hash") != head:
        return ("chain", "prev_hash does not match the hash of the aggregate's previous "
                         "event"), None
    try:
        if record.version == 1 and header.get("type") == _REGISTERED \
                and header.get("actor_state") == header.get("code") and (
                    header["code"] == SECRETARIAT_CODE or header["code"] in history.invited):
            # The secretariat's registration is self-signed: the root of trust; so is that
            # of a state whose first admin it invited (signed by the secretariat, earlier).
            public = bytes.fromhex(header["public_keys"]["signing"])
        else:
            public = history.signing_key(header["actor_state"],
                                         int(header["signing_key_version"]),
                                         record.timestamp)
        message = signing_bytes_of_encoded(record.encoded_header(), record.body_sha256)
        return None, (public, message, bytes.fromhex(record.signature))
    except CryptoError as error:
        return ("signature", str(error)), None
    except (KeyError, ValueError, TypeError) as error:
        return ("signature", f"malformed header or signature: {error}"), None


def _log_signed(history: KeyHistory, checkpoint: Checkpoint) -> bool:
    """True when a published log key signed the checkpoint (in either format)."""
    try:
        if checkpoint.origin is not None:
            verifier = history.log_note_key(checkpoint.origin, checkpoint.log_key)
            return verifier is not None and verifier.verify(
                checkpoint.body().text().encode(), bytes.fromhex(checkpoint.signature))
        log_key = history.log_keys.get(checkpoint.log_key)
        if log_key is None:
            return False
        verify_signature(log_key[1], checkpoint.statement(), bytes.fromhex(checkpoint.signature))
    except (CryptoError, ValueError):
        return False
    return True


def _split_view(history: KeyHistory, checkpoints: list[Checkpoint]) -> Finding | None:
    """Two checkpoints of one size with different roots, both signed by the log key."""
    roots: dict[int, set[str]] = {}
    for checkpoint in checkpoints:
        if _log_signed(history, checkpoint):
            roots.setdefault(checkpoint.size, set()).add(checkpoint.root)
    size = next((n for n, found in sorted(roots.items()) if len(found) > 1), None)
    if size is None:
        return None
    return Finding(size, "checkpoint", size, "split view", (
        f"the log key signed two checkpoints of {size} events with different roots "
        f"({', '.join(sorted(roots[size]))}): it showed different histories to different "
        "readers"))


def _check_witnessed(history: KeyHistory, trusted: dict[tuple[str, str], Verifier],
                     checkpoint: Checkpoint) -> tuple[tuple[str, str] | None, int]:
    """Checks the cosignatures of known witnesses on a checkpoint note; how many held."""
    text, counted = checkpoint.body().text().encode(), 0
    for cosignature in checkpoint.witnessed:
        place = (cosignature.witness, cosignature.key_id)
        state = history.witnesses.get(place)
        verifier = state[3] if state else trusted.get(place)
        if verifier is None:
            continue  # an unknown witness: ignored
        try:
            holds = verifier.verify(text, bytes.fromhex(cosignature.signature))
            early = state is not None and cosignature.timestamp < int(state[0].timestamp())
        except (CryptoError, ValueError):
            holds, early = False, False
        if not holds:
            return ("cosignature", f"the cosignature of {cosignature.witness} is wrong"), counted
        if early:
            return ("cosignature", f"{cosignature.witness} cosigned before its key was "
                                   "published"), counted
        counted += 1
    return None, counted


def _check_checkpoint(history: KeyHistory, checkpoint: Checkpoint, roots: dict[int, bytes],
                      logged: int) -> tuple[str, str] | None:
    if checkpoint.size > logged:
        return "checkpoint", (f"the log holds {logged} events but a checkpoint covers "
                              f"{checkpoint.size}: events were removed after it (truncated)")
    if roots.get(checkpoint.size, EMPTY_ROOT).hex() != checkpoint.root:
        return "checkpoint", (f"the Merkle root of the first {checkpoint.size} events differs "
                              "from the checkpoint: the log was altered or reordered, or the "
                              "checkpoint does not extend the earlier ones")
    if checkpoint.origin is not None:
        if history.log_note_key(checkpoint.origin, checkpoint.log_key) is None:
            return "checkpoint", (f"signed with log key ID {checkpoint.log_key} for "
                                  f"'{checkpoint.origin}', never published")
        if not _log_signed(history, checkpoint):
            return "checkpoint", "the log key's signature on the checkpoint is wrong"
        return None
    if checkpoint.log_key not in history.log_keys:
        return "checkpoint", f"signed with log key {checkpoint.log_key}, never published"
    if not _log_signed(history, checkpoint):
        return "checkpoint", "the log key's signature on the checkpoint is wrong"
    for cosignature in checkpoint.cosignatures:
        try:
            public = history.signing_key(cosignature.state, cosignature.key_version,
                                         datetime.fromisoformat(cosignature.time))
            verify_signature(public, checkpoint.statement(),
                             bytes.fromhex(cosignature.signature))
        except (CryptoError, ValueError) as error:
            return "cosignature", f"{cosignature.state}'s cosignature is wrong: {error}"
    return None


def _trust_anchors(history: KeyHistory) -> dict[str, str]:
    """Fingerprints an auditor compares with those the secretariat publishes elsewhere."""
    anchors = {}
    if SECRETARIAT_CODE in history.states:
        anchors["secretariat"] = key_fingerprint(history.states[SECRETARIAT_CODE][0][2])
    for fpr in history.log_keys:
        anchors.setdefault("log", fpr)
    return anchors


def stored_records(ledger: Ledger, batch: int = 500) -> Iterator[LogRecord]:
    """Every stored event in notification order, as an auditor's record."""
    for notification_id, event in stored_events(ledger, batch):
        yield LogRecord.of(notification_id, event)


def stored_events(ledger: Ledger, batch: int = 500) -> Iterator[tuple[int, Any]]:
    """Every stored event in notification order, decoded."""
    for notification in ledger.scan(batch=batch):
        yield notification.id, ledger.mapper.to_domain_event(notification)


def verify_log(ledger: Ledger, checkpoints: Iterable[Checkpoint] = (),
               progress: Progress | None = None, workers: int = 1,
               witnesses: Iterable[Verifier] = ()) -> Verification:
    """`verify` over the live store."""
    return verify(stored_records(ledger), checkpoints, progress, workers, witnesses)
