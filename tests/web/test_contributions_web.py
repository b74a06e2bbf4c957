"""Contributions on the case page (issue 21): France shares with Germany, Germany adds what it
knows, France reads it and may hide it; Mali, which does not read the case, reaches nothing."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from uuid import UUID

import pytest
from flask import Flask

from cases.kernel.viewer import AUDITOR, Viewer
from infra.wiring import Exchange
from tests.test_attachments import jpeg_with_gps
from tests.web.conftest import Browser, error_next_to, events
from tests.web.test_api import Api, token_for


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


@pytest.fixture
def shared(exchange: Exchange, people: dict[str, Viewer]) -> str:
    case_id = exchange.cases.open_case(people["FRA"], {"title": "Rifles at Kidira"})
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    return str(case_id)


def test_a_reader_adds_to_the_case_and_the_owner_reads_it(app: Flask, exchange: Exchange,
                                                         shared: str) -> None:
    germany = signed_in(app, "deu.analyst")
    page = germany.get(f"/cases/{shared}").text
    assert 'id="contributions"' in page
    assert 'id="retention"' not in page and 'id="policy"' not in page  # the owner's panels
    added = germany.post(f"/cases/{shared}/contributions",
                         {"kind": "information", "text": "Export licence DE-2019-4471."})
    assert added.status_code == 302
    france = signed_in(app, "fra.analyst").get(f"/cases/{shared}").text
    assert "Export licence DE-2019-4471." in france and "deu.analyst" in france
    assert 'id="retention"' in france


def test_bad_input_comes_back_with_what_was_typed(app: Flask, exchange: Exchange,
                                                  shared: str) -> None:
    germany = signed_in(app, "deu.analyst")
    before = events(exchange)
    refused = germany.post(f"/cases/{shared}/contributions",
                           {"kind": "gossip", "text": "Typed with care."})
    assert refused.status_code == 422 and error_next_to(refused, "kind")
    assert "Typed with care.</textarea>" in refused.text and events(exchange) == before


def test_another_state_reaches_nothing(app: Flask, exchange: Exchange, people: dict,
                                       shared: str) -> None:
    contribution = exchange.contributions.contribute(people["DEU"], UUID(shared), "comment",
                                                     "Only for readers.")
    mali = signed_in(app, "mli.analyst")
    before = events(exchange)
    assert mali.get(f"/cases/{shared}").status_code == 404
    assert mali.post(f"/cases/{shared}/contributions",
                     {"kind": "comment", "text": "Let me in"}).status_code == 404
    for path in ("edit", "hide"):
        response = mali.get(f"/contributions/{contribution}/{path}")
        assert response.status_code == 404 and "Only for readers." not in response.text
    assert mali.post(f"/contributions/{contribution}/withdraw").status_code == 404
    assert events(exchange) == before


def test_the_author_revises_and_withdraws_the_owner_hides(app: Flask, exchange: Exchange,
                                                          people: dict, shared: str) -> None:
    mine = exchange.contributions.contribute(people["DEU"], UUID(shared), "comment", "Draft.")
    germany, france = signed_in(app, "deu.analyst"), signed_in(app, "fra.analyst")
    assert france.get(f"/contributions/{mine}/edit").status_code == 200  # reads the form…
    assert france.post(f"/contributions/{mine}/edit", {"text": "FRA's words"}).status_code \
        == 403  # …but only the author's state revises
    assert germany.post(f"/contributions/{mine}/edit", {"text": "Final words."}).status_code \
        == 302
    refused = france.post(f"/contributions/{mine}/hide", {"reason": " "})
    assert refused.status_code == 422 and error_next_to(refused, "reason")
    assert france.post(f"/contributions/{mine}/hide",
                       {"reason": "Belongs to another case."}).status_code == 302
    page = germany.get(f"/cases/{shared}").text
    assert "Belongs to another case." in page and "Final words." not in page
    other = exchange.contributions.contribute(people["DEU"], UUID(shared), "comment", "Oops.")
    assert germany.post(f"/contributions/{other}/withdraw").status_code == 302
    assert re.search(r"Withdrawn by DEU", france.get(f"/cases/{shared}").text)


def test_the_api_offers_the_same_to_the_same_states(app: Flask, exchange: Exchange,
                                                    people: dict, shared: str) -> None:
    germany = Api(app.test_client(), token_for(exchange, people["DEU"]))
    added = germany.call("POST", f"/cases/{shared}/contributions",
                         json={"kind": "answer", "text": "Shipped to Dakar in 2019."})
    assert added.status_code == 201 and added.json["state"] == "DEU"
    bad = germany.call("POST", f"/cases/{shared}/contributions", json={"kind": "x", "text": "y"})
    assert (bad.status_code, bad.json["field"]) == (422, "kind")
    france = Api(app.test_client(), token_for(exchange, people["FRA"]))
    thread = france.call("GET", f"/cases/{shared}/contributions").json["items"]
    assert [c["text"] for c in thread] == ["Shipped to Dakar in 2019."]
    hidden = france.call("POST", f"/contributions/{added.json['id']}/hide",
                         json={"reason": "Duplicate."})
    assert hidden.status_code == 200 and hidden.json["hidden"] and hidden.json["text"] == ""
    mali = Api(app.test_client(), token_for(exchange, people["MLI"]))
    assert mali.call("GET", f"/cases/{shared}/contributions").status_code == 404
    assert mali.call("PUT", f"/contributions/{added.json['id']}",
                     json={"text": "x"}).status_code == 404


def test_an_auditor_sees_the_thread_as_it_was(app: Flask, exchange: Exchange, people: dict,
                                              shared: str) -> None:
    exchange.directory.add_user(people["FRA.admin"], "fra.auditor", "correct horse battery "
                                "staple 42", [AUDITOR])
    first = exchange.contributions.contribute(people["DEU"], UUID(shared), "comment",
                                              "Written first.")
    between = datetime.now(UTC).replace(tzinfo=None).isoformat()  # read as UTC
    exchange.contributions.revise(people["DEU"], first, "Rewritten later.")
    auditor = Browser(app.test_client())
    assert auditor.login("fra.auditor", "correct horse battery staple 42").status_code == 302
    then = auditor.get(f"/audit/cases/{shared}?at={between}")
    assert then.status_code == 200 and "Written first." in then.text
    assert "Rewritten later." not in then.text
    now = auditor.get(f"/audit/cases/{shared}").text
    assert "Rewritten later." in now


def test_a_photo_is_attached_shown_to_readers_and_kept_from_others(
        app: Flask, exchange: Exchange, shared: str) -> None:
    germany = signed_in(app, "deu.analyst")
    refused = germany.post(f"/cases/{shared}/contributions", {
        "kind": "comment", "text": "Kept when refused.",
        "attachment": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100), "report.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 422 and error_next_to(refused, "attachment")
    assert "Kept when refused.</textarea>" in refused.text
    added = germany.post(f"/cases/{shared}/contributions", {
        "kind": "information", "text": "Markings of item 1.",
        "attachment": (io.BytesIO(jpeg_with_gps()), "IMG_0042.jpg")},
        content_type="multipart/form-data")
    assert added.status_code == 302
    page = signed_in(app, "fra.analyst").get(f"/cases/{shared}").text
    link = re.search(r'<img src="(/contributions/[^"]+/attachment)"', page)
    assert link and "IMG_0042.jpg" in page
    photo = signed_in(app, "fra.analyst").get(link.group(1))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert photo.headers["Content-Disposition"].startswith("inline")
    assert b"CAMERA-SERIAL" not in photo.data
    assert signed_in(app, "mli.analyst").get(link.group(1)).status_code == 404


def test_the_api_takes_a_file_as_multipart_and_gives_it_to_readers_only(
        app: Flask, exchange: Exchange, people: dict, shared: str) -> None:
    germany = Api(app.test_client(), token_for(exchange, people["DEU"]))
    forged = germany.call("POST", f"/cases/{shared}/contributions", data={
        "kind": "comment", "text": "A renamed program.",
        "attachment": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100), "report.pdf")},
        content_type="multipart/form-data")
    assert forged.status_code == 422 and forged.json["field"] == "attachment"
    added = germany.call("POST", f"/cases/{shared}/contributions", data={
        "kind": "information", "text": "Markings of item 1.",
        "attachment": (io.BytesIO(jpeg_with_gps()), "IMG_0042.jpg")},
        content_type="multipart/form-data")
    assert added.status_code == 201, added.json
    assert (added.json["attachment_name"], added.json["attachment_type"]) == \
        ("IMG_0042.jpg", "image/jpeg")
    path = f"/contributions/{added.json['id']}/attachment"
    france = Api(app.test_client(), token_for(exchange, people["FRA"]))
    photo = france.call("GET", path)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.data[:2] == b"\xff\xd8" and b"CAMERA-SERIAL" not in photo.data
    assert photo.headers["Content-Disposition"].startswith("attachment")
    mali = Api(app.test_client(), token_for(exchange, people["MLI"]))
    assert mali.call("GET", path).status_code == 404
    assert mali.call("POST", f"/cases/{shared}/contributions", data={
        "kind": "comment", "text": "x", "attachment": (io.BytesIO(jpeg_with_gps()), "a.jpg")},
        content_type="multipart/form-data").status_code == 404


def test_a_file_over_the_limit_is_refused_before_it_is_stored(
        app: Flask, exchange: Exchange, people: dict, shared: str) -> None:
    app.config["ATTACHMENT_MAX_MIB"] = 1
    exchange.contributions.files.file_limit = 1 << 20
    germany = Api(app.test_client(), token_for(exchange, people["DEU"]))
    before = events(exchange)
    big = germany.call("POST", f"/cases/{shared}/contributions", data={
        "kind": "comment", "text": "Too big.",
        "attachment": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (2 << 20)), "scan.pdf")},
        content_type="multipart/form-data")
    assert big.status_code == 422 and big.json["field"] == "attachment"
    assert events(exchange) == before
    with exchange.ledger.recorder.datastore.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM divex_blobs").scalar() == 0
