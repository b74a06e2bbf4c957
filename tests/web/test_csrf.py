"""A state-changing form sent without this session's CSRF token is refused and stores nothing,
whatever the attacker puts in its place."""

from __future__ import annotations

from uuid import UUID

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.web.conftest import SUMMARY, Browser, events


@pytest.fixture
def case_id(exchange: Exchange, people: dict[str, Viewer]) -> UUID:
    return exchange.cases.open_case(people["FRA"], SUMMARY)


def state_changing_forms(case_id: UUID) -> list[tuple[str, dict[str, str]]]:
    """Forms that, with a valid token, store an event (checked below)."""
    return [
        ("/cases/new", {"title": "Pistols seized at the port",
                        "point_of_diversion": "in_transit"}),
        (f"/cases/{case_id}/share", {"tier": "bilateral", "states": "DEU",
                                     "expected_version": "1"}),
        (f"/cases/{case_id}/item/new", {"category": "small_arms", "quantity": "3",
                                        "expected_version": "1"}),
    ]


@pytest.fixture
def other_sessions_token(app: Flask, people: dict) -> str:
    """A token that is valid, but for the attacker's own session."""
    attacker = Browser(app.test_client())
    attacker.login("mli.analyst")
    return attacker.token()


@pytest.mark.parametrize("form", range(3))
def test_a_form_without_or_with_a_forged_token_is_refused_and_stores_nothing(
        analyst: Browser, exchange: Exchange, case_id: UUID, other_sessions_token: str,
        form: int) -> None:
    path, body = state_changing_forms(case_id)[form]
    before = events(exchange)
    for token in (None, "forged", "", other_sessions_token):
        sent = body if token is None else dict(body, csrf_token=token)
        response = analyst.post(path, sent, csrf=False)
        assert response.status_code == 400, token
        assert "security token" in response.text
        assert events(exchange) == before
    assert analyst.post(path, body).status_code == 302  # the same form with its token works
    assert events(exchange) > before


def test_a_token_in_a_header_from_another_session_is_refused_too(
        analyst: Browser, exchange: Exchange, case_id: UUID, other_sessions_token: str) -> None:
    path, body = state_changing_forms(case_id)[1]
    before = events(exchange)
    response = analyst.client.post(path, data=body,
                                   headers={"X-CSRFToken": other_sessions_token})
    assert response.status_code == 400 and events(exchange) == before
