"""Retention and crypto-shredding through the web: state admins of the owner only, each step
confirmed, two different people; afterwards no page shows the content."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import ITEM, SUMMARY, Browser, error_next_to, events

OUTCOME = "Participants agreed the rifles left the depot before transfer."
QUESTIONS = "Where were these rifles sold?"


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


@pytest.fixture
def closed(exchange: Exchange, people: dict[str, Viewer]) -> dict[str, Any]:
    """A FRA case shared with DEU, tabled at a meeting with MLI (with an outcome), a trace
    request to DEU, closed; FRA has a second state admin."""
    exchange.directory.add_user(people["FRA.admin"], "fra.admin2", PASSWORD, ["state_admin"])
    cases, fra = exchange.cases, people["FRA"]
    case_id = cases.open_case(fra, SUMMARY)
    item = cases.add_part(fra, case_id, 1, "item", ITEM)
    cases.share(fra, case_id, 2, "bilateral", ["DEU"])
    meeting = exchange.meetings.convene(people["secretariat"], "Session 3", "2026-06-12", "",
                                        ["FRA", "MLI"])
    exchange.meetings.table_case(fra, meeting, case_id)
    exchange.meetings.record_outcome(fra, meeting, case_id, OUTCOME)
    trace = exchange.traces.send(fra, case_id, "DEU", [item], QUESTIONS,
                                 share_with_case_readers=True)
    for version, status in ((4, "under_investigation"), (5, "confirmed"), (6, "closed")):
        cases.change_status(fra, case_id, version, status)
    return {"case": case_id, "meeting": meeting, "trace": trace}


def test_an_admin_sets_the_rule_after_a_confirmation_with_the_iti_warning(
        app: Flask, exchange: Exchange, closed: dict[str, Any]) -> None:
    admin, case_id = signed_in(app, "fra.admin"), closed["case"]
    page = admin.get(f"/cases/{case_id}")
    assert "Kept indefinitely." in page.text and f"/cases/{case_id}/retention" in page.text
    before = events(exchange)
    confirm = admin.get(f"/cases/{case_id}/retention/confirm",
                        query_string={"rule": "years", "keep_years": "5"})
    assert confirm.status_code == 200 and 'id="iti-warning"' in confirm.text
    assert "at least 20 years" in confirm.text and events(exchange) == before
    long = admin.get(f"/cases/{case_id}/retention/confirm",
                     query_string={"rule": "years", "keep_years": "25"})
    assert 'id="iti-warning"' not in long.text
    done = admin.post(f"/cases/{case_id}/retention", {"rule": "years", "keep_years": "5"})
    assert done.status_code == 302 and events(exchange) == before + 1
    assert "Kept 5 years after it is closed." in admin.get(done.location).text


@pytest.mark.parametrize("typed", ["abc", "-3", "500", ""])
def test_a_bad_number_of_years_is_shown_next_to_the_field_and_stores_nothing(
        app: Flask, exchange: Exchange, closed: dict[str, Any], typed: str) -> None:
    admin, case_id = signed_in(app, "fra.admin"), closed["case"]
    before = events(exchange)
    confirm = admin.get(f"/cases/{case_id}/retention/confirm",
                        query_string={"rule": "years", "keep_years": typed})
    assert confirm.status_code == 422 and error_next_to(confirm, "keep_years")
    posted = admin.post(f"/cases/{case_id}/retention", {"rule": "years", "keep_years": typed})
    assert posted.status_code == 422 and error_next_to(posted, "keep_years")
    assert events(exchange) == before


@pytest.mark.parametrize("who", ["fra.analyst", "deu.admin", "mli.admin"])
def test_others_get_no_forms_and_their_posts_store_nothing(
        app: Flask, exchange: Exchange, closed: dict[str, Any], who: str) -> None:
    exchange.cases.set_retention(exchange.directory.authenticate("fra.admin", PASSWORD),
                                 closed["case"], 0)
    intruder, case_id = signed_in(app, who), closed["case"]
    page = intruder.get(f"/cases/{case_id}")
    assert page.status_code == 200 and f"/cases/{case_id}/shred" not in page.text
    assert intruder.get(f"/cases/{case_id}/retention").status_code == 403
    assert intruder.get(f"/cases/{case_id}/shred").status_code == 403
    before = events(exchange)
    assert intruder.post(f"/cases/{case_id}/retention",
                         {"rule": "indefinite"}).status_code == 403
    assert intruder.post(f"/cases/{case_id}/shred", {"step": "request"}).status_code == 403
    assert events(exchange) == before


def test_two_admins_shred_and_then_no_page_shows_the_content(
        app: Flask, exchange: Exchange, closed: dict[str, Any]) -> None:
    case_id, first = closed["case"], signed_in(app, "fra.admin")
    first.post(f"/cases/{case_id}/retention", {"rule": "years", "keep_years": "0"})
    assert "Request crypto-shredding" in first.get(f"/cases/{case_id}").text
    confirm = first.get(f"/cases/{case_id}/shred")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert first.post(f"/cases/{case_id}/shred", {"step": "request"}).status_code == 302
    before = events(exchange)
    same = first.post(f"/cases/{case_id}/shred", {"step": "confirm"})
    assert same.status_code == 409 and "A second person must confirm" in same.text
    assert events(exchange) == before
    second = signed_in(app, "fra.admin2")
    assert "asked for crypto-shredding" in second.get(f"/cases/{case_id}").text
    done = second.post(f"/cases/{case_id}/shred", {"step": "confirm"})
    assert done.status_code == 302
    assert "3 wrapped case keys" in second.get(done.location).text
    for who in ("fra.analyst", "fra.admin", "deu.analyst", "mli.analyst", "mli.reviewer"):
        assert_nothing_readable(signed_in(app, who), closed, who)


def assert_nothing_readable(browser: Browser, closed: dict[str, Any], who: str) -> None:
    case_id = closed["case"]
    page = browser.get(f"/cases/{case_id}")
    assert page.status_code == 200 and 'id="shredded"' in page.text
    listing = browser.get("/cases/").text
    assert "Crypto-shredded on" in listing
    trace = browser.get(f"/traces/{closed['trace']}")
    assert trace.status_code == 200 and 'id="shredded"' in trace.text
    for text in (page.text, listing, trace.text):
        assert SUMMARY["title"] not in text and ITEM["serial"] not in text
        assert QUESTIONS not in text and SUMMARY["narrative"] not in text
    if who.startswith(("fra", "mli")):  # the meeting's participants
        meeting = browser.get(f"/meetings/{closed['meeting']}").text
        assert "crypto-shredded" in meeting and OUTCOME not in meeting
        assert SUMMARY["title"] not in meeting


def test_a_request_is_withdrawn_through_the_web(app: Flask, exchange: Exchange,
                                                closed: dict[str, Any]) -> None:
    case_id, first = closed["case"], signed_in(app, "fra.admin")
    first.post(f"/cases/{case_id}/retention", {"rule": "years", "keep_years": "0"})
    first.post(f"/cases/{case_id}/shred", {"step": "request"})
    assert first.post(f"/cases/{case_id}/shred", {"step": "withdraw"}).status_code == 302
    assert not exchange.ledger.repository.get(UUID(str(case_id))).shred_requested_by


def test_the_retention_panel_speaks_french(app: Flask, closed: dict[str, Any]) -> None:
    admin = signed_in(app, "fra.admin")
    page = admin.get(f"/cases/{closed['case']}", headers={"Accept-Language": "fr"}).text
    assert "Conservé indéfiniment." in page
