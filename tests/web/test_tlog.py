"""The log over HTTP in the C2SP formats: who reads the tiles and the checkpoint (the access
matrix), what a mirror rebuilds from them, the member states' witness endpoint with every
status of tlog-witness (a split view refused, then reported by `divex audit verify`), and each
state's receipts of the events it signed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.audit.receipt import check_receipt
from crypto.merkle import HASH_SIZE, leaf_hash, tree_root
from crypto.note import CosignatureVerifier, NoteSigner, open_note, parse_note
from crypto.tiles import parse_entry_bundle
from crypto.tlog import AddCheckpoint, CheckpointBody, open_checkpoint
from infra.cli import main
from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, cli_env, make_settings, register_states
from tests.web.conftest import Browser
from web import create_app

ROLES = ("analyst", "reviewer", "auditor")
# MLI's witness has never cosigned: the fuzzer may move it, but not DEU's, which others use.
USERS = ("FRA", "FRA.reviewer", "FRA.auditor", "FRA.admin", "DEU", "DEU.auditor", "MLI.auditor",
         "secretariat")
NOTES = 270  # past one full tile of 256 entries


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = make_settings(Path(tmp_path_factory.mktemp("tlog")))
    prepare_store(settings)
    exchange = open_exchange(settings)
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI"), ROLES)
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Tiled", "narrative": "n"})
    for version in range(1, NOTES + 1):
        exchange.cases.add_part(people["FRA"], case_id, version, "note", {"text": f"n{version}"})
    exchange.follow()
    exchange.checkpointer.record()
    app = create_app(exchange, {"TESTING": True, "WTF_CSRF_ENABLED": False})
    tokens = {u: exchange.api_tokens.issue(people[u], PASSWORD, "tlog", [], 30)[0]
              for u in USERS}
    yield {"exchange": exchange, "people": people, "app": app, "tokens": tokens,
           "case_id": str(case_id)}
    exchange.close()


def get(world: dict[str, Any], path: str, user: str | None = "FRA.auditor") -> Any:
    headers = {"Authorization": f"Bearer {world['tokens'][user]}"} if user else {}
    return world["app"].test_client().get(path, headers=headers)


def post(world: dict[str, Any], body: bytes, user: str | None = "DEU.auditor") -> Any:
    headers = {"Authorization": f"Bearer {world['tokens'][user]}"} if user else {}
    return world["app"].test_client().post("/witness/add-checkpoint", data=body,
                                           headers=headers)


def size_of(world: dict[str, Any]) -> int:
    return world["exchange"].checkpoints.latest().size


READS = ["/checkpoint", "/tile/0/000", "/tile/0/001.p/{partial}", "/tile/1/000.p/1",
         "/tile/entries/000", "/tile/entries/001.p/{partial}"]


@pytest.mark.parametrize("user", [*USERS, None])
@pytest.mark.parametrize("path", READS)
def test_only_auditors_read_the_tiles_and_the_checkpoint(world: dict[str, Any], path: str,
                                                         user: str | None) -> None:
    response = get(world, path.format(partial=size_of(world) - 256), user)
    if user is None:
        assert response.status_code == 401
    elif world["people"][user].has("auditor"):
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert "auditors" in response.text


def test_an_auditor_reads_them_signed_in_too_and_others_do_not(world: dict[str, Any]) -> None:
    for user, status in (("fra.auditor", 200), ("fra.analyst", 403)):
        browser = Browser(world["app"].test_client())
        assert browser.login(user).status_code == 302
        assert browser.get("/tile/0/000").status_code == status
        # The witness endpoint takes a token only: a cookie (a form elsewhere) cannot cosign.
        assert browser.client.post("/witness/add-checkpoint", data=b"old 0\n\n") \
            .status_code == 401


def test_a_mirror_rebuilds_the_signed_tree_from_the_tiles(world: dict[str, Any]) -> None:
    exchange: Exchange = world["exchange"]
    answer = get(world, "/checkpoint")
    assert answer.content_type == "text/plain; charset=utf-8"
    assert "max-age=5" in answer.headers["Cache-Control"]
    signed = open_checkpoint(answer.data, [exchange.checkpointer.signer.verifier()],
                             exchange.checkpointer.origin)
    size = signed.body.size
    assert size > 256
    full, partial = get(world, "/tile/0/000"), get(world, f"/tile/0/001.p/{size - 256}")
    assert full.content_type == "application/octet-stream"
    assert full.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    hashes = full.data + partial.data
    leaves = [hashes[i:i + HASH_SIZE] for i in range(0, len(hashes), HASH_SIZE)]
    assert len(leaves) == size
    assert tree_root(leaves) == signed.body.root
    assert get(world, "/tile/1/000.p/1").data == tree_root(leaves[:256])
    entries = parse_entry_bundle(get(world, "/tile/entries/000").data) + \
        parse_entry_bundle(get(world, f"/tile/entries/001.p/{size - 256}").data)
    assert [leaf_hash(e) for e in entries] == leaves
    assert all(len(e) == 32 for e in entries)  # event hashes: no header, no content


@pytest.mark.parametrize("path", ["/tile/0/0", "/tile/00/000", "/tile/0/x000/000",
                                  "/tile/0/000.p/0", "/tile/0/000.p/256", "/tile/0/000.p/07",
                                  "/tile/64/000", "/tile/0/002", "/tile/0/001",
                                  "/tile/1/000", "/tile/entries/abc", "/tile/x/000"])
def test_a_tile_that_is_malformed_or_not_covered_is_not_found(world: dict[str, Any],
                                                              path: str) -> None:
    response = get(world, path)
    assert response.status_code == 404
    assert response.content_type == "text/plain; charset=utf-8"
    assert "Traceback" not in response.text


def _checkpoint_request(world: dict[str, Any], old: int, *, signer: NoteSigner | None = None,
                        root: bytes | None = None, proof: tuple[bytes, ...] = ()) -> bytes:
    exchange: Exchange = world["exchange"]
    latest = exchange.checkpoints.latest()
    signer = signer or exchange.checkpointer.signer
    body = CheckpointBody(signer.name, latest.size, root or bytes.fromhex(latest.root))
    note = parse_note(body.text() + "\n" + signer.sign(body.text()).line())
    return AddCheckpoint(old, proof, note).to_bytes()


def test_the_witness_endpoint_answers_as_tlog_witness_says(world: dict[str, Any],
                                                           tmp_path: Path) -> None:
    exchange: Exchange = world["exchange"]
    size = size_of(world)
    assert post(world, b"old 0\n\n", None).status_code == 401
    assert post(world, _checkpoint_request(world, 0), "FRA").status_code == 403  # no auditor
    assert post(world, b"old 0\nnot base64\n\nx\n").status_code == 400
    stranger = NoteSigner(exchange.checkpointer.origin, Ed25519PrivateKey.generate())
    assert post(world, _checkpoint_request(world, 0, signer=stranger)).status_code == 403
    elsewhere = NoteSigner("other.example/log", exchange.checkpointer.log_key.private)
    assert post(world, _checkpoint_request(world, 0, signer=elsewhere)).status_code == 404

    cosigned = post(world, _checkpoint_request(world, 0))
    assert cosigned.status_code == 200, cosigned.text
    published = exchange.directory.state("DEU").cosigning_keys[-1]
    verifier = CosignatureVerifier(published["name"], bytes.fromhex(published["public"]))
    assert verifier.public != world["people"]["DEU.auditor"].keyring.current.public().signing
    latest = exchange.checkpoints.latest()
    opened = open_note(latest.body().text() + "\n" + cosigned.text, [verifier])
    assert opened.verified[0][0] is verifier
    assert "DEU" in {w.state for w in latest.witnessed}

    again = post(world, _checkpoint_request(world, 0))
    assert (again.status_code, again.content_type, again.text) == \
        (409, "text/x.tlog.size", f"{size}\n")

    # A split view: the log key signs another root for the same size. Refused, and kept.
    forged = post(world, _checkpoint_request(world, size, root=b"\xab" * 32))
    assert forged.status_code == 422 and "does not extend" in forged.text
    verify = CliRunner().invoke(main, ["audit", "verify"], env=cli_env(exchange))
    assert verify.exit_code == 1
    assert "split view" in verify.output and "Traceback" not in verify.output


def test_a_witness_catches_up_with_a_consistency_proof_and_refuses_a_bad_one(
        world: dict[str, Any]) -> None:
    exchange: Exchange = world["exchange"]
    people = world["people"]
    # FRA's witness cosigns when its users sign in (as here, whatever test ran before); a
    # client without its size asks.
    exchange.witness.cosign(people["FRA.auditor"])
    asked = post(world, _checkpoint_request(world, 0), "FRA.auditor")
    assert asked.status_code == 409
    old = int(asked.text)
    exchange.cases.open_case(people["FRA"], {"title": "More", "narrative": "n"})
    exchange.follow()
    new = exchange.checkpointer.record().size
    assert new > old
    bogus = _checkpoint_request(world, old, proof=(b"\x00" * 32,) * 3)
    assert post(world, bogus, "FRA.auditor").status_code == 422
    proof = tuple(exchange.checkpointer.consistency(old, new))
    assert post(world, _checkpoint_request(world, old, proof=proof), "FRA.auditor") \
        .status_code == 200
    assert "FRA" in {w.state for w in exchange.checkpoints.latest().witnessed}


def test_a_state_downloads_the_receipts_of_the_events_it_signed(world: dict[str, Any]) -> None:
    exchange: Exchange = world["exchange"]
    case_id = world["case_id"]
    fra = Browser(world["app"].test_client())
    assert fra.login("fra.analyst").status_code == 302
    page = fra.get(f"/cases/{case_id}")
    assert f"/cases/{case_id}/receipts/1" in page.text
    receipt = fra.get(f"/cases/{case_id}/receipts/1")
    assert receipt.status_code == 200
    assert "attachment" in receipt.headers["Content-Disposition"]
    checked = check_receipt(receipt.text, exchange.checkpointer.signer.verifier())
    assert checked.header["aggregate"] == case_id and checked.header["version"] == 1
    deu = Browser(world["app"].test_client())
    assert deu.login("deu.analyst").status_code == 302
    assert deu.get(f"/cases/{case_id}/receipts/1").status_code == 404


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_body_gets_a_clear_refusal_never_a_server_error(world: dict[str, Any],
                                                           data: st.DataObject) -> None:
    """The witness endpoint fuzzed (it is the one POST of the app that is not a form)."""
    valid = _checkpoint_request(world, size_of(world))
    cut = data.draw(st.integers(0, len(valid)))
    body = data.draw(st.one_of(
        st.binary(max_size=300),
        st.just(valid[:cut] + data.draw(st.binary(max_size=8)) + valid[cut + 1:]),
        st.just(valid.replace(b"old ", b"old " + data.draw(st.sampled_from(
            [b"-", b"0", b"99999999999999999999", b" ", b"\xff"])), 1))))
    response = post(world, body, data.draw(st.sampled_from(["MLI.auditor", "DEU.auditor"])))
    assert response.status_code in (200, 400, 403, 404, 409, 422), response.text
    assert response.content_type.startswith(("text/plain", "text/x.tlog.size"))
    assert "Traceback" not in response.text
