"""Retention and crypto-shredding: two state admins, after the retention period; then the
content is gone for everyone while the signed log still verifies."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from cases.audit.log import verify_log
from cases.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from cases.kernel.keystore import case_keys, trace_request_cases
from infra.cli import main
from infra.settings import Settings
from infra.wiring import Exchange, open_exchange, prepare_store
from projections.case_index import CaseFilter
from tests.conftest import PASSWORD, cli_env, enrolled, register_states
from tests.test_cases import ITEM, SUMMARY
from tests.test_no_secrets_at_rest import raw_database_bytes
from tests.test_tracing import Clock

OUTCOME = "Participants agreed the rifles left the depot before transfer."


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Any]:
    """FRA (two state admins), DEU and MLI as readers to be, SEN reading nothing."""
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI", "SEN"),
                             ("analyst", "auditor"))
    exchange.directory.add_user(people["FRA.admin"], "fra.admin2", PASSWORD, ["state_admin"])
    people["FRA.admin2"] = exchange.directory.authenticate("fra.admin2", PASSWORD)
    return people


@pytest.fixture
def closed_case(exchange: Exchange, people: dict[str, Any]) -> dict[str, Any]:
    """A FRA case shared with DEU, tabled at a meeting with MLI (an outcome recorded), with a
    trace request to DEU, then closed."""
    cases, fra = exchange.cases, people["FRA"]
    case_id = cases.open_case(fra, SUMMARY)
    item = cases.add_part(fra, case_id, 1, "item", ITEM)
    cases.share(fra, case_id, 2, "bilateral", ["DEU"])
    meeting = exchange.meetings.convene(people["secretariat"], "Session 3", "2026-06-12", "",
                                        ["FRA", "MLI"])
    exchange.meetings.table_case(fra, meeting, case_id)
    exchange.meetings.record_outcome(fra, meeting, case_id, OUTCOME)
    trace_id = exchange.traces.send(fra, case_id, "DEU", [item], "Where was it sold?",
                                    share_with_case_readers=True)
    for version, status in ((4, "under_investigation"), (5, "confirmed"), (6, "closed")):
        cases.change_status(fra, case_id, version, status)
    return {"case": case_id, "trace": trace_id, "meeting": meeting,
            "closed_on": exchange.ledger.repository.get(case_id).closed_on}


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


def key_rows(exchange: Exchange, aggregate_id: object) -> int:
    with exchange.ledger.transaction() as session:
        return session.execute(select(func.count()).select_from(case_keys).where(
            case_keys.c.case_id == str(aggregate_id))).scalar()


def wrapped_blobs(exchange: Exchange, *aggregate_ids: object) -> list[bytes]:
    with exchange.ledger.transaction() as session:
        return list(session.execute(select(case_keys.c.wrapped).where(
            case_keys.c.case_id.in_([str(i) for i in aggregate_ids]))).scalars())


def shred(exchange: Exchange, people: dict[str, Any], case_id: object) -> tuple[int, int]:
    exchange.cases.set_retention(people["FRA.admin"], case_id, 0)
    exchange.cases.request_shred(people["FRA.admin"], case_id)
    return exchange.cases.confirm_shred(people["FRA.admin2"], case_id)


def test_a_case_kept_indefinitely_cannot_be_shredded(exchange: Exchange, people,
                                                     closed_case) -> None:
    before = events(exchange)
    with pytest.raises(Conflict, match="indefinitely"):
        exchange.cases.request_shred(people["FRA.admin"], closed_case["case"])
    assert events(exchange) == before


def test_shredding_waits_for_the_retention_period_by_the_clock(exchange: Exchange, people,
                                                               closed_case) -> None:
    admin, case_id = people["FRA.admin"], closed_case["case"]
    exchange.cases.clock = clock = Clock(closed_case["closed_on"] + timedelta(days=365))
    exchange.cases.set_retention(admin, case_id, 5)
    before = events(exchange)
    with pytest.raises(Conflict, match="runs until"):
        exchange.cases.request_shred(admin, case_id)
    assert events(exchange) == before
    clock.advance(4 * 365 + 2)
    exchange.cases.request_shred(admin, case_id)
    assert events(exchange) == before + 1


def test_reopening_voids_a_pending_request(exchange: Exchange, people, closed_case) -> None:
    fra, admin, case_id = people["FRA"], people["FRA.admin"], closed_case["case"]
    exchange.cases.set_retention(admin, case_id, 0)
    exchange.cases.request_shred(admin, case_id)
    exchange.cases.change_status(fra, case_id, 9, "under_investigation")  # reopened
    with pytest.raises(Conflict, match="No one has asked"):
        exchange.cases.confirm_shred(people["FRA.admin2"], case_id)
    with pytest.raises(Conflict, match="closed"):
        exchange.cases.request_shred(admin, case_id)


@pytest.mark.parametrize("years", [-1, 101, 500, True, "5"])
def test_retention_out_of_range_is_refused(exchange: Exchange, people, closed_case,
                                           years: object) -> None:
    before = events(exchange)
    with pytest.raises(InvalidInput) as refused:
        exchange.cases.set_retention(people["FRA.admin"], closed_case["case"], years)
    assert refused.value.field == "keep_years" and events(exchange) == before


def test_an_open_case_cannot_be_shredded(exchange: Exchange, people) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.set_retention(people["FRA.admin"], case_id, 0)
    with pytest.raises(Conflict, match="closed"):
        exchange.cases.request_shred(people["FRA.admin"], case_id)


def test_only_admins_of_the_owner_state_and_two_different_people(exchange: Exchange, people,
                                                                  closed_case) -> None:
    cases, case_id = exchange.cases, closed_case["case"]
    before = events(exchange)
    for outsider in ("FRA", "FRA.auditor", "DEU.admin", "MLI.admin", "SEN.admin",
                     "secretariat"):
        with pytest.raises((Forbidden, NotFound)):
            cases.set_retention(people[outsider], case_id, 0)
    cases.set_retention(people["FRA.admin"], case_id, 0)
    before = events(exchange)
    for outsider in ("FRA", "DEU.admin", "SEN.admin"):
        with pytest.raises((Forbidden, NotFound)):
            cases.request_shred(people[outsider], case_id)
    with pytest.raises(Conflict, match="No one has asked"):
        cases.confirm_shred(people["FRA.admin2"], case_id)
    assert events(exchange) == before
    cases.request_shred(people["FRA.admin"], case_id)
    with pytest.raises(Conflict, match="second person"):
        cases.confirm_shred(people["FRA.admin"], case_id)
    for outsider in ("FRA", "DEU.admin", "MLI.admin", "SEN.admin"):
        with pytest.raises((Forbidden, NotFound)):
            cases.confirm_shred(people[outsider], case_id)
    assert events(exchange) == before + 1
    assert key_rows(exchange, case_id) > 0 and key_rows(exchange, closed_case["trace"]) > 0


def test_a_pending_request_can_be_withdrawn_and_lapses_with_a_new_rule(
        exchange: Exchange, people, closed_case) -> None:
    cases, case_id = exchange.cases, closed_case["case"]
    cases.set_retention(people["FRA.admin"], case_id, 0)
    cases.request_shred(people["FRA.admin"], case_id)
    cases.withdraw_shred(people["FRA.admin2"], case_id)
    with pytest.raises(Conflict, match="No one has asked"):
        cases.confirm_shred(people["FRA.admin2"], case_id)
    cases.request_shred(people["FRA.admin"], case_id)
    cases.set_retention(people["FRA.admin2"], case_id, None)  # kept indefinitely after all
    with pytest.raises(Conflict, match="No one has asked"):
        cases.confirm_shred(people["FRA.admin2"], case_id)
    assert key_rows(exchange, case_id) > 0


def test_after_shredding_no_one_reads_anything_and_the_log_verifies(
        exchange: Exchange, people, closed_case) -> None:
    cases, case_id, trace_id = exchange.cases, closed_case["case"], closed_case["trace"]
    case_rows, trace_rows = shred(exchange, people, case_id)
    assert case_rows >= 3 and trace_rows >= 3  # FRA, DEU and MLI each held a key of both
    assert key_rows(exchange, case_id) == 0 and key_rows(exchange, trace_id) == 0
    exchange.follow()
    assert verify_log(exchange.ledger, exchange.checkpoints.all()).ok
    count = len(list(exchange.ledger.events.get(case_id)))
    for who in ("FRA", "FRA.admin", "FRA.auditor", "DEU", "DEU.auditor", "MLI", "MLI.auditor"):
        view = cases.view(people[who], case_id)
        assert view.shredded_on is not None
        assert view.title == "" and not view.summary and not view.items
        assert not view.status_changes and not view.notes
        history = cases.history(people[who], case_id)
        assert len(history) == count and all(entry.content is None for entry in history)
        trace = exchange.traces.view(people[who], trace_id)
        assert trace.case_shredded and trace.questions == "" and not trace.items
        if who != "DEU":  # DEU's analyst takes no part in the meeting
            meeting = exchange.meetings.view(people[who], closed_case["meeting"])
            assert meeting.outcomes == {} and meeting.shredded == [str(case_id)]
        row = exchange.case_index.view.list_for(people[who].state, CaseFilter())[0][0]
        assert row.title_token == "" and row.shredded_on is not None  # naive on SQLite
        assert row.shredded_on.replace(tzinfo=None) == view.shredded_on.replace(tzinfo=None)
        assert cases.titles(people[who], [replace(row, title_key_version=1)]) == {
            str(case_id): None}
    with pytest.raises(Conflict, match="crypto-shredded"):
        cases.change_status(people["FRA"], case_id, count, "under_investigation")
    with pytest.raises(Conflict, match="crypto-shredded"):
        exchange.meetings.record_outcome(people["FRA"], closed_case["meeting"], case_id, "x")
    with pytest.raises(Conflict, match="crypto-shredded"):
        exchange.traces.close(people["FRA"], trace_id, "thanks")


def test_a_store_from_before_the_trace_links_still_shreds_the_trace_keys(
        exchange: Exchange, people, closed_case) -> None:
    """Trace requests sent before their case links were kept are linked when the store is
    prepared (as every `divex` command and the WSGI entry do before opening it);
    else shredding their case would leave their keys, and their text, readable."""
    with exchange.ledger.transaction() as session:
        session.execute(text(f"DROP TABLE {trace_request_cases.name}"))
    prepare_store(exchange.settings)
    reopened = open_exchange(exchange.settings)
    try:
        assert [t.id for t in reopened.cases.trace_requests_of(closed_case["case"])] == [
            closed_case["trace"]]
        _, trace_rows = shred(reopened, people, closed_case["case"])
        assert trace_rows >= 3 and key_rows(reopened, closed_case["trace"]) == 0
    finally:
        reopened.close()


def test_auditors_keep_the_clear_header_history(exchange: Exchange, people,
                                                closed_case) -> None:
    shred(exchange, people, closed_case["case"])
    history = exchange.cases.history(people["SEN.auditor"], closed_case["case"])
    assert [h.event for h in history][-3:] == ["RetentionSet", "ShredRequested", "Shredded"]
    assert all(h.content is None for h in history)
    # SEN never read the case: its auditors see no user (issue 25 item 7); FRA's auditors do.
    assert {h.user for h in history} == {""}
    owners = exchange.cases.history(people["FRA.auditor"], closed_case["case"])
    assert owners[-1].user == "fra.admin2" and owners[-1].clear["requested_by"]
    assert all(h.content is None for h in owners)
    with pytest.raises(NotFound):  # a non-reader who is no auditor learns nothing
        exchange.cases.history(people["SEN"], closed_case["case"])


def test_no_wrapped_key_of_a_shredded_case_is_left_in_the_database(
        exchange: Exchange, settings: Settings, people, closed_case) -> None:
    blobs = wrapped_blobs(exchange, closed_case["case"], closed_case["trace"])
    exchange.ledger.recorder.datastore.engine.dispose()
    assert len(blobs) >= 6 and all(blob in raw_database_bytes(settings) for blob in blobs)
    shred(exchange, people, closed_case["case"])
    dump = raw_database_bytes(settings)  # the exchange still open: its WAL read as it is
    assert b"fra.admin2" in dump  # the dump is real
    assert [blob for blob in blobs if blob in dump] == []


def test_shredding_from_the_command_line(exchange: Exchange, people, closed_case,
                                         tmp_path: Path) -> None:
    case_id = closed_case["case"]
    password = tmp_path / "pw"
    password.write_text(PASSWORD)
    env = cli_env(exchange)
    runner = CliRunner()
    codes = {name: iter(enrolled(exchange.directory, people[key]))
             for name, key in (("fra.admin", "FRA.admin"), ("fra.admin2", "FRA.admin2"))}

    def run(*args: str) -> Any:
        user = args[args.index("--user") + 1]
        code = ["--code", next(codes[user])] if user in codes else []
        return runner.invoke(main, ["cases", *args, "--password-file", str(password), *code],
                             env=env)

    refused = run("shred", str(case_id), "--user", "fra.admin")
    assert refused.exit_code == 1 and "indefinitely" in refused.output
    assert "Traceback" not in refused.output
    kept = run("retention", str(case_id), "--years", "5", "--user", "fra.admin")
    assert kept.exit_code == 0 and "at least 20 years" in kept.output
    both = run("retention", str(case_id), "--years", "5", "--indefinite", "--user", "fra.admin")
    assert both.exit_code == 1 and "either" in both.output
    assert run("retention", str(case_id), "--years", "0", "--user", "fra.admin").exit_code == 0
    before = events(exchange)
    analyst = run("shred", str(case_id), "--user", "fra.analyst")
    assert analyst.exit_code == 1 and "state admins" in analyst.output
    assert "Traceback" not in analyst.output and events(exchange) == before
    asked = run("shred", str(case_id), "--user", "fra.admin")
    assert asked.exit_code == 0 and "--confirm" in asked.output
    same = run("shred", str(case_id), "--confirm", "--user", "fra.admin")
    assert same.exit_code == 1 and "second person" in same.output
    done = run("shred", str(case_id), "--confirm", "--user", "fra.admin2")
    assert done.exit_code == 0, done.output
    assert "crypto-shredded" in done.output and "3 wrapped case keys" in done.output
    assert key_rows(exchange, case_id) == 0
    again = run("shred", str(case_id), "--user", "fra.admin")
    assert again.exit_code == 1 and "crypto-shredded" in again.output
    missing = run("shred", "not-a-case", "--user", "fra.admin")
    assert missing.exit_code == 1 and "No such case" in missing.output


def test_a_request_is_withdrawn_from_the_command_line(exchange: Exchange, people, closed_case,
                                                      tmp_path: Path) -> None:
    case_id = closed_case["case"]
    exchange.cases.set_retention(people["FRA.admin"], case_id, 0)
    exchange.cases.request_shred(people["FRA.admin"], case_id)
    password = tmp_path / "pw"
    password.write_text(PASSWORD)
    code = enrolled(exchange.directory, people["FRA.admin2"])[0]
    result = CliRunner().invoke(main, ["cases", "shred", str(case_id), "--withdraw", "--user",
                                       "fra.admin2", "--password-file", str(password),
                                       "--code", code], env=cli_env(exchange))
    assert result.exit_code == 0 and "withdrawn" in result.output
    assert not exchange.ledger.repository.get(case_id).shred_requested_by


def test_a_state_that_cannot_read_the_case_is_told_it_does_not_exist(
        exchange: Exchange, people, closed_case) -> None:
    with pytest.raises(NotFound):
        exchange.cases.set_retention(people["secretariat"], closed_case["case"], 1)


def test_retention_dates_fall_on_the_same_day_years_later() -> None:
    from cases.casework.case import years_after
    leap = datetime(2024, 2, 29, 12, 0)
    assert years_after(leap, 1) == datetime(2025, 2, 28, 12, 0)
    assert years_after(leap, 4) == datetime(2028, 2, 29, 12, 0)
