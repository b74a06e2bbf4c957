"""The summaries page: members read frozen releases; the secretariat also the live preview
and the audit report. Counts only."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask

from infra.wiring import Exchange
from projections.summaries import publish
from tests.conftest import PASSWORD, register_states
from tests.web.conftest import ITEM, SUMMARY, Browser


def consented_cases(exchange: Exchange, count: int) -> list:
    """Cases of FRA, DEU and MLI about small arms found in MLI, with full tier-1 consent."""
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI"))
    case_ids = []
    for n in range(count):
        owner = ("FRA", "DEU", "MLI")[n % 3]
        case_id = exchange.cases.open_case(people[owner], SUMMARY)
        exchange.cases.add_part(people[owner], case_id, 1, "item", ITEM)
        exchange.cases.share(people[owner], case_id, 2, "bilateral",
                             sorted({"DEU", "MLI"} - {owner}))
        for state in exchange.policy.propose(people[owner], case_id):
            exchange.policy.consent(people[state], case_id, True)
        case_ids.append(case_id)
    return case_ids


def test_members_read_the_release_and_the_secretariat_the_preview_and_its_audit(
        app: Flask, exchange: Exchange) -> None:
    case_ids = consented_cases(exchange, 6)
    member, secretariat = Browser(app.test_client()), Browser(app.test_client())
    assert member.login("mli.analyst").status_code == 302
    secretariat.login("secretariat")
    assert "No release yet" in member.get("/summaries/").text  # the live tables are not theirs
    preview = secretariat.get("/summaries/")
    assert preview.status_code == 200 and ">6<" in preview.text and 'id="audit"' in preview.text
    exchange.follow()
    year = exchange.policy_summary.included()[0]["year"]
    publish(exchange.releases, exchange.directory.authenticate("secretariat", PASSWORD),
            exchange.policy_summary.included(), exchange.thresholds, year,
            this_year=year + 1)
    page = member.get("/summaries/")
    assert page.status_code == 200 and page.text.count("<svg") == 2
    assert page.text.count("Nothing to show yet") == 1  # no trace request: no traced share
    assert ">6<" in page.text and 'id="audit"' not in page.text
    for secret in (SUMMARY["title"], ITEM["serial"].strip(), *map(str, case_ids)):
        assert secret not in page.text
    printable = member.get("/summaries/print")
    assert "at least 5 cases" in printable.text and "Generated on" in printable.text


def test_preview_csv_is_the_secretariats_and_marks_suppressed_figures(
        app: Flask, exchange: Exchange) -> None:
    consented_cases(exchange, 3)  # below k: everything that counts them is suppressed
    member, secretariat = Browser(app.test_client()), Browser(app.test_client())
    member.login("fra.analyst"), secretariat.login("secretariat")
    assert member.get("/summaries/tables.csv").status_code == 403
    response = secretariat.get("/summaries/tables.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and all(r["cases"] in ("suppressed", "0") for r in rows
                        if r["table"] == "category")
    assert any(r["cases"] == "suppressed" for r in rows)


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, exchange: Exchange) -> None:
    assert Browser(app.test_client()).get("/summaries/").status_code == 302


def test_consent_from_the_case_page_and_refusals_for_others(app: Flask,
                                                            exchange: Exchange) -> None:
    people = register_states(exchange.directory, ("FRA", "DEU", "MLI"))
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    exchange.cases.share(people["FRA"], case_id, 1, "bilateral", ["DEU", "MLI"])
    fra, deu, mli = (Browser(app.test_client()) for _ in range(3))
    fra.login("fra.analyst"), deu.login("deu.analyst"), mli.login("mli.analyst")
    before = exchange.ledger.recorder.max_notification_id()
    assert deu.post(f"/summaries/cases/{case_id}/propose").status_code == 403
    assert fra.post(f"/summaries/cases/{case_id}/propose", csrf=False).status_code == 400
    assert exchange.ledger.recorder.max_notification_id() == before
    assert fra.post(f"/summaries/cases/{case_id}/propose").status_code == 302
    page = deu.get(f"/cases/{case_id}")
    assert "Give my state" in page.text
    assert deu.post(f"/summaries/cases/{case_id}/consent", {"given": "yes"}).status_code == 302
    assert mli.post(f"/summaries/cases/{case_id}/consent", {"given": "yes"}).status_code == 302
    exchange.follow()
    assert len(exchange.policy_summary.included()) == 1
    assert "counts in the summaries" in fra.get(f"/cases/{case_id}").text


def test_only_the_secretariat_publishes_releases(app: Flask, exchange: Exchange) -> None:
    register_states(exchange.directory, ("FRA",))
    secretariat, analyst = Browser(app.test_client()), Browser(app.test_client())
    secretariat.login("secretariat"), analyst.login("fra.analyst")
    assert analyst.post("/summaries/releases", {"year": "2025"}).status_code == 403
    bad = secretariat.post("/summaries/releases", {"year": "last year"})
    assert bad.status_code == 422 and "Give the year" in bad.text
    assert secretariat.post("/summaries/releases", {"year": "2025"}).status_code == 302
    released = analyst.get("/summaries/releases/2025.csv")
    assert released.status_code == 200 and "table,row,column,cases" in released.text
    assert analyst.get("/summaries/releases/2019.csv").status_code == 404


def test_a_chart_with_nothing_to_draw_says_so_instead_of_an_empty_axis(
        app: Flask, exchange: Exchange) -> None:
    consented_cases(exchange, 2)  # too few: every figure is suppressed
    secretariat = Browser(app.test_client())
    secretariat.login("secretariat")
    page = secretariat.get("/summaries/")
    assert page.status_code == 200 and "<svg" not in page.text
    assert page.text.count("Nothing to show yet") == 3
    assert "Share of traced cases" in page.text  # each empty chart keeps its title
    assert secretariat.post("/language", {"lang": "fr"}).status_code == 302
    assert secretariat.get("/summaries/").text.count("Rien à afficher") == 3


ENGLISH_REASONS = ["fewer than 5 cases", "fewer than 3 reporting states",
                   "one state holds more than 60%", "one case holds more than 60%",
                   "moved by fewer than 5 since the last edition",
                   "protects region|2026|Europe", "a zero beside a suppressed figure",
                   "suppressed in an earlier edition"]


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_audit_reason_reads_in_the_users_language(app: Flask, language: str) -> None:
    from web.audit_reasons import audit_reason

    with app.test_request_context(headers={"Accept-Language": language}):
        translated = [audit_reason(r) for r in ENGLISH_REASONS]
    assert all(t != r for t, r in zip(translated, ENGLISH_REASONS, strict=True)), translated
    assert all(any(d in t for d in "0123456789") for t in translated[:5] + translated[5:6])
    assert translated[5].endswith({"fr": "Région / 2026 / Europe",
                                   "es": "Región / 2026 / Europa"}[language])


def test_the_secretariat_reads_the_audit_in_french(app: Flask, exchange: Exchange) -> None:
    consented_cases(exchange, 2)
    secretariat = Browser(app.test_client())
    secretariat.login("secretariat")
    assert secretariat.post("/language", {"lang": "fr"}).status_code == 302
    page = secretariat.get("/summaries/").text
    assert "moins de 5 dossiers" in page and "fewer than" not in page
