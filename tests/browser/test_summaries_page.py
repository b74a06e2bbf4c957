"""In a real browser: a member reads a release, its charts (server-side SVG) with a size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.wiring import Exchange
from projections.summaries import publish
from tests.browser.conftest import record_console
from tests.browser.test_analyst_flow import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SUMMARY = {"title": "Pistols found in a boat", "point_of_diversion": "in_transit",
           "concerned": {"exporter": "DEU", "discovery": "MLI"}}


def test_summaries_page_shows_its_charts(live_server: str, live_exchange: Exchange,
                                         browser: Any, tmp_path: Path) -> None:
    analysts = {code: live_exchange.directory.authenticate(f"{code.lower()}.analyst", PASSWORD)
                for code in ("FRA", "DEU", "MLI")}
    for n in range(6):
        owner = ("FRA", "DEU", "MLI")[n % 3]
        case_id = live_exchange.cases.open_case(analysts[owner], SUMMARY)
        live_exchange.cases.add_part(analysts[owner], case_id, 1, "item",
                                     {"category": "small_arms", "quantity": "2"})
        live_exchange.cases.share(analysts[owner], case_id, 2, "bilateral",
                                  sorted({"DEU", "MLI"} - {owner}))
        for state in live_exchange.policy.propose(analysts[owner], case_id):
            live_exchange.policy.consent(analysts[state], case_id, True)
    live_exchange.follow()
    facts = live_exchange.policy_summary.included()
    publish(live_exchange.releases, live_exchange.directory.authenticate("secretariat", PASSWORD),
            facts, live_exchange.thresholds, facts[0]["year"], this_year=facts[0]["year"] + 1)
    page = browser.new_page()
    console = record_console(page)
    sign_in(page, live_server, "deu.analyst")
    page.goto(f"{live_server}/summaries/")
    charts = page.locator("figure.chart svg")
    assert charts.count() == 2  # cases by point of diversion, by category
    assert page.locator("figure.chart.empty").inner_text().startswith("Share of traced cases")
    for index in range(2):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
    assert page.locator("table.summary").count() >= 4
    assert SUMMARY["title"] not in page.content()
    page.screenshot(path=str(tmp_path / "summaries.png"), full_page=True)
    assert (tmp_path / "summaries.png").stat().st_size > 10_000
    assert console == []  # the charts draw under the page's CSP: no inline style refused
