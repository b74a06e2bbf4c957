"""Trace board and trace page: each state sees its own requests; a third state sees nothing."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import ITEM, SUMMARY, Browser, error_next_to
from tests.web.test_api import Api, token_for

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


def events(exchange: Exchange) -> int:
    return exchange.ledger.recorder.max_notification_id() or 0


@pytest.mark.parametrize(("path", "body", "field", "status"), [
    ("answer", {"outcome": "maybe"}, "outcome", 409),
    ("answer", {"outcome": "traced", "destination": "ZZZ"}, "destination", 422),
    ("answer", {"outcome": "traced", "date": "someday"}, "date", 422),
    ("more-info", {"checklist": ["horoscope"]}, "checklist", 422),
])
def test_bad_answer_or_checklist_is_refused_next_to_the_field(
        app: Flask, people: dict, exchange: Exchange, path: str, body: dict, field: str,
        status: int) -> None:
    trace_id = sent_request(exchange, people)
    deu = signed_in(app, "deu.analyst")
    before = events(exchange)
    response = deu.post(f"/traces/{trace_id}/{path}", body)
    assert response.status_code in (status, 422)
    assert error_next_to(response, field)
    assert events(exchange) == before


def test_bad_send_form_names_the_field_and_stores_nothing(app: Flask, people: dict,
                                                         exchange: Exchange) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    browser = signed_in(app, "fra.analyst")
    before = events(exchange)
    response = browser.post(f"/traces/new/{case_id}",
                            {"requested_state": "FRA", "questions": "q", "items": []})
    assert response.status_code in (409, 422)
    assert error_next_to(response, "requested_state") or error_next_to(response, "items")
    assert events(exchange) == before


def test_other_states_cannot_act_on_a_request(app: Flask, people: dict,
                                              exchange: Exchange) -> None:
    trace_id = sent_request(exchange, people)
    before = events(exchange)
    outsider = signed_in(app, "mli.analyst")
    for path, body in (("acknowledge", {}), ("answer", {"outcome": "traced"}),
                       ("close", {}), ("more-info", {"checklist": ["serial"]})):
        assert outsider.post(f"/traces/{trace_id}/{path}", body).status_code == 404
    requester = signed_in(app, "fra.analyst")
    assert requester.post(f"/traces/{trace_id}/answer",
                          {"outcome": "traced"}).status_code == 403
    assert events(exchange) == before


def test_send_form_can_open_the_request_to_the_case_readers(app: Flask, people: dict,
                                                            exchange: Exchange) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item = exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    exchange.cases.share(fra, case_id, 2, "bilateral", ["MLI"])
    response = signed_in(app, "fra.analyst").post(f"/traces/new/{case_id}", {
        "requested_state": "DEU", "questions": QUESTIONS, "items": [item],
        "deadline_days": "30", "share_with_case_readers": "yes"})
    assert response.status_code == 302
    trace_path = response.headers["Location"]
    assert QUESTIONS in signed_in(app, "mli.analyst").get(trace_path).text


AMMUNITION = {"category": "ammunition", "quantity": "900", "hs_code": "930630",
              "make": "Kestrel Works", "serial": "", "year": "2014", "calibre": "5.56x45mm",
              "country_of_manufacture": "ITA", "import_marking": "ML 19",
              "marking_condition": "altered", "lot": "LOT-77-B", "headstamp": "KW 14"}


def test_the_answer_form_repeats_the_questions_and_every_field_of_the_items(
        app: Flask, people: dict, exchange: Exchange) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item = exchange.cases.add_part(fra, case_id, 1, "item", AMMUNITION)
    trace_id = exchange.traces.send(fra, case_id, "DEU", [item], QUESTIONS)
    deu = signed_in(app, "deu.analyst")
    shown = ("930630", "Kestrel Works", "2014", "5.56x45mm", "Italy (ITA)", "ML 19", "Altered",
             "LOT-77-B", "KW 14", "900", QUESTIONS)
    for path in ("", "/answer", "/more-info"):
        page = deu.get(f"/traces/{trace_id}{path}").text
        assert all(value in page for value in shown), path
    assert deu.post("/language", {"lang": "fr"}).status_code == 302
    assert "Italie (ITA)" in deu.get(f"/traces/{trace_id}/answer").text
    for user in ("mli.analyst", "secretariat"):  # a state the request is not for
        response = signed_in(app, user).get(f"/traces/{trace_id}/answer")
        assert response.status_code == 404 and "LOT-77-B" not in response.text


def test_an_answer_carries_the_iti_details_to_both_states(app: Flask, people: dict,
                                                          exchange: Exchange) -> None:
    trace_id = sent_request(exchange, people)
    deu = signed_in(app, "deu.analyst")
    response = deu.post(f"/traces/{trace_id}/answer", {
        "outcome": "traced", "destination": "MLI", "recipient": "Ministry of Defence, Bamako",
        "date": "2019-03-14", "licence": "DE-EX-2019-0042",
        "last_legal_holder": "Army depot 4, Kati", "text": "Shipped by sea via Dakar."})
    assert response.status_code == 302
    for user in ("fra.analyst", "deu.analyst"):
        page = signed_in(app, user).get(f"/traces/{trace_id}").text
        for value in ("Mali (MLI)", "Ministry of Defence, Bamako", "2019-03-14",
                      "DE-EX-2019-0042", "Army depot 4, Kati"):
            assert value in page
    answer = exchange.traces.view(people["FRA"], trace_id).answer
    assert answer is not None and answer["last_legal_holder"] == "Army depot 4, Kati"


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_an_answer_carries_a_file_to_the_two_states_only(app: Flask, people: dict,
                                                         exchange: Exchange) -> None:
    trace_id = sent_request(exchange, people)
    germany = signed_in(app, "deu.analyst")
    form = germany.get(f"/traces/{trace_id}/answer").text
    assert 'enctype="multipart/form-data"' in form and 'name="attachment"' in form
    forged = germany.post(f"/traces/{trace_id}/answer", {
        "outcome": "traced", "text": "Kept when refused.",
        "attachment": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 64), "licence.pdf")},
        content_type="multipart/form-data")
    assert forged.status_code == 422 and error_next_to(forged, "attachment")
    assert "Kept when refused." in forged.text
    answered = germany.post(f"/traces/{trace_id}/answer", {
        "outcome": "traced", "destination": "MLI", "text": "Exported under licence.",
        "attachment": (io.BytesIO(PDF), "licence DE-0932.pdf")},
        content_type="multipart/form-data")
    assert answered.status_code == 302
    france = signed_in(app, "fra.analyst")
    assert "licence DE-0932.pdf" in france.get(f"/traces/{trace_id}").text
    got = france.get(f"/traces/{trace_id}/answer/file")
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert signed_in(app, "mli.analyst").get(
        f"/traces/{trace_id}/answer/file").status_code == 404
    mali = Api(app.test_client(), token_for(exchange, people["MLI"]))
    assert mali.call("GET", f"/traces/{trace_id}/answer/file").status_code == 404
    api = Api(app.test_client(), token_for(exchange, people["FRA"]))
    assert api.call("GET", f"/traces/{trace_id}/answer/file").data == PDF


def test_the_api_answers_with_a_file_as_multipart(app: Flask, people: dict,
                                                 exchange: Exchange) -> None:
    trace_id = sent_request(exchange, people)
    germany = Api(app.test_client(), token_for(exchange, people["DEU"]))
    answered = germany.call("POST", f"/traces/{trace_id}/answer", data={
        "outcome": "not_traced", "text": "No record.",
        "attachment": (io.BytesIO(b"serial,result\nTRC-42,none\n"), "search.csv")},
        content_type="multipart/form-data")
    assert answered.status_code == 200, answered.json
    got = germany.call("GET", f"/traces/{trace_id}/answer/file")
    assert got.mimetype == "text/csv" and b"TRC-42" in got.data
