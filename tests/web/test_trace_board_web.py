"""The trace board tells rows apart and says whose turn it is: the case's title (for states that
read the case), the items, the other state, the action awaited from the viewer's state;
sorted by deadline; linked both ways with the case page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from cases.tracing.tracing_service import Traces
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import ITEM, SUMMARY, Browser

OTHER_TITLE = "Pistols seized at an airstrip"


@pytest.fixture
def traced(exchange: Exchange, people: dict[str, Viewer]) -> dict[str, str]:
    """Two FRA cases: one shared with DEU and traced with DEU (deadline in 10 days), one
    national and traced with MLI a day later (deadline 5 days after), which does not read
    it."""
    cases, fra = exchange.cases, people["FRA"]
    shared = cases.open_case(fra, SUMMARY)
    item = cases.add_part(fra, shared, 1, "item", ITEM)
    cases.share(fra, shared, 2, "bilateral", ["DEU"])
    national = cases.open_case(fra, dict(SUMMARY, title=OTHER_TITLE))
    other_item = cases.add_part(fra, national, 1, "item", dict(ITEM, serial="PX-777"))
    to_deu = exchange.traces.send(fra, shared, "DEU", [item], "Where?", deadline_days=10)
    tomorrow = datetime.now(UTC) + timedelta(days=1)  # sent a day later: sorts first by sent
    to_mli = Traces(exchange.ledger, exchange.keystore, exchange.directory, exchange.cases,
                    clock=lambda: tomorrow).send(fra, national, "MLI", [other_item], "Where?",
                                                 deadline_days=5)
    return {"shared": str(shared), "national": str(national), "to_deu": str(to_deu),
            "to_mli": str(to_mli)}


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def test_each_row_names_the_case_items_other_state_and_the_action_awaited(
        app: Flask, traced: dict[str, str]) -> None:
    fra = signed_in(app, "fra.analyst").get("/traces/").text
    assert SUMMARY["title"] in fra and OTHER_TITLE in fra
    assert "SN-123" in fra and "PX-777" in fra
    assert "Germany" in fra and "Mali" in fra
    assert "Acknowledge and answer" not in fra  # nothing is awaited from FRA yet
    deu = signed_in(app, "deu.analyst").get("/traces/").text
    assert SUMMARY["title"] in deu and "SN-123" in deu
    assert "Acknowledge and answer" in deu
    assert f'href="/cases/{traced["shared"]}"' in deu


def test_a_requested_state_that_does_not_read_the_case_sees_items_but_no_title(
        app: Flask, traced: dict[str, str]) -> None:
    mli = signed_in(app, "mli.analyst")
    board = mli.get("/traces/").text
    assert "PX-777" in board and OTHER_TITLE not in board
    assert "(a case your state does not read)" in board
    assert f'href="/cases/{traced["national"]}"' not in board
    page = mli.get(f"/traces/{traced['to_mli']}").text
    assert OTHER_TITLE not in page and f'href="/cases/{traced["national"]}"' not in page


def test_the_action_marker_follows_the_turn(app: Flask, exchange: Exchange,
                                            people: dict[str, Viewer],
                                            traced: dict[str, str]) -> None:
    exchange.traces.request_more_info(people["DEU"], traced["to_deu"], ["serial"])
    fra = signed_in(app, "fra.analyst").get("/traces/").text
    assert "Supply the missing information" in fra
    exchange.traces.complete(people["FRA"], traced["to_deu"], note="See the item.")
    exchange.traces.answer(people["DEU"], traced["to_deu"], "untraceable", text="No record.")
    assert "Read the answer and close" in signed_in(app, "fra.reviewer").get("/traces/").text


def test_rows_sort_by_deadline_or_by_latest_sent(app: Flask, traced: dict[str, str]) -> None:
    fra = signed_in(app, "fra.analyst")
    by_deadline = fra.get("/traces/").text
    assert by_deadline.index("PX-777") < by_deadline.index("SN-123")  # 5 days before 10
    by_sent = fra.get("/traces/?sort=sent").text
    assert by_sent.index("PX-777") < by_sent.index("SN-123")  # sent later, listed first
    headers = {"Authorization": "Bearer " + token(app, "fra.analyst")}
    client = app.test_client()
    api = client.get("/api/v1/traces", headers=headers).json["items"]
    assert [r["id"] for r in api] == [traced["to_mli"], traced["to_deu"]]
    sent = client.get("/api/v1/traces?sort=sent", headers=headers).json["items"]
    assert [r["id"] for r in sent] == [traced["to_mli"], traced["to_deu"]]
    assert client.get("/api/v1/traces?sort=title", headers=headers).status_code == 422


def test_the_trace_request_links_to_its_case_and_the_case_lists_its_requests(
        app: Flask, traced: dict[str, str]) -> None:
    deu = signed_in(app, "deu.analyst")
    page = deu.get(f"/traces/{traced['to_deu']}").text
    assert f'href="/cases/{traced["shared"]}"' in page and SUMMARY["title"] in page
    case_page = deu.get(f"/cases/{traced['shared']}").text
    assert 'id="traces"' in case_page
    assert f'href="/traces/{traced["to_deu"]}"' in case_page
    assert "Acknowledge and answer" in case_page
    fra_case = signed_in(app, "fra.analyst").get(f"/cases/{traced['national']}").text
    assert f'href="/traces/{traced["to_mli"]}"' in fra_case
    assert f'href="/traces/{traced["to_deu"]}"' not in fra_case


def token(app: Flask, username: str) -> str:
    exchange = app.extensions["divex"]
    viewer = exchange.directory.authenticate(username, PASSWORD)
    return exchange.api_tokens.issue(viewer, PASSWORD, "board", [], 30)[0]


def test_the_api_board_carries_title_items_and_action(app: Flask,
                                                      traced: dict[str, str]) -> None:
    client = app.test_client()
    deu = client.get("/api/v1/traces", headers={
        "Authorization": "Bearer " + token(app, "deu.analyst")}).json["items"]
    assert [(r["case_title"], r["action"]) for r in deu] == [
        (SUMMARY["title"], "acknowledge")]
    assert deu[0]["item_list"][0]["serial"] == "SN-123"
    assert "request_token" not in deu[0]
    mli = client.get("/api/v1/traces", headers={
        "Authorization": "Bearer " + token(app, "mli.analyst")})
    assert mli.json["items"][0]["case_title"] is None
    assert OTHER_TITLE not in mli.get_data(as_text=True)
    assert re.search(r"PX-777", mli.get_data(as_text=True))
