"""Time travel: a case as it was at any moment, for the states that could read it then."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cases.kernel.errors import NotFound
from infra.cli import main
from infra.wiring import Exchange
from tests.conftest import PASSWORD, cli_env, enrolled, register_states
from tests.test_cases import ITEM, SUMMARY

REVISED = dict(SUMMARY, title="Rifles traced to a stockpile loss")


@pytest.fixture
def story(exchange: Exchange):
    """FRA opens a case, adds an item, revises the title, then shares with DEU."""
    viewers = register_states(exchange.directory, ("FRA", "DEU", "MLI"), ("analyst", "auditor"))
    case_id = exchange.cases.open_case(viewers["FRA"], SUMMARY)
    exchange.cases.add_part(viewers["FRA"], case_id, 1, "item", ITEM)
    exchange.cases.revise_summary(viewers["FRA"], case_id, 2, REVISED)
    exchange.cases.share(viewers["FRA"], case_id, 3, "bilateral", ["DEU"])
    exchange.follow()
    moments = {row.version: row.timestamp
               for row in exchange.audit_index.view.events_of(str(case_id))}
    return viewers, case_id, moments


def test_owner_sees_the_case_as_it_was_before_the_revision(exchange: Exchange, story) -> None:
    viewers, case_id, moments = story
    version = exchange.audit_index.view.version_at(str(case_id), moments[2])
    assert version == 2
    then = exchange.cases.view(viewers["FRA.auditor"], case_id, version=version)
    assert then.title == SUMMARY["title"] and len(then.items) == 1
    assert then.version == 2 and then.recipients == ["FRA"]
    now = exchange.cases.view(viewers["FRA.auditor"], case_id)
    assert now.title == REVISED["title"] and now.recipients == ["DEU", "FRA"]


def test_before_it_existed_there_is_no_version(exchange: Exchange, story) -> None:
    _, case_id, moments = story
    assert exchange.audit_index.view.version_at(str(case_id),
                                                moments[1] - timedelta(seconds=1)) is None


def test_a_state_shared_with_later_sees_only_headers_of_the_time_before(
        exchange: Exchange, story) -> None:
    viewers, case_id, _ = story
    with pytest.raises(NotFound):
        exchange.cases.view(viewers["DEU.auditor"], case_id, version=3)
    headers = exchange.cases.history(viewers["DEU.auditor"], case_id, version=3)
    assert [e.version for e in headers] == [1, 2, 3]
    assert all(e.content is None for e in headers)
    assert exchange.cases.view(viewers["DEU.auditor"], case_id, version=4).title == \
        REVISED["title"]


def test_an_outsider_who_is_not_an_auditor_sees_nothing(exchange: Exchange, story) -> None:
    viewers, case_id, _ = story
    with pytest.raises(NotFound):
        exchange.cases.history(viewers["MLI"], case_id, version=2)


def test_long_cases_are_snapshotted_and_time_travel_agrees_with_replay(
        exchange: Exchange) -> None:
    viewers = register_states(exchange.directory, ("FRA",))
    case_id = exchange.cases.open_case(viewers["FRA"], SUMMARY)
    for version in range(1, 130):
        exchange.cases.add_part(viewers["FRA"], case_id, version, "note", {"text": f"n{version}"})
    assert [s.originator_version for s in exchange.ledger.snapshots.get(case_id)] == [100]
    at = exchange.cases.view(viewers["FRA"], case_id, version=120)
    assert at.version == 120 and len(at.notes) == 119
    assert at.notes[-1]["text"] == "n119"


def test_replay_command_prints_the_case_then(exchange: Exchange, story, tmp_path: Path) -> None:
    viewers, case_id, moments = story
    password = tmp_path / "pw"
    password.write_text(PASSWORD)
    env = cli_env(exchange)
    runner = CliRunner()
    codes = {user: iter(enrolled(exchange.directory, viewers[key]))
             for user, key in (("fra.auditor", "FRA.auditor"), ("deu.auditor", "DEU.auditor"))}

    def replay(user: str, at: str) -> Any:
        return runner.invoke(main, ["audit", "replay", "--case", str(case_id), "--at", at,
                                    "--user", user, "--password-file", str(password),
                                    "--code", next(codes[user])], env=env)

    owner = replay("fra.auditor", moments[2].isoformat())
    assert owner.exit_code == 0, owner.output
    assert f"Title: {SUMMARY['title']}" in owner.output and "version 2" in owner.output
    other = replay("deu.auditor", moments[2].isoformat())
    assert other.exit_code == 0, other.output
    assert "clear header history only" in other.output
    assert SUMMARY["title"] not in other.output
    bad = replay("fra.auditor", "yesterday")
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
