"""Sharing through the web: confirmation pages name exactly who will read; unsharing warns."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.web.conftest import SUMMARY, Browser, events


@pytest.fixture
def case_id(exchange: Exchange, people: dict[str, Viewer]) -> UUID:
    return exchange.cases.open_case(people["FRA"], SUMMARY)


def listed_states(html: str) -> list[str]:
    """The state codes in the confirmation page's lists, in order."""
    return re.findall(r"<li><strong>([A-Z]{3})</strong>", html)


def test_bilateral_share_confirms_the_readers_then_shares(
        app: Flask, analyst: Browser, exchange: Exchange, case_id: UUID) -> None:
    form = analyst.get(f"/cases/{case_id}/share")
    assert form.status_code == 200 and 'value="DEU"' in form.text
    before = events(exchange)
    confirm = analyst.get(f"/cases/{case_id}/share/confirm",
                          query_string={"tier": "bilateral", "states": ["DEU"],
                                        "expected_version": "1"})
    assert confirm.status_code == 200
    assert listed_states(confirm.text) == ["DEU", "FRA", "DEU"]  # readers, then newly added
    assert events(exchange) == before  # a confirmation page stores nothing
    done = analyst.post(f"/cases/{case_id}/share", {"tier": "bilateral", "states": "DEU",
                                                    "expected_version": "1"})
    assert done.status_code == 302
    page = analyst.get(done.location).text
    assert "Bilateral — named states" in page and "DEU, FRA" in page
    deu = Browser(app.test_client())
    deu.login("deu.analyst")
    assert SUMMARY["title"] in deu.get(f"/cases/{case_id}").text
    assert SUMMARY["title"] in deu.get("/cases/").text
    assert "Add an item" not in deu.get(f"/cases/{case_id}").text


def test_portal_share_lists_every_state_party(analyst: Browser, case_id: UUID) -> None:
    confirm = analyst.get(f"/cases/{case_id}/share/confirm",
                          query_string={"tier": "portal", "expected_version": "1"})
    assert confirm.status_code == 200
    readers = listed_states(confirm.text)
    assert readers[:3] == ["DEU", "FRA", "MLI"] and "XAT" not in readers


def test_unshare_warns_that_what_was_read_cannot_be_unread(
        app: Flask, analyst: Browser, exchange: Exchange, people: dict, case_id: UUID) -> None:
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU", "MLI"])
    form = analyst.get(f"/cases/{case_id}/unshare")
    assert 'value="DEU"' in form.text and 'value="FRA"' not in form.text
    confirm = analyst.get(f"/cases/{case_id}/unshare/confirm",
                          query_string={"states": ["DEU"], "expected_version": "2"})
    assert confirm.status_code == 200
    assert listed_states(confirm.text) == ["DEU", "FRA", "MLI"]  # removed, then remaining
    assert "cannot be unread" in confirm.text
    done = analyst.post(f"/cases/{case_id}/unshare", {"states": "DEU", "expected_version": "2"})
    assert done.status_code == 302
    deu = Browser(app.test_client())
    deu.login("deu.analyst")
    assert deu.get(f"/cases/{case_id}").status_code == 404


def test_unshare_confirmation_needs_a_state(analyst: Browser, exchange: Exchange,
                                            people: dict, case_id: UUID) -> None:
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    response = analyst.get(f"/cases/{case_id}/unshare/confirm",
                           query_string={"expected_version": "2"})
    assert response.status_code == 422
    assert 'id="e-states"' in response.text


def test_share_confirmation_refuses_an_empty_choice(analyst: Browser, case_id: UUID) -> None:
    response = analyst.get(f"/cases/{case_id}/share/confirm",
                           query_string={"tier": "bilateral", "expected_version": "1"})
    assert response.status_code == 422
    assert "Name at least one state to share with." in response.text


def test_sharing_pages_in_french(analyst: Browser, case_id: UUID) -> None:
    analyst.post("/language", {"lang": "fr"})
    confirm = analyst.get(f"/cases/{case_id}/share/confirm",
                          query_string={"tier": "bilateral", "states": ["DEU"],
                                        "expected_version": "1"})
    assert "Confirmer le partage" in confirm.text and "Partager maintenant" in confirm.text
