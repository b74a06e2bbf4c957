"""In a real browser: FRA sends a trace request, DEU acknowledges and asks for more, FRA
completes, DEU answers, FRA adds the answer to the case as a route leg."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from infra.wiring import Exchange
from tests.browser.test_analyst_flow import sign_in, sign_out

pytestmark = pytest.mark.browser

LICENCE = "LIC-2019-0042"


def submit(page: Any) -> None:
    page.click("main form[method=post] button[type=submit]")


def test_trace_request_round_trip(live_server: str, live_exchange: Exchange, browser: Any,
                                  tmp_path: Path) -> None:
    fra = live_exchange.directory.authenticate("fra.analyst", "correct horse battery staple")
    case_id = live_exchange.cases.open_case(fra, {"title": "Rifles found at a port"})
    live_exchange.cases.add_part(fra, case_id, 1, "item", {
        "category": "small_arms", "quantity": "5", "serial": "TRF-1"})
    page = browser.new_page()

    sign_in(page, live_server, "fra.analyst")
    page.goto(f"{live_server}/traces/new/{case_id}")
    page.check("input[name=items]")
    page.fill("#f-requested_state", "DEU")
    page.fill("#f-questions", "To whom were these rifles exported?")
    submit(page)
    page.wait_for_url(re.compile(r".*/traces/[0-9a-f-]{36}$"))
    trace_url = page.url
    sign_out(page, live_server)

    sign_in(page, live_server, "deu.analyst")
    page.goto(f"{live_server}/traces/")
    assert trace_url.rsplit("/", 1)[1] in page.content()
    page.goto(trace_url)
    page.click("text=Acknowledge receipt")
    page.wait_for_url(trace_url)
    page.click("text=Ask for more information")
    page.check("input[name=checklist][value=markings_photos]")
    submit(page)
    page.wait_for_url(trace_url)
    sign_out(page, live_server)

    sign_in(page, live_server, "fra.analyst")
    page.goto(trace_url)
    page.click("text=Supply the missing information")
    page.fill("#f-note", "Photos of the markings are attached to the national file.")
    submit(page)
    page.wait_for_url(trace_url)
    sign_out(page, live_server)

    sign_in(page, live_server, "deu.analyst")
    page.goto(trace_url)
    page.click("main a:has-text('Answer')")
    page.select_option("#f-outcome", "traced")
    page.fill("#f-destination", "MLI")
    page.fill("#f-date", "2019-03-01")
    page.fill("#f-licence", LICENCE)
    submit(page)
    page.wait_for_url(trace_url)
    sign_out(page, live_server)

    sign_in(page, live_server, "fra.analyst")
    page.goto(trace_url)
    page.click("text=Add the answer to the case as a route leg")
    page.wait_for_url(re.compile(rf".*/cases/{case_id}$"))
    content = page.content()
    assert LICENCE in content and "MLI" in content
    page.screenshot(path=str(tmp_path / "leg-from-trace.png"), full_page=True)
    view = live_exchange.cases.view(fra, case_id)
    assert [(leg["origin"], leg["destination"]) for leg in view.legs.values()] == [("DEU",
                                                                                   "MLI")]
