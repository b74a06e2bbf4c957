"""Receipts: an event's c2sp.org/tlog-proof, verifiable offline with the log's and the
witnesses' vkeys alone.

The proof's ``extra`` line carries the event as an auditor sees it (clear header, digest of
the sealed body, signature) in canonical JSON: its SHA-256 is the event hash, the data of the
event's Merkle leaf. So the receipt proves this header was logged at that index, under a
checkpoint the log signed and the witnesses cosigned; it holds no case content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cases.audit.checkpoint import Checkpoint
from cases.audit.log import LogRecord
from crypto import CryptoError, canonical_json
from crypto.merkle import leaf_hash, verify_inclusion
from crypto.note import Verifier
from crypto.tlog import TlogProof, open_checkpoint, parse_tlog_proof


def record_entry(record: LogRecord) -> bytes:
    """The canonical JSON whose SHA-256 is the event hash (`LogRecord.hash`)."""
    return canonical_json({"header": record.header, "body_sha256": record.body_sha256,
                           "signature": record.signature})


def make_receipt(record: LogRecord, position: int, proof: Sequence[bytes],
                 checkpoint: Checkpoint) -> str:
    """The tlog-proof text of the event at leaf ``position`` of ``checkpoint``."""
    return TlogProof(position, tuple(proof), checkpoint.note(), record_entry(record)).to_text()


@dataclass(frozen=True)
class CheckedReceipt:
    header: dict[str, Any]
    index: int
    size: int
    origin: str
    witnesses: tuple[str, ...]  # the names of the trusted witnesses whose cosignature held


def check_receipt(text: str, log_key: Verifier, witnesses: Iterable[Verifier] = (),
                  ) -> CheckedReceipt:
    """Verifies a receipt offline; `CryptoError` saying what does not hold."""
    proof = parse_tlog_proof(text)
    if proof.extra is None:
        raise CryptoError("the receipt carries no event (its extra line is missing)")
    try:
        event = json.loads(proof.extra)
        header = event["header"]
        canonical = canonical_json(event) == proof.extra and isinstance(header, dict)
    except (ValueError, TypeError, KeyError):
        canonical = False
    if not canonical:
        raise CryptoError("the receipt's event is not the canonical JSON of a logged event")
    trusted = list(witnesses)
    signed = open_checkpoint(proof.checkpoint, [log_key, *trusted], log_key.name)
    if signed.verified.by(log_key) is None:
        raise CryptoError("the log's key did not sign the receipt's checkpoint")
    leaf = leaf_hash(hashlib.sha256(proof.extra).digest())
    verify_inclusion(leaf, proof.index, signed.body.size, proof.proof, signed.body.root)
    cosigned = tuple(v.name for v, _ in signed.verified.verified if v is not log_key)
    return CheckedReceipt(header, proof.index, signed.body.size, signed.body.origin, cosigned)
