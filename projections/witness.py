"""The member states' witnesses inside divex (c2sp.org/tlog-witness), cosigning checkpoints
with cosignature/v1.

A state's witness keeps the latest checkpoint it cosigned and cosigns a new one only when a
consistency proof shows it extends that one, so an operator cannot show two states two
different histories. Its key is the state's cosigning key (derived from the state's signing
key, published in the directory by `CosigningKeyPublished`), so only a signed-in user of the
state, or an API token of one, makes it sign: the server alone cannot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cases.audit.checkpoint import Checkpoint, WitnessCosignature
from cases.identity.directory import SECRETARIAT_CODE
from cases.identity.directory_service import Directory
from cases.kernel.errors import Conflict, Forbidden, NotFound
from cases.kernel.viewer import AUDITOR, Viewer
from crypto import CryptoError
from crypto.note import COSIGNATURE_V1, CosignatureVerifier, Ed25519Verifier, NoteSigner
from crypto.signing import verify_signature
from crypto.tlog import AddCheckpoint, CheckpointBody, WitnessRefusal, check_submission

from .checkpoints import Checkpointer


@dataclass(frozen=True)
class Cosigned:
    """What a witness signed: the checkpoint's size and its cosignature line."""

    size: int
    cosignature: WitnessCosignature


class Witness:
    """Each member state's witness of the exchange's own log."""

    def __init__(self, checkpointer: Checkpointer, directory: Directory) -> None:
        self.checkpointer = checkpointer
        self.store = checkpointer.store
        self.directory = directory

    @property
    def origin(self) -> str:
        return self.checkpointer.origin

    def log_keys(self) -> list[Ed25519Verifier]:
        """The log keys the secretariat published, as note keys of this log's origin."""
        return [Ed25519Verifier(self.origin, bytes.fromhex(k))
                for k in self.directory.state(SECRETARIAT_CODE).log_keys]

    def add_checkpoint(self, viewer: Viewer, request: AddCheckpoint) -> Cosigned:
        """tlog-witness ``add-checkpoint`` as the viewer's state: its checks, in its order,
        then the cosignature. Raises `WitnessRefusal` with the spec's status."""
        if viewer.state == SECRETARIAT_CODE or not viewer.has(AUDITOR):
            raise Forbidden("Only the auditors of a member state run its witness.")
        return self._add(viewer, request)

    def _add(self, viewer: Viewer, request: AddCheckpoint) -> Cosigned:
        signer, version = self._cosigner(viewer)
        head, stored = self._head(signer, viewer.state)
        try:
            signed = check_submission(request, self.origin, self.log_keys(), head)
        except WitnessRefusal as refusal:
            if refusal.status == 422:  # signed by the log, inconsistent: keep the proof
                self.store.add_evidence(signer.name, request.checkpoint.to_text())
            raise
        body = signed.body
        line = signer.sign(body.text(), int(time.time()))
        cosignature = WitnessCosignature.of(line, viewer.state, version)
        if not self.store.move_witness_head(signer.name, stored,
                                            body.origin, body.size, body.root.hex(),
                                            cosignature.signature):
            moved, _ = self._head(signer, viewer.state)
            raise WitnessRefusal(409, "another request moved the witness meanwhile",
                                 moved[0] if moved else 0)
        self.store.add_witness_cosignature(body.size, body.root.hex(), cosignature)
        return Cosigned(body.size, cosignature)

    def cosign(self, viewer: Viewer) -> Checkpoint | None:
        """Cosigns the newest checkpoint, proving it extends the one the state cosigned last;
        `Conflict` (nothing signed) if it does not. None when there is nothing to cosign."""
        latest = self.store.latest()
        if latest is None or latest.origin != self.origin \
                or latest.cosigned_by(viewer.state):
            return None  # none yet, one of the first format, or cosigned already
        signer, _ = self._cosigner(viewer)
        head, _ = self._head(signer, viewer.state)
        old = head[0] if head else 0
        try:
            proof = self.checkpointer.consistency(old, latest.size) if old < latest.size else []
            self._add(viewer, AddCheckpoint(old, tuple(proof), latest.note()))
        except WitnessRefusal as refusal:
            if refusal.status == 409:
                return None  # another session of the state cosigned it a moment ago
            raise self._forked(latest, old, viewer.state) from None
        except NotFound:
            raise self._forked(latest, old, viewer.state) from None
        return self.store.get(latest.size)

    @staticmethod
    def _forked(latest: Checkpoint, old: int, state: str) -> Conflict:
        return Conflict(
            "The exchange presents a checkpoint of %(size)s events that does not "
            "extend the one of %(cosigned)s events %(code)s cosigned: the history may "
            "have been rewritten or split. Nothing was cosigned; alert your auditors "
            "and the secretariat.", size=latest.size, cosigned=old, code=state)

    def _cosigner(self, viewer: Viewer) -> tuple[NoteSigner, int]:
        """The state's witness key for its current key version, published on first use."""
        keys = viewer.keyring.current
        private = keys.cosigning()
        public = private.public_key().public_bytes_raw()
        state = self.directory.state(viewer.state)
        published = state.cosigning_key(keys.version)
        if published is None:
            name = f"{self.origin}/witness/{viewer.state}"
            self.directory.publish_cosigning_key(viewer, keys.version, name, public)
        else:
            name = published["name"]
            if published["public"] != public.hex():
                raise Conflict("The cosigning key %(code)s published differs from its own; "
                               "nothing was cosigned.", code=viewer.state)
        return NoteSigner(name, private, COSIGNATURE_V1), keys.version

    def _head(self, signer: NoteSigner, state: str,
              ) -> tuple[tuple[int, bytes] | None, int | None]:
        """The latest (size, root) the witness cosigned, checked against its own
        cosignature, and the size its stored record holds (None: it has none yet). Before
        its first cosignature/v1, the last checkpoint of the first format the state
        cosigned, checked against that signature, still binds it."""
        row = self.store.witness_head(signer.name)
        if row is None:
            legacy = self.store.last_cosigned_by(state)
            if legacy is None:
                return None, None
            self._check_first_format(state, legacy)
            return (legacy.size, bytes.fromhex(legacy.root)), None
        try:
            text = CheckpointBody(row.origin, row.size, bytes.fromhex(row.root)).text()
            holds = CosignatureVerifier(signer.name, signer.public).verify(
                text.encode(), bytes.fromhex(row.signature))
        except (CryptoError, ValueError):
            holds = False
        if not holds:
            raise Conflict("The checkpoint of %(size)s events that %(code)s cosigned was "
                           "altered since; nothing was cosigned.", size=row.size, code=state)
        return (row.size, bytes.fromhex(row.root)), row.size

    def _check_first_format(self, state: str, checkpoint: Checkpoint) -> None:
        """The stored root the state vouched for in the first format is the one it signed."""
        own = next(s for s in checkpoint.cosignatures if s.state == state)
        try:
            public = self.directory.state(state).public_keys_at(own.key_version).signing
            verify_signature(public, checkpoint.statement(), bytes.fromhex(own.signature))
        except (CryptoError, NotFound, ValueError):
            raise Conflict("The checkpoint of %(size)s events that %(code)s cosigned was "
                           "altered since; nothing was cosigned.", size=checkpoint.size,
                           code=state) from None
