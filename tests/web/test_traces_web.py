"""Trace board and trace page: each state sees its own requests; a third state sees nothing."""

from __future__ import annotations

from flask import Flask

from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import ITEM, SUMMARY, Browser

QUESTIONS = "Please trace these rifles: to whom were they exported?"


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 302
    return browser


def sent_request(exchange: Exchange, people: dict) -> str:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item = exchange.cases.add_part(fra, case_id, 1, "item", dict(ITEM, serial="TRC-42"))
    trace_id = exchange.traces.send(fra, case_id, "DEU", [item], QUESTIONS)
    exchange.traces.acknowledge(people["DEU"], trace_id)
    return str(trace_id)


def test_both_states_see_the_request_on_their_boards(app: Flask, people: dict,
                                                     exchange: Exchange) -> None:
    trace_id = sent_request(exchange, people)
    outgoing = signed_in(app, "fra.analyst").get("/traces/").text
    incoming = signed_in(app, "deu.analyst").get("/traces/").text
    for page in (outgoing, incoming):
        assert f"/traces/{trace_id}" in page
    assert f"/traces/{trace_id}" not in signed_in(app, "mli.analyst").get("/traces/").text


def test_trace_page_opens_for_the_two_states_only(app: Flask, people: dict,
                                                  exchange: Exchange) -> None:
    trace_id = sent_request(exchange, people)
    for user in ("fra.analyst", "deu.analyst"):
        page = signed_in(app, user).get(f"/traces/{trace_id}").text
        assert QUESTIONS in page and "TRC-42" in page
    for user in ("mli.analyst", "secretariat"):
        response = signed_in(app, user).get(f"/traces/{trace_id}")
        assert response.status_code == 404
        assert QUESTIONS not in response.text and "TRC-42" not in response.text
