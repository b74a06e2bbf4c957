"""Checkpoints: the Merkle root over the first events of the log, signed by the log key, and
the witnesses' cosignatures, in the C2SP formats and in divex's first format.

Checkpoints of the first format are kept as they were signed, not re-issued as notes: their
cosignatures are the member states' statements at the time, which cannot be made again, as a
cosignature/v1 says "the largest tree I have seen now has this root", untrue later of an
older, smaller tree. Re-signing them with the log key alone would add nothing a verifier
needs (the tree's roots are the same) and lose the witnesses. So both formats verify side by
side, and new checkpoints are notes only.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto import CryptoError, canonical_json
from crypto.note import Note, NoteSignature, cosignature_time
from crypto.tlog import CheckpointBody, parse_checkpoint

LOG_NAME = "divex"


@dataclass(frozen=True)
class Cosignature:
    """A member state's statement that it saw this checkpoint extend the last one it signed."""

    state: str
    key_version: int
    signature: str
    time: str


@dataclass(frozen=True)
class WitnessCosignature:
    """A cosignature/v1 (c2sp.org/tlog-cosignature) on a checkpoint note: the witness's key
    name and ID, and its signature (8-byte POSIX time, then Ed25519). ``state`` names a
    member state witnessing inside divex; None an external witness."""

    witness: str
    key_id: str  # 8 hex
    signature: str  # hex of the 72 bytes
    state: str | None = None
    key_version: int | None = None

    @classmethod
    def of(cls, line: NoteSignature, state: str | None = None,
           key_version: int | None = None) -> WitnessCosignature:
        return cls(line.name, line.key_id.hex(), line.signature.hex(), state, key_version)

    @property
    def timestamp(self) -> int:
        return cosignature_time(self.line())

    def line(self) -> NoteSignature:
        return NoteSignature(self.witness, bytes.fromhex(self.key_id),
                             bytes.fromhex(self.signature))


@dataclass(frozen=True)
class Checkpoint:
    """The Merkle root over the first ``size`` events, signed with the log key.

    Two formats live side by side. With an ``origin``, a c2sp.org/tlog-checkpoint note:
    ``log_key`` is the note key ID (8 hex) of the log key, ``signature`` its Ed25519
    signature over the note text, and the witnesses' cosignature/v1 lines are ``witnessed``.
    Without (divex's first format, kept so old checkpoints verify as they were signed):
    ``log_key`` is the key's fingerprint, and the log key and the states' signing keys
    signed `checkpoint_statement` (``cosignatures``).
    """

    size: int
    root: str
    time: str
    log_key: str
    signature: str
    cosignatures: tuple[Cosignature, ...] = ()
    origin: str | None = None
    witnessed: tuple[WitnessCosignature, ...] = ()

    def cosigned_by(self, state: str) -> bool:
        """Whether the state vouched for this checkpoint, in either format."""
        return any(s.state == state for s in (*self.cosignatures, *self.witnessed))

    def statement(self) -> bytes:
        return checkpoint_statement(self.size, self.root, self.time)

    def body(self) -> CheckpointBody:
        if self.origin is None:
            raise CryptoError("a checkpoint of the first format is not a note")
        return CheckpointBody(self.origin, self.size, bytes.fromhex(self.root))

    def note(self) -> Note:
        """The checkpoint note: the log's signature, then every witness's cosignature."""
        body = self.body()
        log = NoteSignature(body.origin, bytes.fromhex(self.log_key),
                            bytes.fromhex(self.signature))
        return Note(body.text(), (log, *(w.line() for w in self.witnessed)))

    @classmethod
    def from_note(cls, note: Note, time: str = "") -> Checkpoint:
        """A checkpoint note as found elsewhere (a witness, a proof file): its log
        signature is the first one under the origin's name; its 72-byte signatures are
        taken as cosignatures (checked, or ignored, by `verify`)."""
        body = parse_checkpoint(note.text)
        log = next((s for s in note.signatures
                    if s.name == body.origin and len(s.signature) == 64), None)
        if log is None:
            raise CryptoError("the checkpoint carries no signature under its origin's name")
        return cls(body.size, body.root.hex(), time, log.key_id.hex(), log.signature.hex(),
                   origin=body.origin,
                   witnessed=tuple(WitnessCosignature.of(s) for s in note.signatures
                                   if len(s.signature) == 72))


def checkpoint_statement(size: int, root: str, time: str) -> bytes:
    """The bytes the log key signs and the witnesses cosign."""
    return canonical_json({"log": LOG_NAME, "size": size, "root": root, "time": time})
