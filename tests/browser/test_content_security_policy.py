"""In a real browser: no page of a signed-in analyst trips the Content-Security-Policy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.wiring import Exchange
from tests.browser.conftest import record_console
from tests.browser.test_analyst_flow import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_the_analysts_pages_log_no_policy_violation(live_server: str, live_exchange: Exchange,
                                                    browser: Any) -> None:
    analyst = live_exchange.directory.authenticate("fra.analyst", PASSWORD)
    case_id = live_exchange.cases.open_case(analyst, {"title": "Rifles in a container"})
    page = browser.new_page()
    console = record_console(page)
    response = page.goto(f"{live_server}/login")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    sign_in(page, live_server, "fra.analyst")
    for path in ("/cases/", "/cases/new", f"/cases/{case_id}", f"/cases/{case_id}/share",
                 f"/cases/{case_id}/item/new", f"/traces/new/{case_id}", "/traces/",
                 "/meetings/", "/directory/", "/summaries/", "/summaries/print",
                 "/no/such/page"):
        page.goto(f"{live_server}{path}")
    page.select_option("#lang", "fr")
    page.click("form.lang button")
    page.wait_for_url(re.compile(r".*/"))
    assert console == []


def test_a_state_admin_enrols_with_the_qr_code_under_the_policy(
        live_server: str, browser: Any) -> None:
    """The enrolment page's QR code is inline SVG: it renders, and nothing is refused."""
    import pyotp

    page = browser.new_page()
    console = record_console(page)
    page.goto(f"{live_server}/login")
    page.fill("#username", "fra.admin")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/enrol$"))
    box = page.locator("figure.qr svg").bounding_box()
    assert box and box["width"] >= 150 and box["height"] >= 150
    secret = page.inner_text("code.secret").replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/account/security/recovery-codes$"))
    assert page.locator("ul.recovery-codes li").count() == 10
    page.goto(f"{live_server}/account/security")
    assert console == []
