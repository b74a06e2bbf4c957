"""The C2SP transparency-log formats, checked against the examples of the specs themselves
(c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature, tlog-witness, tlog-proof)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import CryptoError
from crypto.merkle import EMPTY_ROOT, consistency_proof, leaf_hash, tree_root
from crypto.note import (
    COSIGNATURE_V1,
    CosignatureVerifier,
    Ed25519Verifier,
    NoteSigner,
    cosignature_time,
    cosigned_message,
    format_vkey,
    key_id,
    open_note,
    parse_note,
    parse_vkey,
)
from crypto.tiles import (
    entry_bundle,
    index_path,
    parse_entry_bundle,
    parse_index,
    parse_level,
    tile_path,
)
from crypto.tlog import (
    PROOF_HEADER,
    AddCheckpoint,
    CheckpointBody,
    TlogProof,
    WitnessRefusal,
    check_submission,
    cosignature_lines,
    open_checkpoint,
    parse_add_checkpoint,
    parse_checkpoint,
    parse_tlog_proof,
)

# c2sp.org/signed-note, "Verifier keys", example.
EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_NOTE = (
    "This is an example message.\n"
    "\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOB"
    "H3mFXmRKuwHjG1Yu72IneyaQM=\n").encode()

# c2sp.org/signed-note, its first example (no key given).
POEM_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "\u2014 quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJK"
    "ONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n").encode()

# c2sp.org/tlog-checkpoint and tlog-cosignature examples.
SOFA_TEXT = ("example.com/behind-the-sofa\n"
             "20852163\n"
             "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
SOFA_LOG_LINE = ("\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDe"
                 "OoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n")
SOFA_WITNESS_LINE = ("\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHe"
                     "olMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")
COSIGNED_MESSAGE = (b"cosignature/v1\n"
                    b"time 1679315147\n"
                    b"example.com/behind-the-sofa\n"
                    b"20852163\n"
                    b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")

# c2sp.org/tlog-witness, the add-checkpoint example request body and response.
WITNESS_REQUEST = ("old 20852014\n"
                   "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
                   "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
                   "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
                   "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
                   "\n" + SOFA_TEXT + "\n" + SOFA_LOG_LINE +
                   "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdX"
                   "NqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n").encode()
WITNESS_RESPONSE = (
    "\u2014 witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTS"
    "vVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
    "\u2014 witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt6"
    "4vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
    "\u2014 witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrK"
    "bYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n").encode()

# c2sp.org/tlog-proof, the example's lines before its checkpoint.
PROOF_HEAD = ("c2sp.org/tlog-proof@v1\n"
              "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
              "index 73894\n"
              "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
              "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
              "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
              "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
              "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n")


# signed-note


def test_the_spec_example_vkey_gives_its_key_id_and_verifies_its_note() -> None:
    verifier = parse_vkey(EXAMPLE_VKEY)
    assert isinstance(verifier, Ed25519Verifier)
    assert verifier.key_id.hex() == "530d903a"
    assert verifier.vkey() == EXAMPLE_VKEY
    opened = open_note(EXAMPLE_NOTE, [verifier])
    assert opened.note.text == "This is an example message.\n"
    assert opened.note.to_bytes() == EXAMPLE_NOTE


def test_the_spec_example_note_with_one_byte_changed_is_refused() -> None:
    verifier = parse_vkey(EXAMPLE_VKEY)
    with pytest.raises(CryptoError, match="is wrong"):
        open_note(EXAMPLE_NOTE.replace(b"example message", b"example massage"), [verifier])


def test_a_note_with_empty_lines_in_its_text_splits_at_the_last_blank_line() -> None:
    note = parse_note(POEM_NOTE)
    assert note.text.endswith("ed è subito sera.\n")
    assert note.text.count("\n\n") == 1
    assert [s.name for s in note.signatures] == ["quasimodo.example/salvatore"]
    assert note.to_bytes() == POEM_NOTE


def test_unknown_signatures_are_ignored_and_no_known_one_is_refused() -> None:
    verifier = parse_vkey(EXAMPLE_VKEY)
    stranger = NoteSigner("example.com/foo", Ed25519PrivateKey.generate())  # same name
    note = parse_note(EXAMPLE_NOTE)
    noisy = note.signed(stranger.sign(note.text), *[
        NoteSigner(f"witness{i}.example", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
        .sign(note.text, 1679315147) for i in range(20)])
    assert len(open_note(noisy.to_bytes(), [verifier]).verified) == 1
    with pytest.raises(CryptoError, match="no known key"):
        open_note(EXAMPLE_NOTE, [stranger.verifier()])


def test_a_note_verifies_with_many_cosignatures() -> None:
    log = NoteSigner("log.example/a", Ed25519PrivateKey.generate())
    witnesses = [NoteSigner(f"w{i}.example", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
                 for i in range(40)]
    text = CheckpointBody("log.example/a", 3, tree_root([leaf_hash(b"x")] * 3)).text()
    note = parse_note(text + "\n" + log.sign(text).line()).signed(
        *[w.sign(text, 1_700_000_000 + i) for i, w in enumerate(witnesses)])
    opened = open_note(note.to_bytes(), [log.verifier(), *[w.verifier() for w in witnesses]])
    assert len(opened.verified) == 41


@pytest.mark.parametrize("bad", [
    b"no blank line\n\xe2\x80\x94 a AAAAAAA=\n",
    b"text\n\nnot a signature\n",
    b"text\n\n\xe2\x80\x94 a AAAA\n",  # key ID only, no signature
    b"text\n\n\xe2\x80\x94 a+b AAAAAAA=\n",  # '+' in a key name
    b"text\n\n\xe2\x80\x94 a AAAAAAA=",  # no final newline
    b"te\x01xt\n\n\xe2\x80\x94 a AAAAAAA=\n",  # a control character
    b"text\n\n\xe2\x80\x94 a AAAAAA==AA\n",  # not standard base64
    b"\xff\n\n\xe2\x80\x94 a AAAAAAA=\n",  # not UTF-8
])
def test_malformed_notes_are_refused(bad: bytes) -> None:
    with pytest.raises(CryptoError):
        parse_note(bad)


def test_a_vkey_whose_id_does_not_match_its_key_is_refused() -> None:
    with pytest.raises(CryptoError, match="ID does not match"):
        parse_vkey(EXAMPLE_VKEY.replace("530d903a", "530d903b"))


# tlog-checkpoint


def test_the_spec_example_checkpoint_is_reproduced_byte_for_byte() -> None:
    body = parse_checkpoint(SOFA_TEXT)
    assert (body.origin, body.size) == ("example.com/behind-the-sofa", 20852163)
    assert CheckpointBody(body.origin, body.size, body.root).text() == SOFA_TEXT
    note = parse_note(SOFA_TEXT + "\n" + SOFA_LOG_LINE)
    assert note.to_text() == SOFA_TEXT + "\n" + SOFA_LOG_LINE
    assert note.signatures[0].key_id.hex() == "033de0ae"


@pytest.mark.parametrize("text", [
    "origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # leading zero
    "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  # no padding
    "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",  # 30-byte root
    "\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # no origin
    "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",  # empty extension line
    "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
])
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(CryptoError):
        parse_checkpoint(text)


def test_a_checkpoint_signed_by_the_log_key_opens_and_one_of_another_origin_does_not() -> None:
    log = NoteSigner("divex.example/log", Ed25519PrivateKey.generate())
    text = CheckpointBody("divex.example/log", 0, EMPTY_ROOT).text()
    signed = open_checkpoint(text + "\n" + log.sign(text).line(), [log.verifier()],
                             "divex.example/log")
    assert signed.body.size == 0
    with pytest.raises(CryptoError, match="not 'other"):
        open_checkpoint(signed.note, [log.verifier()], "other.example/log")


# tlog-cosignature


def test_the_spec_example_cosigned_message_is_reproduced_byte_for_byte() -> None:
    witness_line = parse_note(SOFA_TEXT + "\n" + SOFA_WITNESS_LINE).signatures[0]
    assert cosignature_time(witness_line) == 1679315147
    assert cosigned_message(1679315147, SOFA_TEXT.encode()) == COSIGNED_MESSAGE


def test_a_cosignature_verifies_with_its_timestamp_and_not_with_another() -> None:
    witness = NoteSigner("witness.example/w1", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    line = witness.sign(SOFA_TEXT, 1679315147)
    assert witness.key_id == key_id("witness.example/w1", 0x04, witness.public)
    assert parse_vkey(witness.verifier().vkey()) == witness.verifier()
    verifier = witness.verifier()
    assert isinstance(verifier, CosignatureVerifier)
    assert verifier.verify(SOFA_TEXT.encode(), line.signature)
    moved = (1679315148).to_bytes(8, "big") + line.signature[8:]
    assert not verifier.verify(SOFA_TEXT.encode(), moved)
    # The same key as a plain Ed25519 note key has another ID: no confusion of the two.
    assert format_vkey(witness.name, 0x01, witness.public) != verifier.vkey()


# tlog-witness


def test_the_spec_example_witness_request_is_reproduced_byte_for_byte() -> None:
    request = parse_add_checkpoint(WITNESS_REQUEST)
    assert request.old_size == 20852014
    assert len(request.proof) == 4
    assert len(request.checkpoint.signatures) == 2
    assert request.to_bytes() == WITNESS_REQUEST


def test_the_spec_example_witness_response_is_three_signature_lines() -> None:
    lines = cosignature_lines(WITNESS_RESPONSE)
    assert "".join(lines).encode() == WITNESS_RESPONSE
    assert [parse_note(SOFA_TEXT + "\n" + line).signatures[0].name for line in lines] == \
        ["witness.example/w1", "witness.example/w1", "witness.example/w2"]


@pytest.mark.parametrize("bad", [
    b"old 1\n\n",  # no checkpoint
    b"old 01\n\n" + SOFA_TEXT.encode() + b"\n" + SOFA_LOG_LINE.encode(),
    b"size 1\n\n" + SOFA_TEXT.encode() + b"\n" + SOFA_LOG_LINE.encode(),
    b"old 1\nAAAA\n\n" + SOFA_TEXT.encode() + b"\n" + SOFA_LOG_LINE.encode(),  # 3-byte hash
    b"old 1\n" + b"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" * 64 + b"\n"
    + SOFA_TEXT.encode() + b"\n" + SOFA_LOG_LINE.encode(),
])
def test_malformed_witness_requests_are_refused(bad: bytes) -> None:
    with pytest.raises(CryptoError):
        parse_add_checkpoint(bad)


class _Log:
    """A log of n leaves with its key, making checkpoints and proofs for a witness."""

    def __init__(self, origin: str = "divex.example/log") -> None:
        self.origin = origin
        self.signer = NoteSigner(origin, Ed25519PrivateKey.generate())
        self.leaves = [leaf_hash(bytes([i])) for i in range(40)]

    def request(self, old: int, size: int, root: bytes | None = None,
                proof: list[bytes] | None = None) -> AddCheckpoint:
        body = CheckpointBody(self.origin, size, root or tree_root(self.leaves[:size]))
        text = body.text()
        note = parse_note(text + "\n" + self.signer.sign(text).line())
        if proof is None:
            proof = consistency_proof(self.leaves[:size], old) if old else []
        return AddCheckpoint(old, tuple(proof), note)

    def check(self, request: AddCheckpoint, known: tuple[int, bytes] | None) -> None:
        check_submission(request, self.origin, [self.signer.verifier()], known)


def _status(log: _Log, request: AddCheckpoint, known: tuple[int, bytes] | None) -> int:
    try:
        log.check(request, known)
    except WitnessRefusal as refusal:
        return refusal.status
    return 200


def test_a_witness_accepts_a_first_checkpoint_and_one_that_extends_it() -> None:
    log = _Log()
    assert _status(log, log.request(0, 10), None) == 200
    assert _status(log, log.request(10, 25), (10, tree_root(log.leaves[:10]))) == 200
    assert _status(log, log.request(25, 25), (25, tree_root(log.leaves[:25]))) == 200


def test_a_witness_refuses_with_the_statuses_of_the_spec() -> None:
    log = _Log()
    known = (10, tree_root(log.leaves[:10]))
    other = _Log("other.example/log")
    stranger = _Log()  # same origin, another key
    assert _status(log, other.request(10, 20), known) == 404
    assert _status(log, stranger.request(10, 20), known) == 403
    assert _status(log, log.request(21, 20, proof=[]), known) == 400
    assert _status(log, log.request(5, 20), known) == 409
    forked = tree_root([*log.leaves[:9], leaf_hash(b"forged")])
    assert _status(log, log.request(10, 10, root=forked, proof=[]), known) == 422
    assert _status(log, log.request(10, 20, proof=[EMPTY_ROOT] * 3), known) == 422
    assert _status(log, log.request(0, 20, proof=[EMPTY_ROOT]), None) == 422
    assert _status(log, log.request(0, 0, root=leaf_hash(b"x")), None) == 422


def test_a_409_names_the_size_the_witness_knows() -> None:
    log = _Log()
    with pytest.raises(WitnessRefusal) as refused:
        log.check(log.request(0, 20), (10, tree_root(log.leaves[:10])))
    assert refused.value.known_size == 10


def test_a_witness_refuses_a_known_signature_that_fails() -> None:
    log = _Log()
    request = log.request(0, 5)
    text = request.checkpoint.text
    bad = parse_note(text.replace("\n5\n", "\n6\n") + "\n" + request.checkpoint.signatures[0]
                     .line())
    assert _status(log, AddCheckpoint(0, (), bad), None) == 403


# tlog-proof


def test_the_spec_example_proof_lines_are_reproduced_byte_for_byte() -> None:
    checkpoint = parse_note(SOFA_TEXT + "\n" + SOFA_LOG_LINE + SOFA_WITNESS_LINE)
    text = PROOF_HEAD + "\n" + checkpoint.to_text()
    proof = parse_tlog_proof(text)
    assert proof.index == 73894
    assert len(proof.proof) == 5
    assert proof.extra == base64.b64decode("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ")
    assert proof.to_text() == text
    assert TlogProof(proof.index, proof.proof, checkpoint).to_text().startswith(
        PROOF_HEADER + "\nindex 73894\n")


def test_a_proof_without_index_or_with_a_short_hash_is_refused() -> None:
    checkpoint = SOFA_TEXT + "\n" + SOFA_LOG_LINE
    with pytest.raises(CryptoError, match="index"):
        parse_tlog_proof(PROOF_HEADER + "\nAAAA\n\n" + checkpoint)
    with pytest.raises(CryptoError, match="32 bytes"):
        parse_tlog_proof(PROOF_HEADER + "\nindex 1\nAAAA\n\n" + checkpoint)


# tlog-tiles paths


@pytest.mark.parametrize(("index", "path"), [(0, "000"), (67, "067"), (1000, "x001/000"),
                                            (1234067, "x001/x234/067")])
def test_tile_indexes_are_written_and_read_as_the_spec_spells_them(index: int,
                                                                   path: str) -> None:
    assert index_path(index) == path
    assert parse_index(path) == (index, 256)
    assert parse_index(path + ".p/17") == (index, 17)
    assert tile_path(0, index, 17) == f"tile/0/{path}.p/17"
    assert tile_path("entries", index) == f"tile/entries/{path}"


@pytest.mark.parametrize("bad", ["0", "0000", "x000/001", "001/002", "x1/000", "000.p/0",
                                 "000.p/256", "000.p/01", "000.p/", "-01"])
def test_tile_indexes_spelled_otherwise_are_refused(bad: str) -> None:
    with pytest.raises(CryptoError):
        parse_index(bad)


def test_entry_bundles_round_trip_and_a_truncated_one_is_refused() -> None:
    entries = [b"", b"a" * 32, b"b" * 300]
    bundle = entry_bundle(entries)
    assert bundle[:2] == b"\x00\x00" and parse_entry_bundle(bundle) == entries
    with pytest.raises(CryptoError, match="truncated"):
        parse_entry_bundle(bundle[:-1])
    assert [parse_level(t) for t in ("0", "9", "63")] == [0, 9, 63]
    for bad in ("00", "64", "x", ""):
        with pytest.raises(CryptoError):
            parse_level(bad)
