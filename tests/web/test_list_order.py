"""Lists sort by column both ways and page, keeping filters; odd query values never fail a
page; another state's rows appear on no page and in no order."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import ITEM, SUMMARY, Browser

ODD = ["size=abc", "size=-1", "size=7", "size=" + "9" * 40, "sort=title", "sort=", "dir=up",
       "page=abc", "page=-3", "page=" + "9" * 30, "sort=status&dir=DESC", "page_in=x",
       "page_out=0", "sort[]=1"]


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 302
    return browser


def bearer(app: Flask, username: str) -> dict[str, str]:
    exchange = app.extensions["divex"]
    viewer = exchange.directory.authenticate(username, PASSWORD)
    return {"Authorization": "Bearer " + exchange.api_tokens.issue(
        viewer, PASSWORD, "lists", [], 30)[0]}


def order_of(page: str, names: list[str]) -> list[str]:
    """The names in the order the page shows them."""
    return sorted((n for n in names if n in page), key=page.index)


def links(page: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


@pytest.fixture
def cases(exchange: Exchange, people: dict[str, Viewer]) -> list[str]:
    """FRA's cases "Alpha" (suspected), "Bravo" (under investigation), "Charlie" (unfounded),
    opened in that order; DEU's national "Delta secret" that FRA never reads."""
    fra = people["FRA"]
    alpha = exchange.cases.open_case(fra, dict(SUMMARY, title="Alpha"))
    bravo = exchange.cases.open_case(fra, dict(SUMMARY, title="Bravo"))
    exchange.cases.change_status(fra, bravo, 1, "under_investigation")
    charlie = exchange.cases.open_case(fra, dict(SUMMARY, title="Charlie"))
    exchange.cases.change_status(fra, charlie, 1, "unfounded")
    exchange.cases.open_case(people["DEU"], dict(SUMMARY, title="Delta secret"))
    exchange.cases.change_status(fra, alpha, 1, "under_investigation")  # latest change
    return ["Alpha", "Bravo", "Charlie"]


def test_the_case_list_sorts_by_each_column_both_ways(analyst: Browser,
                                                      cases: list[str]) -> None:
    assert order_of(analyst.get("/cases/").text, cases) == ["Alpha", "Charlie", "Bravo"]
    opened = analyst.get("/cases/?sort=opened&dir=asc").text
    assert order_of(opened, cases) == ["Alpha", "Bravo", "Charlie"]
    assert 'aria-sort="ascending"' in opened and opened.count("aria-sort") == 1
    newest = analyst.get("/cases/?sort=opened&dir=desc").text
    assert order_of(newest, cases) == ["Charlie", "Bravo", "Alpha"]
    assert 'aria-sort="descending"' in newest
    # By code, under_investigation before unfounded; ties by last change, the same way.
    assert order_of(analyst.get("/cases/?sort=status&dir=asc").text, cases) == [
        "Bravo", "Alpha", "Charlie"]
    assert order_of(analyst.get("/cases/?sort=status&dir=desc").text, cases) == [
        "Charlie", "Alpha", "Bravo"]
    header = analyst.get("/cases/?sort=status&dir=asc&status=unfounded").text
    flip = next(h for h in links(header) if "sort=status" in h)
    assert "dir=desc" in flip and "status=unfounded" in flip


def test_case_pages_keep_the_filters_sort_and_size(analyst: Browser, exchange: Exchange,
                                                   people: dict, cases: list[str]) -> None:
    analyst.client.application.config["PAGE_SIZE"] = 2
    query = "/cases/?owner=FRA&sort=opened&dir=asc"
    first = analyst.get(query).text
    assert order_of(first, cases) == ["Alpha", "Bravo"] and "Page 1 of 2" in first
    following = next(h for h in links(first) if "page=2" in h)
    assert "owner=FRA" in following and "sort=opened" in following and "dir=asc" in following
    assert order_of(analyst.get(following).text, cases) == ["Charlie"]
    for n in range(24):
        exchange.cases.open_case(people["FRA"], dict(SUMMARY, title=f"Filler {n}"))
    sized = analyst.get("/cases/?owner=FRA&size=25").text
    assert "Page 1 of 2" in sized and sized.count("Filler") == 24  # the newest 25 of 27
    bigger = next(h for h in links(sized) if "size=50" in h)
    assert "owner=FRA" in bigger and "page=" not in bigger
    assert "Page" not in analyst.get(bigger).text.split("</table>")[1]


@pytest.mark.parametrize("odd", ODD)
def test_odd_list_arguments_fall_back_and_never_fail(app: Flask, analyst: Browser,
                                                     cases: list[str], odd: str) -> None:
    for path in ("/cases/", "/traces/", "/meetings/"):
        response = analyst.get(f"{path}?{odd}&status=suspected")
        assert response.status_code == 200, (path, odd)


def test_another_states_case_is_on_no_page_in_no_order(analyst: Browser, app: Flask,
                                                       cases: list[str]) -> None:
    analyst.client.application.config["PAGE_SIZE"] = 1
    headers = bearer(app, "fra.analyst")
    for sort in ("updated", "opened", "status", "owner", "tier"):
        for direction in ("asc", "desc"):
            for page in (1, 2, 3, 4):
                text = analyst.get(f"/cases/?sort={sort}&dir={direction}&page={page}").text
                assert "Delta secret" not in text
            api = analyst.client.get(f"/api/v1/cases?sort={sort}&dir={direction}&per_page=100",
                                     headers=headers).json["items"]
            assert sorted(r["title"] for r in api) == cases


def test_the_api_sorts_cases_and_refuses_unknown_keys(app: Flask, cases: list[str]) -> None:
    client, headers = app.test_client(), bearer(app, "fra.analyst")

    def titles(query: str) -> list[Any]:
        return [r["title"] for r in client.get(f"/api/v1/cases?{query}",
                                               headers=headers).json["items"]]

    assert titles("sort=opened") == ["Charlie", "Bravo", "Alpha"]  # newest first by default
    assert titles("sort=opened&dir=asc") == ["Alpha", "Bravo", "Charlie"]
    assert titles("sort=opened&dir=asc&page=2&per_page=2") == ["Charlie"]
    for query, field in (("sort=title", "sort"), ("dir=up", "dir"), ("per_page=0", "per_page"),
                         ("page=abc", "page"), ("sort=", "sort")):
        refused = client.get(f"/api/v1/cases?{query}", headers=headers)
        assert refused.status_code == 422, query
        assert refused.json["field"] == field and refused.json["error"] == "invalid_input"
    assert "'opened'" in client.get("/api/v1/cases?sort=title", headers=headers).json["message"]


@pytest.fixture
def traced(exchange: Exchange, people: dict[str, Viewer]) -> None:
    """FRA asks DEU (deadline in 10 days) then MLI (in 5 days) about its items; DEU asks
    MLI about its own, which FRA is no party to."""
    cases, fra = exchange.cases, people["FRA"]
    case_id = cases.open_case(fra, SUMMARY)
    sn = cases.add_part(fra, case_id, 1, "item", ITEM)
    px = cases.add_part(fra, case_id, 2, "item", dict(ITEM, serial="PX-777"))
    exchange.traces.send(fra, case_id, "DEU", [sn], "Where?", deadline_days=10)
    exchange.traces.send(fra, case_id, "MLI", [px], "Where?", deadline_days=5)
    deu = people["DEU"]
    theirs = cases.open_case(deu, SUMMARY)
    zz = cases.add_part(deu, theirs, 1, "item", dict(ITEM, serial="ZZ-999"))
    exchange.traces.send(deu, theirs, "MLI", [zz], "Where?", deadline_days=3)


def test_the_trace_board_sorts_and_pages_each_list(app: Flask, traced: None) -> None:
    fra, serials = signed_in(app, "fra.analyst"), ["SN-123", "PX-777", "ZZ-999"]
    assert order_of(fra.get("/traces/").text, serials) == ["PX-777", "SN-123"]
    assert order_of(fra.get("/traces/?sort=deadline&dir=desc").text, serials) == [
        "SN-123", "PX-777"]
    by_state = fra.get("/traces/?sort=state&dir=asc").text
    assert order_of(by_state, serials) == ["SN-123", "PX-777"]  # DEU before MLI
    assert 'aria-sort="ascending"' in by_state
    assert order_of(fra.get("/traces/?sort=state&dir=desc").text, serials) == [
        "PX-777", "SN-123"]
    app.config["PAGE_SIZE"] = 1
    first = fra.get("/traces/?sort=state&dir=desc").text
    assert order_of(first, serials) == ["PX-777"]
    following = next(h for h in links(first) if "page_out=2" in h)
    assert "sort=state" in following and "dir=desc" in following
    assert order_of(fra.get(following).text, serials) == ["SN-123"]
    for sort in ("deadline", "sent", "status", "state"):
        for direction in ("asc", "desc"):
            for page in (1, 2, 3):
                text = fra.get(f"/traces/?sort={sort}&dir={direction}&page_out={page}"
                               f"&page_in={page}").text
                assert "ZZ-999" not in text


def test_the_api_board_sorts_pages_and_refuses_unknown_keys(app: Flask, traced: None) -> None:
    client, headers = app.test_client(), bearer(app, "mli.analyst")

    def requesters(query: str) -> list[str]:
        return [r["requester"] for r in client.get(f"/api/v1/traces?{query}",
                                                   headers=headers).json["items"]]

    assert requesters("sort=state&dir=asc") == ["DEU", "FRA"]
    assert requesters("sort=state&dir=desc") == ["FRA", "DEU"]
    assert requesters("sort=state&per_page=1&page=2") == ["FRA"]
    refused = client.get("/api/v1/traces?sort=title", headers=headers)
    assert refused.status_code == 422 and refused.json["field"] == "sort"
    assert client.get("/api/v1/traces?dir=sideways", headers=headers).status_code == 422
    fra = bearer(app, "fra.analyst")
    items = client.get("/api/v1/traces?sort=state&per_page=100", headers=fra).json["items"]
    assert {r["requested"] for r in items} == {"DEU", "MLI"} and len(items) == 2


def test_the_meetings_list_sorts_and_pages(app: Flask, exchange: Exchange,
                                          people: dict[str, Viewer]) -> None:
    sec = people["secretariat"]
    exchange.meetings.convene(sec, "bravo talks", "2026-03-01", "", ["FRA", "DEU"])
    later = exchange.meetings.convene(sec, "Alpha forum", "2026-05-01", "", ["FRA", "DEU"])
    exchange.meetings.change_status(sec, later, "open")
    exchange.meetings.convene(sec, "Closed door", "2026-04-01", "", ["DEU", "MLI"])
    names = ["bravo talks", "Alpha forum", "Closed door"]
    fra = signed_in(app, "fra.analyst")
    assert order_of(fra.get("/meetings/").text, names) == ["Alpha forum", "bravo talks"]
    assert order_of(fra.get("/meetings/?sort=date&dir=asc").text, names) == [
        "bravo talks", "Alpha forum"]
    assert order_of(fra.get("/meetings/?sort=title&dir=asc").text, names) == [
        "Alpha forum", "bravo talks"]
    assert order_of(fra.get("/meetings/?sort=status&dir=desc").text, names) == [
        "Alpha forum", "bravo talks"]  # open after planned
    app.config["PAGE_SIZE"] = 1
    first = fra.get("/meetings/?sort=title&dir=desc").text
    assert order_of(first, names) == ["bravo talks"]
    following = next(h for h in links(first) if "page=2" in h)
    assert "sort=title" in following
    assert order_of(fra.get(following).text, names) == ["Alpha forum"]
    assert "Closed door" not in fra.get("/meetings/?page=3").text
    client, headers = app.test_client(), bearer(app, "fra.analyst")
    api = client.get("/api/v1/meetings?sort=title&dir=asc", headers=headers).json
    assert [m["title"] for m in api["items"]] == ["Alpha forum", "bravo talks"]
    assert client.get("/api/v1/meetings?sort=place", headers=headers).status_code == 422
