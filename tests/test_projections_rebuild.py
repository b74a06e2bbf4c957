"""`divex projections rebuild`: every read model dropped and replayed equals the live one."""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cases.audit.log import verify_log
from infra.cli import main
from infra.demo import seed
from infra.wiring import Exchange
from projections import follower
from tests.conftest import cli_env, register_states
from tests.test_cases import SUMMARY


@pytest.fixture
def demo(exchange: Exchange) -> Exchange:
    seed(exchange)  # states, users, cases in every tier, trace requests, a meeting
    exchange.follow()
    exchange.checkpointer.record()
    return exchange


@pytest.fixture
def small(exchange: Exchange) -> Exchange:
    """A short log (states, users, two cases) for what does not need the whole demo."""
    people = register_states(exchange.directory, ("FRA", "DEU"))
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    exchange.cases.open_case(people["DEU"], SUMMARY)
    exchange.follow()
    return exchange


def dumps(exchange: Exchange) -> dict[str, dict[str, list[tuple]]]:
    return {p.name: p.view.dump() for p in exchange.projections()}


def rebuild(exchange: Exchange) -> str:
    env = cli_env(exchange)
    result = CliRunner().invoke(main, ["projections", "rebuild"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_rebuilt_read_models_are_identical_to_the_live_ones(demo: Exchange) -> None:
    live = dumps(demo)
    assert all(any(rows for rows in tables.values()) for tables in live.values())
    output = rebuild(demo)
    for projection in demo.projections():
        assert projection.name in output
    assert dumps(demo) == live
    result = verify_log(demo.ledger, demo.checkpoints.all())
    assert result.ok and result.checkpoints_checked >= 1  # same leaves, same roots


def test_rebuild_repairs_a_damaged_read_model(demo: Exchange) -> None:
    live = dumps(demo)
    some = demo.case_index.view.dump()["case_index"][0][0]
    with demo.ledger.recorder.datastore.engine.begin() as db:
        db.execute(text("DELETE FROM case_index WHERE case_id = :id"), {"id": some})
        db.execute(text("DELETE FROM case_readers"))
        db.execute(text("UPDATE case_index SET status = 'closed'"))
        db.execute(text("DELETE FROM audit_log WHERE position >= 10"))
    assert dumps(demo) != live
    rebuild(demo)
    assert dumps(demo) == live


def test_status_shows_each_read_model_against_the_end_of_the_log(small: Exchange) -> None:
    last = small.ledger.recorder.max_notification_id()
    result = CliRunner().invoke(main, ["projections", "status"], env=cli_env(small))
    assert result.exit_code == 0, result.output
    assert f"log: {last} events" in result.output
    for projection in small.projections():
        assert f"{projection.name}: at {last} (up to date)" in result.output
    small.audit_index.view.drop()
    small.audit_index.view.create_table()
    result = CliRunner().invoke(main, ["projections", "status"], env=cli_env(small))
    assert f"audit_index: at 0 ({last} behind)" in result.output


def test_replay_reports_progress_batch_by_batch_over_the_whole_log(
        small: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = small.audit_index.view.count()
    monkeypatch.setattr(follower, "BATCH", 7)
    small.trace_board.view.drop()
    small.trace_board.view.create_table()
    steps: list[int] = []
    assert follower.catch_up(small.ledger, [small.trace_board], steps.append) == stored
    assert sum(steps) == stored and len(steps) == stored // 7 + 1
    assert all(step == 7 for step in steps[:-1])
    assert follower.catch_up(small.ledger, [small.trace_board], steps.append) == 0


def test_a_store_that_cannot_be_opened_is_a_one_line_error(tmp_path) -> None:
    env = {"DIVEX_DATA_DIR": str(tmp_path),
           "DIVEX_DATABASE_URL": "postgresql+psycopg://divex:s3cret@127.0.0.1:1/divex"}
    result = CliRunner().invoke(main, ["projections", "rebuild"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("Error: Cannot open the store (postgresql+psycopg://divex:***@")
    assert len(result.output.strip().splitlines()) == 1 and "s3cret" not in result.output


def test_status_with_kafka_workers_names_the_first_event_a_read_model_lacks(
        small: Exchange) -> None:
    env = cli_env(small, DIVEX_PROJECTION_SOURCE="kafka")
    result = CliRunner().invoke(main, ["projections", "status"], env=env)
    assert "case_index (Kafka workers): up to date" in result.output
    first = small.ledger.recorder.select_notifications(0, limit=1)[0].id
    small.case_index.view.drop()
    small.case_index.view.create_table()
    result = CliRunner().invoke(main, ["projections", "status"], env=env)
    assert f"case_index (Kafka workers): lacks notification {first} and later" in result.output
    assert "audit_index: at" in result.output  # still followed from the log


@pytest.mark.parametrize("batch", [3, follower.BATCH])
def test_a_rebuilt_leaf_is_the_event_hash_whether_its_successor_is_in_its_batch_or_not(
        small: Exchange, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    """A replayed event followed in its batch by the next event of its aggregate takes its
    hash from that event's signed ``prev_hash``; one whose successor is in a later batch
    (batches of 3), or that has none yet, is hashed: the leaves are the same either way."""
    ledger = small.ledger
    hashes = [bytes.fromhex(ledger.mapper.to_domain_event(n).hash())
              for n in ledger.recorder.select_notifications(0, limit=1_000_000)]
    monkeypatch.setattr(follower, "BATCH", batch)
    small.audit_index.view.drop()
    small.audit_index.view.create_table()
    follower.catch_up(ledger, [small.audit_index])
    assert small.audit_index.view.leaf_hashes() == hashes


def test_an_event_changed_at_rest_before_a_rebuild_is_still_named_by_verify(
        demo: Exchange) -> None:
    """The thief edits a stored body, then rebuilds to hide it: the rebuilt leaf of the
    event is its successor's signed ``prev_hash`` (the hash before the edit), and verify,
    which hashes every stored event itself, names the event."""
    ledger = demo.ledger
    stored = ledger.recorder.select_notifications(0, limit=1_000_000)
    events = [ledger.mapper.to_domain_event(n) for n in stored]
    followed = {(e.originator_id, e.originator_version - 1) for e in events}
    victim, event = next((n, e) for n, e in zip(stored, events, strict=True)
                         if (e.originator_id, e.originator_version) in followed and e.body)
    state = json.loads(victim.state)
    body = bytearray(base64.b64decode(state["body"]))
    body[len(body) // 2] ^= 0x01
    state["body"] = base64.b64encode(bytes(body)).decode()
    with ledger.recorder.datastore.engine.begin() as db:
        db.execute(text("UPDATE divex_events SET state = :s WHERE id = :i"),
                   {"s": json.dumps(state).encode(), "i": victim.id})
    rebuild(demo)
    assert demo.audit_index.view.row(victim.id).event_hash == event.hash()
    finding = verify_log(ledger, demo.checkpoints.all()).finding
    assert finding is not None
    assert (finding.notification_id, finding.check) == (victim.id, "signature")
