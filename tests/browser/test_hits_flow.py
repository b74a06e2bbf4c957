"""In a real browser: Germany recorded stolen rifles; France logs a seized one in one form (the
check offered on the item row), finds the private hit (in French), and sends a trace request
from it, prefilled; Germany sees France's answer; Mali reaches nothing. axe checks both pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.wiring import Exchange
from tests.browser.test_accessibility import violations
from tests.browser.test_analyst_flow import sign_in, sign_out
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_france_finds_a_private_hit_and_traces_from_it(live_server: str,
                                                       live_exchange: Exchange,
                                                       browser: Any) -> None:
    deu = live_exchange.directory.authenticate("deu.analyst", PASSWORD)
    live_exchange.cases.open_case(deu, {"title": "Gewehre gestohlen"}, items=[{
        "category": "small_arms", "quantity": "3", "make": "Norvik",
        "serial": "NA47-220913\nNA47-220914\nNA47-220915", "match_check": "yes"}])
    page = browser.new_page()
    sign_in(page, live_server, "fra.analyst")
    page.select_option("#lang", "fr")
    page.click("form.lang button")
    page.goto(f"{live_server}/cases/new")
    page.fill("#f-title", "Fusil saisi au Havre")
    page.select_option("[name='items.0.category']", "small_arms")
    page.fill("[name='items.0.quantity']", "1")
    page.fill("[name='items.0.make']", "NORVIK")
    page.fill("[name='items.0.serial']", "na47 220914")
    assert page.locator("[name='items.0.match_check']").input_value() == "yes"
    page.click("main form button[type=submit]:not([name])")
    page.wait_for_url(re.compile(r".*/cases/[0-9a-f-]{36}$"))
    assert "Vérification privée de concordance : 1 identifiant" in page.inner_text("#items")
    page.click("nav a[href='/hits/']")
    assert "Fusil saisi au Havre" in page.inner_text("main")
    assert "Gewehre" not in page.content()  # Germany's case stays Germany's
    assert violations(page) == []
    page.click("main table a[href^='/hits/']")
    assert "Allemagne" in page.inner_text("h1")
    assert violations(page) == []
    hit_url = page.url
    page.click("main a[href*='/traces/new/']")
    assert page.locator("[name='requested_state']").input_value() == "DEU"
    assert page.locator("input[name='items']:checked").count() == 1
    page.fill("[name='questions']", "À qui ces fusils ont-ils été livrés ?")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/traces/[0-9a-f-]{36}$"))
    sign_out(page, live_server)
    sign_in(page, live_server, "deu.analyst")
    page.goto(hit_url)
    assert "A envoyé une demande de traçage" in page.inner_text("main")  # still in French
    sign_out(page, live_server)
    sign_in(page, live_server, "mli.analyst")
    response = page.goto(hit_url)
    assert response is not None and response.status == 404
    page.close()
