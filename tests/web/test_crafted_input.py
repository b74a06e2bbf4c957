"""Crafted requests that once answered 500: each is now a 4xx with a message a person reads,
and stores nothing; request bodies have a ceiling (MAX_CONTENT_LENGTH)."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD, register_states
from tests.web.api_helpers import PREFIX, Api
from tests.web.conftest import SUMMARY, Browser, events
from web import create_app

DEEP_JSON = '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}"
HUGE_ID = "999999999999999999999"
FAR_MOMENT = "9999-12-31T23:59:59-23:59"


@pytest.fixture
def logged(exchange: Exchange) -> dict[str, Viewer]:
    viewers = register_states(exchange.directory, ("FRA", "DEU"), ("analyst", "auditor"))
    viewers["case"] = exchange.cases.open_case(viewers["FRA"], SUMMARY)  # type: ignore[assignment]
    exchange.follow()
    return viewers


def test_deeply_nested_json_is_refused_with_a_message(app: Flask, exchange: Exchange,
                                                       logged: dict) -> None:
    api = Api(app, exchange, logged["FRA"])
    before = events(exchange)
    response = api.client.post(f"{PREFIX}/cases", data=DEEP_JSON,
                               content_type="application/json", headers=api.headers)
    assert response.status_code == 400, response.text[:300]
    assert response.get_json()["message"] == "The JSON body is nested too deeply."
    assert events(exchange) == before


def test_an_event_id_too_large_for_the_store_is_not_found(app: Flask, exchange: Exchange,
                                                          logged: dict) -> None:
    api = Api(app, exchange, logged["FRA.auditor"])
    assert api.get(f"/audit/events/{HUGE_ID}", expect=404)["error"] == "not_found"
    auditor = Browser(app.test_client())
    auditor.login("fra.auditor")
    page = auditor.get(f"/audit/events/{HUGE_ID}")
    assert page.status_code == 404 and "No event with notification id" in page.text


def test_a_moment_beyond_the_calendar_is_refused_next_to_at(app: Flask, exchange: Exchange,
                                                            logged: dict) -> None:
    case_id = logged["case"]
    api = Api(app, exchange, logged["FRA.auditor"])
    refused = api.get(f"/audit/cases/{case_id}", expect=422, at=FAR_MOMENT)
    assert refused["field"] == "at"
    assert refused["message"] == "That moment falls outside the years 1 to 9999 in UTC."
    assert api.get("/audit/access", expect=422, state="FRA", at=FAR_MOMENT)["field"] == "at"
    assert api.get("/audit/events", expect=422, since=FAR_MOMENT)["field"] == "since"
    auditor = Browser(app.test_client())
    auditor.login("fra.auditor")
    for path in (f"/audit/cases/{case_id}?at={FAR_MOMENT}",
                 f"/audit/access?state=FRA&at={FAR_MOMENT}", f"/audit/?since={FAR_MOMENT}"):
        page = auditor.get(path.replace("+", "%2B"))
        assert page.status_code == 422, path
        assert "outside the years 1 to 9999" in page.text, path


def test_a_next_with_a_line_break_signs_in_without_a_server_error(
        browser: Browser, logged: dict) -> None:
    for target in ("/cases/\r\nSet-Cookie: x=1", "/\r\n/evil.example/"):
        response = browser.post("/login", {"username": "fra.analyst", "password": PASSWORD,
                                           "next": target})
        assert response.status_code == 302 and "\n" not in response.location
        assert response.location in ("/cases/", "/cases/Set-Cookie:%20x=1")
        browser.post("/logout")


def test_a_body_over_the_ceiling_is_refused_before_it_is_read(exchange: Exchange,
                                                              logged: dict) -> None:
    app = create_app(exchange, {"TESTING": True, "MAX_CONTENT_LENGTH": 4096})
    api = Api(app, exchange, logged["FRA"])
    before = events(exchange)
    big = json.dumps({**SUMMARY, "narrative": "x" * 5000})
    response = api.client.post(f"{PREFIX}/cases", data=big, content_type="application/json",
                               headers=api.headers)
    assert response.status_code == 413
    assert response.get_json() == {"error": "too_large", "field": None, "message": (
        "The request is too large: at most 4 KiB are accepted.")}
    browser = Browser(app.test_client())
    browser.login("fra.analyst")
    page = browser.post("/cases/new", {**SUMMARY, "narrative": "x" * 5000})
    assert page.status_code == 413 and "at most 4 KiB" in page.text
    assert events(exchange) == before
    french = browser.post("/language", {"lang": "fr"})
    assert french.status_code == 302
    before = events(exchange)  # the user's language choice is recorded
    page = browser.post("/cases/new", {**SUMMARY, "narrative": "x" * 5000})
    assert page.status_code == 413 and "4 Kio" in page.text
    assert events(exchange) == before


def test_the_default_ceiling_takes_a_full_case_and_refuses_twenty_megabytes(
        app: Flask, exchange: Exchange, logged: dict) -> None:
    api = Api(app, exchange, logged["FRA"])
    assert app.config["MAX_CONTENT_LENGTH"] == exchange.settings.max_request_bytes
    full = {**SUMMARY, "narrative": "é" * 20_000}
    api.post("/cases", full, expect=201)
    huge = '{"title": "' + "x" * 20_000_000 + '"}'
    response = api.client.post(f"{PREFIX}/cases", data=huge,
                               content_type="application/json", headers=api.headers)
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
