"""Bulk import (issue 23 item 10): the whole file checked first, every problem with its row and
column, then one batch of signed events, all or nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

import pytest

from cases.audit.log import verify_log
from cases.casework.bulk_import import COLUMNS, read_csv, read_table, template
from cases.casework.content import serials
from cases.kernel.errors import Forbidden, NotFound
from cases.search.terms import read_query
from infra.wiring import Exchange
from projections.case_index import CaseFilter
from tests.conftest import register_states


@pytest.fixture
def people(exchange: Exchange) -> dict[str, Any]:
    return register_states(exchange.directory, ("FRA", "DEU"), ("analyst", "reviewer"))


def table(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


RIFLES = {"case": "R-1", "title": "Rifles at Kidira", "found_on": "2025-03-14",
          "concerned_exporter": "DEU", "category": "small_arms", "quantity": "3",
          "make": "Norvik", "serial": "KR-1;KR-2\nKR-3", "flags": "modular; craft"}
CARTRIDGES = {"case": "R-1", "category": "ammunition", "quantity": "1200", "lot": "LOT-8"}
ALONE = {"title": "A pistol in a parcel", "category": "small_arms", "quantity": "1"}


def test_rows_sharing_a_reference_are_one_case_and_the_import_is_one_batch(
        exchange: Exchange, people: dict[str, Any]) -> None:
    plan = read_csv(table(RIFLES, CARTRIDGES, ALONE, {"title": "Nothing found yet"}))
    assert plan.problems == [] and len(plan.cases) == 3 and plan.items == 3
    rifles = plan.cases[0]
    assert rifles.rows == [2, 3] and rifles.summary["concerned"] == {"exporter": "DEU"}
    assert serials(rifles.items[0]) == ["KR-1", "KR-2", "KR-3"]
    assert rifles.items[0]["flags"] == ["craft", "modular"]
    assert rifles.summary["point_of_diversion"] == "unknown"  # unknown stays unknown
    before = events(exchange)
    ids = exchange.cases.import_cases(people["FRA"], plan.cases)
    assert events(exchange) == before + 3 + 3  # three cases opened, three item lines
    views = [exchange.cases.view(people["FRA"], case_id) for case_id in ids]
    assert [(v.title, len(v.items), v.tier) for v in views] == [
        ("Rifles at Kidira", 2, "national"), ("A pistol in a parcel", 1, "national"),
        ("Nothing found yet", 0, "national")]
    exchange.follow()
    assert verify_log(exchange.ledger).finding is None  # signed and chained as any event
    found, total = exchange.case_search(people["FRA"], read_query("kr-2"), CaseFilter())
    assert total == 1 and found[0].case_id == str(ids[0])  # indexed at once for FRA


def test_every_problem_is_reported_with_its_row_and_column(exchange: Exchange) -> None:
    plan = read_csv(table(
        dict(RIFLES, quantity="2"),  # three serials for two rifles
        dict(CARTRIDGES, title="Another title"),  # a later row changes the case's text
        dict(ALONE, title="", category="tanks", found_on="2999-01-01",
             concerned_exporter="XX"),
        {"title": "Bad leg of nothing", "quantity": "many"}))
    found = {(p.row, p.column) for p in plan.problems}
    assert found == {(2, "serial"), (3, "title"), (4, "title"), (4, "category"),
                     (4, "found_on"), (4, "concerned_exporter"), (5, "category"),
                     (5, "quantity")}
    assert "3 serial numbers for 2 items" in next(
        p.error.message for p in plan.problems if p.column == "serial")


@pytest.mark.parametrize(("text", "row", "words"), [
    ("", 1, "no header"),
    ("title,colour\nX,red\n", 1, "colour"),
    ("case,make\nR-1,Norvik\n", 1, "title"),
    ("title\n", 2, "no rows"),
    ('title\n"unclosed\n', 2, "not a readable CSV"),
])
def test_a_file_that_is_not_the_template_is_refused_whole(text: str, row: int,
                                                          words: str) -> None:
    plan = read_csv(text)
    assert plan.cases == [] and len(plan.problems) == 1
    assert plan.problems[0].row == row and words in plan.problems[0].error.message


def test_the_template_checks_clean_and_spreadsheet_cells_are_read_as_typed() -> None:
    plan = read_csv(template())
    assert plan.problems == [] and len(plan.cases) == 1 and plan.items == 2
    assert read_table([["TITLE", " Quantity "], ["Seized rifles", ""]]).problems == []


def test_only_analysts_import_and_nothing_is_stored_when_refused(
        exchange: Exchange, people: dict[str, Any]) -> None:
    plan = read_csv(table(RIFLES, ALONE))
    before = events(exchange)
    with pytest.raises(Forbidden):
        exchange.cases.import_cases(people["FRA.reviewer"], plan.cases)
    assert events(exchange) == before


def test_another_state_reads_nothing_imported(exchange: Exchange,
                                              people: dict[str, Any]) -> None:
    ids = exchange.cases.import_cases(people["FRA"], read_csv(table(RIFLES)).cases)
    with pytest.raises(NotFound):
        exchange.cases.view(people["DEU"], UUID(str(ids[0])))
