"""Security headers, the Content-Security-Policy, and cookies that only travel over HTTPS
outside a plain-HTTP demo on this machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from infra.cli import is_loopback
from infra.settings import load_settings
from infra.wiring import Exchange, open_exchange, prepare_store
from tests.conftest import PASSWORD, make_settings, register_states
from tests.web.conftest import ITEM, SUMMARY, Browser
from web import create_app
from web.charts import without_css

# A script element without src (inline), a style element or attribute, an event handler.
INLINE = re.compile(r"<script(?![^>]*\ssrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def directives(response: TestResponse) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:])
            for part in policy.split(";") if part.strip()}


def test_every_page_carries_a_strict_content_security_policy(browser: Browser,
                                                             people: dict) -> None:
    for path in ("/login", "/cases/", "/static/divex.css", "/no/such/page"):
        csp = directives(browser.get(path))
        assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'"
        assert csp["style-src"] == "'self'" and csp["object-src"] == "'none'"
        assert csp["base-uri"] == "'self'" and csp["frame-ancestors"] == "'none'"
        assert csp["form-action"] == "'self'"
        assert "unsafe" not in " ".join(csp.values())


def test_pages_may_not_be_framed_sniffed_or_leak_their_address(browser: Browser) -> None:
    headers = browser.get("/login").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored


def test_no_page_has_inline_script_or_style(app: Flask, analyst: Browser,
                                            exchange: Exchange, people: dict) -> None:
    case_id = exchange.cases.open_case(people["FRA"], SUMMARY)
    secretariat = Browser(app.test_client())
    secretariat.client.environ_base["REMOTE_ADDR"] = "192.0.2.2"
    secretariat.login("secretariat")
    pages = [analyst.get(path) for path in (
        "/cases/", f"/cases/{case_id}", "/cases/new", f"/cases/{case_id}/share",
        f"/cases/{case_id}/status", f"/traces/new/{case_id}", "/meetings/", "/traces/",
        "/directory/", "/summaries/",
        "/summaries/print", "/no/such/page")]
    pages += [secretariat.get(path) for path in ("/meetings/new", "/directory/")]
    exchange.directory.add_user(people["FRA.admin"], "fra.auditor", PASSWORD, ["auditor"])
    auditor = Browser(app.test_client())
    auditor.client.environ_base["REMOTE_ADDR"] = "192.0.2.3"
    auditor.login("fra.auditor")
    pages += [auditor.get(path) for path in ("/audit/", "/audit/access")]
    pages.append(Browser(app.test_client()).get("/login"))
    for page in pages:
        assert page.status_code in (200, 404), page.request.path
        assert not INLINE.search(page.text), (page.request.path, INLINE.search(page.text))


def test_charts_keep_their_look_without_css() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           '<metadata>x</metadata><defs><style type="text/css">*{stroke-linejoin: round}'
           '</style></defs><path d="M 0 0" style="fill: #ffffff; stroke-width: 0.8"/>'
           '<use xlink:href="#g1" x="1"/></svg>')
    plain = without_css(svg)
    assert "style" not in plain and "metadata" not in plain
    assert 'stroke-linejoin="round"' in plain.split(">")[0]
    assert '<path d="M 0 0" fill="#ffffff" stroke-width="0.8"' in plain
    assert 'xlink:href="#g1"' in plain


@pytest.fixture
def secure_app(tmp_path: Path) -> Iterator[Flask]:
    """An exchange as `divex serve` runs it: DIVEX_SECURE_COOKIES on."""
    settings = make_settings(tmp_path / "secure", secure_cookies=True)
    prepare_store(settings)
    exchange = open_exchange(settings)
    register_states(exchange.directory, codes=("FRA",))
    yield create_app(exchange, {"TESTING": True, "WTF_CSRF_ENABLED": False})
    exchange.close()


def test_with_secure_cookies_plain_http_is_sent_to_https(secure_app: Flask) -> None:
    response = secure_app.test_client().get("/login?next=/cases/")
    assert response.status_code == 302
    assert response.location == "https://localhost/login?next=/cases/"


def test_with_secure_cookies_the_session_cookie_is_secure_httponly_and_lax(
        secure_app: Flask) -> None:
    client = secure_app.test_client()
    response = client.post("/login", base_url="https://localhost",
                           data={"username": "fra.analyst", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("divex_session=")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31556926")


def test_without_secure_cookies_the_cookie_is_still_httponly_and_lax(browser: Browser,
                                                                     people: dict) -> None:
    response = browser.login("fra.analyst")
    cookie = response.headers["Set-Cookie"]
    assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_are_on_unless_turned_off() -> None:
    assert load_settings({}).secure_cookies is True
    assert load_settings({"DIVEX_SECURE_COOKIES": "0"}).secure_cookies is False
    with pytest.raises(ValueError, match="DIVEX_SECURE_COOKIES"):
        load_settings({"DIVEX_SECURE_COOKIES": "maybe"})


def test_only_a_demo_on_this_machine_is_plain_http() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    assert not is_loopback("divex.example.org")


def test_no_page_or_api_answer_is_kept_in_a_cache_but_static_files_may_be(
        app: Flask, analyst: Browser, exchange: Exchange, people: dict) -> None:
    fra = people["FRA"]
    case_id = exchange.cases.open_case(fra, SUMMARY)
    item = exchange.cases.add_part(fra, case_id, 1, "item", ITEM)
    trace_id = exchange.traces.send(fra, case_id, "DEU", [item], "Where did these go?")
    meeting = exchange.meetings.convene(people["secretariat"], "Forum", "2026-09-01", "",
                                        ["FRA", "DEU"])
    exchange.meetings.table_case(fra, meeting, case_id)
    exchange.directory.add_user(people["FRA.admin"], "fra.auditor", PASSWORD, ["auditor"])
    auditor = Browser(app.test_client())
    auditor.client.environ_base["REMOTE_ADDR"] = "192.0.2.3"
    auditor.login("fra.auditor")
    pages = {
        analyst: ("/cases/", f"/cases/{case_id}", f"/cases/{case_id}/summary",
                  f"/traces/{trace_id}", "/traces/", f"/meetings/{meeting}",
                  "/exports/cases.csv", "/no/such/page"),
        auditor: (f"/audit/cases/{case_id}?at=2100-01-01", "/audit/events/1", "/audit/"),
        Browser(app.test_client()): ("/login",),
    }
    for browser, paths in pages.items():
        for path in paths:
            response = browser.get(path)
            assert response.status_code in (200, 404), path
            assert response.headers.get("Cache-Control") == "no-store", path
    token, _ = exchange.api_tokens.issue(fra, PASSWORD, "tests", [], 30)
    api = app.test_client().get(f"/api/v1/cases/{case_id}",
                                headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.headers["Cache-Control"] == "no-store"
    css = analyst.get("/static/divex.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")
