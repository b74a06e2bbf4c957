"""Private hits on the web and the API (issue 20): the item form offers the check, both states
find the hit and answer it; a third state, by page or by API, reaches nothing."""

from __future__ import annotations

import re

from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.web.conftest import Browser, events
from tests.web.test_api import Api, token_for

RIFLE = {"category": "small_arms", "quantity": "1", "make": "Norvik", "serial": "NA47-220914",
         "match_check": "yes"}


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def test_the_item_form_offers_the_check_and_both_states_answer_the_hit(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    exchange.cases.open_case(people["DEU"], {"title": "Rifles stolen from a dealer"},
                             items=[{**RIFLE, "serial": "na47 220914"}])
    france = signed_in(app, "fra.analyst")
    form = france.get("/cases/new").text
    assert re.search(r'<option value="yes" selected', form)  # offered, the owner may say no
    created = france.post("/cases/new", {"title": "Rifle seized at Le Havre", "item_rows": "1",
                                         **{f"items.0.{k}": v for k, v in RIFLE.items()}})
    assert created.status_code == 302
    case_id = created.location.rsplit("/", 1)[-1]
    assert "Private hit check: 1 identifier" in france.get(f"/cases/{case_id}").text
    listed = france.get("/hits/").text
    assert "Rifle seized at Le Havre" in listed and "Rifles stolen" not in listed
    hit_id = re.search(r'href="/hits/([0-9a-f-]{36})"', listed).group(1)
    page = france.get(f"/hits/{hit_id}").text
    assert "NA47-220914" in page and "Germany" in page
    trace = france.get(f"/traces/new/{case_id}?requested_state=DEU&hit={hit_id}").text
    assert 'name="hit" value="' + hit_id in trace
    germany = signed_in(app, "deu.analyst")
    assert "Rifle seized at Le Havre" not in germany.get(f"/hits/{hit_id}").text
    assert germany.post(f"/hits/{hit_id}/answer", {"answer": "dismissed"}).status_code == 302
    assert "Dismissed" in france.get(f"/hits/{hit_id}").text
    refused = germany.post(f"/hits/{hit_id}/answer", {"answer": "dismissed"})
    assert refused.status_code == 409 and "answered this hit already" in refused.text


def test_an_empty_item_row_stays_empty_though_it_offers_the_check(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    france = signed_in(app, "fra.analyst")
    created = france.post("/cases/new", {"title": "No items yet", "item_rows": "1",
                                         "items.0.match_check": "yes"})
    assert created.status_code == 302
    case_id = created.location.rsplit("/", 1)[-1]
    assert exchange.cases.view(people["FRA"], case_id).items == {}


def test_a_third_state_reaches_no_hit_by_page_or_api(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    exchange.cases.open_case(people["DEU"], {"title": "Stolen"}, items=[RIFLE])
    exchange.cases.open_case(people["FRA"], {"title": "Seized"}, items=[RIFLE])
    hit_id = exchange.hits.for_state(people["FRA"])[0].id
    mali = signed_in(app, "mli.analyst")
    assert mali.get(f"/hits/{hit_id}").status_code == 404
    before = events(exchange)
    assert mali.post(f"/hits/{hit_id}/answer", {"answer": "dismissed"}).status_code == 404
    assert events(exchange) == before
    assert "Seized" not in mali.get("/hits/").text
    mali_api = Api(app.test_client(), token_for(exchange, people["MLI"]))
    assert mali_api.call("GET", "/hits").get_json() == {"items": []}
    assert mali_api.call("GET", f"/hits/{hit_id}").status_code == 404
    france_api = Api(app.test_client(), token_for(exchange, people["FRA"]))
    found = france_api.call("GET", "/hits").get_json()["items"]
    assert [(h["other"], h["case_title"]) for h in found] == [("DEU", "Seized")]
    answered = france_api.call("POST", f"/hits/{hit_id}/answer", json={"answer": "trace_sent"})
    assert answered.status_code == 200 and answered.get_json()["mine"] == "trace_sent"
    assert france_api.call("POST", f"/hits/{hit_id}/answer",
                           json={"answer": "maybe"}).status_code == 422


def test_markings_too_short_to_check_are_named_when_the_item_is_saved(
        app: Flask, exchange: Exchange, people: dict[str, Viewer]) -> None:
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Pistols"})
    france = signed_in(app, "fra.analyst")
    saved = france.post(f"/cases/{case_id}/item/new", {
        **RIFLE, "quantity": "2", "serial": "K-1\nNA47-220999", "expected_version": "1"})
    assert saved.status_code == 302
    page = france.get(f"/cases/{case_id}").text
    assert "1 marking is not checked for private hits" in page
    assert "Private hit check: 1 identifier" in page
