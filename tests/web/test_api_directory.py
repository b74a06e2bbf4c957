"""Directory operations of the API: every user reads the states and contact points; only a
state admin changes their own state's contact point."""

from __future__ import annotations

import pytest
from flask import Flask

from infra.wiring import Exchange
from tests.web.api_helpers import Api, check_against_document
from tests.web.conftest import events

POINT = {"name": "NCP arms control", "office": "Ministry of Defence",
         "channel": "ncp@example.gov", "volunteers_to_assist": True}


@pytest.fixture
def api(app: Flask, exchange: Exchange, people: dict):
    return lambda who: Api(app, exchange, people[who])


def test_every_user_reads_the_states_and_their_keys(api) -> None:
    mli = api("MLI")
    listed = mli.get("/directory/states")
    assert [s["code"] for s in listed["items"]] == ["DEU", "FRA", "MLI", "XAT"]
    assert listed["total"] == 4
    fra = mli.get("/directory/states/fra")
    assert fra["code"] == "FRA" and fra["contact_point"] is None and fra["contact_point_stale"]
    assert len(fra["public_keys"]["signing"]) == 64
    assert mli.get("/directory/states", per_page=1, page=2)["items"][0]["code"] == "FRA"
    assert mli.get("/directory/states/ZZZ", expect=404)["error"] == "not_found"


def test_state_admin_sets_and_confirms_the_contact_point(api, exchange: Exchange) -> None:
    admin = api("FRA.admin")
    state = admin.put("/directory/contact-point", POINT)
    assert state["contact_point"]["channel"] == POINT["channel"]
    assert not state["contact_point_stale"]
    assert api("DEU").get("/directory/states/FRA")["contact_point"]["name"] == POINT["name"]
    assert admin.post("/directory/contact-point/confirmation")["code"] == "FRA"


def test_others_cannot_change_a_contact_point_and_bad_bodies_name_the_field(
        api, exchange: Exchange) -> None:
    analyst, admin = api("FRA"), api("DEU.admin")
    before = events(exchange)
    assert analyst.put("/directory/contact-point", POINT, expect=403)["error"] == "forbidden"
    analyst.post("/directory/contact-point/confirmation", expect=403)
    admin.post("/directory/contact-point/confirmation", expect=404)  # none set yet
    assert admin.put("/directory/contact-point", dict(POINT, channel=" "),
                     expect=422)["field"] == "channel"
    assert admin.put("/directory/contact-point", {"name": "x"}, expect=422)["field"] == "channel"
    assert admin.put("/directory/contact-point", dict(POINT, volunteers_to_assist="yes"),
                     expect=422)["field"] == "volunteers_to_assist"
    assert events(exchange) == before


def test_calls_without_a_valid_token_get_401_as_declared(app: Flask, api) -> None:
    document = api("MLI").document
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer dvx_nope.nope"}):
        response = client.get("/api/v1/directory/states", headers=headers)
        assert response.status_code == 401
        check_against_document(document, "GET", "/directory/states", response)
