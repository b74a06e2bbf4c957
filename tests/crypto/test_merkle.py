"""RFC 6962 Merkle trees: published vectors, and proofs that hold only for the true history."""

from __future__ import annotations

import hashlib

import pytest
from bitflips import flipped_bits
from hypothesis import given
from hypothesis import strategies as st

from crypto import (
    EMPTY_ROOT,
    CryptoError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from crypto.merkle import CompactRange

# Published vectors. The 8 leaf inputs, their leaf hashes and the roots of sizes 1..8 are those
# of transparency-dev/merkle `testonly/constants.go` (the same as google/certificate-transparency
# `python/ct/crypto/merkle_test.py`); the proofs are from transparency-dev/merkle
# `proof/verify_test.go` (leaf indices there are 1-based; here 0-based).
INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
          "606162636465666768696a6b6c6d6e6f"]
LEAF_HASHES = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
               "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
               "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
               "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
               "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"]
ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in INPUTS]

H1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"  # leaf 1
H4 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"  # leaf 4
H6 = "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"  # leaf 6
H23 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H45 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
H67 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H0_3 = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
H4_7 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
H0 = LEAF_HASHES[0]

# (index, size, audit path)
PUBLISHED_INCLUSION = [
    (0, 1, []),
    (0, 8, [H1, H23, H4_7]),
    (5, 8, [H4, H67, H0_3]),
    (2, 3, [ROOTS[1]]),
    (1, 5, [H0, H23, H4]),
]
# (old size, new size, proof)
PUBLISHED_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [H1, H23, H4_7]),
    (6, 8, [H45, H67, H0_3]),
    (2, 5, [H23, H4]),
    (6, 7, [H45, H6, H0_3]),
]

# An audit path from a real CT log, published in google/certificate-transparency
# `python/ct/crypto/merkle_test.py` (MerkleVerifierTest; 0-based leaf index).
CT_LEAF_HASH = "7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78"
CT_INDEX, CT_SIZE = 848049, 3630887
CT_ROOT = "78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb"
CT_PATH = [
    "1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd",
    "0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
    "3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d",
    "9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
    "0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2",
    "2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
    "b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048",
    "933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
    "b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2",
    "daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
    "7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc",
    "1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
    "12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66",
    "29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
    "b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009",
    "4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
    "86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f",
    "a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
    "06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1",
    "f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
    "40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d",
    "b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
]


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def root_of(size: int) -> bytes:
    return bytes.fromhex(ROOTS[size - 1])


def flip(blob: bytes, bit: int) -> bytes:
    damaged = bytearray(blob)
    damaged[bit // 8] ^= 1 << (bit % 8)
    return bytes(damaged)


def leaves_of(count: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(count)]


# A second, recursive implementation written straight from the text of RFC 6962 §2.1.


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference_root(d: list[bytes]) -> bytes:
    """MTH(D[n])."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(reference_root(d[:k]), reference_root(d[k:]))


def reference_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*reference_path(m, d[:k]), reference_root(d[k:])]
    return [*reference_path(m - k, d[k:]), reference_root(d[:k])]


def reference_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    if m == len(d):
        return [] if b else [reference_root(d)]
    k = _k(len(d))
    if m <= k:
        return [*reference_subproof(m, d[:k], b), reference_root(d[k:])]
    return [*reference_subproof(m - k, d[k:], False), reference_root(d[:k])]


def path_shape(m: int, n: int) -> list[str]:
    """For each element of PATH(m, D[n]), the side its subtree sits on ("L" or "R")."""
    if n == 1:
        return []
    k = _k(n)
    return [*path_shape(m, k), "R"] if m < k else [*path_shape(m - k, n - k), "L"]


def subproof_shape(m: int, n: int, b: bool = True) -> list[str]:
    """The same for SUBPROOF(m, D[n], b); "old" marks a subtree that is all in the old tree."""
    if m == n:
        return [] if b else ["old"]
    k = _k(n)
    return ([*subproof_shape(m, k, b), "R"] if m <= k
            else [*subproof_shape(m - k, n - k, False), "L"])


# Published vectors.


def test_leaf_and_node_hashes_match_the_published_vectors() -> None:
    assert [leaf_hash(bytes.fromhex(x)).hex() for x in INPUTS] == LEAF_HASHES
    # google/certificate-transparency python/ct/crypto/merkle_test.py, TreeHasherTest
    assert leaf_hash(bytes.fromhex("101112131415161718191a1b1c1d1e1f")).hex() == (
        "3bfb960453ebaebf33727da7a1f4db38acc051d381b6da20d6d4e88f0eabfd7a")
    assert node_hash(bytes(range(32)), bytes(range(32, 64))).hex() == (
        "1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57")
    assert node_hash(LEAVES[2], LEAVES[3]).hex() == H23


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int) -> None:
    assert tree_root(LEAVES[:size]).hex() == ROOTS[size - 1]


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert tree_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(("index", "size", "path"), PUBLISHED_INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index: int, size: int,
                                                      path: list[str]) -> None:
    assert inclusion_proof(LEAVES[:size], index) == hexes(path)
    verify_inclusion(LEAVES[index], index, size, hexes(path), root_of(size))


@pytest.mark.parametrize(("old", "new", "proof"), PUBLISHED_CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(old: int, new: int,
                                                        proof: list[str]) -> None:
    assert consistency_proof(LEAVES[:new], old) == hexes(proof)
    verify_consistency(old, new, root_of(old), root_of(new), hexes(proof))


def test_an_audit_path_from_a_real_certificate_transparency_log_verifies() -> None:
    leaf, path, root = bytes.fromhex(CT_LEAF_HASH), hexes(CT_PATH), bytes.fromhex(CT_ROOT)
    verify_inclusion(leaf, CT_INDEX, CT_SIZE, path, root)
    with pytest.raises(CryptoError):
        verify_inclusion(leaf, CT_INDEX, CT_SIZE, path, bytes(32))
    with pytest.raises(CryptoError):
        verify_inclusion(leaf, CT_INDEX + 2 ** 23, CT_SIZE, path, root)


@pytest.mark.parametrize(("index", "size", "path"), PUBLISHED_INCLUSION[1:])
def test_a_published_inclusion_proof_with_any_bit_flipped_is_refused(
        index: int, size: int, path: list[str]) -> None:
    proof, root, leaf = hexes(path), root_of(size), LEAVES[index]
    for at in range(len(proof)):
        for _, damaged in flipped_bits(proof[at]):
            with pytest.raises(CryptoError):
                verify_inclusion(leaf, index, size, [*proof[:at], damaged, *proof[at + 1:]], root)
    for _, damaged in flipped_bits(leaf):
        with pytest.raises(CryptoError):
            verify_inclusion(damaged, index, size, proof, root)
    for _, damaged in flipped_bits(root):
        with pytest.raises(CryptoError):
            verify_inclusion(leaf, index, size, proof, damaged)


@pytest.mark.parametrize(("old", "new", "proof"), PUBLISHED_CONSISTENCY[1:])
def test_a_published_consistency_proof_with_any_bit_flipped_is_refused(
        old: int, new: int, proof: list[str]) -> None:
    path, old_root, new_root = hexes(proof), root_of(old), root_of(new)
    for at in range(len(path)):
        for _, damaged in flipped_bits(path[at]):
            with pytest.raises(CryptoError):
                verify_consistency(old, new, old_root, new_root,
                                   [*path[:at], damaged, *path[at + 1:]])
    for _, damaged in flipped_bits(old_root):
        with pytest.raises(CryptoError, match="does not extend"):
            verify_consistency(old, new, damaged, new_root, path)
    for _, damaged in flipped_bits(new_root):
        with pytest.raises(CryptoError, match="does not extend"):
            verify_consistency(old, new, old_root, damaged, path)


# The fast implementation agrees with the RFC text.


@given(st.integers(0, 70))
def test_root_agrees_with_the_rfc_definition(count: int) -> None:
    leaves = leaves_of(count)
    assert tree_root(leaves) == reference_root(leaves)


@given(st.integers(1, 70), st.data())
def test_inclusion_proofs_are_the_rfc_audit_paths(count: int, data: st.DataObject) -> None:
    leaves = leaves_of(count)
    index = data.draw(st.integers(0, count - 1))
    assert inclusion_proof(leaves, index) == reference_path(index, leaves)


@given(st.integers(0, 70), st.data())
def test_consistency_proofs_are_the_rfc_subproofs(count: int, data: st.DataObject) -> None:
    leaves = leaves_of(count)
    old = data.draw(st.integers(0, count))
    expected = [] if old in (0, count) else reference_subproof(old, leaves, True)
    assert consistency_proof(leaves, old) == expected


# Inclusion.


@given(st.integers(1, 70), st.data())
def test_every_inclusion_proof_verifies(count: int, data: st.DataObject) -> None:
    leaves = leaves_of(count)
    index = data.draw(st.integers(0, count - 1))
    verify_inclusion(leaves[index], index, count, inclusion_proof(leaves, index),
                     tree_root(leaves))


@given(st.integers(1, 70), st.data())
def test_an_inclusion_proof_with_a_flipped_bit_is_refused(count: int,
                                                          data: st.DataObject) -> None:
    leaves = leaves_of(count)
    index = data.draw(st.integers(0, count - 1))
    root, proof, leaf = tree_root(leaves), inclusion_proof(leaves, index), leaves[index]
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(CryptoError):
        verify_inclusion(flip(leaf, bit), index, count, proof, root)
    with pytest.raises(CryptoError):
        verify_inclusion(leaf, index, count, proof, flip(root, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        proof[at] = flip(proof[at], bit)
        with pytest.raises(CryptoError):
            verify_inclusion(leaf, index, count, proof, root)


@given(st.integers(1, 70), st.data())
def test_an_inclusion_proof_for_another_index_is_refused(count: int,
                                                         data: st.DataObject) -> None:
    leaves = leaves_of(count)
    index = data.draw(st.integers(0, count - 1))
    root, proof = tree_root(leaves), inclusion_proof(leaves, index)
    for other in [-1, *range(count), count, count + 1]:
        if other != index:
            with pytest.raises(CryptoError):
                verify_inclusion(leaves[index], other, count, proof, root)


@given(st.integers(1, 70), st.data())
def test_an_inclusion_proof_for_another_size_is_refused_unless_its_path_has_the_same_shape(
        count: int, data: st.DataObject) -> None:
    """The verifier reads left and right from (index, size); a size giving the same path shape
    cannot be told apart, which is why size and root must come from one signed checkpoint."""
    leaves = leaves_of(count)
    index = data.draw(st.integers(0, count - 1))
    root, proof = tree_root(leaves), inclusion_proof(leaves, index)
    for size in range(0, 2 * count + 3):
        if size == count:
            continue
        if size > index and path_shape(index, size) == path_shape(index, count):
            verify_inclusion(leaves[index], index, size, proof, root)
        else:
            with pytest.raises(CryptoError):
                verify_inclusion(leaves[index], index, size, proof, root)


def test_an_inclusion_proof_does_not_pin_the_tree_size_alone() -> None:
    # Leaf 0 sits under the same three left turns in trees of 5 and of 6 leaves.
    proof = inclusion_proof(LEAVES[:5], 0)
    verify_inclusion(LEAVES[0], 0, 6, proof, root_of(5))
    with pytest.raises(CryptoError):
        verify_inclusion(LEAVES[0], 0, 6, proof, root_of(6))


@given(st.integers(1, 70), st.data())
def test_an_inclusion_proof_with_an_element_missing_or_added_is_refused(
        count: int, data: st.DataObject) -> None:
    leaves = leaves_of(count)
    index = data.draw(st.integers(0, count - 1))
    root, proof, leaf = tree_root(leaves), inclusion_proof(leaves, index), leaves[index]
    with pytest.raises(CryptoError, match="too long"):
        verify_inclusion(leaf, index, count, [*proof, root], root)
    with pytest.raises(CryptoError):
        verify_inclusion(leaf, index, count, [root, *proof], root)
    if proof:
        with pytest.raises(CryptoError, match="too short"):
            verify_inclusion(leaf, index, count, proof[:-1], root)


def test_an_index_outside_the_tree_has_no_inclusion_proof() -> None:
    for index in (-1, 8, 9):
        with pytest.raises(CryptoError):
            inclusion_proof(LEAVES, index)
    with pytest.raises(CryptoError):
        inclusion_proof([], 0)
    with pytest.raises(CryptoError):
        verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)


# Consistency.


@given(st.integers(0, 70), st.data())
def test_every_consistency_proof_verifies(count: int, data: st.DataObject) -> None:
    leaves = leaves_of(count)
    old = data.draw(st.integers(0, count))
    verify_consistency(old, count, tree_root(leaves[:old]), tree_root(leaves),
                       consistency_proof(leaves, old))


@given(st.integers(2, 70), st.data())
def test_a_consistency_proof_with_a_flipped_bit_is_refused(count: int,
                                                           data: st.DataObject) -> None:
    leaves = leaves_of(count)
    old = data.draw(st.integers(1, count - 1))
    old_root, new_root = tree_root(leaves[:old]), tree_root(leaves)
    proof = consistency_proof(leaves, old)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(CryptoError):
        verify_consistency(old, count, flip(old_root, bit), new_root, proof)
    with pytest.raises(CryptoError):
        verify_consistency(old, count, old_root, flip(new_root, bit), proof)
    at = data.draw(st.integers(0, len(proof) - 1))
    proof[at] = flip(proof[at], bit)
    with pytest.raises(CryptoError):
        verify_consistency(old, count, old_root, new_root, proof)


@given(st.integers(2, 70), st.data())
def test_a_consistency_proof_for_other_sizes_is_refused_unless_it_has_the_same_shape(
        count: int, data: st.DataObject) -> None:
    leaves = leaves_of(count)
    old = data.draw(st.integers(1, count - 1))
    old_root, new_root = tree_root(leaves[:old]), tree_root(leaves)
    proof, shape = consistency_proof(leaves, old), subproof_shape(old, count)
    others = [(m, count) for m in range(-1, count + 2)]
    others += [(old, n) for n in range(0, 2 * count + 3)]
    for m, n in others:
        if (m, n) == (old, count):
            continue
        if 0 < m < n and subproof_shape(m, n) == shape:
            verify_consistency(m, n, old_root, new_root, proof)
        else:
            with pytest.raises(CryptoError):
                verify_consistency(m, n, old_root, new_root, proof)


@given(st.integers(2, 70), st.data())
def test_a_consistency_proof_with_an_element_missing_or_added_is_refused(
        count: int, data: st.DataObject) -> None:
    leaves = leaves_of(count)
    old = data.draw(st.integers(1, count - 1))
    old_root, new_root = tree_root(leaves[:old]), tree_root(leaves)
    proof = consistency_proof(leaves, old)
    for bent in ([*proof, new_root], [*proof, old_root], [new_root, *proof],
                 [proof[0], *proof], proof[:-1], []):
        with pytest.raises(CryptoError):
            verify_consistency(old, count, old_root, new_root, bent)


@given(st.integers(2, 70), st.data())
def test_consistency_proof_fails_when_history_was_rewritten(count: int,
                                                            data: st.DataObject) -> None:
    """A split view: the same size, a different past."""
    leaves = leaves_of(count)
    old = data.draw(st.integers(1, count - 1))
    changed = data.draw(st.integers(0, old - 1))
    rewritten = [*leaves[:changed], leaf_hash(b"rewritten"), *leaves[changed + 1:]]
    honest_old = tree_root(leaves[:old])
    # the log shows the rewritten tree and proves it from the rewritten past
    with pytest.raises(CryptoError, match="does not extend"):
        verify_consistency(old, count, honest_old, tree_root(rewritten),
                           consistency_proof(rewritten, old))
    # or from the honest past
    with pytest.raises(CryptoError, match="does not extend"):
        verify_consistency(old, count, honest_old, tree_root(rewritten),
                           consistency_proof(leaves, old))
    # a witness that saw the rewritten past refuses the honest present
    with pytest.raises(CryptoError, match="does not extend"):
        verify_consistency(old, count, tree_root(rewritten[:old]), tree_root(leaves),
                           consistency_proof(leaves, old))


def test_a_later_checkpoint_cannot_be_smaller_or_differ_at_the_same_size() -> None:
    leaves = leaves_of(8)
    with pytest.raises(CryptoError, match="smaller"):
        verify_consistency(8, 4, tree_root(leaves), tree_root(leaves[:4]), [])
    with pytest.raises(CryptoError, match="different roots"):
        verify_consistency(4, 4, tree_root(leaves[:4]), tree_root(leaves_of(4, b"x")), [])
    with pytest.raises(CryptoError):
        verify_consistency(4, 4, root_of(4), root_of(4), [root_of(4)])
    with pytest.raises(CryptoError):
        verify_consistency(-1, 4, EMPTY_ROOT, root_of(4), [])
    verify_consistency(4, 4, root_of(4), root_of(4), [])


def test_every_tree_extends_the_empty_one_with_an_empty_proof() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 8, EMPTY_ROOT, root_of(8), [])
    with pytest.raises(CryptoError, match="empty tree's root"):  # no other 32-byte root
        verify_consistency(0, 8, b"anything".ljust(32), root_of(8), [])
    with pytest.raises(CryptoError, match="empty tree's root"):
        verify_consistency(0, 0, root_of(1), root_of(1), [])
    with pytest.raises(CryptoError, match="32-byte"):
        verify_consistency(0, 8, b"anything", root_of(8), [])
    with pytest.raises(CryptoError):
        verify_consistency(0, 8, EMPTY_ROOT, root_of(8), [EMPTY_ROOT])
    assert consistency_proof(LEAVES, 0) == []
    assert consistency_proof(LEAVES, 8) == []
    assert consistency_proof([], 0) == []


def test_a_consistency_proof_needs_an_old_size_within_the_tree() -> None:
    for old in (-1, 9):
        with pytest.raises(CryptoError):
            consistency_proof(LEAVES, old)


# Size.


def test_a_hundred_thousand_leaves() -> None:
    leaves = leaves_of(100_000)
    root = tree_root(leaves)
    assert root == reference_root(leaves)
    proof = inclusion_proof(leaves, 77_777)
    assert len(proof) == 17
    verify_inclusion(leaves[77_777], 77_777, len(leaves), proof, root)
    verify_consistency(65_537, len(leaves), tree_root(leaves[:65_537]), root,
                       consistency_proof(leaves, 65_537))


@given(st.integers(0, 300))
def test_compact_range_gives_the_tree_root_at_every_size(count: int) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(count)]
    streamed = CompactRange()
    assert streamed.root() == tree_root([])
    for size, leaf in enumerate(leaves, start=1):
        streamed.append(leaf)
        if size % 7 == 0 or size == count:
            assert streamed.root() == tree_root(leaves[:size])


@given(st.integers(0, 200), st.integers(0, 100))
def test_a_compact_range_resumed_from_its_roots_goes_on_as_the_original(
        first: int, more: int) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(first + more)]
    streamed = CompactRange()
    for leaf in leaves[:first]:
        streamed.append(leaf)
    resumed = CompactRange.resume(first, streamed.roots())
    for leaf in leaves[first:]:
        resumed.append(leaf)
    assert resumed.size == len(leaves)
    assert resumed.root() == tree_root(leaves)


def test_a_compact_range_with_the_wrong_number_of_roots_is_refused() -> None:
    roots = [leaf_hash(b"a"), leaf_hash(b"b")]
    with pytest.raises(CryptoError, match="6 leaves has 2 subtree roots, not 1"):
        CompactRange.resume(6, roots[:1])
    assert CompactRange.resume(6, roots).size == 6


# Hashes that are not one SHA-256 digest: shorter, longer, empty, and not bytes at all.
NOT_HASHES = [LEAVES[0][:31], LEAVES[0] + b"\x00", b"", LEAVES[0].hex(), None]
HASH_IDS = ["31-bytes", "33-bytes", "empty", "hex-text", "none"]


@pytest.mark.parametrize("bad", NOT_HASHES, ids=HASH_IDS)
def test_a_leaf_hash_that_is_not_32_bytes_is_refused_when_building(bad) -> None:
    leaves = [*LEAVES[:3], bad, *LEAVES[4:]]
    for build in (tree_root, lambda ls: inclusion_proof(ls, 0),
                  lambda ls: consistency_proof(ls, 2)):
        with pytest.raises(CryptoError, match="leaf hash 3 must be a 32-byte"):
            build(leaves)
    with pytest.raises(CryptoError, match="32-byte"):
        node_hash(LEAVES[0], bad)
    with pytest.raises(CryptoError, match="32-byte"):
        node_hash(bad, LEAVES[0])
    with pytest.raises(CryptoError, match="32-byte"):
        CompactRange().append(bad)


@pytest.mark.parametrize("bad", NOT_HASHES, ids=HASH_IDS)
def test_an_inclusion_check_with_a_hash_that_is_not_32_bytes_is_refused(bad) -> None:
    index, size, path = PUBLISHED_INCLUSION[2]
    proof, root, leaf = hexes(path), root_of(size), LEAVES[index]
    verify_inclusion(leaf, index, size, proof, root)
    for damaged in ((bad, index, size, proof, root), (leaf, index, size, proof, bad),
                    (leaf, index, size, [*proof[:-1], bad], root)):
        with pytest.raises(CryptoError, match="32-byte"):
            verify_inclusion(*damaged)


@pytest.mark.parametrize("bad", NOT_HASHES, ids=HASH_IDS)
def test_a_consistency_check_with_a_hash_that_is_not_32_bytes_is_refused(bad) -> None:
    old, new = 3, 8
    proof = consistency_proof(LEAVES, old)
    verify_consistency(old, new, root_of(old), root_of(new), proof)
    for damaged in ((old, new, bad, root_of(new), proof), (old, new, root_of(old), bad, proof),
                    (old, new, root_of(old), root_of(new), [bad, *proof[1:]]),
                    (old, old, bad, bad, [])):
        with pytest.raises(CryptoError, match="32-byte"):
            verify_consistency(*damaged)


@pytest.mark.parametrize("bad", NOT_HASHES, ids=HASH_IDS)
def test_stored_subtree_roots_that_are_not_32_bytes_do_not_resume(bad) -> None:
    streamed = CompactRange()
    for leaf in LEAVES[:6]:
        streamed.append(leaf)
    with pytest.raises(CryptoError, match="subtree root 1"):
        CompactRange.resume(6, [streamed.roots()[0], bad])
    with pytest.raises(CryptoError):
        CompactRange.resume(-2, [])
