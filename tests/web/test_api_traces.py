"""Trace request operations of the API: the board, a request, and its steps, for the two
states only; a third state is told the request does not exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from infra.wiring import Exchange
from tests.web.api_helpers import Api
from tests.web.conftest import ITEM, SUMMARY, events

QUESTIONS = "Please trace these rifles: to whom were they exported?"


@pytest.fixture
def api(app: Flask, exchange: Exchange, people: dict):
    return lambda who: Api(app, exchange, people[who])


@pytest.fixture
def case(exchange: Exchange, people: dict) -> tuple[str, str]:
    """A FRA case with one item: its id and the item's part id."""
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    item = exchange.cases.add_part(people["FRA"], case_id, 1, "item",
                                   dict(ITEM, serial="TRC-42"))
    return str(case_id), item


def sent(fra: Api, case: tuple[str, str]) -> dict:
    return fra.post(f"/cases/{case[0]}/traces", {"requested_state": "DEU",
                                                 "item_ids": [case[1]],
                                                 "questions": QUESTIONS}, expect=201)


def test_both_states_see_the_request_on_their_paginated_boards(api, case) -> None:
    fra, deu, mli = api("FRA"), api("DEU"), api("MLI")
    trace = sent(fra, case)
    assert trace["status"] == "sent" and trace["items"][case[1]]["serial"] == "TRC-42"
    outgoing = fra.get("/traces")
    assert outgoing["total"] == 1 and outgoing["items"][0]["direction"] == "outgoing"
    assert deu.get("/traces", direction="incoming")["items"][0]["id"] == trace["id"]
    assert deu.get("/traces", direction="outgoing")["total"] == 0
    assert deu.get("/traces", page=2)["items"] == []
    assert mli.get("/traces")["total"] == 0
    assert deu.get("/traces/response-record")["items"][0]["requested"] == "DEU"
    assert mli.get("/traces/response-record")["items"] == []
    assert deu.get("/traces", per_page=101, expect=422)["field"] == "per_page"
    assert deu.get("/traces", direction="sideways", expect=422)["field"] == "direction"


def test_only_the_two_states_read_a_request(api, case) -> None:
    trace = sent(api("FRA"), case)
    assert api("DEU").get(f"/traces/{trace['id']}")["questions"] == QUESTIONS
    for outsider in ("MLI", "secretariat"):
        client = api(outsider)
        assert client.get(f"/traces/{trace['id']}", expect=404)["error"] == "not_found"
        assert QUESTIONS not in client.last_text and "TRC-42" not in client.last_text


def test_a_request_goes_through_its_steps_and_its_answer_joins_the_case(api, case) -> None:
    fra, deu = api("FRA"), api("DEU")
    trace_id = sent(fra, case)["id"]
    path = f"/traces/{trace_id}"
    assert deu.post(f"{path}/acknowledgement")["status"] == "acknowledged"
    asked = deu.post(f"{path}/more-info", {"checklist": ["calibre"], "note": "Calibre?"})
    assert asked["status"] == "more_info_requested"
    assert fra.post(f"{path}/information", {"answers": {"calibre": "7.62 mm"}})[
        "supplied"][0]["answers"] == {"calibre": "7.62 mm"}
    moved = fra.put(f"{path}/deadline", {"deadline": datetime.now(UTC).date().replace(
        year=datetime.now(UTC).year + 1).isoformat()})
    assert moved["deadline"].startswith(str(datetime.now(UTC).year + 1))
    answered = deu.post(f"{path}/answer", {"outcome": "traced", "destination": "MLI",
                                           "licence": "L-7", "text": "Exported 2019."})
    assert answered["answer"]["destination"] == "MLI"
    case_version = fra.get(f"/cases/{case[0]}")["version"]
    attached = fra.post(f"{path}/attachment", {"expected_version": case_version},
                        expect=201)
    assert attached["trace"]["attached_part_id"] == attached["part_id"]
    legs = fra.get(f"/cases/{case[0]}")["legs"]
    assert legs[attached["part_id"]]["destination"] == "MLI"
    closed = fra.post(f"{path}/closure", {"feedback": "Thank you."})
    assert closed["status"] == "closed" and closed["feedback"] == "Thank you."


def test_other_states_and_the_wrong_party_cannot_act(api, case, exchange: Exchange) -> None:
    fra, deu, mli = api("FRA"), api("DEU"), api("MLI")
    trace_id = sent(fra, case)["id"]
    reviewer = api("DEU.reviewer")
    before = events(exchange)
    for path, body in (("acknowledgement", None), ("answer", {"outcome": "traced"}),
                       ("closure", {}), ("more-info", {"checklist": ["serial"]})):
        mli.post(f"/traces/{trace_id}/{path}", body, expect=404)
        assert QUESTIONS not in mli.last_text
    fra.post(f"/traces/{trace_id}/acknowledgement", expect=403)
    deu.put(f"/traces/{trace_id}/deadline", {"deadline": "2030-01-01"}, expect=403)
    reviewer.post(f"/traces/{trace_id}/acknowledgement", expect=403)
    fra.post(f"/traces/{trace_id}/attachment", {"expected_version": 2}, expect=409)
    mli.post(f"/cases/{case[0]}/traces", {"requested_state": "DEU", "item_ids": [],
                                          "questions": "?"}, expect=404)
    assert SUMMARY["title"] not in mli.last_text
    assert events(exchange) == before


@pytest.mark.parametrize(("who", "path", "body", "field"), [
    ("DEU", "answer", {"outcome": "traced", "destination": "ZZZ"}, "destination"),
    ("DEU", "answer", {"outcome": "traced", "date": "someday"}, "date"),
    ("DEU", "answer", {}, "outcome"),
    ("DEU", "more-info", {"checklist": ["horoscope"]}, "checklist"),
    ("DEU", "more-info", {"checklist": "serial"}, "checklist"),
    ("FRA", "deadline", {"deadline": "soon"}, "deadline"),
    ("FRA", "attachment", {"expected_version": "2"}, "expected_version"),
])
def test_bad_bodies_are_refused_with_the_field_and_store_nothing(
        api, case, exchange: Exchange, who: str, path: str, body: dict, field: str) -> None:
    fra = api("FRA")
    trace_id = sent(fra, case)["id"]
    client = api(who)
    before = events(exchange)
    method = client.put if path == "deadline" else client.post
    refused = method(f"/traces/{trace_id}/{path}", body, expect=422)
    assert refused["field"] == field
    assert events(exchange) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"requested_state": "FRA", "item_ids": [], "questions": "?"}, "requested_state"),
    ({"requested_state": "DEU", "item_ids": ["nope"], "questions": "?"}, "item_ids"),
    ({"requested_state": "DEU", "item_ids": [], "questions": " "}, "questions"),
    ({"requested_state": "DEU", "questions": "?"}, "item_ids"),
    ({"requested_state": "DEU", "item_ids": [], "questions": "?", "deadline_days": 999},
     "deadline_days"),
])
def test_bad_sending_is_refused_with_the_field(api, case, exchange: Exchange, body: dict,
                                               field: str) -> None:
    fra = api("FRA")
    before = events(exchange)
    assert fra.post(f"/cases/{case[0]}/traces", body, expect=422)["field"] == field
    assert events(exchange) == before
