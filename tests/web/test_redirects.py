"""Where a page sends the browser next: only ever a path on this site, whatever an attacker
puts in ``next`` (the password step, the language switch, the code step, the recovery codes'
"continue" link), read as a browser reads it."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask

from cases.kernel.viewer import Viewer
from infra.wiring import Exchange
from tests.conftest import PASSWORD, TOTP_SECRET, enrolled
from tests.web.conftest import Browser
from web.auth import safe_next

# Each of these, in a Location header or a link, takes a browser to another site (or runs
# script): tabs and newlines are dropped, "\" is read as "/", leading spaces and controls
# are stripped, and "//host" or "///host" names a host.
HOSTILE = [
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "\t//evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\/evil.example/",
    "\\\\evil.example/",
    "/\\/evil.example/",
    " //evil.example/",
    "\x00//evil.example/",
    "\x0b//evil.example/",
    "https:evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "h\tttps://evil.example/",
    "javascript:alert(1)",
    "evil.example",
]

# Paths on this site stay as they are (encoded characters included: a browser does not
# decode them before it resolves the address).
KEPT = ["/cases/123?x=1", "/cases/?status=suspected&page=2#list", "/%2F%2Fevil.example/",
        "/traces/%09"]

CODES_LINK = re.compile(r'<a class="button" href="([^"]*)">')
SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')


def continue_link_after_enrolment(browser: Browser) -> str:
    """Enrols at sign-in and reads where the recovery codes' page says to continue."""
    secret = SECRET.search(browser.get("/login/enrol").text).group(1)  # type: ignore[union-attr]
    code = pyotp.TOTP(secret.replace(" ", "")).now()
    shown = browser.post("/login/enrol", {"code": code})
    assert shown.location == "/account/security/recovery-codes"
    return CODES_LINK.search(browser.get(shown.location).text).group(1)  # type: ignore[union-attr]


def test_the_check_keeps_paths_on_this_site_and_refuses_the_rest() -> None:
    assert [safe_next(t) for t in KEPT] == KEPT
    assert [safe_next(t) for t in HOSTILE] == [""] * len(HOSTILE)
    assert safe_next(None) == "" and safe_next("") == ""


@pytest.mark.parametrize("target", HOSTILE)
def test_the_password_step_never_sends_the_browser_elsewhere(
        browser: Browser, people: dict[str, Viewer], target: str) -> None:
    response = browser.post("/login", {"username": "fra.analyst", "password": PASSWORD,
                                       "next": target})
    assert response.status_code == 302 and response.location == "/cases/"


def test_a_next_from_the_sign_in_address_is_dropped_before_the_form(
        browser: Browser, people: dict[str, Viewer]) -> None:
    page = browser.get("/login?next=/%09/evil.example/").text
    hidden = re.search(r'action="/login">.*?name="next" value="([^"]*)"', page, re.S)
    assert hidden and hidden.group(1) == ""
    response = browser.post("/login", {"username": "fra.analyst", "password": PASSWORD,
                                       "next": hidden.group(1)})
    assert response.location == "/cases/"


@pytest.mark.parametrize("target", HOSTILE)
def test_the_language_switch_never_sends_the_browser_elsewhere(browser: Browser,
                                                               target: str) -> None:
    response = browser.post("/language", {"lang": "fr", "next": target})
    assert response.status_code == 302 and response.location == "/"


@pytest.mark.parametrize("target", HOSTILE)
def test_the_code_step_never_sends_the_browser_elsewhere(
        browser: Browser, exchange: Exchange, people: dict[str, Viewer], target: str) -> None:
    enrolled(exchange.directory, people["FRA.analyst"])
    response = browser.post("/login", {"username": "fra.analyst", "password": PASSWORD,
                                       "next": target})
    assert response.location == "/login/code"
    response = browser.post("/login/code", {"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.status_code == 302 and response.location == "/cases/"


@pytest.mark.parametrize("target", HOSTILE)
def test_the_recovery_codes_continue_link_never_leads_elsewhere(
        browser: Browser, people: dict[str, Viewer], target: str) -> None:
    response = browser.post("/login", {"username": "fra.admin", "password": PASSWORD,
                                       "next": target})
    assert response.location == "/login/enrol"
    assert continue_link_after_enrolment(browser) == "/cases/"


@pytest.mark.parametrize("target", KEPT)
def test_a_path_on_this_site_is_kept_through_every_step(
        app: Flask, exchange: Exchange, people: dict[str, Viewer], target: str) -> None:
    enrolled(exchange.directory, people["FRA.analyst"])
    escaped = target.replace("&", "&amp;")
    by_password = Browser(app.test_client()).post(
        "/login", {"username": "fra.reviewer", "password": PASSWORD, "next": target})
    assert by_password.location == target
    assert Browser(app.test_client()).post(
        "/language", {"lang": "es", "next": target}).location == target
    by_code = Browser(app.test_client())
    by_code.post("/login", {"username": "fra.analyst", "password": PASSWORD, "next": target})
    assert by_code.post("/login/code", {"code": pyotp.TOTP(TOTP_SECRET).now()}
                        ).location == target
    by_enrolment = Browser(app.test_client())
    by_enrolment.post("/login", {"username": "fra.admin", "password": PASSWORD,
                                 "next": target})
    assert continue_link_after_enrolment(by_enrolment) == escaped
