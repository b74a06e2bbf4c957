"""Audit operations of the API: auditors only, as on the audit pages; clear headers for every
record, content only where the auditor's own state may read it."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from infra.wiring import Exchange
from tests.conftest import register_states
from tests.web.api_helpers import Api
from tests.web.conftest import ITEM, SUMMARY, events


@pytest.fixture
def logged(exchange: Exchange):
    viewers = register_states(exchange.directory, ("FRA", "DEU", "MLI"),
                              ("analyst", "auditor"))
    case_id = exchange.cases.open_case(viewers["FRA"], SUMMARY)
    exchange.cases.add_part(viewers["FRA"], case_id, 1, "item", ITEM)
    exchange.follow()
    exchange.checkpointer.record()
    return viewers, str(case_id)


@pytest.fixture
def api(app: Flask, exchange: Exchange, logged):
    return lambda who: Api(app, exchange, logged[0][who])


def test_only_auditors_use_the_audit_operations(api, logged) -> None:
    analyst = api("FRA.analyst")
    case_id = logged[1]
    for path, query in (("/audit/events", {}), ("/audit/events/1", {}),
                        ("/audit/checkpoints", {}), (f"/audit/cases/{case_id}", {}),
                        ("/audit/access", {"state": "FRA"})):
        assert analyst.get(path, expect=403, **query)["error"] == "forbidden"
        assert SUMMARY["title"] not in analyst.last_text and case_id not in analyst.last_text
    for path in ("/audit/checkpoints", "/audit/cosignatures", "/audit/verification"):
        analyst.post(path, expect=403)


def test_auditor_of_another_state_browses_headers_and_proofs_without_content(
        api, logged) -> None:
    deu = api("DEU.auditor")
    case_id = logged[1]
    page = deu.get("/audit/events", aggregate_id=case_id, per_page=1)
    assert page["total"] == 2 and [r["version"] for r in page["items"]] == [2]
    assert deu.get("/audit/events", actor_state="FRA", user="fra.analyst")["total"] == 2
    event = deu.get(f"/audit/events/{page['items'][0]['notification_id']}")
    assert event["signature_ok"] and event["chain_ok"] and event["previous"] is not None
    assert event["inclusion"]["holds"] and event["inclusion"]["proof"]
    assert SUMMARY["title"] not in deu.last_text and ITEM["serial"] not in deu.last_text
    deu.get("/audit/events/999999", expect=404)
    assert deu.get("/audit/events", since="yesterday", expect=422)["field"] == "since"
    assert deu.get("/audit/events", user="nobody", expect=422)["field"] == "user"
    assert deu.get("/audit/events", per_page=500, expect=422)["field"] == "per_page"


def test_checkpoints_are_listed_signed_and_cosigned(api, exchange: Exchange) -> None:
    auditor = api("MLI.auditor")
    listed = auditor.get("/audit/checkpoints")
    assert listed["total"] == 1
    made = auditor.post("/audit/checkpoints", expect=201)
    assert made["size"] >= listed["items"][0]["size"]
    cosigned = auditor.post("/audit/cosignatures")
    assert cosigned["cosigned"] and cosigned["checkpoint"]["witnessed"][0]["state"] == "MLI"
    assert not auditor.post("/audit/cosignatures")["cosigned"]
    assert auditor.post("/audit/verification")["ok"]


def test_a_case_as_it_was_and_who_could_read_it(api, logged) -> None:
    case_id = logged[1]
    deu, fra = api("DEU.auditor"), api("FRA.auditor")
    then = deu.get(f"/audit/cases/{case_id}")
    assert then["readers"] == ["FRA"] and then["case"] is None and then["version"] == 2
    assert [e["content"] for e in then["history"]] == [None, None]
    assert SUMMARY["title"] not in deu.last_text
    assert fra.get(f"/audit/cases/{case_id}")["case"]["summary"]["title"] == SUMMARY["title"]
    deu.get(f"/audit/cases/{case_id}", at="2000-01-01", expect=404)
    assert deu.get(f"/audit/cases/{case_id}", at="noon", expect=422)["field"] == "at"
    access = deu.get("/audit/access", state="fra")
    assert access["state"] == "FRA" and case_id in [r["case_id"] for r in access["items"]]
    assert deu.get("/audit/access", state="DEU")["total"] == 0
    assert deu.get("/audit/access", expect=422)["field"] == "state"


def test_a_refused_audit_change_stores_nothing(api, exchange: Exchange) -> None:
    analyst = api("FRA.analyst")
    before = events(exchange)
    analyst.post("/audit/checkpoints", expect=403)
    analyst.post("/audit/cosignatures", expect=403)
    assert events(exchange) == before


def test_an_auditor_of_another_state_sees_no_status_kind_or_user_of_a_national_case(
        api, exchange: Exchange, logged) -> None:
    viewers, case_id = logged
    exchange.cases.change_status(viewers["FRA.analyst"], case_id, 2, "unfounded", "Checked.")
    deu, fra = api("DEU.auditor"), api("FRA.auditor")
    rows = deu.get("/audit/events", aggregate_id=case_id)["items"]
    assert {r["actor_user"] for r in rows} == {""}
    for row in rows:
        header = deu.get(f"/audit/events/{row['notification_id']}")["header"]
        assert header["type"] and header["actor_state"] == "FRA"  # what verification needs
        assert "unfounded" not in deu.last_text and "item" not in json.dumps(
            {k: v for k, v in header.items() if k != "type"})
        assert viewers["FRA.analyst"].user_id not in deu.last_text
    history = deu.get(f"/audit/cases/{case_id}")
    assert "unfounded" not in deu.last_text and "fra.analyst" not in deu.last_text, history
    # The owner's auditors see it all.
    owner_rows = fra.get("/audit/events", aggregate_id=case_id)["items"]
    assert {r["actor_user"] for r in owner_rows} == {viewers["FRA.analyst"].user_id}
    last = fra.get(f"/audit/events/{owner_rows[0]['notification_id']}")["header"]
    assert last["status"] == "unfounded"
