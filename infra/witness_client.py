"""Submits each new checkpoint to the external witnesses of ``DIVEX_WITNESSES``
(c2sp.org/tlog-witness ``add-checkpoint``) and keeps the cosignatures they return.

A witness that was offline says which size it last cosigned (409); the client then sends the
consistency proof from that size, so the witness catches up in one more request. A 422 (the
witness holds a history this checkpoint does not extend) or a 403 (it does not know the log
key) is reported, never retried: both need a person.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from cases.audit.checkpoint import Checkpoint, WitnessCosignature
from crypto import CryptoError
from crypto.note import CosignatureVerifier, open_note, parse_note, parse_vkey
from crypto.tlog import AddCheckpoint, cosignature_lines, decimal
from projections.checkpoints import Checkpointer

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
SIZE_TYPE = "text/x.tlog.size"


class WitnessFailure(Exception):
    """A witness did not cosign: its status (0: unreachable) and why."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(f"{url}: {status or 'unreachable'}: {reason}")
        self.status = status


@dataclass(frozen=True)
class ExternalWitness:
    url: str  # the submission prefix; the request goes to <url>/add-checkpoint
    verifier: CosignatureVerifier


class ExternalWitnesses:
    """The witnesses outside divex, and the client that asks them to cosign."""

    def __init__(self, checkpointer: Checkpointer, configured: tuple[tuple[str, str], ...],
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.checkpointer = checkpointer
        self.store = checkpointer.store
        self.timeout = timeout
        self.witnesses = []
        for url, vkey in configured:
            verifier = parse_vkey(vkey)
            assert isinstance(verifier, CosignatureVerifier)  # settings checked the type
            self.witnesses.append(ExternalWitness(url, verifier))

    def verifiers(self) -> list[CosignatureVerifier]:
        return [w.verifier for w in self.witnesses]

    def submit_latest(self) -> list[WitnessFailure]:
        """Submits the newest checkpoint to every witness; the failures, also logged."""
        latest = self.store.latest()
        if latest is None or latest.origin is None:
            return []
        failures = []
        for witness in self.witnesses:
            try:
                self.submit(witness, latest)
            except WitnessFailure as failure:
                log.warning("witness did not cosign checkpoint %s: %s", latest.size, failure)
                failures.append(failure)
        return failures

    def submit(self, witness: ExternalWitness, checkpoint: Checkpoint) -> WitnessCosignature:
        """One checkpoint to one witness, from the size it last cosigned for divex (or the
        size it names in a 409)."""
        cosigned = [s for s in self.store.cosigned_sizes(witness.verifier.name)
                    if s <= checkpoint.size]
        old = max(cosigned, default=0)
        for attempt in (1, 2):
            status, content_type, body = self._post(witness, self._request(old, checkpoint))
            if status == 200:
                return self._keep(witness, checkpoint, body)
            if status == 409 and attempt == 1 and content_type.startswith(SIZE_TYPE):
                old = self._known_size(witness, body, checkpoint.size)
                continue
            raise WitnessFailure(witness.url, status, body[:200].decode("utf-8", "replace"))
        raise AssertionError("unreachable")

    def _request(self, old: int, checkpoint: Checkpoint) -> bytes:
        proof = self.checkpointer.consistency(old, checkpoint.size) \
            if 0 < old < checkpoint.size else []
        return AddCheckpoint(old, tuple(proof), checkpoint.note()).to_bytes()

    def _known_size(self, witness: ExternalWitness, body: bytes, size: int) -> int:
        try:
            known = decimal(body.decode("ascii").removesuffix("\n"), "the witness's size")
        except (CryptoError, UnicodeDecodeError):
            raise WitnessFailure(witness.url, 409, "its size is not a number") from None
        if known > size:
            raise WitnessFailure(witness.url, 409, f"it cosigned {known} entries, more than "
                                 f"this checkpoint's {size}")
        return known

    def _post(self, witness: ExternalWitness, body: bytes) -> tuple[int, str, bytes]:
        request = urllib.request.Request(
            witness.url + "/add-checkpoint", data=body, method="POST",
            headers={"Content-Type": "text/plain; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return answer.status, answer.headers.get("Content-Type", ""), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type", ""), error.read()
        except (urllib.error.URLError, OSError) as error:
            raise WitnessFailure(witness.url, 0, str(error)) from None

    def _keep(self, witness: ExternalWitness, checkpoint: Checkpoint,
              body: bytes) -> WitnessCosignature:
        """Stores the witness's cosignature(s) that verify; lines of other keys are
        ignored, as tlog-witness asks."""
        try:
            text = checkpoint.body().text()
            lines = "".join(cosignature_lines(body))
            opened = open_note(parse_note(text + "\n" + lines), [witness.verifier])
        except CryptoError as error:
            raise WitnessFailure(witness.url, 200, f"no valid cosignature: {error}") from None
        kept = WitnessCosignature.of(opened.verified[-1][1])
        self.store.add_witness_cosignature(checkpoint.size, checkpoint.root, kept)
        return kept
