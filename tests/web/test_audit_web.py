"""Audit pages: only auditors; log browser filters; event detail; verify; time travel."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from sqlalchemy import text

from infra.wiring import Exchange
from tests.conftest import register_states
from tests.web.conftest import ITEM, SUMMARY, Browser


@pytest.fixture
def logged(exchange: Exchange):
    viewers = register_states(exchange.directory, ("FRA", "DEU", "MLI"),
                              ("analyst", "auditor"))
    case_id = exchange.cases.open_case(viewers["FRA"], SUMMARY)
    exchange.cases.add_part(viewers["FRA"], case_id, 1, "item", ITEM)
    exchange.follow()
    exchange.checkpointer.record()
    return viewers, case_id


def signed_in(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).status_code == 302
    return browser


def test_analyst_may_not_open_the_audit_pages(app: Flask, logged) -> None:
    analyst = signed_in(app, "fra.analyst")
    assert analyst.get("/audit/").status_code == 403
    assert analyst.post("/audit/verify").status_code == 403
    assert Browser(app.test_client()).get("/audit/").status_code == 302  # to the login page


def test_log_browser_filters_by_state_and_kind(app: Flask, logged) -> None:
    auditor = signed_in(app, "deu.auditor")
    everything = auditor.get("/audit/")
    assert everything.status_code == 200 and "Case.Opened" in everything.text
    only_fra = auditor.get("/audit/?actor_state=FRA&aggregate_kind=Case")
    rows = re.findall(r"<code class=\"hint\">(\w+\.\w+)</code>", only_fra.text)
    assert rows and set(rows) <= {"Case.Opened", "Case.PartAdded"}
    assert "2 events" in only_fra.text
    far = auditor.get("/audit/?page=" + "9" * 30)  # an offset beyond a 64-bit integer
    assert far.status_code == 200 and "Case.Opened" not in far.text


def test_a_bad_date_filter_is_explained(app: Flask, logged) -> None:
    auditor = signed_in(app, "deu.auditor")
    response = auditor.get("/audit/?since=last+week")
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.text


def test_auditor_of_another_state_sees_headers_but_no_content(app: Flask, logged) -> None:
    _, case_id = logged
    auditor = signed_in(app, "deu.auditor")
    row = auditor.get(f"/audit/?aggregate_id={case_id}")
    first = min(int(n) for n in re.findall(r'/audit/events/(\d+)"', row.text))
    detail = auditor.get(f"/audit/events/{first}")
    assert detail.status_code == 200
    assert "valid" in detail.text and "included" in detail.text
    assert SUMMARY["title"] not in detail.text
    travel = auditor.get(f"/audit/cases/{case_id}")
    assert travel.status_code == 200
    assert "clear header history" in travel.text and SUMMARY["title"] not in travel.text
    owner = signed_in(app, "fra.auditor").get(f"/audit/cases/{case_id}")
    assert SUMMARY["title"] in owner.text


def test_a_tampered_event_shows_as_invalid_and_verify_names_it(
        app: Flask, exchange: Exchange, logged) -> None:
    with exchange.ledger.recorder.datastore.engine.begin() as db:
        victim, state = next((i, bytes(s)) for i, s in db.execute(
            text("SELECT id, state FROM divex_events")) if b'"kind"' in bytes(s))
        event = json.loads(state)
        event["kind"] = "note"
        db.execute(text("UPDATE divex_events SET state = :s WHERE id = :i"),
                   {"s": json.dumps(event).encode(), "i": victim})
    auditor = signed_in(app, "mli.auditor")
    assert "INVALID" in auditor.get(f"/audit/events/{victim}").text
    verified = auditor.post("/audit/verify")
    assert verified.status_code == 200
    assert f"FAILED at event {victim}" in verified.text


def test_verify_checkpoint_and_cosign_from_the_page(app: Flask, exchange: Exchange,
                                                    logged) -> None:
    auditor = signed_in(app, "fra.auditor")  # signing in cosigned the newest checkpoint
    assert {s.state for s in exchange.checkpoints.latest().cosignatures} == {"FRA"}
    assert "every event and checkpoint verifies" in auditor.post("/audit/verify").text.lower()
    viewers, case_id = logged
    exchange.cases.add_part(viewers["FRA"], case_id, 2, "note", {"text": "more"})
    assert auditor.post("/audit/checkpoint").status_code == 302
    assert auditor.post("/audit/cosign").status_code == 302
    latest = exchange.checkpoints.latest()
    assert latest.size == exchange.audit_index.view.count()
    assert [s.state for s in latest.cosignatures] == ["FRA"]


def test_audit_forms_need_the_csrf_token(app: Flask, exchange: Exchange, logged) -> None:
    auditor = signed_in(app, "fra.auditor")
    before = len(exchange.checkpoints.all())
    exchange.cases.add_part(logged[0]["FRA"], logged[1], 2, "note", {"text": "more"})
    assert auditor.post("/audit/checkpoint", csrf=False).status_code == 400
    assert len(exchange.checkpoints.all()) == before


def test_access_ledger_page_lists_what_a_state_could_read(app: Flask, exchange: Exchange,
                                                          logged) -> None:
    viewers, case_id = logged
    exchange.cases.share(viewers["FRA"], case_id, 2, "bilateral", ["DEU"])
    auditor = signed_in(app, "mli.auditor")
    page = auditor.get("/audit/access?state=DEU")
    assert page.status_code == 200 and str(case_id)[:8] in page.text
    assert str(case_id)[:8] not in auditor.get("/audit/access?state=MLI").text
    assert auditor.get("/audit/access?state=DEU&at=soon").status_code == 422
    travel = auditor.get(f"/audit/cases/{case_id}")
    assert "DEU, FRA" in travel.text


def test_a_shredded_case_page_says_so_and_shows_no_content(app: Flask, exchange: Exchange,
                                                           logged) -> None:
    viewers, case_id = logged
    cases = exchange.cases
    for version, status in ((2, "under_investigation"), (3, "unfounded"), (4, "closed")):
        cases.change_status(viewers["FRA"], case_id, version, status)
    exchange.directory.add_user(viewers["FRA.admin"], "fra.admin2", "correct horse battery "
                                "staple", ["state_admin"])
    second = exchange.directory.authenticate("fra.admin2", "correct horse battery staple")
    cases.set_retention(viewers["FRA.admin"], case_id, 0)
    cases.request_shred(viewers["FRA.admin"], case_id)
    cases.confirm_shred(second, case_id)
    analyst = signed_in(app, "fra.analyst")
    page = analyst.get(f"/cases/{case_id}")
    assert page.status_code == 200 and 'id="shredded"' in page.text
    assert SUMMARY["title"] not in page.text and ITEM["serial"] not in page.text
    listing = analyst.get("/cases/")
    assert SUMMARY["title"] not in listing.text
    travel = signed_in(app, "fra.auditor").get(f"/audit/cases/{case_id}")
    assert SUMMARY["title"] not in travel.text and "Crypto-shredded" in travel.text


def test_another_states_auditor_sees_no_status_or_user_of_a_case_on_the_pages(
        app: Flask, exchange: Exchange, logged) -> None:
    viewers, case_id = logged
    exchange.cases.change_status(viewers["FRA"], case_id, 2, "unfounded", "Checked.")
    exchange.follow()
    auditor = signed_in(app, "deu.auditor")
    listing = auditor.get(f"/audit/?aggregate_id={case_id}")
    for number in {int(n) for n in re.findall(r'/audit/events/(\d+)"', listing.text)}:
        page = auditor.get(f"/audit/events/{number}").text
        assert "withheld" in page and "unfounded" not in page and "fra.analyst" not in page
    travel = auditor.get(f"/audit/cases/{case_id}").text
    assert "Unfounded" not in travel and "unfounded" not in travel
    assert "fra.analyst" not in travel
    owner = signed_in(app, "fra.auditor").get(f"/audit/cases/{case_id}").text
    assert "fra.analyst" in owner
