"""Retention and crypto-shredding: two state admins, after the retention period; then the
content is gone for everyone while the signed log still verifies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cases.audit import verify_log
from cases.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.keystore import case_keys
from infra.cli import main
from infra.wiring import Exchange
from projections.case_index import CaseFilter
from tests.conftest import PASSWORD, cli_env, register_states
from tests.test_cases import ITEM, SUMMARY


@pytest.fixture
def closed_case(exchange: Exchange):
    """A FRA case shared with DEU, with a trace request to DEU, closed; FRA has two admins."""
    people = register_states(exchange.directory, ("FRA", "DEU"), ("analyst", "auditor"))
    exchange.directory.add_user(people["FRA.admin"], "fra.admin2", PASSWORD, ["state_admin"])
    people["FRA.admin2"] = exchange.directory.authenticate("fra.admin2", PASSWORD)
    cases, fra = exchange.cases, people["FRA"]
    case_id = cases.open_case(fra, SUMMARY)
    item = cases.add_part(fra, case_id, 1, "item", ITEM)
    cases.share(fra, case_id, 2, "bilateral", ["DEU"])
    trace_id = exchange.traces.send(fra, case_id, "DEU", [item], "Where was it sold?",
                                    share_with_case_readers=True)
    cases.change_status(fra, case_id, 3, "under_investigation")
    cases.change_status(fra, case_id, 4, "confirmed")
    cases.change_status(fra, case_id, 5, "closed")
    closed_on = exchange.ledger.repository.get(case_id).closed_on
    return people, case_id, trace_id, closed_on


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def key_rows(exchange: Exchange, aggregate_id: object) -> int:
    with exchange.ledger.transaction() as session:
        return session.execute(select(func.count()).select_from(case_keys).where(
            case_keys.c.case_id == str(aggregate_id))).scalar()


def test_a_case_kept_indefinitely_cannot_be_shredded(exchange: Exchange, closed_case) -> None:
    people, case_id, _, _ = closed_case
    before = events(exchange)
    with pytest.raises(Conflict, match="indefinitely"):
        exchange.cases.request_shred(people["FRA.admin"], case_id)
    assert events(exchange) == before


def test_shredding_waits_for_the_retention_period(exchange: Exchange, closed_case) -> None:
    people, case_id, _, closed_on = closed_case
    admin = people["FRA.admin"]
    exchange.cases.set_retention(admin, case_id, 5)
    before = events(exchange)
    with pytest.raises(Conflict, match="runs until"):
        exchange.cases.request_shred(admin, case_id, now=closed_on + timedelta(days=365))
    assert events(exchange) == before
    exchange.cases.request_shred(admin, case_id, now=closed_on + timedelta(days=6 * 365))
    assert events(exchange) == before + 1


def test_retention_out_of_range_is_refused(exchange: Exchange, closed_case) -> None:
    people, case_id, _, _ = closed_case
    with pytest.raises(InvalidInput) as refused:
        exchange.cases.set_retention(people["FRA.admin"], case_id, 500)
    assert refused.value.field == "keep_years"


def test_an_open_case_cannot_be_shredded(exchange: Exchange) -> None:
    people = register_states(exchange.directory, ("FRA",))
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.set_retention(people["FRA.admin"], case_id, 0)
    with pytest.raises(Conflict, match="closed"):
        exchange.cases.request_shred(people["FRA.admin"], case_id)


def test_only_admins_of_the_owner_state_and_two_different_people(exchange: Exchange,
                                                                  closed_case) -> None:
    people, case_id, _, _ = closed_case
    cases = exchange.cases
    cases.set_retention(people["FRA.admin"], case_id, 0)
    before = events(exchange)
    with pytest.raises(Forbidden):
        cases.request_shred(people["FRA"], case_id)  # an analyst of the owner
    with pytest.raises(Forbidden):
        cases.request_shred(people["DEU.admin"], case_id)  # an admin of a reader state
    with pytest.raises(Conflict, match="No one has asked"):
        cases.confirm_shred(people["FRA.admin2"], case_id)
    assert events(exchange) == before
    cases.request_shred(people["FRA.admin"], case_id)
    with pytest.raises(Conflict, match="second person"):
        cases.confirm_shred(people["FRA.admin"], case_id)
    with pytest.raises(Forbidden):
        cases.confirm_shred(people["DEU.admin"], case_id)
    assert events(exchange) == before + 1
    assert key_rows(exchange, case_id) > 0


def test_after_shredding_no_one_reads_anything_and_the_log_verifies(exchange: Exchange,
                                                                    closed_case) -> None:
    people, case_id, trace_id, _ = closed_case
    cases = exchange.cases
    cases.set_retention(people["FRA.admin"], case_id, 0)
    cases.request_shred(people["FRA.admin"], case_id)
    case_rows, trace_rows = cases.confirm_shred(people["FRA.admin2"], case_id)
    assert case_rows >= 2 and trace_rows >= 2  # FRA and DEU each held a key of both
    assert key_rows(exchange, case_id) == 0 and key_rows(exchange, trace_id) == 0
    exchange.follow()
    assert verify_log(exchange.ledger, exchange.checkpoints.all()).ok
    for who in ("FRA", "FRA.auditor", "DEU", "DEU.auditor"):
        view = cases.view(people[who], case_id)
        assert view.shredded_on is not None
        assert view.title == "" and not view.items and not view.status_changes
        history = cases.history(people[who], case_id)
        assert len(history) == 9 and all(entry.content is None for entry in history)
        trace = exchange.traces.view(people[who], trace_id)
        assert trace.questions == "" and trace.unreadable_events >= 1
    row = exchange.case_index.view.list_for("FRA", CaseFilter())[0][0]
    assert row.title_token == ""
    assert cases.title(people["FRA"], str(case_id), row.title_key_version, row.title_token) \
        is None
    with pytest.raises(Conflict, match="crypto-shredded"):
        cases.change_status(people["FRA"], case_id, 9, "under_investigation")


def test_shredding_from_the_command_line(exchange: Exchange, closed_case,
                                         tmp_path: Path) -> None:
    _, case_id, _, _ = closed_case
    password = tmp_path / "pw"
    password.write_text(PASSWORD)
    env = cli_env(exchange)
    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(main, ["cases", *args, "--password-file", str(password)], env=env)

    refused = run("shred", str(case_id), "--user", "fra.admin")
    assert refused.exit_code == 1 and "indefinitely" in refused.output
    assert "Traceback" not in refused.output
    kept = run("retention", str(case_id), "--years", "5", "--user", "fra.admin")
    assert kept.exit_code == 0 and "at least 20 years" in kept.output
    assert run("retention", str(case_id), "--years", "0", "--user", "fra.admin").exit_code == 0
    asked = run("shred", str(case_id), "--user", "fra.admin")
    assert asked.exit_code == 0 and "--confirm" in asked.output
    same = run("shred", str(case_id), "--confirm", "--user", "fra.admin")
    assert same.exit_code == 1 and "second person" in same.output
    done = run("shred", str(case_id), "--confirm", "--user", "fra.admin2")
    assert done.exit_code == 0, done.output
    assert "crypto-shredded" in done.output
    assert key_rows(exchange, case_id) == 0
    missing = run("shred", "not-a-case", "--user", "fra.admin")
    assert missing.exit_code == 1 and "No such case" in missing.output


def test_a_state_that_cannot_read_the_case_is_told_it_does_not_exist(
        exchange: Exchange, closed_case) -> None:
    people, case_id, _, _ = closed_case
    with pytest.raises(NotFound):
        exchange.cases.set_retention(people["secretariat"], case_id, 1)
