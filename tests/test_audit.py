"""Auditors prove the log complete and unaltered: checkpoints, witnesses, tampering, bundles.

Each tamper test plays the operator or a database thief changing stored rows, and checks that
`verify` names the failed check and the first bad record.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cases.audit.checkpoint import Checkpoint
from cases.audit.log import verify_log
from cases.kernel.errors import Conflict
from crypto.logkey import LogKey, key_fingerprint
from crypto.note import NoteSigner
from crypto.tlog import CheckpointBody
from infra.cli import main
from infra.settings import Settings
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.checkpoints import now_text
from projections.follower import catch_up
from tests.conftest import cli_env, register_states
from tests.test_cases import ITEM, SUMMARY

EVERY = 5


@pytest.fixture
def audited(settings: Settings) -> Iterator[Exchange]:
    """A log of ~20 events with checkpoints every 5, the last one cosigned by FRA and DEU."""
    prepare_store(settings)
    exchange = open_exchange(replace(settings, checkpoint_every=EVERY))
    viewers = register_states(exchange.directory, ("FRA", "DEU"), ("analyst", "auditor"))
    case_id = exchange.cases.open_case(viewers["FRA"], SUMMARY)
    exchange.cases.add_part(viewers["FRA"], case_id, 1, "item", ITEM)
    exchange.cases.share(viewers["FRA"], case_id, 2, "bilateral", ["DEU"])
    exchange.follow()
    exchange.witness.cosign(viewers["FRA.auditor"])
    exchange.witness.cosign(viewers["DEU.auditor"])
    exchange.viewers = viewers  # type: ignore[attr-defined]
    yield exchange
    exchange.close()


def rows(exchange: Exchange) -> list[tuple[int, bytes]]:
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        return [(r[0], bytes(r[1])) for r in
                db.execute(text("SELECT id, state FROM divex_events ORDER BY id"))]


def execute(exchange: Exchange, sql: str, **values: object) -> None:
    with exchange.ledger.recorder.datastore.engine.begin() as db:
        db.execute(text(sql), values)


def full_check(exchange: Exchange):
    return verify_log(exchange.ledger, exchange.checkpoints.all())


def test_checkpoints_are_signed_every_n_events_and_the_log_verifies(audited: Exchange) -> None:
    count = len(rows(audited))
    checkpoints = audited.checkpoints.all()
    assert [c.size for c in checkpoints] == list(range(EVERY, count + 1, EVERY))
    assert {w.state for w in checkpoints[-1].witnessed} == {"FRA", "DEU"}
    result = full_check(audited)
    assert result.ok, result.finding
    assert result.events_checked == count
    assert result.checkpoints_checked == len(checkpoints)
    assert result.cosignatures_checked == 2
    assert result.trust["log"] == key_fingerprint(
        LogKey.load_or_create(audited.settings.log_key_file).public_bytes)


def test_flipped_byte_in_a_stored_body_is_named(audited: Exchange) -> None:
    victim, state = next((i, s) for i, s in rows(audited) if b'"kind":"item"' in s)
    event = json.loads(state)
    body = bytearray(base64.b64decode(event["body"]))
    body[len(body) // 2] ^= 0x01
    event["body"] = base64.b64encode(bytes(body)).decode()
    execute(audited, "UPDATE divex_events SET state = :s WHERE id = :i",
            s=json.dumps(event).encode(), i=victim)
    finding = full_check(audited).finding
    assert finding is not None
    assert (finding.notification_id, finding.check) == (victim, "signature")


def test_changed_header_field_is_named(audited: Exchange) -> None:
    victim, state = next((i, s) for i, s in rows(audited) if b'"added"' in s)
    event = json.loads(state)
    event["added"] = ["MLI"]
    execute(audited, "UPDATE divex_events SET state = :s WHERE id = :i",
            s=json.dumps(event).encode(), i=victim)
    finding = full_check(audited).finding
    assert finding is not None
    assert (finding.notification_id, finding.check) == (victim, "signature")


def test_the_key_version_of_a_published_cosigning_key_is_signed(audited: Exchange) -> None:
    witnesses = full_check(audited).keys["witnesses"]
    keyring = {code: audited.viewers[f"{code}.auditor"].keyring.current.version  # type: ignore[attr-defined]
               for code in ("FRA", "DEU")}
    assert {(w["state"], w["version"]) for w in witnesses} == set(keyring.items())
    # The operator moves FRA's published key to another key version: the signature fails.
    victim, state = next((i, s) for i, s in rows(audited) if b'"key_version"' in s)
    event = json.loads(state)
    event["key_version"] += 1
    execute(audited, "UPDATE divex_events SET state = :s WHERE id = :i",
            s=json.dumps(event).encode(), i=victim)
    finding = full_check(audited).finding
    assert finding is not None
    assert (finding.notification_id, finding.check) == (victim, "signature")


@pytest.mark.parametrize("workers", [1, 2])
def test_replaced_signature_is_named(audited: Exchange, workers: int) -> None:
    (_, other), (victim, state) = rows(audited)[-2:]
    event = json.loads(state)
    event["signature"] = json.loads(other)["signature"]
    execute(audited, "UPDATE divex_events SET state = :s WHERE id = :i",
            s=json.dumps(event).encode(), i=victim)
    finding = verify_log(audited.ledger, audited.checkpoints.all(), workers=workers).finding
    assert finding is not None
    assert (finding.notification_id, finding.check) == (victim, "signature")


def test_deleted_last_event_of_an_aggregate_is_caught_by_the_checkpoint(
        audited: Exchange) -> None:
    """No later event of that aggregate names it: only the Merkle tree can tell."""
    covered = {i for i, _ in rows(audited)[:audited.checkpoints.all()[-1].size]}
    with audited.ledger.recorder.datastore.engine.connect() as db:
        last_of_each = db.execute(text(
            "SELECT max(id) FROM divex_events GROUP BY originator_id")).scalars().all()
    victim = max(set(last_of_each) & covered)
    execute(audited, "DELETE FROM divex_events WHERE id = :i", i=victim)
    finding = full_check(audited).finding
    assert finding is not None and finding.check == "checkpoint"


def test_two_events_of_different_aggregates_swapped_are_caught(audited: Exchange) -> None:
    """Each aggregate's own order stays intact; the order of the log does not."""
    stored = rows(audited)[:audited.checkpoints.all()[-1].size]
    with audited.ledger.recorder.datastore.engine.connect() as db:
        owners = dict(db.execute(text("SELECT id, originator_id FROM divex_events")).all())
    first, second = next((a, b) for (a, _), (b, _) in itertools.pairwise(stored)
                         if owners[a] != owners[b])
    execute(audited, "UPDATE divex_events SET id = -1 WHERE id = :a", a=first)
    execute(audited, "UPDATE divex_events SET id = :a WHERE id = :b", a=first, b=second)
    execute(audited, "UPDATE divex_events SET id = :b WHERE id = -1", b=second)
    finding = full_check(audited).finding
    assert finding is not None and finding.check == "checkpoint"


def test_log_truncated_after_a_checkpoint_is_named(audited: Exchange) -> None:
    size = audited.checkpoints.all()[-1].size
    execute(audited, "DELETE FROM divex_events WHERE id > :keep",
            keep=rows(audited)[size - 3][0])
    finding = full_check(audited).finding
    assert finding is not None and finding.check == "checkpoint"
    assert "truncated" in finding.detail


def forged_checkpoint(exchange: Exchange, size: int) -> Checkpoint:
    """What a dishonest operator holding the log key could sign: a root of another history."""
    key = LogKey.load_or_create(exchange.settings.log_key_file)
    signer = NoteSigner(exchange.checkpointer.origin, key.private)
    body = CheckpointBody(signer.name, size, bytes.fromhex("ab" * 32))
    line = signer.sign(body.text())
    return Checkpoint(size, body.root.hex(), now_text(), line.key_id.hex(),
                      line.signature.hex(), origin=signer.name)


def test_witness_refuses_a_checkpoint_that_does_not_extend_the_one_it_cosigned(
        audited: Exchange) -> None:
    viewers = audited.viewers  # type: ignore[attr-defined]
    size = audited.checkpoints.latest().size + 1
    audited.checkpoints.add(forged_checkpoint(audited, size))
    with pytest.raises(Conflict, match="does not extend"):
        audited.witness.cosign(viewers["FRA.auditor"])
    assert not audited.checkpoints.latest().witnessed  # nothing was cosigned
    finding = full_check(audited).finding
    assert finding is not None and finding.check == "checkpoint"


def test_witness_keeps_its_own_record_of_what_it_cosigned(audited: Exchange) -> None:
    viewers = audited.viewers  # type: ignore[attr-defined]
    cosigned = audited.checkpoints.latest()
    execute(audited, "UPDATE audit_checkpoints SET root = :r WHERE size = :s",
            r="cd" * 32, s=cosigned.size)
    audited.cases.open_case(viewers["FRA"], SUMMARY)
    audited.follow()
    latest = audited.checkpointer.record()
    # The swapped root does not move FRA's witness: the new checkpoint extends what it saw.
    assert audited.witness.cosign(viewers["FRA.auditor"]) is not None
    finding = full_check(audited).finding
    assert finding is not None and finding.version == cosigned.size
    # Its own record, changed in the store, is noticed: it bears FRA's cosignature.
    execute(audited, "UPDATE audit_witness_heads SET root = :r", r="cd" * 32)
    audited.cases.open_case(viewers["FRA"], SUMMARY)
    audited.follow()
    assert audited.checkpointer.record().size > latest.size
    with pytest.raises(Conflict, match="altered"):
        audited.witness.cosign(viewers["FRA.auditor"])


def test_witness_cosigns_a_checkpoint_that_extends_its_last(audited: Exchange) -> None:
    viewers = audited.viewers  # type: ignore[attr-defined]
    audited.cases.open_case(viewers["FRA"], SUMMARY)
    audited.follow()
    latest = audited.checkpointer.record()
    assert audited.witness.cosign(viewers["DEU.auditor"]).size == latest.size
    assert audited.witness.cosign(viewers["DEU.auditor"]) is None  # already done
    assert full_check(audited).cosignatures_checked == 3


def test_index_size_and_latest_checkpoint_agree_with_a_full_read(audited: Exchange) -> None:
    viewers = audited.viewers  # type: ignore[attr-defined]
    audited.cases.open_case(viewers["DEU"], SUMMARY)
    audited.follow()
    with audited.ledger.recorder.datastore.engine.connect() as db:
        rows_held = db.execute(text("SELECT count(*) FROM audit_log")).scalar()
    assert audited.audit_index.view.count() == rows_held
    latest = audited.checkpoints.latest()
    assert latest == audited.checkpoints.all()[-1]
    assert {w.state for w in latest.witnessed} == {"FRA", "DEU"}


def more_events(exchange: Exchange) -> None:
    """Enough new events for another checkpoint, from a new process's exchange."""
    viewers = exchange.viewers  # type: ignore[attr-defined]
    later = open_exchange(exchange.settings)
    try:
        case_id = later.cases.open_case(viewers["DEU"], SUMMARY)
        for version in range(1, EVERY + 1):
            later.cases.add_part(viewers["DEU"], case_id, version, "item", ITEM)
        assert later.follow()
    finally:
        later.close()


def test_a_new_process_extends_the_stored_tree_without_reading_old_leaves(
        audited: Exchange) -> None:
    before = audited.checkpoints.latest()
    # Were the old leaves hashed again, this altered index row would skew the next root.
    execute(audited, "UPDATE audit_log SET event_hash = :h WHERE position = 0", h="00" * 32)
    more_events(audited)
    assert audited.checkpoints.latest().size > before.size
    result = full_check(audited)
    assert result.ok, result.finding


def test_a_tampered_stored_tree_is_not_used(audited: Exchange) -> None:
    latest = audited.checkpoints.latest()
    execute(audited, "UPDATE audit_frontiers SET roots = :r WHERE size = :s",
            r=" ".join(["ab" * 32] * bin(latest.size).count("1")), s=latest.size)
    more_events(audited)
    assert audited.checkpoints.latest().size > latest.size
    result = full_check(audited)
    assert result.ok, result.finding


def test_threads_signing_at_once_sign_only_true_roots(audited: Exchange,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A threaded server (`divex serve`, gunicorn gthread) signs from many request threads:
    each must grow its own copy of the tree, not the one another thread is growing."""
    viewers = audited.viewers  # type: ignore[attr-defined]
    case_id = audited.cases.open_case(viewers["DEU"], SUMMARY)
    for version in range(1, 8 * EVERY):
        audited.cases.add_part(viewers["DEU"], case_id, version, "item", ITEM)
    catch_up(audited.ledger, [audited.audit_index])  # index the events, sign nothing yet
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        start = threading.Barrier(6)

        def sign() -> None:
            start.wait()
            audited.checkpointer.catch_up()
            audited.checkpointer.record()

        threads = [threading.Thread(target=sign) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(0.005)
    result = full_check(audited)
    assert result.ok, result.finding
    assert result.checkpoints_checked == len(audited.checkpoints.all()) > 8


# The offline auditor

@pytest.fixture
def env(audited: Exchange) -> dict[str, str]:
    return cli_env(audited, DIVEX_CHECKPOINT_EVERY=str(EVERY))


def test_exported_bundle_verifies_with_no_access_to_the_exchange(
        audited: Exchange, env: dict[str, str], tmp_path: Path) -> None:
    bundle = tmp_path / "audit.jsonl.gz"
    runner = CliRunner()
    exported = runner.invoke(main, ["audit", "export", "--out", str(bundle)], env=env)
    assert exported.exit_code == 0, exported.output
    fingerprint = full_check(audited).trust["secretariat"]
    count = len(rows(audited))
    execute(audited, "DELETE FROM divex_events")  # the auditor has only the bundle
    result = runner.invoke(main, ["audit", "verify", "--bundle", str(bundle),
                                  "--trust-secretariat", fingerprint], env={})
    assert result.exit_code == 0, result.output
    assert f"Checked {count} events" in result.output and "OK" in result.output
    pinned = runner.invoke(main, ["audit", "verify", "--bundle", str(bundle),
                                  "--trust-secretariat", "0" * 16], env={})
    assert pinned.exit_code == 1 and "not the trusted" in pinned.output


def test_bundle_holds_no_content(audited: Exchange, env: dict[str, str],
                                 tmp_path: Path) -> None:
    bundle = tmp_path / "audit.jsonl.gz"
    CliRunner().invoke(main, ["audit", "export", "--out", str(bundle)], env=env)
    data = gzip.decompress(bundle.read_bytes()).decode()
    bodies = [json.loads(s)["body"] for _, s in rows(audited) if json.loads(s).get("body")]
    assert bodies and not any(body in data for body in bodies)
    assert SUMMARY["title"] not in data and SUMMARY["narrative"] not in data
    assert '"body"' not in data


def test_tampered_bundle_names_the_first_bad_record(audited: Exchange, env: dict[str, str],
                                                    tmp_path: Path) -> None:
    bundle = tmp_path / "audit.jsonl.gz"
    CliRunner().invoke(main, ["audit", "export", "--out", str(bundle)], env=env)
    lines = gzip.decompress(bundle.read_bytes()).decode().splitlines()
    index = next(n for n, line in enumerate(lines) if '"added"' in line)
    entry = json.loads(lines[index])
    entry["record"]["header"]["added"] = ["MLI"]
    lines[index] = json.dumps(entry)
    bundle.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    result = CliRunner().invoke(main, ["audit", "verify", "--bundle", str(bundle)], env={})
    assert result.exit_code == 1
    notification = entry["record"]["notification_id"]
    assert f"FAILED at notification {notification}" in result.output
    assert "signature" in result.output and "Traceback" not in result.output


def test_a_file_that_is_not_a_bundle_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"not gzip at all")
    result = CliRunner().invoke(main, ["audit", "verify", "--bundle", str(junk)], env={})
    assert result.exit_code == 1
    assert "not a divex audit bundle" in result.output and "Traceback" not in result.output


def test_live_verify_and_inclusion_proof_from_the_command_line(
        audited: Exchange, env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    verified = runner.invoke(main, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    first = rows(audited)[0][0]
    receipt = tmp_path / "first.tlog-proof"
    proved = runner.invoke(main, ["audit", "prove", str(first), "--out", str(receipt)], env=env)
    assert proved.exit_code == 0, proved.output
    assert "receipt written" in proved.output and receipt.read_text().startswith("c2sp.org/")
    missing = runner.invoke(main, ["audit", "prove", "999999"], env=env)
    assert missing.exit_code == 1 and "No event" in missing.output
    execute(audited, "UPDATE audit_checkpoints SET signature = :s",
            s="00" * 64)
    broken = runner.invoke(main, ["audit", "verify"], env=env)
    assert broken.exit_code == 1 and "checkpoint" in broken.output
