"""`divex projections rebuild`: every read model dropped and replayed equals the live one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cases.audit import verify_log
from infra.cli import main
from infra.demo import seed
from infra.wiring import Exchange
from tests.conftest import cli_env


@pytest.fixture
def demo(exchange: Exchange) -> Exchange:
    seed(exchange)  # states, users, cases in every tier, trace requests, a meeting
    exchange.follow()
    exchange.checkpointer.record()
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
        assert f"{projection.name}: " in output
    assert dumps(demo) == live
    result = verify_log(demo.ledger, demo.checkpoints.all())
    assert result.ok and result.checkpoints_checked >= 1  # same leaves, same roots


def test_rebuild_repairs_a_damaged_read_model(demo: Exchange) -> None:
    live = dumps(demo)
    with demo.ledger.recorder.datastore.engine.begin() as db:
        db.execute(text("DELETE FROM case_readers"))
        db.execute(text("UPDATE case_index SET status = 'closed'"))
    assert dumps(demo) != live
    rebuild(demo)
    assert dumps(demo) == live
