"""Meeting pages: convening, tabling, outcomes and consent, seen from each side."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask

from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import SUMMARY, Browser, error_next_to, events
from tests.web.test_api import Api, token_for


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 302
    return browser


def test_secretariat_convenes_and_participants_see_the_meeting(app: Flask, people: dict,
                                                               exchange: Exchange) -> None:
    sec = signed_in(app, "secretariat")
    response = sec.post("/meetings/new", {"title": "Forum session 4", "date": "2026-09-01",
                                          "convening_body": "DIEF", "participants": "FRA DEU"})
    assert response.status_code == 302
    assert "Forum session 4" in signed_in(app, "deu.analyst").get("/meetings/").text
    assert "Forum session 4" not in signed_in(app, "mli.analyst").get("/meetings/").text
    meeting_path = response.headers["Location"]
    assert signed_in(app, "mli.analyst").get(meeting_path).status_code == 403


def test_bad_convening_input_names_the_field_and_stores_nothing(app: Flask, people: dict,
                                                                exchange: Exchange) -> None:
    sec = signed_in(app, "secretariat")
    before = events(exchange)
    response = sec.post("/meetings/new", {"title": "T", "date": "next week",
                                          "participants": "FRA DEU"})
    assert response.status_code == 422 and error_next_to(response, "date")
    assert signed_in(app, "fra.analyst").post(
        "/meetings/new", {"title": "T", "date": "2026-01-01",
                          "participants": "FRA DEU"}).status_code == 403
    assert events(exchange) == before


def test_owner_tables_a_case_and_records_an_outcome_others_cannot(
        app: Flask, people: dict, exchange: Exchange) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    fra = signed_in(app, "fra.analyst")
    assert fra.post(f"/meetings/{meeting}/table", {"case_id": str(case_id)}).status_code == 302
    assert fra.post(f"/meetings/{meeting}/outcome",
                    {"case_id": str(case_id), "text": "Agreed: trace it."}).status_code == 302
    page = signed_in(app, "deu.analyst").get(f"/meetings/{meeting}").text
    assert SUMMARY["title"] in page and "Agreed: trace it." in page
    assert re.search(r"<title>Forum[^<]*</title>", page)  # the tab shows the title only
    before = events(exchange)
    deu = signed_in(app, "deu.analyst")
    refused = deu.post(f"/meetings/{meeting}/outcome", {"case_id": str(case_id), "text": "x"})
    assert refused.status_code == 403
    mli = signed_in(app, "mli.analyst")
    assert mli.post(f"/meetings/{meeting}/table",
                    {"case_id": str(case_id)}).status_code in (403, 404)
    assert events(exchange) == before
    secretariat_page = signed_in(app, "secretariat").get(f"/meetings/{meeting}").text
    assert SUMMARY["title"] not in secretariat_page
    assert "Agreed: trace it." not in secretariat_page


def test_consent_buttons_complete_a_lesson(app: Flask, people: dict,
                                           exchange: Exchange) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    fra, deu = signed_in(app, "fra.analyst"), signed_in(app, "deu.analyst")
    assert fra.post(f"/meetings/{meeting}/lesson",
                    {"text": "Weak stockpiles", "concerned": "FRA DEU"}).status_code == 302
    lesson = exchange.meetings.view(people["FRA"], meeting).lessons[0]["id"]
    for browser in (fra, deu):
        assert browser.post(f"/meetings/{meeting}/consent",
                            {"lesson_id": lesson}).status_code == 302
    assert exchange.meetings.view(people["FRA"], meeting).lessons[0]["complete"]


def test_an_auditor_of_another_state_sees_the_clear_history(app: Flask, people: dict,
                                                            exchange: Exchange) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.meetings.table_case(people["FRA"], meeting, case_id)
    exchange.directory.add_user(people["MLI.admin"], "mli.auditor", PASSWORD, ["auditor"])
    page = signed_in(app, "mli.auditor").get(f"/meetings/{meeting}").text
    assert "fra.analyst (FRA)" in page and SUMMARY["title"] not in page


@pytest.mark.parametrize(("action", "body", "status"), [
    ("admit", {"state": "ZZZ"}, 422),
    ("status", {"status": "held"}, 409),
    ("table", {"case_id": "not-a-case"}, 400),
    ("outcome", {"case_id": "", "text": "x"}, 400),
    ("lesson", {"text": "", "concerned": "FRA"}, 422),
    ("lesson", {"text": "t", "concerned": "QQQ"}, 422),
    ("consent", {"lesson_id": "nope"}, 404),
])
def test_bad_meeting_action_is_refused_with_a_message_and_stores_nothing(
        app: Flask, people: dict, exchange: Exchange, action: str, body: dict,
        status: int) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    user = "secretariat" if action in ("admit", "status") else "fra.analyst"
    browser = signed_in(app, user)  # a first sign-in of the secretariat enrols its factor
    before = events(exchange)
    response = browser.post(f"/meetings/{meeting}/{action}", body)
    assert response.status_code == status
    assert 'class="error"' in response.text or 'class="message"' in response.text
    assert events(exchange) == before


def test_an_analyst_of_another_state_cannot_table_a_portal_case_from_the_form(
        app: Flask, people: dict, exchange: Exchange) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "portal", [])
    deu = signed_in(app, "deu.analyst")
    page = deu.get(f"/meetings/{meeting}").text
    assert f'value="{case_id}"' not in page  # not offered, so the attacker crafts the form
    before = events(exchange)
    refused = deu.post(f"/meetings/{meeting}/table", {"case_id": str(case_id)})
    assert refused.status_code == 403
    assert "Only an analyst of the state that owns the case tables it (FRA)." in refused.text
    assert events(exchange) == before
    assert exchange.meetings.view(people["DEU"], meeting).agenda == {}


def test_participants_discuss_a_tabled_case_under_chatham_house(
        app: Flask, people: dict, exchange: Exchange) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.meetings.table_case(people["FRA"], meeting, case_id)
    secretariat = signed_in(app, "secretariat")
    assert secretariat.post(f"/meetings/{meeting}/chatham", {"on": "yes"}).status_code == 302
    germany = signed_in(app, "deu.analyst")
    empty = germany.post(f"/meetings/{meeting}/discussion",
                         {"case_id": str(case_id), "kind": "nonsense", "text": "Kept."})
    assert empty.status_code == 422 and "Kept.</textarea>" in empty.text
    said = germany.post(f"/meetings/{meeting}/discussion", {
        "case_id": str(case_id), "kind": "information", "text": "Exported under DE-0932."})
    assert said.status_code == 302
    page = signed_in(app, "fra.analyst").get(f"/meetings/{meeting}").text
    assert "Exported under DE-0932." in page and "A participant" in page
    assert "deu.analyst" not in page
    case_page = signed_in(app, "fra.analyst").get(f"/cases/{case_id}").text
    assert "Exported under DE-0932." in case_page and "deu.analyst" not in case_page
    assert "deu.analyst" in germany.get(f"/meetings/{meeting}").text  # its own words
    before = events(exchange)
    mali = signed_in(app, "mli.analyst")
    refused = mali.post(f"/meetings/{meeting}/discussion",
                        {"case_id": str(case_id), "kind": "comment", "text": "x"})
    assert refused.status_code == 404 and events(exchange) == before


def test_the_api_discusses_and_sets_chatham_house(app: Flask, people: dict,
                                                  exchange: Exchange) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.meetings.table_case(people["FRA"], meeting, case_id)
    secretariat = Api(app.test_client(), token_for(exchange, people["secretariat"]))
    assert secretariat.call("POST", f"/meetings/{meeting}/chatham-house",
                            json={"on": True}).status_code == 204
    germany = Api(app.test_client(), token_for(exchange, people["DEU"]))
    path = f"/meetings/{meeting}/agenda/{case_id}/discussion"
    said = germany.call("POST", path, json={"kind": "comment", "text": "Re-exported."})
    assert said.status_code == 201 and said.json["meeting"] == str(meeting)
    france = Api(app.test_client(), token_for(exchange, people["FRA"]))
    items = france.call("GET", path).json["items"]
    assert [(i["state"], i["unattributed"], i["text"]) for i in items] == \
        [("", True, "Re-exported.")]
    assert france.call("GET", f"/meetings/{meeting}").json["chatham_house"] is True
    mali = Api(app.test_client(), token_for(exchange, people["MLI"]))
    assert mali.call("GET", path).status_code == 404


def test_an_outcome_carries_a_file_for_the_case_readers(app: Flask, people: dict,
                                                        exchange: Exchange) -> None:
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.meetings.table_case(people["FRA"], meeting, case_id)
    france = signed_in(app, "fra.analyst")
    recorded = france.post(f"/meetings/{meeting}/outcome", {
        "case_id": str(case_id), "text": "Agreed: trace it.",
        "attachment": (io.BytesIO(b"Agreed steps:\n1. trace\n"), "steps.txt")},
        content_type="multipart/form-data")
    assert recorded.status_code == 302
    page = signed_in(app, "deu.analyst").get(f"/meetings/{meeting}").text
    link = re.search(r'href="(/meetings/[^"]+/outcomes/\d+/file)"', page)
    assert link and "steps.txt" in page
    got = signed_in(app, "deu.analyst").get(link.group(1))
    assert got.status_code == 200 and got.data == b"Agreed steps:\n1. trace\n"
    assert signed_in(app, "mli.analyst").get(link.group(1)).status_code == 403
    api = Api(app.test_client(), token_for(exchange, people["DEU"]))
    outcome = api.call("GET", f"/meetings/{meeting}").json["agenda"][0]
    assert [f["name"] for f in outcome["outcome_files"]] == ["steps.txt"]
    assert api.call("GET", link.group(1)).data == b"Agreed steps:\n1. trace\n"
    sent = Api(app.test_client(), token_for(exchange, people["FRA"])).call(
        "POST", f"/meetings/{meeting}/agenda/{case_id}/outcomes",
        data={"text": "Second.", "attachment": (io.BytesIO(b"MZ\x90\x00"), "x.pdf")},
        content_type="multipart/form-data")
    assert sent.status_code == 422 and sent.json["field"] == "attachment"
    refused = france.post(f"/meetings/{meeting}/outcome", {
        "case_id": str(case_id), "text": "Typed, then refused.",
        "attachment": (io.BytesIO(b"MZ\x90\x00"), "x.pdf")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Typed, then refused.</textarea>" in refused.text
