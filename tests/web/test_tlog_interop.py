"""Another implementation reads divex's log: the `tlog-scales` package (tlog-tiles tooling
written apart from divex) fetches the checkpoint and tiles over real HTTP with an auditor's
API token, checks the log's and a witness's signatures with their vkeys, rebuilds the root,
and makes inclusion and consistency proofs from the tiles that divex's own proofs match."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tlog_scales.backend import HttpBackend
from tlog_scales.reader import TilesReader
from tlog_scales.signing import Vkey, VkeySet
from tlog_scales.tiles import leaf_hash as their_leaf_hash
from werkzeug.serving import make_server

from crypto.note import CosignatureVerifier
from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, make_settings, register_states
from web import create_app

NOTES = 300


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = make_settings(Path(tmp_path_factory.mktemp("interop")))
    prepare_store(settings)
    exchange = open_exchange(settings)
    people = register_states(exchange.directory, ("FRA",), ("analyst", "auditor"))
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Interop", "narrative": "n"})
    for version in range(1, NOTES + 1):
        exchange.cases.add_part(people["FRA"], case_id, version, "note", {"text": str(version)})
    exchange.follow()
    first = exchange.checkpointer.record().size
    exchange.cases.open_case(people["FRA"], {"title": "Later", "narrative": "n"})
    exchange.follow()
    exchange.checkpointer.record()
    exchange.witness.cosign(people["FRA.auditor"])
    token = exchange.api_tokens.issue(people["FRA.auditor"], PASSWORD, "mirror", [], 30)[0]
    server = make_server("127.0.0.1", 0, create_app(exchange, {"TESTING": True}),
                         threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    backend = HttpBackend(f"http://127.0.0.1:{server.server_port}")
    backend.session.headers["Authorization"] = f"Bearer {token}"
    yield {"exchange": exchange, "reader": TilesReader(backend), "first": first}
    server.shutdown()
    exchange.close()


def test_their_reader_checks_the_signatures_and_rebuilds_the_root(
        served: dict[str, Any]) -> None:
    exchange: Exchange = served["exchange"]
    reader: TilesReader = served["reader"]
    checkpoint = reader.get_checkpoint()
    assert checkpoint.origin == exchange.checkpointer.origin
    log_vkey = Vkey.from_string(exchange.checkpointer.signer.verifier().vkey())
    published = exchange.directory.state("FRA").cosigning_keys[-1]
    witness_vkey = Vkey.from_string(CosignatureVerifier(
        published["name"], bytes.fromhex(published["public"])).vkey())
    valid = VkeySet(log_vkey, witness_vkey).verify(checkpoint.signatures, checkpoint)
    assert {vkey.sig_type for vkey, _ in valid} == {1, 4}
    assert reader.calculate_root_hash() == checkpoint.root_hash
    assert checkpoint.root_hash.hex() == exchange.checkpoints.latest().root


def test_their_proofs_from_the_tiles_are_divex_proofs(served: dict[str, Any]) -> None:
    exchange: Exchange = served["exchange"]
    reader: TilesReader = served["reader"]
    checkpoint = reader.get_checkpoint()
    for index in (0, 255, 256, checkpoint.size - 1):
        proof = reader.get_inclusion_proof(index, checkpoint.size)
        entry = reader.get_entry(index)
        proof.check(their_leaf_hash(entry), checkpoint.root_hash)
        assert list(proof.node_hashes) == exchange.checkpointer.inclusion(index,
                                                                          checkpoint.size)
    first = served["first"]
    consistency = reader.get_consistency_proof(first, checkpoint.size)
    consistency.check(bytes.fromhex(exchange.checkpoints.get(first).root),
                      checkpoint.root_hash)
    assert list(consistency.node_hashes) == exchange.checkpointer.consistency(
        first, checkpoint.size)
