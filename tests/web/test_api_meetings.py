"""Meeting operations of the API: the same rules as the meeting pages, seen from each side."""

from __future__ import annotations

import pytest
from flask import Flask

from infra.wiring import Exchange
from tests.web.api_helpers import Api
from tests.web.conftest import SUMMARY, events

OUTCOME = "Agreed: trace the rifles."


@pytest.fixture
def api(app: Flask, exchange: Exchange, people: dict):
    return lambda who: Api(app, exchange, people[who])


def convened(api, participants=("FRA", "DEU")) -> str:
    meeting = api("secretariat").post("/meetings", {
        "title": "Forum session 4", "date": "2026-09-01", "convening_body": "DIEF",
        "participants": list(participants)}, expect=201)
    assert meeting["participants"] == sorted(participants) and meeting["status"] == "planned"
    return meeting["id"]


def test_participants_list_and_read_the_meeting_others_are_refused(
        api, exchange: Exchange) -> None:
    meeting_id = convened(api)
    deu = api("DEU")
    assert [m["id"] for m in deu.get("/meetings")["items"]] == [meeting_id]
    assert deu.get(f"/meetings/{meeting_id}")["next_statuses"] == ["open", "closed"]
    mli = api("MLI")
    assert mli.get("/meetings") == {"items": [], "page": 1, "per_page": 20, "total": 0}
    refused = mli.get(f"/meetings/{meeting_id}", expect=403)
    assert refused["error"] == "forbidden" and "Forum" not in mli.last_text
    mli.get("/meetings/00000000-0000-4000-8000-000000000000", expect=404)


def test_owner_tables_a_case_and_records_an_outcome_others_cannot(
        api, exchange: Exchange, people: dict) -> None:
    meeting_id = convened(api)
    case_id = str(exchange.cases.open_case(people["FRA"], SUMMARY))
    fra = api("FRA")
    tabled = fra.post(f"/meetings/{meeting_id}/agenda", {"case_id": case_id}, expect=201)
    assert tabled["agenda"][0]["title"] == SUMMARY["title"]
    fra.post(f"/meetings/{meeting_id}/agenda/{case_id}/outcomes", {"text": OUTCOME},
             expect=201)
    seen = api("DEU").get(f"/meetings/{meeting_id}")
    assert seen["agenda"][0]["outcomes"] == [OUTCOME]
    assert [h["event"] for h in seen["history"]][-2:] == ["CaseTabled", "OutcomeRecorded"]
    secretariat = api("secretariat").get(f"/meetings/{meeting_id}")
    assert secretariat["agenda"][0] == {"case_id": case_id, "owner": "FRA", "title": None,
                                        "outcomes": [], "outcome_files": [],
                                        "shredded": False}
    deu, mli = api("DEU"), api("MLI")  # issuing a token is an event too
    before = events(exchange)
    deu.post(f"/meetings/{meeting_id}/agenda/{case_id}/outcomes", {"text": "x"}, expect=403)
    mli.post(f"/meetings/{meeting_id}/agenda", {"case_id": case_id}, expect=403)
    assert SUMMARY["title"] not in mli.last_text and OUTCOME not in mli.last_text
    mli.post(f"/meetings/{meeting_id}/agenda/{case_id}/outcomes", {"text": "x"}, expect=404)
    assert OUTCOME not in mli.last_text
    assert events(exchange) == before


def test_participants_are_admitted_confirmed_and_released(api, exchange: Exchange,
                                                          people: dict) -> None:
    meeting_id = convened(api)
    case_id = str(exchange.cases.open_case(people["FRA"], SUMMARY))
    fra, secretariat = api("FRA"), api("secretariat")
    fra.post(f"/meetings/{meeting_id}/agenda", {"case_id": case_id}, expect=201)
    before = events(exchange)
    fra.post(f"/meetings/{meeting_id}/participants", {"state": "MLI"}, expect=403)
    assert events(exchange) == before
    admitted = secretariat.post(f"/meetings/{meeting_id}/participants", {"state": "MLI"})
    assert admitted["participants"] == ["DEU", "FRA", "MLI"]
    assert api("MLI").get(f"/meetings/{meeting_id}")["agenda"][0]["title"] is None
    confirmed = fra.post(f"/meetings/{meeting_id}/agenda/{case_id}/access")
    assert confirmed["added"] == ["MLI"]
    assert api("MLI").get(f"/meetings/{meeting_id}")["agenda"][0]["title"] == SUMMARY["title"]
    assert secretariat.post(f"/meetings/{meeting_id}/status",
                            {"status": "open"})["status"] == "open"
    secretariat.post(f"/meetings/{meeting_id}/status", {"status": "planned"}, expect=409)
    secretariat.delete(f"/meetings/{meeting_id}/participants/MLI")
    api("MLI").get(f"/meetings/{meeting_id}", expect=403)


def test_a_lesson_needs_every_concerned_state_to_consent(api, exchange: Exchange) -> None:
    meeting_id = convened(api)
    fra, deu = api("FRA"), api("DEU")
    proposed = fra.post(f"/meetings/{meeting_id}/lessons",
                        {"text": "Weak stockpiles", "concerned": ["FRA", "DEU"]}, expect=201)
    lesson = proposed["lessons"][0]
    assert lesson["text"] == "Weak stockpiles" and not lesson["complete"]
    path = f"/meetings/{meeting_id}/lessons/{lesson['id']}/consent"
    fra.put(path, {"given": True})
    mli = api("MLI")
    before = events(exchange)
    mli.put(path, {"given": True}, expect=403)
    fra.put(path, {"given": True}, expect=409)
    assert events(exchange) == before
    assert deu.put(path, {"given": True})["lessons"][0]["complete"]
    assert api("secretariat").get(f"/meetings/{meeting_id}")["lessons"][0]["text"] is None


@pytest.mark.parametrize(("who", "path", "body", "field"), [
    ("secretariat", "", {"title": "T", "date": "next week", "participants": ["FRA", "DEU"]},
     "date"),
    ("secretariat", "", {"title": "T", "date": "2026-09-01", "participants": ["FRA"]},
     "participants"),
    ("secretariat", "", {"title": "T", "date": "2026-09-01"}, "participants"),
    ("secretariat", "", {"title": "T", "date": "2026-09-01", "participants": "FRA DEU"},
     "participants"),
    ("secretariat", "", {"title": "T", "date": "2026-09-01", "participants": ["FRA", "DEU"],
                         "room": "B"}, "room"),
    ("FRA", "/agenda", {"case_id": "not-a-case"}, "case_id"),
    ("FRA", "/lessons", {"text": "", "concerned": ["FRA"]}, "text"),
    ("FRA", "/lessons", {"text": "t", "concerned": ["QQQ"]}, "concerned"),
    ("secretariat", "/status", {"status": "adjourned"}, "status"),
])
def test_bad_bodies_are_refused_with_the_field_and_store_nothing(
        api, exchange: Exchange, who: str, path: str, body: dict, field: str) -> None:
    meeting_id = convened(api)
    client = api(who)
    before = events(exchange)
    target = f"/meetings/{meeting_id}{path}" if path else "/meetings"
    refused = client.post(target, body, expect=422)
    assert refused["error"] == "invalid_input" and refused["field"] == field
    assert events(exchange) == before


def test_an_analyst_of_another_state_cannot_table_a_portal_case_it_reads(
        api, exchange: Exchange, people: dict) -> None:
    meeting_id = convened(api)
    case_id = str(exchange.cases.open_case(people["FRA"], SUMMARY))
    exchange.cases.share(people["FRA"], case_id, 1, "portal", [])
    deu = api("DEU")
    assert deu.get(f"/cases/{case_id}")["summary"]["title"] == SUMMARY["title"]  # DEU reads it
    before = events(exchange)
    refused = deu.post(f"/meetings/{meeting_id}/agenda", {"case_id": case_id}, expect=403)
    assert refused == {"error": "forbidden", "field": "case_id", "message": (
        "Only an analyst of the state that owns the case tables it (FRA).")}
    assert events(exchange) == before
    assert deu.get(f"/meetings/{meeting_id}")["agenda"] == []
    tabled = api("FRA").post(f"/meetings/{meeting_id}/agenda", {"case_id": case_id},
                             expect=201)
    assert [(a["case_id"], a["owner"]) for a in tabled["agenda"]] == [(case_id, "FRA")]
