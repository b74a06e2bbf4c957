"""RFC 6962 Merkle trees: published roots, and proofs that hold only for the true history."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import CryptoError
from crypto.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 test inputs and roots of certificate-transparency's merkle tree tests.
INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
          "606162636465666768696a6b6c6d6e6f"]
ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in INPUTS]


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def leaves_of(count: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(count)]


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int) -> None:
    assert tree_root(LEAVES[:size]).hex() == ROOTS[size - 1]


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert tree_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@given(st.integers(0, 70))
def test_root_agrees_with_the_rfc_definition(count: int) -> None:
    leaves = leaves_of(count)
    assert tree_root(leaves) == reference_root(leaves)


@given(st.integers(1, 70), st.data())
def test_every_inclusion_proof_verifies_and_any_change_is_refused(count: int, data) -> None:
    leaves = leaves_of(count)
    index = data.draw(st.integers(0, count - 1))
    root, proof = tree_root(leaves), inclusion_proof(leaves, index)
    verify_inclusion(leaves[index], index, count, proof, root)
    with pytest.raises(CryptoError):
        verify_inclusion(leaf_hash(b"forged"), index, count, proof, root)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bent = list(proof)
        bent[at] = bytes([bent[at][0] ^ 1]) + bent[at][1:]
        with pytest.raises(CryptoError):
            verify_inclusion(leaves[index], index, count, bent, root)
    if count > 1:
        with pytest.raises(CryptoError):
            verify_inclusion(leaves[index], (index + 1) % count, count, proof, root)


@given(st.integers(0, 70), st.data())
def test_every_consistency_proof_verifies(count: int, data) -> None:
    leaves = leaves_of(count)
    old = data.draw(st.integers(0, count))
    verify_consistency(old, count, tree_root(leaves[:old]), tree_root(leaves),
                       consistency_proof(leaves, old))


@given(st.integers(2, 70), st.data())
def test_consistency_proof_fails_when_history_was_rewritten(count: int, data) -> None:
    """A split view: the same size, a different past."""
    leaves = leaves_of(count)
    old = data.draw(st.integers(1, count - 1))
    rewritten = leaves_of(old, salt=b"other") + leaves[old:]
    with pytest.raises(CryptoError, match="does not extend"):
        verify_consistency(old, count, tree_root(leaves[:old]), tree_root(rewritten),
                           consistency_proof(rewritten, old))


@given(st.integers(2, 70), st.data())
def test_a_bent_consistency_proof_is_refused(count: int, data) -> None:
    leaves = leaves_of(count)
    old = data.draw(st.integers(1, count - 1))
    proof = consistency_proof(leaves, old)
    at = data.draw(st.integers(0, len(proof) - 1))
    proof[at] = bytes([proof[at][0] ^ 0x80]) + proof[at][1:]
    with pytest.raises(CryptoError):
        verify_consistency(old, count, tree_root(leaves[:old]), tree_root(leaves), proof)


def test_a_later_checkpoint_cannot_be_smaller_or_differ_at_the_same_size() -> None:
    leaves = leaves_of(8)
    with pytest.raises(CryptoError):
        verify_consistency(8, 4, tree_root(leaves), tree_root(leaves[:4]), [])
    with pytest.raises(CryptoError):
        verify_consistency(4, 4, tree_root(leaves[:4]), tree_root(leaves_of(4, b"x")), [])


def test_a_hundred_thousand_leaves() -> None:
    leaves = leaves_of(100_000)
    root = tree_root(leaves)
    verify_inclusion(leaves[77_777], 77_777, len(leaves), inclusion_proof(leaves, 77_777), root)
    verify_consistency(65_537, len(leaves), tree_root(leaves[:65_537]), root,
                       consistency_proof(leaves, 65_537))
