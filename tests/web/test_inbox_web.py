"""The inbox page and API: items with their titles for readers only, the unread count in the
navigation, marking read, the kind filter, and refusals that write nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from projections.inbox_view import inbox_read
from tests.conftest import PASSWORD
from tests.web.conftest import ITEM, SUMMARY, Browser

UNREAD = re.compile(r'<span class="count-badge"[^>]*>(\d+)</span>')


@pytest.fixture
def shared(exchange: Exchange, people: dict[str, Viewer]) -> str:
    """A FRA case shared with DEU, with a trace request to DEU."""
    cases, fra = exchange.cases, people["FRA"]
    case_id = cases.open_case(fra, SUMMARY)
    item = cases.add_part(fra, case_id, 1, "item", ITEM)
    cases.share(fra, case_id, 2, "bilateral", ["DEU"])
    exchange.traces.send(fra, case_id, "DEU", [item], "Where did these rifles go?")
    return str(case_id)


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def unread(page: str) -> int:
    found = UNREAD.search(page)
    return int(found.group(1)) if found else 0


def markers(exchange: Exchange) -> int:
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        return db.execute(select(func.count()).select_from(inbox_read)).scalar()


def test_the_recipient_sees_its_items_with_titles_and_an_unread_count(
        app: Flask, shared: str) -> None:
    deu = signed_in(app, "deu.analyst")
    page = deu.get("/inbox/").text
    assert "A case was shared with your state." in page
    assert "Your state received a trace request." in page
    assert SUMMARY["title"] in page
    assert "Your action: Acknowledge and answer" in page
    assert f'href="/cases/{shared}"' in page
    assert unread(page) == 2
    assert unread(deu.get("/cases/").text) == 2


def test_a_state_that_cannot_read_the_case_sees_nothing_of_it(app: Flask, shared: str) -> None:
    for username in ("mli.analyst", "mli.reviewer", "mli.admin", "secretariat"):
        page = signed_in(app, username).get("/inbox/").text
        assert SUMMARY["title"] not in page and shared not in page
        assert "received a trace request.</a>" not in page


def test_after_unsharing_the_case_leaves_the_inbox(app: Flask, exchange: Exchange,
                                                   people: dict[str, Viewer],
                                                   shared: str) -> None:
    exchange.cases.unshare(people["FRA"], shared, 3, ["DEU"])
    page = signed_in(app, "deu.reviewer").get("/inbox/").text
    assert SUMMARY["title"] not in page
    assert "A case was shared with your state.</a>" not in page


def test_marking_one_item_and_then_all_read(app: Flask, exchange: Exchange,
                                            shared: str) -> None:
    deu = signed_in(app, "deu.analyst")
    page = deu.get("/inbox/").text
    first = re.search(r'name="item_id" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = deu.post("/inbox/read", {"item_id": first, "next": "/inbox/?kind="})
    assert response.status_code == 302 and response.location == "/inbox/?kind="
    assert unread(deu.get("/inbox/").text) == 1
    assert deu.post("/inbox/read-all").status_code == 302
    page = deu.get("/inbox/").text
    assert unread(page) == 0 and "Mark read</button>" not in page
    # Another user of the same state still has both unread.
    assert unread(signed_in(app, "deu.reviewer").get("/inbox/").text) == 2


def test_marking_an_item_of_another_state_is_not_found_and_writes_nothing(
        app: Flask, exchange: Exchange, shared: str) -> None:
    deu = signed_in(app, "deu.analyst")
    item = re.search(r'name="item_id" value="([^"]+)"',  # type: ignore[union-attr]
                     deu.get("/inbox/").text).group(1)
    mli = signed_in(app, "mli.analyst")
    for body in ({"item_id": item}, {"item_id": "x" * 500}):
        response = mli.post("/inbox/read", body)
        assert response.status_code == 404
        assert "No such item in your inbox" in response.text
    assert markers(exchange) == 0


def test_the_kind_filter_shows_one_kind_and_refuses_an_unknown_one(
        app: Flask, shared: str) -> None:
    deu = signed_in(app, "deu.analyst")
    page = deu.get("/inbox/?kind=trace_received").text
    assert "Your state received a trace request." in page
    assert "A case was shared with your state.</a>" not in page
    refused = deu.get("/inbox/?kind=no_such_kind")
    assert refused.status_code == 422 and "Unknown kind of item" in refused.text


def test_the_inbox_speaks_french(app: Flask, shared: str) -> None:
    deu = signed_in(app, "deu.analyst")
    deu.post("/language", {"lang": "fr"})
    page = deu.get("/inbox/").text
    assert "Boîte de réception" in page
    assert "Un dossier a été partagé avec votre État." in page


# The API


def token(exchange: Exchange, username: str) -> dict[str, str]:
    viewer = exchange.directory.authenticate(username, PASSWORD)
    return {"Authorization": "Bearer " + exchange.api_tokens.issue(viewer, PASSWORD, "inbox",
                                                                   [], 30)[0]}


def test_the_api_lists_and_marks_the_inbox(app: Flask, exchange: Exchange,
                                           shared: str) -> None:
    client, headers = app.test_client(), token(exchange, "deu.analyst")
    listed = client.get("/api/v1/inbox", headers=headers).json
    assert listed["total"] == 2 and listed["unread"] == 2
    by_kind = {i["kind"]: i for i in listed["items"]}
    assert by_kind["case_shared"]["title"] == SUMMARY["title"]
    assert by_kind["trace_received"]["action"] == "Acknowledge and answer"
    assert by_kind["trace_received"]["state"] == "FRA"
    one = client.get("/api/v1/inbox?kind=trace_received", headers=headers).json
    assert [i["kind"] for i in one["items"]] == ["trace_received"]
    marked = client.post("/api/v1/inbox/read", headers=headers,
                         json={"item_ids": [by_kind["case_shared"]["id"]]}).json
    assert marked == {"marked": 1, "unread": 1}
    assert client.post("/api/v1/inbox/read-all", headers=headers).json == \
        {"marked": 1, "unread": 0}


@pytest.mark.parametrize("body, status", [
    ({"item_ids": []}, 422), ({"item_ids": ["nope"]}, 422), ({"items": []}, 422),
    ({"item_ids": ["00000000-0000-0000-0000-000000000000"]}, 404)])
def test_the_api_refuses_bad_marks_and_writes_nothing(app: Flask, exchange: Exchange,
                                                      shared: str, body: Any,
                                                      status: int) -> None:
    response = app.test_client().post("/api/v1/inbox/read", json=body,
                                      headers=token(exchange, "deu.analyst"))
    assert response.status_code == status and response.json["message"]
    assert markers(exchange) == 0


def test_the_api_shows_another_state_nothing_of_the_case(app: Flask, exchange: Exchange,
                                                         shared: str) -> None:
    client = app.test_client()
    for username in ("mli.analyst", "mli.reviewer"):
        text = client.get("/api/v1/inbox", headers=token(exchange, username)).get_data(True)
        assert SUMMARY["title"] not in text and shared not in text
    refused = client.get("/api/v1/inbox?kind=nope", headers=token(exchange, "mli.analyst"))
    assert refused.status_code == 422


def test_past_ninety_nine_unread_items_the_navigation_says_99_plus(
        app: Flask, exchange: Exchange, people: dict[str, Viewer], shared: str) -> None:
    for _ in range(99):  # with `shared`'s two items: 101
        case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
        exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU"])
    page = signed_in(app, "deu.analyst").get("/cases/").text
    assert '<span class="count-badge" title="More than 99 unread items">99+</span>' in page
