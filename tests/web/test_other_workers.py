"""Two server processes on one store: what one worker changes, the other's next request sees.

Each process keeps the aggregates it loaded (users, states, cases) and reads only their newer
events; these tests play the second gunicorn worker with a second exchange on the same files.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.wiring import Exchange, open_exchange
from tests.conftest import PASSWORD
from tests.web.conftest import SUMMARY, Browser


@pytest.fixture
def other_worker(exchange: Exchange) -> Iterator[Exchange]:
    opened = open_exchange(exchange.settings)
    yield opened
    opened.close()


def test_a_user_deactivated_on_another_worker_is_signed_out_here(
        browser: Browser, people: dict, other_worker: Exchange) -> None:
    browser.login("fra.reviewer")
    assert browser.get("/cases/").status_code == 200
    other_worker.directory.deactivate_user(
        other_worker.directory.authenticate("fra.admin", PASSWORD),
        "fra.reviewer")
    assert browser.get("/cases/").status_code == 302
    assert browser.get("/cases/").status_code == 302


def test_keys_rotated_on_another_worker_end_the_sessions_here(
        browser: Browser, people: dict, other_worker: Exchange) -> None:
    browser.login("fra.analyst")
    assert browser.get("/cases/").status_code == 200
    other_worker.directory.rotate_state_keys(
        other_worker.directory.authenticate("fra.admin", PASSWORD))
    assert browser.get("/cases/").status_code == 302


def test_a_case_changed_on_another_worker_shows_its_change_here(
        browser: Browser, people: dict, exchange: Exchange, other_worker: Exchange) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    browser.login("fra.analyst")
    assert "suspected" in browser.get(f"/cases/{case_id}").text.lower()
    assert str(case_id) not in browser.get("/cases/?status=under_investigation").text
    other_worker.cases.change_status(people["FRA"], case_id, 1, "under_investigation")
    page = browser.get(f"/cases/{case_id}").text
    assert "Under investigation" in page
    listed = browser.get("/cases/?status=under_investigation").text
    assert str(case_id) in listed
