"""Summary operations of the API: the secretariat's live preview, releases every user reads
(the audit report the secretariat's only), published by the secretariat."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.api_helpers import Api
from tests.web.conftest import ITEM, SUMMARY, events
from tests.web.test_summaries_web import consented_cases

YEAR = str(datetime.now(UTC).year)


def api(app: Flask, exchange: Exchange, username: str) -> Api:
    return Api(app, exchange, exchange.directory.authenticate(username, PASSWORD))


def test_only_the_secretariat_reads_the_live_preview(app: Flask, exchange: Exchange) -> None:
    case_ids = consented_cases(exchange, 6)
    assert api(app, exchange, "mli.analyst").get("/summaries", expect=403)[
        "error"] == "forbidden"
    secretariat = api(app, exchange, "secretariat")
    summary = secretariat.get("/summaries")
    assert summary["k"] == 5 and summary["cases"] == 6 and summary["min_reporters"] == 3
    assert summary["tables"]["category"]["cells"][YEAR]["small_arms"] == 6
    for secret in (SUMMARY["title"], ITEM["serial"], *map(str, case_ids)):
        assert secret not in secretariat.last_text


def test_below_the_threshold_figures_are_null(app: Flask, exchange: Exchange) -> None:
    consented_cases(exchange, 3)
    summary = api(app, exchange, "secretariat").get("/summaries")
    assert summary["cases"] is None
    table = summary["tables"]["category"]
    assert table["cells"][YEAR]["small_arms"] is None and table["total"] is None


def test_only_the_secretariat_publishes_a_release_of_a_closed_year(
        app: Flask, exchange: Exchange) -> None:
    consented_cases(exchange, 6)
    analyst, secretariat = api(app, exchange, "fra.analyst"), api(app, exchange, "secretariat")
    last_year = int(YEAR) - 1
    before = events(exchange)
    assert analyst.post("/summaries/releases", {"year": last_year}, expect=403)[
        "error"] == "forbidden"
    assert secretariat.post("/summaries/releases", {"year": int(YEAR)}, expect=422)[
        "field"] == "year"
    assert secretariat.post("/summaries/releases", {"year": str(last_year)}, expect=422)[
        "field"] == "year"
    assert events(exchange) == before
    release = secretariat.post("/summaries/releases", {"year": last_year}, expect=201)
    assert release["year"] == last_year and len(release["editions"]) == 1
    secretariat.post("/summaries/releases", {"year": last_year}, expect=409)
    assert analyst.get("/summaries/releases")["items"][0]["year"] == last_year
    [edition] = analyst.get(f"/summaries/releases/{last_year}")["editions"]
    assert edition["k"] == 5 and edition["rules"]["dominance"] == 60
    assert edition["audit"] is None  # the audit report is the secretariat's
    assert secretariat.get(f"/summaries/releases/{last_year}")["editions"][0]["audit"] == []
    assert analyst.get("/summaries/releases/1999", expect=404)["error"] == "not_found"
