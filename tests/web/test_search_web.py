"""Search through the case list, the API and the exports, as users of each state would."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
import stix2
from flask import Flask

from cases.casework.stix import REPORT_EXTENSION
from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from projections import case_search
from tests.web.api_helpers import Api
from tests.web.conftest import SUMMARY, Browser

ITEM = {"category": "small_arms", "quantity": "12", "make": "Norvik Arms",
        "serial": "KR-2291-7734"}
ACTOR = {"role": "broker", "name": "Saloum Trading SARL", "country": "SEN"}
BAD = {"over-long": "a" * 201, "NUL byte": "rifle\x00s", "stop characters only": "!!! ...",
       "13 words": " ".join(f"w{n}" for n in range(13)),
       "10,000 terms": " ".join(["ab"] * 10_000)}


@pytest.fixture
def cases(exchange: Exchange, people: dict[str, Viewer]) -> dict[str, str]:
    """FRA's case with the serial and the broker, shared with DEU; another FRA case with
    neither, national."""
    fra, service = people["FRA"], exchange.cases
    wanted = service.open_case(fra, dict(SUMMARY, title="Fusils saisis au port"))
    service.add_part(fra, wanted, 1, "item", ITEM)
    service.add_part(fra, wanted, 2, "actor", ACTOR)
    service.share(fra, wanted, 3, "bilateral", ["DEU"])
    other = service.open_case(fra, dict(SUMMARY, title="Pistolets perdus",
                                        point_of_diversion="stockpile_loss_or_theft"))
    service.add_part(fra, other, 1, "item", dict(ITEM, category="ammunition",
                                                 serial="ZZ-1", make="Castellane"))
    return {"wanted": str(wanted), "other": str(other)}


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def listed(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return re.findall(r'href="/cases/([0-9a-f-]{36})"', response.text)


def test_a_reader_finds_the_case_by_serial_and_actor_and_sees_what_matched(app, cases):
    deu = signed_in(app, "deu.analyst")
    page = deu.get("/cases/?q=kr+2291")
    assert listed(page) == [cases["wanted"]]
    assert "Norvik Arms · KR-2291-7734" in page.text
    page = deu.get("/cases/?q=saloum")
    assert listed(page) == [cases["wanted"]]
    assert "Saloum Trading SARL · SEN" in page.text
    assert 'id="not-indexed"' not in page.text


def test_the_new_filters_combine_with_the_old_ones(app, cases):
    fra = signed_in(app, "fra.reviewer")
    assert listed(fra.get("/cases/?category=ammunition")) == [cases["other"]]
    assert listed(fra.get("/cases/?point_of_diversion=stockpile_loss_or_theft"
                          "&category=small_arms")) == []
    assert listed(fra.get("/cases/?concerned=mli&tier=bilateral")) == [cases["wanted"]]
    assert listed(fra.get("/cases/?q=norvik&status=confirmed")) == []


def test_a_state_that_does_not_read_the_case_finds_nothing(app, cases):
    mli = signed_in(app, "mli.analyst")
    for text in ("saloum", "kr 2291", "fusils", "norvik"):
        page = mli.get("/cases/", query_string={"q": text})
        assert listed(page) == []
        assert "Saloum Trading" not in page.text


def test_the_page_says_how_many_cases_wait_to_be_indexed(app, exchange, people, cases,
                                                        monkeypatch):
    monkeypatch.setattr("infra.wiring.INDEX_BATCH", 1)
    fra = people["FRA"]
    for n in range(3):
        exchange.cases.share(fra, exchange.cases.open_case(fra, dict(SUMMARY, title=f"C{n}")),
                             1, "bilateral", ["DEU"])
    page = signed_in(app, "deu.analyst").get("/cases/")
    assert re.search(r'id="not-indexed">3 cases your state can read are not indexed', page.text)


@pytest.mark.parametrize("name", BAD)
def test_a_query_no_search_can_be_made_of_is_refused_on_the_page(app, cases, name):
    page = signed_in(app, "fra.analyst").get("/cases/", query_string={"q": BAD[name]})
    assert page.status_code == 422
    assert re.search(r'<p class="error" id="e-q">[^<]+</p>', page.text)
    # No query ran: the page shows no count and no "No case matches." under the refusal.
    assert 'class="count"' not in page.text and 'class="empty"' not in page.text


def test_unbalanced_quotes_are_only_punctuation(app, cases):
    assert listed(signed_in(app, "fra.analyst").get('/cases/?q="saloum')) == [cases["wanted"]]


def test_exports_honour_the_search_and_the_filters(app, cases):
    deu = signed_in(app, "deu.analyst")
    table = deu.get("/exports/cases.csv?q=saloum").text
    assert {row["case_id"] for row in csv.DictReader(io.StringIO(table))} == {cases["wanted"]}
    fra = signed_in(app, "fra.analyst")
    bundle = stix2.parse(fra.get("/exports/cases.stix.json?category=ammunition").text,
                         allow_custom=False)
    assert [o.extensions[REPORT_EXTENSION].case_id for o in bundle.objects
            if o.type == "report"] == \
        [cases["other"]]
    assert fra.get("/exports/cases.csv", query_string={"q": "a\x00b"}).status_code == 422


def test_saved_searches_are_kept_for_their_user_only(app, cases):
    fra = signed_in(app, "fra.analyst")
    saved = fra.post("/cases/searches/", {"name": "Saloum broker", "q": "saloum",
                                           "status": "suspected"})
    assert saved.status_code == 302
    page = fra.get("/cases/searches/").text
    link = re.search(r'<a href="(/cases/\?[^"]+)">Saloum broker</a>', page)
    assert link and listed(fra.get(link.group(1).replace("&amp;", "&"))) == [cases["wanted"]]
    assert "Saloum broker" not in signed_in(app, "fra.reviewer").get("/cases/searches/").text
    search_id = re.search(r'/cases/searches/([0-9a-f]{32})/delete', page).group(1)
    assert fra.post(f"/cases/searches/{search_id}/delete").status_code == 302
    assert "Saloum broker" not in fra.get("/cases/searches/").text
    refused = fra.post("/cases/searches/", {"name": "x" * 101, "q": "saloum"})
    assert refused.status_code == 422


def test_the_api_searches_with_the_same_filters(app, exchange, people, cases):
    api = Api(app, exchange, people["DEU"])
    page = api.get("/cases", q="KR-2291", category="small_arms")
    assert [i["id"] for i in page["items"]] == [cases["wanted"]]
    assert page["items"][0]["matches"] == [{"kind": "item", "text": "Norvik Arms · KR-2291-7734"}]
    assert page["not_indexed"] == 0
    assert api.get("/cases", q="castellane")["items"] == []
    bundle = api.get("/exports/stix", q="saloum")
    assert [o["extensions"][REPORT_EXTENSION]["case_id"] for o in bundle["objects"]
            if o["type"] == "report"] == \
        [cases["wanted"]]


@pytest.mark.parametrize("name", BAD)
def test_the_api_refuses_a_query_no_search_can_be_made_of(app, exchange, people, cases, name):
    api = Api(app, exchange, people["FRA"])
    answer = api.get("/cases", expect=422, q=BAD[name])
    assert answer["field"] == "q"


def test_saved_searches_through_the_api(app, exchange, people, cases):
    api = Api(app, exchange, people["FRA"])
    saved = api.post("/searches", {"name": "Serial", "q": "kr 2291"}, expect=201)
    assert saved["args"] == {"q": "kr 2291"}
    assert [s["name"] for s in api.get("/searches")["items"]] == ["Serial"]
    assert Api(app, exchange, people["DEU"]).get("/searches")["items"] == []
    api.delete(f"/searches/{saved['search_id']}")
    api.delete(f"/searches/{saved['search_id']}", expect=404)
    api.post("/searches", {"name": "Nothing"}, expect=422)


def test_a_search_of_common_words_pages_the_latest_changes_uncounted(app, exchange, people,
                                                                    cases, monkeypatch):
    monkeypatch.setattr(case_search, "COMMON", 0)  # both of FRA's cases hold "rifles"
    app.config["PAGE_SIZE"] = 1
    fra = signed_in(app, "fra.analyst")
    first = fra.get("/cases/?q=rifles")
    assert listed(first) == [cases["other"]]  # the latest change
    assert 'id="many"' in first.text and "Page 1</span>" in first.text
    assert "More than 1 case matches" in first.text  # a page of 1, and a next one
    assert 'rel="next" href="/cases/?q=rifles&amp;page=2"' in first.text
    last = fra.get("/cases/?q=rifles&page=2")  # nothing after it: counted again
    assert listed(last) == [cases["wanted"]]
    assert "2 cases" in last.text and "Page 2 of 2" in last.text and 'rel="next"' not in last.text
    assert fra.post("/language", {"lang": "fr", "next": "/cases/"}).status_code == 302
    assert "Plus de 1 dossier correspond" in fra.get("/cases/?q=rifles").text
    api = Api(app, exchange, people["FRA"])
    page = api.get("/cases", q="rifles", per_page=1)
    assert page["total"] is None and [i["id"] for i in page["items"]] == [cases["other"]]
