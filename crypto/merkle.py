"""RFC 6962 Merkle trees over the log's events: roots, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from .errors import CryptoError

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32  # every leaf hash, node, root and proof element is one SHA-256 digest


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise CryptoError(f"{what} must be a {HASH_SIZE}-byte SHA-256 hash")


def _check_hashes(values: Sequence[bytes], what: str) -> None:
    # One pass at the public entry; the walks below then hash without checking each node.
    if not all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values):
        bad = next(i for i, v in enumerate(values)
                   if not isinstance(v, bytes) or len(v) != HASH_SIZE)
        raise CryptoError(f"{what} {bad} must be a {HASH_SIZE}-byte SHA-256 hash")


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right)."""
    _check_hash(left, "a left child")
    _check_hash(right, "a right child")
    return _node(left, right)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash (RFC 6962 §2.1) of leaves given as `leaf_hash` values.

    Built bottom up, an odd last node moving up unchanged: the same tree as RFC 6962's split
    at the largest power of two, without recursion.
    """
    _check_hashes(leaf_hashes, "leaf hash")
    return _root(leaf_hashes)


def _root(leaf_hashes: Sequence[bytes]) -> bytes:
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


SubtreeRoot = Callable[[int, int], bytes]
"""The Merkle Tree Hash of leaves ``start`` to ``end`` (``end`` excluded), for a range a
proof names: its start is a multiple of the largest power of two below its length."""


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of all the leaves (RFC 6962 §2.1.1 PATH).

    Walks down from the root, so each level hashes half of what the one above did: O(n).
    """
    _check_hashes(leaf_hashes, "leaf hash")
    return inclusion_path(len(leaf_hashes), index, lambda a, b: _root(leaf_hashes[a:b]))


def inclusion_path(size: int, index: int, subtree: SubtreeRoot) -> list[bytes]:
    """PATH(index, D[size]) with the subtrees' roots from ``subtree``: one per level."""
    if not 0 <= index < size:
        raise CryptoError(f"no leaf {index} in a tree of {size}")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
    return proof[::-1]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 6962 §2.1.2, n being the number of leaves; O(n)."""
    _check_hashes(leaf_hashes, "leaf hash")
    return consistency_path(len(leaf_hashes), old_size, lambda a, b: _root(leaf_hashes[a:b]))


def consistency_path(size: int, old_size: int, subtree: SubtreeRoot) -> list[bytes]:
    """PROOF(old_size, D[size]) with the subtrees' roots from ``subtree``: one per level."""
    if not 0 <= old_size <= size:
        raise CryptoError(f"cannot prove a tree of {old_size} against {size}")
    if old_size in (0, size):
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        proof.append(subtree(start, end))
    return proof[::-1]


def range_root(start: int, end: int, perfect: Callable[[int, int], bytes]) -> bytes:
    """The Merkle Tree Hash of leaves ``start`` to ``end`` from the roots of the perfect
    subtrees it splits into (``perfect(start, height)``: 2**height leaves from ``start``)."""
    size = end - start
    if size <= 0:
        raise CryptoError("a subtree holds at least one leaf")
    if size & (size - 1) == 0:
        return perfect(start, size.bit_length() - 1)
    k = _split(size)
    return _node(perfect(start, k.bit_length() - 1), range_root(start + k, end, perfect))


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Raises CryptoError unless ``proof`` shows the leaf hash ``leaf`` is leaf ``index`` of
    the ``size`` tree with ``root`` (RFC 9162 §2.1.3.2).

    The proof does not pin ``size`` on its own: take size and root from one signed checkpoint.
    """
    if not 0 <= index < size:
        raise CryptoError(f"leaf {index} cannot be in a tree of {size}")
    _check_hash(leaf, "the leaf hash")
    _check_hash(root, "the root")
    _check_hashes(proof, "proof element")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise CryptoError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise CryptoError("the inclusion proof is too short")
    if r != root:
        raise CryptoError("the inclusion proof does not lead to the checkpoint's root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raises CryptoError unless the tree of ``new_size`` extends the one of ``old_size``
    (RFC 9162 §2.1.4.2)."""
    _check_hash(old_root, "the earlier root")
    _check_hash(new_root, "the later root")
    _check_hashes(proof, "proof element")
    if old_size < 0:
        raise CryptoError(f"a tree cannot have {old_size} leaves")
    if old_size > new_size:
        raise CryptoError("the later checkpoint is smaller than the earlier one")
    if (old_size == 0 and old_root != EMPTY_ROOT) or (new_size == 0 and new_root != EMPTY_ROOT):
        # RFC 6962 §2.1: the tree of no leaves has one root, SHA-256 of the empty string.
        raise CryptoError("a tree of 0 leaves has the empty tree's root")
    if old_size == new_size:
        if proof:
            raise CryptoError("two checkpoints of the same size need no consistency proof")
        if old_root != new_root:
            raise CryptoError("two checkpoints of the same size have different roots")
        return
    if old_size == 0:
        if proof:
            raise CryptoError("a consistency proof from an empty tree must be empty")
        return
    if not proof:
        raise CryptoError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise CryptoError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise CryptoError("the consistency proof is too short")
    if fr != old_root or sr != new_root:
        raise CryptoError("the later checkpoint does not extend the earlier one")


class CompactRange:
    """The roots of the perfect subtrees covering the leaves appended so far (RFC 9162's
    "compact range"): a verifier streaming a log gets the tree root at every size it needs
    in O(log n), without keeping the leaves."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (height, subtree root), left to right

    @classmethod
    def resume(cls, size: int, roots: Sequence[bytes]) -> CompactRange:
        """The range of ``size`` leaves from its subtree roots, left to right (`roots`)."""
        if type(size) is not int or size < 0:
            raise CryptoError(f"a tree cannot have {size} leaves")
        _check_hashes(roots, "subtree root")
        heights = [h for h in reversed(range(size.bit_length())) if size >> h & 1]
        if len(roots) != len(heights):
            raise CryptoError(f"a range of {size} leaves has {len(heights)} subtree roots, "
                              f"not {len(roots)}")
        resumed = cls()
        resumed.size = size
        resumed._stack = list(zip(heights, roots, strict=True))
        return resumed

    def roots(self) -> list[bytes]:
        """The subtree roots, left to right: with `size`, all `resume` needs."""
        return [node for _, node in self._stack]

    def append(self, leaf: bytes) -> None:
        """Adds one leaf hash (`leaf_hash`)."""
        _check_hash(leaf, "a leaf hash")
        height, node = 0, leaf
        while self._stack and self._stack[-1][0] == height:
            node = _node(self._stack.pop()[1], node)
            height += 1
        self._stack.append((height, node))
        self.size += 1

    def root(self) -> bytes:
        """`tree_root` of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = _node(left, node)
        return node
