"""The transparency-log texts: checkpoint bodies (c2sp.org/tlog-checkpoint), the witness's
add-checkpoint request and its checks (c2sp.org/tlog-witness), and offline inclusion proofs
(c2sp.org/tlog-proof). Formatting and parsing only; the log and the witness live elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import CryptoError
from .merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from .note import Note, VerifiedNote, Verifier, b64, open_note, parse_note, unb64

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
MAX_SIZE = 2**63 - 1
MAX_PROOF_LINES = 63  # tlog-witness: a consistency proof of a tree below 2**63 leaves
PROOF_HEADER = "c2sp.org/tlog-proof@v1"


def decimal(text: str, what: str) -> int:
    """An ASCII decimal without leading zeroes, below 2**63."""
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_SIZE:
        raise CryptoError(f"{what} must be a decimal number without leading zeroes")
    return int(text)


def hash_line(text: str) -> bytes:
    value = unb64(text, "a hash")
    if len(value) != HASH_SIZE:
        raise CryptoError(f"a hash must be {HASH_SIZE} bytes")
    return value


@dataclass(frozen=True)
class CheckpointBody:
    """A checkpoint's note text: the log's origin, the tree size and its root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CryptoError("a checkpoint's origin must be one non-empty line")
        if not 0 <= self.size <= MAX_SIZE or len(self.root) != HASH_SIZE:
            raise CryptoError("a checkpoint holds a size below 2**63 and a 32-byte root")
        if any(not line or "\n" in line for line in self.extensions):
            raise CryptoError("a checkpoint's extension lines must be non-empty lines")

    def text(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> CheckpointBody:
    """The checkpoint in a note's text; `CryptoError` if it is not one."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CryptoError("a checkpoint is an origin, a size and a root hash, one a line")
    origin, size, root, *extensions = lines[:-1]
    return CheckpointBody(origin, decimal(size, "the tree size"), hash_line(root),
                          tuple(extensions))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint note whose log signature verified, and its body."""

    verified: VerifiedNote
    body: CheckpointBody

    @property
    def note(self) -> Note:
        return self.verified.note


def open_checkpoint(note: Note | bytes | str, log_keys: Iterable[Verifier],
                    origin: str | None = None) -> SignedCheckpoint:
    """A checkpoint signed by one of the log's keys (unknown signatures ignored), of
    ``origin`` when given."""
    found = note if isinstance(note, Note) else parse_note(note)
    body = parse_checkpoint(found.text)
    if origin is not None and body.origin != origin:
        raise CryptoError(f"the checkpoint is of the log '{body.origin}', not '{origin}'")
    return SignedCheckpoint(open_note(found, log_keys), body)


# tlog-witness: the add-checkpoint request and what a witness checks before cosigning.


@dataclass(frozen=True)
class AddCheckpoint:
    """The body of ``POST <prefix>/add-checkpoint``."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: Note

    def to_bytes(self) -> bytes:
        head = f"old {self.old_size}\n" + "".join(b64(p) + "\n" for p in self.proof)
        return (head + "\n").encode() + self.checkpoint.to_bytes()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """The request in ``body``; `CryptoError` (a 400 to the client) if malformed."""
    split = body.find(b"\n\n")
    if split < 0:
        raise CryptoError("the request is an old size line, proof lines, a blank line and "
                          "a checkpoint")
    try:
        head = body[:split].decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise CryptoError("the old size and proof lines are ASCII") from None
    if not head[0].startswith("old "):
        raise CryptoError("the request starts with 'old <size>'")
    if len(head) - 1 > MAX_PROOF_LINES:
        raise CryptoError(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
    return AddCheckpoint(decimal(head[0][4:], "the old size"),
                         tuple(hash_line(line) for line in head[1:]),
                         parse_note(body[split + 2:]))


class WitnessRefusal(CryptoError):
    """Why a witness does not cosign, with the HTTP status tlog-witness gives it."""

    def __init__(self, status: int, message: str, known_size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.known_size = known_size


def check_submission(request: AddCheckpoint, origin: str, log_keys: Iterable[Verifier],
                     known: tuple[int, bytes] | None) -> SignedCheckpoint:
    """The checks of tlog-witness, in its order, against the witness's latest cosigned
    (size, root) of the log (None: never cosigned). Raises `WitnessRefusal`."""
    try:
        body = parse_checkpoint(request.checkpoint.text)
    except CryptoError as error:
        raise WitnessRefusal(400, f"not a checkpoint: {error}") from None
    if body.origin != origin:
        raise WitnessRefusal(404, f"this witness does not follow the log '{body.origin}'")
    try:
        signed = SignedCheckpoint(open_note(request.checkpoint, log_keys), body)
    except CryptoError as error:
        raise WitnessRefusal(403, f"the log's signature does not verify: {error}") from None
    if request.old_size > body.size:
        raise WitnessRefusal(400, "the old size is larger than the checkpoint's")
    known_size, known_root = known or (0, EMPTY_ROOT)
    if request.old_size != known_size:
        raise WitnessRefusal(409, f"the witness's latest cosigned size is {known_size}",
                             known_size)
    if body.size == 0 and body.root != EMPTY_ROOT:
        raise WitnessRefusal(422, "a checkpoint of 0 entries must have the empty tree's root")
    if body.size == known_size and body.root != known_root:
        raise WitnessRefusal(422, f"a checkpoint of {body.size} entries with another root "
                                  "was cosigned: the log shows a split view")
    try:
        verify_consistency(known_size, body.size, known_root, body.root, request.proof)
    except CryptoError as error:
        raise WitnessRefusal(422, f"the consistency proof does not verify: {error}") from None
    return signed


def cosignature_lines(response: bytes) -> tuple[str, ...]:
    """The signature lines of a witness's 200 answer (each '— name base64\\n')."""
    try:
        text = response.decode("utf-8")
    except UnicodeDecodeError:
        raise CryptoError("the witness's answer is not UTF-8") from None
    if not text.endswith("\n") or not text.startswith("\u2014"):
        raise CryptoError("the witness's answer is not signature lines")
    return tuple(line + "\n" for line in text[:-1].split("\n"))


# tlog-proof: an entry's index, its inclusion proof and the cosigned checkpoint, in one file.


@dataclass(frozen=True)
class TlogProof:
    index: int
    proof: tuple[bytes, ...]
    checkpoint: Note
    extra: bytes | None = None

    def to_text(self) -> str:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64(p) for p in self.proof)
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint.to_text()


def parse_tlog_proof(text: str) -> TlogProof:
    """The proof in ``text``; `CryptoError` if it is not a tlog-proof."""
    split = text.find("\n\n")
    if split < 0:
        raise CryptoError("a tlog-proof is its header, index and proof lines, a blank "
                          "line and a checkpoint")
    lines = text[:split].split("\n")
    if lines[0] != PROOF_HEADER:
        raise CryptoError(f"a tlog-proof starts with '{PROOF_HEADER}'")
    extra = None
    rest: Sequence[str] = lines[1:]
    if rest and rest[0].startswith("extra "):
        extra, rest = unb64(rest[0][6:], "the extra data"), rest[1:]
    if not rest or not rest[0].startswith("index "):
        raise CryptoError("a tlog-proof names the entry's index")
    return TlogProof(decimal(rest[0][6:], "the index"), tuple(hash_line(p) for p in rest[1:]),
                     parse_note(text[split + 2:]), extra)
