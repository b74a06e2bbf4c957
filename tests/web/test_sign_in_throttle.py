"""The per-client sign-in throttle: a guesser from one address is slowed down, nobody else."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from cases.identity.lockout import sign_in_failures
from infra.wiring import Exchange
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, events
from web import create_app
from web.sessions import web_sessions


def guess_ten_times(browser: Browser) -> None:
    """Ten wrong sign-ins under ten different names: none reaches an account's lockout."""
    for n in range(10):
        assert browser.login(f"nobody{n}", "guess").status_code == 401


def unlocked_sessions(exchange: Exchange) -> int:
    with exchange.ledger.recorder.datastore.engine.connect() as db:
        return len([r for r in db.execute(select(web_sessions)) if r.keyring is not None])


def test_the_eleventh_sign_in_within_a_minute_is_refused_even_with_the_right_password(
        browser: Browser, people: dict, exchange: Exchange) -> None:
    guess_ten_times(browser)
    before = events(exchange)
    response = browser.login("fra.analyst")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.text and "Wait 1 minute" in response.text
    assert int(response.headers["Retry-After"]) == 60
    assert unlocked_sessions(exchange) == 0 and events(exchange) == before
    assert browser.get("/cases/").status_code == 302  # still signed out
    with exchange.ledger.recorder.datastore.engine.connect() as db:  # the throttled try was
        names = {r.username for r in db.execute(select(sign_in_failures))}  # never checked
    assert "fra.analyst" not in names


def test_the_throttle_page_is_translated(browser: Browser, people: dict) -> None:
    browser.post("/language", {"lang": "fr"})
    guess_ten_times(browser)
    response = browser.login("fra.analyst")
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.text


def test_the_sign_in_page_itself_is_not_throttled(browser: Browser, people: dict) -> None:
    guess_ten_times(browser)
    assert browser.get("/login").status_code == 200


def test_another_address_and_another_app_are_not_throttled(
        app: Flask, browser: Browser, people: dict, exchange: Exchange) -> None:
    guess_ten_times(browser)
    assert browser.login("fra.analyst").status_code == 429
    elsewhere = Browser(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.login("fra.analyst").status_code == 302
    other_app = Browser(create_app(exchange, {"TESTING": True}).test_client())
    assert other_app.login("fra.analyst").status_code == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_count(
        browser: Browser, people: dict) -> None:
    guess_ten_times(browser)
    response = browser.client.post("/login", data={
        "username": "fra.analyst", "password": PASSWORD, "csrf_token": browser.token()},
        headers={"X-Forwarded-For": "198.51.100.9"})
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_client_address_counts_alone(
        exchange: Exchange, people: dict) -> None:
    app = create_app(exchange, {"TESTING": True, "PROXY_HOPS": 1})
    proxied = Browser(app.test_client())
    proxied.client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    guess_ten_times(proxied)
    assert proxied.login("fra.analyst").status_code == 429
    proxied.client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.2"
    assert proxied.login("fra.analyst").status_code == 302


def test_the_limit_is_a_setting(exchange: Exchange, people: dict) -> None:
    strict = Browser(create_app(exchange, {"TESTING": True,
                                           "LOGIN_RATE_LIMIT": "2 per hour"}).test_client())
    strict.login("nobody", "guess")
    strict.login("nobody", "guess")
    response = strict.login("fra.analyst")
    assert response.status_code == 429 and "Wait 60 minutes" in response.text
