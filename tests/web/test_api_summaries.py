"""Summary operations of the API: the same counts-only, suppressed tables as the page, and
releases only the secretariat publishes."""

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


def test_every_user_reads_the_tables_and_small_cells_are_suppressed(
        app: Flask, exchange: Exchange) -> None:
    case_ids = consented_cases(exchange, 6)
    mli = api(app, exchange, "mli.analyst")
    summary = mli.get("/summaries")
    assert summary["k"] == 5 and summary["cases"] == 6
    assert summary["tables"]["category"]["cells"][YEAR]["small_arms"] == 6
    for secret in (SUMMARY["title"], ITEM["serial"], *map(str, case_ids)):
        assert secret not in mli.last_text


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
    assert analyst.get(f"/summaries/releases/{last_year}")["editions"][0]["k"] == 5
    assert analyst.get("/summaries/releases/1999", expect=404)["error"] == "not_found"
