"""External witnesses (DIVEX_WITNESSES): each new checkpoint goes to them over HTTP
(c2sp.org/tlog-witness), one that was offline catches up with a consistency proof, and their
cosignatures are kept and verified; receipts carry them offline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from cases.audit.log import verify_log
from cases.audit.receipt import check_receipt
from crypto import CryptoError
from crypto.note import Ed25519Verifier, parse_vkey
from crypto.tlog import CheckpointBody
from infra.cli import main
from infra.settings import Settings, load_settings
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.checkpoints import CheckpointStore
from tests.conftest import cli_env, register_states
from tests.test_cases import SUMMARY
from tests.witness_server import TestWitness


@pytest.fixture
def witness() -> Iterator[TestWitness]:
    found = TestWitness("", [])
    found.start()  # to learn its port; each test starts it as it needs
    found.stop()
    yield found
    found.stop()


@pytest.fixture
def exchange(settings: Settings, witness: TestWitness) -> Iterator[Exchange]:
    prepare_store(settings)
    opened = open_exchange(replace(settings, checkpoint_every=1000,
                                   witnesses=((witness.url, witness.vkey),)))
    witness.origin = opened.checkpointer.origin
    witness.log_keys = [opened.checkpointer.signer.verifier()]
    opened.viewers = register_states(opened.directory, ("FRA",))  # type: ignore[attr-defined]
    yield opened
    opened.close()


def grow(exchange: Exchange) -> int:
    """A few more events and a checkpoint of them; its size."""
    exchange.cases.open_case(exchange.viewers["FRA"], SUMMARY)  # type: ignore[attr-defined]
    exchange.follow()
    return exchange.checkpointer.record().size


def test_an_offline_witness_catches_up_with_a_consistency_proof(
        exchange: Exchange, witness: TestWitness) -> None:
    witness.start()
    first = grow(exchange)
    assert exchange.external_witnesses.submit_latest() == []
    witness.stop()  # offline while the log grows
    grow(exchange)
    failures = exchange.external_witnesses.submit_latest()
    assert [f.status for f in failures] == [0]  # unreachable, reported, not raised
    later = grow(exchange)
    witness.start()
    assert exchange.external_witnesses.submit_latest() == []
    # It got the proof from the size it cosigned to the newest, and moved there.
    assert witness.requests == [(0, 200), (first, 200)]
    assert witness.known is not None and witness.known[0] == later
    latest = exchange.checkpoints.latest()
    assert [w.witness for w in latest.witnessed] == ["witness.example/w1"]
    result = verify_log(exchange.ledger, exchange.checkpoints.all(),
                        witnesses=exchange.external_witnesses.verifiers())
    assert result.ok, result.finding
    assert result.cosignatures_checked == 2  # sizes `first` and `later`
    # Without its key, the witness's cosignatures are ignored, as signed-note asks.
    unknown = verify_log(exchange.ledger, exchange.checkpoints.all())
    assert unknown.ok and unknown.cosignatures_checked == 0


def test_a_witness_that_knows_more_than_the_log_remembers_says_so_and_is_caught_up(
        exchange: Exchange, witness: TestWitness) -> None:
    witness.start()
    known = grow(exchange)
    exchange.external_witnesses.submit_latest()
    with exchange.ledger.recorder.datastore.engine.begin() as db:  # the log lost its record
        db.execute(text("DELETE FROM audit_witness_cosignatures"))
    grow(exchange)
    assert exchange.external_witnesses.submit_latest() == []
    assert witness.requests[1:] == [(0, 409), (known, 200)]


def test_a_witness_that_refuses_is_reported_and_nothing_is_kept(
        exchange: Exchange, witness: TestWitness) -> None:
    witness.log_keys = []  # it does not know the log's key: 403
    witness.start()
    grow(exchange)
    failures = exchange.external_witnesses.submit_latest()
    assert [f.status for f in failures] == [403]
    assert not exchange.checkpoints.latest().witnessed


def test_a_receipt_verifies_offline_with_the_witnesses_cosignature(
        exchange: Exchange, witness: TestWitness, settings: Settings, tmp_path: Path) -> None:
    witness.start()
    grow(exchange)
    exchange.external_witnesses.submit_latest()
    event = exchange.ledger.recorder.max_notification_id()
    receipt = exchange.receipt(event)
    log_key = exchange.checkpointer.signer.verifier()
    checked = check_receipt(receipt, log_key, [parse_vkey(witness.vkey)])
    assert checked.witnesses == ("witness.example/w1",)
    assert checked.header["actor_state"] == "FRA"
    with pytest.raises(CryptoError):  # another event's header in the extra line
        check_receipt(receipt.replace("extra ", "extra A", 1), log_key)
    # And from the command line, anywhere.
    path = tmp_path / "receipt.tlog-proof"
    path.write_text(receipt)
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify-proof", str(path), "--log-key", log_key.vkey(),
                              "--witness", witness.vkey, "--min-witnesses", "1"], env={})
    assert ok.exit_code == 0, ok.output
    assert "OK: the receipt verifies" in ok.output
    stranger = Ed25519Verifier(log_key.name,
                               Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    refused = runner.invoke(main, ["audit", "verify-proof", str(path), "--log-key",
                                   stranger.vkey()], env={})
    assert refused.exit_code == 1 and "Traceback" not in refused.output


def test_witnesses_are_read_from_the_setting_and_a_bad_one_is_refused(
        witness: TestWitness) -> None:
    found = load_settings({"DIVEX_WITNESSES": f"{witness.url} {witness.vkey},"})
    assert found.witnesses == ((witness.url, witness.vkey),)
    for bad in ("ftp://x " + witness.vkey, witness.url,
                f"{witness.url} {witness.vkey.replace('+', '-', 1)}"):
        with pytest.raises(ValueError, match="DIVEX_WITNESSES"):
            load_settings({"DIVEX_WITNESSES": bad})
    with pytest.raises(ValueError, match="DIVEX_LOG_ORIGIN"):
        load_settings({"DIVEX_LOG_ORIGIN": "https://exchange.example/log"})


def test_prove_writes_a_receipt_that_verify_proof_accepts(
        exchange: Exchange, settings: Settings, tmp_path: Path) -> None:
    grow(exchange)
    env = cli_env(exchange)
    event = str(exchange.ledger.recorder.max_notification_id())
    out = tmp_path / "event.tlog-proof"
    runner = CliRunner()
    proved = runner.invoke(main, ["audit", "prove", event, "--out", str(out)], env=env)
    assert proved.exit_code == 0, proved.output
    assert out.read_text().startswith("c2sp.org/tlog-proof@v1\nextra ")
    vkey = exchange.checkpointer.signer.verifier().vkey()
    assert runner.invoke(main, ["audit", "verify-proof", str(out), "--log-key", vkey],
                         env={}).exit_code == 0
    missing = runner.invoke(main, ["audit", "prove", "999999"], env=env)
    assert missing.exit_code == 1 and "No event" in missing.output


def test_a_checkpoint_seen_elsewhere_with_another_root_is_reported_as_a_split_view(
        exchange: Exchange, tmp_path: Path) -> None:
    size = grow(exchange)
    env = cli_env(exchange)
    bundle = tmp_path / "audit.jsonl.gz"
    runner = CliRunner()
    assert runner.invoke(main, ["audit", "export", "--out", str(bundle)], env=env).exit_code == 0
    honest = tmp_path / "honest.checkpoint"
    honest.write_text(exchange.checkpoints.latest().note().to_text())
    agreed = runner.invoke(main, ["audit", "verify", "--bundle", str(bundle),
                                  "--checkpoint", str(honest)], env={})
    assert agreed.exit_code == 0, agreed.output
    # What the operator, holding the log key, showed another state: another root, same size.
    signer = exchange.checkpointer.signer
    body = CheckpointBody(signer.name, size, b"\xcd" * 32)
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(body.text() + "\n" + signer.sign(body.text()).line())
    for where in (["--bundle", str(bundle)], []):
        split = runner.invoke(main, ["audit", "verify", *where, "--checkpoint", str(forged)],
                              env={} if where else env)
        assert split.exit_code == 1
        assert "split view" in split.output and "Traceback" not in split.output
    junk = tmp_path / "junk.checkpoint"
    junk.write_text("not a note")
    refused = runner.invoke(main, ["audit", "verify", "--checkpoint", str(junk)], env=env)
    assert refused.exit_code == 1 and "not a checkpoint note" in refused.output


def test_a_checkpoint_table_of_the_first_format_gains_its_origin_column(
        settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as db:  # as divex made it before the C2SP formats
            db.execute(text("CREATE TABLE audit_checkpoints (size INTEGER PRIMARY KEY, "
                            "root VARCHAR(64) NOT NULL, time VARCHAR(40) NOT NULL, "
                            "log_key VARCHAR(16) NOT NULL, signature VARCHAR(128) NOT NULL)"))
            db.execute(text("INSERT INTO audit_checkpoints VALUES (3, :r, 't', 'k', 's')"),
                       {"r": "ab" * 32})
        store = CheckpointStore(engine)
        store.create_tables()
        store.create_tables()  # again, as every `divex` command does: nothing changes
        [old] = store.all()
        assert (old.size, old.origin, old.witnessed) == (3, None, ())
    finally:
        engine.dispose()
